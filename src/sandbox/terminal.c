/* A terminal on the caller's stdin never reaches the command.  Anything
 * written to a terminal goes to the screen without passing the redactor
 * (`cat token >&0`: a terminal is opened read-write), so the command's
 * stdin is a pipe and the supervisor copies what is typed into it.  The
 * sandbox also gives up the controlling terminal (init.c), so /dev/tty
 * has nothing behind it.
 *
 * Only a foreground stockade reads the terminal: a background job that
 * read it would be stopped by SIGTTIN (which is ignored, so a race with
 * the check gives EIO instead), and type-ahead meant for the shell would
 * be taken.  In the background it looks again every TTY_RECHECK_MS. */
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "internal.h"

enum { TTY_RECHECK_MS = 250 };

int sk_tty_relay_open(sk_tty_relay *t, int *child_fd)
{
	*t = (sk_tty_relay){ .tty_fd = -1, .pipe_w = -1 };
	*child_fd = -1;
	if (!isatty(STDIN_FILENO))
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		return e;
	}
	t->tty_fd = STDIN_FILENO;
	t->pipe_w = p[1];
	*child_fd = p[0];
	return 0;
}

static bool foreground(const sk_tty_relay *t)
{
	return tcgetpgrp(t->tty_fd) == getpgrp();
}

void sk_tty_relay_poll(const sk_tty_relay *t, struct pollfd *p, int *timeout_ms)
{
	*p = (struct pollfd){ .fd = -1 };
	if (t->pipe_w < 0)
		return;
	if (t->len > t->off) {
		*p = (struct pollfd){ .fd = t->pipe_w, .events = POLLOUT };
	} else if (foreground(t)) {
		*p = (struct pollfd){ .fd = t->tty_fd, .events = POLLIN };
	} else if (*timeout_ms < 0 || *timeout_ms > TTY_RECHECK_MS) {
		*timeout_ms = TTY_RECHECK_MS;
	}
}

void sk_tty_relay_close(sk_tty_relay *t)
{
	if (t->pipe_w >= 0)
		close(t->pipe_w);
	t->pipe_w = -1;
}

void sk_tty_relay_handle(sk_tty_relay *t, short revents)
{
	if (t->pipe_w < 0 || !revents)
		return;
	if (t->len == t->off) {
		ssize_t n = read(t->tty_fd, t->buf, sizeof(t->buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EIO))
			return;   /* EIO: moved to the background meanwhile */
		if (n <= 0) {
			sk_tty_relay_close(t);   /* end of input (^D): the command sees EOF */
			return;
		}
		t->len = (size_t)n;
		t->off = 0;
	}
	ssize_t w = write(t->pipe_w, t->buf + t->off, t->len - t->off);
	if (w < 0 && errno != EAGAIN && errno != EINTR) {
		sk_tty_relay_close(t);   /* the command closed its stdin: it wants no more */
		return;
	}
	if (w > 0)
		t->off += (size_t)w;
	if (t->off == t->len)
		t->len = t->off = 0;
}
