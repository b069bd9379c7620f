/* Literal forms found in a stream's pending bytes: the sampled probes of
 * litscan.c (and of dewrap.c, around line breaks) give candidates (a form
 * and where it would start), verified here byte for byte, as one piece or
 * across the line breaks of a wrapped encoding (rx_dewrap_verify); a
 * candidate whose last bytes have not arrived waits and is verified again
 * as they come. */
#include <string.h>

#include "internal.h"

struct candidate_ctx {
	rx_litmatch *m;
	const rx_litset *ls;
	const uint8_t *buf;
	uint64_t buf_pos, end;
	rx_lit_match_fn fn;
	void *fn_ctx;
	int error;
};

static int keep_waiting(rx_litmatch *m, uint32_t form, uint64_t start)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		rx_waiting *v = realloc(m->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = (rx_waiting){ .start = start, .form = form };
	return 0;
}

/* 1: matched (reported), 0: cannot match, -1: matches so far, bytes missing. */
static int verify(struct candidate_ctx *c, uint32_t f, uint64_t start)
{
	uint32_t len, name;
	const uint8_t *form = rx_litset_form(c->ls, f, &len, &name);
	const uint8_t *p = c->buf + (start - c->buf_pos);
	uint64_t have = c->end - start, end = start + len;
	if (have < len ? !memcmp(p, form, (size_t)have) : !memcmp(p, form, len)) {
		if (have < len)
			return -1;
	} else {
		int w = rx_dewrap_verify(form, len, c->buf, c->buf_pos, c->end, start, &end);
		if (w <= 0)
			return w;
	}
	int e = c->fn(c->fn_ctx, name, start, end);
	if (e < 0 && c->error == 0)
		c->error = e;
	return 1;
}

static void on_candidate(void *ctx, uint32_t form, uint64_t start)
{
	struct candidate_ctx *c = ctx;
	/* Bytes before the buffer were released: no form was live there. */
	if (start < c->buf_pos || verify(c, form, start) >= 0)
		return;
	int e = keep_waiting(c->m, form, start);
	if (e < 0 && c->error == 0)
		c->error = e;
}

static void recheck(struct candidate_ctx *c, bool final)
{
	rx_litmatch *m = c->m;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (verify(c, m->v[i].form, m->v[i].start) < 0 && !final)
			m->v[k++] = m->v[i];
	m->n = k;
}

int rx_litmatch_scan(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		     uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	struct candidate_ctx c = { .m = m, .ls = ls, .buf = buf, .buf_pos = buf_pos, .end = end,
				   .fn = fn, .fn_ctx = ctx };
	recheck(&c, final);
	rx_litset_scan(ls, buf, buf_pos, end, final, &m->next, on_candidate, &c);
	return c.error;
}

int rx_litmatch_recheck(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
			uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	struct candidate_ctx c = { .m = m, .ls = ls, .buf = buf, .buf_pos = buf_pos, .end = end,
				   .fn = fn, .fn_ctx = ctx };
	recheck(&c, final);
	return c.error;
}

int rx_litmatch_offer(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		      uint64_t end, uint32_t form, uint64_t start, rx_lit_match_fn fn, void *ctx)
{
	struct candidate_ctx c = { .m = m, .ls = ls, .buf = buf, .buf_pos = buf_pos, .end = end,
				   .fn = fn, .fn_ctx = ctx };
	on_candidate(&c, form, start);
	return c.error;
}

uint64_t rx_litmatch_waiting(const rx_litmatch *m)
{
	uint64_t first = UINT64_MAX;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].start < first)
			first = m->v[i].start;
	return first;
}

void rx_litmatch_free(rx_litmatch *m)
{
	free(m->v);
	*m = (rx_litmatch){ 0 };
}
