/* The MCP server's protocol and tool layers and the hook's shell words
 * (pure parts): version negotiation in both eras, message errors, tool
 * arguments, results, UTF-8, quoting. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "../src/cli/hook.h"
#include "../src/cli/mcp.h"
#include "stockade/policy.h"

/* ---- a fake host that records the call ----------------------------------- */

typedef struct fake_host {
	int calls;
	char argv0[64], argv2[256], session[64];
	uint64_t timeout_ms;
	sk_mcp_outcome give;
} fake_host;

static int fake_run(void *ctx, const sk_mcp_call *call, sk_mcp_outcome *out)
{
	fake_host *h = ctx;
	h->calls++;
	snprintf(h->argv0, sizeof(h->argv0), "%s", call->argv[0]);
	snprintf(h->argv2, sizeof(h->argv2), "%s", call->argv[1] && call->argv[2] ? call->argv[2] : "");
	snprintf(h->session, sizeof(h->session), "%s", call->session ? call->session : "");
	h->timeout_ms = call->timeout_ms;
	*out = h->give;
	out->session = call->session ? call->session : "mcp-conn";
	return 0;
}

static json_t *fake_status(void *ctx, const char *session)
{
	(void)ctx;
	return json_pack("{s:s}", "session", session ? session : "mcp-conn");
}

static fake_host host;
static sk_mcp_server srv;

static void setup(void)
{
	memset(&host, 0, sizeof(host));
	host.give = (sk_mcp_outcome){ .ran = true, .verdict = "allow", .reason = "command_allow", .rule = "default:80",
				      .out = "hello\n", .out_len = 6, .err = "", .err_len = 0 };
	memset(&srv, 0, sizeof(srv));
	srv.host = (sk_mcp_host){ .run = fake_run, .status = fake_status, .ctx = &host };
}

/* Send one line; returns the parsed reply (NULL when none). */
static json_t *send(const char *line)
{
	char *reply = NULL;
	ck_assert_int_eq(sk_mcp_handle_line(&srv, line, strlen(line), &reply), 0);
	if (!reply)
		return NULL;
	ck_assert_ptr_null(strchr(reply, '\n'));   /* one message, one line */
	json_error_t je;
	json_t *v = json_loads(reply, 0, &je);
	ck_assert_msg(v != NULL, "reply is not JSON: %s", reply);
	free(reply);
	return v;
}

static int error_code(json_t *v)
{
	return (int)json_integer_value(json_object_get(json_object_get(v, "error"), "code"));
}

#define MODERN_META "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"," \
		    "\"io.modelcontextprotocol/clientCapabilities\":{}}"

static void initialize(void)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
			 "\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}");
	json_decref(r);
	ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"));
	ck_assert(srv.initialized);
}

/* ---- negotiation ----------------------------------------------------------- */

START_TEST(test_initialize_echoes_supported_version)
{
	static const struct { const char *asked, *answer; } cases[] = {
		{ "2025-11-25", "2025-11-25" }, { "2025-06-18", "2025-06-18" }, { "2025-03-26", "2025-03-26" },
		{ "2099-01-01", "2025-11-25" }, { "2026-07-28", "2025-11-25" }, { "nonsense", "2025-11-25" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];
		snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"initialize\",\"params\":"
			 "{\"protocolVersion\":\"%s\",\"capabilities\":{}}}", cases[i].asked);
		json_t *r = send(line);
		json_t *res = json_object_get(r, "result");
		ck_assert_str_eq(json_string_value(json_object_get(res, "protocolVersion")), cases[i].answer);
		ck_assert_str_eq(json_string_value(json_object_get(r, "id")), "x");
		ck_assert(json_is_object(json_object_get(json_object_get(res, "capabilities"), "tools")));
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "serverInfo"), "name")),
				 "stockade");
		ck_assert_ptr_null(json_object_get(res, "resultType"));   /* legacy results have none */
		json_decref(r);
	}
}
END_TEST

START_TEST(test_initialize_needs_version)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
	ck_assert_int_eq(error_code(r), SK_MCP_INVALID_PARAMS);
	json_decref(r);
}
END_TEST

START_TEST(test_request_without_era_is_refused)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	ck_assert_int_eq(error_code(r), SK_MCP_INVALID_PARAMS);
	json_decref(r);
	r = send("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");   /* ping is always answered */
	ck_assert(json_is_object(json_object_get(r, "result")));
	json_decref(r);
}
END_TEST

