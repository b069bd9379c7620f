/* stockade — the command line (src/cli/): one file per subcommand, each an
 * entry `int sk_cmd_NAME(int argc, char **argv)` returning the exit code.
 * argv[0] is the subcommand's name.  Every subcommand answers --help. */
#ifndef STOCKADE_CLI_H
#define STOCKADE_CLI_H

int sk_cmd_run(int argc, char **argv);
int sk_cmd_redact(int argc, char **argv);
int sk_cmd_verify(int argc, char **argv);
int sk_cmd_replay(int argc, char **argv);
int sk_cmd_report(int argc, char **argv);
int sk_cmd_regress(int argc, char **argv);
int sk_cmd_key(int argc, char **argv);
int sk_cmd_profile(int argc, char **argv);
int sk_cmd_exec(int argc, char **argv);
int sk_cmd_session(int argc, char **argv);
int sk_cmd_approve(int argc, char **argv);
int sk_cmd_deny(int argc, char **argv);
int sk_cmd_mcp(int argc, char **argv);
int sk_cmd_hook(int argc, char **argv);

/* ---- profile -> sandbox configuration (src/cli/profile_apply.c) ---------- */
#include "stockade/policy.h"
#include "stockade/sandbox.h"

/* A value withheld from the command's environment, for the redactor. */
typedef struct sk_profile_secret {
	const char *label;   /* "env:NAME" */
	const char *value;
} sk_profile_secret;

/* What applying a profile produced; cfg points into it, so it must outlive
 * the run.  Free with sk_profile_env_free. */
enum { SK_NESTED_REPOS_MAX = 64 };

typedef struct sk_profile_env {
	char **envp;                 /* the command's environment, NULL-terminated */
	sk_profile_secret *secrets;  /* env values withheld as `secret` (or escalating) */
	size_t n_secrets;
	char **secret_files;         /* files whose contents are redaction literals:
				      * regular files under `file secret` rules
				      * (directories expanded, bounded; *.pub and
				      * known_hosts skipped) and `redact literal-file` */
	size_t n_secret_files;
	const char **disabled_rules; /* `redact disable NAME`, NULL-terminated */
	const char **pattern_rules;  /* `redact pattern NAME [EXPR]`: NAME, NULL-terminated */
	const char **pattern_exprs;  /* the matching EXPR or NULL, same index */
	size_t n_patterns;
	sk_fs_rule *fs;              /* mount rules, parents first (cfg->fs) */
	size_t n_fs;
	const char **deny_syscalls, **allow_syscalls;
	size_t n_deny_syscalls, n_allow_syscalls;
	/* Package managers' project configs (.npmrc, .yarnrc.yml, .pypirc)
	 * found anywhere in the workspace by the name walk, that no hiding
	 * rule decides: the run path shows them without their credentials. */
	const char **package_configs;
	size_t n_package_configs;
	/* Repositories nested in the workspace (a directory holding a .git),
	 * found by the same walk, up to SK_NESTED_REPOS_MAX: their history is
	 * looked at for secrets from the workspace's first run on. */
	const char **nested_repos;
	size_t n_nested_repos;
	char **owned;                /* strings the above point to */
	size_t n_owned;
} sk_profile_env;

/* Fill cfg's fs rules, net, limits (those the profile sets), syscalls and
 * envp from a resolved (ideally bound) profile, and compute the environment
 * from environ by the profile's env rules (each variable goes through
 * sk_decide, so the environment and the receipts cannot disagree).
 * home is the sandbox's private HOME (may be NULL): a hidden or tmpfs rule
 * on exactly that path is left to the sandbox, and cfg->home is set to it
 * when NULL.  cfg->workspace, when set first, is left to the sandbox too.
 * File rules: read-only/read-write/tmpfs map to RO/RW/TMPFS; hidden, deny
 * and secret to HIDE (the profile keeps them for decide); name patterns
 * (".env") are expanded by a bounded scan of the workspace, absolute globs
 * by glob(3). */
int sk_profile_apply(const sk_profile *p, char *const *environ, const char *home,
		     sk_sandbox_config *cfg, sk_profile_env *env, sk_error *err);
/* The same; the workspace walk for name rules is kept in cache_dir between
 * runs and not walked again while no directory it opened has changed
 * (NULL: always walked). */
int sk_profile_apply_cached(const sk_profile *p, char *const *environ, const char *home, const char *cache_dir,
			    sk_sandbox_config *cfg, sk_profile_env *env, sk_error *err);
void sk_profile_env_free(sk_profile_env *env);
/* Let a path the profile hides be seen read-only (a surface a human
 * approved in the session); cfg's fs rules follow. */
