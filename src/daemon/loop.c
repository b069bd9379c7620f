/* stockaded's single event loop: the listening socket, a signalfd, every
 * client and every worker pipe in one poll(2).  Nothing here blocks: runs
 * happen in forked workers (worker.c), writes to clients are non-blocking
 * and queued in a bounded buffer; a client that overflows it or stops
 * reading is dropped, and its running commands are killed. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "stockade/daemon.h"
#include "worker.h"

typedef struct session {
	struct session *next;
	char id[33];
	uid_t uid;
	char *profile, *workspace;
	json_t *env;
	uint32_t turns;
} session;

typedef struct client {
	struct client *next;
	int fd;
	uid_t uid;
	gid_t gid;
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_cap;
	uint64_t last_progress_ns;
	bool closing;   /* drop once the queued output is written */
	bool dead;
} client;

typedef struct job {
	struct job *next;
	client *c;      /* NULL once the client is gone: drain and discard */
	json_t *id;
	pid_t pid;
	int fds[3];     /* stdout, stderr, result; -1 at EOF */
	char *res;
	size_t res_len;
	bool cancelled;
} job;

typedef struct dmn {
	const sk_daemon_options *o;
	int lfd, sfd;
	sigset_t oldmask;
	session *sessions;
	client *clients;
	job *jobs;
	uint64_t started_ns;
	unsigned n_sessions, n_running;
	bool stop;
} dmn;

static const char *const stream_names[2] = { "stdout", "stderr" };

/* ---- output to clients -------------------------------------------------- */

static void drop_client(dmn *d, client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c) {
			kill(-j->pid, SIGKILL);   /* the sandbox's init follows by PDEATHSIG */
			j->c = NULL;
		}
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

static void reply_error(dmn *d, client *c, json_t *id, int code, const char *msg)
{
	send_line(d, c, sk_rpc_error(id, code, msg));
}

/* ---- sessions ----------------------------------------------------------- */

static session *find_session(dmn *d, const char *id, uid_t uid)
{
	for (session *s = d->sessions; s; s = s->next)
		if (!strcmp(s->id, id) && s->uid == uid)
			return s;
	return NULL;
}

static void session_free(session *s)
{
	free(s->profile);
	free(s->workspace);
	json_decref(s->env);
	free(s);
}

static void m_session_open(dmn *d, client *c, sk_rpc_msg *m)
{
	sk_open_params p;
	sk_error err = { 0 };
	if (sk_rpc_open_params(m->params, &p, &err) < 0)
		return reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, err.msg);
	struct stat st;
	if (stat(p.workspace, &st) < 0 || !S_ISDIR(st.st_mode))
		return reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"workspace\" is not an existing directory");
	session *s = calloc(1, sizeof(*s));
	unsigned char rnd[16];
	if (!s || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd) || !(s->workspace = strdup(p.workspace)) ||
	    (p.profile && !(s->profile = strdup(p.profile)))) {
		if (s)
			session_free(s);
		return reply_error(d, c, m->id, SK_RPC_INTERNAL, "cannot create a session");
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	s->uid = c->uid;
	s->env = p.env ? json_deep_copy(p.env) : json_object();
	s->next = d->sessions;
	d->sessions = s;
	d->n_sessions++;
	send_line(d, c, sk_rpc_result(m->id, json_pack("{s:s}", "session", s->id)));
}

static void m_session_close(dmn *d, client *c, sk_rpc_msg *m)
{
	json_t *id = json_object_get(m->params, "session");
	if (!json_is_string(id))
		return reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"session\" must be a string");
	for (session **pp = &d->sessions; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->id, json_string_value(id)) && (*pp)->uid == c->uid) {
			session *s = *pp;
			*pp = s->next;
			session_free(s);
			d->n_sessions--;
			return send_line(d, c, sk_rpc_result(m->id, json_pack("{s:b}", "closed", 1)));
		}
	reply_error(d, c, m->id, SK_RPC_NO_SESSION, "no such session for this uid");
}

/* ---- exec --------------------------------------------------------------- */

/* Receipts of another uid go to its own subdirectory, which it owns. */
static int state_dir_for(dmn *d, uid_t uid, gid_t gid, char *buf, size_t n, const char **out)
{
	*out = d->o->state_dir;
	if (uid == geteuid())
		return 0;
	if (!d->o->state_dir)
		return -EINVAL;
	snprintf(buf, n, "%s/uid-%u", d->o->state_dir, (unsigned)uid);
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != uid && chown(buf, uid, gid) < 0)
		return -errno;
	*out = buf;
	return 0;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]), fds[i] = -1;
}

