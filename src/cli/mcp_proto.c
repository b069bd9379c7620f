/* MCP over JSON-RPC 2.0, one message per line, both eras (pure):
 *
 * - 2025 era: `initialize` negotiates a version for the connection (the
 *   client's when we speak it, else our latest), `notifications/initialized`,
 *   then requests without per-request metadata.
 * - 2026-07-28: no handshake; every request carries its version and client
 *   capabilities in _meta; an unsupported version is answered with
 *   UnsupportedProtocolVersionError (-32022) listing what we support;
 *   results carry resultType and our serverInfo in _meta; `server/discover`.
 *
 * A request with modern _meta is served statelessly whatever came before
 * it (a dual-era server may serve both on one stream). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

static const char *const legacy_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", NULL };
static const char *const modern_versions[] = { SK_MCP_MODERN_VERSION, NULL };

static const char instructions[] =
	"stockade runs shell commands in a sandbox. Use run_command for every shell "
	"command. Each result names its session; pass it back as `session` to keep "
	"one session. A denied or escalated command did not run: do not retry it by "
	"another path, every attempt is recorded and repeated ones escalate to a human.";

const char *sk_mcp_negotiate_legacy(const char *requested)
{
	for (const char *const *v = legacy_versions; *v; v++)
		if (requested && !strcmp(requested, *v))
			return *v;
	return SK_MCP_LEGACY_LATEST;
}

bool sk_mcp_modern_supported(const char *version)
{
	for (const char *const *v = modern_versions; *v; v++)
		if (version && !strcmp(version, *v))
			return true;
	return false;
}

static json_t *supported_json(void)
{
	json_t *a = json_array();
	for (const char *const *v = modern_versions; a && *v; v++)
		json_array_append_new(a, json_string(*v));
	for (const char *const *v = legacy_versions; a && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *server_info(void)
{
	return json_pack("{s:s, s:s, s:s}", "name", "stockade", "title", "stockade sandbox", "version",
			 STOCKADE_VERSION);
}

static int emit(json_t *msg, char **reply)
{
	*reply = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return *reply ? 0 : -ENOMEM;
}

static int reply_error(json_t *id, int code, const char *msg, json_t *data, char **reply)
{
	json_t *err = json_pack("{s:i, s:s, s:o*}", "code", code, "message", msg, "data", data);
	return emit(json_pack("{s:s, s:O?, s:o}", "jsonrpc", "2.0", "id", id, "error", err), reply);
}

/* One request as parsed, and whether it is of the modern era. */
typedef struct request {
	json_t *id;
	const char *method;
	json_t *params;   /* an object (empty when absent) */
	bool modern;
	const char *version;
} request;

static int reply_result(const request *rq, json_t *result, char **reply)
{
	if (!result)
		return -ENOMEM;
	if (rq->modern) {
		json_object_set_new(result, "resultType", json_string("complete"));
		json_t *meta = json_object_get(result, "_meta");
		if (!meta)
			json_object_set_new(result, "_meta", meta = json_object());
		json_object_set_new(meta, SK_MCP_META_SERVER, server_info());
	}
	return emit(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", rq->id, "result", result), reply);
}

static json_t *capabilities(void)
{
	return json_pack("{s:{s:b}}", "tools", "listChanged", 0);
}

static int on_initialize(sk_mcp_server *s, const request *rq, char **reply)
{
	json_t *v = json_object_get(rq->params, "protocolVersion");
	if (!json_is_string(v))
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS, "initialize needs params.protocolVersion (a string)",
				   NULL, reply);
	const char *chosen = sk_mcp_negotiate_legacy(json_string_value(v));
	snprintf(s->legacy_version, sizeof(s->legacy_version), "%s", chosen);
	s->initialized = false;
	return reply_result(rq, json_pack("{s:s, s:o, s:o, s:s}", "protocolVersion", chosen,
					  "capabilities", capabilities(), "serverInfo", server_info(),
					  "instructions", instructions), reply);
}

/* 2026-07-28: list and discover results carry caching hints.  The tools
 * never change while the server runs and are the same for every caller. */
static json_t *cacheable(const request *rq, json_t *result)
{
	if (result && rq->modern) {
		json_object_set_new(result, "ttlMs", json_integer(3600 * 1000));
		json_object_set_new(result, "cacheScope", json_string("public"));
	}
	return result;
}

static int on_discover(const request *rq, char **reply)
{
	return reply_result(rq, cacheable(rq, json_pack("{s:o, s:o, s:o, s:s}", "supportedVersions", supported_json(),
							"capabilities", capabilities(), "serverInfo", server_info(),
							"instructions", instructions)), reply);
}

static int on_call(sk_mcp_server *s, const request *rq, char **reply)
{
	json_t *name = json_object_get(rq->params, "name"), *args = json_object_get(rq->params, "arguments");
	if (!json_is_string(name))
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS, "tools/call needs params.name", NULL, reply);
	json_t *empty = json_object();
	if (!args)
		args = empty;
	char why[256];
	json_t *result = NULL;
	if (!strcmp(json_string_value(name), "run_command")) {
		sk_mcp_call call;
		int r = sk_mcp_parse_run(args, &call, why, sizeof(why));
		if (r == -EINVAL) {
			result = sk_mcp_tool_error(why);
		} else if (r == 0) {
			sk_mcp_outcome out;
			memset(&out, 0, sizeof(out));
			r = s->host.run(s->host.ctx, &call, &out);
			if (r < 0)
				snprintf(why, sizeof(why), "stockade could not run the command: %s", strerror(-r));
			result = r < 0 ? sk_mcp_tool_error(why) : sk_mcp_run_result(&out);
			free(call.argv);
		}
	} else if (!strcmp(json_string_value(name), "session_status")) {
		const char *session;
		if (sk_mcp_parse_status(args, &session, why, sizeof(why)) < 0) {
			result = sk_mcp_tool_error(why);
		} else {
			json_t *st = s->host.status(s->host.ctx, session);
			char *text = st ? json_dumps(st, JSON_INDENT(2)) : NULL;
			result = text ? json_pack("{s:[{s:s, s:s}], s:o, s:b}", "content", "type", "text", "text", text,
						  "structuredContent", st, "isError", 0) : NULL;
			if (!result)
				json_decref(st);
			free(text);
		}
	} else {
		json_decref(empty);
		snprintf(why, sizeof(why), "unknown tool '%s'; tools/list names run_command and session_status",
			 json_string_value(name));
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS, why, NULL, reply);
	}
	json_decref(empty);
	return reply_result(rq, result, reply);
}

