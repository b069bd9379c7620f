/* Property and latency tests of the streaming redactor (src/redact/):
 *  - random secret sets in random encodings (raw, hex, base64, base32,
 *    URL, JSON) inside random data, fed in
 *    random chunkings from 1 byte to 64 KiB: no secret nor any encoded
 *    form of it survives, and the streamed output equals the redaction of
 *    the whole input at once (seeded, a few hundred rounds);
 *  - the same when encodings of the secrets are wrapped into lines (base64
 *    -w N, PEM, xxd -p) at any width from 16 to 128, LF or CRLF: no form
 *    survives in the output with its line breaks removed;
 *  - the same in hex dumps (xxd -g 1 or 2, -u, -c 8..24; hexdump -C;
 *    od -tx1 with and without offsets): neither the hex column decoded nor
 *    the ASCII column holds a secret;
 *  - joining lines adds nothing where no form crosses a break: with
 *    literals only, redacting the whole input equals redacting it line by
 *    line;
 *  - a stream holds back only what can still become a match: a complete
 *    line without the beginning of a secret goes out at once. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/redact.h"
#include "test_buf.h"

static char cache_dir[] = "/tmp/stockade-test-redact-stream-XXXXXX";


static uint64_t rng;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- independent encoders ---- */

static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64(const uint8_t *in, size_t n, bool url, bool pad, buf *out)
{
	const char *al = url ? B64_URL : B64_STD;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		char q[4] = { al[v >> 18 & 63], al[v >> 12 & 63], al[v >> 6 & 63], al[v & 63] };
		size_t k = n - i >= 3 ? 4 : n - i == 2 ? 3 : 2;
		buf_put(out, q, k);
		for (; pad && k < 4; k++)
			buf_put(out, "=", 1);
	}
}

/* RFC 4648 base32, as base32(1) prints it. */
static void b32(const uint8_t *in, size_t n, bool pad, buf *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	size_t chars = 0;
	for (size_t i = 0; i < n; i += 5) {
		uint8_t g[5] = { 0 };
		size_t k = n - i < 5 ? n - i : 5;
		memcpy(g, in + i, k);
		uint64_t v = (uint64_t)g[0] << 32 | (uint64_t)g[1] << 24 | (uint64_t)g[2] << 16 | (uint64_t)g[3] << 8 | g[4];
		size_t used = (8 * k + 4) / 5;
		for (size_t c = 0; c < used; c++, chars++)
			buf_put(out, &al[v >> (35 - 5 * c) & 31], 1);
	}
	for (; pad && chars % 8; chars++)
		buf_put(out, "=", 1);
}

static void hex(const uint8_t *in, size_t n, bool upper, buf *out)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		char h[2] = { d[in[i] >> 4], d[in[i] & 15] };
		buf_put(out, h, 2);
	}
}

static void url(const uint8_t *in, size_t n, buf *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_put(out, &c, 1);
		} else {
			char e[4];
			snprintf(e, sizeof(e), "%%%02X", c);
			buf_put(out, e, 3);
		}
	}
}

/* JSON string content, non-ASCII bytes left as they are. */
static void json(const uint8_t *in, size_t n, buf *out)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		char e[8];
		if (c == '"' || c == '\\') {
			snprintf(e, sizeof(e), "\\%c", c);
			buf_str(out, e);
		} else if (c == '\n') {
			buf_str(out, "\\n");
		} else if (c < 0x20 || c == 0x7F) {
			const char *named = c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" :
					    c == '\f' ? "\\f" : NULL;
			if (named) {
				buf_str(out, named);
			} else {
				snprintf(e, sizeof(e), "\\u%04x", c);
				buf_str(out, e);
			}
		} else {
			buf_put(out, &c, 1);
		}
	}
}

/* The base64 characters that depend only on the secret, at one alignment. */
static void b64_core(const uint8_t *sec, size_t n, unsigned align, bool url_safe, buf *out)
{
	uint8_t raw[256] = { 0 };
	memcpy(raw + align, sec, n);
	buf all = { 0 };
	b64(raw, align + n, url_safe, false, &all);
	size_t first = (8 * align + 5) / 6, end = 8 * (align + n) / 6;
	buf_put(out, all.p + first, end - first);
	free(all.p);
}

/* The base32 characters that depend only on the secret, at one alignment. */
static void b32_core(const uint8_t *sec, size_t n, unsigned align, buf *out)
{
	uint8_t raw[256] = { 0 };
	memcpy(raw + align, sec, n);
	buf all = { 0 };
	b32(raw, align + n, false, &all);
	size_t first = (8 * align + 4) / 5, end = 8 * (align + n) / 5;
	buf_put(out, all.p + first, end - first);
	free(all.p);
}

/* ---- the property ---- */

typedef struct secret {
	uint8_t v[64];
	size_t n;
} secret;

static void random_secret(secret *s)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	s->n = 8 + rnd() % 57;
	unsigned kind = rnd() % 4;
	for (size_t i = 0; i < s->n; i++) {
		if (kind < 2)
			s->v[i] = (uint8_t)al[rnd() % 62];
		else if (kind == 2)
			s->v[i] = (uint8_t)(0x20 + rnd() % 95);   /* printable, with / + % " \ */
		else
			s->v[i] = (uint8_t)(1 + rnd() % 255);     /* any byte but NUL */
	}
}

