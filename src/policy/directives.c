/* One handler per profile key.  Each checks its words, reports the first
 * problem at its column, and adds a rule or changes a setting. */
#include <ctype.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Trailing options a rule may carry. */
enum { OPT_ESCALATE = 1, OPT_PRESENCE = 2, OPT_ID = 4 };

typedef struct options {
	bool escalate, optional, required;
	const char *id;   /* arena */
} options;

static int expect_words(sk_parser *ps, const sk_line *l, size_t n, const char *what)
{
	if (l->n < n)
		return sk_parse_error(ps, l->end_col, "expected %s after '%s'", what, l->w[l->n - 1].text);
	return 0;
}

static int parse_options(sk_parser *ps, const sk_line *l, size_t first, unsigned allowed, options *o)
{
	*o = (options){ 0 };
	for (size_t i = first; i < l->n; i++) {
		const sk_word *w = &l->w[i];
		if ((allowed & OPT_ESCALATE) && !strcmp(w->text, "escalate")) {
			o->escalate = true;
		} else if ((allowed & OPT_PRESENCE) && !strcmp(w->text, "optional")) {
			o->optional = true;
		} else if ((allowed & OPT_PRESENCE) && !strcmp(w->text, "required")) {
			o->required = true;
		} else if ((allowed & OPT_ID) && !strncmp(w->text, "id=", 3) && w->text[3]) {
			if (!(o->id = sk_arena_strdup(ps->p->arena, w->text + 3)))
				return sk_fail(ps->err, ENOMEM, "out of memory");
		} else {
			const char *what = allowed & OPT_ESCALATE ? "escalate, " : "";
			const char *pres = allowed & OPT_PRESENCE ? "optional, required, " : "";
			return sk_parse_error(ps, w->col, "unexpected '%s' (options here: %s%sid=ID)",
					      w->text, what, pres);
		}
	}
	if (o->optional && o->required)
		return sk_parse_error(ps, l->w[first].col, "a rule cannot be both optional and required");
	return 0;
}

static const char *line_id(sk_parser *ps, const options *o)
{
	if (o->id)
		return o->id;
	char buf[300];
	snprintf(buf, sizeof(buf), "%s:%u", ps->name, ps->lineno);
	return sk_arena_strdup(ps->p->arena, buf);
}

static sk_rule *add_rule(sk_parser *ps, sk_class cls, int action, const char *arg, const options *o)
{
	sk_profile *p = ps->p;
	if (p->n_rules >= SK_PROFILE_MAX_RULES) {
		sk_parse_error(ps, 1, "more than %d rules", SK_PROFILE_MAX_RULES);
		return NULL;
	}
	if (p->n_rules == ps->rules_cap) {
		size_t cap = ps->rules_cap ? ps->rules_cap * 2 : 64;
		sk_rule *nr = realloc(p->rules, cap * sizeof(*nr));
		if (!nr)
			goto oom;
		p->rules = nr;
		ps->rules_cap = cap;
	}
	sk_rule *r = &p->rules[p->n_rules];
	*r = (sk_rule){ .cls = cls, .action = action, .escalate = o->escalate,
			.required = o->required };
	r->id = (char *)line_id(ps, o);
	r->arg = sk_arena_strdup(p->arena, arg);
	if (!r->id || !r->arg)
		goto oom;
	p->n_rules++;
	return r;
oom:
	sk_fail(ps->err, ENOMEM, "out of memory");
	return NULL;
}

static int set_setting(sk_parser *ps, sk_setting *s, int value, const options *o)
{
	const char *id = line_id(ps, o);
	if (!id)
		return sk_fail(ps->err, ENOMEM, "out of memory");
	*s = (sk_setting){ value, id };
	return 0;
}

/* Index of word in a NULL-terminated list, or -1. */
static int lookup(const char *word, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(word, names[i]))
			return i;
	return -1;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Absolute paths are cleaned (no '//', no trailing '/'); '.' and '..' are
 * refused because a prefix rule on such a spelling would not mean what it
 * says.  A word without '/' is a name pattern. */
