/* The broker's file side: read the path a process gave, open it for the
 * process, exactly as the process would (its cwd or dirfd, its flags, the
 * same mount namespace, Landlock domain and uid), decide on the object
 * that open returned, and hand that very object over (SECCOMP_ADDFD).
 * Nothing is opened twice: what is decided is what the process gets. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "broker.h"

/* Read a NUL-terminated string, one page at a time so that a string at the
 * end of a mapping still reads. */
int broker_read_string(broker *b, uint64_t addr, char *buf, size_t cap)
{
	pid_t pid = (pid_t)b->req->pid;
	size_t got = 0;
	while (got + 1 < cap) {
		uint64_t at = addr + got;
		size_t chunk = 4096 - (size_t)(at & 4095);
		if (chunk > cap - 1 - got)
			chunk = cap - 1 - got;
		struct iovec l = { buf + got, chunk }, r = { (void *)(uintptr_t)at, chunk };
		ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
		if (n <= 0)
			return got ? -ENAMETOOLONG : (n < 0 ? -errno : -EFAULT);
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

bool broker_still_valid(broker *b)
{
	return ioctl(b->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &b->req->id) == 0;
}

static bool has_prefix(const char *s, const char *p, const char **rest)
{
	size_t n = strlen(p);
	if (strncmp(s, p, n) || (s[n] && s[n] != '/'))
		return false;
	*rest = s + n;
	return true;
}

/* /proc/1 is the broker (the sandbox's init): opened by the broker it
 * would be opened as itself, past the non-dumpable guard that keeps the
 * command out.  Refuse the spelling (with //, /./ folded); the object
 * checks in broker_describe catch the routes through symlinks. */
static bool names_broker(const char *path)
{
	char norm[64] = "";
	size_t n = 0;
	for (const char *p = path; *p && n + 1 < sizeof(norm); p++) {
		if (*p == '/' && (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || !p[2]))))
			continue;
		norm[n++] = *p;
	}
	norm[n] = '\0';
	const char *rest;
	return has_prefix(norm, "/proc/1", &rest);
}

/* /proc/self names the broker when the broker resolves it: rewrite it, and
 * the /dev links into it, to name the process that asked. */
int broker_prepare(broker *b, int dirfd_arg, const char *path, char *out, size_t cap, int *dfd)
{
	pid_t tid = (pid_t)b->req->pid;
	const char *rest;
	int n;
	*dfd = AT_FDCWD;
	if (has_prefix(path, "/proc/self", &rest))
		n = snprintf(out, cap, "/proc/%d%s", tid, rest);
	else if (has_prefix(path, "/proc/thread-self", &rest))
		n = snprintf(out, cap, "/proc/%d/task/%d%s", tid, tid, rest);
	else if (has_prefix(path, "/dev/fd", &rest))
		n = snprintf(out, cap, "/proc/%d/fd%s", tid, rest);
	else if (!strcmp(path, "/dev/stdin") || !strcmp(path, "/dev/stdout") || !strcmp(path, "/dev/stderr"))
		n = snprintf(out, cap, "/proc/%d/fd/%d", tid, path[5] == 'i' ? 0 : path[8] == 'o' ? 1 : 2);
	else
		n = snprintf(out, cap, "%s", path);
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	if (names_broker(out))
		return -EACCES;
	if (out[0] == '/')
		return 0;
	char dir[64];
	if (dirfd_arg == AT_FDCWD)
		snprintf(dir, sizeof(dir), "/proc/%d/cwd", tid);
	else if (dirfd_arg >= 0)
		snprintf(dir, sizeof(dir), "/proc/%d/fd/%d", tid, dirfd_arg);
	else
		return -EBADF;
	*dfd = open(dir, O_PATH | O_CLOEXEC);
	return *dfd < 0 ? (errno == ENOENT ? -EBADF : -errno) : 0;
}

