/* Binding a profile to real files, and applying it to a sandbox config:
 * a hard link or a symlinked alternative still gets the original's verdict;
 * the environment is filtered by decide; deny/secret become hidden paths. */
#include <check.h>

#include "check_main.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/cli.h"
#include "stockade/policy.h"

static char root[256], home[300], ws[300], bin[300];

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/stockade-bind.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(home, sizeof(home), "%s/home", root);
	snprintf(ws, sizeof(ws), "%s/home/ws", root);
	snprintf(bin, sizeof(bin), "%s/bin", root);
	char p[512];
	mkdir(home, 0700);
	mkdir(ws, 0700);
	mkdir(bin, 0700);
	snprintf(p, sizeof(p), "%s/.ssh", home);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/.ssh/id_rsa", home);
	write_file(p, "PRIVATE-KEY-MATERIAL-123456\n", 0600);
	char lnk[512];
	snprintf(lnk, sizeof(lnk), "%s/innocent.txt", ws);
	ck_assert_int_eq(link(p, lnk), 0);
	snprintf(p, sizeof(p), "%s/nc.real", bin);
	write_file(p, "#!/bin/sh\n", 0755);
	snprintf(lnk, sizeof(lnk), "%s/nc", bin);
	ck_assert_int_eq(symlink("nc.real", lnk), 0);
	snprintf(p, sizeof(p), "%s/.env", ws);
	write_file(p, "API_KEY=abcdefgh12345\n", 0600);
}

static void teardown(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
}

static sk_profile *load(const char *text)
{
	sk_profile_vars vars = { .home = home, .workspace = ws, .uid = "0" };
	sk_profile *p = NULL;
	sk_error err = { 0 };
	ck_assert_msg(sk_profile_parse_text("t", text, strlen(text), &vars, NULL, NULL, &p, &err) == 0, "%s", err.msg);
	return p;
}

static sk_verdict open_file(const sk_profile *p, const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file = (sk_file_ref){ .path = path, .has_identity = true, .dev = st.st_dev, .ino = st.st_ino };
	ev.file.access = SK_ACCESS_READ;
	return sk_decide(p, NULL, &ev);
}

START_TEST(test_hard_link_keeps_the_verdict)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile secret ${HOME}/.ssh\n");
	char lnk[512];
	snprintf(lnk, sizeof(lnk), "%s/innocent.txt", ws);
	/* Unbound: the spelling alone looks harmless. */
	ck_assert_int_eq(open_file(p, lnk).action, SK_ACTION_ALLOW);
	sk_error err = { 0 };
	ck_assert_int_eq(sk_profile_bind(p, NULL, &err), 0);
	sk_verdict v = open_file(p, lnk);
	ck_assert_int_eq(v.action, SK_ACTION_DENY);
	ck_assert_int_eq(v.reason, SK_REASON_FILE_SECRET);
	ck_assert_str_eq(v.rule_id, "t:2");
	sk_profile_free(p);
}
END_TEST

START_TEST(test_symlinked_alternative_keeps_the_name)
{
	sk_profile *p = load("command deny nc\n");
	sk_error err = { 0 };
	ck_assert_int_eq(sk_profile_bind(p, bin, &err), 0);
	char real[512];
	snprintf(real, sizeof(real), "%s/nc.real", bin);
	struct stat st;
	ck_assert_int_eq(stat(real, &st), 0);
	sk_event ev = { .kind = SK_EVENT_COMMAND };
	ev.command.exe = (sk_file_ref){ .path = real, .has_identity = true, .dev = st.st_dev, .ino = st.st_ino };
	sk_verdict v = sk_decide(p, NULL, &ev);
	ck_assert_int_eq(v.action, SK_ACTION_DENY);
	ck_assert_int_eq(v.reason, SK_REASON_COMMAND_DENY);
	sk_profile_free(p);
}
END_TEST

