/* The pure readers under the check after a run: which git configs hold
 * only what git writes as plain data, and which index entries are
 * gitlinks (hand-made indexes of each version, and git's own). */
#include <check.h>

#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/git_guard.h"

static int check(const char *text, char *why)
{
	return sk_git_config_check(text, strlen(text), why, 160);
}

START_TEST(test_configs_git_writes_are_clean)
{
	char why[160] = "";
	/* git init, git clone, a submodule's git directory, remotes, identity */
	ck_assert_int_eq(check("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
			       "\tlogallrefupdates = true\n", why), 0);
	ck_assert_int_eq(check("[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
			       "\tlogallrefupdates = true\n\tworktree = ../../../lib/sub\n"
			       "[remote \"origin\"]\n\turl = https://example.com/r.git\n"
			       "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
			       "[branch \"main\"]\n\tremote = origin\n\tmerge = refs/heads/main\n"
			       "[submodule \"lib/sub\"]\n\turl = ../sub.git\n\tactive = true\n"
			       "[user]\n\tname = A \"Quoted\" Name\n\temail = a@b ; a comment\n"
			       "# a comment line\n; another\n\n[advice]\n\tdetachedHead = false\n", why), 0);
	/* Section and key names are case-insensitive; CRLF; old-style subsection. */
	ck_assert_int_eq(check("[Core]\r\n\tBare = false\r\n[remote.origin]\n\tURL = x\n", why), 0);
	ck_assert_int_eq(check("", why), 0);
	ck_assert_int_eq(check("[extensions]\n\tobjectFormat = sha256\n\tworktreeConfig = true\n", why), 0);
}
END_TEST

START_TEST(test_configs_that_run_code_are_not)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "[core]\n\tfsmonitor = touch /tmp/x\n", "core.fsmonitor" },
		{ "[CORE]\n\tFSMonitor = x\n", "CORE.FSMonitor" },
		{ "[core]\n\tfsmonitor\n", "core.fsmonitor" },               /* a bare key: true */
		{ "[core]\n\thooksPath = /tmp\n", "core.hooksPath" },
		{ "[core]\n\tpager = less; id\n", "core.pager" },
		{ "[core]\n\tsshCommand = x\n", "core.sshCommand" },
		{ "[include]\n\tpath = ../evil.config\n", "include.path" },
		{ "[includeIf \"gitdir:/\"]\n\tpath = x\n", "includeIf.<name>.path" },
		{ "[filter \"lfs\"]\n\tsmudge = git-lfs smudge -- %f\n", "filter.<name>.smudge" },
		{ "[diff \"x\"]\n\ttextconv = x\n", "diff.<name>.textconv" },
		{ "[submodule \"s\"]\n\tupdate = !sh -c x\n", "submodule.<name>.update" },
		{ "[alias]\n\tst = !id\n", "alias.st" },
		{ "[credential]\n\thelper = !x\n", "credential.helper" },
		{ "[core \"x\"]\n\tbare = false\n", "core.<name>.bare" },     /* core takes no subsection */
		{ "[remote]\n\turl = x\n", "remote.url" },                   /* remote needs one */
		{ "[remote \"o\"]\n\tuploadpack = x\n", "remote.<name>.uploadpack" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char why[160] = "";
		ck_assert_msg(check(bad[i].text, why) == 1, "clean: %s", bad[i].text);
		ck_assert_msg(strstr(why, bad[i].why), "why '%s' lacks '%s'", why, bad[i].why);
	}
}
END_TEST

START_TEST(test_lines_not_read_are_not_clean)
{
	/* Lines git reads but does not write: the reader does not guess. */
	static const char *const odd[] = {
		"[core] fsmonitor = x\n",                         /* a key on the header's line */
		"[user]\n\tname = a \\\n\tfsmonitor = x\n",       /* a continued value */
		"[user]\n\tname = \"a\n",                         /* an open quote */
		"bare = true\n",                                  /* a key before any section */
		"[core\n\tbare = true\n",
		"[remote \"o]\n",
		"[remote\t\"o\"]\n",
		"[user]\n\t-name = x\n",
		"[user]\n\tname : x\n",
		"\xef\xbb\xbf[core]\n",                           /* a byte-order mark */
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char why[160] = "";
		ck_assert_msg(check(odd[i], why) == 1, "clean: %s", odd[i]);
		ck_assert_msg(strstr(why, "line"), "why: %s", why);
	}
	char why[160];
	ck_assert_int_eq(sk_git_config_check("[core]\n\tbare = x\0\n", 18, why, sizeof(why)), 1);
	ck_assert(strstr(why, "NUL"));
}
END_TEST

