/* Hash and signature of one record.  The signed bytes are the JCS form of
 * the record without "hash" and "sig"; "hash" is their SHA-256 (hex) and
 * "sig" their ed25519 signature (base64), by the key named in "key_id". */
#include <sodium.h>
#include <string.h>

#include "internal.h"

int sk_audit_seal(json_t *rec, const sk_audit_key *key, sk_error *err)
{
	if (!key->has_secret)
		return sk_fail(err, EINVAL, "no secret key to sign with");
	if (json_object_get(rec, "hash") || json_object_get(rec, "sig"))
		return sk_fail(err, EINVAL, "record is already sealed");
	if (json_object_set_new(rec, "key_id", json_string(key->id)) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	_cleanup_free_ char *canon = NULL;
	size_t len = 0;
	int r = sk_jcs_serialize(rec, &canon, &len, err);
	if (r < 0)
		return r;
	unsigned char h[32], sig[64];
	char hex[SK_HASH_HEX_LEN + 1];
	char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	sk_sha256((const unsigned char *)canon, len, h);
	crypto_sign_ed25519_detached(sig, NULL, (const unsigned char *)canon, len, key->sk);
	sk_hex(h, 32, hex);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	if (json_object_set_new(rec, "hash", json_string(hex)) < 0 ||
	    json_object_set_new(rec, "sig", json_string(b64)) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	return 0;
}

static const sk_audit_key *find_key(const sk_audit_key *keys, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(keys[i].id, id))
			return &keys[i];
	return NULL;
}

int sk_audit_check_seal(const json_t *rec, const sk_audit_key *keys, size_t n_keys,
			sk_error *err)
{
	const char *hash = json_string_value(json_object_get(rec, "hash"));
	const char *sig = json_string_value(json_object_get(rec, "sig"));
	const char *kid = json_string_value(json_object_get(rec, "key_id"));
	if (!hash || !sig || !kid)
		return sk_fail(err, EBADMSG, "missing %s", !hash ? "hash" : !sig ? "sig" : "key_id");
	json_t *body = json_copy((json_t *)rec);   /* shallow: children shared */
	if (!body)
		return sk_fail(err, ENOMEM, "out of memory");
	json_object_del(body, "hash");
	json_object_del(body, "sig");
	_cleanup_free_ char *canon = NULL;
	size_t len = 0;
	int r = sk_jcs_serialize(body, &canon, &len, err);
	json_decref(body);
	if (r < 0)
		return sk_fail(err, EBADMSG, "cannot canonicalize: %s", err ? err->msg : "");
	unsigned char h[32];
	char hex[SK_HASH_HEX_LEN + 1];
	sk_sha256((const unsigned char *)canon, len, h);
	sk_hex(h, 32, hex);
	if (strcmp(hex, hash))
		return sk_fail(err, EBADMSG, "hash mismatch: content hashes to %.16s..., record says %.16s...",
			       hex, hash);
	const sk_audit_key *key = find_key(keys, n_keys, kid);
	if (!key)
		return sk_fail(err, EBADMSG, "signed by key %s, which is not among the trusted keys", kid);
	unsigned char s[64];
	size_t slen = 0;
	if (sodium_base642bin(s, sizeof(s), sig, strlen(sig), NULL, &slen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0 || slen != 64)
		return sk_fail(err, EBADMSG, "signature is not 64 bytes of base64");
	if (crypto_sign_ed25519_verify_detached(s, (const unsigned char *)canon, len, key->pk) != 0)
		return sk_fail(err, EBADMSG, "bad signature for key %s", kid);
	return 0;
}
