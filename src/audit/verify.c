/* stockade verify: the logs given, in order, as one chain.  Each line must
 * be canonical JCS with a correct body hash and a trusted key id; each
 * record's "prev" must be the SHA-256 of the whole line before it (so it
 * covers that line's signature), also across files; seq and Merkle leaf
 * numbers must run on; every checkpoint must match the tree of the file's
 * receipts.  Signatures are checked on the anchors (checkpoints and each
 * file's last record), which through the chain cover every earlier byte, or
 * on every record with SK_VERIFY_EVERY_SIGNATURE.  The first failure is
 * named by file:line. */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>

#include "internal.h"

enum { SIG_B64_LEN = 88 };   /* 64 bytes in padded base64 */

typedef struct pending_sig {
	bool have;
	uint64_t line;
	const sk_audit_key *key;
	char sig[96];            /* base64, decoded only when it is checked */
	char *body;              /* the signed bytes */
	size_t len, cap;
} pending_sig;

typedef struct vstate {
	const sk_audit_key *keys;
	size_t n_keys;
	unsigned flags;
	bool have_prev;
	uint64_t seq;
	char prev_line_hash[SK_HASH_HEX_LEN + 1];
	sk_merkle tree;
	pending_sig last;     /* the file's latest record, checked at EOF if no later anchor */
	char *body;
	size_t body_cap;
	sk_verify_result *res;
} vstate;

