/* One exec = one worker: a spare forked ahead of time by the zygote
 * (spares.c) that receives its job here, becomes the client's uid (when the
 * daemon is root), calls the one run path sk_run with its stdout/stderr on
 * pipes to the daemon, writes its result as one JSON line on a third pipe,
 * and exits.  Its own process group lets the daemon kill the whole run at
 * once. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stockade/cli.h"
#include "stockade/redact.h"
#include "stockade/util.h"
#include "worker.h"

/* Rule names of the default redactor: the run path's redactor is gone after
 * sk_run, and its built-in rules come first; others are named by index. */
static json_t *redaction_counts(const sk_run_result *res)
{
	json_t *o = json_object();
	sk_redactor *r = NULL;
	bool any = false;
	for (size_t i = 0; i < res->n_redactions; i++)
		any |= res->redactions[i] != 0;
	if (any) {
		sk_redact_config cfg;
		sk_error err = { 0 };
		sk_redact_config_init(&cfg);
		if (sk_redactor_build(&cfg, &r, &err) < 0)
			r = NULL;
	}
	for (size_t i = 0; o && i < res->n_redactions; i++) {
		if (!res->redactions[i])
			continue;
		char idx[32];
		const char *name = r && i < sk_redactor_rule_count(r) ? sk_redactor_rule_name(r, i) : NULL;
		if (!name) {
			snprintf(idx, sizeof(idx), "rule#%zu", i);
			name = idx;
		}
		json_object_set_new(o, name, json_integer((json_int_t)res->redactions[i]));
	}
	sk_redactor_free(r);
	return o;
}

static json_t *result_json(const sk_run_result *res)
{
	json_t *receipts = json_array();
	if (res->command_receipt)
		json_array_append_new(receipts, json_integer((json_int_t)res->command_receipt));
	if (res->outcome_receipt)
		json_array_append_new(receipts, json_integer((json_int_t)res->outcome_receipt));
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "exit", res->exit_code,
			      "verdict", res->verdict, "reason", res->reason, "rule", res->rule,
			      "denied", res->denied, "timed_out", res->timed_out, "escalated", res->escalated,
			      "receipts", receipts, "redactions", redaction_counts(res));
	if (o && res->escalated)
		json_object_set_new(o, "chain", json_integer(res->chain));
	if (o && res->quarantined)
		json_object_set_new(o, "quarantined", json_integer(res->quarantined));
	return o;
}

static void write_line(int fd, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	if (s) {
		sk_write_all(fd, s, strlen(s));
		sk_write_all(fd, "\n", 1);
	}
	free(s);
	json_decref(v);
}

static _Noreturn void fail(int fd, const char *msg)
{
	write_line(fd, json_pack("{s:s}", "error", msg));
	_exit(SK_EXIT_INTERNAL);
}

static bool put_env(char **envp, size_t *k, const char *key, const char *val)
{
	if (asprintf(&envp[*k], "%s=%s", key, val) < 0)
		return false;
	(*k)++;
	return true;
}

/* The environment a session's commands start from: the exec's env over the
 * session's over a minimal base; the profile then filters it like any
 * caller's. */
static char **session_environ(const sk_worker_job *j)
{
	size_t n = json_object_size(j->env) + json_object_size(j->exec_env) + 4, k = 0;
	char **envp = calloc(n, sizeof(*envp));
	if (!envp)
		return NULL;
	const char *home = j->home ? j->home : "/";
	bool has_path = json_object_get(j->env, "PATH") || json_object_get(j->exec_env, "PATH");
	bool has_home = json_object_get(j->env, "HOME") || json_object_get(j->exec_env, "HOME");
	if (!has_path)
		put_env(envp, &k, "PATH", "/usr/local/bin:/usr/bin:/bin");
	if (!has_home)
		put_env(envp, &k, "HOME", home);
	const char *key;
	json_t *v;
	json_object_foreach(j->env, key, v)
		if (!json_object_get(j->exec_env, key))
			put_env(envp, &k, key, json_string_value(v));
	json_object_foreach(j->exec_env, key, v)
		put_env(envp, &k, key, json_string_value(v));
	return envp;
}

