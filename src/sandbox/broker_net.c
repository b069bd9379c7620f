/* The broker's network side: the destination of connect, and of sendto,
 * sendmsg and sendmmsg wherever they carry one, decided on the address the
 * kernel dials (for a Unix socket, on its socket file).  What is allowed to
 * an internet address is done here, on the process's own socket, with the
 * address decided: the connect, or the datagrams sent (their bytes read
 * once from the process), so that no thread can change the address after
 * the decision.  Unix destinations are let through once decided (see
 * docs/sessions.md, "Limits").  The supervisor's own filter lets it write
 * the process's memory (sendmmsg's msg_len); the command's does not. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"

/* sendmmsg takes at most this many headers, a message this many pieces
 * (the kernel's UIO_MAXIOV); a datagram is at most 64 KiB, its control
 * data too (past them the kernel refuses: EMSGSIZE, ENOBUFS). */
enum { MAX_MMSG = 1024, MAX_IOV = 1024, MAX_DATAGRAM = 65536, MAX_CONTROL = 65536 };

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL   /* Linux 6.9 */
#endif

/* A destination as the process gave it, once decided. */
typedef struct destination {
	struct sockaddr_storage ss;
	socklen_t len;
	bool dial;   /* an internet address that was decided: connect it here */
	int family;  /* the family read (-1: the address could not be read whole) */
	/* A Unix address that was decided: ss is what to connect here, the
	 * socket file as unix_fd (an O_PATH descriptor of ours, named
	 * /proc/self/fd/N) or the abstract name as read; unix_errno: the
	 * answer for a path that reached nothing (no attempt). */
	bool unix_proxy;
	int unix_fd, unix_errno;
} destination;

static void release_destination(destination *d)
{
	if (d->unix_fd >= 0)
		close(d->unix_fd);
	d->unix_fd = -1;
}

static void free_destinations(destination *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		release_destination(&d[i]);
	free(d);
}

/* Of a canonical destination (canonical_destination). */
static bool loopback(const sk_event *ev)
{
	static const uint8_t v6[16] = { [15] = 1 };
	const uint8_t *x = ev->connect.addr;
	return ev->connect.family == SK_NET_FAMILY_INET4 ? x[0] == 127 : !memcmp(x, v6, 16);
}

/* The destination the kernel dials, whatever its spelling: an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is its IPv4 address, and the unspecified
 * address (0.0.0.0, ::) dials this host (the kernel turns it into
 * loopback).  Rules and chains see this; the record keeps the spelling. */
static void canonical_destination(sk_event *ev)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff }, zero[16] = { 0 };
	uint8_t *x = ev->connect.addr;
	if (ev->connect.family == SK_NET_FAMILY_INET6 && !memcmp(x, mapped, 12)) {
		memmove(x, x + 12, 4);
		memset(x + 4, 0, 12);
		ev->connect.family = SK_NET_FAMILY_INET4;
	}
	if (ev->connect.family == SK_NET_FAMILY_INET4 && !memcmp(x, zero, 4)) {
		x[0] = 127;
		x[3] = 1;
	} else if (ev->connect.family == SK_NET_FAMILY_INET6 && !memcmp(x, zero, 16)) {
		x[15] = 1;
	}
}

/* Counted like every decision (an escalation stops the command there). */
static bool settle(broker *b, const sk_verdict *v)
{
	broker_after_verdict(b, v);
	return v->action == SK_ACTION_ALLOW;
}

/* The socket file at fd as the address to connect to here: no thread of
 * the process can change what it names. */
static void unix_proxy_to(destination *d, int fd)
{
	struct sockaddr_un *to = (struct sockaddr_un *)&d->ss;
	memset(&d->ss, 0, sizeof(d->ss));
	to->sun_family = AF_UNIX;
	int n = snprintf(to->sun_path, sizeof(to->sun_path), "/proc/self/fd/%d", fd);
	d->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	d->unix_fd = fd;
	d->unix_proxy = true;
}

