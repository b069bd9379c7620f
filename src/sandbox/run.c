/* sk_sandbox_run: clone into fresh namespaces, supervise, reap.
 *
 *   supervisor (caller's uid) --clone(NEWUSER|NEWNS|NEWPID|NEWNET|...)--> init (pid 1)
 *   init builds the root and confines itself, then forks the command.
 *   The supervisor writes the id maps, attaches the cgroup, says "go",
 *   relays output through the redactor, enforces the wall clock and the
 *   output cap, and reaps.  When init dies the pid namespace dies with it. */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "internal.h"

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | \
		  CLONE_NEWUTS | CLONE_NEWCGROUP)

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* fds 0-2 must exist, or a pipe could land on them and be clobbered. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd)
				close(n);
		}
}

/* Paths where Landlock lets the command write (inside the sandbox). */
static size_t writable_paths(const sk_sandbox_config *cfg, const char **out, size_t cap)
{
	size_t n = 0;
	const char *fixed[] = { cfg->workspace_readonly ? NULL : cfg->workspace, "/tmp", "/var/tmp", "/run",
				"/dev", cfg->home };
	for (size_t i = 0; i < SK_ARRAY_LEN(fixed) && n < cap; i++)
		if (fixed[i])
			out[n++] = fixed[i];
	for (size_t i = 0; i < cfg->n_fs && n < cap; i++)
		if (cfg->fs[i].access == SK_FS_RW || cfg->fs[i].access == SK_FS_TMPFS)
			out[n++] = cfg->fs[i].path;
	return n;
}

static int validate(const sk_sandbox_config *cfg, sk_error *err)
{
	if (!cfg->argv || !cfg->argv[0] || !cfg->argv[0][0])
		return sk_fail(err, EINVAL, "no command given");
	if (!cfg->envp)
		return sk_fail(err, EINVAL, "no environment given");
	if (!cfg->workspace || cfg->workspace[0] != '/')
		return sk_fail(err, EINVAL, "the workspace must be an absolute path");
	return 0;
}

typedef struct supervisor {
	const sk_sandbox_config *cfg;
	sk_run_result *res;
	int pidfd, report_fd, sig_fd, event_fd;
	sk_relay out, errr;
	sk_tty_relay tty;         /* a terminal on stdin, copied to the command */
	bool reaped, got_exit, setup_failed;
	bool started;             /* the command was let go: no set-up error */
	bool concluded;           /* after_exit has run; res is the caller's */
	uint64_t start_ns;
	sk_report setup_report;
	uint64_t deadline_ns;     /* 0 = none */
	uint64_t read_total;      /* raw bytes read, for the output cap */
	int relay_error;
	int record_error;         /* the caller could not record an event: fail closed */
	sk_error record_err;
	char buf[65536];          /* one read of either output pipe */
} supervisor;

static void kill_tree(supervisor *s)
{
	/* pid 1 dies, and with it every process of the namespace. */
	syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
}

static void handle_report(supervisor *s)
{
	sk_report rep;
	ssize_t n = read(s->report_fd, &rep, sizeof(rep));
	if (n <= 0) {
		if (n == 0 || errno != EINTR) {
			close(s->report_fd);
			s->report_fd = -1;
		}
		return;
	}
	if (n != (ssize_t)sizeof(rep))
		return;
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	switch (rep.kind) {
	case SK_REPORT_SETUP_FAILED:
		s->setup_failed = true;
		s->setup_report = rep;
		break;
	case SK_REPORT_EXEC_FAILED:
		s->res->exec_errno = rep.code;
		break;
	case SK_REPORT_EXITED:
		s->got_exit = true;
		s->res->ran = true;
		s->res->wait_status = rep.code;
		break;
	case SK_REPORT_APPLIED:
		s->res->landlock_abi = rep.code;
		break;
	}
}

