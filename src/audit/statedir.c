/* Where receipts, keys and evidence live. */
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/audit.h"

int sk_audit_state_dir(const char *given, char *buf, size_t n, sk_error *err)
{
	int len;
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (given && *given)
		len = snprintf(buf, n, "%s", given);
	else if (xdg && xdg[0] == '/')
		len = snprintf(buf, n, "%s/stockade", xdg);
	else if (home && home[0] == '/')
		len = snprintf(buf, n, "%s/.local/state/stockade", home);
	else
		return sk_fail(err, ENOENT, "no state directory: set XDG_STATE_HOME or HOME, or pass --state-dir");
	if (len < 0 || (size_t)len >= n)
		return sk_fail(err, ENAMETOOLONG, "state directory path too long");
	return 0;
}

int sk_audit_state_dir_of(const char *given, const char *log, char *dir, size_t n, sk_error *err)
{
	struct stat st;
	if (given || !log)
		return sk_audit_state_dir(given, dir, n, err);
	snprintf(dir, n, "%s", log);
	if (stat(log, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", log);
	snprintf(dir, n, "%s", dirname(tmp));
	return 0;
}
