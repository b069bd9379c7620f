/* stockade — receipts: the durable, signed record of every decision.
 *
 * A receipt log is JSON Lines.  Every line is the RFC 8785 (JCS) canonical
 * form of one record; the record's "hash" is SHA-256 over the canonical form
 * of the record without "hash" and "sig", and "sig" is an ed25519 signature
 * over the same bytes.  "prev" chains each record to the one before it, also
 * across rotated files.  Checkpoint records carry the RFC 6962 Merkle tree
 * head of the file's receipts.  docs/receipts.md is the format reference.
 *
 * The run path fills an sk_receipt (strings borrowed, nothing freed by the
 * audit part) and calls sk_audit_append(); when it returns 0 the line is on
 * disk (fsync'd).  Any error means the receipt was NOT recorded: fail closed.
 */
#ifndef STOCKADE_AUDIT_H
#define STOCKADE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/util.h"

#define SK_AUDIT_FORMAT 1
#define SK_AUDIT_LOG_NAME "receipts.jsonl"
#define SK_AUDIT_KEY_NAME "signing.key"
#define SK_AUDIT_PUB_NAME "signing.pub"
#define SK_HASH_HEX_LEN 64        /* SHA-256 as lowercase hex */
#define SK_KEY_ID_LEN 16          /* hex chars of SHA-256(public key) */
#define SK_MAX_SAFE_INT 9007199254740991LL   /* 2^53-1: JCS/ES integers */

/* ---- canonical JSON (RFC 8785, integers only) -------------------------- */

/* The canonical text of v (malloc'd, NUL-terminated, *len without NUL).
 * Reals, and integers beyond +-(2^53-1), are refused (-EINVAL) because they
 * cannot round-trip through an ES number.  Strings must be valid UTF-8. */
int sk_jcs_serialize(const json_t *v, char **out, size_t *len, sk_error *err);
/* Compare two UTF-8 strings by UTF-16 code units, as JCS sorts keys. */
int sk_jcs_keycmp(const char *a, const char *b);

/* ---- the receipt the run path fills ------------------------------------ */

typedef enum sk_receipt_kind {
	SK_RECEIPT_COMMAND = 0,   /* the command itself: allowed, denied, escalated */
	SK_RECEIPT_EVENT,         /* one access to a protected surface */
	SK_RECEIPT_ESCALATION,    /* a decision handed to a human */
	SK_RECEIPT_RESOLUTION,    /* the human's answer to an escalation */
	SK_RECEIPT_OUTCOME,       /* a command's end: exit, duration, redactions */
} sk_receipt_kind;

typedef struct sk_receipt_surface {
	const char *type;                /* "file", "env", "net", "syscall", "cap", "command" */
	const char *key;                 /* identity key (e.g. "file:8:1:1234") */
	const char *const *paths;        /* the paths it was reached by */
	size_t n_paths;
	bool has_inode;                  /* dev/ino below are meaningful */
	uint64_t dev, ino;               /* written as strings "maj:min" / "123" */
} sk_receipt_surface;

typedef struct sk_receipt_event {
	const char *syscall;             /* "execve", "openat", "connect", ...; NULL = none */
	const char *path;                /* the path as given by the process */
	const char *const *argv;         /* the command line (command receipts) */
	size_t argc;
	const char *cwd;
} sk_receipt_event;

typedef struct sk_receipt_redaction {
	const char *rule;
	uint64_t count;
} sk_receipt_redaction;

/* A repository entry the run left that the host's git would have run
 * code from, moved aside after the run (src/cli/git_guard.c). */
typedef struct sk_receipt_quarantine {
	const char *path;                /* relative to the workspace */
	const char *moved_to;            /* "" when it could not be moved */
	const char *why;
} sk_receipt_quarantine;

typedef struct sk_receipt_outcome {
	bool present;
	int exit_status;                 /* as the caller sees it (128+N on signal) */
	uint64_t duration_ms;
	bool timed_out;
	const sk_receipt_redaction *redactions;
	size_t n_redactions;
	const sk_receipt_quarantine *quarantined;   /* "quarantined": only when any */
	size_t n_quarantined;
} sk_receipt_outcome;