static bool unix_allowed(broker *b, const struct sockaddr_un *sun, size_t len, const char *op, destination *d)
{
	size_t plen = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
	if (plen == 0 || sun->sun_path[0] == '\0') {
		if (d) {   /* connected here as read */
			memcpy(&d->ss, sun, len);
			d->len = (socklen_t)len;
			d->unix_proxy = true;
		}
		/* Unnamed or abstract: scoped to the sandbox by its own network
		 * namespace (and Landlock >= 6); on the host network, decided. */
		sk_verdict v = { SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, "builtin", 1 };
		if (!b->private_net) {
			sk_event ev = { .kind = SK_EVENT_CONNECT };
			ev.connect.family = SK_NET_FAMILY_UNIX;
			v = b->cfg->sup.decide(b->cfg->sup.decide_ctx, &ev);
			sk_sup_record rec = { .ev = ev, .verdict = v, .op = op, .via = "@abstract",
					      .error = v.action == SK_ACTION_ALLOW ? 0 : EACCES };
			if (broker_reportable(&v))
				broker_report(b, &rec);
		}
		return settle(b, &v);
	}
	char via[sizeof(sun->sun_path) + 1], path[BROKER_PATH_MAX + 64];
	size_t n = plen < sizeof(sun->sun_path) ? plen : sizeof(sun->sun_path);
	memcpy(via, sun->sun_path, n);
	via[n] = '\0';
	int dfd, r = broker_prepare(b, AT_FDCWD, via, path, sizeof(path), &dfd);
	if (r < 0) {
		if (d)
			d->unix_errno = -r;   /* as the kernel would refuse it */
		return true;
	}
	int fd = openat(dfd, path, O_PATH | O_CLOEXEC);
	int e = fd < 0 ? errno : 0;
	resolved res;   /* filled by broker_describe; has_object says whether */
	res.has_object = false;
	char missing[BROKER_PATH_MAX];
	bool have = fd >= 0 && broker_describe(b, fd, &res) == 0;
	if (!have)
		broker_name_missing(dfd, path, missing, sizeof(missing));
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0 && !have) {
		close(fd);
		fd = -1;
	}
	sk_verdict v = broker_decide_file(b, op, via, have ? &res : NULL, have ? NULL : missing, SK_ACCESS_WRITE,
					  -1, have ? 0 : (e ? e : EACCES));
	if (!have && broker_mere_refusal(&v, e ? e : EACCES)) {
		/* Nothing there (glibc probing for nscd, say), and no protected
		 * name: the kernel's own answer; no attempt. */
		b->stats.events++;
		b->stats.allowed++;
		if (d)
			d->unix_errno = e ? e : EACCES;
		return true;
	}
	bool allowed = settle(b, &v);
	if (allowed && d && fd >= 0)
		unix_proxy_to(d, fd);
	else if (fd >= 0)
		close(fd);
	else if (allowed && d)
		d->unix_errno = e ? e : EACCES;   /* nothing there to connect to */
	return allowed;
}

/* The destination at addr (alen bytes) in the process, decided and
 * reported; true: let the call through.  What cannot be read whole is
 * left to the kernel, which refuses it the same way (EFAULT, EINVAL). */
static bool destination_allowed(broker *b, uint64_t addr, uint64_t alen, const char *op, destination *d)
{
	struct sockaddr_storage ss = { 0 };
	size_t len = (size_t)alen < sizeof(ss) ? (size_t)alen : sizeof(ss);
	struct iovec l = { &ss, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t got = len < sizeof(sa_family_t) ? 0 : process_vm_readv((pid_t)b->req->pid, &l, 1, &r, 1, 0);
	if (got < 0 && errno == EPERM) {
		/* A process that made itself unreadable: undecidable, refused
		 * (fail closed), as its opens are. */
		b->stats.unreadable++;
		return false;
	}
	if (d)
		d->family = got == (ssize_t)len ? ss.ss_family : -1;
	if (got != (ssize_t)len || !broker_still_valid(b))
		return true;
	b->stats.connects++;
	sk_event ev = { .kind = SK_EVENT_CONNECT };
	char via[INET6_ADDRSTRLEN + 16];
	if (ss.ss_family == AF_UNIX)
		return unix_allowed(b, (const struct sockaddr_un *)&ss, len, op, d);
	if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		ev.connect.family = SK_NET_FAMILY_INET4;
		memcpy(ev.connect.addr, &in->sin_addr, 4);
		ev.connect.port = ntohs(in->sin_port);
		inet_ntop(AF_INET, &in->sin_addr, via, sizeof(via));
	} else if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		ev.connect.family = SK_NET_FAMILY_INET6;
		memcpy(ev.connect.addr, &in6->sin6_addr, 16);
		ev.connect.port = ntohs(in6->sin6_port);
		inet_ntop(AF_INET6, &in6->sin6_addr, via, sizeof(via));
	} else {
		return true;
	}
	snprintf(via + strlen(via), sizeof(via) - strlen(via), ":%u", ev.connect.port);
	canonical_destination(&ev);
	if (b->private_net && loopback(&ev)) {
		/* The sandbox's own loopback: not a surface. */
		sk_verdict v = { SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, "builtin", 1 };
		return settle(b, &v);
	}
	if (d) {
		memcpy(&d->ss, &ss, len);
		d->len = (socklen_t)len;
		d->dial = true;
	}
	return broker_decide_event(b, &ev, op, via);
}

