/* The history walk (src/cli/git_history.c) and the object reader under it
 * (src/cli/git_objects.c), on repositories git itself writes: loose
 * objects, packs with deltas, a store damaged at random (the agent can
 * write it; the reader must neither crash nor read out of bounds - run
 * under ASan by `make asan`), and the memo. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/cli/git_guard.h"
#include "check_main.h"

static char dir[] = "/tmp/stockade-test-history-XXXXXX";

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

static bool dotenv(void *ctx, const char *path)
{
	(void)ctx;
	const char *base = strrchr(path, '/');
	return !strcmp(base ? base + 1 : path, ".env");
}

/* The walk of repository `name` (under dir), for the names .env. */
static size_t walk(const char *name, const char *cache, bool *partial, sk_git_history_blob **b)
{
	char gitdir[PATH_MAX + 64];
	snprintf(gitdir, sizeof(gitdir), "%s/%s/.git", dir, name);
	size_t n = 0;
	ck_assert_int_eq(sk_git_history_secrets(cache, gitdir, "", 20, "dotenv", dotenv, NULL, b, &n, partial), 0);
	return n;
}

static bool has_content(const sk_git_history_blob *b, size_t n, const char *text)
{
	char key[SK_FINGERPRINT_LEN + 1];
	sk_fingerprint_bytes(text, strlen(text), key);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].content, key) && b[i].size == strlen(text))
			return true;
	return false;
}

static void new_repo(const char *name)
{
	sh("cd %s && rm -rf %s && mkdir %s && cd %s && git init -q . && git config user.email a@b && "
	   "git config user.name a && git config gc.auto 0", dir, name, name, name);
}

START_TEST(test_deleted_removed_and_rewritten)
{
	new_repo("r1");
	sh("cd %s/r1 && printf 'API_KEY=old-0123456789\\n' > .env && mkdir -p app && cp .env app/.env && "
	   "echo x > main.c && git add -f .env app/.env main.c && git commit -qm one && "
	   "printf 'API_KEY=new-9876543210\\n' > .env && git add -f .env && git commit -qm two && "
	   "git rm -q --cached .env app/.env && git commit -qm three && rm -f .env app/.env", dir);
	bool partial;
	sk_git_history_blob *b;
	size_t n = walk("r1", NULL, &partial, &b);
	ck_assert_uint_eq(n, 2);   /* app/.env held the old content too: one blob */
	ck_assert(has_content(b, n, "API_KEY=old-0123456789\n"));
	ck_assert(has_content(b, n, "API_KEY=new-9876543210\n"));
	ck_assert(!partial);
	free(b);
}
END_TEST

START_TEST(test_packed_with_deltas)
{
	new_repo("r2");
	sh("cd %s/r2 && for i in $(seq 1 25); do { echo \"API_KEY=key-$i-abcdef\"; seq 1 200; } > .env; "
	   "git add -f .env && git commit -qm c$i; done && git gc -q --aggressive && "
	   "test -z \"$(find .git/objects -path '*/objects/?\?/*' -type f)\"", dir);
	bool partial;
	sk_git_history_blob *b;
	size_t n = walk("r2", NULL, &partial, &b);
	ck_assert_uint_eq(n, 25);
	ck_assert(!partial);
	free(b);
	/* Tags and other refs lead there too; a branch off an older commit. */
	sh("cd %s/r2 && git tag -a v1 -m v1 HEAD~3 && git checkout -q -b side HEAD~10 && "
	   "{ echo API_KEY=side-branch; seq 1 200; } > .env && git add -f .env && git commit -qm side", dir);
	n = walk("r2", NULL, &partial, &b);
	ck_assert_uint_eq(n, 26);
	free(b);
}
END_TEST

START_TEST(test_damaged_store)
{
	new_repo("r3");
	sh("cd %s/r3 && for i in $(seq 1 12); do { echo \"API_KEY=key-$i\"; seq 1 100; } > .env; mkdir -p d$i; "
	   "echo $i > d$i/f; git add -f .env d$i && git commit -qm c$i; done && git gc -q && "
	   "echo x > loose.txt && git add loose.txt && git commit -qm loose", dir);
	srand(7);
	for (int round = 0; round < 150; round++) {
		sh("cd %s && rm -rf r3x && cp -r r3 r3x", dir);
		/* Damage a few bytes of a pack, its index or a loose object. */
		sh("cd %s/r3x/.git/objects && for f in $(find . -type f | sort | sed -n '%d,%dp'); do "
		   "size=$(stat -c %%s $f); chmod u+w $f; for k in 1 2 3; do "
		   "off=$(( (%d * k * 7919) %% size )); printf '\\x%02x' | dd of=$f bs=1 seek=$off conv=notrunc 2>/dev/null; "
		   "done; done", dir, round % 6 + 1, round % 6 + 2, rand() % 100000 + round, rand() % 256);
		bool partial;
		sk_git_history_blob *b;
		size_t n = walk("r3x", NULL, &partial, &b);
		ck_assert_uint_le(n, 12);
		free(b);
	}
}
END_TEST

