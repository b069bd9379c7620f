/* Jobs: each exec and each task is a worker (spares.c, worker.c) with three
 * pipes back (stdout, stderr, one result line).  Here: starting them,
 * relaying their output, answering when all three pipes are closed, killing
 * them so that their outcome is still receipted, and the escalated execs
 * that wait for a human's decision. */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum { KILL_GRACE_MS = 5000 };

static const char *const stream_names[2] = { "stdout", "stderr" };

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]), fds[i] = -1;
}

/* Fork wj's worker with three fresh pipes and queue its job.  j is taken. */
static int spawn(dmn *d, job *j, sk_worker_job *wj, sk_error *err)
{
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
	wj->out_fd = wr[0], wj->err_fd = wr[1], wj->res_fd = wr[2];
	pid_t pid;
	int chan, r;
	/* A spare that died waiting (killed, or its zygote was) refuses the
	 * job: the next one takes it. */
	for (int tries = 0; (r = dmn_spare_take(d, &pid, &chan, err)) == 0; tries++) {
		r = sk_worker_send(chan, wj);
		close(chan);
		if (r == 0 || (r != -EPIPE && r != -ECONNREFUSED) || tries == DMN_SPARES) {
			if (r < 0)
				sk_fail_errno(err, -r, "cannot hand the job to a worker");
			break;
		}
	}
	close_fds(wr, 3);
	if (r < 0) {
		close_fds(rd, 3);
		return r;
	}
	j->pid = pid;
	memcpy(j->fds, rd, sizeof(rd));
	j->next = d->jobs;
	d->jobs = j;
	d->n_running++;
	return 0;
}

static void job_free(job *j)
{
	json_decref(j->id);
	json_decref(j->params);
	json_decref(j->after);
	json_decref(j->ctx);
	free(j->res);
	free(j);
}

int dmn_start_exec(dmn *d, client *c, dsession *s, json_t *params, json_t *id, json_t *after, uint64_t wait_until_ns,
		   sk_error *err)
{
	char sdir[PATH_MAX];
	if (geteuid() != 0 && c->uid != geteuid())
		return sk_fail(err, EPERM, "this daemon runs as uid %u and serves only that uid", (unsigned)geteuid());
	if (dmn_state_dir_for(d, s->uid, s->gid, sdir, sizeof(sdir)) < 0)
		return sk_fail(err, EIO, "cannot prepare the state directory for uid %u", (unsigned)s->uid);
	sk_exec_params p;
	int r = sk_rpc_exec_params(params, &p, err);
	if (r < 0)
		return r;
	job *j = calloc(1, sizeof(*j));
	if (!j) {
		free(p.argv);
		return sk_fail(err, ENOMEM, "out of memory");
	}
	*j = (job){ .c = c, .id = json_incref(id), .is_exec = true, .params = json_incref(params), .uid = s->uid,
		    .wait_until_ns = wait_until_ns, .after = json_incref(after) };
	strcpy(j->sid, s->id);
	if (!s->home) {   /* here, once: the worker need not load NSS */
		struct passwd *pw = getpwuid(s->uid);
		s->home = pw ? strdup(pw->pw_dir) : NULL;
	}
	sk_worker_job wj = { .argv = p.argv, .cwd = p.cwd, .workspace = s->workspace, .profile = s->profile,
			     .home = s->home,
			     .session = s->id, .state_dir = sdir, .env = s->env, .exec_env = p.env,
			     .stdin_data = p.stdin_data, .stdin_len = p.stdin_len, .timeout_ms = p.timeout_ms,
			     .uid = s->uid, .gid = s->gid, .own_socket = d->socket[0] ? d->socket : NULL };
	r = spawn(d, j, &wj, err);
	free(p.argv);
	if (r < 0)
		job_free(j);
	return r;
}

int dmn_start_task(dmn *d, client *c, const dsession *s, json_t *id, sk_task_fn fn, json_t *ctx, job_done_fn done,
		   sk_error *err)
{
	char sdir[PATH_MAX];
	if (dmn_state_dir_for(d, s->uid, s->gid, sdir, sizeof(sdir)) < 0)
		return sk_fail(err, EIO, "cannot prepare the state directory for uid %u", (unsigned)s->uid);
	job *j = calloc(1, sizeof(*j));
	if (!j)
		return sk_fail(err, ENOMEM, "out of memory");
	*j = (job){ .c = c, .id = json_incref(id), .uid = s->uid, .done = done, .ctx = json_incref(ctx) };
	strcpy(j->sid, s->id);
	sk_worker_job wj = { .state_dir = sdir, .uid = s->uid, .gid = s->gid, .task = fn, .task_ctx = ctx };
	int r = spawn(d, j, &wj, err);
	if (r < 0)
		job_free(j);
	return r;
}

static void answer(dmn *d, job *j);

