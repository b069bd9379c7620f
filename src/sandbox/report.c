/* The report pipe: fixed-size messages from the sandbox to the supervisor. */
#include <string.h>

#include "internal.h"

int sk_report_send(int fd, int kind, int code, const char *msg)
{
	sk_report rep = { .kind = kind, .code = code };
	if (msg)
		strncpy(rep.msg, msg, sizeof(rep.msg) - 1);
	/* Smaller than PIPE_BUF: one atomic write. */
	ssize_t n;
	do
		n = write(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(rep) ? 0 : -EIO;
}
