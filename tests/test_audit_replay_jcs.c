/* The verifier's fast canonical-form check (src/audit/jcs_check.c) against
 * the full path: whenever the fast check accepts a line, parsing it and
 * serializing it canonically must give back exactly that line.  Checked on
 * canonical records with the hard cases (escapes, non-ASCII, astral keys,
 * big integers) and on every single-byte change and inserted space. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "../src/audit/internal.h"

static const char *const records[] = {
	"{\"a\":[true,false,null],\"b\":1,\"c\":{\"y\":-5,\"z\":\"x\"}}",
	"{\"hash\":\"00ff\",\"key_id\":\"abcdef0123456789\",\"leaf\":3,\"prev\":\"0000\",\"seq\":9007199254740991,"
	"\"sig\":\"ah9VM1gk5uFWiv8DJ+/=\",\"type\":\"event\",\"v\":1}",
	"{\"s\":\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	"{\"\":5,\"a\":4,\"aa\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\x81\":1}",
	"{\"e\":{},\"f\":[],\"g\":[[],{}],\"n\":0,\"m\":-1}",
	"{\"redactions\":{\"aws_access_key\":2,\"\xef\xac\x81-rule\":1},\"z\":\"\\u0000\"}",
};

/* If the fast check accepts s, the full path must print s exactly. */
static void assert_agrees(const char *s, size_t len)
{
	sk_fast_record fr;
	if (!sk_jcs_fast_check(s, len, &fr))
		return;
	json_error_t je;
	json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	ck_assert_msg(v != NULL, "fast check accepted what jansson rejects: %.*s", (int)len, s);
	char *c = NULL;
	size_t clen = 0;
	sk_error e = { 0 };
	int r = sk_jcs_serialize(v, &c, &clen, &e);
	json_decref(v);
	ck_assert_msg(r == 0 && clen == len && !memcmp(c, s, len), "fast check accepted a non-canonical line: %.*s",
		      (int)len, s);
	free(c);
}

START_TEST(test_fast_check_accepts_canonical)
{
	for (size_t i = 0; i < SK_ARRAY_LEN(records); i++) {
		json_t *v = json_loads(records[i], JSON_ALLOW_NUL, NULL);
		ck_assert_msg(v != NULL, "bad test record %zu", i);
		char *c = NULL;
		size_t clen = 0;
		sk_error e = { 0 };
		ck_assert_int_eq(sk_jcs_serialize(v, &c, &clen, &e), 0);
		json_decref(v);
		sk_fast_record fr;
		ck_assert_msg(sk_jcs_fast_check(c, clen, &fr), "canonical record %zu refused: %s", i, c);
		free(c);
	}
	sk_fast_record fr;
	const char *rec = records[1];
	ck_assert(sk_jcs_fast_check(rec, strlen(rec), &fr));
	ck_assert(fr.has_seq && fr.seq == 9007199254740991LL && fr.has_leaf && fr.leaf == 3 && fr.has_v && fr.v == 1);
	ck_assert_str_eq(fr.type, "event");
	ck_assert_str_eq(fr.key_id, "abcdef0123456789");
	ck_assert_str_eq(fr.sig, "ah9VM1gk5uFWiv8DJ+/=");
	/* refused: beyond 2^53-1, -0, reals, whitespace, unsorted or duplicate keys, \/ and \u00e9 */
	const char *no[] = { "{\"a\":9007199254740992}", "{\"a\":-0}", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\": 1}",
			     "{\"b\":1,\"a\":2}", "{\"a\":1,\"a\":2}", "{\"a\":\"\\/\"}", "{\"a\":\"\\u00e9\"}",
			     "{\"a\":\"\\u000a\"}", "{\"a\":\"\\u001F\"}", "{\"a\":01}", "[1]", "{\"a\":1}x",
			     "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":tru}" };
	for (size_t i = 0; i < SK_ARRAY_LEN(no); i++)
		ck_assert_msg(!sk_jcs_fast_check(no[i], strlen(no[i]), &fr), "accepted %s", no[i]);
}
END_TEST

START_TEST(test_fast_check_agrees_on_every_mutation)
{
	static const unsigned char subst[] = { ' ', '"', '\\', '0', '9', '-', 'e', '.', ',', ':', '{', '}',
					       '[', ']', 'u', 0x00, 0x1f, 0x7f, 0x80, 0xc3, 0xef, 0xff };
	for (size_t i = 0; i < SK_ARRAY_LEN(records); i++) {
		size_t len = strlen(records[i]);
		char *buf = malloc(len + 2);
		for (size_t pos = 0; pos < len; pos++) {
			for (size_t k = 0; k < sizeof(subst) + 2; k++) {
				memcpy(buf, records[i], len);
				buf[pos] = k < sizeof(subst) ? (char)subst[k] : (char)(records[i][pos] + (k == sizeof(subst) ? 1 : -1));
				assert_agrees(buf, len);
			}
			/* an inserted space, a dropped byte */
			memcpy(buf, records[i], pos);
			buf[pos] = ' ';
			memcpy(buf + pos + 1, records[i] + pos, len - pos);
			assert_agrees(buf, len + 1);
			memcpy(buf, records[i], pos);
			memcpy(buf + pos, records[i] + pos + 1, len - pos - 1);
			assert_agrees(buf, len - 1);
		}
		free(buf);
	}
}
END_TEST

static Suite *jcs_suite(void)
{
	Suite *s = suite_create("audit_replay_jcs");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_fast_check_accepts_canonical);
	tcase_add_test(tc, test_fast_check_agrees_on_every_mutation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sk_check_run(jcs_suite());
}
