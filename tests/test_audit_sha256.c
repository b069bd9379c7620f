/* The verifier's hashing shortcuts: SHA-256 on the CPU's SHA instructions
 * (src/audit/sha256.c) against the published vectors and against libsodium
 * on every length and split point around the block boundaries; and the
 * "hash"/"sig" spans the fast canonical check finds, which cut out of a line
 * must give exactly the signed body sk_audit_body_of() gives. */
#include <check.h>

#include "check_main.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "../src/audit/internal.h"

static void hex_of(const unsigned char h[32], char out[65])
{
	sk_hex(h, 32, out);
}

START_TEST(test_sha256_vectors)
{
	static const struct { const char *in, *want; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	unsigned char h[32];
	char hex[65];
	for (size_t i = 0; i < SK_ARRAY_LEN(v); i++) {
		sk_sha256(v[i].in, strlen(v[i].in), h);
		hex_of(h, hex);
		ck_assert_str_eq(hex, v[i].want);
	}
	/* a million 'a', fed in uneven pieces */
	static char a[1000];
	memset(a, 'a', sizeof(a));
	sk_sha256_ctx c;
	sk_sha256_init(&c);
	for (size_t done = 0, step = 1; done < 1000000; step = step % 997 + 1) {
		size_t n = step < 1000000 - done ? step : 1000000 - done;
		sk_sha256_update(&c, a, n);
		done += n;
	}
	sk_sha256_final(&c, h);
	hex_of(h, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_sha256_agrees_with_libsodium)
{
	enum { MAX = 700 };
	unsigned char buf[MAX];
	for (size_t i = 0; i < MAX; i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t len = 0; len < MAX; len++) {
		unsigned char want[32], got[32];
		crypto_hash_sha256(want, buf, len);
		for (size_t cut = 0; cut <= len; cut += len < 140 ? 1 : 61) {
			sk_sha256_ctx c;
			sk_sha256_init(&c);
			sk_sha256_update(&c, buf, cut);
			sk_sha256_ctx fork = c;   /* a copied context goes on alone */
			sk_sha256_update(&c, buf + cut, len - cut);
			sk_sha256_final(&c, got);
			ck_assert_msg(!memcmp(want, got, 32), "length %zu split at %zu", len, cut);
			sk_sha256_update(&fork, buf + cut, len - cut);
			sk_sha256_final(&fork, got);
			ck_assert_msg(!memcmp(want, got, 32), "forked context, length %zu split at %zu", len, cut);
		}
	}
}
END_TEST

/* The body cut out along the spans, as the verifier does. */
static char *cut_body(const char *line, const sk_fast_record *fr)
{
	size_t len = strlen(line);
	char *out = calloc(1, len + 1);
	size_t o = 0;
	memcpy(out + o, line, fr->hash_at), o += fr->hash_at;
	memcpy(out + o, line + fr->hash_end, fr->sig_at - fr->hash_end), o += fr->sig_at - fr->hash_end;
	memcpy(out + o, line + fr->sig_end, len - fr->sig_end);
	return out;
}

START_TEST(test_fast_check_cuts_equal_body_of)
{
	static const char *const lines[] = {
		"{\"a\":1,\"hash\":\"00ff\",\"key_id\":\"k\",\"sig\":\"QQ==\",\"type\":\"x\",\"v\":1}",
		"{\"hash\":\"00ff\",\"sig\":\"QQ==\",\"z\":{\"hash\":\"in\",\"sig\":[1]}}",
		"{\"event\":{\"argv\":[\"a,b\",\"}\"]},\"hash\":\"\xc3\xa9\",\"prev\":\"p\",\"sig\":\"s\",\"\xef\xac\x81\":2}",
	};
	for (size_t i = 0; i < SK_ARRAY_LEN(lines); i++) {
		sk_fast_record fr;
		ck_assert_msg(sk_jcs_fast_check(lines[i], strlen(lines[i]), &fr), "refused %s", lines[i]);
		ck_assert_msg(fr.has_cuts, "no cuts in %s", lines[i]);
		char *want = malloc(strlen(lines[i]) + 1);
		ck_assert_int_ge(sk_audit_body_of(lines[i], strlen(lines[i]), want), 0);
		char *got = cut_body(lines[i], &fr);
		ck_assert_str_eq(got, want);
		free(got);
		free(want);
	}
	/* "sig" last, or one of them missing: no cuts (the verifier takes the
	 * general path) */
	static const char *const no_cuts[] = { "{\"hash\":\"00\",\"sig\":\"s\"}", "{\"a\":1,\"sig\":\"s\",\"z\":2}",
					       "{\"hash\":\"00\",\"z\":2}" };
	for (size_t i = 0; i < SK_ARRAY_LEN(no_cuts); i++) {
		sk_fast_record fr;
		ck_assert(sk_jcs_fast_check(no_cuts[i], strlen(no_cuts[i]), &fr));
		ck_assert_msg(!fr.has_cuts, "cuts in %s", no_cuts[i]);
	}
}
END_TEST

static Suite *sha_suite(void)
{
	Suite *s = suite_create("audit_sha256");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_agrees_with_libsodium);
	tcase_add_test(tc, test_fast_check_cuts_equal_body_of);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (sodium_init() < 0)
		return EXIT_FAILURE;
	return sk_check_run(sha_suite());
}
