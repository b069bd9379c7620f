/* The MCP server's tools: their schemas, their arguments, their results.
 * Pure: no I/O. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"
#include "stockade/session.h"

static const char run_description[] =
	"Run a shell command in the stockade sandbox: the workspace is the only "
	"writable host directory, secrets (~/.ssh, ~/.aws, .env, *_TOKEN variables...) "
	"are hidden and redacted from the output, there is no network, and every "
	"decision is recorded in signed receipts. Give `command` (a shell string, run "
	"with sh -c) or `argv` (an array). A denial is final: do not retry the same "
	"thing by another path; attempts are recorded and repeated ones escalate to a "
	"human. Pass the `session` id from an earlier result to stay in one session.";

static const char status_description[] =
	"Show a stockade session: its id, the turns this server ran in it, and the "
	"last verdict. Without `session`, the session of this connection.";

static json_t *run_input_schema(void)
{
	return json_pack(
		"{s:s, s:{s:{s:s, s:s}, s:{s:s, s:{s:s}, s:i, s:s}, s:{s:s, s:s},"
		" s:{s:s, s:i, s:i, s:s}, s:{s:s, s:s}}, s:b}",
		"type", "object", "properties",
		"command", "type", "string", "description", "shell command line, run with sh -c",
		"argv", "type", "array", "items", "type", "string", "minItems", 1,
		"description", "program and arguments, run without a shell",
		"cwd", "type", "string", "description", "directory to start in: absolute, or relative to the workspace",
		"timeout", "type", "number", "exclusiveMinimum", 0, "maximum", SK_MCP_MAX_TIMEOUT_S,
		"description", "wall-clock limit in seconds (the profile's limit is the most allowed)",
		"session", "type", "string", "description", "session id from an earlier result",
		"additionalProperties", 0);
}

static json_t *run_output_schema(void)
{
	return json_pack(
		"{s:s, s:{s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s},"
		" s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:{s:s}}, s:{s:s}},"
		" s:[s, s, s, s]}",
		"type", "object", "properties",
		"session", "type", "string", "exit_code", "type", "integer", "verdict", "type", "string",
		"reason", "type", "string", "rule", "type", "string", "denied", "type", "boolean",
		"escalated", "type", "boolean", "ran", "type", "boolean", "timed_out", "type", "boolean",
		"output_capped", "type", "boolean", "stdout", "type", "string", "stderr", "type", "string",
		"stdout_omitted_bytes", "type", "integer", "stderr_omitted_bytes", "type", "integer",
		"redactions", "type", "integer", "receipts", "type", "array", "items", "type", "integer",
		"error", "type", "string",
		"required", "session", "exit_code", "verdict", "denied");
}

static json_t *status_input_schema(void)
{
	return json_pack("{s:s, s:{s:{s:s, s:s}}, s:b}", "type", "object", "properties", "session", "type",
			 "string", "description", "session id (default: this connection's)",
			 "additionalProperties", 0);
}

json_t *sk_mcp_tools_json(void)
{
	return json_pack("[{s:s, s:s, s:s, s:o, s:o, s:{s:b, s:b, s:b, s:b}},"
			 " {s:s, s:s, s:s, s:o, s:{s:b, s:b}}]",
			 "name", "run_command", "title", "Run a command in the stockade sandbox",
			 "description", run_description, "inputSchema", run_input_schema(),
			 "outputSchema", run_output_schema(),
			 "annotations", "readOnlyHint", 0, "destructiveHint", 1, "idempotentHint", 0,
			 "openWorldHint", 0,
			 "name", "session_status", "title", "Show a stockade session",
			 "description", status_description, "inputSchema", status_input_schema(),
			 "annotations", "readOnlyHint", 1, "openWorldHint", 0);
}

/* The session part's rule, so every front end accepts the same ids. */
bool sk_mcp_session_id_valid(const char *id)
{
	return sk_session_id_valid(id);
}

/* A JSON string without embedded NUL, or NULL. */
static const char *plain_string(json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	return strlen(s) == json_string_length(v) ? s : NULL;
}

static int fail(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	return -EINVAL;
}

