/* JSON-RPC 2.0 framing and parameter validation for stockaded: pure
 * functions over jansson values, unit-tested in tests/test_daemon_rpc.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "stockade/daemon.h"

void sk_rpc_msg_free(sk_rpc_msg *msg)
{
	json_decref(msg->root);
	memset(msg, 0, sizeof(*msg));
}

static bool valid_id(json_t *id)
{
	return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

int sk_rpc_parse(const char *line, size_t len, sk_rpc_msg *msg, sk_error *err)
{
	memset(msg, 0, sizeof(*msg));
	json_error_t je;
	msg->root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!msg->root) {
		sk_fail(err, EINVAL, "parse error at column %d: %s", je.column, je.text);
		return SK_RPC_PARSE_ERROR;
	}
	if (json_is_array(msg->root)) {
		sk_fail(err, EINVAL, "batches are not supported; send one request per line");
		return SK_RPC_INVALID_REQUEST;
	}
	if (!json_is_object(msg->root)) {
		sk_fail(err, EINVAL, "a request is a JSON object");
		return SK_RPC_INVALID_REQUEST;
	}
	json_t *id = json_object_get(msg->root, "id");
	if (id && valid_id(id))
		msg->id = id;
	json_t *ver = json_object_get(msg->root, "jsonrpc");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0")) {
		sk_fail(err, EINVAL, "\"jsonrpc\" must be \"2.0\"");
		return SK_RPC_INVALID_REQUEST;
	}
	if (id && !valid_id(id)) {
		sk_fail(err, EINVAL, "\"id\" must be a string, an integer or null");
		return SK_RPC_INVALID_REQUEST;
	}
	json_t *method = json_object_get(msg->root, "method");
	if (!json_is_string(method) || !json_string_length(method)) {
		sk_fail(err, EINVAL, "\"method\" must be a non-empty string");
		return SK_RPC_INVALID_REQUEST;
	}
	msg->method = json_string_value(method);
	json_t *params = json_object_get(msg->root, "params");
	if (params && !json_is_object(params)) {
		sk_fail(err, EINVAL, "\"params\" must be an object (named parameters)");
		return SK_RPC_INVALID_REQUEST;
	}
	if (!params) {
		params = json_object();
		if (!params || json_object_set_new(msg->root, "params", params) < 0) {
			sk_fail(err, ENOMEM, "out of memory");
			return SK_RPC_INVALID_REQUEST;
		}
	}
	msg->params = params;
	return 0;
}

static char *encode_line(json_t *v)
{
	if (!v)
		return NULL;
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(v);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

char *sk_rpc_result(json_t *id, json_t *result)
{
	return encode_line(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(),
				     "result", result));
}

char *sk_rpc_error(json_t *id, int code, const char *message)
{
	return encode_line(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
				     id ? id : json_null(), "error", "code", code, "message", message));
}

char *sk_rpc_notify(const char *method, json_t *params)
{
	return encode_line(json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params));
}

static int bad_param(sk_error *err, const char *what)
{
	sk_fail(err, EINVAL, "%s", what);
	return SK_RPC_INVALID_PARAMS;
}

/* An optional string member: absent is fine, anything else must be a string. */
static int opt_string(json_t *params, const char *key, const char **out, sk_error *err)
{
	json_t *v = json_object_get(params, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_string_length(v) || strlen(json_string_value(v)) != json_string_length(v)) {
		sk_fail(err, EINVAL, "\"%s\" must be a non-empty string without NUL bytes", key);
		return SK_RPC_INVALID_PARAMS;
	}
	*out = json_string_value(v);
	return 0;
}

static bool env_valid(json_t *env)
{
	if (!json_is_object(env))
		return false;
	const char *k;
	json_t *v;
	json_object_foreach(env, k, v) {
		if (!json_is_string(v) || !*k || strchr(k, '=') || strlen(json_string_value(v)) != json_string_length(v))
			return false;
	}
	return true;
}

