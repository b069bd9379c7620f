/* Compile the pattern rules: one streaming database that reports match
 * ends, one block database of the kept contexts (the part before
 * "(?#secret)") anchored at the match start, and per rule a block database
 * that reports the leftmost start of a match (see internal.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static int rule_error(sk_error *err, const rx_rule *r, const char *what, const char *msg)
{
	return sk_fail(err, EINVAL, "%s:%u: rule '%s'%s: %s", r->origin, r->line, r->name, what, msg);
}

static int widths(const rx_ruleset *rs, unsigned *max_width, sk_error *err)
{
	for (size_t i = 0; i < rs->n; i++) {
		hs_expr_info_t *info = NULL;
		hs_compile_error_t *ce = NULL;
		if (hs_expression_info(rs->v[i].regex, 0, &info, &ce) != HS_SUCCESS) {
			int e = rule_error(err, &rs->v[i], "", ce ? ce->message : "invalid");
			hs_free_compile_error(ce);
			return e;
		}
		max_width[i] = info->max_width;
		free(info);
	}
	return 0;
}

static int compile_stream(const rx_ruleset *rs, rx_patterns *p, sk_error *err)
{
	_cleanup_free_ const char **exprs = calloc(rs->n, sizeof(*exprs));
	_cleanup_free_ unsigned *flags = calloc(rs->n, sizeof(*flags));
	_cleanup_free_ unsigned *ids = calloc(rs->n, sizeof(*ids));
	if (!exprs || !flags || !ids)
		return -ENOMEM;
	for (size_t i = 0; i < rs->n; i++) {
		exprs[i] = rs->v[i].regex;
		ids[i] = (unsigned)i;
	}
	hs_compile_error_t *ce = NULL;
	if (hs_compile_multi(exprs, flags, ids, (unsigned)rs->n, HS_MODE_STREAM, NULL,
			     &p->stream_db, &ce) != HS_SUCCESS) {
		int e = ce && ce->expression >= 0
			? rule_error(err, &rs->v[ce->expression], "", ce->message)
			: sk_fail(err, EINVAL, "redaction rules: %s", ce ? ce->message : "cannot compile");
		hs_free_compile_error(ce);
		return e;
	}
	return 0;
}

static int compile_prefixes(const rx_ruleset *rs, rx_patterns *p, sk_error *err)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->n; i++)
		n += rs->v[i].prefix != NULL;
	if (n == 0)
		return 0;
	_cleanup_free_ char **exprs = calloc(n, sizeof(*exprs));
	_cleanup_free_ unsigned *flags = calloc(n, sizeof(*flags));
	_cleanup_free_ unsigned *ids = calloc(n, sizeof(*ids));
	if (!exprs || !flags || !ids)
		return -ENOMEM;
	int e = 0;
	size_t k = 0;
	for (size_t i = 0; i < rs->n && e == 0; i++) {
		if (!rs->v[i].prefix)
			continue;
		if (asprintf(&exprs[k], "\\A(?:%s)", rs->v[i].prefix) < 0) {
			exprs[k] = NULL;
			e = -ENOMEM;
			break;
		}
		ids[k++] = (unsigned)i;
	}
	hs_compile_error_t *ce = NULL;
	if (e == 0 && hs_compile_multi((const char *const *)exprs, flags, ids, (unsigned)n,
				       HS_MODE_BLOCK, NULL, &p->prefix_db, &ce) != HS_SUCCESS) {
		e = ce && ce->expression >= 0
			? rule_error(err, &rs->v[ids[ce->expression]], " (context before " RX_SECRET_MARK ")",
				     ce->message)
			: sk_fail(err, EINVAL, "redaction rules: %s", ce ? ce->message : "cannot compile");
		hs_free_compile_error(ce);
	}
	for (size_t i = 0; i < k; i++)
		free(exprs[i]);
	return e;
}

int rx_compile_som(const rx_rule *r, hs_database_t **out, sk_error *err)
{
	hs_compile_error_t *ce = NULL;
	if (hs_compile(r->regex, HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK, NULL, out, &ce) == HS_SUCCESS)
		return 0;
	int e = rule_error(err, r, " (start of match)", ce ? ce->message : "cannot compile");
	hs_free_compile_error(ce);
	return e;
}

/* Every rule's start-of-match database, serialized one after the other. */
static int compile_soms(const rx_ruleset *rs, rx_patterns *p, sk_error *err)
{
	size_t cap = 0, len = 0;
	for (size_t i = 0; i < rs->n; i++) {
		hs_database_t *db;
		char *bytes;
		size_t n;
		int e = rx_compile_som(&rs->v[i], &db, err);
		if (e < 0)
			return e;
		hs_error_t he = hs_serialize_database(db, &bytes, &n);
		hs_free_database(db);
		if (he != HS_SUCCESS)
			return -ENOMEM;
		if (len + n > cap) {
			cap = (len + n) * 2;
			uint8_t *b = realloc(p->som_blob, cap);
			if (!b) {
				free(bytes);
				return -ENOMEM;
			}
			p->som_blob = b;
		}
		memcpy(p->som_blob + len, bytes, n);
		free(bytes);
		p->som_off[i] = len;
		p->som_len[i] = n;
		len += n;
	}
	return 0;
}

int rx_patterns_compile(const rx_ruleset *rs, bool with_som, rx_patterns *p, sk_error *err)
{
	*p = (rx_patterns){ .n = rs->n, .som_fd = -1 };
	if (rs->n == 0)
		return 0;
	p->max_width = calloc(rs->n, sizeof(*p->max_width));
	p->som_off = calloc(rs->n, sizeof(*p->som_off));
	p->som_len = calloc(rs->n, sizeof(*p->som_len));
	if (!p->max_width || !p->som_off || !p->som_len) {
		rx_patterns_free(p);
		return -ENOMEM;
	}
	int e = widths(rs, p->max_width, err);
	if (e == 0)
		e = compile_stream(rs, p, err);
	if (e == 0)
		e = compile_prefixes(rs, p, err);
	if (e == 0 && with_som)
		e = compile_soms(rs, p, err);
	if (e < 0)
		rx_patterns_free(p);
	return e;
}
