/* The walk for .git entries after a run: every entry found, new or not,
 * whether the memo knew it, and runs not yet checked bounding what is
 * taken for the caller's own.  Real directories in a temporary tree. */
#include <check.h>

#include "check_main.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/cli/git_guard.h"

static char root[PATH_MAX], cache[PATH_MAX];

static void setup(void)
{
	char base[] = "/tmp/stockade-test-walk.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/ws", base);
	snprintf(cache, sizeof(cache), "%s/cache", base);
	ck_assert_int_eq(mkdir(root, 0700), 0);
	ck_assert_int_eq(mkdir(cache, 0700), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf %.*s", (int)(strrchr(root, '/') - root), root);
	ck_assert_int_eq(system(cmd), 0);
}

static void mk(const char *rel)
{
	char p[2 * PATH_MAX], cmd[3 * PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", p);
	ck_assert_int_eq(system(cmd), 0);
}

/* One run: its file, the walk, every entry kept as it is; the paths found. */
static int run_once(char found[8][64], bool known[8], int64_t *pending, int64_t *memo)
{
	char run_file[PATH_MAX];
	int64_t start = sk_git_now_ns();
	ck_assert_int_eq(sk_git_walk_prepare(cache, root, start, run_file), 0);
	ck_assert_int_eq(access(run_file, F_OK), 0);
	sk_git_walk_result r;
	ck_assert_int_eq(sk_git_walk(cache, root, start, &r), 0);
	ck_assert(!r.overflow);
	int n = (int)r.n;
	for (size_t i = 0; i < r.n && i < 8; i++) {
		snprintf(found[i], 64, "%s", r.entries[i].path);
		known[i] = r.entries[i].known;
		r.entries[i].keep = true;
	}
	*pending = r.pending_ns;
	*memo = r.memo_ns;
	ck_assert_int_eq(sk_git_walk_save(&r, run_file), 0);
	ck_assert_int_ne(access(run_file, F_OK), 0);
	sk_git_walk_free(&r);
	return n;
}

static bool has(char found[8][64], int n, const char *p)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(found[i], p))
			return true;
	return false;
}

START_TEST(test_entries_found_anew_and_known)
{
	char found[8][64];
	bool known[8];
	int64_t pending, memo;
	mk("a/b/c");
	mk("d/.git");
	mk(".git/inner/.git");   /* inside the top's .git: not walked */
	usleep(20000);           /* older than the memo by more than a clock tick */
	int n = run_once(found, known, &pending, &memo);
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(found[0], "d/.git");
	ck_assert(!known[0]);
	ck_assert_int_eq(memo, INT64_MIN);   /* no walk before */
	/* Deep in directories the memo holds unchanged: still found. */
	mk("a/b/c/.git");
	n = run_once(found, known, &pending, &memo);
	ck_assert_int_eq(n, 2);
	ck_assert(has(found, n, "a/b/c/.git") && has(found, n, "d/.git"));
	for (int i = 0; i < n; i++)
		ck_assert(known[i] == !strcmp(found[i], "d/.git"));
	ck_assert_int_gt(memo, INT64_MIN);
	ck_assert_int_le(memo, pending);
	/* A name with a newline is kept in the memo like any other. */
	mk("e\nf/.git");
	usleep(20000);
	n = run_once(found, known, &pending, &memo);
	ck_assert_int_eq(n, 3);
	ck_assert(has(found, n, "e\nf/.git"));
	n = run_once(found, known, &pending, &memo);
	ck_assert_int_eq(n, 3);
	for (int i = 0; i < n; i++)
		ck_assert(known[i]);
}
END_TEST

START_TEST(test_unchecked_runs_bound_what_is_judged)
{
	char found[8][64], run_file[PATH_MAX];
	bool known[8];
	int64_t pending, memo;
	run_once(found, known, &pending, &memo);
	/* A run that never reached its check (its process gone): its start
	 * bounds the next check, which then forgets it. */
	char dir[PATH_MAX];
	ck_assert_int_eq(sk_git_walk_prepare(cache, root, 1000, run_file), 0);
	snprintf(dir, sizeof(dir), "%s", run_file);
	*strrchr(dir, '/') = '\0';
	char stale[PATH_MAX + 32];
	snprintf(stale, sizeof(stale), "%s/run.%d.%d", dir, 999999999, 500);
	FILE *f = fopen(stale, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	unlink(run_file);
	run_once(found, known, &pending, &memo);
	ck_assert_int_eq(pending, 500);
	ck_assert_int_ne(access(stale, F_OK), 0);
	run_once(found, known, &pending, &memo);
	ck_assert_int_gt(pending, 500);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("git_walk");
	TCase *tc = tcase_create("walk");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_entries_found_anew_and_known);
	tcase_add_test(tc, test_unchecked_runs_bound_what_is_judged);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