static void handle_output(supervisor *s, sk_relay *r)
{
	size_t want = sizeof(s->buf);
	uint64_t cap = s->cfg->limits.output_bytes;
	if (cap) {
		if (s->read_total >= cap) {
			/* More output past the cap: stop the command. */
			s->res->output_capped = true;
			kill_tree(s);
			sk_relay_close(r, s->cfg->redactor, s->res);
			return;
		}
		if (cap - s->read_total < want)
			want = (size_t)(cap - s->read_total);
	}
	ssize_t n = sk_relay_pump(r, s->buf, want);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		if (n < 0 && !s->relay_error)
			s->relay_error = (int)-n;
		int e = sk_relay_close(r, s->cfg->redactor, s->res);
		if (e < 0 && !s->relay_error)
			s->relay_error = -e;
		return;
	}
	s->read_total += (uint64_t)n;
}

/* One supervision record from the sandbox: to the caller, in order. */
static void handle_event(supervisor *s)
{
	char buf[SK_WIRE_MAX];
	ssize_t n = recv(s->event_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(s->event_fd);
		s->event_fd = -1;
		return;
	}
	sk_sup_record rec;
	sk_clean_file clean;
	const char *aliases[8];
	int kind = sk_wire_decode(buf, (size_t)n, &rec, aliases, SK_ARRAY_LEN(aliases), &s->res->sup, &clean);
	if (kind == 3 && s->cfg->sup.clean_seen)
		s->cfg->sup.clean_seen(s->cfg->sup.clean_ctx, &clean);
	if (kind != 1)
		return;
	if (rec.verdict.action == SK_ACTION_ESCALATE)
		s->res->escalated = true;
	sk_error err = { 0 };
	if (!s->record_error && s->cfg->sup.record &&
	    s->cfg->sup.record(s->cfg->sup.record_ctx, &rec, &err) < 0) {
		s->record_error = err.code ? err.code : EIO;
		s->record_err = err;
		kill_tree(s);
	}
}

