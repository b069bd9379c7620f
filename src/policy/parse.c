/* The profile parser's driver: lines, includes, errors, the result.
 * Directive handlers are in directives.c.  No I/O: includes arrive through
 * the caller's loader. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int sk_parse_error(sk_parser *ps, unsigned col, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sk_fail(ps->err, EINVAL, "%s:%u:%u: %s", ps->path, ps->lineno, col, msg);
}

void sk_profile_text_clear(sk_profile_text *t)
{
	free(t->path);
	free(t->key);
	free(t->text);
	*t = (sk_profile_text){ 0 };
}

void sk_profile_free(sk_profile *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p->idents);
	sk_arena_free(p->arena);
	free(p);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

static int parse_line(sk_parser *ps, const char *line, size_t len)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	int r = sk_lex_line(line, len, ps->vars, &ps->line);
	if (r == -ENOMEM)
		return sk_fail(ps->err, ENOMEM, "%s:%u: out of memory", ps->path, ps->lineno);
	if (r < 0)
		return sk_parse_error(ps, ps->line.err_col, "%s", ps->line.msg);
	if (ps->line.n == 0)
		return 0;
	return sk_parse_directive(ps, &ps->line);
}

int sk_parse_source(sk_parser *ps, const char *path, const char *key, const char *text, size_t len)
{
	const char *saved_path = ps->path, *saved_name = ps->name;
	unsigned saved_line = ps->lineno;
	int r = 0;
	ps->path = sk_arena_strdup(ps->p->arena, path);
	if (!ps->path) {
		ps->path = saved_path;
		return sk_fail(ps->err, ENOMEM, "out of memory");
	}
	ps->name = base_name(ps->path);
	ps->lineno = 0;
	ps->keys[ps->depth] = key;
	if (len > SK_PROFILE_MAX_BYTES) {
		r = sk_fail(ps->err, EFBIG, "%s: larger than %d bytes", path, SK_PROFILE_MAX_BYTES);
		goto out;
	}
	for (size_t pos = 0; pos < len || (pos == 0 && len == 0); ) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		ps->lineno++;
		if ((r = parse_line(ps, text + pos, end - pos)) < 0)
			goto out;
		pos = end + 1;
		if (!nl)
			break;
	}
out:
	ps->keys[ps->depth] = NULL;
	if (r == 0) {   /* an error keeps the innermost location */
		ps->path = saved_path;
		ps->name = saved_name;
		ps->lineno = saved_line;
	}
	return r;
}

static void set_builtin_defaults(sk_profile *p)
{
	p->net = (sk_setting){ SK_NETP_NONE, SK_BUILTIN_ID };
	p->file_default = (sk_setting){ SK_FILE_HIDDEN, SK_BUILTIN_ID };
	p->env_default = (sk_setting){ SK_ENV_PASS, SK_BUILTIN_ID };
	p->command_default = (sk_setting){ SK_ACTION_ALLOW, SK_BUILTIN_ID };
	p->chain = (sk_setting){ 3, SK_BUILTIN_ID };
}

int sk_profile_parse_keyed(const char *path, const char *key, const char *text, size_t len,
			   const sk_profile_vars *vars, sk_profile_loader load, void *ctx,
			   sk_profile **out, sk_error *err)
{
	sk_error local_err;
	if (!err)
		err = &local_err;
	*out = NULL;
	_cleanup_profile_ sk_profile *p = calloc(1, sizeof(*p));
	if (!p || !(p->arena = sk_arena_new()))
		return sk_fail(err, ENOMEM, "out of memory");
	set_builtin_defaults(p);
	p->source = sk_arena_strdup(p->arena, path);
	p->name = p->source ? sk_arena_strdup(p->arena, base_name(p->source)) : NULL;
	if (!p->name)
		return sk_fail(err, ENOMEM, "out of memory");
	if (vars && vars->home && !(p->home = sk_arena_strdup(p->arena, vars->home)))
		return sk_fail(err, ENOMEM, "out of memory");
	if (vars && vars->workspace && !(p->workspace = sk_arena_strdup(p->arena, vars->workspace)))
		return sk_fail(err, ENOMEM, "out of memory");
	sk_parser ps = { .p = p, .vars = vars, .load = load, .ctx = ctx, .err = err };
	int r = sk_parse_source(&ps, path, key, text, len);
	sk_line_free(&ps.line);
	if (r < 0)
		return r;
	*out = sk_steal_ptr(p);
	return 0;
}

int sk_profile_parse_text(const char *path, const char *text, size_t len,
			  const sk_profile_vars *vars, sk_profile_loader load, void *ctx,
			  sk_profile **out, sk_error *err)
{
	return sk_profile_parse_keyed(path, NULL, text, len, vars, load, ctx, out, err);
}
