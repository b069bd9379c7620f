/* stockade hook claude-code: a Claude Code hook command.
 *
 * PreToolUse, Bash: the command is rewritten (hookSpecificOutput.updatedInput)
 * to run through `stockade run --session <the hook's session_id>`, so every
 * shell command of the agent runs in the sandbox and joins one session.  A
 * plain simple command whose program the profile denies is blocked with
 * exit 2 and a reason Claude reads, after the run path has recorded the
 * attempt in the session (it is decided and receipted, never run).
 * PostToolUse, other tools: every string of tool_response goes through the
 * profile's redactor; when anything changed, hookSpecificOutput.updatedToolOutput
 * carries the redacted copy (same shape, as the hooks reference requires). */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"
#include "mcp.h"
#include "stockade/cli.h"
#include "stockade/policy.h"
#include "stockade/redact.h"

extern char **environ;

#define HOOK_INPUT_MAX (16u << 20)
#define HOOK_BLOCK 2   /* Claude Code: exit 2 blocks; stderr is the reason */

static const char usage_text[] =
	"usage: stockade hook claude-code [OPTIONS] < HOOK-INPUT.json\n"
	"       stockade hook claude-code --print-config [OPTIONS]\n"
	"\n"
	"A Claude Code hook.  PreToolUse on Bash: rewrites the command to run through\n"
	"`stockade run --session <session_id>` (updatedInput), so every shell command\n"
	"runs in the sandbox and joins one session; a simple command whose program the\n"
	"profile denies is recorded and blocked (exit 2, the reason on stderr).\n"
	"PostToolUse on other tools: redacts credentials from tool_response\n"
	"(updatedToolOutput).  See docs/agents.md.\n"
	"\n"
	"Options:\n"
	"      --profile P       profile NAME or FILE (default: default)\n"
	"      --state-dir DIR   receipts and keys (default: $XDG_STATE_HOME/stockade)\n"
	"      --ask             let Claude Code ask before each rewritten command\n"
	"                        (permissionDecision \"ask\"; default \"allow\": the\n"
	"                        sandbox is the boundary)\n"
	"      --print-config    print the settings.json snippet that installs the hook\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 (decision on stdout, if any); 2 blocked (reason on stderr);\n"
	"125 the hook's own error (Claude Code shows it and goes on without it).\n";

typedef struct hook_opts {
	const char *profile, *state_dir;
	bool ask, print_config;
	char self[PATH_MAX];   /* this binary, for the rewritten command */
} hook_opts;

static int print_json(json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!s)
		return sk_cli_error("hook: out of memory");
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? 0 : sk_cli_error("hook: cannot write the answer: %s", strerror(errno));
}

/* ---- the settings.json snippet ------------------------------------------- */

static char *hook_command(const hook_opts *o)
{
	char *self = sk_shell_quote(o->self), *prof = o->profile ? sk_shell_quote(o->profile) : NULL;
	char *sd = o->state_dir ? sk_shell_quote(o->state_dir) : NULL, *cmd = NULL;
	if (self && (!o->profile || prof) && (!o->state_dir || sd) &&
	    asprintf(&cmd, "%s hook claude-code%s%s%s%s%s", self, prof ? " --profile " : "", prof ? prof : "",
		     sd ? " --state-dir " : "", sd ? sd : "", o->ask ? " --ask" : "") < 0)
		cmd = NULL;
	free(self);
	free(prof);
	free(sd);
	return cmd;
}

static int print_config(const hook_opts *o)
{
	_cleanup_free_ char *cmd = hook_command(o);
	if (!cmd)
		return sk_cli_error("hook: out of memory");
	json_t *v = json_pack("{s:{s:[{s:s, s:[{s:s, s:s, s:i}]}], s:[{s:s, s:[{s:s, s:s, s:i}]}]}}", "hooks",
			      "PreToolUse", "matcher", "Bash", "hooks", "type", "command", "command", cmd, "timeout", 30,
			      "PostToolUse", "matcher", "*", "hooks", "type", "command", "command", cmd, "timeout", 30);
	char *s = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
	json_decref(v);
	if (!s)
		return sk_cli_error("hook: out of memory");
	printf("%s\n", s);
	free(s);
	return 0;
}

/* ---- PreToolUse: the decision before running ----------------------------- */

/* The program a simple command names, resolved as the run path does (PATH,
 * else the name under cwd, without identity). */
