/* The broker's network side: the destination of connect, and of sendto,
 * sendmsg and sendmmsg wherever they carry one, decided on the address the
 * kernel dials (for a Unix socket, on its socket file).  An allowed connect
 * to an internet address is made here, on the process's own socket, with
 * the address decided; the other calls are let through once decided (see
 * docs/sessions.md, "Limits"). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker.h"

/* sendmmsg takes at most this many headers (the kernel's UIO_MAXIOV). */
enum { MAX_MMSG = 1024 };

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL   /* Linux 6.9 */
#endif

/* A destination as the process gave it, once decided. */
typedef struct destination {
	struct sockaddr_storage ss;
	socklen_t len;
	bool dial;   /* an internet address that was decided: connect it here */
} destination;

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

static bool unix_allowed(broker *b, const struct sockaddr_un *sun, size_t len, const char *op)
{
	size_t plen = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
	if (plen == 0 || sun->sun_path[0] == '\0') {
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
	int dfd;
	if (broker_prepare(b, AT_FDCWD, via, path, sizeof(path), &dfd) < 0)
		return true;   /* the kernel refuses it alike */
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
	if (fd >= 0)
		close(fd);
	sk_verdict v = broker_decide_file(b, op, via, have ? &res : NULL, have ? NULL : missing, SK_ACCESS_WRITE,
					  -1, have ? 0 : (e ? e : EACCES));
	if (!have && broker_mere_refusal(&v, e ? e : EACCES)) {
		/* Nothing there (glibc probing for nscd, say), and no protected
		 * name: the kernel gives its own answer; no attempt. */
		b->stats.events++;
		b->stats.allowed++;
		return true;
	}
	return settle(b, &v);
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
	if (got != (ssize_t)len || !broker_still_valid(b))
		return true;
	b->stats.connects++;
	sk_event ev = { .kind = SK_EVENT_CONNECT };
	char via[INET6_ADDRSTRLEN + 16];
	if (ss.ss_family == AF_UNIX)
		return unix_allowed(b, (const struct sockaddr_un *)&ss, len, op);
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
 * process is dumpable and our child, as for reading its memory); -errno. */
static int socket_of(broker *b, int fd)
{
	pid_t tid = (pid_t)b->req->pid;
	int pidfd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (pidfd < 0 && errno == EINVAL)   /* before 6.9: thread group leaders only */
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)broker_status_field(tid, "Tgid:", 10, -1), 0);
	if (pidfd < 0)
		return -errno;
	int s = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	int e = errno;
	close(pidfd);
	return s < 0 ? -e : s;
}

/* Connect the process's own socket to d, the address decided: the kernel
 * never reads the process's buffer again, so a thread that rewrites it
 * meanwhile dials nothing else.  A blocking TCP socket is set connecting
 * here and the process's call then let through: a connecting socket waits
 * for that connection and ignores the address it is given.  Other stream
 * protocols (SCTP) would take the new address: refused.
 *
 * send: the call is a sendto/sendmsg/sendmmsg naming d.  On a TCP socket
 * that is a connection (MSG_FASTOPEN): made here the same way, the data
 * then goes out on it; a datagram socket is let through unconnected. */
static void connect_for(broker *b, int fd, const destination *d, bool send)
{
	int s = socket_of(b, fd);
	if (s < 0) {
		broker_respond(b, 0, s == -EBADF ? EBADF : EACCES, 0);
		return;
	}
	int type = 0, proto = 0, e = 0;
	socklen_t tl = sizeof(type), pl = sizeof(proto);
	if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &pl) < 0)
		e = errno;
	bool stream = type == SOCK_STREAM;
	if (!e && stream && proto != IPPROTO_TCP && proto != IPPROTO_MPTCP)
		e = EACCES;
	if (e || (send && !stream)) {
		close(s);
		if (e)
			broker_respond(b, 0, e, 0);
		else
			broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		return;
	}
	int flags = fcntl(s, F_GETFL);
	bool blocking = stream && flags >= 0 && !(flags & O_NONBLOCK);
	if (blocking && fcntl(s, F_SETFL, flags | O_NONBLOCK) < 0)
		blocking = false;
	int r = connect(s, (const struct sockaddr *)&d->ss, d->len);
	e = r < 0 ? errno : 0;
	if (blocking)
		fcntl(s, F_SETFL, flags);
	close(s);
	bool through = send ? e == 0 || e == EISCONN || e == EALREADY || (blocking && e == EINPROGRESS)
			    : blocking && e == EINPROGRESS;
	if (through)
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else
		broker_respond(b, 0, e, 0);
}

/* connect(fd, addr, len); sendto(fd, buf, n, flags, addr, len) with an
 * address (the filter sends only those). */
void broker_handle_connect(broker *b, int kind)
{
	const __u64 *a = b->req->data.args;
	bool send = kind == K_SENDTO;
	destination d = { .dial = false };
	bool allowed = destination_allowed(b, send ? a[4] : a[1], send ? a[5] : a[2], send ? "sendto" : "connect", &d);
	if (allowed && d.dial)
		connect_for(b, (int)a[0], &d, send);
	else
		broker_answer(b, allowed);
}

/* Where msg_name and msg_namelen lie in a message header, and how far
 * apart the headers of sendmmsg are, for the calling ABI. */
typedef struct header_layout {
	size_t name_size, namelen_at, stride;
} header_layout;

static header_layout layout_of(uint32_t arch)
{
	if (arch == AUDIT_ARCH_I386)
		return (header_layout){ 4, 4, 32 };   /* compat_msghdr, compat_mmsghdr */
	return (header_layout){ sizeof(void *), offsetof(struct msghdr, msg_namelen), sizeof(struct mmsghdr) };
}

/* sendmsg(fd, msg, flags), sendmmsg(fd, vec, vlen, flags): every address
 * in the headers is a destination (sendmsg with MSG_FASTOPEN even opens a
 * TCP connection without connect).  One refused address refuses the call. */
void broker_handle_sendmsg(broker *b, int kind)
{
	const __u64 *a = b->req->data.args;
	const char *op = kind == K_SENDMMSG ? "sendmmsg" : "sendmsg";
	size_t n = kind == K_SENDMMSG ? (size_t)(a[2] < MAX_MMSG ? a[2] : MAX_MMSG) : 1;
	header_layout h = layout_of(b->req->data.arch);
	destination first = { .dial = false };   /* a TCP socket's connection: the first named */
	bool named = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t head[16] = { 0 };
		struct iovec l = { head, h.namelen_at + 4 }, r = { (void *)(uintptr_t)(a[1] + i * h.stride), l.iov_len };
		ssize_t got = process_vm_readv((pid_t)b->req->pid, &l, 1, &r, 1, 0);
		if (got < 0 && errno == EPERM) {
			b->stats.unreadable++;
			broker_answer(b, false);
			return;
		}
		if (got != (ssize_t)l.iov_len)
			break;   /* the kernel stops at the same bad header */
		uint64_t name = 0;
		uint32_t namelen;
		memcpy(&name, head, h.name_size);
		memcpy(&namelen, head + h.namelen_at, 4);
		destination d = { .dial = false };
		named |= name && namelen;
		if (name && namelen && !destination_allowed(b, name, namelen, op, &d)) {
			broker_answer(b, false);
			return;
		}
		if (d.dial && !first.dial)
			first = d;
	}
	if (!named) {
		/* Nothing to decide (a connected socket), but counted like every
		 * notification. */
		b->stats.events++;
		b->stats.allowed++;
	}
	if (first.dial)
		connect_for(b, (int)a[0], &first, true);
	else
		broker_answer(b, true);
}
