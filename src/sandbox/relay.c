/* The output relay: every byte the command writes to stdout or stderr goes
 * through here, and through the redactor when there is one, before it
 * reaches the caller. */
#include <fcntl.h>

#include "internal.h"

static int deliver(void *ctx, const void *buf, size_t len)
{
	sk_relay *r = ctx;
	if (r->out_broken)
		return 0;
	int e = sk_write_all(r->out_fd, buf, len);
	if (e == -EPIPE) {
		/* The caller stopped reading: keep draining, deliver nothing. */
		r->out_broken = true;
		return 0;
	}
	if (e < 0)
		return e;
	r->delivered += len;
	return 0;
}

int sk_relay_open(sk_relay *r, int in_fd, int out_fd, const sk_redactor *red)
{
	*r = (sk_relay){ .in_fd = in_fd, .out_fd = out_fd };
	if (red)
		return sk_redact_stream_new(red, deliver, r, &r->redact);
	return 0;
}

ssize_t sk_relay_pump(sk_relay *r, char *buf, size_t cap)
{
	ssize_t n = read(r->in_fd, buf, cap);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? -EAGAIN : -errno;
	if (n == 0)
		return 0;
	int e = r->redact ? sk_redact_feed(r->redact, buf, (size_t)n) : deliver(r, buf, (size_t)n);
	return e < 0 ? e : n;
}

int sk_relay_close(sk_relay *r, const sk_redactor *red, sk_run_result *res)
{
	int e = 0;
	if (r->redact) {
		size_t n = sk_redactor_rule_count(red);
		if (n > SK_ARRAY_LEN(res->redactions))
			n = SK_ARRAY_LEN(res->redactions);
		e = sk_redact_finish(r->redact);
		for (size_t i = 0; i < n; i++)
			res->redactions[i] += sk_redact_stream_count(r->redact, i);
		if (n > res->n_redactions)
			res->n_redactions = n;
		sk_redact_stream_free(r->redact);
		r->redact = NULL;
	}
	if (r->in_fd >= 0)
		close(r->in_fd);
	r->in_fd = -1;
	return e;
}