/* An encoding of data around a secret, wrapped like base64(1) or xxd -p:
 * lines of `width` characters, the last one shorter. */
static void wrapped_piece(buf *in, const secret *sec)
{
	uint8_t raw[256];
	size_t pre = rnd() % 100, post = rnd() % 40;
	for (size_t k = 0; k < pre; k++)
		raw[k] = (uint8_t)rnd();
	memcpy(raw + pre, sec->v, sec->n);
	for (size_t k = 0; k < post; k++)
		raw[pre + sec->n + k] = (uint8_t)rnd();
	buf enc = { 0 };
	unsigned kind = rnd() % 4;
	if (kind < 2)
		b64(raw, pre + sec->n + post, rnd() & 1, rnd() & 1, &enc);
	else if (kind == 2)
		b32(raw, pre + sec->n + post, rnd() & 1, &enc);
	else
		hex(raw, pre + sec->n + post, rnd() & 1, &enc);
	size_t width = 16 + rnd() % 113;
	const char *eol = rnd() & 1 ? "\r\n" : "\n";
	for (size_t at = 0; at < enc.len; at += width) {
		buf_put(in, enc.p + at, enc.len - at < width ? enc.len - at : width);
		buf_str(in, eol);
	}
	free(enc.p);
}

/* A dump of data around a secret as xxd, hexdump -C or od -tx1 print it. */
static void dump_piece(buf *in, const secret *sec)
{
	uint8_t raw[160];
	size_t pre = rnd() % 40, post = rnd() % 20, n = pre + sec->n + post;
	for (size_t k = 0; k < pre; k++)
		raw[k] = (uint8_t)rnd();
	memcpy(raw + pre, sec->v, sec->n);
	for (size_t k = 0; k < post; k++)
		raw[pre + sec->n + k] = (uint8_t)rnd();
	unsigned fmt = rnd() % 7, per = fmt < 2 ? 8 * (1 + rnd() % 3) : fmt == 6 ? 12 : 16, group = fmt == 0 ? 2 : 1;
	bool upper = rnd() & 1, od_offset = rnd() & 1;
	char t[32];
	if (in->len > 0 && in->p[in->len - 1] != '\n')   /* a dump begins a line */
		buf_str(in, "\n");
	for (size_t off = 0; off < n; off += per) {
		size_t k = n - off < per ? n - off : per;
		if (fmt < 2) {   /* xxd [-g 1] [-u] [-c per] */
			snprintf(t, sizeof(t), "%08zx:", off);
			buf_str(in, t);
			for (size_t i = 0; i < per; i++) {
				if (i % group == 0)
					buf_str(in, " ");
				snprintf(t, sizeof(t), upper ? "%02X" : "%02x", raw[off + (i < k ? i : 0)]);
				buf_str(in, i < k ? t : "  ");
			}
			buf_str(in, "  ");
		} else if (fmt == 2) {   /* hexdump -C */
			snprintf(t, sizeof(t), "%08zx ", off);
			buf_str(in, t);
			for (size_t i = 0; i < 16; i++) {
				snprintf(t, sizeof(t), " %02x", raw[off + (i < k ? i : 0)]);
				buf_str(in, i == 8 ? " " : "");
				buf_str(in, i < k ? t : "   ");
			}
			buf_str(in, "  |");
		} else if (fmt == 5) {   /* od -x: little-endian words, the odd last byte with 00 */
			snprintf(t, sizeof(t), "%07zo", off);
			buf_str(in, t);
			for (size_t i = 0; i < k; i += 2) {
				snprintf(t, sizeof(t), " %02x%02x", i + 1 < k ? raw[off + i + 1] : 0, raw[off + i]);
				buf_str(in, t);
			}
			buf_str(in, "\n");
			continue;
		} else if (fmt == 6) {   /* xxd -i */
			buf_str(in, " ");
			for (size_t i = 0; i < k; i++) {
				snprintf(t, sizeof(t), " 0x%02x%s", raw[off + i], off + i + 1 < n ? "," : "");
				buf_str(in, t);
			}
			buf_str(in, "\n");
			continue;
		} else if (fmt == 4) {   /* od -c */
			snprintf(t, sizeof(t), "%07zo", off);
			buf_str(in, t);
			for (size_t i = 0; i < k; i++) {
				uint8_t c = raw[off + i];
				const char *e = c == 0 ? "\\0" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" :
						c == '\a' ? "\\a" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\v' ? "\\v" :
						c == '\\' ? "\\\\" : NULL;
				if (e)
					snprintf(t, sizeof(t), "  %s", e);
				else if (c >= 0x20 && c < 0x7F)
					snprintf(t, sizeof(t), "   %c", c);
				else
					snprintf(t, sizeof(t), " %03o", c);
				buf_str(in, t);
			}
			buf_str(in, "\n");
			continue;
		} else {   /* od -tx1 [-An] */
			snprintf(t, sizeof(t), "%07zo", off);
			buf_str(in, od_offset ? t : "");
			for (size_t i = 0; i < k; i++) {
				snprintf(t, sizeof(t), " %02x", raw[off + i]);
				buf_str(in, t);
			}
			buf_str(in, "\n");
			continue;
		}
		for (size_t i = 0; i < k; i++) {
			char c = raw[off + i] >= 0x20 && raw[off + i] < 0x7F ? (char)raw[off + i] : '.';
			buf_put(in, &c, 1);
		}
		buf_str(in, fmt == 2 ? "|\n" : "\n");
	}
	if (fmt >= 2 && fmt != 6) {   /* the closing offset line */
		snprintf(t, sizeof(t), fmt == 2 ? "%08zx\n" : "%07zo\n", n);
		buf_str(in, fmt != 3 || od_offset ? t : "");
	}
}