static int parse_argv(json_t *args, sk_mcp_call *call, char *why, size_t n)
{
	json_t *command = json_object_get(args, "command"), *argv = json_object_get(args, "argv");
	if ((command != NULL) == (argv != NULL))
		return fail(why, n, "give exactly one of `command` (a shell string) or `argv` (an array of strings)");
	if (command) {
		const char *s = plain_string(command);
		if (!s || !*s)
			return fail(why, n, "`command` must be a non-empty string without NUL bytes");
		if (!(call->argv = calloc(4, sizeof(*call->argv))))
			return -ENOMEM;
		call->argv[0] = "/bin/sh";
		call->argv[1] = "-c";
		call->argv[2] = s;
		return 0;
	}
	size_t len = json_is_array(argv) ? json_array_size(argv) : 0;
	if (len == 0 || len > SK_MCP_MAX_ARGV)
		return fail(why, n, "`argv` must be a non-empty array of strings (at most 4096)");
	if (!(call->argv = calloc(len + 1, sizeof(*call->argv))))
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		const char *s = plain_string(json_array_get(argv, i));
		if (!s || (i == 0 && !*s)) {
			free(call->argv);
			call->argv = NULL;
			return fail(why, n, "every `argv` element must be a string without NUL bytes; the first non-empty");
		}
		call->argv[i] = s;
	}
	return 0;
}

static int parse_session(json_t *v, const char **out, char *why, size_t n)
{
	*out = NULL;
	if (!v)
		return 0;
	const char *s = plain_string(v);
	if (!s || !sk_mcp_session_id_valid(s))
		return fail(why, n, "`session` must be an id as returned by this server "
				    "(1 to 128 of A-Z a-z 0-9 . _ : -, not starting with . or -)");
	*out = s;
	return 0;
}

static int check_keys(json_t *args, const char *const *known, char *why, size_t n)
{
	const char *key;
	json_t *v;
	json_object_foreach(args, key, v) {
		bool ok = false;
		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(key, *k);
		if (!ok) {
			snprintf(why, n, "unknown argument `%s`", key);
			return -EINVAL;
		}
	}
	return 0;
}

int sk_mcp_parse_run(json_t *args, sk_mcp_call *call, char *why, size_t why_len)
{
	static const char *const known[] = { "command", "argv", "cwd", "timeout", "session", NULL };
	memset(call, 0, sizeof(*call));
	if (!json_is_object(args))
		return fail(why, why_len, "arguments must be an object");
	int r = check_keys(args, known, why, why_len);
	if (r < 0 || (r = parse_session(json_object_get(args, "session"), &call->session, why, why_len)) < 0)
		return r;
	json_t *cwd = json_object_get(args, "cwd"), *timeout = json_object_get(args, "timeout");
	if (cwd && (!(call->cwd = plain_string(cwd)) || !*call->cwd))
		return fail(why, why_len, "`cwd` must be a non-empty string");
	if (timeout) {
		double t = json_is_number(timeout) ? json_number_value(timeout) : -1;
		if (!(t > 0) || t > SK_MCP_MAX_TIMEOUT_S || !isfinite(t))
			return fail(why, why_len, "`timeout` must be a number of seconds, more than 0 and at most 86400");
		call->timeout_ms = (uint64_t)ceil(t * 1000);
	}
	return parse_argv(args, call, why, why_len);
}

int sk_mcp_parse_status(json_t *args, const char **session, char *why, size_t why_len)
{
	static const char *const known[] = { "session", NULL };
	*session = NULL;
	if (!json_is_object(args))
		return fail(why, why_len, "arguments must be an object");
	int r = check_keys(args, known, why, why_len);
	return r < 0 ? r : parse_session(json_object_get(args, "session"), session, why, why_len);
}

static json_t *text_content(const char *text, size_t len)
{
	size_t n;
	char *clean = sk_utf8_sanitize(text, len, &n);
	json_t *c = clean ? json_pack("[{s:s, s:s%}]", "type", "text", "text", clean, n) : NULL;
	free(clean);
	return c;
}

json_t *sk_mcp_tool_error(const char *msg)
{
	json_t *content = text_content(msg, strlen(msg));
	return content ? json_pack("{s:o, s:b}", "content", content, "isError", 1) : NULL;
}

static bool escalated(const sk_mcp_outcome *o)
{
	return o->escalated || (o->verdict && !strcmp(o->verdict, "escalate"));
}