static void handle_signal(supervisor *s)
{
	struct signalfd_siginfo si;
	if (read(s->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		syscall(SYS_pidfd_send_signal, s->pidfd, (int)si.ssi_signo, NULL, 0);
}

static void handle_exit(supervisor *s)
{
	siginfo_t info = { 0 };
	if (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &info, WEXITED | WNOHANG) == 0 && info.si_pid)
		s->reaped = true;
}

static int poll_timeout(const supervisor *s)
{
	if (!s->deadline_ns)
		return -1;
	uint64_t now = sk_now_ns();
	if (now >= s->deadline_ns)
		return 0;
	uint64_t ms = (s->deadline_ns - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void finish_result(const supervisor *s, sk_run_result *res)
{
	int st = res->wait_status;
	if (res->timed_out)
		res->exit_code = SK_EXIT_TIMEOUT;
	else if (!s->got_exit)
		res->exit_code = res->output_capped ? SK_EXIT_SIGNAL_BASE + SIGKILL : SK_EXIT_INTERNAL;
	else if (WIFEXITED(st))
		res->exit_code = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		res->exit_code = SK_EXIT_SIGNAL_BASE + WTERMSIG(st);
	if (res->output_capped && !res->timed_out)
		res->exit_code = SK_EXIT_SIGNAL_BASE + SIGKILL;
	res->output_cap = s->cfg->limits.output_bytes;
	res->bytes_stdout = s->out.delivered;
	res->bytes_stderr = s->errr.delivered;
}

/* The run has succeeded once the command's status is in and its output
 * and records are all read: init reports only when it is the last process
 * left, and it closes the record channel first. */
static bool run_succeeded(const supervisor *s)
{
	return s->started && s->got_exit && s->out.in_fd < 0 && s->errr.in_fd < 0 && s->event_fd < 0 &&
	       !s->setup_failed && !s->record_error && !s->relay_error && !s->res->timed_out &&
	       !s->res->output_capped;
}

static void conclude(supervisor *s)
{
	finish_result(s, s->res);
	s->res->duration_ns = sk_now_ns() - s->start_ns;
	s->deadline_ns = 0;   /* nothing left to time out */
	s->concluded = true;
	if (s->cfg->after_exit)
		s->cfg->after_exit(s->cfg->before_exec_ctx, s->res);
}

static void supervise(supervisor *s)
{
	while (!s->reaped || s->out.in_fd >= 0 || s->errr.in_fd >= 0 || s->report_fd >= 0 || s->event_fd >= 0) {
		if (!s->concluded && run_succeeded(s))
			conclude(s);
		int timeout = poll_timeout(s);
		struct pollfd p[7] = {
			{ .fd = s->out.in_fd, .events = POLLIN },
			{ .fd = s->errr.in_fd, .events = POLLIN },
			{ .fd = s->report_fd, .events = POLLIN },
			{ .fd = s->reaped ? -1 : s->pidfd, .events = POLLIN },
			{ .fd = s->sig_fd, .events = POLLIN },
			{ .fd = s->event_fd, .events = POLLIN },
		};
		if (s->reaped)
			sk_tty_relay_close(&s->tty);
		sk_tty_relay_poll(&s->tty, &p[6], &timeout);
		int n = poll(p, 7, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (s->deadline_ns && sk_now_ns() >= s->deadline_ns) {
			s->res->timed_out = true;
			s->deadline_ns = 0;
			kill_tree(s);
		}
		if (n <= 0)
			continue;
		if (p[0].revents)
			handle_output(s, &s->out);
		if (p[1].revents)
			handle_output(s, &s->errr);
		if (p[2].revents)
			handle_report(s);
		if (p[3].revents)
			handle_exit(s);
		if (p[4].revents)
			handle_signal(s);
		if (p[5].revents)
			handle_event(s);
		if (p[6].fd >= 0)
			sk_tty_relay_handle(&s->tty, p[6].revents);
	}
}

typedef struct resources {
	int out[2], errp[2], sync[2], report[2], bpf[2], ev[2];
	int sig_fd, pidfd;
	int tty_in;               /* the command's stdin when ours is a terminal */
	sk_tty_relay tty;
	sigset_t old_mask;
	bool mask_set;
	struct sigaction old_pipe, old_ttin;
	sk_mount_plan plan;
	sk_cgroup cg;
	cpu_set_t cpus;           /* where we may run; the child's own once it is going */
	bool spread;              /* cpus read: the child is moved off our CPU */
} resources;

static void release(resources *rs)
{
	int *fds[] = { rs->out, rs->errp, rs->sync, rs->report, rs->bpf, rs->ev };
	for (size_t i = 0; i < SK_ARRAY_LEN(fds); i++)
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	if (rs->sig_fd >= 0)
		close(rs->sig_fd);
	if (rs->pidfd >= 0)
		close(rs->pidfd);
	if (rs->tty_in >= 0)
		close(rs->tty_in);
	sk_tty_relay_close(&rs->tty);
	if (rs->mask_set) {
		sigprocmask(SIG_SETMASK, &rs->old_mask, NULL);
		sigaction(SIGPIPE, &rs->old_pipe, NULL);
		sigaction(SIGTTIN, &rs->old_ttin, NULL);
	}
	sk_mount_plan_free(&rs->plan);
	sk_cgroup_destroy(&rs->cg);
}

static int make_pipes(const sk_sandbox_config *cfg, resources *rs, sk_error *err)
{
	int *fds[] = { rs->out, rs->errp, rs->sync, rs->report };
	for (size_t i = 0; i < SK_ARRAY_LEN(fds); i++)
		if (pipe2(fds[i], O_CLOEXEC) < 0)
			return sk_fail_errno(err, errno, "pipe");
	/* bpf[1] -> bpf[0]: fds (the cgroups), then the filter's bytes. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, rs->bpf) < 0)
		return sk_fail_errno(err, errno, "socketpair");
	if (cfg->sup.enabled && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rs->ev) < 0)
		return sk_fail_errno(err, errno, "socketpair");
	int e = sk_tty_relay_open(&rs->tty, &rs->tty_in);
	return e < 0 ? sk_fail_errno(err, -e, "cannot relay the terminal on stdin") : 0;
}

static int block_signals(resources *rs, sk_error *err)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < SK_ARRAY_LEN(forwarded_signals); i++)
		sigaddset(&set, forwarded_signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, &rs->old_mask) < 0)
		return sk_fail_errno(err, errno, "sigprocmask");
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &rs->old_pipe);
	/* A background read of the terminal fails (EIO) instead of stopping us. */
	sigaction(SIGTTIN, &(struct sigaction){ .sa_handler = SIG_IGN }, &rs->old_ttin);
	rs->mask_set = true;
	rs->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return rs->sig_fd < 0 ? sk_fail_errno(err, errno, "signalfd") : 0;
}

/* A new child starts on its parent's CPU as often as not (23 of 60 runs
 * here), and then waits for us to sleep: 1.7 ms, while the other CPU idles,
 * for we go on to make the cgroups, record the decision and build the
 * redactor.  So it is moved off our CPU at once; it takes back our mask
 * (rs->cpus) when it goes (sk_sandbox_init), before it forks the command. */
static void spread_child(resources *rs, pid_t pid)
{
	cpu_set_t others;
	if (rs->spread && sk_sched_other_cpus(&rs->cpus, &others))
		sched_setaffinity(pid, sizeof(others), &others);   /* best effort: only speed is at stake */
}

/* Fork-like raw clone: the child continues here on a copy of our stack.
 * No atfork handler runs, so the caller must be single-threaded here: a
 * thread holding a lock (malloc's, stdio's) at this moment leaves it held
 * forever in the child, which then hangs at its first malloc (seen: a
 * redactor built on a thread beside the clone).  Threads start after it
 * (sk_sandbox_config.before_exec).  No new network namespace here: making
 * one takes ~0.7 ms, which the child spends instead while we go on
 * (sk_sandbox_init). */
static pid_t clone_sandbox(int *pidfd)
{
	unsigned long flags = NS_FLAGS | CLONE_PIDFD | SIGCHLD;
	return (pid_t)syscall(SYS_clone, flags, NULL, pidfd, NULL, 0);
}

static void start_child(const sk_sandbox_config *cfg, resources *rs, const char **rw, size_t n_rw)
{
	close(rs->out[0]);
	close(rs->errp[0]);
	close(rs->sync[1]);
	close(rs->report[0]);
	close(rs->bpf[1]);
	close(rs->sig_fd);
	if (rs->ev[0] >= 0)
		close(rs->ev[0]);
	sk_tty_relay_close(&rs->tty);
	sk_child_args a = {
		.cfg = cfg, .plan = &rs->plan, .bpf_fd = rs->bpf[0],
		.sync_fd = rs->sync[0], .report_fd = rs->report[1],
		.stdout_fd = rs->out[1], .stderr_fd = rs->errp[1], .stdin_fd = rs->tty_in,
		.rw_paths = rw, .n_rw = n_rw, .event_fd = rs->ev[1],
		.cpus = rs->spread ? &rs->cpus : NULL,
	};
	sk_sandbox_init(&a);
}

/* The streams load the redactor's databases (sk_redactor_ready): a
 * cache entry that proves damaged there is removed, and the next run
 * compiles afresh. */
static void redactor_failed(int r, sk_error *err)
{
	if (r == -EBADMSG)
		sk_fail(err, EBADMSG, "the cached redaction database was damaged and has been removed; "
			"run the command again");
	else
		sk_fail_errno(err, -r, "cannot start the output redactor");
}

/* The cgroups are made while the child builds its root, off the path to
 * exec: v2 moves the child by pid, v1 hands it the `tasks` files to join
 * (before the filter, on the same channel, so before it ever forks). */
static int enter_cgroups(const sk_sandbox_config *cfg, resources *rs, pid_t pid, sk_run_result *res, sk_error *err)
{
	sk_cgroup_create(&cfg->limits, &rs->cg);
	snprintf(res->limits_how, sizeof(res->limits_how), "%s", rs->cg.how);
	int r = rs->cg.n ? sk_cgroup_attach(&rs->cg, pid) : 0;
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot move the sandbox into its cgroup");
	r = sk_cgroup_send(rs->bpf[1], &rs->cg);
	return r < 0 ? sk_fail_errno(err, -r, "cannot hand the sandbox its cgroup") : 0;
}

static int describe_setup_failure(const sk_report *rep, sk_error *err)
{
	return sk_fail(err, rep->code > 0 ? rep->code : EIO, "cannot set up the sandbox: %s", rep->msg);
}

/* The maps could not be written because the child had already failed
 * (making its network namespace): its own report says why. */
static int early_failure(supervisor *s, int r, sk_error *err)
{
	sk_report rep;
	if (s->report_fd < 0 || read(s->report_fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep) ||
	    rep.kind != SK_REPORT_SETUP_FAILED)
		return r;
	rep.msg[sizeof(rep.msg) - 1] = '\0';
	return describe_setup_failure(&rep, err);
}

int sk_sandbox_run(const sk_sandbox_config *cfg, sk_run_result *res, sk_error *err)
{
	memset(res, 0, sizeof(*res));
	res->exit_code = SK_EXIT_INTERNAL;
	int r = validate(cfg, err);
	if (r < 0)
		return r;
	ensure_std_fds();
	uint64_t start = sk_now_ns();
	resources rs = { .out = { -1, -1 }, .errp = { -1, -1 }, .sync = { -1, -1 },
			 .report = { -1, -1 }, .bpf = { -1, -1 }, .ev = { -1, -1 }, .sig_fd = -1, .pidfd = -1,
			 .tty_in = -1, .tty = { .tty_fd = -1, .pipe_w = -1 } };
	const char *rw[64];
	size_t n_rw = writable_paths(cfg, rw, SK_ARRAY_LEN(rw));

	if ((r = sk_mount_plan_build(cfg, &rs.plan, err)) < 0 ||
	    (r = make_pipes(cfg, &rs, err)) < 0 || (r = block_signals(&rs, err)) < 0)
		goto out;

	rs.spread = sched_getaffinity(0, sizeof(rs.cpus), &rs.cpus) == 0;
	pid_t pid = clone_sandbox(&rs.pidfd);
	if (pid < 0) {
		r = errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == EUSERS
			? sk_fail_errno(err, errno, "cannot create user namespaces (is kernel.unprivileged_userns_clone "
				       "or user.max_user_namespaces set to 0?)")
			: sk_fail_errno(err, errno, "clone");
		goto out;
	}
	if (pid == 0)
		start_child(cfg, &rs, rw, n_rw);
	spread_child(&rs, pid);

	close(rs.out[1]); rs.out[1] = -1;
	close(rs.errp[1]); rs.errp[1] = -1;
	close(rs.sync[0]); rs.sync[0] = -1;
	close(rs.report[1]); rs.report[1] = -1;
	close(rs.bpf[0]); rs.bpf[0] = -1;
	if (rs.ev[1] >= 0) {
		close(rs.ev[1]);
		rs.ev[1] = -1;
	}
	if (rs.tty_in >= 0) {
		close(rs.tty_in);
		rs.tty_in = -1;
	}

	supervisor s = { .cfg = cfg, .res = res, .pidfd = rs.pidfd, .report_fd = rs.report[0],
			 .sig_fd = rs.sig_fd, .event_fd = rs.ev[0],
			 .tty = { .tty_fd = -1, .pipe_w = -1 } };
	rs.report[0] = -1;
	rs.ev[0] = -1;
	if ((r = sk_userns_map(pid, getuid(), getgid(), err)) < 0) {
		kill_tree(&s);
		waitid((idtype_t)P_PIDFD, (id_t)rs.pidfd, &(siginfo_t){ 0 }, WEXITED);
		r = early_failure(&s, r, err);
		if (s.report_fd >= 0)
			close(s.report_fd);
		if (s.event_fd >= 0)
			close(s.event_fd);
		goto out;
	}
	if (sk_write_all(rs.sync[1], "g", 1) < 0) {
		r = sk_fail_errno(err, errno, "cannot start the sandbox");
		goto out;
	}
	/* While the child builds its root: the caller's work (first, as it
	 * starts the longest wait, the receipt's fdatasync), the cgroups, then
	 * the filter, with which the child confines itself and forks the
	 * command.  The command waits before exec for the second byte on the
	 * sync pipe: written once the gate passed (the receipt on disk, the
	 * redactor built) and the relays are open.  A failure of any kills
	 * the sandbox before the command ever runs (fail closed). */
	sk_bpf_wire bpf = { 0 };
	if ((cfg->before_exec && (r = cfg->before_exec(cfg->before_exec_ctx, (sk_sandbox_config *)cfg, err)) < 0) ||
	    (r = enter_cgroups(cfg, &rs, pid, res, err)) < 0 ||
	    (r = sk_seccomp_wire(cfg, &bpf, err)) < 0 ||
	    (r = sk_seccomp_send(&bpf, rs.bpf[1], err)) < 0 ||
	    (cfg->exec_gate && (r = cfg->exec_gate(cfg->before_exec_ctx, (sk_sandbox_config *)cfg, err)) < 0))
		kill_tree(&s);
	free(bpf.bytes);
	close(rs.bpf[1]);
	rs.bpf[1] = -1;

	if (cfg->limits.timeout_ms)
		s.deadline_ns = start + cfg->limits.timeout_ms * 1000000ULL;
	bool relaying = r == 0;
	if (r == 0 && (r = sk_relay_open(&s.out, rs.out[0], cfg->stdout_fd, cfg->redactor)) == 0) {
		rs.out[0] = -1;
		if ((r = sk_relay_open(&s.errr, rs.errp[0], cfg->stderr_fd, cfg->redactor)) == 0)
			rs.errp[0] = -1;
		else
			s.errr.in_fd = -1;
	} else {
		s.out.in_fd = s.errr.in_fd = -1;
	}
	if (relaying && r < 0)
		redactor_failed(r, err);
	if (r == 0 && sk_write_all(rs.sync[1], "x", 1) < 0)
		r = sk_fail_errno(err, errno, "cannot start the command");   /* the child is gone: its report says why */
	close(rs.sync[1]);
	rs.sync[1] = -1;
	if (r < 0)
		kill_tree(&s);
	s.started = r == 0;
	s.start_ns = start;
	s.tty = rs.tty;
	rs.tty.pipe_w = -1;   /* the supervisor's now */
	supervise(&s);
	sk_tty_relay_close(&s.tty);
	if (!s.concluded && run_succeeded(&s))
		conclude(&s);
	if (s.concluded)
		goto out;   /* res is final and the caller's */
	res->duration_ns = sk_now_ns() - start;
	if (s.setup_failed) {
		r = describe_setup_failure(&s.setup_report, err);
		goto out;
	}
	if (r < 0)
		goto out;
	if (s.record_error) {
		r = sk_fail(err, s.record_error, "cannot record a supervised event (%s); the command was stopped",
			    s.record_err.msg);
		goto out;
	}
	finish_result(&s, res);
	if (!s.got_exit && !res->timed_out && !res->output_capped)
		r = sk_fail(err, EIO, "the sandbox ended without reporting the command's status");
	else if (s.relay_error)
		r = sk_fail_errno(err, s.relay_error, "cannot deliver the command's output");
out:
	release(&rs);
	return r;
}
