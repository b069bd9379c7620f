/* Credentials in configuration files tools need: a CI checkout keeps its
 * token in the repository's .git/config (http.<url>.extraheader, or a
 * remote URL with the token in it), ~/.gitconfig can hold the same, and a
 * project's .npmrc, .yarnrc.yml or .pypirc a registry token.  The sandbox
 * shows these files - git and npm cannot work without them - so whatever
 * reads them could print the token in a form the redactor does not know (rev).
 * The sandbox gets a copy without the credentials instead; the values
 * taken out become redaction literals.  Pure text in, text out. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "git_config.h"
#include "stockade/util.h"

static int add_secret(sk_git_secrets *out, const char *v, size_t n)
{
	if (n == 0 || out->n >= SK_GIT_SECRETS_MAX)
		return 0;
	char *c = strndup(v, n);
	if (!c)
		return -ENOMEM;
	out->v[out->n++] = c;
	return 0;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	char *b = sk_grow(*buf, cap, *len + n + 1, 1);
	if (!b)
		return -ENOMEM;
	*buf = b;
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* A key whose value is a credential by its name (smtpPass, token, npm's
 * _auth and //host/:_authToken, yarn's npmAuthIdent, ...), or a header git
 * sends as it is (extraheader: "AUTHORIZATION: basic ..."). */
static bool secret_key(const char *k, size_t n)
{
	char low[256];
	if (n >= sizeof(low))
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	low[n] = '\0';
	return !strcmp(low, "extraheader") || strstr(low, "pass") || strstr(low, "token") || strstr(low, "secret") ||
	       strstr(low, "_auth") || strstr(low, "authident");
}

/* Copy [s, e) with the userinfo of every URL in it taken out and kept as a
 * secret: all of it for http(s) (a token is often the user name), only a
 * user:password pair for other schemes (ssh://git@host stays). */
static int strip_userinfo(const char *s, const char *e, char **buf, size_t *len, size_t *cap, sk_git_secrets *out,
			  bool *changed)
{
	int r = 0;
	while (r == 0 && s < e) {
		const char *sep = s;
		while (sep + 3 <= e && memcmp(sep, "://", 3))
			sep++;
		if (sep + 3 > e)
			break;
		const char *host = sep + 3, *at = NULL, *p = host;
		for (; p < e && *p != '/' && *p != '"' && !isspace((unsigned char)*p); p++)
			if (*p == '@')
				at = p;
		const char *scheme = sep;
		while (scheme > s && isalpha((unsigned char)scheme[-1]))
			scheme--;
		bool web = (sep - scheme == 4 && !strncasecmp(scheme, "http", 4)) ||
			   (sep - scheme == 5 && !strncasecmp(scheme, "https", 5));
		bool pair = at && memchr(host, ':', (size_t)(at - host));
		if (at && (web || pair)) {
			r = append(buf, len, cap, s, (size_t)(host - s));
			if (r == 0)
				r = add_secret(out, host, (size_t)(at - host));
			if (r == 0 && pair) {
				const char *colon = memchr(host, ':', (size_t)(at - host));
				r = add_secret(out, colon + 1, (size_t)(at - colon - 1));
			}
			*changed = true;
			s = at + 1;
		} else {
			r = append(buf, len, cap, s, (size_t)(host - s));
			s = host;
		}
	}
	return r ? r : append(buf, len, cap, s, (size_t)(e - s));
}

/* The decoded credential of an "AUTHORIZATION: basic BASE64" header, or of
 * a whole value in base64 (npm's _auth): the redactor then also matches it
 * wherever it appears in base64. */
static int add_basic(const char *v, size_t n, bool whole, sk_git_secrets *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = v, *e = v + n;
	if (!whole) {
		while (p + 5 < e && strncasecmp(p, "basic", 5))
			p++;
		if (p + 5 >= e)
			return 0;
		for (p += 5; p < e && isspace((unsigned char)*p); p++)
			;
	}
	char dec[512];
	size_t d = 0;
	unsigned acc = 0;
	int bits = 0;
	for (; p < e && *p != '=' && d < sizeof(dec); p++) {
		const char *c = memchr(b64, *p, 64);
		if (!c)
			return 0;
		acc = (acc << 6) | (unsigned)(c - b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			dec[d++] = (char)((acc >> bits) & 0xff);
		}
	}
	return add_secret(out, dec, d);
}

/* Where a line's key ends: before the first separator (one of seps), with
 * the blanks before it; NULL when the line has no key (a section header, a
 * comment, a list item). */
static const char *key_end(const char *k, const char *le, const char *seps, const char **sep)
{
	if (k >= le || *k == '[' || *k == '#' || *k == ';' || *k == '-')
		return NULL;
	const char *e = k;
	while (e < le && *e != '\n' && !strchr(seps, *e))
		e++;
	if (e >= le || *e == '\n' || e == k)
		return NULL;
	*sep = e;
	while (e > k && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return e > k ? e : NULL;
}

char *sk_config_sanitize(const char *text, size_t len, const char *seps, sk_git_secrets *out, int *err)
{
	char *buf = NULL;
	size_t blen = 0, cap = 0;
	bool changed = false;
	int r = 0;
	const char *p = text, *end = text + len;
	while (r == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl + 1 : end;
		const char *k = p, *sep = NULL, *ke;
		while (k < le && (*k == ' ' || *k == '\t'))
			k++;
		if ((ke = key_end(k, le, seps, &sep)) && secret_key(k, (size_t)(ke - k))) {
			/* key = value: keep the key, drop the value. */
			const char *v = sep + 1, *ve = nl ? nl : end;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v)
				v++, ve--;
			r = add_secret(out, v, (size_t)(ve - v));
			if (r == 0)
				r = add_basic(v, (size_t)(ve - v), ke - k >= 5 && !strncasecmp(ke - 5, "_auth", 5), out);
			if (r == 0)
				r = append(&buf, &blen, &cap, p, (size_t)(sep + 1 - p));
			if (r == 0)
				r = append(&buf, &blen, &cap, nl ? "\n" : "", nl ? 1 : 0);
			changed = true;
		} else {
			/* Section headers ([url "https://TOKEN@host/"]) and values. */
			r = strip_userinfo(p, le, &buf, &blen, &cap, out, &changed);
		}
		p = le;
	}
	if (r < 0 || !changed) {
		free(buf);
		*err = r;
		return NULL;
	}
	*err = 0;
	return buf;
}

char *sk_url_userinfo_strip(const char *s, sk_git_secrets *out, int *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	bool changed = false;
	int r = strip_userinfo(s, s + strlen(s), &buf, &len, &cap, out, &changed);
	if (r < 0 || !changed) {
		free(buf);
		*err = r;
		return NULL;
	}
	*err = 0;
	return buf;
}

char *sk_git_config_sanitize(const char *text, size_t len, sk_git_secrets *out, int *err)
{
	return sk_config_sanitize(text, len, "=", out, err);
}

void sk_git_secrets_free(sk_git_secrets *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
}
