/* uid/gid maps: the command runs as the caller's own uid and gid. */
#include <stdio.h>

#include "internal.h"

static int write_proc(pid_t pid, const char *file, const char *text, sk_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int r = sk_write_file(path, text);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot write %s", path);
	return 0;
}

int sk_userns_map(pid_t child, uid_t uid, gid_t gid, sk_error *err)
{
	char line[64];
	int r;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if ((r = write_proc(child, "uid_map", line, err)) < 0)
		return r;
	/* An unprivileged writer must give up setgroups() before mapping gids. */
	if ((r = write_proc(child, "setgroups", "deny", err)) < 0)
		return r;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	return write_proc(child, "gid_map", line, err);
}
