/* Where receipts, keys and evidence live. */
#include <string.h>

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
