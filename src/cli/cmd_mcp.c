/* stockade mcp: an MCP server on stdin/stdout whose tools run commands on
 * the one run path (sk_run).  The protocol is in mcp_proto.c; this file is
 * the process: streams, sessions, and the runs. */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcp.h"
#include "stockade/cli.h"
#include "stockade/audit.h"
#include "stockade/policy.h"
#include "stockade/session.h"

extern char **environ;

#define MCP_LINE_MAX (8u << 20)      /* one message */
#define MCP_TEXT_MAX (512u << 10)    /* of each stream, in a result */

static const char usage_text[] =
	"usage: stockade mcp [--profile P] [--workspace DIR] [--state-dir DIR]\n"
	"\n"
	"An MCP server on stdin/stdout (one JSON-RPC message per line) for agent\n"
	"clients.  It speaks the 2025-11-25 protocol (initialize handshake; also\n"
	"2025-06-18, 2025-03-26, 2024-11-05) and the stateless 2026-07-28 revision\n"
	"(server/discover; version and capabilities in each request's _meta).\n"
	"\n"
	"Tools:\n"
	"  run_command     {command | argv, cwd, timeout, session}: run in the sandbox;\n"
	"                  returns the redacted output, exit status and verdict\n"
	"  session_status  {session}: what this server knows of a session\n"
	"\n"
	"A connection is not a session: a call without `session` joins the session\n"
	"this server opened for the connection (mcp-<hex>), named in every result.\n"
	"\n"
	"Options:\n"
	"      --profile P       profile NAME or FILE (default: default)\n"
	"  -w, --workspace DIR   the read-write workspace (default: the current directory)\n"
	"      --state-dir DIR   receipts and keys (default: $XDG_STATE_HOME/stockade)\n"
	"  -h, --help            this text\n";

/* What this server saw of one session. */
typedef struct session_info {
	char id[SK_MCP_SESSION_MAX + 1];
	unsigned turns, denials, escalations;
	char verdict[16], reason[48], rule[160];
	int exit_code;
} session_info;

typedef struct mcp_state {
	const char *profile, *state_dir;
	char workspace[PATH_MAX];
	uint64_t timeout_limit_ms;         /* the profile's (or the default) */
	char session[32];                  /* this connection's */
	session_info *sessions;
	size_t n_sessions;
	int out_fd;                        /* the protocol's stdout */
	char *out_buf, *err_buf;           /* the last run's output */
	char error[PATH_MAX * 2 + 512];
} mcp_state;

static session_info *find_session(mcp_state *st, const char *id, bool create)
{
	for (size_t i = 0; i < st->n_sessions; i++)
		if (!strcmp(st->sessions[i].id, id))
			return &st->sessions[i];
	if (!create)
		return NULL;
	session_info *v = realloc(st->sessions, (st->n_sessions + 1) * sizeof(*v));
	if (!v)
		return NULL;
	st->sessions = v;
	session_info *s = &v[st->n_sessions++];
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	return s;
}

static int new_session_id(char *out, size_t n)
{
	unsigned char raw[8];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -errno;
	int k = snprintf(out, n, "mcp-");
	for (size_t i = 0; i < sizeof(raw); i++)
		k += snprintf(out + k, n - (size_t)k, "%02x", raw[i]);
	return 0;
}

/* The start directory: absolute, or relative to the workspace; it must be
 * inside the workspace (the sandbox has no other host directory). */
static int resolve_cwd(const mcp_state *st, const char *cwd, char *out, size_t n)
{
	char joined[PATH_MAX * 2];
	if (!cwd)
		cwd = ".";
	snprintf(joined, sizeof(joined), "%s%s%s", cwd[0] == '/' ? "" : st->workspace, cwd[0] == '/' ? "" : "/", cwd);
	char real[PATH_MAX];
	struct stat sb;
	if (!realpath(joined, real) || stat(real, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(out, n, "cwd '%s' is not a directory", cwd);
		return -ENOENT;
	}
	size_t wl = strlen(st->workspace);
	if (strncmp(real, st->workspace, wl) || (real[wl] != '/' && real[wl] != '\0')) {
		snprintf(out, n, "cwd '%s' is outside the workspace %s", cwd, st->workspace);
		return -EPERM;
	}
	snprintf(out, n, "%s", real);
	return 0;
}

/* Read back what the run wrote to fd: at most MCP_TEXT_MAX bytes. */
static int read_output(int fd, char **buf, size_t *len, uint64_t *omitted)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return -errno;
	size_t size = (size_t)sb.st_size, want = size < MCP_TEXT_MAX ? size : MCP_TEXT_MAX;
	free(*buf);
	if (!(*buf = malloc(want + 1)))
		return -ENOMEM;
	ssize_t got = pread(fd, *buf, want, 0);
	if (got < 0)
		return -errno;
	(*buf)[got] = '\0';
	*len = (size_t)got;
	*omitted = size - (size_t)got;
	return 0;
}

static uint64_t total_redactions(const sk_run_result *res)
{
	uint64_t n = 0;
	for (size_t i = 0; i < res->n_redactions; i++)
		n += res->redactions[i];
	return n;
}

