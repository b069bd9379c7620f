/* Unit tests for the mount plan: built as data, asserted here. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "stockade/sandbox.h"

static char *const argv_true[] = { "true", NULL };
static char *const envp_empty[] = { NULL };

static sk_sandbox_config base_config(void)
{
	sk_sandbox_config c;
	sk_sandbox_config_init(&c);
	c.argv = argv_true;
	c.envp = envp_empty;
	c.workspace = "/home/u/proj";
	c.home = "/home/u";
	return c;
}

static ssize_t find(const sk_mount_plan *p, sk_mount_kind kind, const char *dst)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].kind == kind && !strcmp(p->v[i].dst, dst))
			return (ssize_t)i;
	return -1;
}

START_TEST(test_default_plan)
{
	sk_sandbox_config c = base_config();
	sk_mount_plan p;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_mount_plan_build(&c, &p, &err), 0);
	ck_assert_int_ge(find(&p, SK_MNT_BIND_RO, "/usr"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_BIND_RO, "/etc"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_PROC, "/proc"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_TMPFS, "/tmp"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_DEVPTS, "/dev/pts"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_BIND_DEV, "/dev/null"), 0);
	/* The caller's real home is never bound: only an empty tmpfs. */
	ck_assert_int_ge(find(&p, SK_MNT_TMPFS, "/home/u"), 0);
	ck_assert_int_lt(find(&p, SK_MNT_BIND_RO, "/home/u"), 0);
	ck_assert_int_lt(find(&p, SK_MNT_BIND_RW, "/home/u"), 0);
	ck_assert_int_lt(find(&p, SK_MNT_BIND_RO, "/home"), 0);
	/* Only the workspace is bound read-write. */
	size_t rw = 0;
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].kind == SK_MNT_BIND_RW) {
			rw++;
			ck_assert_str_eq(p.v[i].dst, "/home/u/proj");
		}
	ck_assert_uint_eq(rw, 1);
	/* Parents first: the home tmpfs precedes the workspace inside it. */
	ck_assert_int_lt(find(&p, SK_MNT_TMPFS, "/home/u"), find(&p, SK_MNT_BIND_RW, "/home/u/proj"));
	ck_assert_int_lt(find(&p, SK_MNT_TMPFS, "/dev"), find(&p, SK_MNT_BIND_DEV, "/dev/null"));
	/* The root is made read-only last. */
	ck_assert_int_eq(p.v[p.n - 1].kind, SK_MNT_REMOUNT_RO);
	sk_mount_plan_free(&p);
}
END_TEST

START_TEST(test_profile_rules)
{
	sk_sandbox_config c = base_config();
	const sk_fs_rule rules[] = {
		{ "/home/u/proj/.env", SK_FS_HIDE, false, NULL },   /* inside a bind: hidden */
		{ "/home/u/.aws", SK_FS_HIDE, false, NULL },        /* inside the empty home: nothing to do */
		/* A copy stands in for it (a git config without credentials). */
		{ "/home/u/.gitconfig", SK_FS_RO, true, "/state/git/0123.config" },
		{ "/etc/shadow", SK_FS_HIDE, false, NULL },
		{ "/srv/cache", SK_FS_RW, true, NULL },
	};
	c.fs = rules;
	c.n_fs = SK_ARRAY_LEN(rules);
	sk_mount_plan p;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_mount_plan_build(&c, &p, &err), 0);
	ck_assert_int_ge(find(&p, SK_MNT_HIDE, "/home/u/proj/.env"), 0);
	ck_assert_int_lt(find(&p, SK_MNT_HIDE, "/home/u/.aws"), 0);
	ck_assert_int_ge(find(&p, SK_MNT_HIDE, "/etc/shadow"), 0);
	int copy = find(&p, SK_MNT_BIND_RO, "/home/u/.gitconfig");
	ck_assert_int_ge(copy, 0);
	ck_assert_str_eq(p.v[copy].src, "/state/git/0123.config");
	ck_assert_str_eq(p.v[find(&p, SK_MNT_BIND_RW, "/srv/cache")].src, "/srv/cache");
	ck_assert_int_ge(find(&p, SK_MNT_BIND_RW, "/srv/cache"), 0);
	/* A hide inside the workspace comes after the workspace bind. */
	ck_assert_int_lt(find(&p, SK_MNT_BIND_RW, "/home/u/proj"), find(&p, SK_MNT_HIDE, "/home/u/proj/.env"));
	ck_assert_int_lt(find(&p, SK_MNT_TMPFS, "/home/u"), find(&p, SK_MNT_BIND_RO, "/home/u/.gitconfig"));
	sk_mount_plan_free(&p);
}
END_TEST

START_TEST(test_rejects_bad_paths)
{
	sk_mount_plan p;
	sk_error err = { 0 };
	sk_sandbox_config c = base_config();
	c.workspace = "/";
	ck_assert_int_eq(sk_mount_plan_build(&c, &p, &err), -EINVAL);
	c.workspace = "relative/dir";
	ck_assert_int_eq(sk_mount_plan_build(&c, &p, &err), -EINVAL);
	c = base_config();
	const char *bad[] = { "/a/../etc", "/a//b", "/a/./b", "rel", "/a/" };
	for (size_t i = 0; i < SK_ARRAY_LEN(bad); i++) {
		sk_fs_rule r = { bad[i], SK_FS_RW, false, NULL };
		c.fs = &r;
		c.n_fs = 1;
		ck_assert_int_eq(sk_mount_plan_build(&c, &p, &err), -EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "clean absolute path"));
	}
}
END_TEST

START_TEST(test_seccomp_table)
{
	size_t n;
	const sk_syscall_rule *t = sk_seccomp_default_denies(&n);
	const char *must[] = { "ptrace", "mount", "unshare", "setns", "keyctl", "bpf", "io_uring_setup",
			       "open_by_handle_at", "clone", "clone3", "ioctl", "socket", "personality" };
	for (size_t i = 0; i < SK_ARRAY_LEN(must); i++) {
		bool found = false;
		for (size_t j = 0; j < n; j++)
			found |= !strcmp(t[j].name, must[i]);
		ck_assert_msg(found, "%s missing from the deny table", must[i]);
	}
	for (size_t j = 0; j < n; j++)
		ck_assert_ptr_nonnull(t[j].why);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mount_plan");
	TCase *tc = tcase_create("plan");
	tcase_add_test(tc, test_default_plan);
	tcase_add_test(tc, test_profile_rules);
	tcase_add_test(tc, test_rejects_bad_paths);
	tcase_add_test(tc, test_seccomp_table);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