/* The process's socket fd as a descriptor of ours (pidfd_getfd: the
 * process is dumpable and our child, as for reading its memory); -errno.
 * The thread's pidfd is kept for its next call (a thread's calls come in
 * runs): a pidfd names one thread, so when that thread is gone (ESRCH) and
 * its number taken by another, a new one is opened. */
static int socket_of(broker *b, int fd)
{
	pid_t tid = (pid_t)b->req->pid;
	for (int fresh = 0; fresh < 2; fresh++) {
		int pidfd = b->pidfd_tid == tid ? b->pidfd : -1;
		if (pidfd < 0) {
			if (b->pidfd >= 0)
				close(b->pidfd);
			b->pidfd = -1;
			pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
			if (pidfd >= 0) {
				b->pidfd = pidfd;
				b->pidfd_tid = tid;
			} else if (errno == EINVAL) {   /* before 6.9: thread group leaders only; not kept */
				pidfd = (int)syscall(SYS_pidfd_open, (pid_t)broker_status_field(tid, "Tgid:", 10, -1), 0);
			}
			if (pidfd < 0)
				return -errno;
		}
		int s = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		int e = errno;
		if (pidfd != b->pidfd)
			close(pidfd);
		if (s >= 0)
			return s;
		if (e != ESRCH || pidfd != b->pidfd)
			return -e;
		close(b->pidfd);   /* the thread that pidfd named is gone */
		b->pidfd = -1;
	}
	return -ESRCH;
}

/* Where msg_name and msg_namelen lie in a message header, and how far
 * apart the headers of sendmmsg are, for the calling ABI. */
typedef struct header_layout {
	size_t name_size, namelen_at, stride;
	size_t iov_at, iovlen_at, control_at, controllen_at, msglen_at;
	bool compat;
} header_layout;

static header_layout layout_of(uint32_t arch)
{
	if (arch == AUDIT_ARCH_I386)   /* compat_msghdr, compat_mmsghdr: 4-byte words */
		return (header_layout){ 4, 4, 32, 8, 12, 16, 20, 28, true };
	return (header_layout){ sizeof(void *), offsetof(struct msghdr, msg_namelen), sizeof(struct mmsghdr),
				offsetof(struct msghdr, msg_iov), offsetof(struct msghdr, msg_iovlen),
				offsetof(struct msghdr, msg_control), offsetof(struct msghdr, msg_controllen),
				offsetof(struct mmsghdr, msg_len), false };
}

/* len bytes of the process at addr into buf: 0, or -EFAULT as the kernel
 * would say for memory it cannot read. */
static int read_process(broker *b, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	if (len == 0)
		return 0;
	ssize_t got = process_vm_readv((pid_t)b->req->pid, &l, 1, &r, 1, 0);
	return got == (ssize_t)len ? 0 : -EFAULT;
}

/* One word of the caller's ABI at p (4 or 8 bytes). */
static uint64_t word(const uint8_t *p, size_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size);   /* little-endian: the low bytes */
	return v;
}

/* A datagram to d on s, sent here: the caller's flags, but never blocking
 * the broker for long (a full send buffer waits up to a second, as the
 * process would have, if its socket blocks). */
