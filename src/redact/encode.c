/* The forms a literal can be printed in: raw, hex, base64 at every
 * alignment (standard and URL-safe, padded or not), base32 (RFC 4648, as
 * base32(1) prints it: the core) at every alignment, URL-encoded and
 * JSON-escaped.
 * Forms may repeat; the builder deduplicates them. */
#include <string.h>

#include "internal.h"

static const char B64_STD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char B64_URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64 of buf; returns the number of characters. */
static size_t b64(const uint8_t *buf, size_t len, const char *alpha, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)buf[i] << 16 | (uint32_t)buf[i + 1] << 8 | buf[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)buf[i] << 16 | (i + 1 < len ? (uint32_t)buf[i + 1] << 8 : 0);
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (i + 1 < len)
			out[o++] = alpha[v >> 6 & 63];
	}
	return o;
}

/* The literal preceded by `align` bytes (zeros: unknown, and the
 * characters they touch are left out of the forms). */
static uint8_t *after_unknown(const uint8_t *lit, size_t len, unsigned align)
{
	uint8_t *buf = calloc(1, align + len);
	if (buf)
		memcpy(buf + align, lit, len);
	return buf;
}

/* The literal preceded by `align` unknown bytes: the characters that
 * depend on the literal's bits only (the core, wherever it sits in a
 * longer blob) and, for a literal that ends the data, the rest of the
 * encoding without and with padding. */
static int b64_forms(const uint8_t *lit, size_t len, unsigned align, const char *alpha,
		     rx_form_fn emit, void *ctx)
{
	size_t blen = align + len;
	_cleanup_free_ uint8_t *buf = after_unknown(lit, len, align);
	_cleanup_free_ char *enc = malloc((blen + 2) / 3 * 4 + 1);
	if (!buf || !enc)
		return -ENOMEM;
	size_t n = b64(buf, blen, alpha, enc);
	size_t first = (8 * align + 5) / 6;        /* first char of literal bits only */
	size_t core_end = 8 * blen / 6;             /* chars wholly inside the data */
	int e = emit(ctx, (const uint8_t *)enc + first, core_end - first);
	if (e < 0)
		return e;
	e = emit(ctx, (const uint8_t *)enc + first, n - first);
	if (e < 0)
		return e;
	while (n % 4)
		enc[n++] = '=';
	return emit(ctx, (const uint8_t *)enc + first, n - first);
}

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Unpadded base32 of buf; returns the number of characters. */
static size_t b32(const uint8_t *buf, size_t len, char *out)
{
	size_t o = 0;
	uint64_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | buf[i];
		for (bits += 8; bits >= 5; bits -= 5)
			out[o++] = B32[acc >> (bits - 5) & 31];
	}
	if (bits > 0)
		out[o++] = B32[acc << (5 - bits) & 31];
	return o;
}

/* The base32 characters that depend on the literal's bits only, the
 * literal preceded by `align` unknown bytes.  Only this core: it leaves at
 * most the bits of one byte at each end, and the table of forms is what
 * every probe of the stream pays for (base32 is rare beside base64). */
static int b32_core(const uint8_t *lit, size_t len, unsigned align, rx_form_fn emit, void *ctx)
{
	size_t blen = align + len;
	_cleanup_free_ uint8_t *buf = after_unknown(lit, len, align);
	_cleanup_free_ char *enc = malloc((blen + 4) / 5 * 8 + 1);
	if (!buf || !enc)
		return -ENOMEM;
	b32(buf, blen, enc);
	size_t first = (8 * align + 4) / 5, core_end = 8 * blen / 5;
	return emit(ctx, (const uint8_t *)enc + first, core_end - first);
}

static int hex_form(const uint8_t *lit, size_t len, const char *digits, rx_form_fn emit, void *ctx)
{
	_cleanup_free_ uint8_t *out = malloc(len * 2);
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = (uint8_t)digits[lit[i] >> 4];
		out[2 * i + 1] = (uint8_t)digits[lit[i] & 15];
	}
	return emit(ctx, out, len * 2);
}

