/* stockade run [OPTIONS] -- CMD [ARGS...]: the sandboxed prefix wrapper. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/cli.h"
#include "stockade/sandbox.h"
#include "stockade/session.h"

extern char **environ;


static const char usage_text[] =
	"usage: stockade run [OPTIONS] -- CMD [ARGS...]\n"
	"       stockade run [OPTIONS] -c 'SHELL COMMAND'\n"
	"\n"
	"Run CMD in fresh user, mount, pid, net, ipc, uts and cgroup namespaces, with\n"
	"no capabilities, no_new_privs, a seccomp filter, Landlock and bounded\n"
	"resources.  The workspace is the only host directory it can write.\n"
	"\n"
	"Options:\n"
	"  -w, --workspace DIR   read-write workspace (default: the current directory)\n"
	"  -C DIR                change to DIR first (it becomes the default workspace)\n"
	"  -c STRING             run STRING with /bin/sh -c\n"
	"      --profile P       profile NAME or FILE (default: default); see stockade-profile(5)\n"
	"      --state-dir DIR   receipts and keys (default: $XDG_STATE_HOME/stockade)\n"
	"      --session ID      a turn of session ID (default: $STOCKADE_SESSION): denials stay\n"
	"                        sticky across turns, retry chains grow and escalate\n"
	"      --no-supervise    do not supervise opens, execs and connects (for measurement)\n"
	"      --net MODE        none (private namespace, loopback only) or host; overrides the profile\n"
	"      --timeout DUR     wall-clock limit: 30, 1.5, 500ms, 2m, 1h; 0 = none (default 15m)\n"
	"      --memory SIZE     memory limit: 512M, 2G; 0 = none (default 4G)\n"
	"      --pids N          process limit; 0 = none (default 1024)\n"
	"      --cpu SECONDS     CPU-time limit; 0 = none (default none)\n"
	"      --output-cap SIZE stdout+stderr limit; the command is killed past it (default 64M)\n"
	"  -v, --verbose         report on stderr what was applied (Landlock ABI, limits)\n"
	"  -h, --help            this text\n"
	"  -V, --version         print the version\n"
	"\n"
	"Limits: the profile's, else the defaults above; an option overrides both.\n"
	"Every run leaves a signed receipt of its decision and of its outcome.\n\n"
	"Exit status: the command's own; 124 timed out; 125 stockade's own error;\n"
	"126 cannot execute or denied by policy; 127 not found; 128+N killed by signal N.\n";

typedef struct run_options {
	sk_request req;
	const char *chdir_arg;
	const char *shell_string;
} run_options;

enum { OPT_NET = 256, OPT_TIMEOUT, OPT_MEMORY, OPT_PIDS, OPT_CPU, OPT_OUTPUT, OPT_PROFILE, OPT_STATE,
       OPT_SESSION, OPT_NO_SUPERVISE };

static const struct option long_options[] = {
	{ "workspace", required_argument, NULL, 'w' },
	{ "net", required_argument, NULL, OPT_NET },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "pids", required_argument, NULL, OPT_PIDS },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "output-cap", required_argument, NULL, OPT_OUTPUT },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "state-dir", required_argument, NULL, OPT_STATE },
	{ "session", required_argument, NULL, OPT_SESSION },
	{ "no-supervise", no_argument, NULL, OPT_NO_SUPERVISE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int bad_value(const char *opt, const char *val, const char *expected)
{
	return sk_cli_error("run: invalid %s '%s': expected %s", opt, val, expected);
}

/* Returns 0 to go on, or an exit code (>0), or -1 for "exit 0 now". */
static int parse_option(run_options *o, int c, const char *arg)
{
	sk_request *req = &o->req;
	sk_limits *lim = &req->limits;
	switch (c) {
	case 'w': req->workspace = arg; return 0;
	case 'C': o->chdir_arg = arg; return 0;
	case 'c': o->shell_string = arg; return 0;
	case 'v': req->verbose = true; return 0;
	case OPT_PROFILE: req->profile = arg; return 0;
	case OPT_STATE: req->state_dir = arg; return 0;
	case OPT_SESSION:
		if (!sk_session_id_valid(arg))
			return bad_value("--session", arg, "1 to 128 of A-Z a-z 0-9 . _ : -, not starting with . or -");
		req->session = arg;
		return 0;
	case OPT_NO_SUPERVISE: req->no_supervise = true; return 0;
	case OPT_NET:
		if (!strcmp(arg, "none") || !strcmp(arg, "loopback"))
			req->net = SK_NET_NONE;
		else if (!strcmp(arg, "host"))
			req->net = SK_NET_HOST;
		else
			return bad_value("--net", arg, "none or host");
		return 0;
	case OPT_TIMEOUT:
		req->limits_set |= SK_LIMIT_SET_TIMEOUT;
		return sk_parse_duration_ms(arg, &lim->timeout_ms) < 0
			? bad_value("--timeout", arg, "a duration such as 30, 1.5, 500ms, 2m, 1h") : 0;
	case OPT_MEMORY:
		req->limits_set |= SK_LIMIT_SET_MEMORY;
		return sk_parse_size(arg, &lim->memory_bytes) < 0
			? bad_value("--memory", arg, "a size such as 512M or 2G") : 0;
	case OPT_PIDS:
		req->limits_set |= SK_LIMIT_SET_PIDS;
		return sk_parse_u64(arg, &lim->pids) < 0 ? bad_value("--pids", arg, "a whole number") : 0;
	case OPT_CPU:
		req->limits_set |= SK_LIMIT_SET_CPU;
		return sk_parse_u64(arg, &lim->cpu_seconds) < 0 ? bad_value("--cpu", arg, "whole seconds") : 0;
	case OPT_OUTPUT:
		req->limits_set |= SK_LIMIT_SET_OUTPUT;
		return sk_parse_size(arg, &lim->output_bytes) < 0
			? bad_value("--output-cap", arg, "a size such as 1M") : 0;
	case 'h':
		fputs(usage_text, stdout);
		return -1;
	case 'V':
		printf("stockade %s\n", STOCKADE_VERSION);
		return -1;
	default:
		return sk_cli_error("run: unknown option; 'stockade run --help' lists the options");
	}
}

