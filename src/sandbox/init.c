/* pid 1 of the sandbox.  It builds the world (mounts, hostname, loopback),
 * confines itself (capabilities, no_new_privs, Landlock, seccomp — seccomp
 * last), then forks the command and reaps until the command is gone.  When
 * it exits the kernel kills everything left in the pid namespace: no
 * double-forked, setsid daemon outlives the command. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "internal.h"

__attribute__((noreturn)) static void setup_failed(const sk_child_args *a, const sk_error *err)
{
	sk_report_send(a->report_fd, SK_REPORT_SETUP_FAILED, err->code, err->msg);
	_exit(SK_EXIT_INTERNAL);
}

/* execvp with the command's own PATH, not ours. */
static int exec_in_path(char *const *argv, char *const *envp)
{
	const char *name = argv[0];
	if (strchr(name, '/')) {
		execve(name, argv, envp);
		return errno;
	}
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	for (char *const *e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	int saved = ENOENT;
	char buf[4096];
	for (const char *p = path;;) {
		const char *end = strchrnul(p, ':'), *dir = p;
		size_t dlen = (size_t)(end - p);
		if (dlen == 0)
			dir = ".", dlen = 1;   /* an empty PATH entry is the cwd */
		if (dlen + strlen(name) + 2 <= sizeof(buf)) {
			memcpy(buf, dir, dlen);
			buf[dlen] = '/';
			strcpy(buf + dlen + 1, name);
			execve(buf, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;   /* remember EACCES etc., as execvp does */
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return saved;
}

__attribute__((noreturn)) static void run_command(const sk_child_args *a)
{
	const sk_sandbox_config *cfg = a->cfg;
	if (dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0)
		_exit(SK_EXIT_INTERNAL);
	/* Nothing the caller had open leaks into the command. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Inherited from init; execve resets it anyway, but the supervisor
	 * must read our memory while our own execve waits for its verdict. */
	prctl(PR_SET_DUMPABLE, 1);
	if (sk_rlimits_apply(&cfg->limits) < 0) {
		sk_report_send(a->report_fd, SK_REPORT_SETUP_FAILED, errno, "cannot set resource limits");
		_exit(SK_EXIT_INTERNAL);
	}
	const char *cwd = cfg->cwd ? cfg->cwd : cfg->workspace;
	if (chdir(cwd) < 0) {
		sk_report_send(a->report_fd, SK_REPORT_SETUP_FAILED, errno, "cannot enter the working directory");
		_exit(SK_EXIT_INTERNAL);
	}
	int e = exec_in_path(cfg->argv, cfg->envp);
	sk_report_send(a->report_fd, SK_REPORT_EXEC_FAILED, e, cfg->argv[0]);
	_exit(e == ENOENT ? SK_EXIT_NOT_FOUND : SK_EXIT_CANNOT_EXEC);
}

static void build_world(const sk_child_args *a)
{
	const sk_sandbox_config *cfg = a->cfg;
	sk_error err = { 0 };
	uint64_t tmpfs = cfg->limits.memory_bytes ? cfg->limits.memory_bytes : (1ULL << 30);
	if (sk_mount_plan_apply(a->plan, tmpfs, &err) < 0)
		setup_failed(a, &err);
	const char *host = cfg->hostname ? cfg->hostname : "stockade";
	if (sethostname(host, strlen(host)) < 0) {
		sk_fail_errno(&err, errno, "sethostname");
		setup_failed(a, &err);
	}
	if (cfg->net == SK_NET_NONE && sk_net_loopback_up(&err) < 0)
		setup_failed(a, &err);
}

static void confine(const sk_child_args *a)
{
	sk_error err = { 0 };
	sk_bpf_program prog;
	if (sk_seccomp_receive(a->bpf_fd, &prog, &err) < 0)
		setup_failed(a, &err);
	close(a->bpf_fd);
	if (sk_caps_drop_all(&err) < 0)
		setup_failed(a, &err);
	int abi = sk_landlock_apply(a->rw_paths, a->n_rw, &err);
	if (abi < 0)
		setup_failed(a, &err);
	sk_report_send(a->report_fd, SK_REPORT_APPLIED, abi, NULL);
	if (sk_seccomp_load(&prog, &err) < 0)
		setup_failed(a, &err);
	free(prog.insns);
}

/* Wait for the command; forward the supervisor's signals to it. */
__attribute__((noreturn)) static void reap(const sk_child_args *a, pid_t cmd, const sigset_t *set)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(cmd, sig);
			continue;
		}
		int status;
		pid_t p;
		while ((p = waitpid(-1, &status, WNOHANG)) > 0)
			if (p == cmd) {
				sk_report_send(a->report_fd, SK_REPORT_EXITED, status, NULL);
				_exit(0);
			}
	}
}

void sk_sandbox_init(const sk_child_args *a)
{
	/* Die with the supervisor; the sync read closes the race where it
	 * died before prctl. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	char go;
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(SK_EXIT_INTERNAL);
	close(a->sync_fd);
	/* The id maps are written: from here on the command (same uid, no
	 * capabilities) must not reach our /proc files, memory or fds — we are
	 * a copy of the caller, environment and all. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		sk_error err;
		sk_fail_errno(&err, errno, "cannot make the sandbox init non-dumpable");
		setup_failed(a, &err);
	}

	build_world(a);
	confine(a);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);

	pid_t cmd = fork();
	if (cmd < 0) {
		sk_error err;
		sk_fail_errno(&err, errno, "cannot fork the command");
		setup_failed(a, &err);
	}
	if (cmd == 0)
		run_command(a);
	close(a->stdout_fd);
	close(a->stderr_fd);
	reap(a, cmd, &set);
}
