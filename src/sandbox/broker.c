/* The supervisor inside the sandbox.  It runs in the sandbox's init, in the
 * same mount namespace, Landlock domain and uid as the command, and answers
 * the seccomp notifications of every process of the command's tree:
 *   open/creat/openat/openat2  opened here, decided on the object opened,
 *                              that object handed over (broker_open.c);
 *   execve/execveat            decided on the executable the path resolves
 *                              to, then let through (see docs: a rename
 *                              race between decision and exec remains; the
 *                              profile's denied commands are also hidden
 *                              by the mount tree, which has no such race);
 *   connect, and sendto/       decided on the destination address
 *   sendmsg/sendmmsg with one  (broker_net.c; loopback of a private
 *                              network is not a surface).
 * Every event that is not plainly allowed goes to the caller as a record;
 * an escalation stops the command. */
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "broker.h"

/* Linux 6.6: the notifying task and the supervisor hand the CPU to each
 * other directly (bookworm's headers predate it). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

void broker_respond(broker *b, int64_t val, int error, uint32_t flags)
{
	memset(b->resp, 0, b->resp_size);
	b->resp->id = b->req->id;
	b->resp->val = val;
	b->resp->error = error ? -error : 0;
	b->resp->flags = flags;
	/* ENOENT: the process went away meanwhile; nothing to answer. */
	ioctl(b->listener, SECCOMP_IOCTL_NOTIF_SEND, b->resp);
}

void broker_report(broker *b, sk_sup_record *rec)
{
	rec->pid = (int)b->req->pid;
	if (b->cfg->sup.note)
		b->cfg->sup.note(b->cfg->sup.decide_ctx, &rec->ev, &rec->verdict);
	if (b->event_fd >= 0 && sk_wire_send_record(b->event_fd, rec) < 0) {
		/* Nobody can record it: stop everything (fail closed). */
		kill(-1, SIGKILL);
	}
}

void broker_after_verdict(broker *b, const sk_verdict *v)
{
	b->stats.events++;
	if (v->action == SK_ACTION_ALLOW) {
		b->stats.allowed++;
		return;
	}
	if (v->action == SK_ACTION_DENY) {
		b->stats.denied++;
		return;
	}
	/* An escalation: the command does not go on until a human answers. */
	b->stats.escalated++;
	b->escalated = true;
	kill(-1, SIGKILL);
}