START_TEST(test_hash_len)
{
	ck_assert_uint_eq(sk_git_hash_len("[core]\n\tbare = false\n", 21), 20);
	const char *s = "[extensions]\n\tobjectformat = sha256\n";
	ck_assert_uint_eq(sk_git_hash_len(s, strlen(s)), 32);
}
END_TEST

/* A hand-made index: entries of (mode, path), version 2, 3 or 4. */
typedef struct ibuf {
	unsigned char b[8192];
	size_t n;
	char prev[256];
} ibuf;

static void put32(ibuf *x, uint32_t v)
{
	x->b[x->n++] = (unsigned char)(v >> 24);
	x->b[x->n++] = (unsigned char)(v >> 16);
	x->b[x->n++] = (unsigned char)(v >> 8);
	x->b[x->n++] = (unsigned char)v;
}

static void entry(ibuf *x, uint32_t version, uint32_t mode, const char *path, bool extended)
{
	size_t start = x->n, len = strlen(path);
	for (int i = 0; i < 6; i++)
		put32(x, 0x11111111);   /* ctime, mtime, dev, ino */
	put32(x, mode);
	put32(x, 0);                    /* uid, gid, size */
	put32(x, 0);
	put32(x, 0);
	memset(x->b + x->n, 0xab, 20);  /* the object id */
	x->n += 20;
	unsigned flags = (unsigned)(len < 0xfff ? len : 0xfff) | (extended ? 0x4000 : 0);
	x->b[x->n++] = (unsigned char)(flags >> 8);
	x->b[x->n++] = (unsigned char)flags;
	if (extended) {
		x->b[x->n++] = 0x20;    /* intent-to-add */
		x->b[x->n++] = 0;
	}
	if (version == 4) {
		size_t common = 0, plen = strlen(x->prev);
		while (common < plen && common < len && x->prev[common] == path[common])
			common++;
		x->b[x->n++] = (unsigned char)(plen - common);   /* < 128: one byte */
		memcpy(x->b + x->n, path + common, len - common + 1);
		x->n += len - common + 1;
		snprintf(x->prev, sizeof(x->prev), "%s", path);
	} else {
		memcpy(x->b + x->n, path, len);
		x->n += len;
		size_t size = (x->n - start + 8) & ~(size_t)7;
		while (x->n - start < size)
			x->b[x->n++] = 0;
	}
}

static void header(ibuf *x, uint32_t version, uint32_t n)
{
	memset(x, 0, sizeof(*x));
	memcpy(x->b, "DIRC", 4);
	x->n = 4;
	put32(x, version);
	put32(x, n);
}

static void trailer(ibuf *x)
{
	memset(x->b + x->n, 0xcd, 20);
	x->n += 20;
}

typedef struct seen {
	char paths[8][64];
	int n;
} seen;

static int on_link(void *ctx, const char *path, size_t len)
{
	seen *s = ctx;
	ck_assert_uint_eq(strlen(path), len);
	if (s->n < 8)
		snprintf(s->paths[s->n++], 64, "%s", path);
	return 0;
}

static void three_entries(ibuf *x, uint32_t version, bool extended)
{
	header(x, version, 3);
	entry(x, version, 0100644, "lib/a.c", false);
	entry(x, version, 0160000, "lib/sub", extended);
	entry(x, version, 0160000, "lib/subtwo", false);
}

START_TEST(test_index_versions)
{
	for (uint32_t v = 2; v <= 4; v++) {
		ibuf x;
		seen s = { 0 };
		char shared[65];
		three_entries(&x, v, v >= 3);
		trailer(&x);
		ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), 2);
		ck_assert_int_eq(s.n, 2);
		ck_assert_str_eq(s.paths[0], "lib/sub");
		ck_assert_str_eq(s.paths[1], "lib/subtwo");
		ck_assert_str_eq(shared, "");
	}
}
END_TEST

START_TEST(test_index_extensions_and_split)
{
	ibuf x;
	seen s = { 0 };
	char shared[65];
	three_entries(&x, 2, false);
	memcpy(x.b + x.n, "TREE", 4);
	x.n += 4;
	put32(&x, 3);
	memcpy(x.b + x.n, "abc", 3);
	x.n += 3;
	memcpy(x.b + x.n, "link", 4);
	x.n += 4;
	put32(&x, 20);
	for (int i = 0; i < 20; i++)
		x.b[x.n++] = (unsigned char)i;
	trailer(&x);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), 2);
	ck_assert_str_eq(shared, "000102030405060708090a0b0c0d0e0f10111213");
}
END_TEST