int sk_profile_env_reveal(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, sk_error *err);
/* Bind source (read-only) where the read-only path is, instead of path
 * itself (a copy without credentials); -EINVAL when path is not shown
 * read-only. */
int sk_profile_env_show_copy(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, const char *source,
			     sk_error *err);
/* Give path at least this strictness in the sandbox (SK_FS_HIDE: an empty
 * stand-in) whatever the profile says, and its own mount; a stricter rule
 * of the profile stays.  cfg's fs rules follow. */
int sk_profile_env_force(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, sk_fs_access acc,
			 sk_error *err);

/* The profile's secrets as redaction literals, and its own pattern rules
 * as rules-file text (*extra_rules, malloc'd, NULL when none). */
struct sk_redact_literals;
int sk_profile_redact_inputs(const sk_profile_env *env, struct sk_redact_literals *lits, char **extra_rules,
			     sk_error *err);

/* Other names (hard links) in the workspace of the regular files env hides:
 * add(ctx, path, secret) is called for each (src/cli/profile_links.c). */
typedef int (*sk_profile_link_fn)(void *ctx, const char *path, bool secret);
int sk_profile_hide_links(const sk_profile_env *env, const char *workspace, sk_profile_link_fn add, void *ctx);

/* ---- the run path (src/cli/run_path.c): one for every front end ---------- */

/* Defaults that bound every run (promise 6); profiles and options override. */
#define SK_DEFAULT_TIMEOUT_MS (15ULL * 60 * 1000)
#define SK_DEFAULT_MEMORY (4ULL << 30)
#define SK_DEFAULT_PIDS 1024
#define SK_DEFAULT_OUTPUT (64ULL << 20)

enum {
	SK_LIMIT_SET_TIMEOUT = 1, SK_LIMIT_SET_MEMORY = 2, SK_LIMIT_SET_PIDS = 4,
	SK_LIMIT_SET_CPU = 8, SK_LIMIT_SET_OUTPUT = 16,
};

typedef struct sk_request {
	char *const *argv;           /* the command */
	char *const *environ;        /* the caller's environment */
	const char *cwd;             /* NULL = the current directory */
	const char *workspace;       /* NULL = cwd */
	const char *profile;         /* NAME or FILE; NULL = "default" */
	const char *session;         /* NULL = none */
	uint32_t turn;
	const char *state_dir;       /* NULL = $XDG_STATE_HOME/stockade */
	int net;                     /* -1 = the profile's; else sk_net_mode */
	sk_limits limits;            /* overrides, where limits_set says so */
	unsigned limits_set;
	bool verbose;
	bool no_supervise;           /* measurement only: no syscall supervision (receipts say so) */
	bool decide_only;            /* decide and record the command, never start it (hooks) */
	int stdout_fd, stderr_fd;
	/* More of stockade's own, never in the sandbox whatever the profile
	 * says (the state and cache dirs and the default daemon socket always
	 * are not): the socket of the daemon that runs the command. */
	const char *const *own_paths;
	size_t n_own_paths;
} sk_request;

void sk_request_init(sk_request *req);
/* Decide, record, run, record.  0 when a result was produced (including a
 * denial: res->denied, exit 126); a negative errno with err filled when
 * nothing could be run or recorded (fail closed). */
int sk_run(const sk_request *req, sk_run_result *res, sk_error *err);

/* ---- escalations (src/cli/escalation.c, src/cli/cmd_exec.c) ------------- */
#include "stockade/session.h"

/* A human's answer to chain `chain` of a session under state_dir, shared by
 * `stockade approve|deny` and stockaded: the RESOLUTION receipt (with
 * config.escalation.latency_ms when latency_ms >= 0), then
 * sk_session_decide.  -ENOENT: no such session or chain. */
int sk_escalation_resolve(const char *state_dir, const char *session, uint32_t chain, bool approve,
			  const char *reason, const char *by, int64_t latency_ms, uint64_t *receipt_seq, sk_error *err);
/* The same through a running stockaded (escalation.decide); sock NULL = the
 * default socket.  The exit code: 0, or 125 with one line on stderr. */
int sk_connect_decide(const char *sock, const char *session, uint32_t chain, bool approve, const char *reason);

/* The daemon socket a client uses when none is named: $XDG_RUNTIME_DIR/
 * stockade.sock, or /run/stockade/stockade.sock as root or without
 * XDG_RUNTIME_DIR.  Returns buf. */
const char *sk_default_socket(char *buf, size_t n);

/* Print "stockade: <msg>" on stderr; returns SK_EXIT_INTERNAL (125). */
int sk_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
