/* Shell words for the agent hooks: quoting a command for `sh -c`, and
 * recognising the one shape of command line whose program is known before
 * it runs.  Pure. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hook.h"
#include "stockade/policy.h"

char *sk_shell_quote(const char *s)
{
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Characters that mean nothing to the shell outside quotes. */
static bool plain_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("_./:@%+,-=", c) != NULL;
}

/* One word at *p into out (at most strlen(cmd) bytes); advances *p. */
static int read_word(const char **p, char *out, bool first)
{
	const char *s = *p;
	char *o = out;
	while (*s && *s != ' ' && *s != '\t') {
		if (*s == '\'') {
			const char *end = strchr(s + 1, '\'');
			if (!end)
				return -EINVAL;
			memcpy(o, s + 1, (size_t)(end - s - 1));
			o += end - s - 1;
			s = end + 1;
		} else if (*s == '"') {
			for (s++; *s != '"'; s++) {
				if (!*s || *s == '$' || *s == '`' || *s == '\\')
					return -EINVAL;
				*o++ = *s;
			}
			s++;
		} else if (plain_char(*s) && !(first && *s == '=')) {
			*o++ = *s++;
		} else {
			return -EINVAL;
		}
	}
	*o = '\0';
	*p = s;
	return 0;
}

int sk_shell_simple_words(const char *cmd, char ***words)
{
	*words = NULL;
	size_t cap = 8, n = 0, len = strlen(cmd);
	char **v = calloc(cap + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	int r = 0;
	for (const char *p = cmd;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		char *w = malloc(len + 1);
		if (!w) {
			r = -ENOMEM;
			break;
		}
		if ((r = read_word(&p, w, n == 0)) < 0) {
			free(w);
			break;
		}
		if (n == cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof(*v));
			if (!nv) {
				free(w);
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap *= 2;
		}
		v[n++] = w;
		v[n] = NULL;
	}
	if (r == 0 && (n == 0 || !v[0][0]))
		r = -EINVAL;
	if (r < 0) {
		sk_strv_free(v);
		return r;
	}
	*words = v;
	return 0;
}