static void remember(mcp_state *st, const char *session, const sk_run_result *res, bool failed)
{
	session_info *s = find_session(st, session, true);
	if (!s)
		return;
	s->turns++;
	snprintf(s->verdict, sizeof(s->verdict), "%s", failed ? "error" : res->verdict);
	snprintf(s->reason, sizeof(s->reason), "%s", failed ? "" : res->reason);
	snprintf(s->rule, sizeof(s->rule), "%s", failed ? "" : res->rule);
	s->exit_code = res->exit_code;
	s->denials += !failed && res->denied;
	s->escalations += !failed && (res->escalated || !strcmp(res->verdict, "escalate"));
}

static void fill_outcome(const sk_run_result *res, sk_mcp_outcome *out)
{
	out->ran = res->ran;
	out->denied = res->denied;
	out->escalated = res->escalated;
	out->chain = res->chain;
	out->timed_out = res->timed_out;
	out->output_capped = res->output_capped;
	out->exit_code = res->exit_code;
	out->verdict = res->verdict;
	out->reason = res->reason;
	out->rule = res->rule;
	out->redactions = total_redactions(res);
	out->command_receipt = res->command_receipt;
	out->outcome_receipt = res->outcome_receipt;
	out->duration_ms = res->duration_ns / 1000000;
}

/* One turn of a session: sk_run with the output captured in memory files,
 * which the sandbox fills redacted and which are bounded by the output cap. */
static int run_call(void *ctx, const sk_mcp_call *call, sk_mcp_outcome *out)
{
	mcp_state *st = ctx;
	static sk_run_result res;   /* large (redaction counts); one call at a time */
	memset(&res, 0, sizeof(res));
	out->session = call->session ? call->session : st->session;
	char cwd[PATH_MAX + 128];
	if (resolve_cwd(st, call->cwd, cwd, sizeof(cwd)) < 0) {
		memcpy(st->error, cwd, sizeof(cwd));
		out->failed = true;
		out->error = st->error;
		out->exit_code = SK_EXIT_INTERNAL;
		return 0;
	}
	_cleanup_close_ int fd_out = memfd_create("stockade-stdout", MFD_CLOEXEC);
	_cleanup_close_ int fd_err = memfd_create("stockade-stderr", MFD_CLOEXEC);
	if (fd_out < 0 || fd_err < 0)
		return -errno;
	sk_request req;
	sk_request_init(&req);
	req.argv = (char *const *)call->argv;
	req.environ = environ;
	req.cwd = cwd;
	req.workspace = st->workspace;
	req.profile = st->profile;
	req.state_dir = st->state_dir;
	req.session = out->session;
	req.stdout_fd = fd_out;
	req.stderr_fd = fd_err;
	/* The agent may shorten the profile's time limit, never lengthen it. */
	if (call->timeout_ms && call->timeout_ms < st->timeout_limit_ms) {
		req.limits.timeout_ms = call->timeout_ms;
		req.limits_set |= SK_LIMIT_SET_TIMEOUT;
	}
	sk_error err = { 0 };
	int r = sk_run(&req, &res, &err);
	out->failed = r < 0;
	if (r < 0) {
		snprintf(st->error, sizeof(st->error), "%s", err.msg[0] ? err.msg : strerror(-r));
		out->error = st->error;
		out->exit_code = SK_EXIT_INTERNAL;
	} else {
		fill_outcome(&res, out);
	}
	remember(st, out->session, &res, out->failed);
	if ((r = read_output(fd_out, &st->out_buf, &out->out_len, &out->out_omitted)) < 0 ||
	    (r = read_output(fd_err, &st->err_buf, &out->err_len, &out->err_omitted)) < 0)
		return r;
	out->out = st->out_buf;
	out->err = st->err_buf;
	return 0;
}

/* The session as its journal has it (every front end's turns), or why not. */
static json_t *session_record(const mcp_state *st, const char *id)
{
	char dir[PATH_MAX];
	sk_error err = { 0 };
	_cleanup_session_ sk_session *s = NULL;
	if (sk_audit_state_dir(st->state_dir, dir, sizeof(dir), &err) < 0)
		return json_pack("{s:s}", "error", err.msg);
	int r = sk_session_open(dir, id, false, &s, &err);
	if (r == -ENOENT)
		return json_pack("{s:s}", "note", "no turn of this session has been recorded yet");
	return r < 0 ? json_pack("{s:s}", "error", err.msg) : sk_session_to_json(s);
}

static json_t *session_status(void *ctx, const char *session)
{
	mcp_state *st = ctx;
	const char *id = session ? session : st->session;
	const session_info *s = find_session(st, id, false);
	json_t *o = json_pack("{s:s, s:b, s:i, s:i, s:i, s:s, s:s, s:o*}", "session", id,
			      "this_connection", !strcmp(id, st->session), "turns_run_here", s ? (int)s->turns : 0,
			      "denials_here", s ? (int)s->denials : 0, "escalations_here", s ? (int)s->escalations : 0,
			      "workspace", st->workspace, "profile", st->profile ? st->profile : "default",
			      "recorded", session_record(st, id));
	if (o && s && s->turns)
		json_object_set_new(o, "last", json_pack("{s:s, s:s, s:s, s:i}", "verdict", s->verdict, "reason",
							 s->reason, "rule", s->rule, "exit_code", s->exit_code));
	return o;
}

