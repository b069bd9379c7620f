/* Internal to src/audit: reading the end of a log under the writer's lock. */
#ifndef STOCKADE_AUDIT_INTERNAL_H
#define STOCKADE_AUDIT_INTERNAL_H

#include <sodium.h>
#include <sys/types.h>

#include "stockade/audit.h"

/* What the next record must chain to. */
typedef struct sk_log_tail {
	bool have;                /* a previous record exists (here or rotated) */
	uint64_t seq;             /* its seq */
	char hash[SK_HASH_HEX_LEN + 1];   /* its line hash: what "prev" names */
	uint64_t leaves;          /* receipts (tree leaves) in the current file */
	bool last_is_checkpoint;
} sk_log_tail;

/* If the file does not end in '\n', cut the torn line; *cut = bytes cut. */
int sk_log_cut_torn(int fd, uint64_t *cut, sk_error *err);
/* Tail of the file fd (ends in '\n' or is empty). leaves stays 0 for a
 * rotated file's tail, which the caller reads only for seq and hash. */
int sk_log_read_tail(int fd, const char *path, sk_log_tail *t, sk_error *err);
/* The Merkle tree of the file's receipts, from its last checkpoint on. */
int sk_log_load_tree(int fd, const char *path, sk_merkle *m, sk_error *err);
/* Parse one line into a record (a JSON object); NULL with err on failure. */
json_t *sk_log_parse_line(const char *line, size_t len, sk_error *err);
/* Is rec a record of this type (top-level "type")? */
bool sk_log_is(const json_t *rec, const char *type);
/* SHA-256 (hex) of a whole line without its newline: "prev" of the next
 * record and the record's Merkle leaf, so both cover the signature too. */
void sk_line_hash(const char *line, size_t len, char hex[SK_HASH_HEX_LEN + 1]);
/* The verifier's fast path (jcs_check.c): true only when line is exactly
 * canonical JCS (integers only) -- what sk_jcs_serialize() prints for it --
 * with the top-level members below picked out (empty / false when absent
 * or escaped).  false means "not sure": take the full path. */
typedef struct sk_fast_record {
	char type[32], prev[SK_HASH_HEX_LEN + 1], hash[SK_HASH_HEX_LEN + 1];
	char sig[96], key_id[SK_KEY_ID_LEN + 1];
	bool has_v, has_seq, has_leaf;
	int64_t v, seq, leaf;
	/* The "hash" and "sig" members with the comma after them, as offsets
	 * [at, end) into the line; has_cuts when both are there, in that
	 * order, and neither is the last member.  The signed body is the line
	 * without both spans. */
	bool has_cuts;
	size_t hash_at, hash_end, sig_at, sig_end;
} sk_fast_record;
bool sk_jcs_fast_check(const char *line, size_t len, sk_fast_record *out);

/* SHA-256, streamed (sha256.c): the CPU's SHA instructions where it has
 * them, else libsodium.  A context may be copied to fork a common prefix. */
typedef struct sk_sha256_ctx {
	bool sha_ni;
	uint32_t h[8];
	unsigned char buf[64];
	size_t fill;
	uint64_t total;
	crypto_hash_sha256_state sodium;
} sk_sha256_ctx;
void sk_sha256_init(sk_sha256_ctx *c);
void sk_sha256_update(sk_sha256_ctx *c, const void *data, size_t len);
void sk_sha256_final(sk_sha256_ctx *c, unsigned char out[32]);
void sk_sha256(const void *data, size_t len, unsigned char out[32]);

/* Path of the newest rotated file in dir ("" if none). */
int sk_log_newest_rotated(const char *dir, char *out, size_t n);

#endif