static void become(const sk_worker_job *j, int res_fd)
{
	if (geteuid() != 0 || j->uid == 0)
		return;
	struct passwd *pw = getpwuid(j->uid);
	if ((pw ? initgroups(pw->pw_name, j->gid) : setgroups(0, NULL)) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	    setresuid(j->uid, j->uid, j->uid) < 0)
		fail(res_fd, "cannot take the client's uid");
	prctl(PR_SET_PDEATHSIG, SIGKILL);   /* setuid clears it */
	/* The uid change made us non-dumpable, and so would be the sandbox we
	 * fork, whose uid_map we must write through /proc: as after an exec
	 * (`stockade run`), dumpable again; the sandbox's init makes itself
	 * non-dumpable once it is set up. */
	prctl(PR_SET_DUMPABLE, 1);
}

/* The pipes on 1, 2 and 3, the stdin on 0, nothing else open.  The spare
 * arranged for the pipes to arrive on 1, 2 and 3 (sk_worker_spare_main);
 * the dup2s are for a job that did not. */
static int wire_fds(const sk_worker_job *j)
{
	if (j->stdin_fd >= 0 && j->stdin_fd != 0 && dup2(j->stdin_fd, 0) < 0)
		return -1;
	if (j->out_fd != 1 || j->err_fd != 2 || j->res_fd != 3) {
		int o = fcntl(j->out_fd, F_DUPFD, 10), e = fcntl(j->err_fd, F_DUPFD, 10), r = fcntl(j->res_fd, F_DUPFD, 10);
		if (o < 0 || e < 0 || r < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(r, 3) < 0)
			return -1;
	}
	close_range(4, ~0U, 0);
	return 0;
}

/* The state dir, reachable after the uid change: the daemon's state dir is
 * 0700, so a uid reaches its own subdirectory only through this fd (its
 * other processes cannot reach it at all). */
