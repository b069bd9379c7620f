/* Apply the mount plan inside the new user + mount namespace.
 *
 * Pass 1 clones every host source as a detached mount (open_tree), made
 * read-only/nosuid/nodev (mount_setattr) before it is ever attached, so a
 * tree is never visible writable.  Pass 2 mounts a tmpfs as the new root,
 * attaches everything in plan order, then pivot_root()s into it. */
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "internal.h"

#define NEWROOT "/tmp"   /* in our private mount namespace only */

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

static int sys_pivot_root(const char *new_root, const char *put_old)
{
	return (int)syscall(SYS_pivot_root, new_root, put_old);
}

/* What pass 1 found for each entry. */
typedef struct prepared {
	int tree_fd;          /* detached clone of the source, or -1 */
	bool is_dir;
	bool skip;            /* optional and out of the caller's reach */
	char link[256];       /* a top-level system symlink reproduced as a link */
} prepared;

static int set_attrs(int fd, uint64_t attrs, unsigned flags)
{
	struct mount_attr a = { .attr_set = attrs };
	return sys_mount_setattr(fd, "", AT_EMPTY_PATH | flags, &a) < 0 ? -errno : 0;
}

/* An optional path the caller cannot reach is skipped: it is absent, a
 * component is not a directory, or the caller may not search its way to it
 * (nobody's HOME /nonexistent, made by root).  Binding it would give the
 * command nothing its caller has. */
static bool unreachable(int e)
{
	return e == ENOENT || e == ENOTDIR || e == EACCES;
}

static int prepare_bind(const sk_mount *m, prepared *pr, sk_error *err)
{
	struct stat st;
	if (lstat(m->src, &st) < 0) {
		if (m->optional && unreachable(errno)) {
			pr->skip = true;
			return 0;
		}
		return sk_fail_errno(err, errno, "cannot bind %s", m->src);
	}
	/* /bin -> usr/bin: keep the link, the target is bound on its own. */
	if (S_ISLNK(st.st_mode) && m->kind == SK_MNT_BIND_RO && strchr(m->src + 1, '/') == NULL) {
		ssize_t n = readlink(m->src, pr->link, sizeof(pr->link) - 1);
		if (n < 0)
			return sk_fail_errno(err, errno, "cannot read link %s", m->src);
		pr->link[n] = '\0';
		return 0;
	}
	if (m->kind == SK_MNT_HIDE) {
		if (S_ISLNK(st.st_mode) && stat(m->src, &st) < 0) {
			pr->skip = true;
			return 0;
		}
		pr->is_dir = S_ISDIR(st.st_mode);
		return 0;
	}
	int fd = sys_open_tree(AT_FDCWD, m->src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return sk_fail_errno(err, errno, "cannot clone mount of %s", m->src);
	pr->tree_fd = fd;
	if (fstat(fd, &st) < 0)
		return sk_fail_errno(err, errno, "cannot stat %s", m->src);
	pr->is_dir = S_ISDIR(st.st_mode);
	uint64_t attrs = MOUNT_ATTR_NOSUID;
	if (m->kind == SK_MNT_BIND_RO)
		attrs |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
	else if (m->kind == SK_MNT_BIND_RW)
		attrs |= MOUNT_ATTR_NODEV;
	else /* BIND_DEV: a device node must keep dev; make it noexec */
		attrs |= MOUNT_ATTR_NOEXEC;
	int r = set_attrs(fd, attrs, AT_RECURSIVE);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot restrict mount of %s", m->src);
	return 0;
}

/* Create the parents of dst (absolute inside the new root); path gets
 * dst's path from here. */
static int make_parents(const char *dst, char path[4096], sk_error *err)
{
	if (snprintf(path, 4096, NEWROOT "%s", dst) >= 4096)
		return sk_fail(err, ENAMETOOLONG, "path too long: %s", dst);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	int r = sk_mkdir_p(path, 0755);
	*slash = '/';
	if (r < 0 && r != -EEXIST)
		return sk_fail_errno(err, -r, "cannot create the parents of %s", dst);
	return 0;
}

/* The mount point at path, its parents assumed: 0, or -errno (-ENOENT: a
 * parent is missing).  One that exists (not a link) is used as it is:
 * creating a file again could need a write permission the caller does not
 * have (a root-owned file in a nobody's workspace). */
static int try_point(const char *path, bool is_dir)
{
	if (is_dir)
		return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -errno;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != EEXIST)
		return errno == EROFS || errno == EISDIR ? 0 : -errno;
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == EEXIST || errno == EROFS || errno == EISDIR ? 0 : -errno;
}

