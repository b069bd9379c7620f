/* One exec = one forked worker: it becomes the client's uid (when the daemon
 * is root), calls the one run path sk_run with its stdout/stderr on pipes to
 * the daemon, writes its result as one JSON line on a third pipe, and exits.
 * Its own process group lets the daemon kill the whole run at once. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
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

/* The command's stdin: the exec's "stdin" in a memfd, else /dev/null. */
static int stdin_fd(const sk_worker_job *j)
{
	if (!j->stdin_data || !j->stdin_len)
		return open("/dev/null", O_RDONLY);
	int fd = memfd_create("stockade-stdin", 0);
	if (fd < 0 || sk_write_all(fd, j->stdin_data, j->stdin_len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	return fd;
}

/* Move the pipes to 1, 2 and 3 and close everything else. */
static int wire_fds(const sk_worker_job *j)
{
	int o = fcntl(j->out_fd, F_DUPFD, 10), e = fcntl(j->err_fd, F_DUPFD, 10), r = fcntl(j->res_fd, F_DUPFD, 10);
	int in = stdin_fd(j);
	if (o < 0 || e < 0 || r < 0 || in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
	    dup2(r, 3) < 0)
		return -1;
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

static _Noreturn void worker_main(const sk_worker_job *j, const sigset_t *oldmask)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
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
	if (j->timeout_ms) {
		req.limits.timeout_ms = j->timeout_ms;
		req.limits_set |= SK_LIMIT_SET_TIMEOUT;
	}
	sk_run_result res;
	memset(&res, 0, sizeof(res));
	sk_error err = { 0 };
	uint64_t t0 = sk_now_ns();
	if (sk_run(&req, &res, &err) < 0)
		fail(3, err.msg[0] ? err.msg : "the run failed");
	json_t *r = result_json(&res);
	/* The run path's own time: what the daemon adds is the rest. */
	json_object_set_new(r, "run_ms", json_real((double)((sk_now_ns() - t0) / 1000) / 1000.0));
	write_line(3, r);
	_exit(0);
}

pid_t sk_worker_spawn(const sk_worker_job *j, const sigset_t *oldmask)
{
	pid_t pid = fork();
	if (pid == 0)
		worker_main(j, oldmask);
	if (pid > 0)
		setpgid(pid, pid);   /* also here, so a kill before the child runs still hits the group */
	return pid;
}