START_TEST(test_index_refused)
{
	ibuf x;
	seen s = { 0 };
	char shared[65];
	three_entries(&x, 2, false);
	trailer(&x);
	/* Every truncation, a wrong hash length, a bad magic or version, an
	 * extended flag in version 2, an extension running past the end. */
	for (size_t n = 0; n < x.n; n++)
		ck_assert_int_eq(sk_git_index_gitlinks(x.b, n, 20, shared, on_link, &s), -EINVAL);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 32, shared, on_link, &s), -EINVAL);
	x.b[0] = 'X';
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), -EINVAL);
	three_entries(&x, 5, false);
	trailer(&x);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), -EINVAL);
	three_entries(&x, 2, true);
	trailer(&x);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), -EINVAL);
	three_entries(&x, 2, false);
	memcpy(x.b + x.n, "TREE", 4);
	x.n += 4;
	put32(&x, 1000);
	trailer(&x);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), -EINVAL);
	/* v4: a prefix strip longer than the previous name. */
	header(&x, 4, 1);
	entry(&x, 4, 0160000, "a", false);
	x.b[x.n - 3] = 5;
	trailer(&x);
	ck_assert_int_eq(sk_git_index_gitlinks(x.b, x.n, 20, shared, on_link, &s), -EINVAL);
}
END_TEST

/* git's own index files: every version it writes, and a split index. */
static size_t git_index(const char *dir, const char *cmds, unsigned char **out)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && git init -q . && mkdir -p a/b && echo x > a/b/f && git add a/b/f && "
		 "git update-index --add --cacheinfo 160000,1111111111111111111111111111111111111111,a/b/link && "
		 "git update-index --add --cacheinfo 160000,2222222222222222222222222222222222222222,a/linktwo && "
		 "%s >/dev/null 2>&1",
		 dir, cmds);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/.git/index", dir);
	FILE *f = fopen(cmd, "rb");
	ck_assert_ptr_nonnull(f);
	*out = malloc(1 << 20);
	size_t n = fread(*out, 1, 1 << 20, f);
	fclose(f);
	return n;
}

START_TEST(test_index_from_git)
{
	static const char *const how[] = { "git update-index --index-version 2",
					   "git update-index --index-version 3",
					   "git update-index --index-version 4",
					   "git update-index --split-index" };
	for (size_t i = 0; i < sizeof(how) / sizeof(how[0]); i++) {
		char dir[] = "/tmp/stockade-test-index.XXXXXX", rm[64];
		ck_assert_ptr_nonnull(mkdtemp(dir));
		unsigned char *buf;
		size_t n = git_index(dir, how[i], &buf);
		seen s = { 0 };
		char shared[65];
		int links = sk_git_index_gitlinks(buf, n, 20, shared, on_link, &s);
		if (i == 3) {
			/* The split index holds no entries; the shared one does. */
			ck_assert_int_ge(links, 0);
			ck_assert_uint_eq(strlen(shared), 40);
		} else {
			ck_assert_int_eq(links, 2);
			ck_assert_str_eq(s.paths[0], "a/b/link");
			ck_assert_str_eq(s.paths[1], "a/linktwo");
		}
		free(buf);
		snprintf(rm, sizeof(rm), "rm -rf %s", dir);
		ck_assert_int_eq(system(rm), 0);
	}
}
END_TEST

/* A pack index (version 2) with the given sorted 20-byte ids. */
static size_t make_idx(unsigned char *buf, const unsigned char ids[][20], uint32_t n)
{
	memset(buf, 0, 8 + 256 * 4 + n * 20);
	memcpy(buf, "\377tOc\0\0\0\2", 8);
	for (int b = 0; b < 256; b++) {
		uint32_t c = 0;
		for (uint32_t i = 0; i < n; i++)
			c += ids[i][0] <= b;
		unsigned char *f = buf + 8 + 4 * b;
		f[0] = (unsigned char)(c >> 24), f[1] = (unsigned char)(c >> 16), f[2] = (unsigned char)(c >> 8),
		f[3] = (unsigned char)c;
	}
	memcpy(buf + 8 + 256 * 4, ids, n * 20);
	return 8 + 256 * 4 + n * 20;
}