static ssize_t send_datagram(int s, const destination *d, struct msghdr *m, int flags)
{
	if (d) {
		m->msg_name = (void *)&d->ss;
		m->msg_namelen = d->len;
	}
	flags &= ~MSG_ZEROCOPY;   /* the bytes are ours, in a buffer freed on return */
	ssize_t r = sendmsg(s, m, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
	int fl = fcntl(s, F_GETFL);
	if (r < 0 && errno == EAGAIN && !(flags & MSG_DONTWAIT) && fl >= 0 && !(fl & O_NONBLOCK) &&
	    poll(&(struct pollfd){ .fd = s, .events = POLLOUT }, 1, 1000) > 0)
		r = sendmsg(s, m, flags | MSG_DONTWAIT | MSG_NOSIGNAL);
	return r < 0 ? -errno : r;
}

/* The data (iovlen pieces at iov, in the caller's ABI) gathered into buf
 * (at least MAX_DATAGRAM bytes); its length, or -errno. */
static ssize_t gather(broker *b, const header_layout *h, uint64_t iov, uint64_t iovlen, uint8_t *buf)
{
	size_t piece = h->compat ? 8 : 16, total = 0;
	if (iovlen > MAX_IOV)
		return -EMSGSIZE;
	for (uint64_t i = 0; i < iovlen; i++) {
		uint8_t v[16];
		int r = read_process(b, iov + i * piece, v, piece);
		if (r < 0)
			return r;
		uint64_t base = word(v, piece / 2), len = word(v + piece / 2, piece / 2);
		if (len > MAX_DATAGRAM - total)
			return -EMSGSIZE;
		if ((r = read_process(b, base, buf + total, (size_t)len)) < 0)
			return r;
		total += (size_t)len;
	}
	return (ssize_t)total;
}

/* sendto(fd, buf, n, flags, addr, alen) on a datagram socket: the bytes
 * read once, sent to the address decided. */
static void sendto_for(broker *b, int s, const destination *d)
{
	const __u64 *a = b->req->data.args;
	uint8_t *buf = a[2] <= MAX_DATAGRAM ? malloc(a[2] ? (size_t)a[2] : 1) : NULL;
	ssize_t r = !buf ? (a[2] > MAX_DATAGRAM ? -EMSGSIZE : -ENOMEM) : read_process(b, a[1], buf, (size_t)a[2]);
	if (r == 0) {
		struct msghdr m = { .msg_iov = &(struct iovec){ buf, (size_t)a[2] }, .msg_iovlen = 1 };
		r = send_datagram(s, d, &m, (int)a[3]);
	}
	free(buf);
	broker_respond(b, r < 0 ? 0 : r, r < 0 ? (int)-r : 0, 0);
}

/* The process's socket as ours, and what it is. */
typedef struct sock_info {
	int s, domain, type, proto;
} sock_info;

static int sock_info_of(broker *b, int fd, sock_info *si)
{
	socklen_t l = sizeof(int);
	if ((si->s = socket_of(b, fd)) < 0)
		return si->s;
	si->type = si->proto = 0;   /* asked only of internet and Unix sockets */
	if (getsockopt(si->s, SOL_SOCKET, SO_DOMAIN, &si->domain, &l) < 0 ||
	    ((si->domain == AF_INET || si->domain == AF_INET6 || si->domain == AF_UNIX) &&
	     getsockopt(si->s, SOL_SOCKET, SO_TYPE, &si->type, &l) < 0) ||
	    ((si->domain == AF_INET || si->domain == AF_INET6) &&
	     getsockopt(si->s, SOL_SOCKET, SO_PROTOCOL, &si->proto, &l) < 0)) {
		int e = errno;
		close(si->s);
		return -e;
	}
	return 0;
}

static bool inet(const sock_info *si)
{
	return si->domain == AF_INET || si->domain == AF_INET6;
}

static bool tcp(const sock_info *si)
{
	return si->type == SOCK_STREAM && (si->proto == IPPROTO_TCP || si->proto == IPPROTO_MPTCP);
}

/* Connect the process's TCP socket to d, the address decided: the kernel
 * never reads the process's buffer again, so a thread that rewrites it
 * meanwhile dials nothing else.  A blocking socket is set connecting here
 * and the process's call then let through: a connecting socket waits for
 * that connection and ignores the address it is given.
 *
 * send: the call is a sendto/sendmsg/sendmmsg with MSG_FASTOPEN naming d,
 * a connection made here the same way; the data then goes out on it. */
static void connect_tcp(broker *b, int s, const destination *d, bool send)
{
	int flags = fcntl(s, F_GETFL);
	bool blocking = flags >= 0 && !(flags & O_NONBLOCK);
	if (blocking && fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0)
		blocking = false;
	int r = connect(s, (const struct sockaddr *)&d->ss, d->len);
	int e = r < 0 ? errno : 0;
	if (blocking)
		fcntl(s, F_SETFL, flags);
	bool through = send ? e == 0 || e == EISCONN || e == EALREADY || (blocking && e == EINPROGRESS)
			    : blocking && e == EINPROGRESS;
	if (through)
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else
		broker_respond(b, 0, e, 0);
}

/* An internet socket given an address that was not decided as one (another
 * family, AF_UNSPEC, or memory that could not be read): what the kernel
 * would answer, without letting it read the address again (a thread could
 * make it an internet address meanwhile).  AF_UNSPEC to connect undoes a
 * datagram socket's association: done here. */
static void undecided(broker *b, int s, const destination *d, bool connecting)
{
	if (d->family == AF_UNSPEC && connecting) {
		struct sockaddr sa = { .sa_family = AF_UNSPEC };
		broker_respond(b, 0, connect(s, &sa, sizeof(sa)) < 0 ? errno : 0, 0);
	} else {
		broker_respond(b, 0, d->family < 0 ? EFAULT : EAFNOSUPPORT, 0);
	}
}

/* Connect the process's Unix socket to d, decided: the socket file through
 * our descriptor of it (or the abstract name as read), so that no thread
 * can make the kernel resolve another path meanwhile.  The connect is
 * ours: a blocking socket whose listener's backlog is full waits here, up
 * to a second, as the process would have; a server asking SO_PEERCRED
 * sees the sandbox's init (same uid and gid) instead of the process. */
static void connect_unix(broker *b, int s, const destination *d)
{
	int flags = fcntl(s, F_GETFL);
	bool blocking = flags >= 0 && !(flags & O_NONBLOCK);
	if (blocking && fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0)
		blocking = false;
	int e = 0;
	for (int waited_ms = 0;; waited_ms += 10) {
		e = connect(s, (const struct sockaddr *)&d->ss, d->len) < 0 ? errno : 0;
		if (!blocking || e != EAGAIN || waited_ms >= 1000)
			break;
		poll(NULL, 0, 10);
	}
	if (blocking)
		fcntl(s, F_SETFL, flags);
	broker_respond(b, 0, e, 0);
}

/* connect or sendto on a Unix socket: what was decided is done here. */
static void unix_for(broker *b, const sock_info *si, const destination *d, bool send)
{
	if (d->unix_errno) {
		broker_respond(b, 0, d->unix_errno, 0);   /* the path reached nothing */
	} else if (send && si->type != SOCK_DGRAM) {
		/* A stream socket refuses any address, a seqpacket one ignores
		 * it, whatever a thread puts there. */
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	} else if (!d->unix_proxy && d->family == AF_UNSPEC && !send) {
		struct sockaddr sa = { .sa_family = AF_UNSPEC };   /* a datagram socket's association undone */
		broker_respond(b, 0, connect(si->s, &sa, sizeof(sa)) < 0 ? errno : 0, 0);
	} else if (!d->unix_proxy) {
		broker_respond(b, 0, d->family < 0 ? EFAULT : EINVAL, 0);   /* no Unix address */
	} else if (send) {
		sendto_for(b, si->s, d);
	} else {
		connect_unix(b, si->s, d);
	}
}

/* connect(fd, addr, len); sendto(fd, buf, n, flags, addr, len) with an
 * address (the filter sends only those).  What is allowed is done here,
 * on the process's own socket, with the address decided: on a Unix socket
 * (unix_for) and on an internet one (connect_tcp, sendto_for).  Other
 * families take no address a thread could turn into one of those. */
void broker_handle_connect(broker *b, int kind)
{
	const __u64 *a = b->req->data.args;
	bool send = kind == K_SENDTO;
	destination d = { .dial = false, .family = -1, .unix_fd = -1 };
	bool allowed = destination_allowed(b, send ? a[4] : a[1], send ? a[5] : a[2], send ? "sendto" : "connect", &d);
	if (!allowed) {
		broker_answer(b, false);
		release_destination(&d);
		return;
	}
	sock_info si;
	int r = sock_info_of(b, (int)a[0], &si);
	if (r < 0) {
		broker_respond(b, 0, r == -EBADF || r == -ENOTSOCK ? -r : EACCES, 0);
		release_destination(&d);
		return;
	}
	bool fastopen = send && (a[3] & MSG_FASTOPEN);
	if (si.domain == AF_UNIX)
		unix_for(b, &si, &d, send);
	else if (!inet(&si) || b->private_net)
		/* On the private network only its own loopback answers: no
		 * address a thread could put in its place leads anywhere else. */
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else if (si.type == SOCK_DGRAM && send)
		d.dial || d.family == AF_UNSPEC ? sendto_for(b, si.s, d.dial ? &d : NULL) : undecided(b, si.s, &d, false);
	else if (!d.dial)
		undecided(b, si.s, &d, !send);
	else if (tcp(&si) && (!send || fastopen))
		connect_tcp(b, si.s, &d, send);
	else if (tcp(&si))
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);   /* TCP ignores the address */
	else if (si.type == SOCK_DGRAM)
		broker_respond(b, 0, connect(si.s, (const struct sockaddr *)&d.ss, d.len) < 0 ? errno : 0, 0);
	else
		broker_respond(b, 0, EACCES, 0);   /* SCTP and the like would take the address again */
	close(si.s);
	release_destination(&d);
}