typedef struct sk_receipt_escalation {
	const char *id;                  /* escalation id, shared by both receipts */
	const char *decision;            /* resolution only: "approve" or "deny" */
	const char *by;                  /* resolution only: who decided */
} sk_receipt_escalation;

typedef struct sk_receipt {
	sk_receipt_kind kind;
	const char *session;
	uint32_t turn;
	const char *chain_id;            /* retry chain (surface within session) */
	uint32_t attempt;                /* 1-based attempt number in the chain */
	sk_receipt_surface surface;
	sk_receipt_event event;
	const char *verdict;             /* "allow", "deny", "escalate" */
	const char *reason;              /* reason code */
	const char *rule;                /* rule id that decided */
	const char *profile_digest;      /* "sha256:<hex>" of the canonical profile */
	const char *profile_text;        /* optional: stored in the evidence store */
	const json_t *decide_event;      /* optional: the event exactly as decide saw it */
	const json_t *state_view;        /* optional: the session-state view decide saw */
	const json_t *config;            /* optional: the sandbox settings that applied, and
					  * which of them the command line overrode */
	sk_receipt_outcome outcome;
	sk_receipt_escalation escalation;
} sk_receipt;

typedef struct sk_receipt_id {
	uint64_t seq;
	char hash[SK_HASH_HEX_LEN + 1];
} sk_receipt_id;

/* ---- state directory and keys ------------------------------------------- */

/* The state directory: `given` if non-NULL, else $XDG_STATE_HOME/stockade,
 * else $HOME/.local/state/stockade.  Writes into buf (size n). */
int sk_audit_state_dir(const char *given, char *buf, size_t n, sk_error *err);
/* The state directory a log belongs to: `given` if non-NULL, else the log
 * itself when it is a directory, else the log file's directory; without a
 * log, sk_audit_state_dir(NULL). */
int sk_audit_state_dir_of(const char *given, const char *log, char *dir, size_t n, sk_error *err);

typedef struct sk_audit_key {
	unsigned char pk[32];
	unsigned char sk[64];            /* zero when only the public key is known */
	bool has_secret;
	char id[SK_KEY_ID_LEN + 1];
} sk_audit_key;

/* Load the signing key of a state dir, creating it (0600, dir 0700) if absent. */
int sk_audit_key_load_or_create(const char *state_dir, sk_audit_key *key, sk_error *err);
/* Load a public key: PEM (SPKI), or base64 of the 32 raw bytes. */
int sk_audit_pubkey_load(const char *path, sk_audit_key *key, sk_error *err);
void sk_audit_key_id(const unsigned char pk[32], char id[SK_KEY_ID_LEN + 1]);
/* PEM SPKI text of a public key (malloc'd). */
char *sk_audit_pubkey_pem(const sk_audit_key *key);

/* ---- the log writer ------------------------------------------------------ */

typedef struct sk_audit_options {
	const char *state_dir;           /* NULL: sk_audit_state_dir(NULL) */
	uint64_t checkpoint_every;       /* receipts per checkpoint; 0 = 1024 */
	uint64_t rotate_bytes;           /* rotate past this size; 0 = 64 MiB */
	const char *host;                /* NULL: gethostname() */
} sk_audit_options;

typedef struct sk_audit_log sk_audit_log;

int sk_audit_open(const sk_audit_options *opt, sk_audit_log **out, sk_error *err);
void sk_audit_close(sk_audit_log *log);
/* Append one receipt; returns 0 only once it is on disk.  The record's seq,
 * time, host, prev, hash, key id and signature are filled here. */
int sk_audit_append(sk_audit_log *log, const sk_receipt *r, sk_receipt_id *out_id,
		    sk_error *err);
/* The same, without waiting for the disk: the receipt is written and
 * chained, and is on disk only once sk_audit_sync_pending() returned 0.
 * For a caller with work to overlap with the disk; nothing may act on the
 * receipt before that (the run path starts no command).  Until then, the
 * log takes no other append (-EBUSY). */
int sk_audit_append_nowait(sk_audit_log *log, const sk_receipt *r, sk_receipt_id *out_id, sk_error *err);
/* fdatasync the receipt of the last sk_audit_append_nowait (0 if none).
 * Safe from another thread while this one does other work on its own. */
