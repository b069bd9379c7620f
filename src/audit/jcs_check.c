/* The verifier's fast path: decide in one pass over a log line, without
 * building a JSON tree, that it is exactly the RFC 8785 canonical form
 * (integers only) that sk_jcs_serialize() would print for it, and pick out
 * the top-level members verify needs.  It only ever says "yes" or "not
 * sure": anything unusual (escaped keys, deep nesting, a missing member)
 * returns 0 and verify takes the full path, which names the fault. */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal.h"

enum { MAX_DEPTH = 32, MAX_KEY = 256 };

typedef struct scan {
	const unsigned char *start, *p, *end;
	sk_fast_record *rec;
	bool have_hash, have_sig;   /* their spans are recorded */
} scan;

static bool is_lower_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int hexval(unsigned char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Length of a valid, shortest-form UTF-8 sequence at p (no surrogates), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* The first byte at or after p that needs a look: '"', '\\', a control
 * character or a non-ASCII byte.  Sixteen at a time where SSE2 is there
 * (a signed compare with 0x20 catches both controls and bytes >= 0x80). */
static const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)p);
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
					   _mm_cmplt_epi8(v, space));
		int mask = _mm_movemask_epi8(hit);
		if (mask)
			return p + __builtin_ctz((unsigned)mask);
		p += 16;
	}
#endif
	while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80)
		p++;
	return p;
}

/* A canonical string; *raw says it had no escapes (its bytes are its value). */
static bool scan_string(scan *s, const unsigned char **start, size_t *len, bool *raw)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	s->p++;
	*start = s->p;
	*raw = true;
	while (s->p < s->end) {
		s->p = skip_plain(s->p, s->end);
		if (s->p >= s->end)
			break;
		unsigned char c = *s->p;
		if (c == '"') {
			*len = (size_t)(s->p - *start);
			s->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			*raw = false;
			if (s->end - s->p < 2)
				return false;
			unsigned char e = s->p[1];
			if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
				s->p += 2;
				continue;
			}
			/* \u00xx only for the C0 controls without a short form */
			if (e != 'u' || s->end - s->p < 6 || s->p[2] != '0' || s->p[3] != '0' ||
			    !is_lower_hex(s->p[4]) || !is_lower_hex(s->p[5]))
				return false;
			int v = hexval(s->p[4]) * 16 + hexval(s->p[5]);
			if (v >= 0x20 || v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r')
				return false;
			s->p += 6;
			continue;
		}
		if (c < 0x80) {
			s->p++;
			continue;
		}
		size_t n = utf8_len(s->p, s->end);
		if (!n)
			return false;
		s->p += n;
	}
	return false;
}

/* A canonical integer within +-(2^53-1). */
static bool scan_number(scan *s, int64_t *out)
{
	bool neg = false;
	if (*s->p == '-') {
		neg = true;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return false;
	if (*s->p == '0') {
		s->p++;
		if (neg)
			return false;   /* "-0" prints as "0" */
		*out = 0;
		return s->p >= s->end || !(*s->p >= '0' && *s->p <= '9');
	}
	int64_t v = 0;
	int digits = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		if (++digits > 16)
			return false;
		v = v * 10 + (*s->p++ - '0');
	}
	if (v > SK_MAX_SAFE_INT)
		return false;
	*out = neg ? -v : v;
	return true;
}

static bool scan_literal(scan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n))
		return false;
	s->p += n;
	return true;
}

static bool scan_value(scan *s, int depth, const char *top_key);

/* Keep a top-level member verify needs (plain strings and integers only). */
static void keep_member(sk_fast_record *r, const char *key, const unsigned char *vstart, size_t vlen,
			bool is_str, bool raw, int64_t num, bool is_num)
{
	struct { const char *name; char *dst; size_t cap; } strs[] = {
		{ "type", r->type, sizeof(r->type) }, { "prev", r->prev, sizeof(r->prev) },
		{ "hash", r->hash, sizeof(r->hash) }, { "sig", r->sig, sizeof(r->sig) },
		{ "key_id", r->key_id, sizeof(r->key_id) },
	};
	if (is_str && raw) {
		for (size_t i = 0; i < SK_ARRAY_LEN(strs); i++)
			if (!strcmp(key, strs[i].name) && vlen < strs[i].cap) {
				memcpy(strs[i].dst, vstart, vlen);
				strs[i].dst[vlen] = '\0';
			}
		return;
	}
	if (!is_num)
		return;
	if (!strcmp(key, "v"))
		r->has_v = true, r->v = num;
	else if (!strcmp(key, "seq"))
		r->has_seq = true, r->seq = num;
	else if (!strcmp(key, "leaf"))
		r->has_leaf = true, r->leaf = num;
}