/* The messages of sendmsg (n = 1) or sendmmsg on a datagram socket, sent
 * here each to the address decided for it (or to the socket's peer when
 * it names none), the bytes read once.  sendmmsg's msg_len are written
 * back; it answers how many went, or the first one's error. */
static void datagrams_for(broker *b, int s, bool many, size_t n, const header_layout *h, const destination *dests)
{
	const __u64 *a = b->req->data.args;
	uint8_t *buf = malloc(MAX_DATAGRAM), *ctl = NULL;
	int flags = (int)(many ? a[3] : a[2]);
	size_t sent = 0;
	ssize_t r = buf ? 0 : -ENOMEM;
	for (size_t i = 0; r >= 0 && i < n; i++) {
		uint8_t head[64];
		uint64_t at = a[1] + i * h->stride;
		if ((r = read_process(b, at, head, h->msglen_at)) < 0)
			break;
		uint64_t iov = word(head + h->iov_at, h->name_size), iovlen = word(head + h->iovlen_at, h->name_size);
		uint64_t control = word(head + h->control_at, h->name_size);
		uint64_t clen = word(head + h->controllen_at, h->name_size);
		if (!dests[i].dial && dests[i].family != AF_UNSPEC) {   /* AF_UNSPEC (0): none */
			r = dests[i].family < 0 ? -EFAULT : -EAFNOSUPPORT;
			break;
		}
		if ((r = gather(b, h, iov, iovlen, buf)) < 0)
			break;
		size_t len = (size_t)r;
		if (clen && (h->compat || clen > MAX_CONTROL)) {
			r = h->compat ? -EINVAL : -ENOBUFS;   /* i386 control messages are not translated */
			break;
		}
		uint8_t *c = clen ? realloc(ctl, (size_t)clen) : ctl;
		if (clen && !c) {
			r = -ENOMEM;
			break;
		}
		ctl = c;
		if (clen && (r = read_process(b, control, ctl, (size_t)clen)) < 0)
			break;
		struct msghdr m = { .msg_iov = &(struct iovec){ buf, len }, .msg_iovlen = 1,
				    .msg_control = clen ? ctl : NULL, .msg_controllen = (size_t)clen };
		if ((r = send_datagram(s, dests[i].dial ? &dests[i] : NULL, &m, flags)) < 0)
			break;
		if (many) {
			uint32_t done = (uint32_t)r;
			struct iovec l = { &done, 4 }, rem = { (void *)(uintptr_t)(at + h->msglen_at), 4 };
			process_vm_writev((pid_t)b->req->pid, &l, 1, &rem, 1, 0);
			sent++;
		}
	}
	free(buf);
	free(ctl);
	if (many && sent)
		broker_respond(b, (int64_t)sent, 0, 0);
	else
		broker_respond(b, r < 0 ? 0 : r, r < 0 ? (int)-r : 0, 0);
}