static int bad(vstate *v, const char *file, uint64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(vstate *v, const char *file, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v->res->ok = false;
	snprintf(v->res->bad_file, sizeof(v->res->bad_file), "%s", file);
	v->res->bad_line = line;
	vsnprintf(v->res->what, sizeof(v->res->what), fmt, ap);
	va_end(ap);
	return 1;
}

static const sk_audit_key *find_key(const vstate *v, const char *id)
{
	for (size_t i = 0; id && i < v->n_keys; i++)
		if (!strcmp(v->keys[i].id, id))
			return &v->keys[i];
	return NULL;
}

static int check_checkpoint(vstate *v, const json_t *rec, const char *file, uint64_t line)
{
	json_t *size = json_object_get(rec, "tree_size");
	const char *root = json_string_value(json_object_get(rec, "root"));
	if (!json_is_integer(size) || !root)
		return bad(v, file, line, "checkpoint without tree_size or root");
	if ((uint64_t)json_integer_value(size) != v->tree.size)
		return bad(v, file, line, "checkpoint covers %" JSON_INTEGER_FORMAT " receipts, the file has %" PRIu64
			   " before it", json_integer_value(size), v->tree.size);
	unsigned char h[32];
	char hex[65];
	sk_merkle_root(&v->tree, h);
	sk_hex(h, 32, hex);
	if (strcmp(hex, root))
		return bad(v, file, line, "checkpoint root %.16s... does not match the receipts' tree head %.16s...",
			   root, hex);
	json_t *want = sk_merkle_frontier_json(&v->tree);
	bool same = json_equal(want, json_object_get(rec, "frontier"));
	json_decref(want);
	if (!same)
		return bad(v, file, line, "checkpoint frontier does not match the receipts' tree");
	v->res->checkpoints++;
	return 0;
}

static int check_sig(vstate *v, const pending_sig *p, const char *file)
{
	unsigned char s[64];
	size_t slen = 0;
	if (sodium_base642bin(s, sizeof(s), p->sig, strlen(p->sig), NULL, &slen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0 || slen != 64)
		return bad(v, file, p->line, "signature is not 64 bytes of base64");
	if (crypto_sign_ed25519_verify_detached(s, (const unsigned char *)p->body, p->len, p->key->pk) != 0)
		return bad(v, file, p->line, "bad signature for key %s", p->key->id);
	return 0;
}

static int grow(char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	char *nb = realloc(*buf, need);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = need;
	return 0;
}

/* The signed body of a fast-checked line: the line without the "hash" and
 * "sig" spans.  out must hold len + 1 bytes. */
static size_t cut_body(const char *text, size_t len, const sk_fast_record *fr, char *out)
{
	size_t a = fr->hash_at, b = fr->sig_at - fr->hash_end, c = len - fr->sig_end;
	memcpy(out, text, a);
	memcpy(out + a, text + fr->hash_end, b);
	memcpy(out + a + b, text + fr->sig_end, c);
	out[a + b + c] = '\0';
	return a + b + c;
}

/* Remember a record's signed bytes as the file's latest record: checked
 * when it turns out to be the file's last, or when the next link breaks. */
static pending_sig *keep_last(vstate *v, uint64_t line, const sk_audit_key *key, const char *sig,
			      size_t body_len)
{
	pending_sig *p = &v->last;
	if (grow(&p->body, &p->cap, body_len + 1) < 0)
		return NULL;
	p->len = body_len;
	p->line = line;
	p->key = key;
	snprintf(p->sig, sizeof(p->sig), "%s", sig);
	p->have = true;
	return p;
}

/* Body hash, key, and the signature when it is due, of a canonical line. */
static int check_seal_fields(vstate *v, const char *text, size_t len, const char *hash,
			     const char *sig, const char *kid, const char *file, uint64_t line, bool anchor)
{
	if (len + 1 > v->body_cap) {
		char *nb = realloc(v->body, len + 1);
		if (!nb)
			return -ENOMEM;
		v->body = nb;
		v->body_cap = len + 1;
	}
	ssize_t blen = sk_audit_body_of(text, len, v->body);
	if (blen < 0 || !hash || !sig || !kid)
		return bad(v, file, line, "missing %s", !hash ? "hash" : !sig ? "sig" : "key_id");
	char hex[SK_HASH_HEX_LEN + 1];
	sk_line_hash(v->body, (size_t)blen, hex);
	if (strcmp(hex, hash))
		return bad(v, file, line, "hash mismatch: content hashes to %.16s..., record says %.16s...", hex,
			   hash);
	const sk_audit_key *key = find_key(v, kid);
	if (!key)
		return bad(v, file, line, "signed by key %s, which is not among the trusted keys", kid);
	if (strlen(sig) != SIG_B64_LEN)
		return bad(v, file, line, "signature is not 64 bytes of base64");
	if (anchor || (v->flags & SK_VERIFY_EVERY_SIGNATURE)) {
		pending_sig now = { .line = line, .key = key, .body = v->body, .len = (size_t)blen };
		snprintf(now.sig, sizeof(now.sig), "%s", sig);
		v->last.have = false;
		return check_sig(v, &now, file);
	}
	pending_sig *p = keep_last(v, line, key, sig, (size_t)blen);
	if (!p)
		return -ENOMEM;
	memcpy(p->body, v->body, (size_t)blen + 1);
	return 0;
}

/* Canonical form, then the seal. */
static int check_seal(vstate *v, const json_t *rec, const char *text, size_t len, const char *file,
		      uint64_t line, bool anchor)
{
	sk_error e = { 0 };
	_cleanup_free_ char *canon = NULL;
	size_t clen = 0;
	if (sk_jcs_serialize(rec, &canon, &clen, &e) < 0)
		return bad(v, file, line, "%s", e.msg);
	if (clen != len || memcmp(canon, text, len))
		return bad(v, file, line, "not in canonical (RFC 8785) form: the line was edited");
	return check_seal_fields(v, text, len, json_string_value(json_object_get(rec, "hash")),
				 json_string_value(json_object_get(rec, "sig")),
				 json_string_value(json_object_get(rec, "key_id")), file, line, anchor);
}

static int check_link_values(vstate *v, uint64_t seq, const char *prev, const char *file, uint64_t line)
{
	bool broken = v->have_prev && (seq != v->seq + 1 || strcmp(prev, v->prev_line_hash));
	/* A broken link means this line or the one before was changed: the
	 * one before is authentic if its signature holds. */
	if (broken && v->last.have && check_sig(v, &v->last, file))
		return 1;
	if (v->have_prev && seq != v->seq + 1)
		return bad(v, file, line, "seq %" PRIu64 " follows seq %" PRIu64 ": a record is missing, "
			   "duplicated or out of order", seq, v->seq);
	if (v->have_prev && strcmp(prev, v->prev_line_hash))
		return bad(v, file, line, "prev %.16s... is not the hash of the line before (%.16s...): "
			   "the chain is broken", prev, v->prev_line_hash);
	if (!v->have_prev && seq == 1 && strspn(prev, "0") != SK_HASH_HEX_LEN)
		return bad(v, file, line, "the first record (seq 1) must have an all-zero prev");
	v->seq = seq;
	return 0;
}

static int check_links(vstate *v, const json_t *rec, const char *file, uint64_t line)
{
	json_t *seqv = json_object_get(rec, "seq");
	const char *prev = json_string_value(json_object_get(rec, "prev"));
	if (!json_is_integer(seqv) || !prev)
		return bad(v, file, line, "no seq or prev");
	return check_link_values(v, (uint64_t)json_integer_value(seqv), prev, file, line);
}

/* Body hash and line hash of a line whose hash and sig spans are known, in
 * one pass over the bytes they share: the body is the line up to "hash",
 * then the line between the spans and after "sig". */
static int check_seal_cut(vstate *v, const sk_fast_record *fr, const char *text, size_t len,
			  const char *file, uint64_t line, unsigned char line_hash[32])
{
	sk_sha256_ctx body, whole;
	unsigned char h[32];
	char hex[SK_HASH_HEX_LEN + 1];
	sk_sha256_init(&body);
	sk_sha256_update(&body, text, fr->hash_at);
	whole = body;
	sk_sha256_update(&whole, text + fr->hash_at, len - fr->hash_at);
	sk_sha256_final(&whole, line_hash);
	sk_sha256_update(&body, text + fr->hash_end, fr->sig_at - fr->hash_end);
	sk_sha256_update(&body, text + fr->sig_end, len - fr->sig_end);
	sk_sha256_final(&body, h);
	sk_hex(h, 32, hex);
	if (strcmp(hex, fr->hash))
		return bad(v, file, line, "hash mismatch: content hashes to %.16s..., record says %.16s...", hex,
			   fr->hash);
	const sk_audit_key *key = find_key(v, fr->key_id);
	if (!key)
		return bad(v, file, line, "signed by key %s, which is not among the trusted keys", fr->key_id);
	if (strlen(fr->sig) != SIG_B64_LEN)
		return bad(v, file, line, "signature is not 64 bytes of base64");
	if (v->flags & SK_VERIFY_EVERY_SIGNATURE) {
		if (grow(&v->body, &v->body_cap, len + 1) < 0)
			return -ENOMEM;
		pending_sig now = { .line = line, .key = key, .body = v->body };
		now.len = cut_body(text, len, fr, v->body);
		snprintf(now.sig, sizeof(now.sig), "%s", fr->sig);
		v->last.have = false;
		return check_sig(v, &now, file);
	}
	pending_sig *p = keep_last(v, line, key, fr->sig, len);
	if (!p)
		return -ENOMEM;
	p->len = cut_body(text, len, fr, p->body);
	return 0;
}

/* A receipt (not a checkpoint) whose line jcs_check.c found canonical:
 * the same checks as below without building a JSON tree. */
static int check_receipt_fast(vstate *v, const sk_fast_record *fr, const char *text, size_t len,
			      const char *file, uint64_t line)
{
	int r = check_link_values(v, (uint64_t)fr->seq, fr->prev, file, line);
	if (r)
		return r;
	unsigned char lh[32];
	if (fr->has_cuts) {
		r = check_seal_cut(v, fr, text, len, file, line, lh);
	} else {
		r = check_seal_fields(v, text, len, fr->hash, fr->sig, fr->key_id, file, line, false);
		sk_sha256((const unsigned char *)text, len, lh);
	}
	if (r)
		return r;
	if ((uint64_t)fr->leaf != v->tree.size)
		return bad(v, file, line, "leaf index %" PRId64 " where %" PRIu64 " was due", fr->leaf, v->tree.size);
	if (sk_merkle_add(&v->tree, lh) < 0)
		return -ENOMEM;
	v->res->receipts++;
	v->have_prev = true;
	sk_hex(lh, 32, v->prev_line_hash);
	v->res->records++;
	return 0;
}

static int check_record(vstate *v, const char *text, size_t len, const char *file, uint64_t line)
{
	sk_fast_record fr;
	if (sk_jcs_fast_check(text, len, &fr) && fr.has_v && fr.v == SK_AUDIT_FORMAT && fr.has_seq &&
	    fr.has_leaf && fr.prev[0] && fr.hash[0] && fr.sig[0] && fr.key_id[0] && fr.type[0] &&
	    strcmp(fr.type, "checkpoint"))
		return check_receipt_fast(v, &fr, text, len, file, line);
	sk_error e = { 0 };
	_cleanup_(json_decrefp) json_t *rec = sk_log_parse_line(text, len, &e);
	if (!rec)
		return bad(v, file, line, "%s", e.msg);
	if (json_integer_value(json_object_get(rec, "v")) != SK_AUDIT_FORMAT)
		return bad(v, file, line, "unknown format version");
	bool is_cp = sk_log_is(rec, "checkpoint");
	int r = check_links(v, rec, file, line);
	if (r)
		return r;
	r = check_seal(v, rec, text, len, file, line, is_cp);
	if (r)
		return r;
	unsigned char lh[32];
	sk_sha256((const unsigned char *)text, len, lh);
	if (is_cp) {
		if (check_checkpoint(v, rec, file, line))
			return 1;
	} else {
		json_t *leaf = json_object_get(rec, "leaf");
		if (!json_is_integer(leaf) || (uint64_t)json_integer_value(leaf) != v->tree.size)
			return bad(v, file, line, "leaf index %" JSON_INTEGER_FORMAT " where %" PRIu64 " was due",
				   json_integer_value(leaf), v->tree.size);
		if (sk_merkle_add(&v->tree, lh) < 0)
			return -ENOMEM;
		v->res->receipts++;
	}
	v->have_prev = true;
	sk_hex(lh, 32, v->prev_line_hash);
	v->res->records++;
	return 0;
}

static int verify_file(vstate *v, const char *file, sk_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return sk_fail_errno(err, errno, "cannot open %s", file);
	sk_merkle_free(&v->tree);   /* each file has its own tree */
	v->last.have = false;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (line[len - 1] != '\n')
			return bad(v, file, lineno, "torn last line (no newline): the log was cut mid-record");
		int r = check_record(v, line, (size_t)len - 1, file, lineno);
		if (r)
			return r;
	}
	if (ferror(f))
		return sk_fail_errno(err, errno, "cannot read %s", file);
	if (lineno == 0)
		return bad(v, file, 1, "empty log file");
	/* The file's last record is an anchor. */
	if (v->last.have && check_sig(v, &v->last, file))
		return 1;
	v->res->files++;
	return 0;
}

int sk_audit_verify(const char *const *files, size_t n_files, const sk_audit_key *keys,
		    size_t n_keys, unsigned flags, sk_verify_result *res, sk_error *err)
{
	if (sodium_init() < 0)
		return sk_fail(err, EIO, "libsodium failed to initialise");
	memset(res, 0, sizeof(*res));
	res->ok = true;
	vstate v = { .keys = keys, .n_keys = n_keys, .flags = flags, .res = res };
	sk_merkle_init(&v.tree);
	int r = 0;
	for (size_t i = 0; i < n_files && r == 0; i++)
		r = verify_file(&v, files[i], err);
	sk_merkle_free(&v.tree);
	free(v.last.body);
	free(v.body);
	if (r < 0)
		return r == -ENOMEM ? sk_fail(err, ENOMEM, "out of memory") : r;
	return 0;
}