static const char *enter_state_dir(const sk_worker_job *j, char *buf, size_t n)
{
	if (!j->state_dir || geteuid() != 0 || j->uid == 0)
		return j->state_dir;
	int fd = open(j->state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fail(3, "cannot open the state directory");
	snprintf(buf, n, "/proc/self/fd/%d", fd);
	return buf;
}

static _Noreturn void run_task(const sk_worker_job *j, const char *state_dir)
{
	json_t *r = j->task(state_dir, j->task_ctx);
	write_line(3, r ? r : json_pack("{s:s}", "error", "out of memory"));
	_exit(0);
}

static _Noreturn void worker_main(const sk_worker_job *j)
{
	if (wire_fds(j) < 0)
		_exit(SK_EXIT_INTERNAL);
	char sdir[64];
	const char *state_dir = enter_state_dir(j, sdir, sizeof(sdir));
	become(j, 3);
	if (j->task)
		run_task(j, state_dir);
	char **envp = session_environ(j);
	if (!envp)
		fail(3, "out of memory");
	sk_request req;
	sk_request_init(&req);
	req.argv = j->argv;
	req.environ = envp;
	req.cwd = j->cwd ? j->cwd : j->workspace;
	req.workspace = j->workspace;
	req.profile = j->profile;
	req.session = j->session;
	req.state_dir = state_dir;
	const char *own[] = { j->own_socket };
	if (j->own_socket) {
		req.own_paths = own;
		req.n_own_paths = 1;
	}
	if (j->timeout_ms) {
		req.limits.timeout_ms = j->timeout_ms;
		req.limits_set |= SK_LIMIT_SET_TIMEOUT;
	}
	sk_run_result res;
	memset(&res, 0, sizeof(res));
	sk_error err = { 0 };
	sk_sched_short_slice(false);   /* the command runs with the normal slice */
	uint64_t t0 = sk_now_ns();
	if (sk_run(&req, &res, &err) < 0)
		fail(3, err.msg[0] ? err.msg : "the run failed");
	json_t *r = result_json(&res);
	/* The run path's own time: what the daemon adds is the rest. */
	json_object_set_new(r, "run_ms", json_real((double)((sk_now_ns() - t0) / 1000) / 1000.0));
	/* What is left is the exit (unmapping all of it): let the daemon,
	 * woken by the line below, have the CPU first. */
	setpriority(PRIO_PROCESS, 0, 19);
	write_line(3, r);
	_exit(0);
}

/* ---- the hand-over: daemon -> spare -------------------------------------- */

/* The message: a header, then the job's JSON unless it is too large for
 * one datagram, in which case it travels in a memfd.  The fds: the three
 * pipes, the stdin's memfd when there is one, the job's memfd when there
 * is one. */
enum { FD_OUT, FD_ERR, FD_RES, FD_MAX = 5 };
enum { JOB_INLINE_MAX = 60 << 10 };
typedef struct job_header {
	char magic;          /* 'J' */
	bool has_stdin;
	bool job_in_memfd;
} job_header;

static json_t *job_json(const sk_worker_job *j)
{
	json_t *argv = json_array();
	for (size_t i = 0; argv && j->argv && j->argv[i]; i++)
		json_array_append_new(argv, json_string(j->argv[i]));
	/* A task travels as its address: the spare is a fork of this same
	 * image (daemon -> zygote -> spare), so the address is the function. */
	return json_pack("{s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:O?, s:O?, s:s?, s:s?, s:I, s:I, s:I, s:I, s:O?}",
			 "argv", argv, "cwd", j->cwd, "workspace", j->workspace, "profile", j->profile, "session",
			 j->session, "state_dir", j->state_dir, "env", j->env, "exec_env", j->exec_env, "home", j->home,
			 "own_socket", j->own_socket,
			 "timeout_ms", (json_int_t)j->timeout_ms, "uid", (json_int_t)j->uid, "gid", (json_int_t)j->gid,
			 "task", (json_int_t)(uintptr_t)j->task, "ctx", j->task_ctx);
}

int sk_worker_send(int chan, const sk_worker_job *j)
{
	json_t *o = job_json(j);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return -ENOMEM;
	size_t len = strlen(text);
	job_header h = { .magic = 'J', .has_stdin = j->stdin_data && j->stdin_len, .job_in_memfd = len > JOB_INLINE_MAX };
	int fds[FD_MAX] = { j->out_fd, j->err_fd, j->res_fd, -1, -1 };
	size_t n = FD_RES + 1;
	int r = 0;
	if (h.has_stdin && (r = fds[n++] = sk_memfd_of("stockade-stdin", j->stdin_data, j->stdin_len)) < 0)
		goto out;
	if (h.job_in_memfd && (r = fds[n++] = sk_memfd_of("stockade-job", text, len)) < 0)
		goto out;
	char *msg = malloc(sizeof(h) + (h.job_in_memfd ? 0 : len));
	if (!msg) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(msg, &h, sizeof(h));
	if (!h.job_in_memfd)
		memcpy(msg + sizeof(h), text, len);
	r = sk_send_fds(chan, msg, sizeof(h) + (h.job_in_memfd ? 0 : len), fds, n);
	free(msg);
out:
	for (size_t i = FD_RES + 1; i < FD_MAX; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(text);
	return r;
}

static char **argv_of(json_t *a)
{
	size_t n = json_array_size(a);
	char **argv = n ? calloc(n + 1, sizeof(*argv)) : NULL;
	for (size_t i = 0; argv && i < n; i++)
		if (!(argv[i] = (char *)json_string_value(json_array_get(a, i)))) {
			free(argv);
			return NULL;
		}
	return argv;
}

/* The job out of its JSON text; pointers into *keep (the parsed JSON). */
static int job_parse(const char *text, size_t len, sk_worker_job *j, json_t **keep)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	if (!json_is_object(o))
		return json_decref(o), -EINVAL;
	json_int_t task = json_integer_value(json_object_get(o, "task"));
	*j = (sk_worker_job){
		.cwd = json_string_value(json_object_get(o, "cwd")),
		.workspace = json_string_value(json_object_get(o, "workspace")),
		.profile = json_string_value(json_object_get(o, "profile")),
		.session = json_string_value(json_object_get(o, "session")),
		.state_dir = json_string_value(json_object_get(o, "state_dir")),
		.env = json_object_get(o, "env"), .exec_env = json_object_get(o, "exec_env"),
		.home = json_string_value(json_object_get(o, "home")),
		.own_socket = json_string_value(json_object_get(o, "own_socket")),
		.timeout_ms = (uint64_t)json_integer_value(json_object_get(o, "timeout_ms")),
		.uid = (uid_t)json_integer_value(json_object_get(o, "uid")),
		.gid = (gid_t)json_integer_value(json_object_get(o, "gid")),
		.task = (sk_task_fn)(uintptr_t)task, .task_ctx = json_object_get(o, "ctx"), .stdin_fd = -1,
	};
	j->argv = argv_of(json_object_get(o, "argv"));
	*keep = o;
	return j->task || j->argv ? 0 : -EINVAL;
}

static int job_from(int fd, sk_worker_job *j, json_t **keep)
{
	struct stat st;
	char *text = fstat(fd, &st) == 0 && st.st_size > 0 ? malloc((size_t)st.st_size) : NULL;
	if (!text || pread(fd, text, (size_t)st.st_size, 0) != st.st_size)
		return free(text), -EIO;
	int r = job_parse(text, (size_t)st.st_size, j, keep);
	free(text);
	return r;
}

/* Rehearse a job's start and its result while the spare waits.  After a
 * fork, the first touch of each page of code and data is slow on a
 * virtual machine (its page tables are rebuilt one fault at a time: a
 * third of a millisecond for the first JSON parse).  Twice: the first run
 * leaves the allocator in a state the second, like the job, starts from
 * (measured: the job's parse then costs 40 us of CPU instead of 330). */
static void rehearse(void)
{
	static const char example[] =
		"{\"argv\":[\"true\"],\"cwd\":\"/\",\"workspace\":\"/\",\"profile\":\"p\",\"session\":\"s\","
		"\"state_dir\":\"/\",\"env\":{\"A\":\"b\"},\"exec_env\":{\"C\":\"d\"},\"home\":\"/\","
		"\"timeout_ms\":1,\"uid\":0,\"gid\":0,\"task\":0,\"ctx\":null}";
	for (int round = 0; round < 2; round++) {
		sk_worker_job j = { .argv = NULL };
		json_t *keep = NULL;
		if (job_parse(example, sizeof(example) - 1, &j, &keep) == 0) {
			char **envp = session_environ(&j);
			for (size_t i = 0; envp && envp[i]; i++)
				free(envp[i]);
			free(envp);
		}
		free(j.argv);
		json_decref(keep);
		sk_run_result res = { .command_receipt = 1, .outcome_receipt = 2 };
		json_t *r = result_json(&res);
		json_object_set_new(r, "run_ms", json_real(1.5));
		char *line = r ? json_dumps(r, JSON_COMPACT) : NULL;
		free(line);
		json_decref(r);
	}
}

/* Wait for the job, its pipes landing on 1, 2 and 3: the spare holds
 * /dev/null on 0 (the stdin of most commands), its channel above 3, and
 * nothing else, and the kernel gives passed fds the lowest numbers free.
 * Then nothing is left to move: a job costs one recvmsg. */
_Noreturn void sk_worker_spare_main(int chan)
{
	int devnull = open("/dev/null", O_RDONLY);
	int c = fcntl(chan, F_DUPFD_CLOEXEC, 10);
	if (devnull < 0 || c < 0 || dup2(devnull, 0) < 0)
		_exit(0);
	close_range(1, 9, 0);
	chan = c;
	rehearse();
	static char msg[sizeof(job_header) + JOB_INLINE_MAX + 1];
	int fds[FD_MAX];
	size_t n = FD_MAX;
	ssize_t r;
	while ((r = sk_recv_fds(chan, msg, sizeof(msg), fds, &n)) == -EINTR)
		n = FD_MAX;
	job_header h;
	if (r < (ssize_t)sizeof(h) || (size_t)r == sizeof(msg) || n <= FD_RES)
		_exit(0);   /* the daemon closed the channel: not needed */
	memcpy(&h, msg, sizeof(h));
	size_t want = FD_RES + 1 + h.has_stdin + h.job_in_memfd;
	sk_worker_job j;
	json_t *keep = NULL;
	int e = h.magic != 'J' || n != want ? -EINVAL
		: h.job_in_memfd ? job_from(fds[n - 1], &j, &keep)
				 : job_parse(msg + sizeof(h), (size_t)r - sizeof(h), &j, &keep);
	if (e < 0) {
		static const char err[] = "{\"error\":\"the worker could not read its job\"}\n";
		sk_write_all(fds[FD_RES], err, sizeof(err) - 1);
		_exit(SK_EXIT_INTERNAL);
	}
	j.out_fd = fds[FD_OUT], j.err_fd = fds[FD_ERR], j.res_fd = fds[FD_RES];
	j.stdin_fd = h.has_stdin ? fds[FD_RES + 1] : -1;
	worker_main(&j);
}
