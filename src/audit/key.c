/* The signing key: ed25519 (libsodium), made on first use under the state
 * directory (dir 0700, secret key 0600).  The key id is the first 16 hex
 * digits of SHA-256 over the 32 raw public-key bytes. */
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/audit.h"

/* DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410). */
static const unsigned char spki_prefix[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
};

void sk_audit_key_id(const unsigned char pk[32], char id[SK_KEY_ID_LEN + 1])
{
	unsigned char h[32];
	crypto_hash_sha256(h, pk, 32);
	sk_hex(h, SK_KEY_ID_LEN / 2, id);
}

static int write_secret(const char *path, const unsigned char sk[64], sk_error *err)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return sk_fail(err, ENAMETOOLONG, "path too long: %s", path);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_fail_errno(err, errno, "cannot create %s", tmp);
	int r = sk_write_all(fd, sk, 64);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && link(tmp, path) < 0)   /* link: never replace a key another writer made */
		r = -errno;
	unlink(tmp);
	if (r == -EEXIST)
		return r;
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot write the signing key %s", path);
	return 0;
}

static int write_public(const char *state_dir, const sk_audit_key *key)
{
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, SK_AUDIT_PUB_NAME) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	_cleanup_free_ char *pem = sk_audit_pubkey_pem(key);
	if (!pem)
		return -ENOMEM;
	char tmp[4300];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = sk_write_all(fd, pem, strlen(pem));
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

int sk_audit_key_load_or_create(const char *state_dir, sk_audit_key *key, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_fail(err, EIO, "libsodium failed to initialise");
	int r = sk_mkdir_p(state_dir, 0700);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot create the state directory %s", state_dir);
	char path[4200];
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, SK_AUDIT_KEY_NAME) >= (int)sizeof(path))
		return sk_fail(err, ENAMETOOLONG, "state directory path too long");
	memset(key, 0, sizeof(*key));
	for (int attempt = 0; attempt < 2; attempt++) {
		_cleanup_free_ char *data = NULL;
		size_t len = 0;
		r = sk_read_file(path, 4096, &data, &len);
		if (r == 0) {
			if (len != 64)
				return sk_fail(err, EINVAL, "%s: a signing key is 64 bytes, this is %zu; "
					       "move it away to make a new key", path, len);
			struct stat st;
			if (stat(path, &st) == 0 && (st.st_mode & 077))
				return sk_fail(err, EPERM, "%s: the signing key is readable by others "
					       "(mode %03o); chmod 600 it", path, st.st_mode & 0777);
			memcpy(key->sk, data, 64);
			sodium_memzero(data, len);
			crypto_sign_ed25519_sk_to_pk(key->pk, key->sk);
			key->has_secret = true;
			sk_audit_key_id(key->pk, key->id);
			char pub[4200];
			if (snprintf(pub, sizeof(pub), "%s/%s", state_dir, SK_AUDIT_PUB_NAME) < (int)sizeof(pub) &&
			    access(pub, F_OK) < 0)
				(void)write_public(state_dir, key);   /* a convenience copy only */
			return 0;
		}
		if (r != -ENOENT)
			return sk_fail_errno(err, -r, "cannot read the signing key %s", path);
		unsigned char pk[32], sk[64];
		crypto_sign_keypair(pk, sk);
		r = write_secret(path, sk, err);
		sodium_memzero(sk, sizeof(sk));
		if (r < 0 && r != -EEXIST)
			return r;
		/* Made it, or lost a race to another writer: read whichever won. */
	}
	return sk_fail(err, EIO, "the signing key %s keeps changing", path);
}

char *sk_audit_pubkey_pem(const sk_audit_key *key)
{
	unsigned char der[44];
	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + 12, key->pk, 32);
	char b64[sodium_base64_ENCODED_LEN(44, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), der, sizeof(der), sodium_base64_VARIANT_ORIGINAL);
	char *out = NULL;
	if (asprintf(&out, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64) < 0)
		return NULL;
	return out;
}

/* Base64 of the key material between PEM armour lines, or the whole text. */
static int decode_key_text(const char *text, unsigned char *bin, size_t cap, size_t *len)
{
	const char *start = text, *end = text + strlen(text);
	const char *begin = strstr(text, "-----BEGIN PUBLIC KEY-----");
	if (begin) {
		start = begin + strlen("-----BEGIN PUBLIC KEY-----");
		const char *stop = strstr(start, "-----END PUBLIC KEY-----");
		if (!stop)
			return -EINVAL;
		end = stop;
	}
	return sodium_base642bin(bin, cap, start, (size_t)(end - start), " \t\r\n", len, NULL,
				 sodium_base64_VARIANT_ORIGINAL) < 0 ? -EINVAL : 0;
}

int sk_audit_pubkey_load(const char *path, sk_audit_key *key, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_fail(err, EIO, "libsodium failed to initialise");
	_cleanup_free_ char *text = NULL;
	int r = sk_read_file(path, 65536, &text, NULL);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot read the public key %s", path);
	unsigned char bin[64];
	size_t len = 0;
	if (decode_key_text(text, bin, sizeof(bin), &len) < 0)
		return sk_fail(err, EINVAL, "%s: not a PEM or base64 ed25519 public key", path);
	memset(key, 0, sizeof(*key));
	if (len == 44 && !memcmp(bin, spki_prefix, sizeof(spki_prefix)))
		memcpy(key->pk, bin + 12, 32);
	else if (len == 32)
		memcpy(key->pk, bin, 32);
	else
		return sk_fail(err, EINVAL, "%s: not an ed25519 public key (%zu bytes)", path, len);
	sk_audit_key_id(key->pk, key->id);
	return 0;
}