/* The worker wrote its result line after all of its output: take what is
 * left in the output pipes and answer now, not when the worker has exited. */
static void answer_early(dmn *d, job *j)
{
	for (int w = 0; w < 2; w++)
		while (j->fds[w] >= 0) {
			char buf[65536];
			ssize_t n = read(j->fds[w], buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;   /* EAGAIN: all of it was read */
			if (n == 0) {
				close(j->fds[w]);
				j->fds[w] = -1;
				break;
			}
			if (j->c)
				dmn_send(d, j->c, sk_rpc_notify("exec.output", sk_rpc_output_params(j->id, stream_names[w], buf, (size_t)n)));
		}
	answer(d, j);
}

void dmn_read_job(dmn *d, job *j, int which)
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
		if (j->res_len && j->res[j->res_len - 1] == '\n' && !j->answered)
			answer_early(d, j);
		return;
	}
	if (j->c)
		dmn_send(d, j->c, sk_rpc_notify("exec.output", sk_rpc_output_params(j->id, stream_names[which], buf, (size_t)n)));
}

/* ---- escalations -------------------------------------------------------- */

static json_t *escalation_json(const char *sid, uint32_t chain, const char *state)
{
	char id[SK_SESSION_ID_MAX + 16];
	snprintf(id, sizeof(id), "%s#%u", sid, chain);
	return json_pack("{s:s, s:s, s:I, s:s}", "id", id, "session", sid, "chain", (json_int_t)chain, "state", state);
}

/* The daemon saw chain escalate now: the decision's latency counts from here. */
static void note_escalation(dmn *d, const job *j, uint32_t chain)
{
	dsession *s = dmn_session_find(d, j->sid, j->uid);
	char key[16];
	snprintf(key, sizeof(key), "%u", chain);
	if (!s || json_object_get(s->escalated_at, key) ||   /* still pending since then */
	    json_object_set_new(s->escalated_at, key, json_integer((json_int_t)dmn_wall_ms())) < 0)
		return;
	if (dmn_session_save(d, s) < 0)
		fprintf(stderr, "stockaded: cannot save session %s: the escalation time is kept in memory only\n", s->id);
}

static void hold_free(hold *h)
{
	json_decref(h->id);
	json_decref(h->params);
	json_decref(h->result);
	free(h);
}

static bool hold_exec(dmn *d, job *j, json_t *result, uint32_t chain)
{
	hold *h = calloc(1, sizeof(*h));
	if (!h)
		return false;
	*h = (hold){ .next = d->holds, .c = j->c, .id = json_incref(j->id), .params = json_incref(j->params),
		     .result = json_incref(result), .uid = j->uid, .chain = chain, .until_ns = j->wait_until_ns };
	strcpy(h->sid, j->sid);
	d->holds = h;
	return true;
}

static void finish_exec(dmn *d, job *j, json_t *r)
{
	json_t *e = json_object_get(r, "error");
	bool escalated = r && !e && json_is_true(json_object_get(r, "escalated"));
	uint32_t chain = (uint32_t)json_integer_value(json_object_get(r, "chain"));
	if (escalated && chain)
		note_escalation(d, j, chain);
	if (!j->c)
		return;
	if (!r || e) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s%s", j->cancelled ? "cancelled: " : "",
			 e ? json_string_value(e) : "the run's worker died");
		return dmn_reply_error(d, j->c, j->id, SK_RPC_RUN_FAILED, msg);
	}
	if (j->after)
		json_object_set(r, "after_escalation", j->after);
	if (j->cancelled)
		json_object_set_new(r, "cancelled", json_true());
	if (escalated && chain) {
		json_object_set_new(r, "escalation", escalation_json(j->sid, chain, "pending"));
		if (!j->cancelled && j->wait_until_ns > sk_now_ns() && hold_exec(d, j, r, chain))
			return;
	}
	dmn_reply(d, j->c, j->id, json_incref(r));
}

static void answer(dmn *d, job *j)
{
	if (j->answered)
		return;
	j->answered = true;
	d->n_running--;   /* its command is over; the worker only has to exit */
	json_error_t je;
	json_t *r = j->res_len ? json_loadb(j->res, j->res_len, 0, &je) : NULL;
	if (!json_is_object(r)) {
		json_decref(r);
		r = NULL;
	}
	if (j->is_exec) {
		finish_exec(d, j, r);
	} else if (j->done) {
		j->done(d, j, r);
	} else if (j->c) {
		json_t *e = json_object_get(r, "error");
		if (r && !e)
			dmn_reply(d, j->c, j->id, json_incref(r));
		else
			dmn_reply_error(d, j->c, j->id, SK_RPC_INTERNAL, e ? json_string_value(e) : "the task's worker died");
	}
	json_decref(r);
}

