/* Unit tests for src/util: size and duration parsing. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>

#include "stockade/util.h"

START_TEST(test_parse_size)
{
	uint64_t v;
	ck_assert_int_eq(sk_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(sk_parse_size("64M", &v), 0);
	ck_assert_uint_eq(v, 64ULL << 20);
	ck_assert_int_eq(sk_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(sk_parse_size("1k", &v), 0);
	ck_assert_uint_eq(v, 1024);
	ck_assert_int_eq(sk_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("12X", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(sk_parse_size("99999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(sk_parse_size("17179869184T", &v), -ERANGE);
}
END_TEST

START_TEST(test_parse_duration)
{
	uint64_t ms;
	ck_assert_int_eq(sk_parse_duration_ms("30", &ms), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(sk_parse_duration_ms("1.5", &ms), 0);
	ck_assert_uint_eq(ms, 1500);
	ck_assert_int_eq(sk_parse_duration_ms("0.25s", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(sk_parse_duration_ms("500ms", &ms), 0);
	ck_assert_uint_eq(ms, 500);
	ck_assert_int_eq(sk_parse_duration_ms("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(sk_parse_duration_ms("1h", &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(sk_parse_duration_ms("1.", &ms), -EINVAL);
	ck_assert_int_eq(sk_parse_duration_ms("x", &ms), -EINVAL);
	ck_assert_int_eq(sk_parse_duration_ms("3d", &ms), -EINVAL);
}
END_TEST

START_TEST(test_parse_u64)
{
	uint64_t v;
	ck_assert_int_eq(sk_parse_u64("0", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(sk_parse_u64("18446744073709551615", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(sk_parse_u64("18446744073709551616", &v), -ERANGE);
	ck_assert_int_eq(sk_parse_u64("1 ", &v), -EINVAL);
}
END_TEST

START_TEST(test_error_message)
{
	sk_error e = { 0 };
	ck_assert_int_eq(sk_fail(&e, ENOENT, "workspace %s is missing", "/x"), -ENOENT);
	ck_assert_int_eq(e.code, ENOENT);
	ck_assert_str_eq(e.msg, "workspace /x is missing");
	ck_assert_int_eq(sk_fail_errno(&e, EACCES, "open %s", "/y"), -EACCES);
	ck_assert_str_eq(e.msg, "open /y: Permission denied");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_size);
	tcase_add_test(tc, test_parse_duration);
	tcase_add_test(tc, test_parse_u64);
	tcase_add_test(tc, test_error_message);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