/* The protocol owns stdin/stdout: keep them on private descriptors and
 * give everything else /dev/null and stderr, so that no command, helper or
 * stray message can read the client's messages or write into the stream. */
static int take_streams(int *in_fd, int *out_fd)
{
	*in_fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	*out_fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (*in_fd < 0 || *out_fd < 0 || null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		return -errno;
	close(null);
	return 0;
}

static int send_line(int fd, const char *reply)
{
	int r = sk_write_all(fd, reply, strlen(reply));
	return r < 0 ? r : sk_write_all(fd, "\n", 1);
}

static int handle(sk_mcp_server *srv, mcp_state *st, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return 0;
	char *reply = NULL;
	int r = sk_mcp_handle_line(srv, line, len, &reply);
	if (r == 0 && reply)
		r = send_line(st->out_fd, reply);
	free(reply);
	return r;
}

/* Messages until end of input.  A line longer than MCP_LINE_MAX is
 * answered with a parse error and skipped. */
static int serve(sk_mcp_server *srv, mcp_state *st, int in_fd)
{
	_cleanup_free_ char *buf = malloc(MCP_LINE_MAX);
	if (!buf)
		return -ENOMEM;
	size_t have = 0;
	bool skipping = false;
	for (;;) {
		ssize_t n = read(in_fd, buf + have, MCP_LINE_MAX - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : (have && !skipping ? handle(srv, st, buf, have) : 0);
		have += (size_t)n;
		size_t start = 0;
		for (char *nl; (nl = memchr(buf + start, '\n', have - start));) {
			size_t len = (size_t)(nl - (buf + start));
			int r = skipping ? 0 : handle(srv, st, buf + start, len);
			skipping = false;
			if (r < 0)
				return r;
			start += len + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == MCP_LINE_MAX) {
			int r = handle(srv, st, "{", 1);   /* a parse error, id null */
			if (r < 0)
				return r;
			have = 0;
			skipping = true;
		}
	}
}

/* Load the profile once at start: a broken profile is an error now, with
 * its file:line, not at the first call; and its time limit bounds calls. */
static int check_profile(mcp_state *st, sk_error *err)
{
	_cleanup_profile_ sk_profile *p = NULL;
	char uid[24];
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	const char *home = getenv("HOME");
	sk_profile_vars vars = { .home = home && home[0] == '/' ? home : "/home/stockade",
				 .workspace = st->workspace, .uid = uid };
	int r = sk_profile_load(st->profile ? st->profile : "default", &vars, &p, err);
	if (r < 0)
		return r;
	st->timeout_limit_ms = p->limits[SK_LIMIT_TIMEOUT] ? p->limits[SK_LIMIT_TIMEOUT] : SK_DEFAULT_TIMEOUT_MS;
	return 0;
}

static int parse_options(int argc, char **argv, mcp_state *st, const char **workspace)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "workspace", required_argument, NULL, 'w' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': st->profile = optarg; break;
		case 'w': *workspace = optarg; break;
		case 's': st->state_dir = optarg; break;
		case 'h': fputs(usage_text, stdout); return -1;
		case ':': return sk_cli_error("mcp: option '%s' needs a value", argv[optind - 1]);
		default:
			return sk_cli_error("mcp: unknown option '%s'; 'stockade mcp --help' lists them", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return sk_cli_error("mcp: unexpected argument '%s'", argv[optind]);
	return 0;
}

int sk_cmd_mcp(int argc, char **argv)
{
	mcp_state st = { 0 };
	const char *workspace = ".";
	int r = parse_options(argc, argv, &st, &workspace);
	if (r)
		return r < 0 ? 0 : r;
	if (!realpath(workspace, st.workspace))
		return sk_cli_error("mcp: workspace '%s': %s", workspace, strerror(errno));
	if (!strcmp(st.workspace, "/"))
		return sk_cli_error("mcp: the workspace cannot be /; pass --workspace DIR");
	sk_error err = { 0 };
	if (check_profile(&st, &err) < 0)
		return sk_cli_error("mcp: %s", err.msg);
	if ((r = new_session_id(st.session, sizeof(st.session))) < 0)
		return sk_cli_error("mcp: cannot make a session id: %s", strerror(-r));
	int in_fd;
	if ((r = take_streams(&in_fd, &st.out_fd)) < 0)
		return sk_cli_error("mcp: cannot set up stdin/stdout: %s", strerror(-r));
	sk_mcp_server srv = { .host = { .run = run_call, .status = session_status, .ctx = &st } };
	r = serve(&srv, &st, in_fd);
	free(st.out_buf);
	free(st.err_buf);
	free(st.sessions);
	close(in_fd);
	close(st.out_fd);
	/* EPIPE: the client went away; that is how a stdio server ends too. */
	return r < 0 && r != -EPIPE ? sk_cli_error("mcp: %s", strerror(-r)) : 0;
}