START_TEST(test_idx_lookup)
{
	static const unsigned char ids[4][20] = { { 0x00, 1 }, { 0x7f, 2 }, { 0x7f, 3 }, { 0xff, 9 } };
	static unsigned char buf[8 + 256 * 4 + 4 * 20];
	size_t n = make_idx(buf, ids, 4);
	for (int i = 0; i < 4; i++)
		ck_assert(sk_git_idx_has(buf, n, 20, ids[i]));
	const unsigned char absent[3][20] = { { 0x00, 2 }, { 0x7f, 1 }, { 0xfe } };
	for (int i = 0; i < 3; i++)
		ck_assert(!sk_git_idx_has(buf, n, 20, absent[i]));
	ck_assert(!sk_git_idx_has(buf, n - 1, 20, ids[3]));   /* truncated: refused */
	buf[7] = 1;                                         /* version 1: not read */
	ck_assert(!sk_git_idx_has(buf, n, 20, ids[0]));
}
END_TEST

/* A committed secret's carrier: its loose object, then (after gc) its
 * pack; an untracked secret has none. */
START_TEST(test_carriers_from_git)
{
	char dir[] = "/tmp/stockade-test-carriers.XXXXXX", cmd[512], secret[128], other[128];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && git init -q . && git config user.email a@b && git config user.name a && "
		 "printf 'API_KEY=abcdefgh12345678\\n' > .env && printf 'x=1234567890\\n' > other.env && "
		 "git add -f .env && git commit -qm s", dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(secret, sizeof(secret), "%s/.env", dir);
	snprintf(other, sizeof(other), "%s/other.env", dir);
	const char *secrets[] = { other, secret };
	for (int gc = 0; gc < 2; gc++) {
		sk_git_carrier *c = NULL;
		size_t n = 0;
		ck_assert_int_eq(sk_git_secret_carriers(NULL, dir, secrets, 2, &c, &n), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_uint_eq(c[0].secret, 1);
		snprintf(cmd, sizeof(cmd), "cd %s && stat -c '%%d %%i' $(%s)", dir,
			 gc ? "ls .git/objects/pack/*.pack"
			    : "f=$(git rev-parse HEAD:.env); echo .git/objects/$(echo $f | cut -c1-2)/$(echo $f | cut -c3-)");
		FILE *p = popen(cmd, "r");
		unsigned long long dev, ino;
		ck_assert_int_eq(fscanf(p, "%llu %llu", &dev, &ino), 2);
		pclose(p);
		ck_assert_uint_eq(c[0].ino, ino);
		ck_assert_uint_eq(c[0].dev, dev);
		free(c);
		snprintf(cmd, sizeof(cmd), "cd %s && git gc -q", dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The index's lookup kept in a cache: the same answer while the index is
 * the same, a new one once git rewrote it. */
START_TEST(test_carriers_memo)
{
	char dir[] = "/tmp/stockade-test-cmemo.XXXXXX", cmd[512], secret[128], cache[160];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && git init -q . && git config user.email a@b && git config user.name a && "
		 "printf 'API_KEY=abcdefgh12345678\\n' > .env && git add -f .env && git commit -qm s", dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(secret, sizeof(secret), "%s/.env", dir);
	snprintf(cache, sizeof(cache), "%s/.cache", dir);
	const char *secrets[] = { secret };
	for (int round = 0; round < 3; round++) {
		if (round == 2) {   /* untracked now: the index is rewritten; and the .env
				     * rewritten too, or its committed blob would be
				     * found by its content (test_git_history) */
			snprintf(cmd, sizeof(cmd), "cd %s && git rm -q --cached .env && "
				 "printf 'API_KEY=ijklmnop87654321\\n' > .env", dir);
			ck_assert_int_eq(system(cmd), 0);
		}
		sk_git_carrier *c = NULL;
		size_t n = 0;
		ck_assert_int_eq(sk_git_secret_carriers(cache, dir, secrets, 1, &c, &n), 0);
		ck_assert_uint_eq(n, round < 2 ? 1 : 0);
		free(c);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("git_guard");
	TCase *tc = tcase_create("readers");
	tcase_add_test(tc, test_configs_git_writes_are_clean);
	tcase_add_test(tc, test_configs_that_run_code_are_not);
	tcase_add_test(tc, test_lines_not_read_are_not_clean);
	tcase_add_test(tc, test_hash_len);
	tcase_add_test(tc, test_index_versions);
	tcase_add_test(tc, test_index_extensions_and_split);
	tcase_add_test(tc, test_index_refused);
	tcase_add_test(tc, test_index_from_git);
	tcase_add_test(tc, test_idx_lookup);
	tcase_add_test(tc, test_carriers_from_git);
	tcase_add_test(tc, test_carriers_memo);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
