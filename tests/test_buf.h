/* A growing byte buffer for tests that collect a redactor's output. */
#ifndef STOCKADE_TESTS_BUF_H
#define STOCKADE_TESTS_BUF_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static inline void buf_put(buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void buf_str(buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* An sk_redact sink that appends to the buf given as ctx. */
static inline int buf_sink(void *ctx, const void *p, size_t n)
{
	buf_put(ctx, p, n);
	return 0;
}

#endif
