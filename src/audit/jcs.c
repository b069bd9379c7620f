/* RFC 8785 (JSON Canonicalization Scheme) for jansson values, integers only.
 *
 * Object keys sort by UTF-16 code units; strings are escaped as ES
 * JSON.stringify does (only '"', '\\' and C0 controls, with the short forms
 * \b \t \n \f \r and lowercase \u00xx otherwise); numbers are integers within
 * +-(2^53-1), printed in decimal.  Reals are refused: receipts carry none. */
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static int buf_put(buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_putc(buf *b, char c) { return buf_put(b, &c, 1); }

/* Next code point of a valid UTF-8 string (jansson guarantees validity). */
static uint32_t utf8_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
	if (extra == 1)
		c &= 0x1F;
	else if (extra == 2)
		c &= 0x0F;
	else if (extra == 3)
		c &= 0x07;
	for (int i = 1; i <= extra && p[i]; i++)
		c = (c << 6) | (p[i] & 0x3F);
	*s = p + 1 + extra;
	return c;
}

/* The UTF-16 unit sequence of a code point, for ordering: supplementary
 * characters become a high surrogate (0xD800..0xDBFF). */
static void utf16_units(uint32_t c, uint16_t u[2], int *n)
{
	if (c < 0x10000) {
		u[0] = (uint16_t)c;
		*n = 1;
	} else {
		c -= 0x10000;
		u[0] = (uint16_t)(0xD800 + (c >> 10));
		u[1] = (uint16_t)(0xDC00 + (c & 0x3FF));
		*n = 2;
	}
}

int sk_jcs_keycmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
	uint16_t ua[2], ub[2];
	int na = 0, nb = 0, ia = 0, ib = 0;
	for (;;) {
		if (ia == na) {
			if (!*pa)
				na = 0;
			else
				utf16_units(utf8_next(&pa), ua, &na);
			ia = 0;
		}
		if (ib == nb) {
			if (!*pb)
				nb = 0;
			else
				utf16_units(utf8_next(&pb), ub, &nb);
			ib = 0;
		}
		if (na == 0 || nb == 0)
			return (na != 0) - (nb != 0);
		if (ua[ia] != ub[ib])
			return ua[ia] < ub[ib] ? -1 : 1;
		ia++;
		ib++;
	}
}

static int put_string(buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_putc(b, '"');
	size_t run = 0;   /* bytes copied verbatim in one go */
	for (size_t i = 0; r == 0 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\b')
			esc = "\\b";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\f')
			esc = "\\f";
		else if (c == '\r')
			esc = "\\r";
		else if (c < 0x20) {
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			esc = u;
		}
		if (!esc) {
			run++;
			continue;
		}
		r = buf_put(b, s + i - run, run);
		run = 0;
		if (r == 0)
			r = buf_put(b, esc, strlen(esc));
	}
	if (r == 0)
		r = buf_put(b, s + n - run, run);
	return r ? r : buf_putc(b, '"');
}

static int cmp_keys(const void *a, const void *b)
{
	return sk_jcs_keycmp(*(const char *const *)a, *(const char *const *)b);
}

static int put_value(buf *b, const json_t *v, int depth, sk_error *err);

static int put_object(buf *b, const json_t *v, int depth, sk_error *err)
{
	size_t n = json_object_size(v), i = 0;
	_cleanup_free_ const char **keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return sk_fail(err, ENOMEM, "out of memory");
	const char *k;
	json_t *child;
	json_object_foreach((json_t *)v, k, child)
		keys[i++] = k;
	sk_sort(keys, n, sizeof(*keys), cmp_keys);
	int r = buf_putc(b, '{');
	for (i = 0; r == 0 && i < n; i++) {
		if (i)
			r = buf_putc(b, ',');
		if (r == 0)
			r = put_string(b, keys[i], strlen(keys[i]));
		if (r == 0)
			r = buf_putc(b, ':');
		if (r == 0)
			r = put_value(b, json_object_get(v, keys[i]), depth + 1, err);
	}
	return r ? r : buf_putc(b, '}');
}

static int put_value(buf *b, const json_t *v, int depth, sk_error *err)
{
	if (depth > 64)
		return sk_fail(err, EINVAL, "JSON nested deeper than 64 levels");
	switch (json_typeof(v)) {
	case JSON_NULL:
		return buf_put(b, "null", 4);
	case JSON_TRUE:
		return buf_put(b, "true", 4);
	case JSON_FALSE:
		return buf_put(b, "false", 5);
	case JSON_STRING:
		return put_string(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER: {
		json_int_t x = json_integer_value(v);
		if (x > SK_MAX_SAFE_INT || x < -SK_MAX_SAFE_INT)
			return sk_fail(err, EINVAL, "integer %" JSON_INTEGER_FORMAT
				       " is outside +-(2^53-1) and has no exact canonical form", x);
		char num[32];
		int len = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, x);
		return buf_put(b, num, (size_t)len);
	}
	case JSON_REAL:
		return sk_fail(err, EINVAL, "a real number (%g) has no place in a receipt: integers only",
			       json_real_value(v));
	case JSON_ARRAY: {
		int r = buf_putc(b, '[');
		for (size_t i = 0; r == 0 && i < json_array_size(v); i++) {
			if (i)
				r = buf_putc(b, ',');
			if (r == 0)
				r = put_value(b, json_array_get(v, i), depth + 1, err);
		}
		return r ? r : buf_putc(b, ']');
	}
	case JSON_OBJECT:
		return put_object(b, v, depth, err);
	}
	return sk_fail(err, EINVAL, "unknown JSON type");
}

int sk_jcs_serialize(const json_t *v, char **out, size_t *len, sk_error *err)
{
	buf b = { 0 };
	if (!v)
		return sk_fail(err, EINVAL, "no JSON value to canonicalize");
	int r = put_value(&b, v, 0, err);
	if (r < 0) {
		free(b.p);
		if (r == -ENOMEM)
			return sk_fail(err, ENOMEM, "out of memory canonicalizing JSON");
		return r;
	}
	if (!b.p && buf_put(&b, "", 0) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	*out = b.p;
	if (len)
		*len = b.len;
	return 0;
}