static int start_job(dmn *d, client *c, session *s, const sk_exec_params *p, json_t *id, sk_error *err)
{
	char sdir[4096];
	const char *state_dir;
	if (geteuid() != 0 && c->uid != geteuid())
		return sk_fail(err, EPERM, "this daemon runs as uid %u and serves only that uid", (unsigned)geteuid());
	if (state_dir_for(d, c->uid, c->gid, sdir, sizeof(sdir), &state_dir) < 0)
		return sk_fail(err, EIO, "cannot prepare the receipt directory for uid %u", (unsigned)c->uid);
	int rd[3] = { -1, -1, -1 }, wr[3] = { -1, -1, -1 };
	for (int i = 0; i < 3; i++) {
		int pp[2];
		if (pipe2(pp, O_CLOEXEC) < 0) {
			close_fds(rd, 3), close_fds(wr, 3);
			return sk_fail_errno(err, errno, "cannot make a pipe");
		}
		rd[i] = pp[0], wr[i] = pp[1];
		fcntl(rd[i], F_SETFL, O_NONBLOCK);
	}
	job *j = calloc(1, sizeof(*j));
	sk_worker_job wj = { .argv = p->argv, .cwd = p->cwd, .workspace = s->workspace, .profile = s->profile,
			     .session = s->id, .state_dir = state_dir, .env = s->env, .turn = ++s->turns,
			     .timeout_ms = p->timeout_ms, .uid = c->uid, .gid = c->gid,
			     .out_fd = wr[0], .err_fd = wr[1], .res_fd = wr[2] };
	pid_t pid = j ? sk_worker_spawn(&wj, &d->oldmask) : -1;
	close_fds(wr, 3);
	if (pid < 0) {
		free(j);
		close_fds(rd, 3);
		return sk_fail_errno(err, errno ? errno : ENOMEM, "cannot start a worker");
	}
	*j = (job){ .next = d->jobs, .c = c, .id = json_incref(id), .pid = pid, .fds = { rd[0], rd[1], rd[2] } };
	d->jobs = j;
	d->n_running++;
	return 0;
}

static void m_exec(dmn *d, client *c, sk_rpc_msg *m)
{
	if (!m->id || json_is_null(m->id))
		return reply_error(d, c, NULL, SK_RPC_INVALID_REQUEST, "exec needs an id: its output is tagged with it");
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c && json_equal(j->id, m->id))
			return reply_error(d, c, m->id, SK_RPC_INVALID_REQUEST, "an exec with this id is still running");
	sk_exec_params p;
	sk_error err = { 0 };
	if (sk_rpc_exec_params(m->params, &p, &err) < 0)
		return reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, err.msg);
	session *s = find_session(d, p.session, c->uid);
	if (!s)
		reply_error(d, c, m->id, SK_RPC_NO_SESSION, "no such session for this uid");
	else if (start_job(d, c, s, &p, m->id, &err) < 0)
		reply_error(d, c, m->id, SK_RPC_RUN_FAILED, err.msg);
	free(p.argv);
}

static void m_exec_cancel(dmn *d, client *c, sk_rpc_msg *m)
{
	json_t *id = json_object_get(m->params, "id");
	if (!id)
		return reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"id\" (the exec's request id) is required");
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c && json_equal(j->id, id) && j->fds[2] >= 0) {
			kill(-j->pid, SIGKILL);
			j->cancelled = true;
			return send_line(d, c, sk_rpc_result(m->id, json_pack("{s:b}", "cancelled", 1)));
		}
	reply_error(d, c, m->id, SK_RPC_NO_EXEC, "no running exec with this id on this connection");
}

static void m_status(dmn *d, client *c, sk_rpc_msg *m)
{
	send_line(d, c, sk_rpc_result(m->id, json_pack("{s:s, s:I, s:i, s:i}", "version", STOCKADE_VERSION,
		"uptime_s", (json_int_t)((sk_now_ns() - d->started_ns) / 1000000000ULL),
		"sessions", (int)d->n_sessions, "running", (int)d->n_running)));
}

static const struct {
	const char *name;
	void (*fn)(dmn *, client *, sk_rpc_msg *);
} methods[] = {
	{ "status", m_status },
	{ "session.open", m_session_open },
	{ "session.close", m_session_close },
	{ "exec", m_exec },
	{ "exec.cancel", m_exec_cancel },
};

