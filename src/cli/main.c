/* stockade: dispatch to a subcommand.  Each lives in src/cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "stockade/cli.h"
#include "stockade/util.h"

typedef int (*sk_cmd_fn)(int argc, char **argv);

static const struct {
	const char *name;
	sk_cmd_fn fn;
	const char *summary;
} commands[] = {
	{ "run", sk_cmd_run, "run a command in a fresh sandbox" },
	{ "redact", sk_cmd_redact, "filter stdin to stdout, replacing credentials" },
	{ "verify", sk_cmd_verify, "check receipt logs: chain, hashes, signatures" },
	{ "replay", sk_cmd_replay, "re-run decide offline on recorded receipts" },
	{ "report", sk_cmd_report, "the boundary's metrics from receipt logs" },
	{ "regress", sk_cmd_regress, "re-run denied commands live; fail if now allowed" },
	{ "key", sk_cmd_key, "show or export the receipt signing key" },
	{ "profile", sk_cmd_profile, "check, show (canonical form, digest) and list profiles" },
	{ "session", sk_cmd_session, "a session's retry chains, attempts and pending escalations" },
	{ "approve", sk_cmd_approve, "approve an escalated retry chain of a session" },
	{ "deny", sk_cmd_deny, "deny an escalated retry chain of a session" },
	{ "exec", sk_cmd_exec, "run a command through stockaded's socket" },
	{ "mcp", sk_cmd_mcp, "an MCP server on stdio whose tools run commands in the sandbox" },
	{ "hook", sk_cmd_hook, "agent hooks (claude-code) that route shell commands through stockade" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade COMMAND [OPTIONS] [ARGS]\n"
		   "       stockade run [OPTIONS] -- CMD [ARGS...]\n\n"
		   "Runs the shell commands of AI agents in a sandbox where a refusal is a stop.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < SK_ARRAY_LEN(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'stockade COMMAND --help' describes one command; man stockade(1).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SK_EXIT_INTERNAL;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("stockade %s\n", STOCKADE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < SK_ARRAY_LEN(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	return sk_cli_error("unknown command '%s'; 'stockade --help' lists the commands", argv[1]);
}
