/* stockaded's single event loop: the listening socket, a signalfd, every
 * client and every worker pipe in one poll(2).  Nothing here blocks: runs
 * happen in forked workers (jobs.c, worker.c), writes to clients are
 * non-blocking and queued in a bounded buffer; a client that overflows it
 * or stops reading is dropped, and its running commands are killed.
 * SIGTERM drains: no new connections or execs, running commands get the
 * grace period, then are killed (their outcome is still receipted). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "stockade/audit.h"
#include "internal.h"

/* ---- output to clients -------------------------------------------------- */

static void drop_client(dmn *d, client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	dmn_forget_client(d, c);
}

static void flush_client(client *c)
{
	while (c->out_len) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->closing = true, c->out_len = 0;
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
		c->last_progress_ns = sk_now_ns();
	}
}

/* Queue one encoded line (taking it); a client whose queue would pass the
 * bound is dropped: it is not reading, and nobody waits for it. */
static void send_line(dmn *d, client *c, char *line)
{
	if (!line || !c || c->dead) {
		free(line);
		return;
	}
	size_t n = strlen(line);
	if (c->out_len + n > d->o->client_buffer) {
		free(line);
		drop_client(d, c);
		return;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + n)
			cap *= 2;
		char *p = realloc(c->out, cap);
		if (!p) {
			free(line);
			drop_client(d, c);
			return;
		}
		c->out = p, c->out_cap = cap;
	}
	if (!c->out_len)
		c->last_progress_ns = sk_now_ns();
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	free(line);
	flush_client(c);
}

void dmn_send(dmn *d, client *c, char *line)
{
	send_line(d, c, line);
}

void dmn_reply_error(dmn *d, client *c, json_t *id, int code, const char *msg)
{
	send_line(d, c, sk_rpc_error(id, code, msg));
}

void dmn_reply(dmn *d, client *c, json_t *id, json_t *result)
{
	if (!result)
		return dmn_reply_error(d, c, id, SK_RPC_INTERNAL, "out of memory");
	send_line(d, c, sk_rpc_result(id, result));
}

/* ---- input from clients ------------------------------------------------- */

static void read_client(dmn *d, client *c)
{
	char buf[65536];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		return drop_client(d, c);
	char *p = realloc(c->in, c->in_len + (size_t)n);
	if (!p)
		return drop_client(d, c);
	c->in = p;
	memcpy(c->in + c->in_len, buf, (size_t)n);
	c->in_len += (size_t)n;
	size_t start = 0;
	for (size_t i = c->in_len - (size_t)n; i < c->in_len && !c->dead && !c->closing; i++) {
		if (c->in[i] != '\n')
			continue;
		size_t len = i - start;
		if (len && c->in[start + len - 1] == '\r')
			len--;
		if (len)
			dmn_handle_line(d, c, c->in + start, len);
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > SK_RPC_MAX_LINE) {
		dmn_reply_error(d, c, NULL, SK_RPC_TOO_LARGE, "message over 1 MiB; the connection is closed");
		c->closing = true;
		c->in_len = 0;
	}
}

static void accept_client(dmn *d)
{
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	client *c = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	bool ours = dmn_peer_in_our_pidns(cred.pid);
	*c = (client){ .next = d->clients, .fd = fd, .uid = cred.uid, .gid = cred.gid, .foreign = !ours,
		       .operator = ours && dmn_is_operator(d, cred.uid, cred.gid, fd) };
	d->clients = c;
}

/* ---- the loop ----------------------------------------------------------- */

enum { K_LISTEN, K_SIGNAL, K_CLIENT, K_JOB };
typedef struct slot { int kind, which; void *ptr; } slot;

static void begin_drain(dmn *d)
{
	if (d->stop) {   /* a second SIGTERM: no more grace */
		d->drain_until_ns = sk_now_ns();
		return;
	}
	d->stop = true;
	d->drain_until_ns = sk_now_ns() + (uint64_t)d->o->grace_ms * 1000000ULL;
	dmn_expire_holds(d, true);
}