START_TEST(test_apply)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile hidden ${HOME}\nfile read-only ${HOME}/.gitconfig\n"
			     "file secret ${HOME}/.ssh\nfile secret .env\nfile deny /nonexistent/x\n"
			     "file read-only /opt\nfile read-write /opt\nenv default pass\nenv secret *_TOKEN\n"
			     "env drop AWS_*\nnet loopback\nsyscall deny ptrace\nsyscall allow personality\n"
			     "limit timeout 5s\nlimit pids 7\nredact disable email\n");
	sk_sandbox_config cfg;
	sk_sandbox_config_init(&cfg);
	cfg.workspace = ws;
	char *environ_[] = { "PATH=/usr/bin", "GH_TOKEN=ghp_0123456789abcdef", "AWS_REGION=eu-west-1",
			     "NOEQUALS", NULL };
	sk_profile_env env;
	sk_error err = { 0 };
	ck_assert_msg(sk_profile_apply(p, environ_, home, &cfg, &env, &err) == 0, "%s", err.msg);
	ck_assert_ptr_eq(cfg.envp, env.envp);
	ck_assert_str_eq(env.envp[0], "PATH=/usr/bin");
	ck_assert_ptr_null(env.envp[1]);
	ck_assert_uint_eq(env.n_secrets, 1);
	ck_assert_str_eq(env.secrets[0].label, "env:GH_TOKEN");
	ck_assert_str_eq(env.secrets[0].value, "ghp_0123456789abcdef");
	ck_assert_str_eq(cfg.home, home);
	/* Mounts: parents first; HOME and the workspace left to the sandbox. */
	char want_ssh[512], want_env[512], want_git[512];
	snprintf(want_ssh, sizeof(want_ssh), "%s/.ssh", home);
	snprintf(want_env, sizeof(want_env), "%s/.env", ws);
	snprintf(want_git, sizeof(want_git), "%s/.gitconfig", home);
	bool saw_ssh = false, saw_env = false, saw_git = false, saw_opt = false;
	size_t last_depth = 0;
	for (size_t i = 0; i < cfg.n_fs; i++) {
		const sk_fs_rule *r = &cfg.fs[i];
		size_t d = 0;
		for (const char *c = r->path; *c; c++)
			d += *c == '/';
		ck_assert_uint_ge(d, last_depth);
		last_depth = d;
		ck_assert_str_ne(r->path, home);
		ck_assert_str_ne(r->path, ws);
		if (!strcmp(r->path, want_ssh)) saw_ssh = r->access == SK_FS_HIDE;
		if (!strcmp(r->path, want_env)) saw_env = r->access == SK_FS_HIDE;
		if (!strcmp(r->path, want_git)) saw_git = r->access == SK_FS_RO && r->optional;
		if (!strcmp(r->path, "/opt")) saw_opt = r->access == SK_FS_RO;
	}
	ck_assert(saw_ssh && saw_env && saw_git && saw_opt);
	/* The secret files found: the key under ~/.ssh and the workspace .env. */
	ck_assert_uint_eq(env.n_secret_files, 2);
	ck_assert_int_eq(cfg.net, SK_NET_NONE);
	ck_assert_uint_eq(cfg.n_deny_syscalls, 1);
	ck_assert_str_eq(cfg.deny_syscalls[0], "ptrace");
	ck_assert_str_eq(cfg.allow_syscalls[0], "personality");
	ck_assert_uint_eq(cfg.limits.timeout_ms, 5000);
	ck_assert_uint_eq(cfg.limits.pids, 7);
	ck_assert_str_eq(env.disabled_rules[0], "email");
	ck_assert_ptr_null(env.disabled_rules[1]);
	sk_profile_env_free(&env);
	sk_profile_free(p);
}
END_TEST

/* A forced access tightens the profile's for that path, never loosens it,
 * and the rules stay parents first (the mount plan applies them in order). */
