/* The signed bytes of a canonical line: the line with its top-level "hash"
 * and "sig" members removed.  Cutting them out of the text is exact because
 * the line is canonical (checked separately) and removing members from a
 * canonical object leaves the canonical form of the smaller object. */
#include <string.h>

#include "stockade/audit.h"

static bool is_seal_key(const char *p, size_t left)
{
	return (left >= 7 && !memcmp(p, "\"hash\":", 7)) || (left >= 6 && !memcmp(p, "\"sig\":", 6));
}

ssize_t sk_audit_body_of(const char *line, size_t len, char *out)
{
	if (len < 2 || line[0] != '{' || line[len - 1] != '}')
		return -EBADMSG;
	size_t o = 0, start = 1;
	int depth = 0;
	bool in_str = false, esc = false, first = true;
	out[o++] = '{';
	for (size_t i = 1; i < len; i++) {
		char c = line[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		} else if ((c == ',' || c == '}') && depth == 0) {
			/* A whole top-level member is line[start, i). */
			if (i > start && !is_seal_key(line + start, i - start)) {
				if (!first)
					out[o++] = ',';
				memcpy(out + o, line + start, i - start);
				o += i - start;
				first = false;
			}
			start = i + 1;
			if (c == '}' && i != len - 1)
				return -EBADMSG;
		}
	}
	if (in_str || depth != 0)
		return -EBADMSG;
	out[o++] = '}';
	out[o] = '\0';
	return (ssize_t)o;
}