START_TEST(test_modern_request_is_stateless)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" MODERN_META "}}");
	json_t *res = json_object_get(r, "result");
	ck_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(res, "_meta"),
			 SK_MCP_META_SERVER), "name")), "stockade");
	ck_assert_int_eq(json_array_size(json_object_get(res, "tools")), 2);
	ck_assert_int_ge(json_integer_value(json_object_get(res, "ttlMs")), 0);   /* caching hints */
	ck_assert_str_eq(json_string_value(json_object_get(res, "cacheScope")), "public");
	json_decref(r);
	ck_assert_str_eq(srv.legacy_version, "");   /* nothing negotiated for the connection */
}
END_TEST

START_TEST(test_modern_unsupported_version)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
			 "\"io.modelcontextprotocol/protocolVersion\":\"1900-01-01\","
			 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}");
	ck_assert_int_eq(error_code(r), SK_MCP_UNSUPPORTED_VERSION);
	json_t *data = json_object_get(json_object_get(r, "error"), "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "requested")), "1900-01-01");
	json_t *sup = json_object_get(data, "supported");
	ck_assert_str_eq(json_string_value(json_array_get(sup, 0)), "2026-07-28");
	ck_assert_str_eq(json_string_value(json_array_get(sup, 1)), "2025-11-25");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "id")), 7);
	json_decref(r);
}
END_TEST

START_TEST(test_modern_missing_capabilities)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{\"_meta\":{"
			 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}");
	ck_assert_int_eq(error_code(r), SK_MCP_INVALID_PARAMS);
	json_decref(r);
}
END_TEST

START_TEST(test_discover)
{
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"server/discover\",\"params\":{" MODERN_META "}}");
	json_t *res = json_object_get(r, "result");
	json_t *sup = json_object_get(res, "supportedVersions");
	ck_assert_int_ge(json_array_size(sup), 2);
	ck_assert_str_eq(json_string_value(json_array_get(sup, 0)), "2026-07-28");
	ck_assert(json_is_object(json_object_get(json_object_get(res, "capabilities"), "tools")));
	ck_assert_str_eq(json_string_value(json_object_get(res, "resultType")), "complete");
	json_decref(r);
	/* Without the modern metadata it is not a modern request. */
	initialize();
	r = send("{\"jsonrpc\":\"2.0\",\"id\":\"d\",\"method\":\"server/discover\"}");
	ck_assert_int_eq(error_code(r), SK_MCP_INVALID_PARAMS);
	json_decref(r);
}
END_TEST

/* ---- malformed messages ----------------------------------------------------- */

START_TEST(test_malformed)
{
	static const struct { const char *line; int code; } cases[] = {
		{ "{not json", SK_MCP_PARSE_ERROR },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", SK_MCP_INVALID_REQUEST },
		{ "{\"id\":1,\"method\":\"ping\"}", SK_MCP_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", SK_MCP_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", SK_MCP_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", SK_MCP_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[]}", SK_MCP_INVALID_PARAMS },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"ping\"}", SK_MCP_PARSE_ERROR },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = send(cases[i].line);
		ck_assert_msg(r != NULL, "no reply to %s", cases[i].line);
		ck_assert_msg(error_code(r) == cases[i].code, "%s: code %d", cases[i].line, error_code(r));
		json_decref(r);
	}
	initialize();
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}");
	ck_assert_int_eq(error_code(r), SK_MCP_METHOD_NOT_FOUND);
	json_decref(r);
	/* A client's response or an unknown notification gets no answer. */
	ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}"));
	ck_assert_ptr_null(send("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}"));
}
END_TEST

/* ---- tools ------------------------------------------------------------------ */

static json_t *call(const char *args)
{
	char line[1024];
	snprintf(line, sizeof(line), "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":"
		 "{\"name\":\"run_command\",\"arguments\":%s}}", args);
	return send(line);
}

