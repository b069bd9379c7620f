/* The state of one run, shared by the files of the run path
 * (run_path.c: decide-record-run; run_session.c: sessions and supervision). */
#ifndef STOCKADE_CLI_RUN_INTERNAL_H
#define STOCKADE_CLI_RUN_INTERNAL_H

#include <limits.h>
#include <sys/stat.h>

#include "stockade/audit.h"
#include "stockade/cli.h"
#include "stockade/policy.h"
#include "stockade/redact.h"
#include "stockade/sandbox.h"
#include "stockade/session.h"
#include "git_config.h"
#include "git_guard.h"

enum { RUN_MAX_ALIASES = 8 };

/* A file whose content is a secret (or was denied): copies of it are
 * recognised by this fingerprint. */
typedef struct run_fingerprint {
	uint64_t dev, ino, size;
	char key[SK_FINGERPRINT_LEN + 1];
} run_fingerprint;

/* The profile's exact-domain net rules and, once resolved, their
 * addresses (net_names.c). */
enum { SK_NET_NAMES_MAX = 32, SK_NET_NAME_ADDRS = 16 };
typedef struct sk_net_addr {
	sk_net_family family;
	uint8_t addr[16];
} sk_net_addr;
typedef struct sk_net_name {
	const char *domain;      /* the profile's */
	sk_net_addr addrs[SK_NET_NAME_ADDRS];
	size_t n_addrs;
} sk_net_name;
typedef struct sk_net_names {
	sk_net_name v[SK_NET_NAMES_MAX];
	size_t n;
	bool resolved;
} sk_net_names;

/* Everything one run holds; released by run_state_free. */
/* The content of a secret file as git's history keeps it (run_history.c). */
typedef struct run_blob {
	unsigned char *data;
	size_t len;
} run_blob;

/* Files found clean of the secret values, between runs (value_memo.c). */
typedef struct sk_value_memo {
	char path[PATH_MAX];         /* "" = none is kept (no cache, no values) */
	sk_clean_file *v;            /* loaded, sorted by identity */
	size_t n;
	sk_clean_file *fresh;        /* found by this run */
	size_t n_new, cap_new;
} sk_value_memo;

typedef struct run_state {
	sk_profile *profile;
	char digest[SK_PROFILE_DIGEST_LEN + 1];
	char *canonical;
	sk_audit_log *log;
	sk_redactor *redactor;
	sk_profile_env env;
	char **envp;
	char home_env[PATH_MAX + 8];
	sk_sandbox_config cfg;
	char workspace[PATH_MAX], cwd[PATH_MAX], home[PATH_MAX];
	char exe[PATH_MAX];
	struct stat exe_st;
	bool exe_found;
	sk_verdict verdict;
	/* sessions and supervision (run_session.c) */
	char state_dir[PATH_MAX];
	char *cache_dir;             /* sk_cache_dir's, or NULL: hidden; the workspace walk is kept there */
	sk_session *session;         /* NULL without a session */
	uint32_t turn;
	sk_session_view view;        /* what decide sees; grows with every recorded attempt */
	run_fingerprint *fps;
	size_t n_fps;
	uint64_t *sizes;
	size_t n_sizes;
	sk_hidden_file *hidden;
	size_t n_hidden;
	sk_carrier_file *carriers;   /* git objects holding a secret file's content */
	size_t n_carriers;
	bool carrier_refused;        /* an open of one was refused (said after the run) */
	sk_secret_values *values;    /* of the secret files, looked for in what the command reads */
	char value_refused[PATH_MAX];/* the first file refused for holding one ("" = none; said after the run) */
	char **extra_files;          /* denied files of the session: redaction literals */
	size_t n_extra_files;
	run_blob *history_blobs;     /* secret blobs only git's history may keep: literals */
	size_t n_history_blobs, history_bytes;
	sk_value_memo value_memo;
	const sk_request *req;       /* for the supervisor's record callback */
	const char *aliases[RUN_MAX_ALIASES];   /* the broker's scratch for one event */
	sk_net_names net_names;      /* resolved in init, at the first connect decided */
	sk_git_secrets git_secrets;  /* taken out of the git configs the sandbox sees */
	sk_git_guard git_guard;      /* the repositories checked after the run */
	uint32_t escalated_chain;    /* the chain that escalated this turn, 0 = none */
	bool denied_this_turn;
} run_state;

/* value_memo.c: load after the values are gathered; seen is the
 * supervisor's clean_seen (ctx: &s->value_memo); save after the run. */
int sk_value_memo_load(run_state *s);
void sk_value_memo_seen(void *ctx, const sk_clean_file *f);
void sk_value_memo_save(sk_value_memo *m);
void sk_value_memo_free(sk_value_memo *m);

/* run_session.c */
int sk_run_session_begin(const sk_request *req, run_state *s, sk_error *err);
/* Fingerprints, the hidden table, approvals and the view: after the
 * profile is applied, before the command is decided. */
int sk_run_session_prepare(const sk_request *req, run_state *s, sk_error *err);
/* Record one attempt (receipt, then session journal) and grow the view. */
int sk_run_record_attempt(const sk_request *req, run_state *s, const sk_event *ev, const sk_verdict *v,
			  const char *op, const char *via, const char *content, uint64_t size,
			  sk_receipt_kind kind, const json_t *config, uint64_t *receipt_seq, sk_error *err);
/* run_stdin.c: a stdin that is a file (the caller's shell opened it) is
 * decided as the command reading it.  0: nothing to refuse; 1: refused,
 * recorded, res filled (exit 126); negative errno: could not record. */
int sk_run_check_stdin(const sk_request *req, run_state *s, sk_run_result *res, sk_error *err);
/* net_names.c: the profile's exact-domain net rules (no I/O); the rule
 * domains among whose addresses ev's destination is (resolved at the first
 * call), at most cap of them. */
void sk_net_names_init(sk_net_names *n, const sk_profile *p);
size_t sk_net_names_of(sk_net_names *n, const sk_event *ev, const char **out, size_t cap);
void sk_run_supervise(const sk_request *req, run_state *s);
/* Add a fingerprint to the run's secret contents (once): *index is its
 * place, -1 when the table is full. */
int sk_run_push_fingerprint(run_state *s, const run_fingerprint *fp, long *index);
struct sk_git_carrier;
int sk_run_add_carriers(run_state *s, const struct sk_git_carrier *c, size_t n_c, const run_fingerprint *const *fp);
/* run_history.c: the secrets only git's history keeps, as fingerprints
 * and carriers. */
int sk_run_history_carriers(const sk_request *req, run_state *s, sk_error *err);
/* The packs' blobs that hold a secret value, as carriers of that secret
 * (after every value is gathered). */
int sk_run_pack_values(const sk_request *req, run_state *s, sk_error *err);
/* run_values.c: the values of withheld variables and configs'
 * credentials (the secret files' are added as they are fingerprinted),
 * and the supervisor's lookup of them. */
int sk_run_values_prepare(run_state *s, sk_error *err);
int sk_run_values_in(void *ctx, const void *buf, size_t len, const char **content, uint64_t *size);
bool sk_run_known_content(void *ctx, const char *content);
int sk_run_values_filter_env(const sk_request *req, run_state *s, sk_error *err);
int sk_run_session_end(const sk_request *req, run_state *s, const sk_run_result *res, sk_error *err);
void sk_run_session_free(run_state *s);

#endif
