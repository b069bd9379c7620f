/* A bump allocator: a profile's strings and tables live and die together. */
#include <string.h>

#include "internal.h"

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct sk_arena {
	struct chunk *head;
};

sk_arena *sk_arena_new(void)
{
	return calloc(1, sizeof(sk_arena));
}

void sk_arena_free(sk_arena *a)
{
	if (!a)
		return;
	for (struct chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *sk_arena_alloc(sk_arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	struct chunk *c = a->head;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

char *sk_arena_strndup(sk_arena *a, const char *s, size_t n)
{
	char *d = sk_arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *sk_arena_strdup(sk_arena *a, const char *s)
{
	return sk_arena_strndup(a, s, strlen(s));
}