/* Per-request metadata of the modern era: required fields, supported version. */
static int check_modern(request *rq, json_t *meta, char **reply, bool *answered)
{
	*answered = true;
	json_t *v = json_object_get(meta, SK_MCP_META_VERSION);
	if (!json_is_string(v))
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS, "_meta." SK_MCP_META_VERSION " must be a string",
				   NULL, reply);
	rq->version = json_string_value(v);
	if (!sk_mcp_modern_supported(rq->version))
		return reply_error(rq->id, SK_MCP_UNSUPPORTED_VERSION, "Unsupported protocol version",
				   json_pack("{s:o, s:s}", "supported", supported_json(), "requested", rq->version),
				   reply);
	if (!json_is_object(json_object_get(meta, SK_MCP_META_CAPS)))
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS,
				   "_meta." SK_MCP_META_CAPS " is required (an object)", NULL, reply);
	rq->modern = true;
	*answered = false;
	return 0;
}

static int dispatch(sk_mcp_server *s, request *rq, char **reply)
{
	const char *m = rq->method;
	json_t *meta = json_object_get(rq->params, "_meta");
	bool has_version = json_is_object(meta) && json_object_get(meta, SK_MCP_META_VERSION);
	if (!strcmp(m, "initialize"))
		return on_initialize(s, rq, reply);
	if (has_version) {
		bool answered;
		int r = check_modern(rq, meta, reply, &answered);
		if (answered)
			return r;
	} else if (strcmp(m, "ping") && !s->legacy_version[0]) {
		return reply_error(rq->id, SK_MCP_INVALID_PARAMS,
				   "no _meta." SK_MCP_META_VERSION " in this request and no initialize before it",
				   json_pack("{s:o}", "supported", supported_json()), reply);
	}
	if (!strcmp(m, "server/discover"))
		return rq->modern ? on_discover(rq, reply)
				  : reply_error(rq->id, SK_MCP_INVALID_PARAMS,
						"server/discover needs _meta." SK_MCP_META_VERSION, NULL, reply);
	if (!strcmp(m, "ping"))
		return reply_result(rq, json_object(), reply);
	if (!strcmp(m, "tools/list"))
		return reply_result(rq, cacheable(rq, json_pack("{s:o}", "tools", sk_mcp_tools_json())), reply);
	if (!strcmp(m, "tools/call"))
		return on_call(s, rq, reply);
	return reply_error(rq->id, SK_MCP_METHOD_NOT_FOUND, "method not found", json_pack("{s:s}", "method", m),
			   reply);
}

static void on_notification(sk_mcp_server *s, const char *method)
{
	if (!strcmp(method, "notifications/initialized"))
		s->initialized = true;
	/* Others (cancelled, progress, roots changed) need nothing: calls run
	 * one at a time and are bounded by their own limits. */
}

int sk_mcp_handle_line(sk_mcp_server *s, const char *line, size_t len, char **reply)
{
	*reply = NULL;
	json_error_t je;
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!msg)
		return reply_error(NULL, SK_MCP_PARSE_ERROR, "parse error: not one JSON value per line",
				   json_pack("{s:s}", "detail", je.text), reply);
	int r;
	json_t *method = json_object_get(msg, "method"), *id = json_object_get(msg, "id");
	json_t *jsonrpc = json_object_get(msg, "jsonrpc");
	bool id_ok = id && (json_is_string(id) || json_is_integer(id));
	if (!json_is_object(msg) || !json_is_string(jsonrpc) || strcmp(json_string_value(jsonrpc), "2.0")) {
		r = reply_error(id_ok ? id : NULL, SK_MCP_INVALID_REQUEST, "invalid request: one JSON-RPC 2.0 object "
				"per line (batches are not part of MCP)", NULL, reply);
	} else if (!method) {
		/* A response to a request we never send, or noise: no answer is due. */
		r = (json_object_get(msg, "result") || json_object_get(msg, "error"))
			? 0 : reply_error(id_ok ? id : NULL, SK_MCP_INVALID_REQUEST, "invalid request: no method", NULL, reply);
	} else if (!json_is_string(method)) {
		r = reply_error(id_ok ? id : NULL, SK_MCP_INVALID_REQUEST, "invalid request: method must be a string",
				NULL, reply);
	} else if (!id) {
		on_notification(s, json_string_value(method));
		r = 0;
	} else if (!id_ok) {
		r = reply_error(NULL, SK_MCP_INVALID_REQUEST, "invalid request: id must be a string or an integer",
				NULL, reply);
	} else {
		json_t *params = json_object_get(msg, "params");
		if (params && !json_is_object(params)) {
			r = reply_error(id, SK_MCP_INVALID_PARAMS, "params must be an object", NULL, reply);
		} else {
			json_t *empty = json_object();
			request rq = { .id = id, .method = json_string_value(method), .params = params ? params : empty };
			r = dispatch(s, &rq, reply);
			json_decref(empty);
		}
	}
	json_decref(msg);
	return r;
}
