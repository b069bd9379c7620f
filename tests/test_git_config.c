/* The git config the sandbox sees: credentials out, the rest as it was. */
#include <check.h>

#include "check_main.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/git_config.h"

static char *clean(const char *in, sk_git_secrets *s)
{
	int err = 1;
	char *out = sk_git_config_sanitize(in, strlen(in), s, &err);
	ck_assert_int_eq(err, 0);
	return out;
}

static bool has(const sk_git_secrets *s, const char *v)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], v))
			return true;
	return false;
}

START_TEST(test_ci_checkout)
{
	/* What actions/checkout leaves behind, and a remote with a token. */
	sk_git_secrets s = { 0 };
	char *out = clean("[core]\n\tbare = false\n[remote \"origin\"]\n"
			  "\turl = https://x-access-token:ghs_SECRET1@github.com/o/r.git\n"
			  "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
			  "[http \"https://github.com/\"]\n"
			  "\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX1NFQ1JFVDI=\n", &s);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "[core]\n\tbare = false\n[remote \"origin\"]\n"
			      "\turl = https://github.com/o/r.git\n"
			      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
			      "[http \"https://github.com/\"]\n"
			      "\textraheader =\n");
	ck_assert(has(&s, "x-access-token:ghs_SECRET1"));
	ck_assert(has(&s, "ghs_SECRET1"));
	ck_assert(has(&s, "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX1NFQ1JFVDI="));
	ck_assert(has(&s, "x-access-token:ghs_SECRET2"));   /* decoded */
	free(out);
	sk_git_secrets_free(&s);
}
END_TEST

START_TEST(test_headers_keys_and_what_stays)
{
	sk_git_secrets s = { 0 };
	char *out = clean("[url \"https://ghp_TOKEN3@github.com/\"]\n\tinsteadOf = https://github.com/\n"
			  "[sendemail]\n\tsmtpPass = \"hunter2-secret\"\n"
			  "[remote \"b\"]\n\turl = ssh://git@host/r.git\n\tpushurl = ftp://u:pw4@h/x\n"
			  "[remote \"c\"]\n\turl = git@github.com:o/r.git\n", &s);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "[url \"https://github.com/\"]\n\tinsteadOf = https://github.com/\n"
			      "[sendemail]\n\tsmtpPass =\n"
			      "[remote \"b\"]\n\turl = ssh://git@host/r.git\n\tpushurl = ftp://h/x\n"
			      "[remote \"c\"]\n\turl = git@github.com:o/r.git\n");
	ck_assert(has(&s, "ghp_TOKEN3"));
	ck_assert(has(&s, "hunter2-secret"));
	ck_assert(has(&s, "pw4"));
	ck_assert(!has(&s, "git"));
	free(out);
	sk_git_secrets_free(&s);
}
END_TEST

START_TEST(test_nothing_to_take)
{
	sk_git_secrets s = { 0 };
	int err = 1;
	const char *in = "[user]\n\tname = A\n\temail = a@b.c\n[remote \"o\"]\n\turl = https://github.com/o/r.git\n";
	ck_assert_ptr_null(sk_git_config_sanitize(in, strlen(in), &s, &err));
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(test_package_manager_configs)
{
	sk_git_secrets s = { 0 };
	int err = 1;
	const char *npmrc = "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_SECRET5\n"
			    "_auth=dXNlcjpwYXNz\nsave-exact=true\n";
	char *out = sk_config_sanitize(npmrc, strlen(npmrc), "=", &s, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=\n_auth=\n"
			      "save-exact=true\n");
	ck_assert(has(&s, "npm_SECRET5"));
	ck_assert(has(&s, "user:pass"));   /* _auth decoded as basic? no: kept whole */
	free(out);
	sk_git_secrets_free(&s);
	const char *yarnrc = "npmRegistryServer: \"https://u:pw6@r.example/\"\nnpmScopes:\n  acme:\n"
			     "    npmAuthToken: \"SECRET7-token\"\n    npmAlwaysAuth: true\n";
	out = sk_config_sanitize(yarnrc, strlen(yarnrc), ":", &s, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "npmRegistryServer: \"https://r.example/\"\nnpmScopes:\n  acme:\n"
			      "    npmAuthToken:\n    npmAlwaysAuth: true\n");
	ck_assert(has(&s, "SECRET7-token"));
	ck_assert(has(&s, "pw6"));
	free(out);
	sk_git_secrets_free(&s);
	const char *pypirc = "[pypi]\nusername: __token__\npassword = pypi-SECRET8\n";
	out = sk_config_sanitize(pypirc, strlen(pypirc), "=:", &s, &err);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, "[pypi]\nusername: __token__\npassword =\n");
	ck_assert(has(&s, "pypi-SECRET8"));
	free(out);
	sk_git_secrets_free(&s);
}
END_TEST

START_TEST(test_env_urls)
{
	sk_git_secrets s = { 0 };
	int err = 1;
	char *out = sk_url_userinfo_strip("http://user:hunter2pass@proxy:3128", &s, &err);
	ck_assert_int_eq(err, 0);
	ck_assert_str_eq(out, "http://proxy:3128");
	ck_assert(has(&s, "hunter2pass"));
	free(out);
	out = sk_url_userinfo_strip("https://u:tok1@a.example,https://tok2@b.example/x,direct", &s, &err);
	ck_assert_str_eq(out, "https://a.example,https://b.example/x,direct");
	ck_assert(has(&s, "tok1") && has(&s, "tok2"));
	free(out);
	/* Nothing to take: NULL, and an e-mail address or ssh user stays. */
	ck_assert_ptr_null(sk_url_userinfo_strip("https://example.com/x", &s, &err));
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_null(sk_url_userinfo_strip("a@b.example", &s, &err));
	ck_assert_ptr_null(sk_url_userinfo_strip("ssh://git@host/r.git", &s, &err));
	sk_git_secrets_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("git_config");
	TCase *tc = tcase_create("sanitize");
	tcase_add_test(tc, test_ci_checkout);
	tcase_add_test(tc, test_headers_keys_and_what_stays);
	tcase_add_test(tc, test_nothing_to_take);
	tcase_add_test(tc, test_package_manager_configs);
	tcase_add_test(tc, test_env_urls);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