static int check_path(sk_parser *ps, const sk_word *w, char *clean, sk_path_kind *kind)
{
	const char *s = w->text;
	if (!*s)
		return sk_parse_error(ps, w->col, "empty path");
	if (!strchr(s, '/')) {
		if (!strcmp(s, ".") || !strcmp(s, ".."))
			return sk_parse_error(ps, w->col, "'%s' is not a name pattern", s);
		strcpy(clean, s);
		*kind = SK_PATH_NAME;
		return 0;
	}
	if (s[0] != '/')
		return sk_parse_error(ps, w->col, "path '%s' must be absolute (or a bare name pattern without '/')", s);
	size_t o = 0;
	for (const char *c = s; *c; ) {
		while (*c == '/')
			c++;
		if (!*c)
			break;
		const char *end = strchrnul(c, '/');
		size_t n = (size_t)(end - c);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return sk_parse_error(ps, w->col, "path '%s' must not contain '.' or '..' components", s);
		clean[o++] = '/';
		memcpy(clean + o, c, n);
		o += n;
		c = end;
	}
	if (o == 0)
		clean[o++] = '/';
	clean[o] = '\0';
	*kind = has_glob(clean) ? SK_PATH_GLOB : SK_PATH_PREFIX;
	return 0;
}

static int path_rule(sk_parser *ps, const sk_line *l, sk_class cls, int action, bool may_escalate,
		     unsigned allowed)
{
	int r = expect_words(ps, l, 3, "a path");
	if (r < 0)
		return r;
	char clean[SK_LEX_MAX_WORD + 2];
	sk_path_kind kind = SK_PATH_PREFIX;
	if ((r = check_path(ps, &l->w[2], clean, &kind)) < 0)
		return r;
	options o;
	if ((r = parse_options(ps, l, 3, allowed | (may_escalate ? OPT_ESCALATE : 0), &o)) < 0)
		return r;
	sk_rule *rule = add_rule(ps, cls, action, clean, &o);
	if (!rule)
		return -ps->err->code;
	rule->path_kind = kind;
	return 0;
}

static const char *const file_actions[] = {
	[SK_FILE_READ_WRITE] = "read-write", [SK_FILE_TMPFS] = "tmpfs", [SK_FILE_READ_ONLY] = "read-only",
	[SK_FILE_HIDDEN] = "hidden", [SK_FILE_DENY] = "deny", [SK_FILE_SECRET] = "secret", NULL
};
static const char *const verdict_actions[] = { "allow", "deny", "escalate", NULL };

static int only_id(sk_parser *ps, const sk_line *l, size_t first, options *o)
{
	return parse_options(ps, l, first, OPT_ID, o);
}

static int file_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 2, "an action (read-only, read-write, tmpfs, hidden, deny, secret, default)");
	if (r < 0)
		return r;
	const sk_word *w = &l->w[1];
	if (!strcmp(w->text, "default")) {
		if ((r = expect_words(ps, l, 3, "read-write, read-only, hidden or deny")) < 0)
			return r;
		int a = lookup(l->w[2].text, file_actions);
		if (a != SK_FILE_READ_WRITE && a != SK_FILE_READ_ONLY && a != SK_FILE_HIDDEN && a != SK_FILE_DENY)
			return sk_parse_error(ps, l->w[2].col, "file default must be read-write, read-only, hidden or deny, not '%s'", l->w[2].text);
		options o;
		if ((r = only_id(ps, l, 3, &o)) < 0)
			return r;
		return set_setting(ps, &ps->p->file_default, a, &o);
	}
	int a = lookup(w->text, file_actions);
	if (a < 0)
		return sk_parse_error(ps, w->col, "unknown file action '%s' (read-only, read-write, tmpfs, hidden, deny, secret, default)", w->text);
	if ((r = path_rule(ps, l, SK_CLASS_FILE, a, a >= SK_FILE_HIDDEN, OPT_PRESENCE | OPT_ID)) < 0)
		return r;
	sk_rule *rule = &ps->p->rules[ps->p->n_rules - 1];
	if (rule->path_kind != SK_PATH_PREFIX && (a == SK_FILE_TMPFS || rule->required))
		return sk_parse_error(ps, l->w[2].col, "%s needs a plain absolute path, not a pattern",
				      a == SK_FILE_TMPFS ? "tmpfs" : "required");
	return 0;
}

static bool valid_env_pattern(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_*?[]!", *s))
			return false;
	return true;
}

