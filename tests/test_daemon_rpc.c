/* stockaded's JSON-RPC framing and parameter validation (pure).  The daemon's
 * objects are not in the test archives, so the one source file is included. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../src/daemon/rpc.c"

static int parse(const char *s, sk_rpc_msg *m, sk_error *e)
{
	return sk_rpc_parse(s, strlen(s), m, e);
}

START_TEST(test_parse_valid)
{
	sk_rpc_msg m;
	sk_error e = { 0 };
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"status\"}", &m, &e), 0);
	ck_assert_str_eq(m.method, "status");
	ck_assert_int_eq(json_integer_value(m.id), 4);
	ck_assert(json_is_object(m.params));
	sk_rpc_msg_free(&m);
	ck_assert_int_eq(parse("{\"jsonrpc\":\"2.0\",\"method\":\"status\"}", &m, &e), 0);
	ck_assert_ptr_null(m.id);   /* a notification */
	sk_rpc_msg_free(&m);
}
END_TEST

START_TEST(test_parse_errors)
{
	static const struct { const char *line; int code; } cases[] = {
		{ "{bad", SK_RPC_PARSE_ERROR },
		{ "", SK_RPC_PARSE_ERROR },
		{ "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}]", SK_RPC_INVALID_REQUEST },
		{ "42", SK_RPC_INVALID_REQUEST },
		{ "{\"id\":1,\"method\":\"status\"}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status\"}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":[1]}", SK_RPC_INVALID_REQUEST },
		{ "{\"jsonrpc\":\"2.0\",\"id\":1,\"id\":2,\"method\":\"status\"}", SK_RPC_PARSE_ERROR },
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(cases); i++) {
		sk_rpc_msg m;
		sk_error e = { 0 };
		ck_assert_msg(parse(cases[i].line, &m, &e) == cases[i].code, "case %zu: %s", i, cases[i].line);
		ck_assert(e.msg[0]);
		sk_rpc_msg_free(&m);
	}
	/* The id of an invalid request is kept for the error reply. */
	sk_rpc_msg m;
	sk_error e = { 0 };
	ck_assert_int_eq(parse("{\"jsonrpc\":\"1.0\",\"id\":\"x\",\"method\":\"s\"}", &m, &e), SK_RPC_INVALID_REQUEST);
	ck_assert_str_eq(json_string_value(m.id), "x");
	sk_rpc_msg_free(&m);
}
END_TEST

START_TEST(test_encode)
{
	json_t *id = json_integer(3);
	char *s = sk_rpc_error(id, SK_RPC_METHOD_NOT_FOUND, "nope");
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"nope\"}}\n");
	free(s);
	s = sk_rpc_result(NULL, json_pack("{s:i}", "a", 1));
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"a\":1}}\n");
	free(s);
	s = sk_rpc_notify("exec.output", sk_rpc_output_params(id, "stdout", "hi\n", 3));
	ck_assert_str_eq(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exec.output\",\"params\":"
			    "{\"id\":3,\"stream\":\"stdout\",\"text\":\"hi\\n\"}}\n");
	free(s);
	json_t *p = sk_rpc_output_params(id, "stderr", "\xff\xfe", 2);
	ck_assert_str_eq(json_string_value(json_object_get(p, "base64")), "//4=");
	ck_assert_ptr_null(json_object_get(p, "text"));
	json_decref(p);
	json_decref(id);
}
END_TEST

static json_t *params(const char *s)
{
	json_t *v = json_loads(s, JSON_ALLOW_NUL, NULL);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* Each of bad[] is refused as invalid params, with no argv left behind. */
static void expect_bad_exec(const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sk_exec_params p;
		sk_error e = { 0 };
		json_t *v = params(bad[i]);
		ck_assert_msg(sk_rpc_exec_params(v, &p, &e) == SK_RPC_INVALID_PARAMS, "%s", bad[i]);
		ck_assert_ptr_null(p.argv);
		json_decref(v);
	}
}