START_TEST(test_force)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile read-write /opt\nfile read-only /opt/a/b\n");
	sk_sandbox_config cfg;
	sk_sandbox_config_init(&cfg);
	cfg.workspace = ws;
	char *environ_[] = { NULL };
	sk_profile_env env;
	sk_error err = { 0 };
	ck_assert_msg(sk_profile_apply(p, environ_, home, &cfg, &env, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sk_profile_env_force(&env, &cfg, "/opt", SK_FS_HIDE, &err), 0);
	ck_assert_int_eq(sk_profile_env_force(&env, &cfg, "/opt/a", SK_FS_RO, &err), 0);
	/* never looser than the profile: /opt/a/b stays read-only */
	ck_assert_int_eq(sk_profile_env_force(&env, &cfg, "/opt/a/b", SK_FS_RW, &err), 0);
	int opt = -1, a = -1, b = -1;
	for (size_t i = 0; i < cfg.n_fs; i++) {
		if (!strcmp(cfg.fs[i].path, "/opt")) opt = (int)i;
		if (!strcmp(cfg.fs[i].path, "/opt/a")) a = (int)i;
		if (!strcmp(cfg.fs[i].path, "/opt/a/b")) b = (int)i;
	}
	ck_assert(opt >= 0 && a > opt && b > a);
	ck_assert_int_eq(cfg.fs[opt].access, SK_FS_HIDE);
	ck_assert_int_eq(cfg.fs[a].access, SK_FS_RO);
	ck_assert_int_eq(cfg.fs[b].access, SK_FS_RO);
	ck_assert_ptr_eq(cfg.fs, env.fs);
	sk_profile_env_free(&env);
	sk_profile_free(p);
}
END_TEST

/* dir/name holding text; its path in out. */
static void put(char *out, size_t n, const char *dir, const char *name, const char *text)
{
	snprintf(out, n, "%s/%s", dir, name);
	write_file(out, text, 0600);
}

/* Apply p to the workspace with an empty environment, the walk kept in
 * cache (the first call walks, the next recalls). */
static void apply_walked(const sk_profile *p, const char *cache, sk_sandbox_config *cfg, sk_profile_env *env)
{
	sk_sandbox_config_init(cfg);
	cfg->workspace = ws;
	char *environ_[] = { NULL };
	sk_error err = { 0 };
	ck_assert_msg(sk_profile_apply_cached(p, environ_, home, cache, cfg, env, &err) == 0, "%s", err.msg);
}

static bool in_list(const char *const *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], path))
			return true;
	return false;
}

static bool listed(const sk_profile_env *env, const char *path)
{
	return in_list(env->package_configs, env->n_package_configs, path);
}

/* The workspace walk reports package managers' configs at any depth (not
 * under node_modules, not one a hiding rule decides), the same when it is
 * recalled from its memo in the cache. */
START_TEST(test_package_configs_found_deep)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile secret .env\nfile secret .pypirc\n");
	char dir[512], f[600], cache[512], deep[600], yarn[600], nm[600], py[600];
	snprintf(dir, sizeof(dir), "%s/packages/a/b", ws);
	snprintf(f, sizeof(f), "%s/packages", ws);
	mkdir(f, 0700);
	snprintf(f, sizeof(f), "%s/packages/a", ws);
	mkdir(f, 0700);
	mkdir(dir, 0700);
	put(deep, sizeof(deep), dir, ".npmrc", "//r/:_authToken=abcdefgh12345678\n");
	put(yarn, sizeof(yarn), ws, "packages/.yarnrc.yml", "npmAuthToken: abcdefgh12345678\n");
	snprintf(f, sizeof(f), "%s/node_modules", ws);
	mkdir(f, 0700);
	put(nm, sizeof(nm), ws, "node_modules/.npmrc", "x=y\n");
	put(py, sizeof(py), ws, "packages/a/.pypirc", "password = abcdefgh12345678\n");
	snprintf(cache, sizeof(cache), "%s/cache", root);
	mkdir(cache, 0700);
	for (int round = 0; round < 2; round++) {   /* walked, then recalled */
		sk_sandbox_config cfg;
		sk_profile_env env;
		apply_walked(p, cache, &cfg, &env);
		ck_assert_uint_eq(env.n_package_configs, 2);
		ck_assert(listed(&env, deep));
		ck_assert(listed(&env, yarn));
		ck_assert(!listed(&env, nm));
		ck_assert(!listed(&env, py));   /* hidden by its rule instead */
		sk_profile_env_free(&env);
	}
	sk_profile_free(p);
}
END_TEST