static int env_directive(sk_parser *ps, const sk_line *l)
{
	static const char *const env_actions[] = { "pass", "drop", "secret", NULL };
	int r = expect_words(ps, l, 3, "a variable name or pattern");
	if (r < 0)
		return r;
	options o;
	if (!strcmp(l->w[1].text, "default")) {
		int a = lookup(l->w[2].text, env_actions);
		if (a != SK_ENV_PASS && a != SK_ENV_DROP)
			return sk_parse_error(ps, l->w[2].col, "env default must be pass or drop, not '%s'", l->w[2].text);
		if ((r = only_id(ps, l, 3, &o)) < 0)
			return r;
		return set_setting(ps, &ps->p->env_default, a, &o);
	}
	int a = lookup(l->w[1].text, env_actions);
	if (a < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown env action '%s' (pass, drop, secret, default)", l->w[1].text);
	if (!valid_env_pattern(l->w[2].text))
		return sk_parse_error(ps, l->w[2].col, "bad variable name or pattern '%s' (letters, digits, _ and * ? [ ])", l->w[2].text);
	if ((r = parse_options(ps, l, 3, OPT_ID | (a != SK_ENV_PASS ? OPT_ESCALATE : 0), &o)) < 0)
		return r;
	sk_rule *rule = add_rule(ps, SK_CLASS_ENV, a, l->w[2].text, &o);
	if (!rule)
		return -ps->err->code;
	rule->path_kind = has_glob(rule->arg) ? SK_PATH_GLOB : SK_PATH_NAME;
	return 0;
}

static int net_directive(sk_parser *ps, const sk_line *l)
{
	static const char *const modes[] = { "none", "loopback", "host", NULL };
	int r = expect_words(ps, l, 2, "none, loopback, host, allow, deny or escalate");
	if (r < 0)
		return r;
	options o;
	int mode = lookup(l->w[1].text, modes);
	if (mode >= 0) {
		if ((r = only_id(ps, l, 2, &o)) < 0)
			return r;
		return set_setting(ps, &ps->p->net, mode, &o);
	}
	int a = lookup(l->w[1].text, verdict_actions);
	if (a < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown net action '%s' (none, loopback, host, allow, deny, escalate)", l->w[1].text);
	if ((r = expect_words(ps, l, 3, "ADDR:PORT")) < 0)
		return r;
	sk_net_match m;
	const char *e = sk_net_spec_parse(ps->p->arena, l->w[2].text, &m);
	if (e)
		return sk_parse_error(ps, l->w[2].col, "%s in '%s'", e, l->w[2].text);
	if ((r = parse_options(ps, l, 3, OPT_ID | (a == SK_ACTION_DENY ? OPT_ESCALATE : 0), &o)) < 0)
		return r;
	char spec[400];
	sk_net_spec_format(&m, spec, sizeof(spec));
	sk_rule *rule = add_rule(ps, SK_CLASS_NET, a, spec, &o);
	if (!rule)
		return -ps->err->code;
	rule->net = m;
	return 0;
}

static int syscall_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 3, "a syscall name");
	if (r < 0)
		return r;
	int a = lookup(l->w[1].text, verdict_actions);
	if (a < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown syscall action '%s' (allow, deny, escalate)", l->w[1].text);
	const sk_word *w = &l->w[2];
	if (strspn(w->text, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(w->text) ||
	    seccomp_syscall_resolve_name(w->text) == __NR_SCMP_ERROR)
		return sk_parse_error(ps, w->col, "unknown syscall '%s'", w->text);
	options o;
	if ((r = parse_options(ps, l, 3, OPT_ID | (a == SK_ACTION_DENY ? OPT_ESCALATE : 0), &o)) < 0)
		return r;
	return add_rule(ps, SK_CLASS_SYSCALL, a, w->text, &o) ? 0 : -ps->err->code;
}

static int command_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 3, "an executable");
	if (r < 0)
		return r;
	options o;
	if (!strcmp(l->w[1].text, "default")) {
		int a = lookup(l->w[2].text, verdict_actions);
		if (a < 0)
			return sk_parse_error(ps, l->w[2].col, "command default must be allow, deny or escalate, not '%s'", l->w[2].text);
		if ((r = only_id(ps, l, 3, &o)) < 0)
			return r;
		return set_setting(ps, &ps->p->command_default, a, &o);
	}
	int a = lookup(l->w[1].text, verdict_actions);
	if (a < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown command action '%s' (allow, deny, escalate, default)", l->w[1].text);
	return path_rule(ps, l, SK_CLASS_COMMAND, a, a == SK_ACTION_DENY, OPT_ID);
}

static int limit_directive(sk_parser *ps, const sk_line *l)
{
	static const char *const kinds[] = {
		[SK_LIMIT_TIMEOUT] = "timeout", [SK_LIMIT_MEMORY] = "memory", [SK_LIMIT_PIDS] = "pids",
		[SK_LIMIT_CPU] = "cpu", [SK_LIMIT_OUTPUT] = "output", [SK_LIMIT_NOFILE] = "nofile", NULL
	};
	int r = expect_words(ps, l, 2, "timeout, memory, pids, cpu, output or nofile");
	if (r < 0)
		return r;
	int k = lookup(l->w[1].text, kinds);
	if (k < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown limit '%s' (timeout, memory, pids, cpu, output, nofile)", l->w[1].text);
	if ((r = expect_words(ps, l, 3, "a value")) < 0)
		return r;
	const sk_word *w = &l->w[2];
	uint64_t v;
	switch (k) {
	case SK_LIMIT_TIMEOUT:
		r = sk_parse_duration_ms(w->text, &v);
		break;
	case SK_LIMIT_CPU:
		r = sk_parse_duration_ms(w->text, &v);
		v = v / 1000 + (v % 1000 != 0);   /* whole seconds, rounded up */
		break;
	case SK_LIMIT_MEMORY:
	case SK_LIMIT_OUTPUT:
		r = sk_parse_size(w->text, &v);
		break;
	default:
		r = sk_parse_u64(w->text, &v);
	}
	if (r < 0)
		return sk_parse_error(ps, w->col, "bad %s value '%s' (%s)", kinds[k], w->text,
				      k == SK_LIMIT_TIMEOUT || k == SK_LIMIT_CPU ? "a duration: 30, 1.5, 500ms, 2m, 1h"
				      : k == SK_LIMIT_MEMORY || k == SK_LIMIT_OUTPUT ? "a size: 4096, 64M, 2G" : "a number");
	options o;
	if ((r = only_id(ps, l, 3, &o)) < 0)
		return r;
	const char *id = line_id(ps, &o);
	if (!id)
		return sk_fail(ps->err, ENOMEM, "out of memory");
	ps->p->limits[k] = v;
	ps->p->limit_id[k] = id;
	return 0;
}

static int escalation_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 3, "chain N or class CLASS");
	if (r < 0)
		return r;
	options o;
	if ((r = only_id(ps, l, 3, &o)) < 0)
		return r;
	if (!strcmp(l->w[1].text, "chain")) {
		uint64_t n;
		if (sk_parse_u64(l->w[2].text, &n) < 0 || n > 1000000)
			return sk_parse_error(ps, l->w[2].col, "bad chain length '%s' (0 to 1000000; 0 = never)", l->w[2].text);
		return set_setting(ps, &ps->p->chain, (int)n, &o);
	}
	if (!strcmp(l->w[1].text, "class")) {
		for (int c = 0; c < SK_CLASS_N_DECIDING; c++)
			if (!strcmp(l->w[2].text, sk_class_name((sk_class)c))) {
				const char *id = line_id(ps, &o);
				if (!id)
					return sk_fail(ps->err, ENOMEM, "out of memory");
				ps->p->escalate_class[c] = true;
				ps->p->escalate_class_id[c] = id;
				return 0;
			}
		return sk_parse_error(ps, l->w[2].col, "unknown class '%s' (file, env, net, syscall, command)", l->w[2].text);
	}
	return sk_parse_error(ps, l->w[1].col, "unknown escalation setting '%s' (chain, class)", l->w[1].text);
}