static bool url_unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encoding: upper and lower case hex, each also in the form
 * variant with '+' for a space. */
static int url_forms(const uint8_t *lit, size_t len, rx_form_fn emit, void *ctx)
{
	_cleanup_free_ uint8_t *out = malloc(len * 3);
	if (!out)
		return -ENOMEM;
	static const char *const digits[] = { "0123456789ABCDEF", "0123456789abcdef" };
	for (int variant = 0; variant < 4; variant++) {
		const char *d = digits[variant & 1];
		bool plus = variant & 2;
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = lit[i];
			if (url_unreserved(c)) {
				out[o++] = c;
			} else if (plus && c == ' ') {
				out[o++] = '+';
			} else {
				out[o++] = '%';
				out[o++] = (uint8_t)d[c >> 4];
				out[o++] = (uint8_t)d[c & 15];
			}
		}
		int e = emit(ctx, out, o);
		if (e < 0)
			return e;
	}
	return 0;
}

/* Decode one UTF-8 sequence; returns its length or 0 when invalid. */
static size_t utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
	if (len == 0 || len > n || p[0] > 0xF4)
		return 0;
	uint32_t v = p[0] & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static size_t put_u(uint8_t *out, uint32_t unit)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = '\\';
	out[1] = 'u';
	for (int i = 0; i < 4; i++)
		out[2 + i] = (uint8_t)hex[unit >> (12 - 4 * i) & 15];
	return 6;
}

/* JSON string escaping: plain, with "\/" for '/', and ASCII-only
 * (non-ASCII as \uXXXX, as Python's json.dumps does). */
static int json_forms(const uint8_t *lit, size_t len, rx_form_fn emit, void *ctx)
{
	_cleanup_free_ uint8_t *out = malloc(len * 12);
	if (!out)
		return -ENOMEM;
	for (int variant = 0; variant < 3; variant++) {
		size_t o = 0;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = lit[i];
			const char *esc = NULL;
			switch (c) {
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '/': esc = variant == 1 ? "\\/" : NULL; break;
			}
			uint32_t cp;
			size_t ul;
			if (esc) {
				memcpy(out + o, esc, 2);
				o += 2;
			} else if (c < 0x20 || c == 0x7F) {
				o += put_u(out + o, c);
			} else if (variant == 2 && c >= 0x80 && (ul = utf8_decode(lit + i, len - i, &cp))) {
				if (cp >= 0x10000) {
					cp -= 0x10000;
					o += put_u(out + o, 0xD800 | cp >> 10);
					o += put_u(out + o, 0xDC00 | (cp & 0x3FF));
				} else {
					o += put_u(out + o, cp);
				}
				i += ul - 1;
			} else {
				out[o++] = c;
			}
		}
		int e = emit(ctx, out, o);
		if (e < 0)
			return e;
	}
	return 0;
}

int rx_literal_forms(const uint8_t *lit, size_t len, rx_form_fn emit, void *ctx)
{
	int e = emit(ctx, lit, len);
	if (e < 0)
		return e;
	if ((e = hex_form(lit, len, "0123456789abcdef", emit, ctx)) < 0 ||
	    (e = hex_form(lit, len, "0123456789ABCDEF", emit, ctx)) < 0)
		return e;
	for (unsigned align = 0; align < 3; align++)
		if ((e = b64_forms(lit, len, align, B64_STD, emit, ctx)) < 0 ||
		    (e = b64_forms(lit, len, align, B64_URL, emit, ctx)) < 0)
			return e;
	for (unsigned align = 0; align < 5; align++)
		if ((e = b32_core(lit, len, align, emit, ctx)) < 0)
			return e;
	if ((e = url_forms(lit, len, emit, ctx)) < 0)
		return e;
	return json_forms(lit, len, emit, ctx);
}
