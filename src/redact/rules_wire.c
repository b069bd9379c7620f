/* The rules as the compile helper (stockade-rulec) reads them: what
 * compile.c needs of each rule and no more, in host order (the helper is
 * the same build on the same machine).  Decoding checks every length
 * against what is left: the helper trusts its caller, but a short or
 * garbled input must end in an error, not a read past the buffer. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NONE UINT32_MAX

static void put_u32(rx_bytes *w, uint32_t v)
{
	rx_bytes_put(w, &v, sizeof(v));
}

static void put_str(rx_bytes *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (s && n >= NONE) {
		w->err = -E2BIG;
		return;
	}
	put_u32(w, s ? (uint32_t)n : NONE);
	if (s)
		rx_bytes_put(w, s, n);
}

int rx_rules_encode(const rx_ruleset *rs, uint8_t **out, size_t *len)
{
	rx_bytes w = { 0 };
	put_u32(&w, (uint32_t)rs->n);
	for (size_t i = 0; i < rs->n; i++) {
		const rx_rule *r = &rs->v[i];
		put_u32(&w, (uint32_t)r->kind);
		put_u32(&w, r->line);
		put_str(&w, r->name);
		put_str(&w, r->regex);
		put_str(&w, r->prefix);
		put_str(&w, r->origin);
	}
	if (w.err) {
		free(w.buf);
		return w.err;
	}
	*out = w.buf;
	*len = w.len;
	return 0;
}

typedef struct reader {
	const uint8_t *p, *end;
} reader;

static int get_u32(reader *r, uint32_t *v)
{
	if ((size_t)(r->end - r->p) < sizeof(*v))
		return -EBADMSG;
	memcpy(v, r->p, sizeof(*v));
	r->p += sizeof(*v);
	return 0;
}

/* A string, or NULL for none; *s is NULL on failure too. */
static int get_str(reader *r, char **s, bool optional)
{
	uint32_t n;
	*s = NULL;
	int e = get_u32(r, &n);
	if (e < 0)
		return e;
	if (n == NONE)
		return optional ? 0 : -EBADMSG;
	if ((size_t)(r->end - r->p) < n)
		return -EBADMSG;
	if (!(*s = strndup((const char *)r->p, n)))
		return -ENOMEM;
	if (strlen(*s) != n) {   /* a NUL inside: not a rule text */
		free(*s);
		*s = NULL;
		return -EBADMSG;
	}
	r->p += n;
	return 0;
}

static int get_rule(reader *r, rx_rule *rule)
{
	uint32_t kind = 0, line = 0;
	int e = get_u32(r, &kind);
	if (e == 0)
		e = get_u32(r, &line);
	if (e == 0 && kind > RX_KIND_MAX)
		e = -EBADMSG;
	rule->kind = (enum rx_kind)kind;
	rule->line = line;
	if (e == 0)
		e = get_str(r, &rule->name, false);
	if (e == 0)
		e = get_str(r, &rule->regex, false);
	if (e == 0)
		e = get_str(r, &rule->prefix, true);
	if (e == 0)
		e = get_str(r, &rule->origin, false);
	return e;
}

int rx_rules_decode(const uint8_t *in, size_t len, rx_ruleset *rs)
{
	reader r = { in, in + len };
	uint32_t n = 0;
	*rs = (rx_ruleset){ 0 };
	int e = get_u32(&r, &n);
	if (e == 0 && n > len / 24)   /* 24: the smallest rule on the wire */
		e = -EBADMSG;
	if (e == 0 && n && !(rs->v = calloc(n, sizeof(*rs->v))))
		e = -ENOMEM;
	rs->cap = n;
	for (uint32_t i = 0; e == 0 && i < n; i++) {
		e = get_rule(&r, &rs->v[i]);
		rs->n = i + 1;   /* what is there is freed with the set */
	}
	if (e == 0 && r.p != r.end)
		e = -EBADMSG;
	if (e < 0)
		rx_rules_free(rs);
	return e;
}
