/* Typed errors: an errno plus a sentence that says what to do. */
#include <stdio.h>
#include <string.h>

#include "stockade/util.h"

static int fail_v(sk_error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EIO;
	if (err) {
		err->code = code;
		int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(code));
	}
	return -code;
}

int sk_fail(sk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fail_v(err, code, false, fmt, ap);
	va_end(ap);
	return r;
}

int sk_fail_errno(sk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fail_v(err, code, true, fmt, ap);
	va_end(ap);
	return r;
}
