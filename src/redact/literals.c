/* A set of literal secrets with their labels, deduplicated by value. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct sk_redact_literals {
	rx_literal *v;
	size_t n, cap;
	char **labels;
	size_t n_labels;
	uint32_t *slots;      /* open addressing: index + 1 into v, 0 = empty */
	size_t n_slots;       /* power of two */
	sk_redact_warn_fn warn;
	void *warn_ctx;
};

int sk_redact_literals_new(sk_redact_literals **out, sk_redact_warn_fn warn, void *warn_ctx)
{
	sk_redact_literals *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->warn = warn;
	l->warn_ctx = warn_ctx;
	*out = l;
	return 0;
}

void sk_redact_literals_free(sk_redact_literals *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].bytes);
	for (size_t i = 0; i < l->n_labels; i++)
		free(l->labels[i]);
	free(l->v);
	free(l->labels);
	free(l->slots);
	free(l);
}

size_t sk_redact_literals_count(const sk_redact_literals *l)
{
	return l ? l->n : 0;
}

const rx_literal *rx_literals_items(const sk_redact_literals *l, size_t *n)
{
	*n = l ? l->n : 0;
	return l ? l->v : NULL;
}

const char *const *rx_literals_labels(const sk_redact_literals *l, size_t *n)
{
	*n = l ? l->n_labels : 0;
	return l ? (const char *const *)l->labels : NULL;
}

static void warnf(const sk_redact_literals *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warnf(const sk_redact_literals *l, const char *fmt, ...)
{
	if (!l->warn)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l->warn(l->warn_ctx, msg);
}

static uint64_t hash_bytes(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static uint32_t *find_slot(const sk_redact_literals *l, const uint8_t *p, size_t len)
{
	size_t mask = l->n_slots - 1;
	for (size_t i = hash_bytes(p, len) & mask;; i = (i + 1) & mask) {
		uint32_t s = l->slots[i];
		if (s == 0)
			return &l->slots[i];
		const rx_literal *x = &l->v[s - 1];
		if (x->len == len && !memcmp(x->bytes, p, len))
			return &l->slots[i];
	}
}

static int grow(sk_redact_literals *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		rx_literal *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if ((l->n + 1) * 2 <= l->n_slots)
		return 0;
	size_t n_slots = l->n_slots ? l->n_slots * 2 : 128;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	free(l->slots);
	l->slots = slots;
	l->n_slots = n_slots;
	for (size_t i = 0; i < l->n; i++)
		*find_slot(l, l->v[i].bytes, l->v[i].len) = (uint32_t)i + 1;
	return 0;
}

static int label_index(sk_redact_literals *l, const char *label, unsigned *out)
{
	if (!label || !*label)
		label = "literal";
	for (size_t i = 0; i < l->n_labels; i++)
		if (!strcmp(l->labels[i], label)) {
			*out = (unsigned)i;
			return 0;
		}
	char **v = realloc(l->labels, (l->n_labels + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->labels = v;
	if (!(v[l->n_labels] = strdup(label)))
		return -ENOMEM;
	*out = (unsigned)l->n_labels++;
	return 0;
}

/* Add without warning; 1 added, 0 duplicate or out of range. */
/* Nothing but white space: no secret, and every run of blank lines or
 * indentation would go (and the line handling joins breaks away). */
static bool only_space(const unsigned char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n\v\f", v[i]) || !v[i])
			return false;
	return true;
}

static int add_quiet(sk_redact_literals *l, const char *label, const void *value, size_t len)
{
	if (len < SK_REDACT_LITERAL_MIN || len > SK_REDACT_LITERAL_MAX || only_space(value, len))
		return 0;
	int e = grow(l);
	if (e < 0)
		return e;
	uint32_t *slot = find_slot(l, value, len);
	if (*slot)
		return 0;
	rx_literal x = { .len = len };
	if ((e = label_index(l, label, &x.label)) < 0)
		return e;
	if (!(x.bytes = malloc(len)))
		return -ENOMEM;
	memcpy(x.bytes, value, len);
	l->v[l->n] = x;
	*slot = (uint32_t)++l->n;
	return 1;
}

int sk_redact_literals_add(sk_redact_literals *l, const char *label, const void *value, size_t len)
{
	const char *name = label && *label ? label : "literal";
	if (len < SK_REDACT_LITERAL_MIN) {
		warnf(l, "redact: secret '%s' is shorter than %d bytes and is not redacted", name,
		      SK_REDACT_LITERAL_MIN);
		return 0;
	}
	if (len > SK_REDACT_LITERAL_MAX) {
		warnf(l, "redact: secret '%s' is longer than %d bytes and is not redacted as a whole",
		      name, SK_REDACT_LITERAL_MAX);
		return 0;
	}
	if (only_space(value, len)) {
		warnf(l, "redact: secret '%s' is only white space and is not redacted", name);
		return 0;
	}
	return add_quiet(l, label, value, len);
}

struct content_ctx {
	sk_redact_literals *l;
	const char *label;
	size_t added, short_values;
};

static int add_value(void *ctx, const char *key, size_t key_len, const char *value, size_t len)
{
	(void)key;
	(void)key_len;
	struct content_ctx *c = ctx;
	if (len < SK_REDACT_LITERAL_MIN) {
		c->short_values += len > 0;
		return 0;
	}
	int e = add_quiet(c->l, c->label, value, len);
	if (e > 0)
		c->added++;
	return e < 0 ? e : 0;
}

int sk_redact_literals_add_content(sk_redact_literals *l, const char *label,
				   const void *data, size_t len)
{
	struct content_ctx c = { .l = l, .label = label };
	const char *name = label && *label ? label : "literal";
	int e;
	/* The whole content, and without its final newline. */
	if (len > SK_REDACT_LITERAL_MAX)
		warnf(l, "redact: '%s' is longer than %d bytes: only the values in it are redacted",
		      name, SK_REDACT_LITERAL_MAX);
	else if ((e = add_value(&c, NULL, 0, data, len)) < 0)
		return e;
	size_t trimmed = len;
	while (trimmed > 0 && (((const char *)data)[trimmed - 1] == '\n' ||
			       ((const char *)data)[trimmed - 1] == '\r'))
		trimmed--;
	if (trimmed != len && trimmed <= SK_REDACT_LITERAL_MAX && (e = add_value(&c, NULL, 0, data, trimmed)) < 0)
		return e;
	if ((e = rx_content_values(data, len, add_value, &c)) < 0)
		return e;
	if (c.short_values)
		warnf(l, "redact: %zu value%s in '%s' shorter than %d bytes %s not redacted",
		      c.short_values, c.short_values == 1 ? "" : "s", name, SK_REDACT_LITERAL_MIN,
		      c.short_values == 1 ? "is" : "are");
	return (int)c.added;
}

int sk_redact_literals_add_file(sk_redact_literals *l, const char *label, const char *path,
				sk_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int e = sk_read_file(path, 16u << 20, &data, &len);
	if (e < 0)
		return sk_fail_errno(err, -e, "cannot read secret file %s", path);
	e = sk_redact_literals_add_content(l, label, data, len);
	if (e < 0)
		return sk_fail_errno(err, -e, "cannot add the secrets of %s", path);
	return e;
}