START_TEST(test_memo)
{
	new_repo("r4");
	sh("cd %s/r4 && printf 'API_KEY=memo-0123456789\\n' > .env && git add -f .env && git commit -qm one && "
	   "git rm -q --cached .env && git commit -qm two && rm .env", dir);
	char cache[PATH_MAX];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	bool partial;
	sk_git_history_blob *b;
	ck_assert_uint_eq(walk("r4", cache, &partial, &b), 1);
	free(b);
	/* The refs unchanged: the memo answers (the objects are not read). */
	sh("cd %s/r4 && mv .git/objects .git/objects.away", dir);
	ck_assert_uint_eq(walk("r4", cache, &partial, &b), 1);
	ck_assert(has_content(b, 1, "API_KEY=memo-0123456789\n"));
	free(b);
	/* A ref moved: only the new commits are read, and what earlier walks
	 * found stands - even the first version, whose object is deleted now
	 * (a full walk would not find it: the other set of names below). */
	sh("cd %s/r4 && mv .git/objects.away .git/objects && old=$(git rev-parse HEAD~1:.env) && "
	   "printf 'API_KEY=third-0123456789\\n' > .env && git add -f .env && git commit -qm three && rm .env && "
	   "rm .git/objects/$(echo $old | cut -c1-2)/$(echo $old | cut -c3-)", dir);
	ck_assert_uint_eq(walk("r4", cache, &partial, &b), 2);
	ck_assert(has_content(b, 2, "API_KEY=memo-0123456789\n"));
	ck_assert(has_content(b, 2, "API_KEY=third-0123456789\n"));
	free(b);
	char gitdir[PATH_MAX + 8];
	snprintf(gitdir, sizeof(gitdir), "%s/r4/.git", dir);
	size_t n;
	ck_assert_int_eq(sk_git_history_secrets(cache, gitdir, "", 20, "other", dotenv, NULL, &b, &n, &partial), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(has_content(b, 1, "API_KEY=third-0123456789\n"));
	free(b);
}
END_TEST

/* The secret file's current content is looked for by its own object id
 * (as `git hash-object` computes it), not only by the index's: the blob of
 * a .env added and reset (unreachable, named by no index entry), loose,
 * then packed; a secret whose content no object holds carries nothing. */
START_TEST(test_untracked_content_carried)
{
	sh("cd %s && mkdir u && cd u && git init -q . && printf 'API_KEY=sk9Fq2LmZx81TbVw0PqR7yUeQw\\n' > .env && "
	   "git add -f .env && git reset -q .env && printf 'OTHER=Zq81TbVw0PqR7yUeQwsk9Fq2Lm\\n' > .env2", dir);
	char ws[PATH_MAX], env[PATH_MAX + 8], env2[PATH_MAX + 8];
	snprintf(ws, sizeof(ws), "%s/u", dir);
	snprintf(env, sizeof(env), "%s/.env", ws);
	snprintf(env2, sizeof(env2), "%s/.env2", ws);
	const char *secrets[] = { env2, env };
	sk_git_carrier *c = NULL;
	size_t n = 0;
	ck_assert_int_eq(sk_git_secret_carriers(NULL, ws, secrets, 2, &c, &n), 0);
	ck_assert_uint_eq(n, 1);   /* the loose object, of .env */
	ck_assert_uint_eq(c[0].secret, 1);
	free(c);
	sh("cd %s/u && oid=$(git hash-object .env) && echo $oid | git pack-objects -q .git/objects/pack/pack >/dev/null && "
	   "rm .git/objects/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-)", dir);
	ck_assert_int_eq(sk_git_secret_carriers(NULL, ws, secrets, 2, &c, &n), 0);
	ck_assert_uint_eq(n, 1);   /* the pack */
	ck_assert_uint_eq(c[0].secret, 1);
	free(c);
}
END_TEST

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	Suite *s = suite_create("git_history");
	TCase *tc = tcase_create("git_history");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_deleted_removed_and_rewritten);
	tcase_add_test(tc, test_packed_with_deltas);
	tcase_add_test(tc, test_damaged_store);
	tcase_add_test(tc, test_memo);
	tcase_add_test(tc, test_untracked_content_carried);
	suite_add_tcase(s, tc);
	int r = sk_check_run(s);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return r;
}