int sk_audit_sync_pending(sk_audit_log *log, sk_error *err);
/* Write a checkpoint now; rotate the log now (checkpoint, then a new file). */
int sk_audit_checkpoint(sk_audit_log *log, sk_error *err);
int sk_audit_rotate(sk_audit_log *log, sk_error *err);
/* Bytes cut off a torn last line by this handle's appends (0 if none). */
uint64_t sk_audit_torn_bytes(const sk_audit_log *log);
const char *sk_audit_log_path(const sk_audit_log *log);
const sk_audit_key *sk_audit_log_key(const sk_audit_log *log);

/* The receipt as the JSON object that is hashed (no seq/time/host/chain
 * fields: the writer adds those).  Exposed for tests and replay. */
json_t *sk_receipt_to_json(const sk_receipt *r, sk_error *err);

/* ---- what decide saw, as data (src/audit/decide_json.c) ----------------- */

struct sk_event;
struct sk_session_view;
/* The event and the session-state view exactly as sk_decide() got them, as
 * JSON for sk_receipt.decide_event / .state_view (new references; the caller
 * json_decref()s them after sk_audit_append).  dev/ino are decimal strings,
 * addresses hex.  NULL on bad UTF-8 or out of memory. */
json_t *sk_audit_event_json(const struct sk_event *ev);
json_t *sk_audit_view_json(const struct sk_session_view *view);

/* ---- sealing: hash and signature of one record -------------------------- */

/* Add "key", "hash" and "sig" to rec (which must not have them). */
int sk_audit_seal(json_t *rec, const sk_audit_key *key, sk_error *err);
/* Check hash and signature of a parsed record.  Returns 0, or -EBADMSG with
 * what is wrong in err. keys: the accepted public keys. */
int sk_audit_check_seal(const json_t *rec, const sk_audit_key *keys, size_t n_keys,
			sk_error *err);

/* ---- Merkle tree (RFC 6962) --------------------------------------------- */

typedef struct sk_merkle {
	unsigned char (*frontier)[32];   /* roots of the perfect subtrees, largest first */
	uint64_t *sizes;                 /* leaf count of each frontier subtree */
	size_t n, cap;
	uint64_t size;                   /* leaves so far */
} sk_merkle;

void sk_merkle_init(sk_merkle *m);
void sk_merkle_free(sk_merkle *m);
/* Leaf data: the 32-byte receipt hash; leaf hash = SHA256(0x00 || data). */
int sk_merkle_add(sk_merkle *m, const unsigned char data[32]);
/* Tree head per RFC 6962 (the empty tree hashes to SHA256("")). */
void sk_merkle_root(const sk_merkle *m, unsigned char root[32]);
/* The frontier as a JSON array of hex strings; and back. */
json_t *sk_merkle_frontier_json(const sk_merkle *m);
int sk_merkle_from_frontier(sk_merkle *m, uint64_t size, const json_t *frontier);

/* ---- evidence store ------------------------------------------------------ */

/* Keep a profile's canonical text under <state>/evidence/profiles/ by digest.
 * Idempotent; written atomically. A "sha256:<hex>" digest is checked. */
int sk_evidence_put_profile(const char *state_dir, const char *digest, const char *text,
			    sk_error *err);
/* Fetch it back (malloc'd); -ENOENT when absent, -EBADMSG when it does not
 * match its digest. */
int sk_evidence_get_profile(const char *state_dir, const char *digest, char **text,
			    sk_error *err);

/* ---- verification -------------------------------------------------------- */

typedef struct sk_verify_result {
	uint64_t records, receipts, checkpoints, files;
	bool ok;
	char bad_file[1024];             /* first bad line: file and line number */
	uint64_t bad_line;
	char what[512];                  /* what is wrong there */
} sk_verify_result;

/* Verify files in order as one chain: canonical form, every hash, prev
 * links (SHA-256 of the whole previous line, signature included), sequence
 * numbers, leaf numbers, checkpoints, and the signatures of the anchors:
 * every checkpoint and each file's last record.  An anchor's signature
 * covers, through the chain of line hashes, every record before it, so a
 * change to any byte is caught; SK_VERIFY_EVERY_SIGNATURE checks every
 * record's signature as well (slower: ~45 us each).  Returns 0 when the check
 * could run (res->ok says whether the logs are intact), negative on error. */
