/* Small I/O helpers that retry and report errors as negative errno. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "stockade/util.h"

int sk_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sk_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : sk_read_fd(fd, max, out, out_len);
}

int sk_read_fd(int fd, size_t max, char **out, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= max)
				return -EFBIG;
			cap = cap * 2 > max ? max : cap * 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (out_len)
		*out_len = len;
	*out = sk_steal_ptr(buf);
	return 0;
}

int sk_write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return sk_write_all(fd, text, strlen(text));
}

uint64_t sk_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int sk_memfd_of(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = sk_write_all(fd, data, len);
	if (r < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		r = r < 0 ? r : -errno;
		close(fd);
		return r;
	}
	return fd;
}

int sk_mkdir_p(const char *path, unsigned mode)
{
	/* Mostly the parents exist (a mount point beside another): one call. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	char buf[4096];
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int sk_send_fds(int sock, const void *data, size_t len, const int *fds, size_t n_fds)
{
	if (!len || n_fds > SK_MAX_PASSED_FDS)
		return -EINVAL;
	struct iovec iov = { (void *)data, len };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * SK_MAX_PASSED_FDS)]; } u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (n_fds) {
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(h), fds, sizeof(int) * n_fds);
	}
	ssize_t r;
	while ((r = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return r < 0 ? -errno : (size_t)r == len ? 0 : -EMSGSIZE;
}

ssize_t sk_recv_fds(int sock, void *data, size_t len, int *fds, size_t *n_fds)
{
	size_t room = *n_fds < SK_MAX_PASSED_FDS ? *n_fds : SK_MAX_PASSED_FDS;
	struct iovec iov = { data, len };
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int) * SK_MAX_PASSED_FDS)]; } u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	*n_fds = 0;
	ssize_t r = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	if (r < 0)
		return -errno;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t got = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int tmp[SK_MAX_PASSED_FDS];
		memcpy(tmp, CMSG_DATA(h), got * sizeof(int));
		for (size_t i = 0; i < got; i++)
			if (*n_fds < room)
				fds[(*n_fds)++] = tmp[i];
			else
				close(tmp[i]);   /* more than asked for: not ours to keep */
	}
	if (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		for (size_t i = 0; i < *n_fds; i++)
			close(fds[i]);
		*n_fds = 0;
		return -EPROTO;
	}
	return r;
}

int sk_cache_dir(const char *configured, char **out)
{
	if (configured)
		return *configured ? ((*out = strdup(configured)) ? 0 : -ENOMEM) : -ENOENT;
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (xdg && *xdg == '/')
		n = asprintf(out, "%s/stockade", xdg);
	else if (home && *home == '/')
		n = asprintf(out, "%s/.cache/stockade", home);
	else
		return -ENOENT;
	return n < 0 ? -ENOMEM : 0;
}

int sk_write_cache(const char *path, const void *buf, size_t len)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) || !strrchr(dir, '/'))
		return -EINVAL;
	*strrchr(dir, '/') = '\0';
	int r = sk_mkdir_p(dir, 0700);
	return r < 0 && r != -EEXIST ? r : sk_write_atomic(dir, path, buf, len);
}

int sk_write_atomic(const char *dir, const char *path, const void *buf, size_t len)
{
	char *tmp;
	if (asprintf(&tmp, "%s/.stockade-XXXXXX", dir) < 0)
		return -ENOMEM;
	int fd = mkostemp(tmp, O_CLOEXEC);
	int e = fd < 0 ? -errno : sk_write_all(fd, buf, len);
	if (e == 0 && fchmod(fd, 0600) < 0)
		e = -errno;
	if (fd >= 0)
		close(fd);
	if (e == 0 && rename(tmp, path) < 0)
		e = -errno;
	if (e < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	return e;
}