static void random_piece(buf *in, const secret *secs, size_t n_secs, bool wrapped)
{
	const secret *sec = &secs[rnd() % n_secs];
	static const char *const lines[] = {
		"src/redact/stream.c:412:9: warning: unused variable 'x' [-Wunused-variable]\n",
		"{\"id\": 4211, \"sha\": \"3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\", \"ok\": true}\n",
		"PATH=/usr/local/bin:/usr/bin\nHOME=/home/u\n",
		"SGVsbG8sIFdvcmxkIQ==\n",
		"\n",
		"token: ",
		"password=",
	};
	if (wrapped && rnd() % 4 == 0) {
		if (rnd() & 1)
			wrapped_piece(in, sec);
		else
			dump_piece(in, sec);
		return;
	}
	switch (rnd() % 12) {
	case 0: case 1: {   /* random bytes */
		for (size_t k = rnd() % 400; k > 0; k--) {
			char c = (char)rnd();
			buf_put(in, &c, 1);
		}
		break;
	}
	case 2: case 3:
		buf_str(in, lines[rnd() % SK_ARRAY_LEN(lines)]);
		break;
	case 4:
		buf_put(in, sec->v, sec->n);
		break;
	case 5: {
		uint8_t raw[128];
		size_t pre = rnd() % 3, post = rnd() % 5;
		for (size_t k = 0; k < pre; k++)
			raw[k] = (uint8_t)rnd();
		memcpy(raw + pre, sec->v, sec->n);
		for (size_t k = 0; k < post; k++)
			raw[pre + sec->n + k] = (uint8_t)rnd();
		b64(raw, pre + sec->n + post, rnd() & 1, rnd() & 1, in);
		break;
	}
	case 6:
		if (rnd() & 1) {
			hex(sec->v, sec->n, rnd() & 1, in);
		} else {   /* base32 of the secret inside other data */
			uint8_t raw[128];
			size_t pre = rnd() % 5, post = rnd() % 5;
			for (size_t k = 0; k < pre; k++)
				raw[k] = (uint8_t)rnd();
			memcpy(raw + pre, sec->v, sec->n);
			for (size_t k = 0; k < post; k++)
				raw[pre + sec->n + k] = (uint8_t)rnd();
			b32(raw, pre + sec->n + post, rnd() & 1, in);
		}
		break;
	case 7:
		url(sec->v, sec->n, in);
		break;
	case 8:
		buf_str(in, "{\"value\": \"");
		json(sec->v, sec->n, in);
		buf_str(in, "\"}\n");
		break;
	case 9: {
		static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
		char t[41] = "ghp_";
		for (int k = 4; k < 40; k++)
			t[k] = al[rnd() % 62];
		buf_put(in, t, 40);
		buf_str(in, rnd() & 1 ? "\n" : " ");
		break;
	}
	default: {   /* text around a secret on one line */
		buf_str(in, "export API_KEY=");
		buf_put(in, sec->v, sec->n);
		buf_str(in, "; echo done\n");
	}
	}
}

static sk_redactor *build(const char *rules, const sk_redact_literals *lits, const char *extra)
{
	sk_redact_config cfg;
	sk_error err = { 0 };
	sk_redactor *r = NULL;
	sk_redact_config_init(&cfg);
	cfg.rules_path = rules;
	cfg.extra_rules = extra;
	cfg.literals = lits;
	cfg.cache_dir = cache_dir;
	ck_assert_msg(sk_redactor_build(&cfg, &r, &err) == 0, "build: %s", err.msg);
	return r;
}

/* parallel: the pattern scan on a second thread (sk_redact_stream_parallel). */
static void streamed(const sk_redactor *r, const buf *in, size_t max, bool parallel, buf *out)
{
	sk_redact_stream *s;
	ck_assert_int_eq(sk_redact_stream_new(r, buf_sink, out, &s), 0);
	if (parallel)
		ck_assert_int_eq(sk_redact_stream_parallel(s), 0);
	for (size_t off = 0; off < in->len;) {
		size_t n = 1 + rnd() % max;
		if (n > in->len - off)
			n = in->len - off;
		ck_assert_int_eq(sk_redact_feed(s, in->p + off, n), 0);
		off += n;
	}
	ck_assert_int_eq(sk_redact_finish(s), 0);
	sk_redact_stream_free(s);
}

static void assert_absent_round(const buf *out, const buf *form, const char *what, size_t i, int round)
{
	ck_assert_msg(!memmem(out->p, out->len, form->p, form->len),
		      "round %d: secret %zu survived as %s", round, i, what);
}