static void resolve_program(const char *name, const char *cwd, char *out, size_t n, struct stat *st, bool *found)
{
	*found = false;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	if (strchr(name, '/')) {
		char joined[PATH_MAX * 2 + 2];
		snprintf(joined, sizeof(joined), "%s%s%s", name[0] == '/' ? "" : cwd, name[0] == '/' ? "" : "/", name);
		*found = realpath(joined, out) && stat(out, st) == 0;
		if (!*found)
			snprintf(out, n, "%.*s", (int)(n - 1), joined);
		return;
	}
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		char cand[PATH_MAX * 2 + 2];
		snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p, name);
		if (cand[0] == '/' && stat(cand, st) == 0 && S_ISREG(st->st_mode) && realpath(cand, out)) {
			*found = true;
			return;
		}
		p = *end ? end + 1 : end;
	}
	snprintf(out, n, "%s/%s", cwd, name);
}

/* Does the profile alone deny this program?  (Pure decide, no session.) */
static int profile_denies(const hook_opts *o, const char *workspace, char **words, bool *denied, sk_error *err)
{
	_cleanup_profile_ sk_profile *p = NULL;
	char uid[24];
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	const char *home = getenv("HOME");
	sk_profile_vars vars = { .home = home && home[0] == '/' ? home : "/home/stockade", .workspace = workspace,
				 .uid = uid };
	int r = sk_profile_load(o->profile ? o->profile : "default", &vars, &p, err);
	if (r < 0 || (r = sk_profile_bind(p, NULL, err)) < 0)
		return r;
	char exe[PATH_MAX * 2 + 2];
	struct stat st = { 0 };
	bool found;
	resolve_program(words[0], workspace, exe, sizeof(exe), &st, &found);
	size_t argc = 0;
	while (words[argc])
		argc++;
	sk_event ev = { .kind = SK_EVENT_COMMAND };
	ev.command.exe = (sk_file_ref){ .path = exe, .has_identity = found, .dev = found ? (uint64_t)st.st_dev : 0,
					.ino = found ? (uint64_t)st.st_ino : 0 };
	ev.command.argv = (const char *const *)words;
	ev.command.argc = argc;
	*denied = sk_decide(p, NULL, &ev).action != SK_ACTION_ALLOW;
	return 0;
}

/* Record the attempt through the run path, in the session: the command is
 * decided and receipted there and never started (decide_only). */
static int record_attempt(const hook_opts *o, const char *session, const char *workspace, const char *cwd,
			  char **words, sk_run_result *res, sk_error *err)
{
	_cleanup_close_ int out = memfd_create("stockade-hook", MFD_CLOEXEC);
	if (out < 0)
		return sk_fail_errno(err, errno, "memfd_create");
	sk_request req;
	sk_request_init(&req);
	req.argv = words;
	req.environ = environ;
	req.cwd = cwd;
	req.workspace = workspace;
	req.profile = o->profile;
	req.state_dir = o->state_dir;
	req.session = session;
	req.stdout_fd = out;
	req.stderr_fd = out;
	req.decide_only = true;   /* even if a human approved it meanwhile */
	return sk_run(&req, res, err);
}