int broker_describe(broker *b, int fd, resolved *r)
{
	if (fstat(fd, &r->st) < 0)
		return -errno;
	for (size_t i = 0; i < b->n_own; i++)
		if (b->own[i].dev == (uint64_t)r->st.st_dev && b->own[i].ino == (uint64_t)r->st.st_ino)
			return -EACCES;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, r->path, sizeof(r->path) - 1);
	if (n < 0)
		return -errno;
	r->path[n] = '\0';
	/* Our own /proc entries (reached through a link to /proc/self). */
	const char *rest;
	if (has_prefix(r->path, "/proc/1", &rest))
		return -EACCES;
	r->has_object = true;
	return 0;
}

/* Collapse //, /./ and /../ of an absolute path, as text. */
static void lexical(const char *path, char *out, size_t cap)
{
	size_t n = 0;
	const char *p = path;
	while (*p && n + 2 < cap) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else if (!(len == 1 && p[0] == '.') && n + 1 + len < cap) {
			out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p = end;
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
}

/* The read-only system trees: nothing in them was made by the command, so
 * the name a failed access aimed at is its text (no symlink walk), and a
 * FIFO there is not the command's to race with. */
bool broker_system_path(const char *path)
{
	static const char *const prefixes[] = { "/usr/", "/lib/", "/lib32/", "/lib64/", "/bin/", "/sbin/", "/etc/",
						"/opt/", "/var/lib/" };
	if (path[0] != '/')
		return false;
	/* Compilers spell ../ within the system trees (lib/gcc/X/12/../../..);
	 * only the command could make a symlink that sends .. elsewhere, and
	 * nothing there is the command's. */
	char norm[BROKER_PATH_MAX];
	lexical(path, norm, sizeof(norm));
	for (size_t i = 0; i < SK_ARRAY_LEN(prefixes); i++)
		if (!strncmp(norm, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* Join, collapse . and .., follow symlinks where they exist: the name a
 * failed access aimed at.  Only for the record: the error stands. */
void broker_name_missing(int dfd, const char *path, char *out, size_t cap)
{
	if (broker_system_path(path)) {
		lexical(path, out, cap);
		return;
	}
	char work[2 * BROKER_PATH_MAX], cur[BROKER_PATH_MAX];
	cur[0] = '\0';
	size_t cl = 0;
	if (path[0] != '/' && dfd >= 0) {
		char link[64];
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
		ssize_t n = readlink(link, cur, sizeof(cur) - 1);
		cl = n > 0 ? (size_t)n : 0;
		cur[cl] = '\0';
		if (cl == 1)
			cl = 0;   /* "/" */
	}
	snprintf(work, sizeof(work), "%s", path);
	int links = 0;
	char *p = work;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		size_t len = (size_t)(end - p);
		if (len == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(cur, '/');
			cl = slash ? (size_t)(slash - cur) : 0;
			cur[cl] = '\0';
			p = end;
			continue;
		}
		if (cl + 1 + len >= sizeof(cur))
			break;
		cur[cl] = '/';
		memcpy(cur + cl + 1, p, len);
		cur[cl + 1 + len] = '\0';
		char target[BROKER_PATH_MAX];
		ssize_t n = links < 40 ? readlink(cur, target, sizeof(target) - 1) : -1;
		if (n > 0) {
			target[n] = '\0';
			links++;
			char rest[2 * BROKER_PATH_MAX];
			snprintf(rest, sizeof(rest), "%s/%s", target, end);
			snprintf(work, sizeof(work), "%s", rest);
			p = work;
			if (target[0] == '/')
				cl = 0;
			cur[cl] = '\0';
			continue;
		}
		cl += 1 + len;
		p = end;
	}
	snprintf(out, cap, "%s", cl ? cur : "/");
}

long broker_status_field(pid_t tid, const char *field, int base, long fallback)
{
	char path[64], buf[2048], key[32];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	snprintf(key, sizeof(key), "\n%s", field);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fallback;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	const char *at = strstr(buf, key);
	return at ? strtol(at + strlen(key), NULL, base) : fallback;
}

static int child_umask(pid_t tid)
{
	return (int)broker_status_field(tid, "Umask:", 8, 022) & 0777;
}

/* Flags the legacy open calls accept, as openat2 (which refuses unknown
 * bits) must see them. */
static uint64_t legacy_flags(uint64_t f)
{
	const uint64_t known = O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK |
			       O_DSYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME |
			       O_CLOEXEC | O_SYNC | O_PATH | O_TMPFILE;
	f &= known;
	if (f & O_PATH)
		f &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	return f;
}

static unsigned access_of(uint64_t flags)
{
	if (flags & O_PATH)
		return SK_ACCESS_READ;
	unsigned a = 0;
	int acc = (int)(flags & O_ACCMODE);
	if (acc == O_RDONLY || acc == O_RDWR)
		a |= SK_ACCESS_READ;
	if (acc == O_WRONLY || acc == O_RDWR || (flags & (O_CREAT | O_TRUNC)) || (flags & O_TMPFILE) == O_TMPFILE)
		a |= SK_ACCESS_WRITE;
	return a ? a : SK_ACCESS_READ;
}

static bool attributable(int e)
{
	return e == ENOENT || e == EACCES || e == EPERM || e == ENOTDIR || e == ELOOP || e == EROFS || e == EISDIR;
}

static const char *op_name(int kind)
{
	return kind == K_OPEN ? "open" : kind == K_CREAT ? "creat" : kind == K_OPENAT ? "openat" : "openat2";
}

/* Arguments of the four open calls, as one openat2. */
static int open_args(broker *b, int kind, int *dirfd, uint64_t *path_addr, struct open_how *how)
{
	const __u64 *a = b->req->data.args;
	memset(how, 0, sizeof(*how));
	*dirfd = AT_FDCWD;
	switch (kind) {
	case K_OPEN:
		*path_addr = a[0];
		how->flags = legacy_flags(a[1]);
		how->mode = a[2];
		break;
	case K_CREAT:
		*path_addr = a[0];
		how->flags = O_CREAT | O_WRONLY | O_TRUNC;
		how->mode = a[1];
		break;
	case K_OPENAT:
		*dirfd = (int)a[0];
		*path_addr = a[1];
		how->flags = legacy_flags(a[2]);
		how->mode = a[3];
		break;
	default: {
		size_t size = (size_t)a[3];
		if (size < 24 || size > 4096)
			return -EINVAL;
		struct iovec l = { how, sizeof(*how) }, r = { (void *)(uintptr_t)a[2], sizeof(*how) };
		if (process_vm_readv((pid_t)b->req->pid, &l, 1, &r, 1, 0) != (ssize_t)sizeof(*how))
			return -EFAULT;
		*dirfd = (int)a[0];
		*path_addr = a[1];
	}
	}
	if (!(how->flags & (O_CREAT | O_TMPFILE)) && kind != K_OPENAT2)
		how->mode = 0;
	how->mode &= 07777;
	return 0;
}

/* A name about to be created: decided (and answered, when refused) before
 * the file exists.  An existing name (O_EXCL) is decided after the open
 * like any other. */
static bool create_allowed(broker *b, int kind, const char *via, int dfd, const char *path, uint64_t asked)
{
	char name[BROKER_PATH_MAX];
	broker_name_missing(dfd, path, name, sizeof(name));
	struct stat st;
	if (stat(name, &st) == 0)
		return true;   /* it exists after all (O_EXCL will say so) */
	sk_verdict v = broker_decide_file(b, op_name(kind), via, NULL, name, access_of(asked), -1, EACCES);
	/* Allowed; or refused for no surface (a read-only system path): the
	 * kernel's own open then refuses it the usual way. */
	if (v.action == SK_ACTION_ALLOW || (v.action == SK_ACTION_DENY && (v.reason == SK_REASON_FILE_HIDDEN ||
									   v.reason == SK_REASON_FILE_WRITE_READ_ONLY)))
		return true;
	broker_respond(b, 0, EACCES, 0);
	broker_after_verdict(b, &v);
	return false;
}

/* What an open of path returned.  In the read-only system trees a path
 * spelled plainly (absolute, no . or .. or //) is the object's name as far
 * as decide needs it — the decision is on its device and inode, and every
 * location the profile binds for them — so the kernel is not asked for
 * the name again.  Everywhere else it is. */
static int describe_opened(broker *b, int fd, const char *path, resolved *r)
{
	char norm[BROKER_PATH_MAX];
	if (!broker_system_path(path))
		return broker_describe(b, fd, r);
	lexical(path, norm, sizeof(norm));
	if (strcmp(norm, path))
		return broker_describe(b, fd, r);
	if (fstat(fd, &r->st) < 0)
		return -errno;
	for (size_t i = 0; i < b->n_own; i++)
		if (b->own[i].dev == (uint64_t)r->st.st_dev && b->own[i].ino == (uint64_t)r->st.st_ino)
			return -EACCES;
	size_t n = strlen(path);
	if (n >= sizeof(r->path))
		return broker_describe(b, fd, r);
	memcpy(r->path, path, n + 1);
	r->has_object = true;
	return 0;
}

/* The opener gets fd once the lock is let go (broker_give_pending):
 * ADDFD sleeps until the opener has taken it, and meanwhile the other
 * broker thread answers the opener's next call. */
static void give_later(broker *b, int fd, uint64_t flags)
{
	b->give_fd = fd;
	b->give_cloexec = (uint32_t)(flags & O_CLOEXEC);
}

void broker_give_pending(broker *b)
{
	if (b->give_fd < 0)
		return;
	struct seccomp_notif_addfd add = {
		.id = b->req->id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)b->give_fd,
		.newfd_flags = b->give_cloexec,
	};
	/* On failure the process was interrupted or died: nothing to answer. */
	if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &add) < 0 && errno != ENOENT)
		broker_respond(b, 0, errno, 0);
	close(b->give_fd);
	b->give_fd = -1;
}