static void assert_no_form_survives(const buf *out, const secret *sec, size_t i, int round)
{
	buf f = { 0 };
	buf_put(&f, sec->v, sec->n);
	assert_absent_round(out, &f, "raw", i, round);
	for (int upper = 0; upper < 2; upper++) {
		f.len = 0;
		hex(sec->v, sec->n, upper, &f);
		assert_absent_round(out, &f, "hex", i, round);
	}
	for (unsigned align = 0; align < 3; align++)
		for (int u = 0; u < 2; u++) {
			f.len = 0;
			b64_core(sec->v, sec->n, align, u, &f);
			assert_absent_round(out, &f, "base64", i, round);
		}
	for (unsigned align = 0; align < 5; align++) {
		f.len = 0;
		b32_core(sec->v, sec->n, align, &f);
		assert_absent_round(out, &f, "base32", i, round);
	}
	f.len = 0;
	url(sec->v, sec->n, &f);
	assert_absent_round(out, &f, "url", i, round);
	f.len = 0;
	json(sec->v, sec->n, &f);
	assert_absent_round(out, &f, "json", i, round);
	free(f.p);
}

/* The output with every line break removed, as a decoder would read a
 * wrapped encoding: no base64 or hex form of the secret in it. */
static void assert_no_wrapped_form(const buf *out, const secret *sec, size_t i, int round)
{
	buf joined = { 0 }, f = { 0 };
	for (size_t k = 0; k < out->len; k++)
		if (out->p[k] != '\n' && out->p[k] != '\r')
			buf_put(&joined, out->p + k, 1);
	for (int upper = 0; upper < 2; upper++) {
		f.len = 0;
		hex(sec->v, sec->n, upper, &f);
		assert_absent_round(&joined, &f, "wrapped hex", i, round);
	}
	for (unsigned align = 0; align < 3; align++)
		for (int u = 0; u < 2; u++) {
			f.len = 0;
			b64_core(sec->v, sec->n, align, u, &f);
			assert_absent_round(&joined, &f, "wrapped base64", i, round);
		}
	for (unsigned align = 0; align < 5; align++) {
		f.len = 0;
		b32_core(sec->v, sec->n, align, &f);
		assert_absent_round(&joined, &f, "wrapped base32", i, round);
	}
	free(joined.p);
	free(f.p);
}

