/* libFuzzer target: what the check after a run reads from files the
 * sandboxed command wrote - a git config (the allowlist reader, the
 * object format), an index (every version, extensions), and URLs with
 * credentials (the environment's and the configs' sanitizer).  Any crash,
 * leak or UB (under ASan/UBSan) is a finding, and so is an index whose
 * gitlinks are reported with a length other than their string's.
 * fuzz-parts: util */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/git_allow.c"
#include "../../src/cli/git_config.c"
#include "../../src/cli/git_index.c"

static int on_link(void *ctx, const char *path, size_t len)
{
	(void)ctx;
	if (strlen(path) != len)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[160], shared[65];
	sk_git_config_check((const char *)data, size, why, sizeof(why));
	sk_git_hash_len((const char *)data, size);
	sk_git_index_gitlinks(data, size, 20, shared, on_link, NULL);
	sk_git_index_gitlinks(data, size, 32, shared, on_link, NULL);
	/* A pack index looked up for an id taken from its own end. */
	static const uint8_t zero[32];
	sk_git_idx_has(data, size, 20, size >= 20 ? data + size - 20 : zero);
	sk_git_idx_has(data, size, 32, size >= 32 ? data + size - 32 : zero);
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sk_git_secrets s = { 0 };
	int err;
	free(sk_url_userinfo_strip(text, &s, &err));
	free(sk_git_config_sanitize(text, strlen(text), &s, &err));
	sk_git_secrets_free(&s);
	free(text);
	return 0;
}
