/* Which values of a secret file count as credentials, and finding them
 * (in their encoded forms too) in another file's content. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "stockade/redact.h"

static bool like(const char *key, const char *v)
{
	return sk_secret_value_like(key, key ? strlen(key) : 0, v, strlen(v));
}

START_TEST(test_credentials_count)
{
	/* random-looking, whatever the key */
	ck_assert(like(NULL, "sk-canary-7f3a9c2e4b1d8f60"));
	ck_assert(like("NAME", "ghp_4kD9x2LmQ7vR1sT8wY3zB6nC0pF5hJ2aE9uK"));
	ck_assert(like(NULL, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
	ck_assert(like("id", "550e8400-e29b-41d4-a716-446655440000"));
	ck_assert(like(NULL, "3f786850e387550fdab836ed7e6dc881de23001b"));
	/* under a key that says secret, two kinds of character */
	ck_assert(like("DB_PASSWORD", "hunter2!"));
	ck_assert(like("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"));
	ck_assert(like("apiKey", "Abcdefgh"));
	ck_assert(like("client_secret", "s3cr3t-value"));
	ck_assert(like("keys", "Zebra-Crossing"));
	/* URLs with a password or a random part */
	ck_assert(like("DATABASE_URL", "postgres://app:pw@db.internal:5432/app"));
	ck_assert(like("SLACK_WEBHOOK", "https://hooks.slack.com/services/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"));
}
END_TEST

START_TEST(test_look_alikes_do_not_count)
{
	ck_assert(!like("DB_HOST", "db-primary.internal.example.org:5432"));
	ck_assert(!like("APP_ENV", "development"));
	ck_assert(!like("SESSION_DRIVER", "database"));
	ck_assert(!like("AUTH_PROVIDER", "keycloak"));
	ck_assert(!like("DB_PASSWORD", "postgres"));           /* one kind: left to the redactor */
	ck_assert(!like("KEY_FILE", "/run/secrets/key.pem"));  /* a path */
	ck_assert(!like("AUTH_URL", "https://auth.example.com/callback"));
	ck_assert(!like("monkey", "Banana2Split"));            /* "key" not as a word, not random */
	ck_assert(!like("KEYCLOAK_REALM", "Master2"));
	ck_assert(!like("MAIN_CLASS", "com.example.MyApplicationMain"));
	ck_assert(!like("BUILD_TIME", "2026-12-08T00:17:38Z"));
	ck_assert(!like("CLIENT_ID", "1234567890123456789"));
	ck_assert(!like("PASSPHRASE", "correct horse battery staple"));  /* white space */
	ck_assert(!like("TOKEN", "Ab1"));                                 /* too short */
	ck_assert(!like(NULL, "ip-10-0-12-34.ec2.internal"));
	ck_assert(!like(NULL, "API_KEY"));
}
END_TEST

static const char dotenv[] = "# settings\n"
			     "APP_ENV=development\n"
			     "DB_HOST=db-primary.internal.example.org:5432\n"
			     "API_KEY=sk-canary-7f3a9c2e4b1d8f60\n"
			     "export DB_PASSWORD='Tr0ub4dor&3'\n";

START_TEST(test_find_in_content)
{
	sk_secret_values *sv;
	ck_assert_int_eq(sk_secret_values_new(&sv), 0);
	ck_assert_int_eq(sk_secret_values_add_content(sv, dotenv, strlen(dotenv), 7) >= 2, 1);
	ck_assert_int_eq(sk_secret_values_add_content(sv, "{\"token\": \"Q2xhdWRlLXRva2VuLTEyMzQ1Njc4\"}", 41, 9) >= 1, 1);
	uint32_t tag = 0;
	const char *holds[] = {
		"service:\n  name: billing\n  api_key: sk-canary-7f3a9c2e4b1d8f60\n",
		"password = Tr0ub4dor&3",
		/* base64 of the API key, as a Kubernetes secret holds it */
		"data:\n  key: c2stY2FuYXJ5LTdmM2E5YzJlNGIxZDhmNjA=\n",
		/* hex */
		"736b2d63616e6172792d37663361396332653462316438663630",
	};
	for (size_t i = 0; i < sizeof(holds) / sizeof(*holds); i++) {
		tag = 0;
		ck_assert_msg(sk_secret_values_find(sv, holds[i], strlen(holds[i]), &tag) == 1, "case %zu", i);
		ck_assert_uint_eq(tag, 7);
	}
	const char *js = "const t = 'Q2xhdWRlLXRva2VuLTEyMzQ1Njc4';";
	ck_assert_int_eq(sk_secret_values_find(sv, js, strlen(js), &tag), 1);
	ck_assert_uint_eq(tag, 9);
	const char *clean[] = {
		"# README\nThe database is db-primary.internal.example.org:5432 in development.\n",
		"sk-canary-7f3a9c2e4b1d8f6",   /* one byte short */
		"",
	};
	for (size_t i = 0; i < sizeof(clean) / sizeof(*clean); i++)
		ck_assert_msg(sk_secret_values_find(sv, clean[i], strlen(clean[i]), &tag) == 0, "clean %zu", i);
	/* at every offset of a larger buffer */
	char big[4096];
	const char *v = "sk-canary-7f3a9c2e4b1d8f60";
	for (size_t off = 0; off + strlen(v) <= 300; off++) {
		memset(big, 'x', sizeof(big));
		memcpy(big + off, v, strlen(v));
		ck_assert_msg(sk_secret_values_find(sv, big, off + strlen(v) + (off % 3), &tag) == 1, "offset %zu", off);
	}
	sk_secret_values_free(sv);
}
END_TEST

/* A value in UTF-16 (a Windows tool's file), both byte orders; a text of
 * look-alikes in UTF-16 holds none. */
START_TEST(test_find_in_utf16)
{
	sk_secret_values *sv;
	ck_assert_int_eq(sk_secret_values_new(&sv), 0);
	ck_assert_int_eq(sk_secret_values_add_content(sv, dotenv, strlen(dotenv), 7) >= 2, 1);
	const char *text = "api_key=sk-canary-7f3a9c2e4b1d8f60\r\n", *clean = "APP_ENV=development\r\n";
	for (int big = 0; big < 2; big++) {
		char w[128], wc[128];
		size_t n = strlen(text), nc = strlen(clean);
		for (size_t i = 0; i < n; i++) {
			w[2 * i + big] = text[i];
			w[2 * i + !big] = 0;
		}
		for (size_t i = 0; i < nc; i++) {
			wc[2 * i + big] = clean[i];
			wc[2 * i + !big] = 0;
		}
		uint32_t tag = 0;
		ck_assert_msg(sk_secret_values_find(sv, w, 2 * n, &tag) == 1, "byte order %d", big);
		ck_assert_uint_eq(tag, 7);
		ck_assert_int_eq(sk_secret_values_find(sv, wc, 2 * nc, &tag), 0);
	}
	sk_secret_values_free(sv);
}
END_TEST

START_TEST(test_nothing_counts)
{
	sk_secret_values *sv;
	ck_assert_int_eq(sk_secret_values_new(&sv), 0);
	const char text[] = "APP_ENV=development\nDEBUG=true\nPORT=8080\n";
	ck_assert_int_eq(sk_secret_values_add_content(sv, text, strlen(text), 1), 0);
	ck_assert_uint_eq(sk_secret_values_count(sv), 0);
	uint32_t tag;
	ck_assert_int_eq(sk_secret_values_find(sv, text, strlen(text), &tag), 0);
	sk_secret_values_free(sv);
}
END_TEST

START_TEST(test_one_value_under_a_name)
{
	sk_secret_values *sv;
	ck_assert_int_eq(sk_secret_values_new(&sv), 0);
	const char *tok = "ghp_4kD9x2LmQ7vR1sT8wY3zB6nC0pF5hJ2aE9uK";
	ck_assert_int_eq(sk_secret_values_add_value(sv, "GITHUB_TOKEN", 12, tok, strlen(tok), 3), 1);
	ck_assert_int_eq(sk_secret_values_add_value(sv, "EDITOR", 6, "vim-nox", 7, 4), 0);
	ck_assert_int_eq(sk_secret_values_add_value(sv, "HOSTNAME", 8, "build-host.example.org", 22, 5), 0);
	char text[128];
	snprintf(text, sizeof(text), "url = https://x:%s@github.com/o/r\n", tok);
	uint32_t tag = 0;
	ck_assert_int_eq(sk_secret_values_find(sv, text, strlen(text), &tag), 1);
	ck_assert_uint_eq(tag, 3);
	sk_secret_values_free(sv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("secret_values");
	TCase *tc = tcase_create("secret_values");
	tcase_add_test(tc, test_credentials_count);
	tcase_add_test(tc, test_look_alikes_do_not_count);
	tcase_add_test(tc, test_find_in_utf16);
	tcase_add_test(tc, test_find_in_content);
	tcase_add_test(tc, test_nothing_counts);
	tcase_add_test(tc, test_one_value_under_a_name);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