static void reap(dmn *d)
{
	struct signalfd_siginfo si;
	while (read(d->sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_drain(d);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void sweep(dmn *d)
{
	uint64_t now = sk_now_ns();
	for (client *c = d->clients; c; c = c->next)
		if (!c->dead && c->out_len && now - c->last_progress_ns > (uint64_t)d->o->stall_ms * 1000000ULL)
			drop_client(d, c);
		else if (!c->dead && c->closing && !c->out_len)
			drop_client(d, c);
	if (d->stop && now >= d->drain_until_ns)
		for (job *j = d->jobs; j; j = j->next)
			if (!j->kill_at_ns)
				dmn_kill_job(d, j);
	if (now - d->kill_scan_ns > 50000000ULL) {
		d->kill_scan_ns = now;
		dmn_kill_sweep(d);
	}
	dmn_jobs_reap(d);
	dmn_expire_holds(d, false);
	dmn_spares_refill(d);
	for (client **pp = &d->clients; *pp;) {
		client *c = *pp;
		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		close(c->fd);
		free(c->in);
		free(c->out);
		free(c);
	}
}

static int poll_timeout(const dmn *d)
{
	if (dmn_any_killing(d))
		return 50;
	int ms = 1000;
	uint64_t now = sk_now_ns();
	if (d->refill_at_ns)
		ms = d->refill_at_ns <= now ? 0 : (int)((d->refill_at_ns - now) / 1000000 + 1);
	for (const hold *h = d->holds; h; h = h->next)
		if (h->until_ns <= now)
			ms = 0;
		else if ((h->until_ns - now) / 1000000 + 1 < (uint64_t)ms)
			ms = (int)((h->until_ns - now) / 1000000 + 1);
	if (d->stop)
		ms = ms > 100 ? 100 : ms;
	return ms;
}

static size_t build_pollset(dmn *d, struct pollfd **pfd, slot **sl, size_t *cap)
{
	size_t n = 2;
	for (client *c = d->clients; c; c = c->next)
		n++;
	for (job *j = d->jobs; j; j = j->next)
		n += 3;
	if (n > *cap) {
		struct pollfd *p = realloc(*pfd, n * sizeof(**pfd));
		slot *s = p ? realloc(*sl, n * sizeof(**sl)) : NULL;
		if (p)
			*pfd = p;
		if (!s)
			return 0;
		*sl = s, *cap = n;
	}
	size_t k = 0;
	(*pfd)[k] = (struct pollfd){ .fd = d->stop ? -1 : d->lfd, .events = POLLIN };
	(*sl)[k++] = (slot){ K_LISTEN, 0, NULL };
	(*pfd)[k] = (struct pollfd){ .fd = d->sfd, .events = POLLIN };
	(*sl)[k++] = (slot){ K_SIGNAL, 0, NULL };
	for (client *c = d->clients; c; c = c->next) {
		short ev = (c->closing ? 0 : POLLIN) | (c->out_len ? POLLOUT : 0);
		(*pfd)[k] = (struct pollfd){ .fd = c->dead ? -1 : c->fd, .events = ev };
		(*sl)[k++] = (slot){ K_CLIENT, 0, c };
	}
	for (job *j = d->jobs; j; j = j->next)
		for (int w = 0; w < 3; w++) {
			/* Backpressure: a client with a half-full queue gets no more output until it reads. */
			bool paused = w < 2 && j->c && j->c->out_len > d->o->client_buffer / 2;
			(*pfd)[k] = (struct pollfd){ .fd = paused ? -1 : j->fds[w], .events = POLLIN };
			(*sl)[k++] = (slot){ K_JOB, w, j };
		}
	return k;
}

static void dispatch(dmn *d, struct pollfd *pfd, slot *sl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!pfd[i].revents || pfd[i].fd < 0)
			continue;
		switch (sl[i].kind) {
		case K_LISTEN: accept_client(d); break;
		case K_SIGNAL: reap(d); break;
		case K_CLIENT: {
			client *c = sl[i].ptr;
			if (c->dead)
				break;
			if (pfd[i].revents & POLLOUT)
				flush_client(c);
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				read_client(d, c);
			break;
		}
		case K_JOB: {
			job *j = sl[i].ptr;
			if (j->fds[sl[i].which] >= 0)
				dmn_read_job(d, j, sl[i].which);
			break;
		}
		}
	}
}

/* Answers already queued get a last chance (bounded) to reach their clients. */
static void final_flush(dmn *d)
{
	uint64_t until = sk_now_ns() + 1000000000ULL;
	for (bool pending = true; pending && sk_now_ns() < until;) {
		pending = false;
		for (client *c = d->clients; c; c = c->next)
			if (!c->dead && c->out_len) {
				flush_client(c);
				pending |= c->out_len > 0;
			}
		if (pending)
			poll(NULL, 0, 10);
	}
}

static void shutdown_all(dmn *d)
{
	final_flush(d);
	for (client *c = d->clients; c; c = c->next)
		drop_client(d, c);
	for (job *j = d->jobs; j; j = j->next)
		kill(-j->pid, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	while (d->jobs) {
		job *j = d->jobs;
		for (int w = 0; w < 3; w++)
			if (j->fds[w] >= 0)
				close(j->fds[w]), j->fds[w] = -1;
		dmn_jobs_reap(d);
	}
	while (d->sessions) {
		dsession *s = d->sessions;
		d->sessions = s->next;
		dmn_session_free(s);
	}
	sweep(d);
}

/* Where the listening socket is (named, or handed over by systemd): every
 * sandbox of ours hides it. */
static void resolve_socket(dmn *d)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	memset(&a, 0, sizeof(a));
	if (getsockname(d->lfd, (struct sockaddr *)&a, &len) < 0 || a.sun_family != AF_UNIX || !a.sun_path[0])
		return;   /* abstract or unnamed: no file to hide (nor to reach) */
	a.sun_path[sizeof(a.sun_path) - 1] = '\0';
	if (!realpath(a.sun_path, d->socket) && a.sun_path[0] == '/')
		snprintf(d->socket, sizeof(d->socket), "%s", a.sun_path);
}

int sk_daemon_run(const sk_daemon_options *o, sk_error *err)
{
	dmn d = { .o = o, .lfd = o->listen_fd, .started_ns = sk_now_ns(), .zfd = -1 };
	resolve_socket(&d);
	sk_sched_short_slice(true);   /* inherited by the zygote and its spares */
	int r = sk_audit_state_dir(o->state_dir, d.state, sizeof(d.state), err);
	if (r < 0 || (r = dmn_zygote_start(&d, err)) < 0)
		return r;
	if ((r = sk_mkdir_p(d.state, 0700)) < 0)
		return sk_fail_errno(err, -r, "cannot create the state directory '%s'", d.state);
	dmn_sessions_load(&d);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
	    (d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return sk_fail_errno(err, errno, "cannot set up signal handling");
	signal(SIGPIPE, SIG_IGN);
	if (o->on_ready)
		o->on_ready();
	struct pollfd *pfd = NULL;
	slot *sl = NULL;
	size_t cap = 0;
	while (!d.stop || d.jobs) {
		size_t n = build_pollset(&d, &pfd, &sl, &cap);
		if (!n)
			break;
		if (poll(pfd, n, poll_timeout(&d)) > 0)
			dispatch(&d, pfd, sl, n);
		sweep(&d);
	}
	free(pfd);
	free(sl);
	shutdown_all(&d);
	dmn_zygote_stop(&d);
	close(d.sfd);
	return 0;
}