static void handle_line(dmn *d, client *c, const char *line, size_t len)
{
	sk_rpc_msg m;
	sk_error err = { 0 };
	int code = sk_rpc_parse(line, len, &m, &err);
	if (code < 0) {
		reply_error(d, c, m.id, code, err.msg);
	} else {
		size_t i = 0;
		while (i < SK_ARRAY_LEN(methods) && strcmp(methods[i].name, m.method))
			i++;
		if (i == SK_ARRAY_LEN(methods))
			reply_error(d, c, m.id, SK_RPC_METHOD_NOT_FOUND, "unknown method; see docs/protocol.md");
		else
			methods[i].fn(d, c, &m);
	}
	sk_rpc_msg_free(&m);
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
		if (i > start)
			handle_line(d, c, c->in + start, i - start);
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > SK_RPC_MAX_LINE) {
		reply_error(d, c, NULL, SK_RPC_TOO_LARGE, "message over 1 MiB; the connection is closed");
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
	*c = (client){ .next = d->clients, .fd = fd, .uid = cred.uid, .gid = cred.gid };
	d->clients = c;
}

/* ---- worker pipes ------------------------------------------------------- */

static void finish_job(dmn *d, job *j)
{
	d->n_running--;
	if (!j->c)
		return;
	json_error_t je;
	json_t *r = j->res_len ? json_loadb(j->res, j->res_len, 0, &je) : NULL;
	json_t *e = json_object_get(r, "error");
	if (r && !e)
		send_line(d, j->c, sk_rpc_result(j->id, json_incref(r)));
	else
		reply_error(d, j->c, j->id, SK_RPC_RUN_FAILED,
			    e ? json_string_value(e) : j->cancelled ? "cancelled" : "the run's worker died");
	json_decref(r);
}

static void read_job(dmn *d, job *j, int which)
{
	char buf[65536];
	ssize_t n = read(j->fds[which], buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(j->fds[which]);
		j->fds[which] = -1;
		return;
	}
	if (which == 2) {
		if (j->res_len + (size_t)n > SK_RPC_MAX_LINE)
			return;
		char *p = realloc(j->res, j->res_len + (size_t)n);
		if (p)
			memcpy(p + j->res_len, buf, (size_t)n), j->res = p, j->res_len += (size_t)n;
		return;
	}
	if (j->c)
		send_line(d, j->c, sk_rpc_notify("exec.output",
			  sk_rpc_output_params(j->id, stream_names[which], buf, (size_t)n)));
}

/* ---- the loop ----------------------------------------------------------- */

enum { K_LISTEN, K_SIGNAL, K_CLIENT, K_JOB };
typedef struct slot { int kind, which; void *ptr; } slot;

static void reap(dmn *d)
{
	struct signalfd_siginfo si;
	while (read(d->sfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			d->stop = true;
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
	for (job **pp = &d->jobs; *pp;) {
		job *j = *pp;
		if (j->fds[0] >= 0 || j->fds[1] >= 0 || j->fds[2] >= 0) {
			pp = &j->next;
			continue;
		}
		finish_job(d, j);
		*pp = j->next;
		json_decref(j->id);
		free(j->res);
		free(j);
	}
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
				read_job(d, j, sl[i].which);
			break;
		}
		}
	}
}

static void shutdown_all(dmn *d)
{
	for (client *c = d->clients; c; c = c->next)
		drop_client(d, c);
	for (job *j = d->jobs; j; j = j->next)
		kill(-j->pid, SIGKILL);
	/* Bounded: a run whose pipes outlive its worker must not hold up exit. */
	for (int round = 0; d->jobs && round < 50; round++) {
		sweep(d);
		struct pollfd *pfd = NULL;
		slot *sl = NULL;
		size_t cap = 0, n = build_pollset(d, &pfd, &sl, &cap);
		if (n && poll(pfd, n, 100) > 0)
			dispatch(d, pfd, sl, n);
		free(pfd);
		free(sl);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	while (d->sessions) {
		session *s = d->sessions;
		d->sessions = s->next;
		session_free(s);
	}
	sweep(d);
}

int sk_daemon_run(const sk_daemon_options *o, sk_error *err)
{
	dmn d = { .o = o, .lfd = o->listen_fd, .started_ns = sk_now_ns() };
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, &d.oldmask) < 0 ||
	    (d.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return sk_fail_errno(err, errno, "cannot set up signal handling");
	signal(SIGPIPE, SIG_IGN);
	if (o->on_ready)
		o->on_ready();
	struct pollfd *pfd = NULL;
	slot *sl = NULL;
	size_t cap = 0;
	while (!d.stop) {
		size_t n = build_pollset(&d, &pfd, &sl, &cap);
		if (!n)
			break;
		if (poll(pfd, n, 1000) > 0)
			dispatch(&d, pfd, sl, n);
		sweep(&d);
	}
	free(pfd);
	free(sl);
	shutdown_all(&d);
	close(d.sfd);
	return 0;
}