enum { SK_VERIFY_EVERY_SIGNATURE = 1 };
int sk_audit_verify(const char *const *files, size_t n_files, const sk_audit_key *keys,
		    size_t n_keys, unsigned flags, sk_verify_result *res, sk_error *err);
/* The canonical text of a record without its top-level "hash" and "sig"
 * members (the signed bytes), cut from its canonical line.  out must hold
 * len + 1 bytes.  Returns the body length, or -EBADMSG. */
ssize_t sk_audit_body_of(const char *line, size_t len, char *out);

/* ---- reading ------------------------------------------------------------- */

/* Call fn for each parsed record of the files in order (no verification). */
typedef int (*sk_audit_record_fn)(const json_t *rec, const char *file, uint64_t line,
				  void *ctx);
int sk_audit_read(const char *const *files, size_t n_files, sk_audit_record_fn fn,
		  void *ctx, sk_error *err);

/* The log files of a state directory, oldest first: the rotated
 * receipts-<seq>.jsonl files, then receipts.jsonl.  Free with sk_audit_files_free. */
int sk_audit_list_logs(const char *dir, char ***files, size_t *n, sk_error *err);
/* Expand arguments: a directory becomes its logs, a file stays itself. */
int sk_audit_expand_logs(const char *const *args, size_t n_args, char ***files, size_t *n,
			 sk_error *err);
void sk_audit_files_free(char **v, size_t n);

/* Hex helpers. */
void sk_hex(const unsigned char *in, size_t n, char *out);
int sk_unhex(const char *in, unsigned char *out, size_t n);

/* ---- replay: decide again on what a receipt recorded (replay.c) --------- */

/* decide.event / decide.state read back (the inverse of sk_audit_event_json
 * and sk_audit_view_json).  Strings are borrowed from the JSON, which must
 * outlive the input; the arrays are owned.  -EBADMSG with err on bad data. */
typedef struct sk_decide_input {
	struct sk_event *ev;
	struct sk_session_view *view;
	void *owned;                     /* everything allocated, freed at once */
} sk_decide_input;
int sk_audit_decide_input_read(const json_t *event, const json_t *state, sk_decide_input *in,
			       sk_error *err);
void sk_audit_decide_input_free(sk_decide_input *in);

struct sk_profile;
typedef struct sk_replay_options {
	const char *state_dir;           /* the evidence store's directory */
	uint32_t sample_bp;              /* sample in basis points: 10000 = every receipt */
	uint64_t seed;                   /* which receipts a sample takes */
	const struct sk_profile *profile;   /* non-NULL: decide with this one instead */
} sk_replay_options;

/* One receipt decided again. */
typedef struct sk_replay_item {
	const json_t *rec;               /* the receipt */
	uint64_t seq;
	const char *file;
	uint64_t line;
	const char *surface;             /* surface.key, else "" */
	const char *old_verdict, *old_reason, *old_rule;   /* "" when absent */
	const char *new_verdict, *new_reason, *new_rule;
	bool match;                      /* verdict, reason and rule all equal */
	bool verdict_changed;            /* the action differs */
} sk_replay_item;
typedef int (*sk_replay_fn)(const sk_replay_item *it, void *ctx);

typedef struct sk_replay_result {
	uint64_t receipts;               /* receipts read (checkpoints not counted) */
	uint64_t with_input;             /* receipts that carry decide.event */
	uint64_t replayed, matches, mismatches, changed;
	uint64_t no_profile;             /* sampled, but the profile is not in the store */
	uint64_t bad_input;              /* sampled, but decide.event could not be read */
} sk_replay_result;

/* Decide again, offline, on every sampled receipt carrying decide.event,
 * with its profile from the evidence store (by digest; the profile is not
 * bound to this host: identities come only from the recorded event) or
 * with opt->profile.  fn (may be NULL) is called for every replayed
 * receipt; a non-zero return stops the replay and is returned. */
