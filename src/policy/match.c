/* Pure matching of paths, names and globs. */
#include <fnmatch.h>
#include <string.h>

#include "internal.h"

bool sk_path_beneath(const char *path, const char *prefix)
{
	if (!path || !prefix || path[0] != '/')
		return false;
	if (!strcmp(prefix, "/"))
		return true;
	size_t n = strlen(prefix);
	return !strncmp(path, prefix, n) && (path[n] == '\0' || path[n] == '/');
}

size_t sk_pattern_literal_chars(const char *pattern)
{
	size_t n = 0;
	for (; *pattern; pattern++)
		n += !strchr("*?[]", *pattern);
	return n;
}

bool sk_name_glob(const char *pattern, const char *name)
{
	return fnmatch(pattern, name, 0) == 0;
}

/* True when any '/'-separated component of path matches pattern. */
bool sk_path_component_glob(const char *pattern, const char *path)
{
	char comp[256 + 1];
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n > 0 && n < sizeof(comp)) {
			memcpy(comp, p, n);
			comp[n] = '\0';
			if (fnmatch(pattern, comp, 0) == 0)
				return true;
		}
		p = end;
	}
	return false;
}
