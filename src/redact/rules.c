/* The rules file: one rule per line, parsed into an rx_ruleset.
 *
 *   # comment
 *   window  N                 minimum hold-back window in bytes
 *   pattern NAME REGEX        a match of REGEX is replaced
 *   begin   NAME REGEX        a match opens a block (e.g. a private key) ...
 *   end     NAME REGEX        ... that ends with a match of this one
 *
 * REGEX is the rest of the line (Vectorscan syntax, inline flags such as
 * (?i) allowed).  "(?#secret)" in a pattern marks where the secret starts:
 * what comes before it is context kept in the output. */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "internal.h"

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > 64 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':')
			return false;
	}
	return true;
}

static int push_rule(rx_ruleset *rs, rx_rule *r)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		rx_rule *v = realloc(rs->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return 0;
}

static void free_rule(rx_rule *r)
{
	free(r->name);
	free(r->regex);
	free(r->prefix);
	free(r->origin);
}

static const rx_rule *find_rule(const rx_ruleset *rs, const char *name, enum rx_kind kind)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].kind == kind && !strcmp(rs->v[i].name, name))
			return &rs->v[i];
	return NULL;
}

/* Split "word rest" at the first run of blanks. */
static const char *next_word(const char *p, const char *end, size_t *wlen)
{
	const char *w = p;
	while (p < end && !isspace((unsigned char)*p))
		p++;
	*wlen = (size_t)(p - w);
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

static int parse_rule(rx_ruleset *rs, enum rx_kind kind, const char *p, const char *end,
		      const char *origin, unsigned line, sk_error *err)
{
	size_t nlen;
	const char *name = p;
	p = next_word(p, end, &nlen);
	if (!valid_name(name, nlen))
		return sk_fail(err, EINVAL, "%s:%u: a rule needs a name of letters, digits, '-', '_', '.', ':' "
			       "(at most 64)", origin, line);
	if (p >= end)
		return sk_fail(err, EINVAL, "%s:%u: rule '%.*s' has no regex", origin, line, (int)nlen, name);
	rx_rule r = { .kind = kind, .line = line, .max_width = UINT_MAX };
	r.name = strndup(name, nlen);
	r.regex = strndup(p, (size_t)(end - p));
	r.origin = strdup(origin);
	if (!r.name || !r.regex || !r.origin) {
		free_rule(&r);
		return -ENOMEM;
	}
	const rx_rule *dup = find_rule(rs, r.name, kind);
	if (dup) {
		int e = sk_fail(err, EINVAL, "%s:%u: rule '%s' is already defined at %s:%u",
				origin, line, r.name, dup->origin, dup->line);
		free_rule(&r);
		return e;
	}
	if (kind != RX_PATTERN && find_rule(rs, r.name, RX_PATTERN)) {
		int e = sk_fail(err, EINVAL, "%s:%u: '%s' is already a pattern rule", origin, line, r.name);
		free_rule(&r);
		return e;
	}
	const char *mark = strstr(r.regex, RX_SECRET_MARK);
	if (mark) {
		if (kind != RX_PATTERN || mark == r.regex || strstr(mark + 1, RX_SECRET_MARK)) {
			free_rule(&r);
			return sk_fail(err, EINVAL, "%s:%u: %s may appear once, after some context, "
				       "and only in a pattern rule", origin, line, RX_SECRET_MARK);
		}
		r.prefix = strndup(r.regex, (size_t)(mark - r.regex));
		if (!r.prefix) {
			free_rule(&r);
			return -ENOMEM;
		}
	}
	int e = push_rule(rs, &r);
	if (e < 0)
		free_rule(&r);
	return e;
}

static int parse_window(rx_ruleset *rs, const char *p, const char *end, const char *origin,
			unsigned line, sk_error *err)
{
	char num[32];
	size_t len = (size_t)(end - p);
	uint64_t v;
	if (len == 0 || len >= sizeof(num))
		return sk_fail(err, EINVAL, "%s:%u: window needs a size in bytes", origin, line);
	memcpy(num, p, len);
	num[len] = '\0';
	if (sk_parse_size(num, &v) < 0 || v == 0 || v > RX_WINDOW_MAX)
		return sk_fail(err, EINVAL, "%s:%u: window must be a size from 1 to %u bytes",
			       origin, line, RX_WINDOW_MAX);
	if (v > rs->window)
		rs->window = (size_t)v;
	return 0;
}

static int parse_line(rx_ruleset *rs, const char *p, const char *end, const char *origin,
		      unsigned line, sk_error *err)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end || *p == '#')
		return 0;
	size_t klen;
	const char *kw = p;
	p = next_word(p, end, &klen);
	static const struct { const char *word; enum rx_kind kind; } kinds[] = {
		{ "pattern", RX_PATTERN }, { "begin", RX_BEGIN }, { "end", RX_END },
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(kinds); i++)
		if (klen == strlen(kinds[i].word) && !memcmp(kw, kinds[i].word, klen))
			return parse_rule(rs, kinds[i].kind, p, end, origin, line, err);
	if (klen == 6 && !memcmp(kw, "window", 6))
		return parse_window(rs, p, end, origin, line, err);
	return sk_fail(err, EINVAL, "%s:%u: unknown keyword '%.*s' (expected pattern, begin, end "
		       "or window)", origin, line, (int)klen, kw);
}

int rx_rules_parse(rx_ruleset *rs, const char *text, size_t len, const char *origin,
		   sk_error *err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		line++;
		if (memchr(p, '\0', (size_t)(eol - p)))
			return sk_fail(err, EINVAL, "%s:%u: NUL byte in rules", origin, line);
		int e = parse_line(rs, p, eol, origin, line, err);
		if (e < 0)
			return e;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static bool listed_before(const char *const *first, const char *const *at)
{
	for (; first < at; first++)
		if (!strcmp(*first, *at))
			return true;
	return false;
}

int rx_rules_disable(rx_ruleset *rs, const char *const *names, sk_error *err)
{
	const char *const *first = names;
	for (; names && *names; names++) {
		if (listed_before(first, names))
			continue;
		size_t kept = 0;
		bool found = false;
		for (size_t i = 0; i < rs->n; i++) {
			if (!strcmp(rs->v[i].name, *names)) {
				found = true;
				free_rule(&rs->v[i]);
			} else {
				rs->v[kept++] = rs->v[i];
			}
		}
		rs->n = kept;
		if (!found)
			return sk_fail(err, EINVAL, "cannot disable redaction rule '%s': no such rule", *names);
	}
	return 0;
}

/* Every block needs both its begin and its end rule. */
int rx_rules_check_blocks(const rx_ruleset *rs, sk_error *err)
{
	for (size_t i = 0; i < rs->n; i++) {
		const rx_rule *r = &rs->v[i];
		if (r->kind == RX_PATTERN)
			continue;
		enum rx_kind other = r->kind == RX_BEGIN ? RX_END : RX_BEGIN;
		if (!find_rule(rs, r->name, other))
			return sk_fail(err, EINVAL, "%s:%u: block '%s' has no '%s' rule", r->origin,
				       r->line, r->name, other == RX_END ? "end" : "begin");
	}
	return 0;
}

void rx_rules_free(rx_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free_rule(&rs->v[i]);
	free(rs->v);
	*rs = (rx_ruleset){ 0 };
}
