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
#include <sys/prctl.h>
#include <unistd.h>

#include "stockade/cli.h"
#include "stockade/redact.h"
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
	return json_pack("{s:i, s:s, s:s, s:s, s:b, s:b, s:o, s:o}", "exit", res->exit_code,
			 "verdict", res->verdict, "reason", res->reason, "rule", res->rule,
			 "denied", res->denied, "timed_out", res->timed_out, "receipts", receipts,
			 "redactions", redaction_counts(res));
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

static void fail(int fd, const char *msg)
{
	write_line(fd, json_pack("{s:s}", "error", msg));
	_exit(SK_EXIT_INTERNAL);
}

/* The environment a session's commands start from: the session's env over
 * a minimal base; the profile then filters it like any caller's. */
static char **session_environ(const sk_worker_job *j)
{
	size_t n = json_object_size(j->env) + 4, k = 0;
	char **envp = calloc(n, sizeof(*envp));
	if (!envp)
		return NULL;
	struct passwd *pw = getpwuid(j->uid);
	const char *home = pw && pw->pw_dir ? pw->pw_dir : "/";
	bool has_path = json_object_get(j->env, "PATH") != NULL, has_home = json_object_get(j->env, "HOME") != NULL;
	if (!has_path)
		envp[k++] = strdup("PATH=/usr/local/bin:/usr/bin:/bin");
	if (!has_home && asprintf(&envp[k], "HOME=%s", home) >= 0)
		k++;
	const char *key;
	json_t *v;
	json_object_foreach(j->env, key, v)
		if (asprintf(&envp[k], "%s=%s", key, json_string_value(v)) >= 0)
			k++;
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
	prctl(PR_SET_DUMPABLE, 0);
}

/* Move the pipes to 1, 2 and 3 and close everything else. */
static int wire_fds(int out_fd, int err_fd, int res_fd)
{
	int o = fcntl(out_fd, F_DUPFD, 10), e = fcntl(err_fd, F_DUPFD, 10), r = fcntl(res_fd, F_DUPFD, 10);
	int nul = open("/dev/null", O_RDONLY);
	if (o < 0 || e < 0 || r < 0 || nul < 0 || dup2(nul, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 ||
	    dup2(r, 3) < 0)
		return -1;
	close_range(4, ~0U, 0);
	return 0;
}

static _Noreturn void worker_main(const sk_worker_job *j, const sigset_t *oldmask)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	if (wire_fds(j->out_fd, j->err_fd, j->res_fd) < 0)
		_exit(SK_EXIT_INTERNAL);
	become(j, 3);
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
	req.turn = j->turn;
	req.state_dir = j->state_dir;
	if (j->timeout_ms) {
		req.limits.timeout_ms = j->timeout_ms;
		req.limits_set |= SK_LIMIT_SET_TIMEOUT;
	}
	sk_run_result res;
	memset(&res, 0, sizeof(res));
	sk_error err = { 0 };
	if (sk_run(&req, &res, &err) < 0)
		fail(3, err.msg[0] ? err.msg : "the run failed");
	write_line(3, result_json(&res));
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
