/* Where the shipped redaction rules are. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define RULES_FILE "redact.rules"

#ifndef STOCKADE_DATADIR
#define STOCKADE_DATADIR "/usr/local/share/stockade"
#endif
#ifndef STOCKADE_SYSCONFDIR
#define STOCKADE_SYSCONFDIR "/etc"
#endif

static int try_dir(const char *dir, char **out)
{
	char *path;
	if (asprintf(&path, "%s/%s", dir, RULES_FILE) < 0)
		return -ENOMEM;
	if (access(path, R_OK) == 0) {
		*out = path;
		return 0;
	}
	free(path);
	return -ENOENT;
}

/* <dir of the running binary>/../profiles: works from build/ in a checkout. */
static int try_exe_dir(char **out)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	char dir[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/../profiles", dirname(exe));
	return try_dir(dir, out);
}

int sk_redact_find_rules(char **out, sk_error *err)
{
	const char *env = getenv("STOCKADE_DATADIR");
	int e;
	if (env && *env && (e = try_dir(env, out)) != -ENOENT)
		return e;
	if ((e = try_exe_dir(out)) != -ENOENT)
		return e;
	if ((e = try_dir(STOCKADE_DATADIR, out)) != -ENOENT)
		return e;
	if ((e = try_dir(STOCKADE_SYSCONFDIR "/stockade/profiles", out)) != -ENOENT)
		return e;
	if ((e = try_dir(STOCKADE_SYSCONFDIR "/stockade", out)) != -ENOENT)
		return e;
	return sk_fail(err, ENOENT, "no %s found (looked in $STOCKADE_DATADIR, ../profiles next to "
		       "the binary, %s, %s/stockade/profiles, %s/stockade); set STOCKADE_DATADIR",
		       RULES_FILE, STOCKADE_DATADIR, STOCKADE_SYSCONFDIR, STOCKADE_SYSCONFDIR);
}
