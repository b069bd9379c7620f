/* Capabilities: none in any set, none to regain.  Uses libcap. */
#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "internal.h"

int sk_caps_drop_all(sk_error *err)
{
	/* Root-ness grants nothing on exec, and that cannot be undone. */
	unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			SECBIT_KEEP_CAPS_LOCKED |
			SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (cap_set_secbits(bits) < 0)
		return sk_fail_errno(err, errno, "cannot lock securebits");
	if (cap_reset_ambient() < 0)
		return sk_fail_errno(err, errno, "cannot clear ambient capabilities");
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (cap_drop_bound(c) < 0 && errno != EINVAL)
			return sk_fail_errno(err, errno, "cannot drop capability %d from the bounding set", c);
	cap_t empty = cap_init();
	if (!empty)
		return sk_fail_errno(err, errno, "cap_init");
	int r = cap_set_proc(empty);
	int saved = errno;
	cap_free(empty);
	if (r < 0)
		return sk_fail_errno(err, saved, "cannot drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sk_fail_errno(err, errno, "cannot set no_new_privs");
	return 0;
}
