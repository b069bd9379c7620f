/* One-line errors on stderr, exit code 125. */
#include <stdarg.h>
#include <stdio.h>

#include "stockade/cli.h"
#include "stockade/util.h"

int sk_cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("stockade: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return SK_EXIT_INTERNAL;
}
