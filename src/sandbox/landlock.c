/* Landlock: writes only beneath the workspace and the private directories.
 * Reads are governed by the mount tree; Landlock handles only the write-ish
 * rights of whatever ABI the kernel has, and scopes signals and abstract
 * unix sockets to the sandbox where the kernel can. */
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

/* Debian bookworm's kernel headers stop at ABI 2; the kernel ABI is stable,
 * so the later constants and the full ruleset layout are spelled here. */
#define SK_LL_FS_TRUNCATE (1ULL << 14)              /* ABI 3 */
#define SK_LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#define SK_LL_SCOPE_SIGNAL (1ULL << 1)              /* ABI 6 */

struct sk_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;   /* ABI 4 */
	uint64_t scoped;               /* ABI 6 */
};

static const struct { int abi; uint64_t rights; } write_rights[] = {
	{ 1, LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	     LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	     LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM },
	{ 2, LANDLOCK_ACCESS_FS_REFER },
	{ 3, SK_LL_FS_TRUNCATE },
};

static int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

int sk_landlock_apply(const char *const *rw_paths, size_t n, sk_error *err)
{
	int abi = landlock_abi();
	if (abi <= 0)
		return 0;
	uint64_t handled = 0;
	for (size_t i = 0; i < SK_ARRAY_LEN(write_rights); i++)
		if (abi >= write_rights[i].abi)
			handled |= write_rights[i].rights;
	struct sk_ll_ruleset_attr attr = { .handled_access_fs = handled };
	size_t attr_size = offsetof(struct sk_ll_ruleset_attr, handled_access_net);
	if (abi >= 6) {
		/* No signals to, and no abstract sockets of, processes outside. */
		attr.scoped = SK_LL_SCOPE_SIGNAL | SK_LL_SCOPE_ABSTRACT_UNIX_SOCKET;
		attr_size = sizeof(attr);
	}
	_cleanup_close_ int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (rs < 0)
		return sk_fail_errno(err, errno, "cannot create the Landlock ruleset");
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int fd = open(rw_paths[i], O_PATH | O_CLOEXEC);
		if (fd < 0)
			continue;  /* a path the plan skipped (optional and missing) */
		struct landlock_path_beneath_attr pb = { .allowed_access = handled, .parent_fd = fd };
		struct stat st;
		/* Directory-only rights cannot be granted on a file. */
		if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
			pb.allowed_access &= LANDLOCK_ACCESS_FS_WRITE_FILE | SK_LL_FS_TRUNCATE;
		if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
			return sk_fail_errno(err, errno, "cannot add a Landlock rule for %s", rw_paths[i]);
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		return sk_fail_errno(err, errno, "cannot enforce Landlock");
	return abi;
}
