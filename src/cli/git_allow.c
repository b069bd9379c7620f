/* Which git config a repository made or changed by a sandboxed command may
 * hold before the host's git is let into it.  Git runs what its config
 * names (core.fsmonitor on every `git status`, filter drivers, pagers,
 * hooks paths, includes of other files, ...), and the list of such keys
 * grows with every git release.  So this is an allowlist of what git's
 * own commands write as plain data - init, clone, submodule, remote,
 * branch, worktree, sparse-checkout, user identity - read by a strict
 * line reader: a line or key it does not know makes the config unclean
 * (the caller fails closed).  Pure. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "git_guard.h"

/* section, key; sub: 0 no subsection, 1 a subsection required. */
static const struct { const char *section, *key; int sub; } allowed[] = {
	{ "core", "repositoryformatversion", 0 }, { "core", "filemode", 0 }, { "core", "bare", 0 },
	{ "core", "logallrefupdates", 0 }, { "core", "ignorecase", 0 }, { "core", "precomposeunicode", 0 },
	{ "core", "symlinks", 0 }, { "core", "worktree", 0 }, { "core", "autocrlf", 0 }, { "core", "eol", 0 },
	{ "core", "safecrlf", 0 }, { "core", "quotepath", 0 }, { "core", "sparsecheckout", 0 },
	{ "core", "sparsecheckoutcone", 0 }, { "core", "checkstat", 0 }, { "core", "trustctime", 0 },
	{ "core", "untrackedcache", 0 }, { "core", "splitindex", 0 }, { "core", "abbrev", 0 },
	{ "core", "compression", 0 }, { "core", "preloadindex", 0 }, { "core", "commitgraph", 0 },
	{ "core", "multipackindex", 0 },
	{ "extensions", "objectformat", 0 }, { "extensions", "worktreeconfig", 0 },
	{ "extensions", "preciousobjects", 0 },
	{ "remote", "url", 1 }, { "remote", "pushurl", 1 }, { "remote", "fetch", 1 }, { "remote", "push", 1 },
	{ "remote", "tagopt", 1 }, { "remote", "prune", 1 }, { "remote", "mirror", 1 },
	{ "branch", "remote", 1 }, { "branch", "merge", 1 }, { "branch", "rebase", 1 },
	{ "branch", "pushremote", 1 }, { "branch", "description", 1 },
	{ "submodule", "url", 1 }, { "submodule", "active", 1 }, { "submodule", "branch", 1 },
	{ "submodule", "ignore", 1 }, { "submodule", "shallow", 1 }, { "submodule", "fetchrecursesubmodules", 1 },
	{ "submodule", "active", 0 }, { "submodule", "recurse", 0 },
	{ "user", "name", 0 }, { "user", "email", 0 },
	{ "init", "defaultbranch", 0 }, { "pull", "rebase", 0 }, { "pull", "ff", 0 }, { "push", "default", 0 },
	{ "fetch", "prune", 0 }, { "gc", "auto", 0 }, { "index", "version", 0 }, { "index", "sparse", 0 },
};

static bool is_allowed(const char *section, const char *key, bool sub)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcasecmp(section, allowed[i].section) && !strcasecmp(key, allowed[i].key) &&
		    allowed[i].sub == (int)sub)
			return true;
	return !sub && !strcasecmp(section, "advice");   /* advice.*: hints on or off */
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The rest of a line after a section header or a value: blanks, then
 * nothing or a comment. */
static bool only_comment(const char *p, const char *e)
{
	while (p < e && blank(*p))
		p++;
	return p == e || *p == '#' || *p == ';';
}

/* [name] or [name "sub"] (or the old [name.sub]); p at '['. */
static bool read_section(const char *p, const char *e, char *name, size_t cap, bool *sub)
{
	size_t n = 0;
	*sub = false;
	for (p++; p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '.'); p++) {
		if (*p == '.')
			*sub = true;
		if (n + 1 >= cap)
			return false;
		name[n++] = *p;
	}
	name[n] = '\0';
	char *dot = strchr(name, '.');
	if (dot)
		*dot = '\0';
	if (!n || !name[0])
		return false;
	if (p < e && *p == ' ' && !*sub) {
		/* A quoted subsection: \" and \\ are its only escapes. */
		if (++p >= e || *p != '"')
			return false;
		for (p++; p < e && *p != '"'; p++)
			if (*p == '\\' && ++p >= e)
				return false;
		if (p >= e)
			return false;
		p++;
		*sub = true;
	}
	return p < e && *p == ']' && only_comment(p + 1, e);
}

/* A value: quotes and escapes read as git reads them; a backslash that
 * ends the line would continue the value on the next one - not clean. */
static bool read_value(const char *p, const char *e)
{
	bool quoted = false;
	for (; p < e; p++) {
		if (*p == '\\') {
			if (++p >= e || blank(*p))
				return false;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (!quoted && (*p == '#' || *p == ';')) {
			return true;
		}
	}
	return !quoted;
}

/* key [= value]; p at the key's first character. */
static bool read_key(const char *p, const char *e, char *key, size_t cap)
{
	size_t n = 0;
	if (p >= e || !isalpha((unsigned char)*p))
		return false;
	for (; p < e && (isalnum((unsigned char)*p) || *p == '-'); p++) {
		if (n + 1 >= cap)
			return false;
		key[n++] = *p;
	}
	key[n] = '\0';
	while (p < e && blank(*p))
		p++;
	if (p == e || *p == '#' || *p == ';')
		return true;   /* a bare key: boolean true */
	return *p == '=' && read_value(p + 1, e);
}

int sk_git_config_check(const char *text, size_t len, char *why, size_t why_len)
{
	char section[64] = "", key[64];
	bool sub = false, in_section = false;
	unsigned line = 0;
	if (memchr(text, '\0', len)) {
		snprintf(why, why_len, "a NUL byte in the config");
		return 1;
	}
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		line++;
		while (p < e && blank(*p))
			p++;
		if (p == e || *p == '#' || *p == ';') {
			/* blank or a comment */
		} else if (*p == '[') {
			if (!read_section(p, e, section, sizeof(section), &sub)) {
				snprintf(why, why_len, "line %u is not a section header git writes", line);
				return 1;
			}
			in_section = true;
		} else if (!in_section || !read_key(p, e, key, sizeof(key))) {
			snprintf(why, why_len, "line %u is not a setting git writes", line);
			return 1;
		} else if (!is_allowed(section, key, sub)) {
			snprintf(why, why_len, "its config sets %s.%s%s", section, sub ? "<name>." : "", key);
			return 1;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

size_t sk_git_hash_len(const char *text, size_t len)
{
	/* Only a line "objectformat = sha256" matters; anything else is sha1
	 * (an index read with the wrong length does not parse: not clean). */
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		while (p < e && blank(*p))
			p++;
		if ((size_t)(e - p) >= 12 && !strncasecmp(p, "objectformat", 12)) {
			const char *v = p + 12;
			while (v < e && (blank(*v) || *v == '='))
				v++;
			if ((size_t)(e - v) >= 6 && !strncasecmp(v, "sha256", 6))
				return 32;
		}
		p = nl ? nl + 1 : end;
	}
	return 20;
}
