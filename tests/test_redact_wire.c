/* The rules as stockade hands them to its compile helper (rules_wire.c):
 * what goes in comes out, and a short or garbled input is an error. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "../src/redact/internal.h"

static void parse(rx_ruleset *rs, const char *text)
{
	sk_error err = { 0 };
	*rs = (rx_ruleset){ 0 };
	ck_assert_int_eq(rx_rules_parse(rs, text, strlen(text), "t.rules", &err), 0);
}

static const char *const rules =
	"pattern aws AKIA[0-9A-Z]{16}\n"
	"pattern kept password=(?#secret)[^ ]+\n"
	"begin pem -----BEGIN [A-Z ]*PRIVATE KEY-----\n"
	"end pem -----END [A-Z ]*PRIVATE KEY-----\n";

START_TEST(test_round_trip)
{
	rx_ruleset rs, back;
	parse(&rs, rules);
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(rx_rules_encode(&rs, &wire, &len), 0);
	ck_assert_int_eq(rx_rules_decode(wire, len, &back), 0);
	ck_assert_uint_eq(back.n, rs.n);
	ck_assert_uint_eq(back.n, 4);
	for (size_t i = 0; i < rs.n; i++) {
		ck_assert_str_eq(back.v[i].name, rs.v[i].name);
		ck_assert_str_eq(back.v[i].regex, rs.v[i].regex);
		ck_assert_str_eq(back.v[i].origin, "t.rules");
		ck_assert_uint_eq(back.v[i].line, rs.v[i].line);
		ck_assert_int_eq(back.v[i].kind, rs.v[i].kind);
		ck_assert_int_eq(!back.v[i].prefix, !rs.v[i].prefix);
		if (rs.v[i].prefix)
			ck_assert_str_eq(back.v[i].prefix, rs.v[i].prefix);
	}
	ck_assert_ptr_nonnull(back.v[1].prefix);   /* the kept context went over */
	ck_assert_uint_eq(back.v[3].line, 4);
	/* The same rules: the same cache key. */
	uint8_t d1[32], d2[32];
	rx_rules_digest(&rs, d1);
	rx_rules_digest(&back, d2);
	ck_assert_mem_eq(d1, d2, 32);
	free(wire);
	rx_rules_free(&rs);
	rx_rules_free(&back);
}
END_TEST

/* Every proper prefix of a valid input is refused, and so is a byte more. */
START_TEST(test_truncated_and_trailing_refused)
{
	rx_ruleset rs, back;
	parse(&rs, rules);
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(rx_rules_encode(&rs, &wire, &len), 0);
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(rx_rules_decode(wire, cut, &back), -EBADMSG);
	uint8_t *more = malloc(len + 1);
	memcpy(more, wire, len);
	more[len] = 0;
	ck_assert_int_eq(rx_rules_decode(more, len + 1, &back), -EBADMSG);
	free(more);
	free(wire);
	rx_rules_free(&rs);
}
END_TEST

START_TEST(test_garbled_refused)
{
	rx_ruleset rs, back;
	parse(&rs, "pattern aws AKIA[0-9A-Z]{16}\n");
	uint8_t *wire;
	size_t len;
	ck_assert_int_eq(rx_rules_encode(&rs, &wire, &len), 0);
	/* u32 n | u32 kind | u32 line | u32 len "aws" | ... */
	uint32_t v = 7;
	memcpy(wire + 4, &v, 4);   /* no such kind */
	ck_assert_int_eq(rx_rules_decode(wire, len, &back), -EBADMSG);
	v = 0;
	memcpy(wire + 4, &v, 4);
	wire[16] = '\0';           /* a NUL inside the name */
	ck_assert_int_eq(rx_rules_decode(wire, len, &back), -EBADMSG);
	wire[16] = 'a';
	v = UINT32_MAX;
	memcpy(wire + 12, &v, 4);  /* a name that is not there */
	ck_assert_int_eq(rx_rules_decode(wire, len, &back), -EBADMSG);
	v = 1u << 30;
	memcpy(wire, &v, 4);       /* more rules than bytes could hold */
	ck_assert_int_eq(rx_rules_decode(wire, len, &back), -EBADMSG);
	free(wire);
	rx_rules_free(&rs);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("redact_wire");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_truncated_and_trailing_refused);
	tcase_add_test(tc, test_garbled_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sk_check_run(wire_suite());
}
