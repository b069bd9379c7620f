/* pid 1 of the sandbox.  It builds the world (mounts, hostname, loopback),
 * confines itself (capabilities, no_new_privs, Landlock, seccomp — seccomp
 * last), then forks the command and reaps until the command is gone.  When
 * it exits the kernel kills everything left in the pid namespace: no
 * double-forked, setsid daemon outlives the command. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The supervision listener crosses from the command to init.  Not with
 * SCM_RIGHTS: sendmsg is itself supervised from the moment the filter is
 * loaded, and nobody could answer it before init holds the listener.  The
 * command says which fd it is (a plain write) and waits while init takes
 * it with pidfd_getfd (the command is dumpable and init's child, as for
 * reading its memory later). */
static int offer_fd(int sock, int fd)
{
	int32_t n = fd;
	char taken;
	if (sk_write_all(sock, &n, sizeof(n)) < 0)
		return -errno;
	ssize_t r;
	while ((r = read(sock, &taken, 1)) < 0 && errno == EINTR)
		;
	return r == 1 ? 0 : -EPROTO;
}

static int take_fd(int sock, pid_t from)
{
	int32_t n;
	ssize_t r;
	while ((r = read(sock, &n, sizeof(n))) < 0 && errno == EINTR)
		;
	if (r != (ssize_t)sizeof(n) || n < 0)
		return -EPROTO;   /* the command failed first; its report says why */
	int pidfd = (int)syscall(SYS_pidfd_open, from, 0);
	if (pidfd < 0)
		return -errno;
	int fd = (int)syscall(SYS_pidfd_getfd, pidfd, n, 0);
	int e = fd < 0 ? -errno : 0;
	close(pidfd);
	if (fd >= 0 && sk_write_all(sock, "k", 1) < 0) {
		close(fd);
		return -EPROTO;
	}
	return fd >= 0 ? fd : e;
}

/* Whatever else the caller left open is no business of the supervisor,
 * and must not be reachable through it: close all but keep[] and 0-2. */
static void keep_only(const int keep[4])
{
	int sorted[4];
	memcpy(sorted, keep, sizeof(sorted));
	for (int i = 1; i < 4; i++)
		for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
			int t = sorted[j];
			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	unsigned from = 3;
	for (int i = 0; i < 4; i++) {
		if (sorted[i] < (int)from)
			continue;
		if ((unsigned)sorted[i] > from)
			close_range(from, (unsigned)sorted[i] - 1, 0);
		from = (unsigned)sorted[i] + 1;
	}
	close_range(from, ~0U, 0);
}

/* The command's own last step before exec: put itself under supervision
 * and hand the listener to init. */
static void supervise_self(const sk_child_args *a, const sk_bpf_program *notify, int sock)
{
	sk_error err = { 0 };
	int listener = sk_seccomp_load_notify(notify, &err);
	if (listener < 0)
		setup_failed(a, &err);
	int r = offer_fd(sock, listener);
	if (r < 0) {
		sk_fail_errno(&err, -r, "cannot hand the supervision listener to init");
		setup_failed(a, &err);
	}
	close(listener);
	close(sock);
}

__attribute__((noreturn)) static void run_command(const sk_child_args *a, const sk_bpf_program *notify, int sock)
{
	const sk_sandbox_config *cfg = a->cfg;
	if (dup2(a->stdout_fd, 1) < 0 || dup2(a->stderr_fd, 2) < 0 ||
	    (a->stdin_fd >= 0 && dup2(a->stdin_fd, 0) < 0))
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
	if (notify->insns)
		supervise_self(a, notify, sock);
	/* The supervisor's go: our receipt is on disk and our output will be
	 * relayed.  Nothing (EOF): it gave up on us and is killing the sandbox. */
	char go;
	if (read(a->sync_fd, &go, 1) != 1 || go != 'x')
		_exit(SK_EXIT_INTERNAL);
	close(a->sync_fd);
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

static void confine(const sk_child_args *a, sk_bpf_program *notify)
{
	sk_error err = { 0 };
	sk_bpf_program prog;
	/* Into the cgroups while we are one thread and before any fork; the
	 * supervisor made them while we built the root (a `tasks` file opened
	 * by root moves any process). */
	int r = sk_cgroup_join_from(a->bpf_fd);
	if (r < 0) {
		sk_fail_errno(&err, -r, "cannot join the sandbox's cgroup");
		setup_failed(a, &err);
	}
	if (sk_seccomp_receive(a->bpf_fd, &prog, notify, &err) < 0)
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

/* The command has ended: so does everything it left behind, before the
 * supervisor hears of it.  Once the report is read, every process but us is
 * reaped, the output pipes are at their end and every supervision record
 * has been sent, so the supervisor records the outcome while the kernel
 * takes our namespaces down. */
__attribute__((noreturn)) static void end_sandbox(const sk_child_args *a, int status)
{
	kill(-1, SIGKILL);   /* pid 1: every other process of the namespace */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	if (a->event_fd >= 0)
		close(a->event_fd);
	sk_report_send(a->report_fd, SK_REPORT_EXITED, status, NULL);
	_exit(0);
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
			if (p == cmd)
				end_sandbox(a, status);
	}
}

/* No controlling terminal for us (who open files for the command) nor for
 * the command: /dev/tty then has nothing behind it (see terminal.c).  Not
 * setsid(): stockaded finds a job's processes by its process group. */
static void drop_terminal(const sk_child_args *a)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;   /* ENXIO: there is none */
	ioctl(fd, TIOCNOTTY);
	close(fd);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		sk_error err;
		sk_fail(&err, EPERM, "cannot give up the controlling terminal");
		setup_failed(a, &err);
	}
}