START_TEST(test_exec_params)
{
	sk_exec_params p;
	sk_error e = { 0 };
	json_t *v = params("{\"session\":\"s1\",\"argv\":[\"echo\",\"hi\"],\"timeout\":1.5,\"cwd\":\"/w\"}");
	ck_assert_int_eq(sk_rpc_exec_params(v, &p, &e), 0);
	ck_assert_str_eq(p.argv[0], "echo");
	ck_assert_str_eq(p.argv[1], "hi");
	ck_assert_ptr_null(p.argv[2]);
	ck_assert_int_eq(p.timeout_ms, 1500);
	ck_assert_str_eq(p.cwd, "/w");
	free(p.argv);
	json_decref(v);
	v = params("{\"session\":\"s1\",\"command\":\"echo $HOME\"}");
	ck_assert_int_eq(sk_rpc_exec_params(v, &p, &e), 0);
	ck_assert_str_eq(p.argv[0], "/bin/sh");
	ck_assert_str_eq(p.argv[2], "echo $HOME");
	free(p.argv);
	json_decref(v);
	static const char *const bad[] = {
		"{\"argv\":[\"x\"]}", "{\"session\":\"s\"}", "{\"session\":\"s\",\"argv\":[]}",
		"{\"session\":\"s\",\"argv\":[1]}", "{\"session\":\"s\",\"argv\":[\"\"]}",
		"{\"session\":\"s\",\"argv\":[\"x\"],\"command\":\"x\"}", "{\"session\":\"s\",\"command\":\"\"}",
		"{\"session\":\"s\",\"argv\":[\"x\"],\"timeout\":-1}", "{\"session\":\"s\",\"argv\":[\"x\"],\"timeout\":\"9\"}",
		"{\"session\":5,\"argv\":[\"x\"]}", "{\"session\":\"s\",\"argv\":[\"a\\u0000b\"]}",
	};
	expect_bad_exec(bad, SK_ARRAY_LEN(bad));
}
END_TEST

START_TEST(test_open_params)
{
	sk_open_params p;
	sk_error e = { 0 };
	json_t *v = params("{\"workspace\":\"/w\",\"profile\":\"node\",\"env\":{\"A\":\"1\"}}");
	ck_assert_int_eq(sk_rpc_open_params(v, &p, &e), 0);
	ck_assert_str_eq(p.workspace, "/w");
	ck_assert_str_eq(p.profile, "node");
	ck_assert_str_eq(json_string_value(json_object_get(p.env, "A")), "1");
	json_decref(v);
	static const char *const bad[] = {
		"{}", "{\"workspace\":\"rel\"}", "{\"workspace\":\"/w\",\"env\":[1]}",
		"{\"workspace\":\"/w\",\"env\":{\"A=B\":\"1\"}}", "{\"workspace\":\"/w\",\"env\":{\"A\":1}}",
		"{\"workspace\":\"/w\",\"profile\":3}", "{\"workspace\":\"/w\",\"session\":\"../x\"}",
		"{\"session\":7}",
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(bad); i++) {
		v = params(bad[i]);
		ck_assert_msg(sk_rpc_open_params(v, &p, &e) == SK_RPC_INVALID_PARAMS, "%s", bad[i]);
		json_decref(v);
	}
}
END_TEST

