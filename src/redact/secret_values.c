/* The credential-like values of secret files, looked for in the content of
 * files a command reads: a file that holds one (in any form the redactor
 * knows: raw, hex, base64, base32, URL- or JSON-escaped; or in UTF-16)
 * holds that secret.
 *
 * Only values that look like credentials count, for a secret file's other
 * values ("development", a host name, a port) are in READMEs and configs
 * everywhere, and a file is refused whole.  A value counts when it has no
 * white space, is 8 to 4096 bytes, and
 *   - looks random: 16 bytes or more, letters and digits, and the kind of
 *     character (lower, upper, digit) changes at least once per 6 bytes
 *     (a random token changes about every other byte; a host name, a
 *     path, a word, a CamelCase name or a plain number hardly ever); or
 *   - stands under a key whose name says secret (token, secret, pass,
 *     pwd, auth, credential, private, signature, salt, cookie, a word
 *     "key") and mixes two kinds of character ("database" and "keycloak"
 *     do not count; "hunter2!" and "AKIA..." do), a path excepted;
 * a URL counts only when it carries a password or a random-looking part. */
#include <ctype.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { VALUE_RANDOM_MIN = 16, CHANGE_EVERY = 6 };

struct sk_secret_values {
	uint8_t **forms;
	uint32_t *lens, *tags;
	size_t n, cap;
	size_t min_len;
	rx_litset *set;       /* built on the first find */
};

static int kind_of(unsigned char c)
{
	return islower(c) ? 1 : isupper(c) ? 2 : isdigit(c) ? 3 : 0;
}

static bool has_space(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)v[i]) || iscntrl((unsigned char)v[i]))
			return true;
	return false;
}

static bool random_looking(const char *v, size_t n)
{
	if (n < VALUE_RANDOM_MIN)
		return false;
	size_t changes = 0, letters = 0, digits = 0;
	int prev = 0;
	for (size_t i = 0; i < n; i++) {
		int k = kind_of((unsigned char)v[i]);
		changes += prev && k && k != prev;
		letters += k == 1 || k == 2;
		digits += k == 3;
		prev = k;
	}
	return letters && digits && changes * CHANGE_EVERY >= n;
}

static bool word_at(const char *k, size_t n, size_t at, size_t len)
{
	bool start = at == 0 || !isalnum((unsigned char)k[at - 1]) ||
		     (isupper((unsigned char)k[at]) && islower((unsigned char)k[at - 1]));
	size_t e = at + len;
	bool end = e == n || !isalpha((unsigned char)k[e]) || (k[e] == 's' && (e + 1 == n || !isalpha((unsigned char)k[e + 1]))) ||
		   (isupper((unsigned char)k[e]) && islower((unsigned char)k[e - 1]));
	return start && end;
}

static bool secret_named(const char *key, size_t n)
{
	static const char *const parts[] = { "secret", "token", "pass", "pwd", "auth", "credential", "private",
					     "signature", "salt", "cookie" };
	if (!key || n == 0 || n > 256)
		return false;
	char low[257];
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)key[i]);
	low[n] = '\0';
	for (size_t i = 0; i < SK_ARRAY_LEN(parts); i++)
		if (strstr(low, parts[i]))
			return true;
	for (const char *p = low; (p = strstr(p, "key")); p++)
		if (word_at(key, n, (size_t)(p - low), 3))
			return true;
	return false;
}

static bool mixes_kinds(const char *v, size_t n)
{
	bool seen[4] = { false };
	for (size_t i = 0; i < n; i++)
		seen[kind_of((unsigned char)v[i])] = true;
	return seen[1] + seen[2] + seen[3] >= 2;
}

/* A URL is a credential when it carries a password (user:pass@) or a
 * random-looking part (a webhook's path, a token in the query). */
static bool url_secret(const char *v, size_t n, const char *scheme_end)
{
	const char *auth = scheme_end + 3, *end = v + n;
	const char *host_end = auth;
	while (host_end < end && *host_end != '/' && *host_end != '?' && *host_end != '#')
		host_end++;
	const char *at = memchr(auth, '@', (size_t)(host_end - auth));
	if (at && memchr(auth, ':', (size_t)(at - auth)))
		return true;
	for (const char *p = auth; p < end;) {
		const char *q = p;
		while (q < end && (isalnum((unsigned char)*q) || *q == '_' || *q == '-'))
			q++;
		if (random_looking(p, (size_t)(q - p)))
			return true;
		p = q < end ? q + 1 : end;
	}
	return false;
}

bool sk_secret_value_like(const char *key, size_t key_len, const char *v, size_t n)
{
	if (n < SK_REDACT_LITERAL_MIN || n > SK_REDACT_LITERAL_MAX || has_space(v, n))
		return false;
	const char *scheme = memmem(v, n, "://", 3);
	if (scheme && scheme > v)
		return url_secret(v, n, scheme);
	if (random_looking(v, n))
		return true;
	bool path = v[0] == '/' || v[0] == '~' || (v[0] == '.' && (v[1] == '/' || v[1] == '.'));
	return !path && secret_named(key, key_len) && mixes_kinds(v, n);
}

int sk_secret_values_new(sk_secret_values **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void sk_secret_values_free(sk_secret_values *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->forms[i]);
	free(sv->forms);
	free(sv->lens);
	free(sv->tags);
	rx_litset_free(sv->set);
	free(sv);
}