static const sk_hidden_file *hidden_at(const broker *b, const char *path)
{
	size_t lo = 0, hi = b->cfg->sup.n_hidden;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->cfg->sup.hidden[mid].path, path);
		if (c == 0)
			return &b->cfg->sup.hidden[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool size_wanted(const broker *b, uint64_t size)
{
	size_t lo = 0, hi = b->cfg->sup.n_sizes;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t m = b->cfg->sup.sizes[mid];
		if (m == size)
			return true;
		if (m < size)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static const sk_carrier_file *carrier_of(const broker *b, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < b->cfg->sup.n_carriers; i++)
		if (b->cfg->sup.carriers[i].dev == dev && b->cfg->sup.carriers[i].ino == ino)
			return &b->cfg->sup.carriers[i];
	return NULL;
}

/* Made by the sandbox: its tmpfs mounts, its /proc, a device node, a pipe
 * or socket without a name ("pipe:[N]": no host file content behind any
 * of them).  A FIFO or a Unix socket with a name in a host directory is
 * not: a host process may be at its other end, and a connect or a write
 * open there is decided by that name's rules like any write (a socket
 * under a read-only directory refuses connects). */
static bool is_private(const broker *b, const resolved *r)
{
	const struct stat *st = &r->st;
	if (S_ISCHR(st->st_mode) || ((S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) && r->path[0] != '/'))
		return true;
	for (size_t i = 0; i < b->n_private; i++)
		if (b->private_devs[i] == (uint64_t)st->st_dev)
			return true;
	return false;
}

/* The file ref of what was reached: the stand-in of a hidden name is the
 * real object behind it; git's copy of a secret, or a file holding a
 * value of one, is that secret's content.  Negative errno when the file
 * could not be read for its values (the open is refused). */
static int fill_ref(broker *b, sk_file_ref *f, const resolved *r, const char *missing, char *content,
		    uint64_t *size, bool *by_value, int fd, unsigned access)
{
	f->path = r ? r->path : missing;
	const sk_hidden_file *h = hidden_at(b, f->path);
	const char *key = NULL;
	int e = 0;
	if (h) {
		f->has_identity = true;
		f->dev = h->dev;
		f->ino = h->ino;
		if (h->content) {
			snprintf(content, SK_FINGERPRINT_LEN + 1, "%s", h->content);
			*size = h->size;
		}
	} else if (r) {
		f->has_identity = true;
		f->dev = (uint64_t)r->st.st_dev;
		f->ino = (uint64_t)r->st.st_ino;
		f->sandbox_private = is_private(b, r);
		const sk_carrier_file *c = carrier_of(b, f->dev, f->ino);
		bool readable = fd >= 0 && S_ISREG(r->st.st_mode) && (access & SK_ACCESS_READ);
		if (c) {
			/* git's copy of a secret file: decided as that content */
			snprintf(content, SK_FINGERPRINT_LEN + 1, "%s", c->content);
			*size = c->size;
		} else if (readable) {
			if (size_wanted(b, (uint64_t)r->st.st_size) &&
			    sk_fingerprint_fd(fd, (uint64_t)r->st.st_size, content) == 0) {
				*size = (uint64_t)r->st.st_size;
				b->stats.hashed++;
			}
			bool copy = content[0] && b->cfg->sup.known_content &&
				    b->cfg->sup.known_content(b->cfg->sup.decide_ctx, content);
			if (!copy && (e = broker_value_holder(b, r, fd, &key, size)) > 0) {
				snprintf(content, SK_FINGERPRINT_LEN + 1, "%s", key);
				*by_value = true;
			}
		}
	}
	if (content[0])
		f->fingerprint = content + 8;   /* past "content:" */
	return e < 0 ? e : 0;
}

bool broker_reportable(const sk_verdict *v)
{
	return v->action != SK_ACTION_ALLOW || v->reason == SK_REASON_APPROVED;
}

/* A failed access the kernel refused for a reason that is no surface: a
 * name under a hidden directory (HOME) that a tool probes, a write on the
 * read-only system.  Secrets and denied files are attempts; these are not. */
bool broker_mere_refusal(const sk_verdict *v, int error)
{
	return error && v->action == SK_ACTION_DENY &&
	       (v->reason == SK_REASON_FILE_HIDDEN || v->reason == SK_REASON_FILE_WRITE_READ_ONLY);
}

bool broker_is_attempt(const sk_verdict *v, int error)
{
	return v->action != SK_ACTION_ALLOW && !broker_mere_refusal(v, error);
}

sk_verdict broker_decide_file(broker *b, const char *op, const char *via, const resolved *r,
			      const char *missing_path, unsigned access, int fd, int error)
{
	char content[SK_FINGERPRINT_LEN + 1] = "";
	uint64_t size = 0;
	bool by_value = false;
	const char *vias[1] = { via };
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.access = access;
	ev.file.file.via = vias;
	ev.file.file.n_via = 1;
	sk_verdict v;
	if (fill_ref(b, &ev.file.file, r, missing_path, content, &size, &by_value, fd, access) < 0) {
		/* It could not be read for the secret values it may hold. */
		b->stats.unreadable++;
		v = (sk_verdict){ .action = SK_ACTION_DENY, .reason = SK_REASON_INVALID_EVENT, .rule_id = "builtin" };
	} else {
		v = b->cfg->sup.decide(b->cfg->sup.decide_ctx, &ev);
	}
	if (broker_reportable(&v) && !broker_mere_refusal(&v, r ? 0 : error)) {
		sk_sup_record rec = { .ev = ev, .verdict = v, .op = op, .via = via, .by_value = by_value,
				      .content = content[0] ? content : NULL, .size = size,
				      .error = v.action == SK_ACTION_ALLOW ? error : (error ? error : EACCES) };
		broker_report(b, &rec);
	}
	return v;
}

bool broker_decide_event(broker *b, sk_event *ev, const char *op, const char *via)
{
	sk_verdict v = b->cfg->sup.decide(b->cfg->sup.decide_ctx, ev);
	if (broker_reportable(&v)) {
		sk_sup_record rec = { .ev = *ev, .verdict = v, .op = op, .via = via,
				      .error = v.action == SK_ACTION_ALLOW ? 0 : EACCES };
		broker_report(b, &rec);
	}
	broker_after_verdict(b, &v);
	return v.action == SK_ACTION_ALLOW;
}

void broker_answer(broker *b, bool allowed)
{
	if (allowed)
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
	else
		broker_respond(b, 0, EACCES, 0);
}

/* execve/execveat: the executable the path resolves to. */
static void handle_exec(broker *b, bool at)
{
	const __u64 *a = b->req->data.args;
	char via[BROKER_PATH_MAX], path[BROKER_PATH_MAX + 64];
	int r = broker_read_string(b, at ? a[1] : a[0], via, sizeof(via));
	if (r < 0 || !broker_still_valid(b)) {
		b->stats.unreadable += r == -EPERM;
		broker_respond(b, 0, r == -EPERM ? EACCES : r < 0 ? -r : ESRCH, 0);
		return;
	}
	b->stats.execs++;
	int dirfd_arg = at ? (int)a[0] : AT_FDCWD, flags = at ? (int)a[4] : 0, dfd;
	if (at && !via[0] && (flags & AT_EMPTY_PATH))
		snprintf(via, sizeof(via), "/proc/self/fd/%d", dirfd_arg);
	if (broker_prepare(b, dirfd_arg, via, path, sizeof(path), &dfd) < 0) {
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);   /* the kernel fails it alike */
		return;
	}
	int fd = openat(dfd, path, O_PATH | O_CLOEXEC | ((flags & AT_SYMLINK_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (dfd >= 0)
		close(dfd);
	resolved res;   /* filled by broker_describe; has_object says whether */
	res.has_object = false;
	if (fd < 0 || broker_describe(b, fd, &res) < 0 || !S_ISREG(res.st.st_mode)) {
		if (fd >= 0)
			close(fd);
		/* Nothing executable there: the kernel refuses it the same way. */
		broker_respond(b, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		return;
	}
	close(fd);
	char content[SK_FINGERPRINT_LEN + 1] = "";
	uint64_t size = 0;
	bool by_value = false;
	sk_event ev = { .kind = SK_EVENT_COMMAND };
	const char *vias[1] = { via };
	ev.command.exe.via = vias;
	ev.command.exe.n_via = 1;
	fill_ref(b, &ev.command.exe, &res, NULL, content, &size, &by_value, -1, 0);
	broker_answer(b, broker_decide_event(b, &ev, at ? "execveat" : "execve", via));
}

static int kind_of(uint32_t arch, int nr)
{
	if (arch == AUDIT_ARCH_X86_64)
		switch (nr) {
		case 2: return K_OPEN;
		case 85: return K_CREAT;
		case 257: return K_OPENAT;
		case 437: return K_OPENAT2;
		case 59: return K_EXECVE;
		case 322: return K_EXECVEAT;
		case 42: return K_CONNECT;
		case 44: return K_SENDTO;
		case 46: return K_SENDMSG;
		case 307: return K_SENDMMSG;
		}
	if (arch == AUDIT_ARCH_I386)
		switch (nr) {
		case 5: return K_OPEN;
		case 8: return K_CREAT;
		case 295: return K_OPENAT;
		case 437: return K_OPENAT2;
		case 11: return K_EXECVE;
		case 358: return K_EXECVEAT;
		case 362: return K_CONNECT;
		case 369: return K_SENDTO;
		case 370: return K_SENDMSG;
		case 345: return K_SENDMMSG;
		}
	return 0;
}

/* Answer the notification in b->req.  Called with the lock held. */
static void handle_one(broker *b)
{
	int k = kind_of(b->req->data.arch, b->req->data.nr);
	switch (k) {
	case K_OPEN: case K_CREAT: case K_OPENAT: case K_OPENAT2:
		broker_handle_open(b, k);
		break;
	case K_EXECVE: case K_EXECVEAT:
		handle_exec(b, k == K_EXECVEAT);
		break;
	case K_CONNECT: case K_SENDTO:
		broker_handle_connect(b, k);
		break;
	case K_SENDMSG: case K_SENDMMSG:
		broker_handle_sendmsg(b, k);
		break;
	default:
		/* The filter sends nothing else; refuse what we do not know. */
		broker_respond(b, 0, ENOSYS, 0);
	}
}

static bool listener_closed(int listener)
{
	struct pollfd p = { .fd = listener, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* A notification thread: it sleeps in RECV itself, not in poll().  The
 * kernel wakes the RECV sleepers on the CPU of the process that asked
 * (SYNC_WAKE_UP) - all of them: the wait is not exclusive (recv_wait_event,
 * Linux 6.6+), so the one that does not get the notification goes back to
 * sleep - and the answer wakes the process there too.  A thread ends when
 * no process is left under the filter. */
static void *serve(void *arg)
{
	broker *b = arg;
	sk_sched_short_slice(true);   /* per thread */
	for (;;) {
		memset(b->req, 0, b->req_size);
		if (ioctl(b->listener, SECCOMP_IOCTL_NOTIF_RECV, b->req) < 0) {
			/* EINTR; or ENOENT: the process died before we read it,
			 * or none is left. */
			if ((errno == EINTR || errno == ENOENT) && !listener_closed(b->listener))
				continue;
			return NULL;
		}
		broker_lock(b);
		handle_one(b);
		broker_unlock(b);
		broker_give_pending(b);
	}
}

static void add_stats(sk_sup_stats *to, const sk_sup_stats *from)
{
	to->events += from->events;
	to->opens += from->opens;
	to->execs += from->execs;
	to->connects += from->connects;
	to->allowed += from->allowed;
	to->denied += from->denied;
	to->escalated += from->escalated;
	to->unreadable += from->unreadable;
	to->hashed += from->hashed;
	to->scanned += from->scanned;
}

/* A thread's own notification and answer buffers, of the kernel's sizes
 * (never smaller than ours).  0, or -ENOMEM with what was made freed by
 * the caller. */
static int alloc_buffers(broker *b)
{
	b->req = calloc(1, b->req_size < sizeof(*b->req) ? sizeof(*b->req) : b->req_size);
	b->resp = calloc(1, b->resp_size < sizeof(*b->resp) ? sizeof(*b->resp) : b->resp_size);
	return b->req && b->resp ? 0 : -ENOMEM;
}

/* Init keeps only these fds (the rest were closed): none may be handed
 * to the command, whatever path leads to them. */
static void remember_own_fds(broker *b, const int *fds, size_t n)
{
	for (size_t i = 0; i < n && b->n_own < BROKER_MAX_OWN; i++) {
		struct stat st;
		if (fds[i] >= 0 && fstat(fds[i], &st) == 0) {
			b->own[b->n_own].dev = (uint64_t)st.st_dev;
			b->own[b->n_own].ino = (uint64_t)st.st_ino;
			b->n_own++;
		}
	}
}

/* The file systems the sandbox made for itself. */
static void remember_private(broker *b)
{
	const char *paths[] = { "/", "/tmp", "/var/tmp", "/run", "/dev", "/dev/shm", "/dev/pts", "/proc",
				b->cfg->home };
	for (size_t i = 0; i < SK_ARRAY_LEN(paths) && b->n_private < BROKER_MAX_PRIVATE; i++) {
		struct stat st;
		if (paths[i] && stat(paths[i], &st) == 0)
			b->private_devs[b->n_private++] = (uint64_t)st.st_dev;
	}
}

/* Two threads take the notifications.  While one sleeps in ADDFD until the
 * opener has taken its fd, the other already waits for the opener's next
 * call, and the kernel wakes it on the opener's CPU: on a virtual machine
 * whose idle CPUs halt, every wake-up of another CPU costs ~30 us
 * (docs/sessions.md).  A third thread only adds wake-ups that find
 * nothing (a micro-benchmark: slower). */
enum { BROKER_THREADS = 2 };

/* Start up to n threads, each with its own copy of b (buffers, counts);
 * the copies are stored in servers.  Returns how many run. */
static size_t start_servers(const broker *b, broker **servers, size_t n)
{
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) != 0)
		return 0;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	size_t started = 0;
	for (size_t i = 0; i < n; i++) {
		broker *s = malloc(sizeof(*s));
		if (!s)
			break;
		*s = *b;
		pthread_t thread;
		if (alloc_buffers(s) < 0 || pthread_create(&thread, &attr, serve, s) != 0) {
			free(s->req);
			free(s->resp);
			free(s);
			break;
		}
		servers[started++] = s;   /* lives as long as init */
	}
	pthread_attr_destroy(&attr);
	return started;
}

int sk_broker_run(const sk_sandbox_config *cfg, int listener, int event_fd, int sig_fd, int report_fd, pid_t cmd,
		  int *status)
{
	struct seccomp_notif_sizes sizes;
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
		return -errno;
	broker_shared shared;
	memset(&shared, 0, sizeof(shared));   /* the memo of values starts empty */
	pthread_mutex_init(&shared.lock, NULL);
	broker b = { .cfg = cfg, .shared = &shared, .listener = listener, .event_fd = event_fd,
		     .req_size = sizes.seccomp_notif, .resp_size = sizes.seccomp_notif_resp,
		     .private_net = cfg->net == SK_NET_NONE, .give_fd = -1, .pidfd = -1 };
	const int own[] = { listener, event_fd, sig_fd, report_fd };
	remember_own_fds(&b, own, SK_ARRAY_LEN(own));
	remember_private(&b);
	/* Best effort: older kernels answer EINVAL and wake up the usual way. */
	ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, (__u64)SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
	struct stat st;
	if (stat("/.stockade-empty", &st) == 0) {
		b.empty_dev = (uint64_t)st.st_dev;
		b.empty_ino = (uint64_t)st.st_ino;
	}
	broker *servers[BROKER_THREADS];
	size_t n_servers = start_servers(&b, servers, BROKER_THREADS);
	if (n_servers == 0)
		return -EAGAIN;   /* nobody would answer: fail closed */
	/* This thread waits for the command's exit and passes signals on. */
	bool done = false;
	while (!done) {
		struct signalfd_siginfo si;
		ssize_t n = read(sig_fd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(si))
			break;
		if (si.ssi_signo != SIGCHLD) {
			kill(cmd, (int)si.ssi_signo);
			continue;
		}
		pid_t w;
		int st_w;
		while ((w = waitpid(-1, &st_w, WNOHANG)) > 0)
			if (w == cmd) {
				*status = st_w;
				done = true;
			}
	}
	/* Take the lock for good: the threads stop between notifications (one
	 * may sleep in ADDFD for a process that is gone; init exits next, and
	 * with it the threads), and their counts hold still. */
	broker_lock(&b);
	for (size_t i = 0; i < n_servers; i++)
		add_stats(&b.stats, &servers[i]->stats);
	if (event_fd >= 0)
		sk_wire_send_stats(event_fd, &b.stats);
	return done ? 0 : -EIO;
}