int sk_rpc_open_params(json_t *params, sk_open_params *out, sk_error *err)
{
	memset(out, 0, sizeof(*out));
	int r;
	if ((r = opt_string(params, "profile", &out->profile, err)) < 0 ||
	    (r = opt_string(params, "workspace", &out->workspace, err)) < 0)
		return r;
	if (!out->workspace && !json_is_string(json_object_get(params, "session")))
		return bad_param(err, "\"workspace\" is required: the directory the session's commands work in");
	if (out->workspace && out->workspace[0] != '/')
		return bad_param(err, "\"workspace\" must be an absolute path");
	if ((r = opt_string(params, "session", &out->session, err)) < 0)
		return r;
	if (out->session && !sk_session_id_valid(out->session))
		return bad_param(err, "\"session\": 1 to 128 of A-Z a-z 0-9 . _ : -, not starting with . or -");
	json_t *env = json_object_get(params, "env");
	if (env && !json_is_null(env)) {
		if (!env_valid(env))
			return bad_param(err, "\"env\" must map names (no '=') to strings without NUL bytes");
		out->env = env;
	}
	return 0;
}

static int exec_argv(json_t *params, sk_exec_params *out, sk_error *err)
{
	json_t *argv = json_object_get(params, "argv");
	json_t *command = json_object_get(params, "command");
	if ((argv != NULL) == (command != NULL))
		return bad_param(err, "give exactly one of \"argv\" (an array of strings) or \"command\" (a shell string)");
	if (command) {
		if (!json_is_string(command) || !json_string_length(command) ||
		    strlen(json_string_value(command)) != json_string_length(command))
			return bad_param(err, "\"command\" must be a non-empty string without NUL bytes");
		if (!(out->argv = calloc(4, sizeof(char *))))
			return bad_param(err, "out of memory");
		out->argv[0] = (char *)"/bin/sh";
		out->argv[1] = (char *)"-c";
		out->argv[2] = (char *)json_string_value(command);
		return 0;
	}
	size_t n = json_is_array(argv) ? json_array_size(argv) : 0;
	if (!n || n > 65536)
		return bad_param(err, "\"argv\" must be a non-empty array of strings");
	if (!(out->argv = calloc(n + 1, sizeof(char *))))
		return bad_param(err, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *a = json_array_get(argv, i);
		if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a) ||
		    (i == 0 && !json_string_length(a))) {
			free(out->argv);
			out->argv = NULL;
			return bad_param(err, "\"argv\" must hold strings without NUL bytes, the first non-empty");
		}
		out->argv[i] = (char *)json_string_value(a);
	}
	return 0;
}

int sk_rpc_exec_params(json_t *params, sk_exec_params *out, sk_error *err)
{
	memset(out, 0, sizeof(*out));
	int r;
	if ((r = opt_string(params, "session", &out->session, err)) < 0 ||
	    (r = opt_string(params, "cwd", &out->cwd, err)) < 0)
		return r;
	if (!out->session)
		return bad_param(err, "\"session\" is required: open one with session.open");
	json_t *t = json_object_get(params, "timeout");
	if (t && !json_is_null(t)) {
		double s = json_is_number(t) ? json_number_value(t) : -1;
		if (s <= 0 || s > 7 * 24 * 3600.0)
			return bad_param(err, "\"timeout\" must be a positive number of seconds (at most a week)");
		out->timeout_ms = (uint64_t)(s * 1000.0);
		if (!out->timeout_ms)
			out->timeout_ms = 1;
	}
	json_t *w = json_object_get(params, "wait");
	if (w && !json_is_null(w)) {
		double s = json_is_number(w) ? json_number_value(w) : -1;
		if (s < 0 || s > 24 * 3600.0)
			return bad_param(err, "\"wait\" must be a number of seconds from 0 to a day");
		out->wait_ms = (uint64_t)(s * 1000.0);
	}
	json_t *env = json_object_get(params, "env");
	if (env && !json_is_null(env)) {
		if (!env_valid(env))
			return bad_param(err, "\"env\" must map names (no '=') to strings without NUL bytes");
		out->env = env;
	}
	json_t *in = json_object_get(params, "stdin");
	if (in && !json_is_null(in)) {
		if (!json_is_string(in))
			return bad_param(err, "\"stdin\" must be a string");
		out->stdin_data = json_string_value(in);
		out->stdin_len = json_string_length(in);
	}
	return exec_argv(params, out, err);
}