static bool valid_pattern_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return false;
	return true;
}

static int redact_directive(sk_parser *ps, const sk_line *l)
{
	static const char *const ops[] = {
		[SK_REDACT_PATTERN] = "pattern", [SK_REDACT_DISABLE] = "disable",
		[SK_REDACT_LITERAL_FILE] = "literal-file", NULL
	};
	int r = expect_words(ps, l, 2, "pattern, disable or literal-file");
	if (r < 0)
		return r;
	int op = lookup(l->w[1].text, ops);
	if (op < 0)
		return sk_parse_error(ps, l->w[1].col, "unknown redact rule '%s' (pattern, disable, literal-file)", l->w[1].text);
	if (op == SK_REDACT_LITERAL_FILE) {
		if ((r = path_rule(ps, l, SK_CLASS_REDACT, op, false, OPT_ID)) < 0)
			return r;
		if (ps->p->rules[ps->p->n_rules - 1].path_kind != SK_PATH_PREFIX)
			return sk_parse_error(ps, l->w[2].col, "literal-file needs an absolute path");
		return 0;
	}
	if ((r = expect_words(ps, l, 3, "a pattern name")) < 0)
		return r;
	if (!valid_pattern_name(l->w[2].text))
		return sk_parse_error(ps, l->w[2].col, "bad pattern name '%s' (letters, digits, _ . -)", l->w[2].text);
	size_t first_opt = 3;
	const char *expr = NULL;
	if (op == SK_REDACT_PATTERN && l->n > 3 && (l->w[3].quoted || strncmp(l->w[3].text, "id=", 3))) {
		expr = l->w[3].text;
		if (!*expr)
			return sk_parse_error(ps, l->w[3].col, "empty pattern expression");
		first_opt = 4;
	}
	options o;
	if ((r = only_id(ps, l, first_opt, &o)) < 0)
		return r;
	sk_rule *rule = add_rule(ps, SK_CLASS_REDACT, op, l->w[2].text, &o);
	if (!rule)
		return -ps->err->code;
	if (expr && !(rule->arg2 = sk_arena_strdup(ps->p->arena, expr)))
		return sk_fail(ps->err, ENOMEM, "out of memory");
	return 0;
}