struct add_ctx {
	sk_secret_values *sv;
	uint32_t tag;
	int added;
};

static int add_form(void *ctx, const uint8_t *form, size_t len)
{
	struct add_ctx *c = ctx;
	sk_secret_values *sv = c->sv;
	if (len < SK_REDACT_LITERAL_MIN)
		return 0;
	for (size_t i = 0; i < sv->n; i++)
		if (sv->lens[i] == len && !memcmp(sv->forms[i], form, len))
			return 0;
	if (sv->n == sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 32;
		uint8_t **f = realloc(sv->forms, cap * sizeof(*f));
		if (f)
			sv->forms = f;
		uint32_t *l = f ? realloc(sv->lens, cap * sizeof(*l)) : NULL;
		if (l)
			sv->lens = l;
		uint32_t *t = l ? realloc(sv->tags, cap * sizeof(*t)) : NULL;
		if (!t)
			return -ENOMEM;
		sv->tags = t;
		sv->cap = cap;
	}
	if (!(sv->forms[sv->n] = malloc(len)))
		return -ENOMEM;
	memcpy(sv->forms[sv->n], form, len);
	sv->lens[sv->n] = (uint32_t)len;
	sv->tags[sv->n++] = c->tag;
	if (!sv->min_len || len < sv->min_len)
		sv->min_len = len;
	return 0;
}

/* The value in UTF-16, little- and big-endian (a file a Windows tool
 * wrote holds every character as two bytes); a value of ASCII only, as a
 * credential is, is then each byte beside a zero. */
static int add_utf16_forms(struct add_ctx *c, const char *v, size_t n)
{
	uint8_t *w = malloc(2 * n);
	if (!w)
		return -ENOMEM;
	int e = 0;
	for (int big = 0; e == 0 && big < 2; big++) {
		for (size_t i = 0; i < n; i++) {
			w[2 * i + big] = (uint8_t)v[i];
			w[2 * i + !big] = 0;
		}
		e = add_form(c, w, 2 * n);
	}
	free(w);
	return e;
}

static bool ascii(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] >= 0x80)
			return false;
	return true;
}

static int add_value(void *ctx, const char *key, size_t key_len, const char *v, size_t n)
{
	struct add_ctx *c = ctx;
	if (!sk_secret_value_like(key, key_len, v, n))
		return 0;
	c->added++;
	int e = rx_literal_forms((const uint8_t *)v, n, add_form, c);
	return e < 0 || !ascii(v, n) ? e : add_utf16_forms(c, v, n);
}

int sk_secret_values_add_content(sk_secret_values *sv, const void *data, size_t len, uint32_t tag)
{
	struct add_ctx c = { .sv = sv, .tag = tag };
	if (sv->set) {
		rx_litset_free(sv->set);   /* rebuilt with the new forms on the next find */
		sv->set = NULL;
	}
	int e = rx_content_values(data, len, add_value, &c);
	return e < 0 ? e : c.added;
}

int sk_secret_values_add_value(sk_secret_values *sv, const char *key, size_t key_len, const void *value,
			       size_t len, uint32_t tag)
{
	struct add_ctx c = { .sv = sv, .tag = tag };
	if (sv->set) {
		rx_litset_free(sv->set);
		sv->set = NULL;
	}
	int e = add_value(&c, key, key_len, value, len);
	return e < 0 ? e : c.added;
}

void sk_secret_values_digest(const sk_secret_values *sv, unsigned char out[32])
{
	crypto_hash_sha256_state h;
	crypto_hash_sha256_init(&h);
	for (size_t i = 0; sv && i < sv->n; i++) {
		uint32_t len = sv->lens[i];
		crypto_hash_sha256_update(&h, (const unsigned char *)&len, sizeof(len));
		crypto_hash_sha256_update(&h, sv->forms[i], len);
	}
	crypto_hash_sha256_final(&h, out);
}

size_t sk_secret_values_count(const sk_secret_values *sv)
{
	return sv ? sv->n : 0;
}

size_t sk_secret_values_min_len(const sk_secret_values *sv)
{
	return sv ? sv->min_len : 0;
}

struct find_ctx {
	const sk_secret_values *sv;
	const uint8_t *buf;
	size_t len;
	bool found;
	uint32_t tag;
};

static void on_candidate(void *ctx, uint32_t form, uint64_t start)
{
	struct find_ctx *c = ctx;
	uint32_t len, tag;
	const uint8_t *f = rx_litset_form(c->sv->set, form, &len, &tag);
	if (!c->found && start + len <= c->len && !memcmp(c->buf + start, f, len)) {
		c->found = true;
		c->tag = tag;
	}
}

int sk_secret_values_find(sk_secret_values *sv, const void *buf, size_t len, uint32_t *tag)
{
	if (!sv || !sv->n || len < sv->min_len)
		return 0;
	if (!sv->set) {
		int e = rx_litset_new(&sv->set, (const uint8_t *const *)sv->forms, sv->lens, sv->tags, sv->n);
		if (e < 0)
			return e;
	}
	struct find_ctx c = { .sv = sv, .buf = buf, .len = len };
	uint64_t next = 0;
	rx_litset_scan(sv->set, buf, 0, len, true, &next, on_candidate, &c);
	if (c.found)
		*tag = c.tag;
	return c.found;
}