int sk_audit_replay(const char *const *files, size_t n_files, const sk_replay_options *opt,
		    sk_replay_fn fn, void *ctx, sk_replay_result *res, sk_error *err);
/* Does a sample of sample_bp basis points under seed take receipt seq? */
bool sk_replay_sampled(uint64_t seed, uint64_t seq, uint32_t sample_bp);
/* The profile of a digest from the evidence store, parsed (not bound). */
int sk_evidence_load_profile(const char *state_dir, const char *digest,
			     struct sk_profile **out, sk_error *err);

/* ---- report: the boundary's metrics (report.c, labels.c) ---------------- */

typedef enum sk_label_kind { SK_LABEL_CORRECT = 0, SK_LABEL_FALSE_ALLOW, SK_LABEL_FALSE_DENY } sk_label_kind;
enum { SK_SEV_LOW = 0, SK_SEV_MEDIUM, SK_SEV_HIGH, SK_SEV_CRITICAL, SK_SEV_N };
const char *sk_severity_name(int sev);
/* Severity weights of the decision-quality score: 1, 2, 4, 8. */
unsigned sk_severity_weight(int sev);

typedef struct sk_label {
	uint64_t seq;
	sk_label_kind kind;
	int severity;
	/* filled by sk_report_build: */
	bool seen;                       /* the receipt is in the logs */
	bool should_allow;               /* the truth the label implies */
	bool decided_allow;              /* what was (or, re-decided, would be) decided */
} sk_label;

typedef struct sk_labels {
	sk_label *v;                     /* sorted by seq */
	size_t n;
} sk_labels;
/* JSON Lines, one review per line: {"seq": N, "label": "correct" |
 * "false_allow" | "false_deny", "severity": "low"|"medium"|"high"|"critical"}
 * (severity optional: medium).  Errors name file:line. */
int sk_labels_load(const char *path, sk_labels *out, sk_error *err);
void sk_labels_free(sk_labels *l);

typedef struct sk_tally {
	char *key;
	uint64_t n;
} sk_tally;
typedef struct sk_tallies {
	sk_tally *v;
	size_t n;
} sk_tallies;

typedef struct sk_report_profile {
	char *digest;
	bool in_store;
	unsigned covered, total;         /* sk_profile_coverage cells */
	uint64_t receipts;
} sk_report_profile;

typedef struct sk_report {
	uint64_t receipts, checkpoints;
	uint64_t commands, commands_evaluated;        /* evaluation coverage */
	sk_report_profile *profiles;                  /* policy coverage */
	size_t n_profiles;
	sk_replay_result replay;                      /* replay pass rate */
	uint64_t labeled, labels_missing;             /* labels whose seq is in no log */
	uint64_t false_allow[SK_SEV_N], false_deny[SK_SEV_N];
	uint64_t escalations, resolutions, unresolved;
	uint64_t *latencies_ms;                       /* escalation -> resolution, sorted */
	size_t n_latencies;
	uint64_t with_profile, evidence_complete;     /* receipts naming / having their profile */
	sk_tallies deny_reason, deny_surface, deny_command, deny_chain;
	uint64_t retries_after_block;
	uint64_t decided, allowed, denied, escalated; /* appendix: deny rate */
	double evaluation_coverage, policy_coverage, replay_pass_rate, evidence_completeness;
	double latency_p50_s, latency_p95_s;
	double safety, utility, integrity, score;     /* the decision-quality score */
	bool has_score;                               /* needs labels */
	bool redecided;                               /* verdicts re-decided with a profile */
} sk_report;

/* Everything from the logs, the evidence store in state_dir, and labels
 * (may be NULL; its entries are filled in).  redecide non-NULL: score the
 * verdicts that profile would give (the what-if of a profile change). */
int sk_report_build(const char *const *files, size_t n_files, const char *state_dir,
		    sk_labels *labels, const struct sk_profile *redecide, sk_report *out,
		    sk_error *err);
void sk_report_free(sk_report *r);
/* Nearest-rank percentile (0..100) of sorted values; 0 when n == 0. */
uint64_t sk_percentile(const uint64_t *sorted, size_t n, unsigned pct);

#endif