static int version_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 2, "a version");
	if (r < 0)
		return r;
	if (strcmp(l->w[1].text, "1"))
		return sk_parse_error(ps, l->w[1].col, "unsupported profile version '%s' (this stockade reads 1)", l->w[1].text);
	if (l->n > 2)
		return sk_parse_error(ps, l->w[2].col, "unexpected '%s'", l->w[2].text);
	return 0;
}

static int include_directive(sk_parser *ps, const sk_line *l)
{
	int r = expect_words(ps, l, 2, "a profile name or path");
	if (r < 0)
		return r;
	if (l->n > 2)
		return sk_parse_error(ps, l->w[2].col, "unexpected '%s' (include takes one name or path)", l->w[2].text);
	const sk_word *w = &l->w[1];
	if (!ps->load)
		return sk_parse_error(ps, w->col, "include '%s': includes are not available here", w->text);
	if (ps->depth >= SK_PROFILE_MAX_INCLUDE_DEPTH)
		return sk_parse_error(ps, w->col, "include '%s': includes nested deeper than %d", w->text, SK_PROFILE_MAX_INCLUDE_DEPTH);
	if (++ps->includes > SK_PROFILE_MAX_INCLUDES)
		return sk_parse_error(ps, w->col, "include '%s': more than %d includes in all", w->text, SK_PROFILE_MAX_INCLUDES);
	sk_profile_text t = { 0 };
	sk_error lerr = { 0 };
	r = ps->load(ps->ctx, ps->path, w->text, &t, &lerr);
	if (r < 0) {
		sk_profile_text_clear(&t);
		return sk_parse_error(ps, w->col, "include '%s': %s", w->text, lerr.msg[0] ? lerr.msg : "cannot load");
	}
	for (unsigned d = 0; d <= ps->depth; d++)
		if (t.key && ps->keys[d] && !strcmp(t.key, ps->keys[d])) {
			r = sk_parse_error(ps, w->col, "include '%s': include cycle (%s is already being read)", w->text, t.path ? t.path : w->text);
			sk_profile_text_clear(&t);
			return r;
		}
	ps->depth++;
	r = sk_parse_source(ps, t.path ? t.path : w->text, t.key, t.text ? t.text : "", t.text ? t.len : 0);
	ps->depth--;
	sk_profile_text_clear(&t);
	return r;
}

int sk_parse_directive(sk_parser *ps, const sk_line *l)
{
	static const struct {
		const char *key;
		int (*fn)(sk_parser *, const sk_line *);
	} keys[] = {
		{ "file", file_directive }, { "env", env_directive }, { "net", net_directive },
		{ "syscall", syscall_directive }, { "command", command_directive },
		{ "limit", limit_directive }, { "escalation", escalation_directive },
		{ "redact", redact_directive }, { "include", include_directive },
		{ "stockade-profile", version_directive },
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(keys); i++)
		if (!strcmp(l->w[0].text, keys[i].key))
			return keys[i].fn(ps, l);
	return sk_parse_error(ps, l->w[0].col, "unknown key '%s' (file, env, net, syscall, command, limit, escalation, redact, include)", l->w[0].text);
}