static bool repo_listed(const sk_profile_env *env, const char *dir)
{
	return in_list(env->nested_repos, env->n_nested_repos, dir);
}

/* The walk reports the directories holding a .git below the workspace (a
 * .git directory or a worktree's .git file), not the workspace's own nor
 * one under node_modules; walked, recalled, and walked again once a new
 * one appears (its directory changed). */
START_TEST(test_nested_repositories_found)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile secret .env\n");
	char f[700], cache[512], lib[600], wt[600];
	static const char *const dirs[] = { ".git", "vendor", "vendor/lib", "vendor/lib/.git", "node_modules",
					    "node_modules/.git" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(f, sizeof(f), "%s/%s", ws, dirs[i]);
		mkdir(f, 0700);
	}
	snprintf(lib, sizeof(lib), "%s/vendor/lib", ws);
	snprintf(cache, sizeof(cache), "%s/cache", root);
	mkdir(cache, 0700);
	for (int round = 0; round < 3; round++) {   /* walked, recalled, walked */
		snprintf(wt, sizeof(wt), "%s/tool", ws);
		if (round == 2) {
			mkdir(wt, 0700);
			put(f, sizeof(f), wt, ".git", "gitdir: ../.git/worktrees/tool\n");
		}
		sk_sandbox_config cfg;
		sk_profile_env env;
		apply_walked(p, cache, &cfg, &env);
		ck_assert_uint_eq(env.n_nested_repos, round == 2 ? 2 : 1);
		ck_assert(repo_listed(&env, lib));
		ck_assert(!repo_listed(&env, ws));
		ck_assert(round < 2 || repo_listed(&env, wt));
		sk_profile_env_free(&env);
	}
	sk_profile_free(p);
}
END_TEST

static const sk_fs_rule *fs_rule(const sk_sandbox_config *cfg, const char *path)
{
	for (size_t i = 0; i < cfg->n_fs; i++)
		if (!strcmp(cfg->fs[i].path, path))
			return &cfg->fs[i];
	return NULL;
}

/* A *.pem, *.key or *.p8 holding a PEM private key is a secret by its
 * content, walked or recalled; a certificate, or a key a rule names, is
 * not. */
START_TEST(test_private_key_by_content)
{
	sk_profile *p = load("file read-write ${WORKSPACE}\nfile secret .env\nfile read-only dev.key\n");
	char certs[512], key[600], ca[600], named[600], cache[512];
	snprintf(certs, sizeof(certs), "%s/certs", ws);
	mkdir(certs, 0700);
	put(key, sizeof(key), certs, "server.key", "-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----\n");
	put(ca, sizeof(ca), certs, "ca.pem", "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n");
	put(named, sizeof(named), certs, "dev.key", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
	snprintf(cache, sizeof(cache), "%s/cache", root);
	mkdir(cache, 0700);
	for (int round = 0; round < 2; round++) {   /* walked, then recalled */
		sk_sandbox_config cfg;
		sk_profile_env env;
		apply_walked(p, cache, &cfg, &env);
		const sk_fs_rule *r = fs_rule(&cfg, key);
		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(r->access, SK_FS_HIDE);
		ck_assert_ptr_null(fs_rule(&cfg, ca));
		ck_assert_ptr_null(fs_rule(&cfg, named));
		bool secret = false;
		for (size_t i = 0; i < env.n_secret_files; i++)
			secret = secret || !strcmp(env.secret_files[i], key);
		ck_assert(secret);
		sk_profile_env_free(&env);
	}
	sk_profile_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("profile_bind");
	TCase *tc = tcase_create("bind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hard_link_keeps_the_verdict);
	tcase_add_test(tc, test_symlinked_alternative_keeps_the_name);
	tcase_add_test(tc, test_apply);
	tcase_add_test(tc, test_force);
	tcase_add_test(tc, test_package_configs_found_deep);
	tcase_add_test(tc, test_nested_repositories_found);
	tcase_add_test(tc, test_private_key_by_content);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
