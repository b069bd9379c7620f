/* The memo of files found clean of the secret values, between runs. */
#include <check.h>

#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/cli/run_internal.h"

static char cache[64];

static void setup(void)
{
	snprintf(cache, sizeof(cache), "/tmp/stockade-value-memo.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(cache));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	ck_assert_int_eq(system(cmd), 0);
}

/* A run's state with the values of one .env and the cache. */
static void state_with(run_state *s, const char *dotenv)
{
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(sk_secret_values_new(&s->values), 0);
	ck_assert_int_ge(sk_secret_values_add_content(s->values, dotenv, strlen(dotenv), 0), 1);
	s->cache_dir = cache;
}

static void state_free(run_state *s)
{
	sk_value_memo_free(&s->value_memo);
	sk_secret_values_free(s->values);
}

static sk_clean_file version(uint64_t ino, int64_t ctime_s)
{
	return (sk_clean_file){ .dev = 7, .ino = ino, .size = 1 << 20, .mtime_s = 100, .ctime_s = ctime_s };
}

/* Saved, then loaded sorted; a later version of a file replaces its
 * earlier one, in the same run or across runs. */
START_TEST(test_kept_between_runs)
{
	run_state s;
	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 0);
	ck_assert(s.value_memo.path[0]);
	sk_clean_file a = version(30, 1), b = version(10, 1), b2 = version(10, 2);
	sk_value_memo_seen(&s.value_memo, &a);
	sk_value_memo_seen(&s.value_memo, &b);
	sk_value_memo_seen(&s.value_memo, &b2);
	sk_value_memo_save(&s.value_memo);
	state_free(&s);

	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 2);
	ck_assert_uint_eq(s.value_memo.v[0].ino, 10);
	ck_assert_int_eq(s.value_memo.v[0].ctime_s, 2);
	ck_assert_uint_eq(s.value_memo.v[1].ino, 30);
	sk_clean_file a2 = version(30, 5), c = version(20, 1);
	sk_value_memo_seen(&s.value_memo, &a2);
	sk_value_memo_seen(&s.value_memo, &c);
	sk_value_memo_save(&s.value_memo);
	state_free(&s);

	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 3);
	ck_assert_uint_eq(s.value_memo.v[2].ino, 30);
	ck_assert_int_eq(s.value_memo.v[2].ctime_s, 5);
	state_free(&s);
}
END_TEST

/* Another set of values starts from nothing; so does no value at all. */
START_TEST(test_other_values_other_memo)
{
	run_state s;
	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	sk_clean_file a = version(1, 1);
	sk_value_memo_seen(&s.value_memo, &a);
	sk_value_memo_save(&s.value_memo);
	state_free(&s);
	state_with(&s, "API_KEY=Zq81TbVw0PqR7yUeQwsk9Fq2Lm\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 0);
	state_free(&s);
	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(sk_secret_values_new(&s.values), 0);
	s.cache_dir = cache;
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert(!s.value_memo.path[0]);
	sk_value_memo_seen(&s.value_memo, &a);   /* nowhere to keep it: ignored */
	ck_assert_uint_eq(s.value_memo.n_new, 0);
	state_free(&s);
}
END_TEST

/* A damaged memo (another magic, a cut version) is no memo. */
START_TEST(test_damaged_is_none)
{
	run_state s;
	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	sk_clean_file a = version(1, 1), b = version(2, 1);
	sk_value_memo_seen(&s.value_memo, &a);
	sk_value_memo_seen(&s.value_memo, &b);
	sk_value_memo_save(&s.value_memo);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", s.value_memo.path);
	state_free(&s);
	ck_assert_int_eq(truncate(path, 32 + 56 + 10), 0);
	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 0);
	state_free(&s);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("stockade-scan-memo 1\n", f);
	fclose(f);
	state_with(&s, "API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\n");
	ck_assert_int_eq(sk_value_memo_load(&s), 0);
	ck_assert_uint_eq(s.value_memo.n, 0);
	state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("value_memo");
	TCase *tc = tcase_create("value_memo");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kept_between_runs);
	tcase_add_test(tc, test_other_values_other_memo);
	tcase_add_test(tc, test_damaged_is_none);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