static int block(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int block(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return HOOK_BLOCK;
}

static char *rewritten_command(const hook_opts *o, const char *session, const char *workspace, const char *command)
{
	const char *shell = access("/bin/bash", X_OK) == 0 ? "bash" : "sh";
	char *self = sk_shell_quote(o->self), *sid = sk_shell_quote(session), *ws = sk_shell_quote(workspace);
	char *prof = o->profile ? sk_shell_quote(o->profile) : NULL, *sd = o->state_dir ? sk_shell_quote(o->state_dir) : NULL;
	char *cmd = sk_shell_quote(command), *out = NULL;
	if (self && sid && ws && cmd && (!o->profile || prof) && (!o->state_dir || sd) &&
	    asprintf(&out, "%s run --session %s --workspace %s%s%s%s%s -- %s -c %s", self, sid, ws,
		     prof ? " --profile " : "", prof ? prof : "", sd ? " --state-dir " : "", sd ? sd : "", shell, cmd) < 0)
		out = NULL;
	free(self);
	free(sid);
	free(ws);
	free(prof);
	free(sd);
	free(cmd);
	return out;
}

static int pre_bash(const hook_opts *o, json_t *in)
{
	json_t *input = json_object_get(in, "tool_input");
	const char *command = json_string_value(json_object_get(input, "command"));
	const char *session = json_string_value(json_object_get(in, "session_id"));
	const char *cwd = json_string_value(json_object_get(in, "cwd"));
	if (!json_is_object(input) || !command)
		return 0;   /* not a Bash call Claude Code could run either */
	if (!session || !sk_mcp_session_id_valid(session))
		return block("stockade: the hook input has no usable session_id, so the command cannot join a "
			     "session; it was not run");
	/* The workspace: the project, else where Claude Code is. */
	const char *project = getenv("CLAUDE_PROJECT_DIR");
	char workspace[PATH_MAX], here[PATH_MAX];
	const char *ws_in = project && *project ? project : cwd;
	if (!ws_in || !realpath(ws_in, workspace))
		return block("stockade: cannot tell the workspace (no CLAUDE_PROJECT_DIR or cwd); the command was not run");
	if (!cwd || !realpath(cwd, here))
		snprintf(here, sizeof(here), "%s", workspace);

	char **words = NULL;
	if (sk_shell_simple_words(command, &words) == 0) {
		bool denied = false;
		sk_error err = { 0 };
		int r = profile_denies(o, workspace, words, &denied, &err);
		if (r < 0) {
			sk_strv_free(words);
			return block("stockade: cannot evaluate the policy: %s; the command was not run", err.msg);
		}
		if (denied) {
			static sk_run_result res;
			r = record_attempt(o, session, workspace, here, words, &res, &err);
			sk_strv_free(words);
			if (r < 0)
				return block("stockade: %s; the command was not run", err.msg);
			if (res.ran)
				return block("stockade: this command was approved in session %s and ran in the sandbox "
					     "(exit %d); its output is in the sandbox's receipts, not here", session,
					     res.exit_code);
			return block("stockade: '%s' is %s by policy: %s (rule %s). It was not run and the attempt "
				     "is recorded in session %s. Do not retry it by another path: repeated attempts "
				     "escalate to a human.", command,
				     res.escalated || !strcmp(res.verdict, "escalate") ? "escalated" : "denied",
				     res.reason, res.rule[0] ? res.rule : "-", session);
		}
	}
	sk_strv_free(words);

	_cleanup_free_ char *wrapped = rewritten_command(o, session, workspace, command);
	json_t *updated = json_deep_copy(input);
	if (!wrapped || !updated || json_object_set_new(updated, "command", json_string(wrapped)) < 0) {
		json_decref(updated);
		return sk_cli_error("hook: out of memory");
	}
	char reason[256];
	snprintf(reason, sizeof(reason), "runs in the stockade sandbox, session %s", session);
	return print_json(json_pack("{s:{s:s, s:s, s:s, s:o}}", "hookSpecificOutput", "hookEventName", "PreToolUse",
				    "permissionDecision", o->ask ? "ask" : "allow", "permissionDecisionReason", reason,
				    "updatedInput", updated));
}

/* ---- PostToolUse: redact what other tools return ------------------------- */

static void warn_quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

static int build_redactor(const hook_opts *o, sk_redactor **out, sk_error *err)
{
	_cleanup_profile_ sk_profile *p = NULL;
	sk_sandbox_config cfg;
	sk_profile_env env = { 0 };
	sk_redact_literals *lits = NULL;
	_cleanup_free_ char *extra = NULL;
	int r = sk_profile_load(o->profile ? o->profile : "default", NULL, &p, err);
	if (r < 0)
		return r;
	if ((r = sk_redact_literals_new(&lits, warn_quiet, NULL)) < 0)
		return sk_fail_errno(err, -r, "cannot start the redactor");
	sk_sandbox_config_init(&cfg);
	if ((r = sk_profile_apply(p, environ, NULL, &cfg, &env, err)) >= 0 &&
	    (r = sk_profile_redact_inputs(&env, lits, &extra, err)) >= 0) {
		sk_redact_config rc;
		sk_redact_config_init(&rc);
		rc.literals = lits;
		rc.disabled_rules = (const char *const *)env.disabled_rules;
		rc.extra_rules = extra;
		rc.extra_rules_origin = p->source;
		r = sk_redactor_build(&rc, out, err);
	}
	sk_profile_env_free(&env);
	sk_redact_literals_free(lits);
	return r < 0 ? r : 0;
}

/* Redact every string in v, in place; *changed when any string changed. */
static int redact_json(const sk_redactor *r, json_t *v, bool *changed, int depth)
{
	if (depth > 64)
		return -E2BIG;
	if (json_is_string(v)) {
		char *out = NULL;
		size_t len = 0;
		int e = sk_redact_buffer(r, json_string_value(v), json_string_length(v), &out, &len, NULL);
		if (e < 0)
			return e;
		if (len != json_string_length(v) || memcmp(out, json_string_value(v), len)) {
			*changed = true;
			e = json_string_setn(v, out, len);   /* redactor output of valid UTF-8 input is valid */
		}
		free(out);
		return e < 0 ? -EINVAL : 0;
	}
	if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			int e = redact_json(r, json_array_get(v, i), changed, depth + 1);
			if (e < 0)
				return e;
		}
	}
	if (json_is_object(v)) {
		const char *key;
		json_t *item;
		json_object_foreach(v, key, item) {
			int e = redact_json(r, item, changed, depth + 1);
			if (e < 0)
				return e;
		}
	}
	return 0;
}

