/* stockade-rulec: compile redaction rules for the stockade binary, which
 * carries only Vectorscan's runtime (compile_exec.c).  Reads the rules in
 * the wire form of rules_wire.c on stdin; writes a pattern cache entry
 * (cache.c's format, every start-of-match database included) on stdout
 * and exits 0, or writes "SKER", the errno and the message (a rule's
 * file:line and what is wrong with it) on stdout, and exits 1.  Not meant to be run by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define INPUT_MAX (64u << 20)

static int fail(const sk_error *err)
{
	int32_t code = err->code > 0 ? err->code : EINVAL;
	if (isatty(1))   /* run by hand; stockade says it itself */
		fprintf(stderr, "stockade-rulec: %s\n", err->msg);
	if (sk_write_all(1, "SKER", 4) == 0 && sk_write_all(1, &code, 4) == 0)
		(void)sk_write_all(1, err->msg, strlen(err->msg));
	return 1;
}

static int compile(sk_error *err)
{
	_cleanup_free_ char *in = NULL;
	_cleanup_free_ uint8_t *entry = NULL;
	size_t len;
	rx_ruleset rs;
	rx_patterns p;
	int e = sk_read_fd(0, INPUT_MAX, &in, &len);
	if (e < 0)
		return sk_fail_errno(err, -e, "cannot read the rules on stdin");
	if ((e = rx_rules_decode((const uint8_t *)in, len, &rs)) < 0)
		return sk_fail_errno(err, -e, "the rules on stdin are not in stockade's wire form");
	e = rx_patterns_compile(&rs, true, &p, err);
	rx_rules_free(&rs);
	if (e < 0)
		return e;
	e = rx_cache_encode(&p, &entry, &len);
	rx_patterns_free(&p);
	if (e == 0)
		e = sk_write_all(1, entry, len);
	return e < 0 ? sk_fail_errno(err, -e, "cannot write the compiled rules") : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: stockade-rulec < RULES > DATABASES\n"
		       "Compiles redaction rules for stockade(1), which runs it on a cold cache;\n"
		       "not meant to be run by hand.\n");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("stockade-rulec %s\n", STOCKADE_VERSION);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "stockade-rulec: unexpected argument '%s'; see --help\n", argv[1]);
		return 125;
	}
	sk_error err = { 0 };
	return compile(&err) < 0 ? fail(&err) : 0;
}