START_TEST(test_exec_params_extra)
{
	sk_exec_params p;
	sk_error e = { 0 };
	json_t *v = params("{\"session\":\"s\",\"argv\":[\"cat\"],\"wait\":2.5,\"env\":{\"A\":\"1\"},\"stdin\":\"in\\u0000put\"}");
	ck_assert_int_eq(sk_rpc_exec_params(v, &p, &e), 0);
	ck_assert_int_eq(p.wait_ms, 2500);
	ck_assert_str_eq(json_string_value(json_object_get(p.env, "A")), "1");
	ck_assert_int_eq(p.stdin_len, 6);   /* stdin may hold NUL bytes */
	ck_assert_mem_eq(p.stdin_data, "in\0put", 6);
	free(p.argv);
	json_decref(v);
	static const char *const bad[] = {
		"{\"session\":\"s\",\"argv\":[\"x\"],\"wait\":-1}", "{\"session\":\"s\",\"argv\":[\"x\"],\"wait\":\"1\"}",
		"{\"session\":\"s\",\"argv\":[\"x\"],\"wait\":1e9}", "{\"session\":\"s\",\"argv\":[\"x\"],\"env\":{\"A=B\":\"1\"}}",
		"{\"session\":\"s\",\"argv\":[\"x\"],\"env\":[]}", "{\"session\":\"s\",\"argv\":[\"x\"],\"stdin\":5}",
	};
	expect_bad_exec(bad, SK_ARRAY_LEN(bad));
}
END_TEST

START_TEST(test_decide_params)
{
	sk_decide_params p;
	sk_error e = { 0 };
	json_t *v = params("{\"id\":\"abc#12\",\"decision\":\"approve\",\"reason\":\"ok\"}");
	ck_assert_int_eq(sk_rpc_decide_params(v, &p, &e), 0);
	ck_assert_str_eq(p.session, "abc");
	ck_assert_int_eq(p.chain, 12);
	ck_assert(p.approve);
	ck_assert_str_eq(p.reason, "ok");
	ck_assert_int_eq(p.uid, -1);
	json_decref(v);
	v = params("{\"session\":\"a#b\",\"chain\":3,\"decision\":\"deny\",\"uid\":65534}");
	ck_assert_int_eq(sk_rpc_decide_params(v, &p, &e), SK_RPC_INVALID_PARAMS);   /* '#' is not in an id */
	json_decref(v);
	v = params("{\"session\":\"s-1\",\"chain\":3,\"decision\":\"deny\",\"uid\":65534}");
	ck_assert_int_eq(sk_rpc_decide_params(v, &p, &e), 0);
	ck_assert_str_eq(p.session, "s-1");
	ck_assert(!p.approve);
	ck_assert_int_eq(p.uid, 65534);
	json_decref(v);
	static const char *const bad[] = {
		"{}", "{\"id\":\"abc\",\"decision\":\"deny\"}", "{\"id\":\"#1\",\"decision\":\"deny\"}",
		"{\"id\":\"a#0\",\"decision\":\"deny\"}", "{\"id\":\"a#1x\",\"decision\":\"deny\"}",
		"{\"id\":\"a#-1\",\"decision\":\"deny\"}", "{\"id\":\"a#99999999999\",\"decision\":\"deny\"}",
		"{\"id\":\"a#1\",\"decision\":\"maybe\"}", "{\"id\":\"a#1\"}", "{\"id\":7,\"decision\":\"deny\"}",
		"{\"id\":\"a#1\",\"session\":\"a\",\"decision\":\"deny\"}", "{\"session\":\"a\",\"decision\":\"deny\"}",
		"{\"session\":\"a\",\"chain\":\"1\",\"decision\":\"deny\"}", "{\"session\":\"../x\",\"chain\":1,\"decision\":\"deny\"}",
		"{\"id\":\"a#1\",\"decision\":\"deny\",\"uid\":-1}", "{\"id\":\"a#1\",\"decision\":\"deny\",\"reason\":3}",
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(bad); i++) {
		v = params(bad[i]);
		ck_assert_msg(sk_rpc_decide_params(v, &p, &e) == SK_RPC_INVALID_PARAMS, "%s", bad[i]);
		ck_assert(e.msg[0]);
		json_decref(v);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("daemon_rpc");
	TCase *tc = tcase_create("rpc");
	tcase_add_test(tc, test_parse_valid);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_exec_params);
	tcase_add_test(tc, test_open_params);
	tcase_add_test(tc, test_exec_params_extra);
	tcase_add_test(tc, test_decide_params);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