/* The last line of the text: what stockade decided, for the model. */
static void status_line(const sk_mcp_outcome *o, char *buf, size_t n)
{
	const char *rule = o->rule && *o->rule ? o->rule : "-";
	if (o->failed)
		snprintf(buf, n, "[stockade] error: %s. Nothing was run (session %s).", o->error ? o->error : "unknown",
			 o->session);
	else if (escalated(o))
		snprintf(buf, n, "[stockade] escalated to a human: %s (rule %s, retry chain %u). The command was "
				 "stopped; wait for a human decision and do not try another way (session %s).", o->reason,
			 rule, o->chain, o->session);
	else if (o->denied)
		snprintf(buf, n, "[stockade] denied by policy: %s (rule %s). The command did not run. Do not retry it "
				 "by another path: every attempt is recorded and repeated attempts escalate "
				 "(session %s).", o->reason, rule, o->session);
	else
		snprintf(buf, n, "[stockade] exit %d%s%s (session %s)", o->exit_code,
			 o->timed_out ? ", timed out: the whole process tree was killed" : "",
			 o->output_capped ? ", output limit reached: the command was killed" : "", o->session);
}

/* Appends s[0..n) to t at *k, ending it with a newline when it has none. */
static void append_block(char *t, size_t *k, const char *s, size_t n)
{
	memcpy(t + *k, s, n);
	*k += n;
	if (n && t[*k - 1] != '\n')
		t[(*k)++] = '\n';
}

/* stdout, then stderr under a marker, then the status line. */
static char *result_text(const sk_mcp_outcome *o, size_t *len)
{
	char status[1024], note[96];
	status_line(o, status, sizeof(status));
	size_t cap = o->out_len + o->err_len + 2 * sizeof(note) + sizeof(status) + 16;
	char *t = malloc(cap);
	if (!t)
		return NULL;
	size_t k = 0;
	append_block(t, &k, o->out, o->out_len);
	if (o->out_omitted) {
		int m = snprintf(note, sizeof(note), "[stockade] %llu more bytes of stdout not shown\n",
				 (unsigned long long)o->out_omitted);
		append_block(t, &k, note, (size_t)m);
	}
	if (o->err_len || o->err_omitted) {
		append_block(t, &k, "[stderr]\n", 9);
		append_block(t, &k, o->err, o->err_len);
	}
	if (o->err_omitted) {
		int m = snprintf(note, sizeof(note), "[stockade] %llu more bytes of stderr not shown\n",
				 (unsigned long long)o->err_omitted);
		append_block(t, &k, note, (size_t)m);
	}
	k += (size_t)snprintf(t + k, cap - k, "%s", status);
	*len = k;
	return t;
}

static json_t *clean_string(const char *s, size_t n)
{
	size_t len;
	char *c = sk_utf8_sanitize(s ? s : "", s ? n : 0, &len);
	json_t *v = c ? json_stringn(c, len) : NULL;
	free(c);
	return v;
}

static json_t *structured(const sk_mcp_outcome *o)
{
	json_t *receipts = json_array();
	if (receipts && o->command_receipt)
		json_array_append_new(receipts, json_integer((json_int_t)o->command_receipt));
	if (receipts && o->outcome_receipt)
		json_array_append_new(receipts, json_integer((json_int_t)o->outcome_receipt));
	json_t *s = json_pack("{s:s, s:i, s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:o*, s:o*, s:I, s:I, s:I, s:o*, s:I}",
			      "session", o->session, "exit_code", o->exit_code,
			      "verdict", o->failed ? "error" : o->verdict ? o->verdict : "",
			      "reason", o->reason ? o->reason : "", "rule", o->rule ? o->rule : "",
			      "denied", o->denied || o->failed, "escalated", escalated(o), "ran", o->ran,
			      "timed_out", o->timed_out, "output_capped", o->output_capped,
			      "stdout", clean_string(o->out, o->out_len), "stderr", clean_string(o->err, o->err_len),
			      "stdout_omitted_bytes", (json_int_t)o->out_omitted,
			      "stderr_omitted_bytes", (json_int_t)o->err_omitted,
			      "redactions", (json_int_t)o->redactions, "receipts", receipts,
			      "duration_ms", (json_int_t)o->duration_ms);
	if (s && o->chain)
		json_object_set_new(s, "chain", json_integer(o->chain));
	if (s && o->failed)
		json_object_set_new(s, "error", json_string(o->error ? o->error : "unknown"));
	return s;
}

json_t *sk_mcp_run_result(const sk_mcp_outcome *o)
{
	size_t len = 0;
	char *text = result_text(o, &len);
	json_t *content = text ? text_content(text, len) : NULL;
	free(text);
	bool is_error = o->failed || o->denied || escalated(o) || o->exit_code != 0;
	return content ? json_pack("{s:o, s:o*, s:b}", "content", content, "structuredContent", structured(o),
				   "isError", is_error)
		       : NULL;
}