/* "SESSION#CHAIN" or session + chain. */
static int decide_target(json_t *params, sk_decide_params *out, sk_error *err)
{
	json_t *id = json_object_get(params, "id"), *session = json_object_get(params, "session");
	json_t *chain = json_object_get(params, "chain");
	const char *sid;
	json_int_t n;
	if (id) {
		const char *s = json_is_string(id) ? json_string_value(id) : NULL;
		const char *hash = s ? strrchr(s, '#') : NULL;
		char *end;
		if (!hash || hash == s || (size_t)(hash - s) > SK_SESSION_ID_MAX || session || chain)
			return bad_param(err, "\"id\" must be an escalation id \"SESSION#CHAIN\" (and then no \"session\" or \"chain\")");
		long long v = strtoll(hash + 1, &end, 10);
		if (*end || hash[1] < '0' || hash[1] > '9')
			return bad_param(err, "\"id\": the part after '#' must be a chain number");
		memcpy(out->session, s, (size_t)(hash - s));
		out->session[hash - s] = '\0';
		n = v;
		sid = out->session;
	} else {
		if (!json_is_string(session) || json_string_length(session) > SK_SESSION_ID_MAX)
			return bad_param(err, "give \"id\" (\"SESSION#CHAIN\") or \"session\" and \"chain\"");
		if (!json_is_integer(chain))
			return bad_param(err, "\"chain\" must be a chain number");
		snprintf(out->session, sizeof(out->session), "%s", json_string_value(session));
		n = json_integer_value(chain);
		sid = out->session;
	}
	if (!sk_session_id_valid(sid) || strlen(sid) != strlen(out->session))
		return bad_param(err, "not a valid session id");
	if (n < 1 || n > UINT32_MAX)
		return bad_param(err, "the chain number must be from 1 to 4294967295");
	out->chain = (uint32_t)n;
	return 0;
}

int sk_rpc_decide_params(json_t *params, sk_decide_params *out, sk_error *err)
{
	memset(out, 0, sizeof(*out));
	out->uid = -1;
	int r = decide_target(params, out, err);
	if (r < 0)
		return r;
	json_t *d = json_object_get(params, "decision");
	const char *ds = json_is_string(d) ? json_string_value(d) : "";
	if (!strcmp(ds, "approve"))
		out->approve = true;
	else if (strcmp(ds, "deny"))
		return bad_param(err, "\"decision\" must be \"approve\" or \"deny\"");
	if ((r = opt_string(params, "reason", &out->reason, err)) < 0)
		return r;
	json_t *uid = json_object_get(params, "uid");
	if (uid && !json_is_null(uid)) {
		if (!json_is_integer(uid) || json_integer_value(uid) < 0 || json_integer_value(uid) > UINT32_MAX - 1)
			return bad_param(err, "\"uid\" must be a uid");
		out->uid = json_integer_value(uid);
	}
	return 0;
}

json_t *sk_rpc_output_params(json_t *exec_id, const char *stream, const void *buf, size_t len)
{
	json_t *text = json_stringn(buf, len);   /* NULL unless valid UTF-8 */
	if (text)
		return json_pack("{s:O, s:s, s:o}", "id", exec_id, "stream", stream, "text", text);
	size_t b64len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(b64len);
	if (!b64)
		return NULL;
	sodium_bin2base64(b64, b64len, buf, len, sodium_base64_VARIANT_ORIGINAL);
	json_t *p = json_pack("{s:O, s:s, s:s}", "id", exec_id, "stream", stream, "base64", b64);
	free(b64);
	return p;
}
