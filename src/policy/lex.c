/* The lexer: one profile line into words.  Words are separated by blanks;
 * '#' at the start of a word begins a comment; "double quotes" hold blanks
 * (inside them \" and \\ are escapes, any other backslash is literal);
 * ${HOME} ${WORKSPACE} ${UID} expand everywhere, $$ is a literal '$'. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

struct lexer {
	sk_line *out;
	size_t len;          /* bytes used in out->buf */
	size_t word_start;   /* offset of the current word in out->buf */
	unsigned word_col;   /* column where the current word starts */
};

__attribute__((format(printf, 3, 4)))
static int fail(sk_line *l, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->msg, sizeof(l->msg), fmt, ap);
	va_end(ap);
	l->err_col = col;
	return -EINVAL;
}

static int put(struct lexer *lx, const char *s, size_t n, unsigned col)
{
	sk_line *l = lx->out;
	if (lx->len - lx->word_start + n > SK_LEX_MAX_WORD)
		return fail(l, lx->word_col ? lx->word_col : col, "word too long (more than %d bytes)", SK_LEX_MAX_WORD);
	if (lx->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 256;
		while (cap < lx->len + n + 1)
			cap *= 2;
		char *nb = realloc(l->buf, cap);
		if (!nb)
			return -ENOMEM;
		l->buf = nb;
		l->cap = cap;
	}
	memcpy(l->buf + lx->len, s, n);
	lx->len += n;
	return 0;
}

static const char *var_value(const sk_profile_vars *v, const char *name, size_t n)
{
	if (!v)
		return NULL;
	if (n == 4 && !memcmp(name, "HOME", 4))
		return v->home;
	if (n == 9 && !memcmp(name, "WORKSPACE", 9))
		return v->workspace;
	if (n == 3 && !memcmp(name, "UID", 3))
		return v->uid;
	return NULL;
}

static bool known_var(const char *name, size_t n)
{
	return (n == 4 && !memcmp(name, "HOME", 4)) || (n == 9 && !memcmp(name, "WORKSPACE", 9)) ||
	       (n == 3 && !memcmp(name, "UID", 3));
}

/* At line[*i] == '$': expand ${NAME} or $$, or copy a lone '$'. */
static int dollar(struct lexer *lx, const char *line, size_t len, size_t *i,
		  const sk_profile_vars *vars)
{
	unsigned col = (unsigned)*i + 1;
	if (*i + 1 < len && line[*i + 1] == '$') {
		*i += 2;
		return put(lx, "$", 1, col);
	}
	if (*i + 1 >= len || line[*i + 1] != '{') {
		*i += 1;
		return put(lx, "$", 1, col);
	}
	const char *name = line + *i + 2;
	const char *close = memchr(name, '}', len - (*i + 2));
	if (!close)
		return fail(lx->out, col, "unterminated ${ (variables are ${HOME}, ${WORKSPACE}, ${UID})");
	size_t n = (size_t)(close - name);
	char shown[40];
	snprintf(shown, sizeof(shown), "%.*s", (int)(n < 32 ? n : 32), name);
	if (!known_var(name, n))
		return fail(lx->out, col, "unknown variable ${%s} (known: HOME, WORKSPACE, UID)", shown);
	const char *val = var_value(vars, name, n);
	if (!val)
		return fail(lx->out, col, "variable ${%s} is not set here", shown);
	*i = (size_t)(close - line) + 1;
	return put(lx, val, strlen(val), col);
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static int end_word(struct lexer *lx, unsigned col, bool quoted)
{
	sk_line *l = lx->out;
	if (l->n == SK_LEX_MAX_WORDS)
		return fail(l, col, "too many words on one line (at most %d)", SK_LEX_MAX_WORDS);
	int r = put(lx, "", 1, col);   /* the NUL */
	if (r < 0)
		return r;
	/* Store the offset for now: buf may still move. */
	l->w[l->n].text = (const char *)(uintptr_t)lx->word_start;
	l->w[l->n].col = col;
	l->w[l->n].quoted = quoted;
	l->n++;
	lx->word_start = lx->len;
	return 0;
}

static int quoted_word(struct lexer *lx, const char *line, size_t len, size_t *i,
		       const sk_profile_vars *vars)
{
	unsigned col = (unsigned)*i + 1;
	size_t j = *i + 1;
	lx->word_col = col;
	for (;;) {
		if (j >= len)
			return fail(lx->out, col, "unterminated quote");
		char c = line[j];
		int r = 0;
		if (c == '"') {
			j++;
			break;
		} else if (c == '\\' && j + 1 < len && (line[j + 1] == '"' || line[j + 1] == '\\')) {
			r = put(lx, line + j + 1, 1, (unsigned)j + 1);
			j += 2;
		} else if (c == '$') {
			r = dollar(lx, line, len, &j, vars);
		} else {
			r = put(lx, &c, 1, (unsigned)j + 1);
			j++;
		}
		if (r < 0)
			return r;
	}
	if (j < len && !is_blank(line[j]))
		return fail(lx->out, (unsigned)j + 1, "a closing quote must end the word");
	*i = j;
	return end_word(lx, col, true);
}

static int plain_word(struct lexer *lx, const char *line, size_t len, size_t *i,
		      const sk_profile_vars *vars)
{
	unsigned col = (unsigned)*i + 1;
	size_t j = *i;
	lx->word_col = col;
	while (j < len && !is_blank(line[j])) {
		int r;
		if (line[j] == '"')
			return fail(lx->out, (unsigned)j + 1, "a quote may only start a word");
		if (line[j] == '$') {
			r = dollar(lx, line, len, &j, vars);
		} else {
			r = put(lx, line + j, 1, (unsigned)j + 1);
			j++;
		}
		if (r < 0)
			return r;
	}
	*i = j;
	return end_word(lx, col, false);
}

static int check_bytes(sk_line *l, const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			return fail(l, (unsigned)i + 1, "control character 0x%02x in the line", c);
		}
	}
	return 0;
}

int sk_lex_line(const char *line, size_t len, const sk_profile_vars *vars, sk_line *out)
{
	struct lexer lx = { .out = out };
	out->n = 0;
	out->msg[0] = '\0';
	out->err_col = 0;
	out->end_col = 1;
	int r = check_bytes(out, line, len);
	if (r < 0)
		return r;
	size_t i = 0;
	for (;;) {
		while (i < len && is_blank(line[i]))
			i++;
		if (i >= len || line[i] == '#')
			break;
		r = line[i] == '"' ? quoted_word(&lx, line, len, &i, vars)
				   : plain_word(&lx, line, len, &i, vars);
		if (r < 0)
			return r;
		out->end_col = (unsigned)i + 1;
	}
	for (size_t k = 0; k < out->n; k++)
		out->w[k].text = out->buf + (uintptr_t)out->w[k].text;
	return 0;
}

void sk_line_free(sk_line *l)
{
	free(l->buf);
	l->buf = NULL;
	l->cap = 0;
}

bool sk_word_needs_quotes(const char *s)
{
	if (!*s || *s == '#')
		return true;
	for (; *s; s++)
		if (is_blank(*s) || *s == '"' || *s == '\\' || *s == '#')
			return true;
	return false;
}
