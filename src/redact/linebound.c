/* Can a match of this regex contain a newline?  A conservative reading
 * of the regex text: anything not understood counts as "yes".  When no
 * rule can, a stream may release every byte up to the last newline it has
 * seen (a later match starts after it), instead of a whole window: an
 * interactive tool's line shows at once.  This is not a regex engine: it
 * only lists the constructs that could stand for a newline. */
#include <ctype.h>
#include <string.h>

#include "internal.h"

/* Escapes that never match a newline outside a class (\b \B \A \z \Z \G
 * are assertions; \d \w \S \t \r \f \a \e \h \N \V are classes or
 * characters without it). */
static bool safe_escape(char c)
{
	return strchr("bBAzZGdwStrfaehNV", c) != NULL || (!isalnum((unsigned char)c) && c != '\0');
}

/* The code of a class member that is a single character, or -1. */
static int member_code(const char *p, size_t *used)
{
	if (p[0] != '\\') {
		*used = 1;
		return (unsigned char)p[0];
	}
	*used = 2;
	switch (p[1]) {
	case 't': return '\t';
	case 'r': return '\r';
	case 'f': return '\f';
	case 'a': return 7;
	case 'e': return 27;
	case 'n': return '\n';
	}
	if (p[1] != '\0' && !isalnum((unsigned char)p[1]))
		return (unsigned char)p[1];
	return -1;
}

/* A class [...] starting at p (after '['); *end gets the byte after ']'.
 * Returns whether the class can match '\n'; unknown content: true. */
static bool class_has_newline(const char *p, const char **end)
{
	bool negated = *p == '^';
	if (negated)
		p++;
	bool has_nl = false, unknown = false, first = true;
	while (*p && (first || *p != ']')) {
		first = false;
		if (!strncmp(p, "[:space:]", 9) || !strncmp(p, "[:cntrl:]", 9)) {
			has_nl = true;
			p += 9;
			continue;
		}
		if (*p == '[') {   /* other POSIX classes: none holds '\n' except the above */
			const char *q = strstr(p, ":]");
			if (p[1] != ':' || !q || p[2] == '^') {
				unknown = true;
				p++;
				continue;
			}
			p = q + 2;
			continue;
		}
		if (*p == '\\' && p[1] && strchr("sv", p[1])) {
			has_nl = true;
			p += 2;
			continue;
		}
		if (*p == '\\' && p[1] && strchr("dwhSHNV", p[1])) {
			/* \S \N \V hold no newline; \d \w \h neither */
			p += 2;
			continue;
		}
		size_t used;
		int lo = member_code(p, &used);
		if (lo < 0) {
			unknown = true;
			p += p[1] ? 2 : 1;
			continue;
		}
		p += used;
		int hi = lo;
		if (*p == '-' && p[1] && p[1] != ']') {
			hi = member_code(p + 1, &used);
			p += 1 + used;
			if (hi < 0) {
				unknown = true;
				continue;
			}
		}
		if (lo <= '\n' && '\n' <= hi)
			has_nl = true;
	}
	*end = *p ? p + 1 : p;
	if (!*p)
		return true;   /* unterminated: let the engine complain */
	return negated ? !has_nl : (has_nl || unknown);
}

bool rx_regex_line_bounded(const char *rx)
{
	const char *p = rx;
	while (*p) {
		switch (*p) {
		case '\n':
			return false;
		case '\\':
			if (!safe_escape(p[1]))
				return false;   /* \s \n \v \W \D \H \x.. \Q.. \p{..}: may */
			p += 2;
			break;
		case '[':
			if (class_has_newline(p + 1, &p))
				return false;
			break;
		case '(':
			if (!strncmp(p, "(?#", 3)) {   /* a comment, e.g. (?#secret) */
				const char *q = strchr(p, ')');
				if (!q)
					return false;
				p = q + 1;
				break;
			}
			if (p[1] == '?') {
				/* inline flags: (?s) makes '.' match a newline */
				const char *q = p + 2;
				while (*q && *q != ')' && *q != ':') {
					if (*q == 's')
						return false;
					q++;
				}
			}
			p++;
			break;
		default:
			p++;
		}
	}
	return true;
}
