/* The seccomp programs through a cache on disk.  libseccomp takes about two
 * milliseconds to build and export them (rule database, then code
 * generation), on the path of every `stockade run`, for what is the same
 * program every time.  The key covers everything the program depends on:
 * the build id of this binary (the rule tables and their code), the
 * version and API level of libseccomp, and the sandbox config's inputs to
 * sk_seccomp_generate.  A binary without a build id does not cache.
 *
 * The cache lives with the redactor's (sk_cache_dir, the caller's own,
 * 0700): whoever can write it can already replace the caller's binaries.
 * An entry that is not exactly a well-formed pair of programs under its own
 * key is ignored and rewritten. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define MAGIC "SKBPF001"
enum { KEY_LEN = 32, HEAD_LEN = 8 + KEY_LEN };

static void hash_str(crypto_generichash_state *st, const char *s)
{
	uint64_t len = s ? strlen(s) : UINT64_MAX;
	crypto_generichash_update(st, (const unsigned char *)&len, sizeof(len));
	if (s)
		crypto_generichash_update(st, (const unsigned char *)s, strlen(s));
}

static void hash_list(crypto_generichash_state *st, const char *const *v, size_t n)
{
	uint64_t count = n;
	crypto_generichash_update(st, (const unsigned char *)&count, sizeof(count));
	for (size_t i = 0; i < n; i++)
		hash_str(st, v[i]);
}

static bool cache_key(const sk_sandbox_config *cfg, unsigned char key[KEY_LEN])
{
	unsigned char id[SK_BUILD_ID_MAX];
	size_t id_len = sk_build_id(id, sizeof(id));
	if (!id_len || sodium_init() < 0)
		return false;
	const struct scmp_version *v = seccomp_version();
	uint32_t facts[6] = { v->major, v->minor, v->micro, (uint32_t)seccomp_api_get(), cfg->sup.enabled,
			      cfg->net != SK_NET_NONE };
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, KEY_LEN);
	hash_str(&st, MAGIC);
	crypto_generichash_update(&st, id, id_len);
	crypto_generichash_update(&st, (const unsigned char *)facts, sizeof(facts));
	hash_list(&st, cfg->allow_syscalls, cfg->n_allow_syscalls);
	hash_list(&st, cfg->deny_syscalls, cfg->n_deny_syscalls);
	crypto_generichash_final(&st, key, KEY_LEN);
	return true;
}

static char *entry_path(const char *dir, const unsigned char key[KEY_LEN])
{
	char hex[2 * KEY_LEN + 1], *path;
	sodium_bin2hex(hex, sizeof(hex), key, KEY_LEN);
	return asprintf(&path, "%s/seccomp-%s.bpf", dir, hex) < 0 ? NULL : path;
}

static bool load(const char *path, const unsigned char key[KEY_LEN], bool with_notify, sk_bpf_wire *out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= HEAD_LEN || (uint64_t)st.st_size > HEAD_LEN + 2 * (4 + SK_BPF_MAX))
		return false;
	char *buf = malloc((size_t)st.st_size);
	if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size || memcmp(buf, MAGIC, 8) ||
	    memcmp(buf + 8, key, KEY_LEN)) {
		free(buf);
		return false;
	}
	memmove(buf, buf + HEAD_LEN, (size_t)st.st_size - HEAD_LEN);
	*out = (sk_bpf_wire){ .bytes = buf, .len = (size_t)st.st_size - HEAD_LEN };
	if (sk_bpf_wire_valid(out, with_notify))
		return true;
	free(buf);
	*out = (sk_bpf_wire){ 0 };
	return false;
}

static void store(const char *dir, const char *path, const unsigned char key[KEY_LEN], const sk_bpf_wire *w)
{
	char *buf = malloc(HEAD_LEN + w->len);
	if (!buf)
		return;
	memcpy(buf, MAGIC, 8);
	memcpy(buf + 8, key, KEY_LEN);
	memcpy(buf + HEAD_LEN, w->bytes, w->len);
	if (sk_mkdir_p(dir, 0700) == 0)
		sk_write_atomic(dir, path, buf, HEAD_LEN + w->len);   /* a cache: failing to keep it is fine */
	free(buf);
}

int sk_seccomp_wire(const sk_sandbox_config *cfg, sk_bpf_wire *out, sk_error *err)
{
	unsigned char key[KEY_LEN];
	_cleanup_free_ char *dir = NULL, *path = NULL;
	bool cached = cache_key(cfg, key) && sk_cache_dir(NULL, &dir) == 0 && (path = entry_path(dir, key));
	if (cached && load(path, key, cfg->sup.enabled, out))
		return 0;
	int r = sk_seccomp_generate(cfg, out, err);
	if (r == 0 && cached)
		store(dir, path, key, out);
	return r;
}