/* The result of a held exec once a human denied it. */
static json_t *denied_result(const hold *h, json_t *decision)
{
	json_t *r = json_deep_copy(h->result);
	json_object_set_new(r, "verdict", json_string("deny"));
	json_object_set_new(r, "reason", json_string("escalation_denied"));
	json_t *esc = escalation_json(h->sid, h->chain, "denied");
	json_object_set(esc, "decision", decision);
	json_object_set_new(r, "escalation", esc);
	return r;
}

void dmn_release_holds(dmn *d, uid_t uid, const char *sid, uint32_t chain, bool approve, json_t *decision)
{
	for (hold **pp = &d->holds; *pp;) {
		hold *h = *pp;
		if (h->uid != uid || h->chain != chain || strcmp(h->sid, sid)) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		dsession *s = dmn_session_find(d, sid, uid);
		sk_error err = { 0 };
		if (!approve)
			dmn_reply(d, h->c, h->id, denied_result(h, decision));
		else if (!s)
			dmn_reply_error(d, h->c, h->id, SK_RPC_NO_SESSION, "the session was closed while the exec waited");
		else if (d->stop)
			dmn_reply_error(d, h->c, h->id, SK_RPC_SHUTTING_DOWN, "approved, but the daemon is shutting down");
		else if (dmn_start_exec(d, h->c, s, h->params, h->id, decision, h->until_ns, &err) < 0)
			dmn_reply_error(d, h->c, h->id, SK_RPC_RUN_FAILED, err.msg);
		hold_free(h);
	}
}

void dmn_expire_holds(dmn *d, bool all)
{
	uint64_t now = sk_now_ns();
	for (hold **pp = &d->holds; *pp;) {
		hold *h = *pp;
		if (!all && now < h->until_ns) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		dmn_reply(d, h->c, h->id, json_incref(h->result));   /* still pending */
		hold_free(h);
	}
}

/* ---- killing ------------------------------------------------------------ */

/* SIGKILL the processes of the worker's group but the worker, and but the
 * sandbox's init unless with_init: the command dies, init reports how, the
 * worker writes the outcome receipt and the result.  (with_init: a command
 * that left the group is taken down with its pid namespace; the worker
 * still receipts the failure.) */
static void kill_sandbox(pid_t pgid, bool with_init)
{
	DIR *dh = opendir("/proc");
	struct dirent *e;
	while (dh && (e = readdir(dh))) {
		char *end, path[64], buf[512];
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || pid == pgid)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* pid (comm) state ppid pgrp ...: comm may hold spaces and parens. */
		char *rp = strrchr(buf, ')');
		int ppid, pgrp;
		char st;
		if (rp && sscanf(rp + 1, " %c %d %d", &st, &ppid, &pgrp) == 3 && pgrp == pgid && (with_init || ppid != pgid))
			kill((pid_t)pid, SIGKILL);
	}
	if (dh)
		closedir(dh);
}

void dmn_kill_job(dmn *d, job *j)
{
	(void)d;
	if (j->fds[2] < 0 && j->fds[0] < 0 && j->fds[1] < 0)
		return;
	if (!j->kill_at_ns)
		j->kill_at_ns = sk_now_ns() + KILL_GRACE_MS * 1000000ULL;
	if (j->is_exec)
		kill_sandbox(j->pid, false);
	else
		kill(-j->pid, SIGKILL);   /* a task runs no command: nothing to receipt */
}

/* Jobs being killed: again (a sandbox started since), and past the grace
 * the whole group, worker too. */
void dmn_kill_sweep(dmn *d)
{
	uint64_t now = sk_now_ns();
	for (job *j = d->jobs; j; j = j->next) {
		if (!j->kill_at_ns || (j->fds[0] < 0 && j->fds[1] < 0 && j->fds[2] < 0))
			continue;
		if (now >= j->kill_at_ns)
			kill(-j->pid, SIGKILL);
		else
			kill_sandbox(j->pid, now + (KILL_GRACE_MS - 1000) * 1000000ULL >= j->kill_at_ns);
	}
}

void dmn_forget_client(dmn *d, client *c)
{
	for (hold **pp = &d->holds; *pp;) {
		hold *h = *pp;
		if (h->c != c) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		hold_free(h);
	}
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c) {
			j->c = NULL;
			if (j->is_exec)   /* a task (open, decide) is short and must not be cut in half */
				dmn_kill_job(d, j);
		}
}

void dmn_jobs_reap(dmn *d)
{
	for (job **pp = &d->jobs; *pp;) {
		job *j = *pp;
		if (j->fds[0] >= 0 || j->fds[1] >= 0 || j->fds[2] >= 0) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		answer(d, j);
		job_free(j);
	}
}

bool dmn_any_killing(const dmn *d)
{
	for (const job *j = d->jobs; j; j = j->next)
		if (j->kill_at_ns)
			return true;
	return false;
}