static void report_verbose(const sk_request *req, const sk_run_result *res)
{
	fprintf(stderr, "stockade: profile %s: %s (%s, rule %s)\n", req->profile ? req->profile : "default",
		res->verdict, res->reason, res->rule[0] ? res->rule : "-");
	fprintf(stderr, "stockade: namespaces user mount pid ipc uts cgroup%s; capabilities none; "
			"no_new_privs; seccomp on\n", req->net == SK_NET_HOST ? " (host network)" : " net");
	if (res->landlock_abi)
		fprintf(stderr, "stockade: landlock ABI %d: writes only in the workspace and private dirs\n",
			res->landlock_abi);
	else
		fprintf(stderr, "stockade: landlock not available in this kernel; writes bounded by the mount tree only\n");
	fprintf(stderr, "stockade: limits: %s\n", res->limits_how);
	if (req->no_supervise)
		fprintf(stderr, "stockade: supervision off (--no-supervise)\n");
	else
		fprintf(stderr, "stockade: supervision: %llu events (%llu opens, %llu execs, %llu connects); "
				"%llu denied, %llu escalated, %llu files hashed, %llu read for secret values\n",
			(unsigned long long)res->sup.events, (unsigned long long)res->sup.opens,
			(unsigned long long)res->sup.execs, (unsigned long long)res->sup.connects,
			(unsigned long long)res->sup.denied, (unsigned long long)res->sup.escalated,
			(unsigned long long)res->sup.hashed, (unsigned long long)res->sup.scanned);
	fprintf(stderr, "stockade: exit %d after %llu ms; receipts %llu, %llu\n", res->exit_code,
		(unsigned long long)(res->duration_ns / 1000000), (unsigned long long)res->command_receipt,
		(unsigned long long)res->outcome_receipt);
}

static void report_outcome(const sk_request *req, const sk_run_result *res)
{
	if (res->escalated && req->session)
		fprintf(stderr, "stockade: escalated: retry chain %u of session %s awaits a human decision; "
			"the command was stopped.  Decide with: stockade approve %s %u | stockade deny %s %u\n",
			res->chain, req->session, req->session, res->chain, req->session, res->chain);
	else if (res->escalated)
		fprintf(stderr, "stockade: escalated: '%s' needs a human decision (%s); it was stopped.  "
			"Run it in a session (--session ID) to have it decided\n", req->argv[0], res->reason);
	else if (res->denied && res->stdin_path[0])
		fprintf(stderr, "stockade: stdin is %s, which the policy denies: %s (rule %s); nothing was run "
			"(a file on stdin is decided as the command reading it)\n", res->stdin_path,
			res->reason, res->rule[0] ? res->rule : "-");
	else if (res->denied)
		fprintf(stderr, "stockade: '%s' denied by policy: %s (rule %s)\n", req->argv[0], res->reason,
			res->rule[0] ? res->rule : "-");
	if (res->exec_errno)
		fprintf(stderr, "stockade: cannot run '%s': %s\n", req->argv[0], strerror(res->exec_errno));
	if (res->timed_out)
		fprintf(stderr, "stockade: '%s' timed out after %llu ms; the whole process tree was killed\n",
			req->argv[0], (unsigned long long)(res->duration_ns / 1000000));
	if (res->output_capped)
		fprintf(stderr, "stockade: '%s' wrote more than %llu bytes of output; it was killed\n",
			req->argv[0], (unsigned long long)res->output_cap);
	if (req->verbose)
		report_verbose(req, res);
}

int sk_cmd_run(int argc, char **argv)
{
	run_options o = { 0 };
	sk_request_init(&o.req);
	o.req.environ = environ;
	o.req.session = getenv("STOCKADE_SESSION");
	if (o.req.session && !*o.req.session)
		o.req.session = NULL;
	if (o.req.session && !sk_session_id_valid(o.req.session))
		return sk_cli_error("run: invalid STOCKADE_SESSION '%s': use 1 to 128 of A-Z a-z 0-9 . _ : -", o.req.session);
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:w:C:c:vhV", long_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *bad = argv[optind - 1];
			return c == ':' ? sk_cli_error("run: option '%s' needs a value", bad)
					: sk_cli_error("run: unknown option '%s'; 'stockade run --help' lists the options", bad);
		}
		int r = parse_option(&o, c, optarg);
		if (r)
			return r < 0 ? 0 : r;
	}
	char *shell_argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)o.shell_string, NULL };
	if (o.shell_string && optind < argc)
		return sk_cli_error("run: give either -c STRING or a command after --, not both");
	if (!o.shell_string && optind >= argc)
		return sk_cli_error("run: no command given; usage: stockade run [OPTIONS] -- CMD [ARGS...]");
	o.req.argv = o.shell_string ? shell_argv : argv + optind;
	if (o.chdir_arg && chdir(o.chdir_arg) < 0)
		return sk_cli_error("run: cannot change to '%s': %s", o.chdir_arg, strerror(errno));

	sk_run_result res;
	sk_error err = { 0 };
	if (sk_run(&o.req, &res, &err) < 0)
		return sk_cli_error("run: %s", err.msg);
	report_outcome(&o.req, &res);
	return res.exit_code;
}