static int post_tool(const hook_opts *o, json_t *in)
{
	const char *tool = json_string_value(json_object_get(in, "tool_name"));
	json_t *response = json_object_get(in, "tool_response");
	/* Bash output came through `stockade run`, which redacted it already. */
	if (!response || (tool && !strcmp(tool, "Bash")))
		return 0;
	sk_redactor *red = NULL;
	sk_error err = { 0 };
	if (build_redactor(o, &red, &err) < 0)
		return sk_cli_error("hook: %s", err.msg);
	json_t *copy = json_deep_copy(response);
	bool changed = false;
	int r = copy ? redact_json(red, copy, &changed, 0) : -ENOMEM;
	sk_redactor_free(red);
	if (r < 0) {
		json_decref(copy);
		return sk_cli_error("hook: cannot redact the tool's output: %s", strerror(-r));
	}
	if (!changed) {
		json_decref(copy);
		return 0;
	}
	return print_json(json_pack("{s:{s:s, s:o}}", "hookSpecificOutput", "hookEventName", "PostToolUse",
				    "updatedToolOutput", copy));
}

/* ---- the command ---------------------------------------------------------- */

static int read_input(json_t **out)
{
	_cleanup_free_ char *buf = malloc(HOOK_INPUT_MAX);
	size_t have = 0;
	if (!buf)
		return sk_cli_error("hook: out of memory");
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + have, HOOK_INPUT_MAX - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sk_cli_error("hook: cannot read the hook input: %s", strerror(errno));
		if (n == 0)
			break;
		have += (size_t)n;
		if (have == HOOK_INPUT_MAX)
			return sk_cli_error("hook: the hook input is larger than 16 MiB");
	}
	json_error_t je;
	*out = json_loadb(buf, have, 0, &je);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		return sk_cli_error("hook: stdin:%d:%d: the hook input is not a JSON object: %s", je.line, je.column,
				    je.text);
	}
	return 0;
}

static int parse_options(int argc, char **argv, hook_opts *o)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' }, { "state-dir", required_argument, NULL, 's' },
		{ "ask", no_argument, NULL, 'a' },           { "print-config", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },          { 0 },
	};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'a': o->ask = true; break;
		case 'c': o->print_config = true; break;
		case 'h': fputs(usage_text, stdout); return -1;
		case ':': return sk_cli_error("hook: option '%s' needs a value", argv[optind - 1]);
		default: return sk_cli_error("hook: unknown option '%s'; 'stockade hook --help' lists them", argv[optind - 1]);
		}
	}
	return 0;
}

int sk_cmd_hook(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? SK_EXIT_INTERNAL : 0;
	}
	if (strcmp(argv[1], "claude-code"))
		return sk_cli_error("hook: unknown agent '%s'; stockade has hooks for: claude-code", argv[1]);
	hook_opts o = { 0 };
	int r = parse_options(argc - 1, argv + 1, &o);
	if (r)
		return r < 0 ? 0 : r;
	if (!realpath("/proc/self/exe", o.self))
		return sk_cli_error("hook: cannot find this program: %s", strerror(errno));
	if (o.print_config)
		return print_config(&o);
	json_t *in = NULL;
	if ((r = read_input(&in)))
		return r;
	const char *event = json_string_value(json_object_get(in, "hook_event_name"));
	const char *tool = json_string_value(json_object_get(in, "tool_name"));
	if (event && !strcmp(event, "PreToolUse") && tool && !strcmp(tool, "Bash"))
		r = pre_bash(&o, in);
	else if (event && !strcmp(event, "PostToolUse"))
		r = post_tool(&o, in);
	json_decref(in);
	return r;
}