/* A top-level member [at, s->p) followed by a comma: note where "hash" and
 * "sig" are, comma included, for cutting the signed body out of the line. */
static void note_cut(scan *s, const char *key, const unsigned char *at)
{
	size_t from = (size_t)(at - s->start), to = (size_t)(s->p - s->start) + 1;
	if (!strcmp(key, "hash")) {
		s->rec->hash_at = from, s->rec->hash_end = to;
		s->have_hash = true;
	} else if (!strcmp(key, "sig")) {
		s->rec->sig_at = from, s->rec->sig_end = to;
		s->have_sig = true;
	}
}

static bool scan_object(scan *s, int depth)
{
	char prev_key[MAX_KEY + 1] = "", key[MAX_KEY + 1];
	bool first = true;
	s->p++;   /* '{' */
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return true;
	}
	for (;;) {
		const unsigned char *member = s->p;
		const unsigned char *ks;
		size_t klen;
		bool raw;
		if (!scan_string(s, &ks, &klen, &raw) || !raw || klen > MAX_KEY || memchr(ks, 0, klen))
			return false;   /* escaped keys: let the full path judge */
		memcpy(key, ks, klen);
		key[klen] = '\0';
		if (!first && sk_jcs_keycmp(prev_key, key) >= 0)
			return false;   /* out of order or duplicate */
		first = false;
		memcpy(prev_key, key, klen + 1);
		if (s->p >= s->end || *s->p++ != ':')
			return false;
		if (!scan_value(s, depth + 1, depth == 0 ? key : NULL))
			return false;
		if (s->p >= s->end)
			return false;
		if (*s->p == '}') {
			s->p++;
			return true;
		}
		if (*s->p != ',')
			return false;
		if (depth == 0)
			note_cut(s, key, member);
		s->p++;
	}
}

static bool scan_array(scan *s, int depth)
{
	s->p++;   /* '[' */
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return true;
	}
	for (;;) {
		if (!scan_value(s, depth + 1, NULL) || s->p >= s->end)
			return false;
		if (*s->p == ']') {
			s->p++;
			return true;
		}
		if (*s->p++ != ',')
			return false;
	}
}

static bool scan_value(scan *s, int depth, const char *top_key)
{
	if (s->p >= s->end || depth > MAX_DEPTH)
		return false;
	unsigned char c = *s->p;
	const unsigned char *vs;
	size_t vlen;
	bool raw;
	int64_t num;
	switch (c) {
	case '{': return scan_object(s, depth);
	case '[': return scan_array(s, depth);
	case '"':
		if (!scan_string(s, &vs, &vlen, &raw))
			return false;
		if (top_key)
			keep_member(s->rec, top_key, vs, vlen, true, raw, 0, false);
		return true;
	case 't': return scan_literal(s, "true");
	case 'f': return scan_literal(s, "false");
	case 'n': return scan_literal(s, "null");
	default:
		if (c != '-' && (c < '0' || c > '9'))
			return false;
		if (!scan_number(s, &num))
			return false;
		if (top_key)
			keep_member(s->rec, top_key, NULL, 0, false, false, num, true);
		return true;
	}
}

bool sk_jcs_fast_check(const char *line, size_t len, sk_fast_record *out)
{
	memset(out, 0, sizeof(*out));
	scan s = { .start = (const unsigned char *)line, .p = (const unsigned char *)line,
		   .end = (const unsigned char *)line + len, .rec = out };
	if (len < 2 || line[0] != '{')
		return false;
	if (!scan_object(&s, 0) || s.p != s.end)
		return false;
	out->has_cuts = s.have_hash && s.have_sig && out->hash_end <= out->sig_at;
	return true;
}