START_TEST(test_run_command_shell_and_argv)
{
	initialize();
	json_t *r = call("{\"command\":\"echo hi | wc -c\",\"timeout\":1.5,\"session\":\"s-1\"}");
	ck_assert_int_eq(host.calls, 1);
	ck_assert_str_eq(host.argv0, "/bin/sh");
	ck_assert_str_eq(host.argv2, "echo hi | wc -c");
	ck_assert_str_eq(host.session, "s-1");
	ck_assert_uint_eq(host.timeout_ms, 1500);
	json_t *res = json_object_get(r, "result");
	ck_assert(json_is_false(json_object_get(res, "isError")));
	json_t *sc = json_object_get(res, "structuredContent");
	ck_assert_str_eq(json_string_value(json_object_get(sc, "stdout")), "hello\n");
	ck_assert_str_eq(json_string_value(json_object_get(sc, "session")), "s-1");
	ck_assert_str_eq(json_string_value(json_object_get(sc, "verdict")), "allow");
	const char *text = json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
	ck_assert_ptr_nonnull(strstr(text, "hello\n"));
	ck_assert_ptr_nonnull(strstr(text, "exit 0"));
	json_decref(r);

	r = call("{\"argv\":[\"ls\",\"-l\"]}");
	ck_assert_int_eq(host.calls, 2);
	ck_assert_str_eq(host.argv0, "ls");
	ck_assert_str_eq(host.session, "");   /* the connection's session */
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_object_get(r, "result"),
			 "structuredContent"), "session")), "mcp-conn");
	json_decref(r);
}
END_TEST

START_TEST(test_run_command_bad_arguments)
{
	static const char *const bad[] = {
		"{}", "{\"command\":\"ls\",\"argv\":[\"ls\"]}", "{\"command\":\"\"}", "{\"command\":5}",
		"{\"argv\":[]}", "{\"argv\":[\"ls\",3]}", "{\"argv\":\"ls\"}", "{\"command\":\"ls\",\"timeout\":0}",
		"{\"command\":\"ls\",\"timeout\":-1}", "{\"command\":\"ls\",\"timeout\":\"5\"}",
		"{\"command\":\"ls\",\"timeout\":100000}", "{\"command\":\"ls\",\"session\":\"../../etc\"}",
		"{\"command\":\"ls\",\"session\":\"\"}", "{\"command\":\"ls\",\"cwd\":7}", "{\"command\":\"ls\",\"shell\":1}",
		"[1]",
	};
	initialize();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *r = call(bad[i]);
		json_t *res = json_object_get(r, "result");
		ck_assert_msg(json_is_true(json_object_get(res, "isError")), "%s accepted", bad[i]);
		json_decref(r);
	}
	ck_assert_int_eq(host.calls, 0);
	/* A NUL inside a string is refused by the parser itself. */
	json_t *r = call("{\"command\":\"a\\u0000b\"}");
	ck_assert_int_eq(error_code(r), SK_MCP_PARSE_ERROR);
	json_decref(r);
	ck_assert_int_eq(host.calls, 0);
}
END_TEST

START_TEST(test_denied_and_escalated_are_errors)
{
	initialize();
	host.give = (sk_mcp_outcome){ .denied = true, .exit_code = 126, .verdict = "deny", .reason = "command_deny",
				      .rule = "default:81", .out = "", .err = "" };
	json_t *r = call("{\"argv\":[\"sudo\",\"true\"]}");
	json_t *res = json_object_get(r, "result");
	ck_assert(json_is_true(json_object_get(res, "isError")));
	json_t *sc = json_object_get(res, "structuredContent");
	ck_assert(json_is_true(json_object_get(sc, "denied")));
	ck_assert(json_is_false(json_object_get(sc, "escalated")));
	ck_assert_int_eq(json_integer_value(json_object_get(sc, "exit_code")), 126);
	const char *text = json_string_value(json_object_get(json_array_get(json_object_get(res, "content"), 0), "text"));
	ck_assert_ptr_nonnull(strstr(text, "denied by policy: command_deny"));
	json_decref(r);

	host.give.verdict = "escalate";
	host.give.reason = "chain_threshold";
	r = call("{\"argv\":[\"sudo\",\"true\"]}");
	sc = json_object_get(json_object_get(r, "result"), "structuredContent");
	ck_assert(json_is_true(json_object_get(sc, "escalated")));
	ck_assert_str_eq(json_string_value(json_object_get(sc, "verdict")), "escalate");
	json_decref(r);

	host.give = (sk_mcp_outcome){ .ran = true, .exit_code = 3, .verdict = "allow", .reason = "command_allow",
				      .out = "", .err = "bad\xff\n", .err_len = 5 };
	r = call("{\"command\":\"exit 3\"}");
	res = json_object_get(r, "result");
	ck_assert(json_is_true(json_object_get(res, "isError")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "structuredContent"), "stderr")),
			 "bad\xEF\xBF\xBD\n");
	json_decref(r);
}
END_TEST