/* Create the mount point dst (absolute inside the new root).  The plan
 * puts parents first, so the parents are made only when missing: one
 * system call for most points (the set-up is on the path to exec). */
static int make_point(const char *dst, bool is_dir, sk_error *err)
{
	char path[4096];
	if (snprintf(path, sizeof(path), NEWROOT "%s", dst) >= (int)sizeof(path))
		return sk_fail(err, ENAMETOOLONG, "path too long: %s", dst);
	int r = try_point(path, is_dir);
	if (r == -ENOENT) {
		if ((r = make_parents(dst, path, err)) < 0)
			return r;
		r = try_point(path, is_dir);
	}
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot create mount point %s", dst);
	return 0;
}

static int in_root(char *buf, size_t cap, const char *dst)
{
	return snprintf(buf, cap, NEWROOT "%s", dst) >= (int)cap ? -ENAMETOOLONG : 0;
}

static int mount_tmpfs(const char *dst, unsigned mode, uint64_t bytes, sk_error *err)
{
	char path[4096], opts[64];
	int r = make_point(dst, true, err);
	if (r < 0)
		return r;
	in_root(path, sizeof(path), dst);
	snprintf(opts, sizeof(opts), "mode=%04o,size=%llu", mode, (unsigned long long)bytes);
	if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return sk_fail_errno(err, errno, "cannot mount tmpfs on %s", dst);
	return 0;
}

static int attach(const sk_mount *m, prepared *pr, sk_error *err)
{
	char path[4096];
	int r = make_point(m->dst, pr->is_dir, err);
	if (r < 0)
		return r;
	in_root(path, sizeof(path), m->dst);
	if (sys_move_mount(pr->tree_fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return sk_fail_errno(err, errno, "cannot attach %s", m->dst);
	close(pr->tree_fd);
	pr->tree_fd = -1;
	return 0;
}

/* An empty, read-only stand-in: a tmpfs for a directory, an empty
 * unreadable file for a file. */
static int hide(const sk_mount *m, const prepared *pr, sk_error *err)
{
	char path[4096];
	in_root(path, sizeof(path), m->dst);
	if (pr->is_dir) {
		if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
			  "mode=0000,size=4k") < 0)
			return sk_fail_errno(err, errno, "cannot hide %s", m->dst);
		return 0;
	}
	if (mount(NEWROOT "/.stockade-empty", path, NULL, MS_BIND, NULL) < 0)
		return sk_fail_errno(err, errno, "cannot hide %s", m->dst);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return sk_fail_errno(err, errno, "cannot make hidden %s read-only", m->dst);
	return 0;
}