/* The supervisor moved us off its CPU (spread_child); the command gets
 * every CPU its caller has.  Should the caller's set have changed
 * meanwhile, any CPU the kernel still allows will do. */
static void take_back_cpus(const cpu_set_t *cpus)
{
	if (sched_setaffinity(0, sizeof(*cpus), cpus) == 0)
		return;
	cpu_set_t all;
	memset(&all, 0xff, sizeof(all));
	sched_setaffinity(0, sizeof(all), &all);
}

void sk_sandbox_init(const sk_child_args *a)
{
	/* Die with the supervisor; the sync read closes the race where it
	 * died before prctl. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Our own network namespace (the clone did not make it: ~0.7 ms, spent
	 * here while the supervisor writes our id maps and does its part). */
	if (a->cfg->net == SK_NET_NONE && unshare(CLONE_NEWNET) < 0) {
		sk_error err;
		sk_fail_errno(&err, errno, "cannot make the network namespace (is user.max_net_namespaces 0? "
			      "--net host shares the host's network instead)");
		setup_failed(a, &err);
	}
	char go;
	if (read(a->sync_fd, &go, 1) != 1)
		_exit(SK_EXIT_INTERNAL);
	if (a->cpus)
		take_back_cpus(a->cpus);
	/* The id maps are written: from here on the command (same uid, no
	 * capabilities) must not reach our /proc files, memory or fds — we are
	 * a copy of the caller, environment and all. */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		sk_error err;
		sk_fail_errno(&err, errno, "cannot make the sandbox init non-dumpable");
		setup_failed(a, &err);
	}

	drop_terminal(a);
	build_world(a);
	sk_bpf_program notify = { 0 };
	confine(a, &notify);

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

	int pair[2] = { -1, -1 };
	sk_error err;
	if (notify.insns && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		sk_fail_errno(&err, errno, "cannot make the supervision channel");
		setup_failed(a, &err);
	}
	pid_t cmd = fork();
	if (cmd < 0) {
		sk_fail_errno(&err, errno, "cannot fork the command");
		setup_failed(a, &err);
	}
	if (cmd == 0) {
		if (a->event_fd >= 0)
			close(a->event_fd);
		if (pair[0] >= 0)
			close(pair[0]);
		run_command(a, &notify, pair[1]);
	}
	close(a->stdout_fd);
	close(a->stderr_fd);
	close(a->sync_fd);   /* the command's go is its own to read */
	if (a->stdin_fd >= 0)
		close(a->stdin_fd);
	/* Our own stdio is the caller's: nothing may reach it through us. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int fd = 0; null >= 0 && fd < 3; fd++)
		dup2(null, fd);
	if (null > 2)
		close(null);
	if (!notify.insns)
		reap(a, cmd, &set);
	close(pair[1]);
	int listener = take_fd(pair[0], cmd);
	close(pair[0]);
	if (listener < 0)
		reap(a, cmd, &set);   /* the command failed before it could be supervised; it says why */
	int sig_fd = signalfd(-1, &set, SFD_CLOEXEC);
	keep_only((int[]){ a->report_fd, a->event_fd, listener, sig_fd });
	int status = 0;
	if (sig_fd < 0 || sk_broker_run(a->cfg, listener, a->event_fd, sig_fd, a->report_fd, cmd, &status) < 0) {
		kill(-1, SIGKILL);
		sk_report_send(a->report_fd, SK_REPORT_SETUP_FAILED, EIO, "the supervisor failed");
		_exit(SK_EXIT_INTERNAL);
	}
	end_sandbox(a, status);
}