START_TEST(test_unknown_tool_and_status)
{
	initialize();
	json_t *r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"rm_rf\"}}");
	ck_assert_int_eq(error_code(r), SK_MCP_INVALID_PARAMS);
	json_decref(r);
	r = send("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"session_status\","
		 "\"arguments\":{\"session\":\"abc\"}}}");
	json_t *res = json_object_get(r, "result");
	ck_assert(json_is_false(json_object_get(res, "isError")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(res, "structuredContent"), "session")), "abc");
	json_decref(r);
}
END_TEST

START_TEST(test_tools_schema)
{
	json_t *tools = sk_mcp_tools_json();
	ck_assert_int_eq(json_array_size(tools), 2);
	json_t *run = json_array_get(tools, 0);
	ck_assert_str_eq(json_string_value(json_object_get(run, "name")), "run_command");
	json_t *props = json_object_get(json_object_get(run, "inputSchema"), "properties");
	ck_assert_ptr_nonnull(json_object_get(props, "command"));
	ck_assert_ptr_nonnull(json_object_get(props, "argv"));
	ck_assert_ptr_nonnull(json_object_get(props, "session"));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(run, "outputSchema"), "type")), "object");
	json_decref(tools);
}
END_TEST

/* ---- text and shell words --------------------------------------------------- */

START_TEST(test_utf8_sanitize)
{
	static const struct { const char *in; size_t n; const char *out; } cases[] = {
		{ "plain", 5, "plain" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
		{ "a\xff" "b", 3, "a\xEF\xBF\xBD" "b" },
		{ "\xc0\xaf", 2, "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* overlong '/' */
		{ "\xed\xa0\x80", 3, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },  /* a surrogate */
		{ "\xe2\x82", 2, "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* cut short */
		{ "\xf4\x90\x80\x80", 4, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" }, /* > U+10FFFF */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *s = sk_utf8_sanitize(cases[i].in, cases[i].n, &len);
		ck_assert_str_eq(s, cases[i].out);
		ck_assert_uint_eq(len, strlen(cases[i].out));
		free(s);
	}
}
END_TEST

START_TEST(test_shell_quote)
{
	char *q = sk_shell_quote("it's $HOME `x`");
	ck_assert_str_eq(q, "'it'\\''s $HOME `x`'");
	free(q);
	q = sk_shell_quote("");
	ck_assert_str_eq(q, "''");
	free(q);
}
END_TEST

START_TEST(test_shell_simple_words)
{
	char **w;
	ck_assert_int_eq(sk_shell_simple_words("  sudo  true ", &w), 0);
	ck_assert_str_eq(w[0], "sudo");
	ck_assert_str_eq(w[1], "true");
	ck_assert_ptr_null(w[2]);
	sk_strv_free(w);
	ck_assert_int_eq(sk_shell_simple_words("/usr/bin/su -c 'id -u' \"a b\"", &w), 0);
	ck_assert_str_eq(w[0], "/usr/bin/su");
	ck_assert_str_eq(w[2], "id -u");
	ck_assert_str_eq(w[3], "a b");
	sk_strv_free(w);
	static const char *const not_simple[] = {
		"", "   ", "a; b", "a && b", "a | b", "a > f", "a < f", "$(x)", "`x`", "a $HOME", "a *", "a ?",
		"X=1 sudo", "(sudo)", "a 'unterminated", "a \"$x\"", "a # c", "a\nb", "~/bin/x", "a \"b\\\"\"",
		"a {b,c}", "a & ",
	};
	for (size_t i = 0; i < sizeof(not_simple) / sizeof(not_simple[0]); i++)
		ck_assert_msg(sk_shell_simple_words(not_simple[i], &w) == -EINVAL, "'%s' taken as simple",
			      not_simple[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mcp");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_initialize_echoes_supported_version);
	tcase_add_test(tc, test_initialize_needs_version);
	tcase_add_test(tc, test_request_without_era_is_refused);
	tcase_add_test(tc, test_modern_request_is_stateless);
	tcase_add_test(tc, test_modern_unsupported_version);
	tcase_add_test(tc, test_modern_missing_capabilities);
	tcase_add_test(tc, test_discover);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_run_command_shell_and_argv);
	tcase_add_test(tc, test_run_command_bad_arguments);
	tcase_add_test(tc, test_denied_and_escalated_are_errors);
	tcase_add_test(tc, test_unknown_tool_and_status);
	tcase_add_test(tc, test_tools_schema);
	tcase_add_test(tc, test_utf8_sanitize);
	tcase_add_test(tc, test_shell_quote);
	tcase_add_test(tc, test_shell_simple_words);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sk_check_run(suite());
}