/* sendmsg(fd, msg, flags), sendmmsg(fd, vec, vlen, flags): every address
 * in the headers is a destination (sendmsg with MSG_FASTOPEN even opens a
 * TCP connection without connect).  One refused address refuses the call.
 * On an internet datagram socket the messages are sent here (a thread
 * could otherwise rewrite an address the kernel reads again, or give one
 * to a header that named none); on TCP the addresses matter only with
 * MSG_FASTOPEN, and the connection is made here. */
void broker_handle_sendmsg(broker *b, int kind)
{
	const __u64 *a = b->req->data.args;
	bool many = kind == K_SENDMMSG;
	const char *op = many ? "sendmmsg" : "sendmsg";
	size_t n = many ? (size_t)(a[2] < MAX_MMSG ? a[2] : MAX_MMSG) : 1, read = 0;
	header_layout h = layout_of(b->req->data.arch);
	destination *dests = calloc(n ? n : 1, sizeof(*dests));
	if (!dests) {
		broker_respond(b, 0, ENOMEM, 0);
		return;
	}
	for (size_t i = 0; i < n; i++)
		dests[i].unix_fd = -1;
	destination *first = NULL;   /* a TCP socket's connection: the first named */
	bool named = false;
	for (; read < n; read++) {
		uint8_t head[16] = { 0 };
		struct iovec l = { head, h.namelen_at + 4 }, r = { (void *)(uintptr_t)(a[1] + read * h.stride), l.iov_len };
		ssize_t got = process_vm_readv((pid_t)b->req->pid, &l, 1, &r, 1, 0);
		if (got < 0 && errno == EPERM) {
			b->stats.unreadable++;
			broker_answer(b, false);
			free_destinations(dests, n);
			return;
		}
		if (got != (ssize_t)l.iov_len)
			break;   /* the kernel stops at the same bad header */
		uint64_t name = word(head, h.name_size);
		uint32_t namelen = (uint32_t)word(head + h.namelen_at, 4);
		destination *d = &dests[read];
		*d = (destination){ .dial = false, .family = 0, .unix_fd = -1 };   /* family 0: no address */
		named |= name && namelen;
		if (name && namelen && !destination_allowed(b, name, namelen, op, d)) {
			broker_answer(b, false);
			free_destinations(dests, n);
			return;
		}
		if (d->dial && !first)
			first = d;
	}
	if (!named) {
		/* Nothing decided (a connected socket), but counted like every
		 * notification. */
		b->stats.events++;
		b->stats.allowed++;
	}
	sock_info si;
	int r = sock_info_of(b, (int)a[0], &si);
	bool fastopen = (many ? a[3] : a[2]) & MSG_FASTOPEN;
	if (r < 0)
		broker_respond(b, 0, r == -EBADF ? EBADF : EACCES, 0);
	else if (!inet(&si) || (tcp(&si) && !fastopen))
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else if (tcp(&si) && first)
		connect_tcp(b, si.s, first, true);
	else if (tcp(&si))
		broker_respond(b, 0, EDESTADDRREQ, 0);   /* nothing decided: the kernel would read an address */
	else if (si.type == SOCK_DGRAM && read)
		datagrams_for(b, si.s, many, read, &h, dests);
	else if (si.type == SOCK_DGRAM)
		broker_respond(b, 0, n ? EFAULT : 0, 0);   /* sendmmsg of none sends none */
	else
		broker_respond(b, 0, EACCES, 0);   /* SCTP and the like would take the address again */
	if (r == 0)
		close(si.s);
	free_destinations(dests, n);
}
