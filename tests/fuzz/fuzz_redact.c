/* libFuzzer target for the streaming redactor.
 * fuzz-parts: util redact
 *
 * Input: byte 0 picks the chunking, bytes 1..n a literal (length from byte
 * 0 too), the rest is the output to redact.  Checks: no crash, leak or UB;
 * the streamed output equals the whole-input output; the literal does not
 * survive.  The survival check uses "\n" as the replacement and a literal
 * without "\n": a surviving copy then lies wholly in unredacted input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/redact.h"

static sk_redactor *shipped;

typedef struct out {
	uint8_t *p;
	size_t len, cap;
} out;

static int sink(void *ctx, const void *p, size_t n)
{
	out *o = ctx;
	if (o->len + n > o->cap) {
		size_t cap = (o->len + n) * 2 + 64;
		uint8_t *b = realloc(o->p, cap);
		if (!b)
			return -ENOMEM;
		o->p = b;
		o->cap = cap;
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

/* parallel: the pattern scan on a second thread (sk_redact_stream_parallel). */
static void run(const sk_redactor *r, const uint8_t *in, size_t len, size_t step, bool parallel,
		out *o)
{
	sk_redact_stream *s;
	if (sk_redact_stream_new(r, sink, o, &s) < 0)
		abort();
	if (parallel && sk_redact_stream_parallel(s) < 0)
		abort();
	for (size_t off = 0; off < len;) {
		size_t n = step ? step : len;
		if (n > len - off)
			n = len - off;
		if (sk_redact_feed(s, in + off, n) < 0)
			abort();
		/* now and then the input pauses (settle catches the thread up) */
		if (parallel && step % 5 == 0 && sk_redact_settle(s) < 0)
			abort();
		off += n;
		step = step ? (step * 7 + 3) % 97 + 1 : 0;   /* varying chunk sizes */
	}
	if (sk_redact_finish(s) < 0)
		abort();
	sk_redact_stream_free(s);
}

static void check(const sk_redactor *r, const uint8_t *in, size_t len, size_t step, bool parallel)
{
	out whole = { 0 }, parts = { 0 };
	run(r, in, len, 0, false, &whole);
	run(r, in, len, step, parallel, &parts);
	if (whole.len != parts.len || (whole.len && memcmp(whole.p, parts.p, whole.len)))
		abort();
	free(whole.p);
	free(parts.p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	sk_redact_config cfg;
	sk_error err = { 0 };
	sk_redact_config_init(&cfg);
	cfg.rules_path = "profiles/redact.rules";
	cfg.cache_dir = "";
	cfg.block_max = 512;
	if (sk_redactor_build(&cfg, &shipped, &err) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t step = 1 + data[0] % 17;
	size_t lit_len = 8 + data[0] % 24;
	if (size > 1 + lit_len && data[0] & 0x80) {
		const uint8_t *lit = data + 1;
		sk_redact_literals *l;
		sk_redactor *r;
		sk_redact_config cfg;
		sk_error err = { 0 };
		int added;
		if (sk_redact_literals_new(&l, NULL, NULL) < 0 ||
		    (added = sk_redact_literals_add(l, "lit", lit, lit_len)) < 0)
			abort();
		sk_redact_config_init(&cfg);
		cfg.rules_path = "";
		cfg.literals = l;
		cfg.replacement = "\n";
		cfg.cache_dir = "";
		if (sk_redactor_build(&cfg, &r, &err) < 0)
			abort();
		sk_redact_literals_free(l);
		const uint8_t *in = data + 1 + lit_len;
		size_t len = size - 1 - lit_len;
		check(r, in, len, step, false);
		out o = { 0 };
		run(r, in, len, step, false, &o);
		size_t nul = 0;
		while (nul < lit_len && lit[nul] == 0)
			nul++;
		/* (a literal of NUL bytes only is not matched raw, one of white
		 * space only is refused: documented) */
		if (added && nul < lit_len && !memchr(lit, '\n', lit_len) && o.len >= lit_len &&
		    memmem(o.p, o.len, lit, lit_len))
			abort();   /* the literal survived */
		free(o.p);
		sk_redactor_free(r);
	}
	check(shipped, data + 1, size - 1, step, data[0] & 0x40);
	return 0;
}
