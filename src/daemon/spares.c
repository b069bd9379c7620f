/* Workers come from a zygote: a child forked when the daemon starts, before
 * it has read a session, a client or an env.  A worker forked from the
 * daemon itself would carry a copy of all of that, every uid's session env
 * included, and it ends up as the client's uid and dumpable (it writes its
 * sandbox's uid_map), so that uid could read the copy through /proc/PID/mem
 * (integration/corpus/daemon-worker-memory.bats).  The zygote also forks
 * ahead: a few spares wait for their job, so a fork (about 1.5 ms on this
 * kind of machine) is not in an exec's latency.
 *
 * The protocol, on a SOCK_SEQPACKET pair: the daemon writes one byte per
 * spare it wants; the zygote answers each with the spare's pid and the
 * daemon's end of the spare's own channel (SCM_RIGHTS).  The job goes down
 * that channel (worker.c).  The zygote dies with the daemon (PDEATHSIG), its
 * spares with it; it reaps nothing (SIGCHLD ignored): the daemon follows a
 * worker through its pipes and kills it through its process group. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

enum { SPARE_WAIT_MS = 5000 };
#define REFILL_DELAY_NS 3000000ULL

static _Noreturn void zygote_main(int chan, pid_t daemon)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon)
		_exit(0);
	prctl(PR_SET_NAME, "stockade-zygote");
	/* jansson seeds its hash function from /dev/urandom on first use:
	 * once here for every spare (half a millisecond each otherwise).  The
	 * daemon seeds its own later, so a client that reads its worker's
	 * memory learns nothing of the seed of the daemon's parser. */
	json_object_seed(0);
	struct sigaction sa = { .sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT };
	sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		char c;
		ssize_t n = read(chan, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);   /* the daemon is gone */
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
			pid_t none = -1;   /* the daemon fails that exec, and asks again */
			sk_send_fds(chan, &none, sizeof(none), NULL, 0);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(chan);
			close(sp[0]);
			signal(SIGCHLD, SIG_DFL);   /* sk_run waits for its sandbox */
			setpgid(0, 0);
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			prctl(PR_SET_NAME, "stockade-worker");
			sk_worker_spare_main(sp[1]);
		}
		if (pid > 0)
			setpgid(pid, pid);   /* also here: a kill before the spare runs hits the group */
		sk_send_fds(chan, &pid, sizeof(pid), pid > 0 ? &sp[0] : NULL, pid > 0);
		close(sp[0]);
		close(sp[1]);
	}
}

static void zygote_gone(dmn *d)
{
	fprintf(stderr, "stockaded: the zygote is gone; execs fail until stockaded is restarted\n");
	close(d->zfd);
	d->zfd = -1;
	d->n_asked = 0;
}

/* Ask the zygote for n more spares. */
static void ask(dmn *d, unsigned n)
{
	for (; d->zfd >= 0 && n; n--) {
		ssize_t w;
		while ((w = write(d->zfd, "s", 1)) < 0 && errno == EINTR)
			;
		if (w != 1)
			return zygote_gone(d);
		d->n_asked++;
	}
}

int dmn_zygote_start(dmn *d, sk_error *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return sk_fail_errno(err, errno, "cannot make the zygote's channel");
	pid_t daemon = getpid(), pid = fork();
	if (pid < 0) {
		close(sp[0]), close(sp[1]);
		return sk_fail_errno(err, errno, "cannot fork the zygote");
	}
	if (pid == 0) {
		/* Nothing of the daemon's but stdio and this channel. */
		if (dup2(sp[1], 3) < 0)
			_exit(SK_EXIT_INTERNAL);
		close_range(4, ~0U, 0);
		zygote_main(3, daemon);
	}
	close(sp[1]);
	d->zfd = sp[0];
	d->n_spares = d->n_asked = 0;
	ask(d, DMN_SPARES);
	return 0;
}

/* Take the zygote's answers that are waiting, or wait up to ms for one. */
static void collect(dmn *d, int ms)
{
	while (d->zfd >= 0 && d->n_asked) {
		struct pollfd p = { .fd = d->zfd, .events = POLLIN };
		if (poll(&p, 1, ms) <= 0)
			return;
		pid_t pid;
		int fd = -1;
		size_t n = 1;
		ssize_t r = sk_recv_fds(d->zfd, &pid, sizeof(pid), &fd, &n);
		if (r == -EINTR)
			continue;
		if (r != (ssize_t)sizeof(pid)) {   /* the zygote is gone: no more workers */
			if (n)
				close(fd);
			return zygote_gone(d);
		}
		d->n_asked--;
		if (pid > 0 && n == 1 && d->n_spares < DMN_SPARES) {
			d->spare_pid[d->n_spares] = pid;
			d->spare_fd[d->n_spares++] = fd;
		} else if (n) {
			close(fd);   /* its spare exits when it sees the channel close */
		}
		ms = 0;
	}
}

int dmn_spare_take(dmn *d, pid_t *pid, int *chan, sk_error *err)
{
	collect(d, 0);
	if (!d->n_spares && !d->n_asked)
		ask(d, 1);   /* all taken (a burst): one now, the rest later */
	if (!d->n_spares)
		collect(d, SPARE_WAIT_MS);
	if (!d->n_spares)
		return sk_fail(err, EAGAIN, d->zfd < 0 ? "no worker: the zygote is gone (restart stockaded)"
						       : "no worker: the zygote did not answer in time");
	d->n_spares--;
	*pid = d->spare_pid[d->n_spares];
	*chan = d->spare_fd[d->n_spares];
	/* An idle daemon asks for the replacement a little later: at once, its
	 * fork would compete with this job's start for the CPUs, and a little
	 * later the sandbox is built in one process while the other CPU is
	 * free.  A busy one asks at once: the next exec is coming. */
	if (d->n_running)
		ask(d, DMN_SPARES - d->n_spares - d->n_asked);
	else if (!d->refill_at_ns)
		d->refill_at_ns = sk_now_ns() + REFILL_DELAY_NS;
	return 0;
}

void dmn_spares_refill(dmn *d)
{
	if (!d->refill_at_ns || sk_now_ns() < d->refill_at_ns)
		return;
	d->refill_at_ns = 0;
	ask(d, DMN_SPARES - d->n_spares - d->n_asked);
}

void dmn_zygote_stop(dmn *d)
{
	for (unsigned i = 0; i < d->n_spares; i++)
		close(d->spare_fd[i]);
	d->n_spares = 0;
	if (d->zfd >= 0)
		close(d->zfd);
	d->zfd = -1;
}