static bool hexdigit(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* An od -c line (7 octal digits, then cells of 4) into data.  false: not
 * wholly such a line (nothing read). */
static bool read_od_c(const char *l, size_t n, buf *data)
{
	size_t i = 0;
	while (i < n && l[i] >= '0' && l[i] <= '7')
		i++;
	if (i != 7 || n == 7 || (n - 7) % 4)
		return false;
	uint8_t bytes[64];
	size_t k = 0;
	for (; i + 4 <= n && k < sizeof(bytes); i += 4) {
		const char *c = l + i;
		if (c[0] == ' ' && c[1] == ' ' && c[2] == ' ')
			bytes[k++] = (uint8_t)c[3];
		else if (c[0] == ' ' && c[1] == ' ' && c[2] == '\\')
			bytes[k++] = c[3] == 'n' ? '\n' : c[3] == 't' ? '\t' : c[3] == 'r' ? '\r' : c[3] == '0' ? 0 :
				     c[3] == 'a' ? '\a' : c[3] == 'b' ? '\b' : c[3] == 'f' ? '\f' : c[3] == 'v' ? '\v' : '\\';
		else if (c[0] == ' ' && c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' && c[3] <= '7')
			bytes[k++] = (uint8_t)((c[1] - '0') << 6 | (c[2] - '0') << 3 | (c[3] - '0'));
		else
			return false;
	}
	if (i != n)
		return false;
	buf_put(data, bytes, k);
	return true;
}

/* An od -x line (7 octal digits, then " HHHH" little-endian words) into
 * data.  false: not wholly such a line (nothing read). */
static bool read_words(const char *l, size_t n, buf *data)
{
	if (n < 12 || (n - 7) % 5)
		return false;
	for (size_t i = 0; i < 7; i++)
		if (l[i] < '0' || l[i] > '7')
			return false;
	for (size_t i = 7; i < n; i += 5)
		if (l[i] != ' ' || !hexdigit(l[i + 1]) || !hexdigit(l[i + 2]) || !hexdigit(l[i + 3]) || !hexdigit(l[i + 4]))
			return false;
	for (size_t i = 7; i < n; i += 5) {
		char lo[3] = { l[i + 3], l[i + 4], 0 }, hi[3] = { l[i + 1], l[i + 2], 0 };
		uint8_t b[2] = { (uint8_t)strtoul(lo, NULL, 16), (uint8_t)strtoul(hi, NULL, 16) };
		buf_put(data, b, 2);
	}
	return true;
}

/* An xxd -i line ("  0x41, 0x50,") into data: its 0xHH tokens, up to
 * anything else.  false: not such a line. */
static bool read_c_array(const char *l, size_t n, buf *data)
{
	if (n < 6 || strncmp(l, "  0x", 4) != 0)
		return false;
	size_t i = 2;
	while (i + 4 <= n && l[i] == '0' && l[i + 1] == 'x' && hexdigit(l[i + 2]) && hexdigit(l[i + 3])) {
		char h[3] = { l[i + 2], l[i + 3], 0 };
		uint8_t b = (uint8_t)strtoul(h, NULL, 16);
		buf_put(data, &b, 1);
		i += 4;
		i += i < n && l[i] == ',';
		i += i < n && l[i] == ' ';
	}
	if (i < n)   /* a redaction: what follows is read apart */
		buf_put(data, "\n", 1);
	return true;
}

/* The dumps in the output read back as a person would: for each line with
 * an offset (or od -An's leading space), the hex column decoded (od -c:
 * the cells) and the ASCII column, line after line. */
static void read_dumps(const buf *out, buf *data, buf *text)
{
	for (size_t at = 0; at < out->len;) {
		const char *l = out->p + at, *nl = memchr(l, '\n', out->len - at);
		size_t n = nl ? (size_t)(nl - l) : out->len - at;
		at += n + 1;
		if (read_od_c(l, n, data) || read_words(l, n, data) || read_c_array(l, n, data))
			continue;
		size_t h = 0;
		while (h < n && hexdigit(l[h]))
			h++;
		size_t from = h >= 7 && h < n && (l[h] == ':' || l[h] == ' ') ? h + 1 : n > 0 && l[0] == ' ' ? 0 : n;
		if (from == n) {   /* not a dump line: the next dump is read apart */
			buf_put(data, "\n", 1);
			buf_put(text, "\n", 1);
			continue;
		}
		size_t hex_end = n, asc = n, asc_end = n;
		const char *bar = memmem(l + from, n - from, "  |", 3);
		const char *gap = memmem(l + from + 1, n - from - (n > from), "  ", 2);
		if (bar && l[n - 1] == '|') {
			hex_end = (size_t)(bar - l), asc = hex_end + 3, asc_end = n - 1;
		} else if (from > 0 && l[h] == ':' && gap) {
			hex_end = (size_t)(gap - l);
			for (asc = hex_end; asc < n && l[asc] == ' ';)
				asc++;
		}
		char pair[2];
		int k = 0;
		for (size_t i = from; i < hex_end; i++) {
			if (!hexdigit(l[i]))
				continue;
			pair[k++] = l[i];
			if (k == 2) {
				char b[3] = { pair[0], pair[1], 0 };
				uint8_t v = (uint8_t)strtoul(b, NULL, 16);
				buf_put(data, &v, 1);
				k = 0;
			}
		}
		if (asc < asc_end)
			buf_put(text, l + asc, asc_end - asc);
	}
}

static void assert_not_in_dumps(const buf *out, const secret *sec, size_t i, int round)
{
	buf data = { 0 }, text = { 0 }, shown = { 0 }, raw = { 0 };
	read_dumps(out, &data, &text);
	buf_put(&raw, sec->v, sec->n);
	for (size_t k = 0; k < sec->n; k++) {
		char c = sec->v[k] >= 0x20 && sec->v[k] < 0x7F ? (char)sec->v[k] : '.';
		buf_put(&shown, &c, 1);
	}
	if (data.len)
		assert_absent_round(&data, &raw, "the hex column of a dump", i, round);
	/* the ASCII column shows other bytes as '.': unambiguous for a printable secret only */
	if (text.len && !memchr(shown.p, '.', shown.len))
		assert_absent_round(&text, &shown, "the ASCII column of a dump", i, round);
	free(data.p);
	free(text.p);
	free(shown.p);
	free(raw.p);
}

#define ROUNDS_PER_TEST 5

static void property_round_seeded(uint64_t seed, int round)
{
	rng = seed * (uint64_t)(round + 1) ^ 0x9E3779B97F4A7C15ULL;
	secret secs[6];
	size_t n_secs = 1 + rnd() % 6;
	sk_redact_literals *l;
	ck_assert_int_eq(sk_redact_literals_new(&l, NULL, NULL), 0);
	for (size_t i = 0; i < n_secs; i++) {
		random_secret(&secs[i]);
		ck_assert_int_ge(sk_redact_literals_add(l, NULL, secs[i].v, secs[i].n), 0);
	}
	sk_redactor *r = build(rnd() % 3 ? "profiles/redact.rules" : "", l, NULL);
	sk_redact_literals_free(l);
	buf in = { 0 };
	size_t target = 500 + rnd() % 12000;
	while (in.len < target)
		random_piece(&in, secs, n_secs, round % 2);

	buf whole = { 0 };
	char *w;
	ck_assert_int_eq(sk_redact_buffer(r, in.p, in.len, &w, &whole.len, NULL), 0);
	whole.p = w;
	for (size_t i = 0; i < n_secs; i++) {
		assert_no_form_survives(&whole, &secs[i], i, round);
		assert_no_wrapped_form(&whole, &secs[i], i, round);
		assert_not_in_dumps(&whole, &secs[i], i, round);
	}
	for (int k = 0; k < 3; k++) {
		size_t max = (size_t)1 << (rnd() % 17);   /* 1 byte .. 64 KiB */
		buf out = { 0 };
		streamed(r, &in, max, k == 2, &out);
		ck_assert_msg(out.len == whole.len && !memcmp(out.p, whole.p, whole.len),
			      "round %d: chunks of at most %zu bytes%s give another output", round, max,
			      k == 2 ? " (patterns on a second thread)" : "");
		free(out.p);
	}
	free(whole.p);
	free(in.p);
	sk_redactor_free(r);
}

START_TEST(test_property_random_chunkings)
{
	for (int k = 0; k < ROUNDS_PER_TEST; k++)
		property_round_seeded(0x5EEDF00DULL, _i * ROUNDS_PER_TEST + k);
}
END_TEST

/* Joined lines add nothing where no form crosses a break: with literals
 * only (none holding a line break), the whole input redacted at once
 * equals the redaction of each of its lines. */
static void line_by_line_round(int round)
{
	rng = 0xD1CEULL * (uint64_t)(round + 1) ^ 0x9E3779B97F4A7C15ULL;
	secret secs[4];
	sk_redact_literals *l;
	ck_assert_int_eq(sk_redact_literals_new(&l, NULL, NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		random_secret(&secs[i]);
		for (size_t k = 0; k < secs[i].n; k++)
			if (secs[i].v[k] == '\n' || secs[i].v[k] == '\r')
				secs[i].v[k] = 'n';
		ck_assert_int_ge(sk_redact_literals_add(l, NULL, secs[i].v, secs[i].n), 0);
	}
	sk_redactor *r = build("", l, NULL);
	sk_redact_literals_free(l);
	buf in = { 0 }, by_line = { 0 };
	while (in.len < 20000)
		random_piece(&in, secs, 4, false);
	/* and lines that are joined: base64 lines that hold no secret */
	for (int k = 0; k < 200; k++)
		buf_str(&in, k % 3 ? "U0dWc2JHOHNJRmR2Y214a0lRPT0K\n" : "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n");
	char *w, *piece;
	size_t wlen, plen;
	ck_assert_int_eq(sk_redact_buffer(r, in.p, in.len, &w, &wlen, NULL), 0);
	for (size_t at = 0; at < in.len;) {
		const char *nl = memchr(in.p + at, '\n', in.len - at);
		size_t n = nl ? (size_t)(nl - (in.p + at)) + 1 : in.len - at;
		ck_assert_int_eq(sk_redact_buffer(r, in.p + at, n, &piece, &plen, NULL), 0);
		buf_put(&by_line, piece, plen);
		free(piece);
		at += n;
	}
	ck_assert_msg(wlen == by_line.len && !memcmp(w, by_line.p, wlen),
		      "round %d: the whole input is redacted otherwise than line by line", round);
	free(w);
	free(by_line.p);
	free(in.p);
	sk_redactor_free(r);
}

START_TEST(test_joined_lines_add_nothing)
{
	for (int k = 0; k < ROUNDS_PER_TEST; k++)
		line_by_line_round(_i * ROUNDS_PER_TEST + k);
}
END_TEST

/* With the pattern thread, a complete line is out once the input pauses
 * (sk_redact_settle), not when more input comes: a filter in front of an
 * interactive tool shows its lines at once. */
START_TEST(test_parallel_settle_emits_the_line)
{
	sk_redactor *r = build("profiles/redact.rules", NULL, NULL);
	buf out = { 0 };
	sk_redact_stream *s;
	ck_assert_int_eq(sk_redact_stream_new(r, buf_sink, &out, &s), 0);
	ck_assert_int_eq(sk_redact_stream_parallel(s), 0);
	static const char line[] = "hello from a tool\n";
	ck_assert_int_eq(sk_redact_feed(s, line, sizeof(line) - 1), 0);
	ck_assert_int_eq(sk_redact_settle(s), 0);
	ck_assert_msg(out.len == sizeof(line) - 1 && !memcmp(out.p, line, out.len),
		      "after settle the complete line is out (got %zu bytes)", out.len);
	static const char tail[] = "key ghp_abcdefghijklmnopqrstuvwxyz0123456789 end\n";
	ck_assert_int_eq(sk_redact_feed(s, tail, sizeof(tail) - 1), 0);
	ck_assert_int_eq(sk_redact_settle(s), 0);
	ck_assert_int_eq(sk_redact_finish(s), 0);
	sk_redact_stream_free(s);
	ck_assert_msg(out.len > 0 && memmem(out.p, out.len, "[REDACTED:github-pat]", 21) &&
			      !memmem(out.p, out.len, "ghp_", 4),
		      "the token after a settle is still redacted");
	free(out.p);
	sk_redactor_free(r);
}
END_TEST

/* Feeds larger than a slice: several hand-overs to the pattern thread per
 * feed give the output of the single-threaded whole-buffer redaction.  10
 * MiB: more than the pending buffer holds with the thread (4 MiB), so the
 * pending bytes are moved down between hand-overs too. */
START_TEST(test_parallel_large_feeds)
{
	rng = 0xB16F00DULL;
	secret secs[4];
	sk_redact_literals *l;
	ck_assert_int_eq(sk_redact_literals_new(&l, NULL, NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		random_secret(&secs[i]);
		ck_assert_int_ge(sk_redact_literals_add(l, NULL, secs[i].v, secs[i].n), 0);
	}
	sk_redactor *r = build("profiles/redact.rules", l, NULL);
	sk_redact_literals_free(l);
	buf in = { 0 };
	while (in.len < (10u << 20))
		random_piece(&in, secs, 4, true);
	char *w;
	size_t wlen;
	ck_assert_int_eq(sk_redact_buffer(r, in.p, in.len, &w, &wlen, NULL), 0);
	for (size_t i = 0; i < 4; i++)
		assert_no_form_survives(&(buf){ .p = w, .len = wlen }, &secs[i], i, -1);
	buf out = { 0 };
	streamed(r, &in, 2u << 20, true, &out);
	ck_assert_msg(out.len == wlen && !memcmp(out.p, w, wlen),
		      "feeds of up to 2 MiB with the patterns on a second thread give another output");
	free(out.p);
	free(w);
	free(in.p);
	sk_redactor_free(r);
}
END_TEST

/* ---- what is held back ---- */

typedef struct fixture {
	sk_redactor *r;
	sk_redact_stream *s;
	buf out;
} fixture;

static void open_stream(fixture *f, const char *rules, const char *literal, const char *extra)
{
	sk_redact_literals *l;
	ck_assert_int_eq(sk_redact_literals_new(&l, NULL, NULL), 0);
	if (literal)
		ck_assert_int_eq(sk_redact_literals_add(l, NULL, literal, strlen(literal)), 1);
	f->r = build(rules, l, extra);
	sk_redact_literals_free(l);
	f->out = (buf){ 0 };
	ck_assert_int_eq(sk_redact_stream_new(f->r, buf_sink, &f->out, &f->s), 0);
}

static void feed(fixture *f, const char *text)
{
	ck_assert_int_eq(sk_redact_feed(f->s, text, strlen(text)), 0);
}

static const char *out_str(fixture *f)
{
	return f->out.p ? f->out.p : "";
}

static void close_stream(fixture *f)
{
	sk_redact_stream_free(f->s);
	sk_redactor_free(f->r);
	free(f->out.p);
}

/* A complete line goes out at once; an unfinished one waits. */
START_TEST(test_line_released_at_once)
{
	fixture f;
	open_stream(&f, "profiles/redact.rules", "Zq8xv3Kp1mWn7Tb2", NULL);
	feed(&f, "hello\n");
	ck_assert_str_eq(out_str(&f), "hello\n");
	feed(&f, "compiling x.c ... ");
	ck_assert_str_eq(out_str(&f), "hello\n");   /* could still become "password=..." */
	feed(&f, "ok\nnext ghp_");
	ck_assert_str_eq(out_str(&f), "hello\ncompiling x.c ... ok\n");
	feed(&f, "abcdefghijklmnopqrstuvwxyz0123456789\n");
	ck_assert_str_eq(out_str(&f), "hello\ncompiling x.c ... ok\nnext [REDACTED:github-pat]\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	close_stream(&f);
}
END_TEST

/* With literals only, bytes go out up to the first one that may begin a
 * literal (in any of its forms). */
START_TEST(test_literal_prefix_held)
{
	fixture f;
	open_stream(&f, "", "Zq8xv3Kp1mWn7Tb2", NULL);
	feed(&f, "abc Zq8x");
	ck_assert_str_eq(out_str(&f), "abc ");
	feed(&f, "v3Kp1mW");
	ck_assert_str_eq(out_str(&f), "abc ");
	feed(&f, "n7Tb2 and more");
	ck_assert_str_eq(out_str(&f), "abc [REDACTED:literal] and more");
	feed(&f, " Zq8xv3Kp-not-it");
	ck_assert_str_eq(out_str(&f), "abc [REDACTED:literal] and more Zq8xv3Kp-not-it");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	close_stream(&f);
}
END_TEST

/* A rule that can match across lines makes the stream keep its window. */
START_TEST(test_multiline_rule_keeps_window)
{
	fixture f;
	open_stream(&f, "", NULL, "pattern two-lines user\\s+pass=(?#secret)\\S{8,}\n");
	feed(&f, "hello\nuser\n");
	ck_assert_str_eq(out_str(&f), "");
	feed(&f, "pass=abcdefghij\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	ck_assert_str_eq(out_str(&f), "hello\nuser\npass=[REDACTED:two-lines]\n");
	close_stream(&f);
}
END_TEST

/* A secret file's content is a literal with its final line break (CRLF
 * too): where it matches, the line break stays in the output. */
START_TEST(test_literal_keeps_its_line_break)
{
	fixture f;
	open_stream(&f, "", "token-0123456789abcdef\r\n", NULL);
	feed(&f, "a token-0123456789abcdef\r\nc\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	ck_assert_str_eq(out_str(&f), "a [REDACTED:literal]\r\nc\n");
	close_stream(&f);
}
END_TEST

/* A literal that spans lines (a secret file's whole content) is still
 * held while it may be coming, rules or not; its final newline stays in
 * the output (lines do not run together). */
START_TEST(test_multiline_literal_held)
{
	fixture f;
	open_stream(&f, "profiles/redact.rules", "line-one-secret\nline-two-secret\n", NULL);
	feed(&f, "cat key\nline-one-secret\n");
	ck_assert_str_eq(out_str(&f), "cat key\n");
	feed(&f, "line-two-secret\ndone\n");
	ck_assert_str_eq(out_str(&f), "cat key\n[REDACTED:literal]\ndone\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	close_stream(&f);
}
END_TEST

/* A wrapped encoding's line that may go on into a secret's form waits for
 * the next line; one whose end cannot is out at once. */
START_TEST(test_wrapped_line_held)
{
	fixture f;
	/* base64 of "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxsk-canary-1234567890", wrapped at 64 */
	open_stream(&f, "", "sk-canary-1234567890", NULL);
	feed(&f, "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHNrLWNhbmFy\n");
	ck_assert_msg(strlen(out_str(&f)) < 60, "the line that begins the form waits (out: %s)", out_str(&f));
	feed(&f, "eS0xMjM0NTY3ODkw\n");
	ck_assert_msg(strstr(out_str(&f), "[REDACTED:literal]"), "redacted once the form is complete (out: %s)",
		      out_str(&f));
	feed(&f, "done\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	ck_assert_msg(!strstr(out_str(&f), "NrLWNhbmFy") && strstr(out_str(&f), "[REDACTED:literal]"),
		      "the form across the break is redacted (out: %s)", out_str(&f));
	close_stream(&f);
}
END_TEST

/* A line that ends in 16 encoding characters and cannot go on into a form
 * is not held: a hash at the end of a line is out at once. */
START_TEST(test_unwrapped_line_not_held)
{
	fixture f;
	open_stream(&f, "", "sk-canary-1234567890", NULL);
	feed(&f, "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\n");
	ck_assert_str_eq(out_str(&f), "commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	close_stream(&f);
}
END_TEST

/* A hex dump is read back: a secret across two xxd lines is redacted in
 * the hex and the ASCII column, and waits while it may be coming; a text
 * line that begins like a dump line goes out once it cannot be one. */
START_TEST(test_hexdump_columns)
{
	fixture f;
	open_stream(&f, "", "sk-canary-1234567890", NULL);
	feed(&f, "deadbeef is a word\n");
	ck_assert_str_eq(out_str(&f), "deadbeef is a word\n");
	feed(&f, "00000000: 7878 7878 7878 7878 7878 7873 6b2d 6361  xxxxxxxxxxxsk-ca\n");
	ck_assert_msg(!strstr(out_str(&f), "6b2d"), "the line that may begin the secret waits (out: %s)",
		      out_str(&f));
	feed(&f, "00000010: 6e61 7279 2d31 3233 3435 3637 3839 300a  nary-1234567890.\n");
	feed(&f, "00000020: 7878 7878                                xxxx\n");
	ck_assert_int_eq(sk_redact_finish(f.s), 0);
	ck_assert_str_eq(out_str(&f),
			 "deadbeef is a word\n"
			 "00000000: 7878 7878 7878 7878 7878 78[REDACTED:literal]  xxxxxxxxxxx[REDACTED:literal]\n"
			 "00000010: [REDACTED:literal]0a  [REDACTED:literal].\n"
			 "00000020: 7878 7878                                xxxx\n");
	close_stream(&f);
}
END_TEST

/* Rounds of other seeds that once failed, kept as they are.  Seed
 * 0x3EEDF22D round 3569: while the pass over the newlines waited for the
 * bytes after a joined break, an xxd -i line that began within them was
 * let out before it was read (the "0" of its first "0x73" went out
 * unredacted, with chunks of up to 32 bytes). */
START_TEST(test_regression_rounds)
{
	property_round_seeded(0x3EEDF22DULL, 3569);
}
END_TEST

/* Found by make fuzz (fuzz_redact, chunks of 15 then varying): a literal
 * right after a joined line break.  A candidate placed at the break itself
 * verified across it, and the whole input's match covered the newline
 * before the literal; fed in pieces, the same literal was matched without
 * it.  A form begins with its own first byte, never with a break. */
START_TEST(test_match_never_begins_with_a_break)
{
	sk_redact_literals *l;
	ck_assert_int_eq(sk_redact_literals_new(&l, NULL, NULL), 0);
	ck_assert_int_ge(sk_redact_literals_add(l, "lit", "++++++++++++++", 14), 0);
	sk_redactor *r = build("", l, NULL);
	sk_redact_literals_free(l);
	static const char in[] = "++++++++\0Xgi5qNouCajXbgmo0\n++++++++++++++!\n--e";
	buf text = { 0 };
	buf_put(&text, in, sizeof(in) - 1);
	buf whole = { 0 };
	ck_assert_int_eq(sk_redact_buffer(r, text.p, text.len, &whole.p, &whole.len, NULL), 0);
	static const char want[] = "++++++++\0Xgi5qNouCajXbgmo0\n[REDACTED:lit]!\n--e";
	ck_assert_uint_eq(whole.len, sizeof(want) - 1);
	ck_assert_mem_eq(whole.p, want, whole.len);
	for (size_t max = 1; max <= 20; max++) {
		buf parts = { 0 };
		streamed(r, &text, max, false, &parts);
		ck_assert_uint_eq(parts.len, whole.len);
		ck_assert_mem_eq(parts.p, whole.p, whole.len);
		free(parts.p);
	}
	free(whole.p);
	free(text.p);
	sk_redactor_free(r);
}
END_TEST

static void remove_cache(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", cache_dir);
}

int main(void)
{
	if (!mkdtemp(cache_dir))
		return 1;
	Suite *s = suite_create("redact_stream");
	TCase *tc = tcase_create("stream");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_line_released_at_once);
	tcase_add_test(tc, test_parallel_large_feeds);
	tcase_add_test(tc, test_parallel_settle_emits_the_line);
	tcase_add_test(tc, test_literal_prefix_held);
	tcase_add_test(tc, test_multiline_rule_keeps_window);
	tcase_add_test(tc, test_multiline_literal_held);
	tcase_add_test(tc, test_literal_keeps_its_line_break);
	tcase_add_test(tc, test_wrapped_line_held);
	tcase_add_test(tc, test_unwrapped_line_not_held);
	tcase_add_test(tc, test_hexdump_columns);
	tcase_add_test(tc, test_regression_rounds);
	tcase_add_test(tc, test_match_never_begins_with_a_break);
	tcase_add_loop_test(tc, test_joined_lines_add_nothing, 0, 10);
	tcase_add_loop_test(tc, test_property_random_chunkings, 0, 300 / ROUNDS_PER_TEST);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_cache();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