static int apply_one(const sk_mount *m, prepared *pr, uint64_t tmpfs_bytes, sk_error *err)
{
	char path[4096];
	if (pr->skip)
		return 0;
	in_root(path, sizeof(path), m->dst);
	switch (m->kind) {
	case SK_MNT_TMPFS:
		return mount_tmpfs(m->dst, m->mode, tmpfs_bytes, err);
	case SK_MNT_BIND_RO:
	case SK_MNT_BIND_RW:
	case SK_MNT_BIND_DEV:
		if (pr->link[0]) {
			if (symlink(pr->link, path) < 0)
				return sk_fail_errno(err, errno, "cannot create link %s", m->dst);
			return 0;
		}
		return attach(m, pr, err);
	case SK_MNT_PROC:
		if (make_point(m->dst, true, err) < 0)
			return -err->code;
		if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
			return sk_fail_errno(err, errno, "cannot mount /proc for the new pid namespace");
		return 0;
	case SK_MNT_DEVPTS:
		if (make_point(m->dst, true, err) < 0)
			return -err->code;
		if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC,
			  "newinstance,ptmxmode=0666,mode=0620") < 0)
			return sk_fail_errno(err, errno, "cannot mount devpts");
		return 0;
	case SK_MNT_SYMLINK:
		if (symlink(m->src, path) == 0)
			return 0;
		if (errno == ENOENT) {
			if (make_parents(m->dst, path, err) < 0)
				return -err->code;
			if (symlink(m->src, path) == 0)
				return 0;
		}
		/* Where an earlier entry made an empty directory, the link replaces it. */
		if (errno != EEXIST || rmdir(path) < 0 || symlink(m->src, path) < 0)
			return sk_fail_errno(err, errno, "cannot create link %s", m->dst);
		return 0;
	case SK_MNT_DIR:
		return make_point(m->dst, true, err);
	case SK_MNT_HIDE:
		return hide(m, pr, err);
	case SK_MNT_REMOUNT_RO:
		return 0;  /* done after pivot_root */
	}
	return sk_fail(err, EINVAL, "unknown mount kind %d", (int)m->kind);
}

static int pivot(sk_error *err)
{
	if (chdir(NEWROOT) < 0)
		return sk_fail_errno(err, errno, "cannot enter the new root");
	if (sys_pivot_root(".", ".") < 0)
		return sk_fail_errno(err, errno, "pivot_root failed");
	if (umount2(".", MNT_DETACH) < 0)
		return sk_fail_errno(err, errno, "cannot detach the old root");
	if (chdir("/") < 0)
		return sk_fail_errno(err, errno, "cannot enter /");
	return 0;
}

int sk_mount_plan_apply(const sk_mount_plan *plan, uint64_t tmpfs_bytes, sk_error *err)
{
	int r = 0;
	prepared *pr = calloc(plan->n ? plan->n : 1, sizeof(*pr));
	if (!pr)
		return sk_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < plan->n; i++)
		pr[i].tree_fd = -1;

	/* Nothing we do may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		r = sk_fail_errno(err, errno, "cannot make the mount tree private");
		goto out;
	}
	for (size_t i = 0; r == 0 && i < plan->n; i++) {
		sk_mount_kind k = plan->v[i].kind;
		if (k == SK_MNT_BIND_RO || k == SK_MNT_BIND_RW || k == SK_MNT_BIND_DEV || k == SK_MNT_HIDE)
			r = prepare_bind(&plan->v[i], &pr[i], err);
	}
	if (r < 0)
		goto out;
	if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0) {
		r = sk_fail_errno(err, errno, "cannot mount the new root");
		goto out;
	}
	/* The stand-in of every hidden file: empty, on a noexec mount, but
	 * looking executable, so that a shell tries to exec a hidden command
	 * (and the supervisor sees, refuses and records the attempt) instead
	 * of refusing it quietly after a stat. */
	int fd = open(NEWROOT "/.stockade-empty", O_WRONLY | O_CREAT | O_CLOEXEC, 0555);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; r == 0 && i < plan->n; i++)
		r = apply_one(&plan->v[i], &pr[i], tmpfs_bytes, err);
	if (r == 0)
		r = pivot(err);
	/* The root itself (mount points, links) is read-only from now on. */
	if (r == 0 && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		r = sk_fail_errno(err, errno, "cannot make the new root read-only");
out:
	for (size_t i = 0; i < plan->n; i++)
		if (pr[i].tree_fd >= 0)
			close(pr[i].tree_fd);
	free(pr);
	return r;
}