void broker_handle_open(broker *b, int kind)
{
	struct open_how how;
	uint64_t addr;
	int dirfd_arg, r = open_args(b, kind, &dirfd_arg, &addr, &how);
	char via[BROKER_PATH_MAX], path[BROKER_PATH_MAX + 64];
	if (r == 0)
		r = broker_read_string(b, addr, via, sizeof(via));
	/* No NOTIF_ID_VALID here: what we read is only ever acted on through
	 * this notification's id (ADDFD or an answer), which the kernel refuses
	 * once its task is gone, and the opener has no more rights than any
	 * process of the sandbox. */
	if (r < 0) {
		b->stats.unreadable += r == -EPERM || r == -ESRCH;
		broker_respond(b, 0, r == -EPERM ? EACCES : r < 0 ? -r : ESRCH, 0);
		return;
	}
	b->stats.opens++;
	int dfd;
	if ((r = broker_prepare(b, dirfd_arg, via, path, sizeof(path), &dfd)) < 0) {
		broker_respond(b, 0, -r, 0);
		return;
	}
	uint64_t asked = how.flags;
	struct open_how mine = how;
	mine.flags = (asked & ~(uint64_t)O_TRUNC) | O_CLOEXEC;
	if (!(asked & O_PATH))
		mine.flags |= O_NOCTTY | O_NONBLOCK;   /* a FIFO must not block the broker */
	if (asked & (O_CREAT | O_TMPFILE))
		mine.mode &= ~(uint64_t)child_umask((pid_t)b->req->pid);
	int fd = -1;
	struct stat pre;
	if (!(asked & (O_PATH | O_NONBLOCK)) && !broker_system_path(path) &&
	    fstatat(dfd, path, &pre, (asked & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) == 0 && S_ISFIFO(pre.st_mode)) {
		/* A FIFO: even a moment's open of it here would wake the other
		 * end.  Look at it through O_PATH only; the FIFO way below. */
		struct open_how p = { .flags = O_PATH | O_CLOEXEC | (asked & (O_NOFOLLOW | O_DIRECTORY)),
				      .resolve = mine.resolve };
		fd = (int)syscall(SYS_openat2, dfd, path, &p, sizeof(p));
	} else if ((asked & O_CREAT) && !(asked & O_EXCL)) {
		/* Open it if it is there; a new file is decided by its name first,
		 * so a refused create leaves nothing behind. */
		struct open_how probe = mine;
		probe.flags &= ~(uint64_t)O_CREAT;
		probe.mode = 0;
		fd = (int)syscall(SYS_openat2, dfd, path, &probe, sizeof(probe));
		if (fd < 0 && errno == ENOENT && !create_allowed(b, kind, via, dfd, path, asked)) {
			if (dfd >= 0)
				close(dfd);
			return;
		}
	} else if (asked & O_CREAT && !create_allowed(b, kind, via, dfd, path, asked)) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	if (fd < 0)
		fd = (int)syscall(SYS_openat2, dfd, path, &mine, sizeof(mine));
	int e = fd < 0 ? errno : 0;
	if (fd < 0 && e == ENXIO && !(asked & (O_NONBLOCK | O_PATH))) {
		/* A FIFO with no reader refuses our O_NONBLOCK write open: look
		 * at what is there, and let a FIFO go the FIFO way below. */
		struct open_how p = { .flags = O_PATH | O_CLOEXEC | (asked & (O_NOFOLLOW | O_DIRECTORY)),
				      .resolve = mine.resolve };
		fd = (int)syscall(SYS_openat2, dfd, path, &p, sizeof(p));
		struct stat st;
		if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))) {
			close(fd);
			fd = -1;   /* not a FIFO: the ENXIO stands */
		}
		e = fd < 0 ? ENXIO : 0;
	}
	resolved res;   /* filled by broker_describe; has_object says whether */
	res.has_object = false;
	if (fd >= 0 && (r = describe_opened(b, fd, path, &res)) < 0) {
		close(fd);
		fd = -1;
		e = -r;
	}
	if (fd >= 0 && S_ISFIFO(res.st.st_mode) && !(asked & (O_NONBLOCK | O_PATH))) {
		/* Opening it for real would block until the other end comes:
		 * decide on its identity, then let the kernel open it. */
		close(fd);
		sk_verdict v = broker_decide_file(b, op_name(kind), via, &res, NULL, access_of(asked), -1, 0);
		if (dfd >= 0)
			close(dfd);
		if (v.action == SK_ACTION_ALLOW)
			broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		else
			broker_respond(b, 0, EACCES, 0);
		broker_after_verdict(b, &v);
		return;
	}
	char missing[BROKER_PATH_MAX];
	/* O_NOFOLLOW on a symlink (ELOOP) reached only the link: no attempt on
	 * what it points to. */
	bool attribute = fd < 0 && attributable(e) && !(e == ELOOP && (asked & O_NOFOLLOW));
	if (attribute)
		broker_name_missing(dfd, path, missing, sizeof(missing));
	if (dfd >= 0)
		close(dfd);
	if (fd < 0 && !attribute) {
		broker_respond(b, 0, e, 0);
		return;
	}
	/* O_NONBLOCK was ours: take it back where it changes anything (a
	 * regular file or a directory never blocks). */
	if (fd >= 0 && !(asked & (O_NONBLOCK | O_PATH)) && !S_ISREG(res.st.st_mode) && !S_ISDIR(res.st.st_mode))
		fcntl(fd, F_SETFL, (int)(asked & (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME)));
	sk_verdict v = broker_decide_file(b, op_name(kind), via, fd >= 0 ? &res : NULL, attribute ? missing : NULL,
					  access_of(asked), fd, e);
	if (fd < 0) {
		/* A secret or denied name answers "permission denied", not the
		 * kernel's "no such file" of a name the mount tree hides: the
		 * agent learns it was refused, not that it is missing. */
		broker_respond(b, 0, broker_is_attempt(&v, e) ? EACCES : e, 0);
	} else if (v.action != SK_ACTION_ALLOW) {
		broker_respond(b, 0, EACCES, 0);
	} else if ((asked & O_TRUNC) && S_ISREG(res.st.st_mode) && ftruncate(fd, 0) < 0) {
		broker_respond(b, 0, errno, 0);
	} else if (asked & O_PATH) {
		/* ADDFD cannot pass an O_PATH file (the kernel's fget refuses
		 * them: EBADF), so the kernel opens it again.  Should the name
		 * now reach another object, the descriptor still reads nothing:
		 * every use that reaches content (an open through
		 * /proc/self/fd, openat below it, an exec) is decided anew. */
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	} else {
		give_later(b, fd, asked);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	broker_after_verdict(b, &v);
}
