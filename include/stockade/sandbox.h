/* stockade — the sandbox (src/sandbox/): namespaces, the mount tree,
 * loopback, capabilities, Landlock, seccomp, limits, and the supervision
 * loop that relays output and reaps the whole tree.
 *
 * The caller (cli run, daemon exec, mcp) fills an sk_sandbox_config — from
 * a resolved profile plus command-line overrides — and calls sk_sandbox_run().
 */
#ifndef STOCKADE_SANDBOX_H
#define STOCKADE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/policy.h"
#include "stockade/redact.h"
#include "stockade/util.h"

typedef enum sk_net_mode {
	SK_NET_NONE = 0,  /* private network namespace: only its own loopback, brought up */
	SK_NET_HOST,      /* share the caller's network namespace */
} sk_net_mode;

/* How a path of the host appears inside the sandbox. */
typedef enum sk_fs_access {
	SK_FS_RO = 0,   /* bind-mounted read-only */
	SK_FS_RW,       /* bind-mounted read-write */
	SK_FS_HIDE,     /* not in the sandbox at all (an empty, read-only stand-in) */
	SK_FS_TMPFS,    /* a fresh private tmpfs at that path */
} sk_fs_access;

typedef struct sk_fs_rule {
	const char *path;    /* absolute host path (also the path inside) */
	sk_fs_access access;
	bool optional;       /* a path the caller cannot reach is skipped, not an error */
	const char *source;  /* RO/RW: what is bound there instead of path itself, or NULL */
} sk_fs_rule;

/* One entry of the mount plan: built as data (sk_mount_plan_build), checked
 * in unit tests, then applied in order inside the new mount namespace. */
typedef enum sk_mount_kind {
	SK_MNT_TMPFS,     /* tmpfs at dst, mode */
	SK_MNT_BIND_RO,   /* bind src -> dst, read-only, nosuid, nodev */
	SK_MNT_BIND_RW,   /* bind src -> dst, read-write, nosuid, nodev */
	SK_MNT_BIND_DEV,  /* bind one device node src -> dst (keeps dev) */
	SK_MNT_PROC,      /* proc of the new pid namespace */
	SK_MNT_DEVPTS,    /* a new devpts instance */
	SK_MNT_SYMLINK,   /* symlink dst -> src */
	SK_MNT_DIR,       /* mkdir dst, mode */
	SK_MNT_HIDE,      /* an empty read-only stand-in over dst (dir or file) */
	SK_MNT_REMOUNT_RO,/* make dst read-only (non-recursive; used for the root) */
} sk_mount_kind;

typedef struct sk_mount {
	sk_mount_kind kind;
	char *src;       /* host path (BIND_*), link target (SYMLINK), or NULL */
	char *dst;       /* absolute path inside the sandbox */
	unsigned mode;   /* TMPFS / DIR */
	bool optional;   /* skip when src is out of the caller's reach */
} sk_mount;

typedef struct sk_mount_plan {
	sk_mount *v;
	size_t n, cap;
} sk_mount_plan;

typedef struct sk_limits {
	uint64_t timeout_ms;     /* wall clock; 0 = none */
	uint64_t memory_bytes;   /* 0 = none */
	uint64_t pids;           /* 0 = none */
	uint64_t cpu_seconds;    /* 0 = none */
	uint64_t output_bytes;   /* stdout + stderr delivered; 0 = none */
	uint64_t nofile;         /* open files; 0 = inherit */
} sk_limits;

/* ---- supervision: opens, execs and connects decided by identity --------- */

/* A name the sandbox hides (an empty stand-in is mounted there), and the
 * real object behind it: an open of the stand-in is decided as an attempt
 * on the real object. */
typedef struct sk_hidden_file {
	const char *path;
	uint64_t dev, ino;
	const char *content;     /* "content:sha256:HEX" of the real file, or NULL */
	uint64_t size;
} sk_hidden_file;

/* A file that holds a secret's content in another form (a pack of git's
 * object store with a committed secret file in it): an open of it is
 * decided as an attempt on that content. */
typedef struct sk_carrier_file {
	uint64_t dev, ino;
	const char *content;     /* "content:sha256:HEX" of the secret it carries */
	uint64_t size;
} sk_carrier_file;

/* One event the supervisor saw, handed to the caller (strings point into
 * a buffer that lives until the callback returns). */
typedef struct sk_sup_record {
	sk_event ev;
	sk_verdict verdict;
	const char *op;          /* "open", "openat", "openat2", "creat", "execve", "execveat", "connect" */
	const char *via;         /* the path (or address) as the process gave it */
	const char *content;     /* content key of the object, when it was hashed */
	uint64_t size;
	bool by_value;           /* content is a secret's: the file holds a value of it */
	int pid;                 /* in the sandbox's pid namespace */
	int error;               /* errno the process got; 0 = the access went ahead */
} sk_sup_record;

/* What the supervisor counted, for coverage. */
typedef struct sk_sup_stats {
	uint64_t events;         /* notifications evaluated */
	uint64_t opens, execs, connects;
	uint64_t allowed, denied, escalated;
	uint64_t unreadable;     /* denied because the process could not be read (fail closed) */
	uint64_t hashed;         /* files whose content was fingerprinted */
	uint64_t scanned;        /* files read for secret values (each at most once per change) */
} sk_sup_stats;

/* One version of a file: what a memo of it is keyed by. */
typedef struct sk_clean_file {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
} sk_clean_file;

typedef struct sk_supervisor {
	bool enabled;
	/* Runs in the sandbox's init, a copy of the caller's memory: decide one
	 * event.  The callee may keep per-run state (the turn's growing view)
	 * in its copy of ctx. */
	sk_verdict (*decide)(void *ctx, sk_event *ev);
	/* Also in init: an event that is reported (an attempt on a surface);
	 * the callee grows its view, so the next path to the same surface in
	 * this very turn meets it sticky. */
	void (*note)(void *ctx, const sk_event *ev, const sk_verdict *v);
	void *decide_ctx;
	/* Runs in the caller for every event that was not plainly allowed, in
	 * order.  A negative return kills the command (fail closed). */
	int (*record)(void *ctx, const sk_sup_record *rec, sk_error *err);
	void *record_ctx;
	const sk_hidden_file *hidden;   /* sorted by path */
	size_t n_hidden;
	const sk_carrier_file *carriers;
	size_t n_carriers;
	const uint64_t *sizes;          /* sorted: sizes of files worth hashing */
	size_t n_sizes;
	/* Secret values in the files the command reads (outside /usr, /lib*,
	 * /bin, /sbin and the sandbox's own mounts, up to SK_VALUE_SCAN_MAX
	 * bytes): 1 and
	 * the content key and size of the secret whose value buf holds, 0
	 * when it holds none, negative errno when it cannot tell (the open
	 * is refused).  In init, under the broker's lock, with decide_ctx.
	 * NULL: no values to look for. */
	int (*values_in)(void *ctx, const void *buf, size_t len, const char **content, uint64_t *size);
	/* Is this content key a secret's?  A file that is a copy of one is
	 * decided as that secret, not by a value in it that others share. */
	bool (*known_content)(void *ctx, const char *content);
	size_t values_min;              /* files smaller than this are not read */
	/* Files an earlier run read whole and found none of these values in
	 * (sorted by dev, ino): not read again while they are the same. */
	const sk_clean_file *clean;
	size_t n_clean;
	/* Runs in the caller: a file this run read and found none in, worth
	 * remembering (large enough, and not changed in the last seconds, so
	 * that a change after the read cannot keep its timestamps). */
	void (*clean_seen)(void *ctx, const sk_clean_file *f);
	void *clean_ctx;
} sk_supervisor;

/* The largest file the supervisor reads for secret values (larger ones
 * are left to the redactor), as content fingerprints go. */
#define SK_VALUE_SCAN_MAX (64u << 20)

struct sk_run_result;

typedef struct sk_sandbox_config {
	char *const *argv;          /* the command; argv[0] is looked up in PATH inside */
	char *const *envp;          /* the command's complete environment */
	const char *workspace;      /* absolute, canonical; bound read-write */
	bool workspace_readonly;    /* ... or read-only (inspection profiles) */
	const char *cwd;            /* inside the sandbox; NULL = workspace */
	const char *home;           /* path of the private HOME inside (an empty tmpfs) */
	const char *hostname;       /* NULL = "stockade" */
	sk_net_mode net;
	sk_limits limits;
	const sk_fs_rule *fs;       /* profile rules, applied after the defaults */
	size_t n_fs;
	const char *const *deny_syscalls;  /* extra syscall names failing with EPERM */
	size_t n_deny_syscalls;
	const char *const *allow_syscalls; /* names removed from the default deny table */
	size_t n_allow_syscalls;
	const sk_redactor *redactor;       /* NULL = no redaction */
	/* Called once the child is building its root and before it may exec:
	 * the caller's slow work (recording the decision) overlaps the child's
	 * set-up, and the command cannot start before it succeeded.  It may
	 * set redactor.  A negative return kills the child before exec (fail
	 * closed). */
	int (*before_exec)(void *ctx, struct sk_sandbox_config *cfg, sk_error *err);
	/* Called once the filter is sent (the child confines itself and forks
	 * the command, which waits), right before the command may exec:
	 * before_exec may leave work running (the receipt's fdatasync in a
	 * thread) and wait for it here, and the rest of the slow work (the
	 * redactor, which it may set) is done here.  A negative return kills
	 * the child before exec (fail closed). */
	int (*exec_gate)(void *ctx, struct sk_sandbox_config *cfg, sk_error *err);
	/* Called at most once, as soon as the run has succeeded: the command
	 * has exited, nothing else in the sandbox is alive, its output is
	 * delivered and every supervision record is in; res is final and is
	 * not touched again.  The caller's closing work (the outcome receipt)
	 * overlaps the kernel's teardown of the namespaces, which
	 * sk_sandbox_run still waits for.  Not called when the run fails or
	 * times out. */
	void (*after_exit)(void *ctx, struct sk_run_result *res);
	void *before_exec_ctx;             /* the context of all three */
	sk_supervisor sup;                 /* seccomp user notification; off when !sup.enabled */
	bool verbose;                      /* report what applied on stderr */
	int stdout_fd, stderr_fd;          /* where redacted output goes (default 1, 2) */
} sk_sandbox_config;

/* What happened, for the front end, the receipts and --verbose. */
typedef struct sk_run_result {
	int exit_code;          /* env(1)/timeout(1) convention */
	int wait_status;        /* the command's raw wait status, when it ran */
	bool ran;               /* the command was executed */
	bool timed_out;
	bool output_capped;
	uint64_t output_cap;    /* the cap that applied */
	int exec_errno;         /* errno of a failed execve (126/127) */
	uint64_t duration_ns;
	uint64_t bytes_stdout, bytes_stderr;   /* as delivered, after redaction */
	int landlock_abi;       /* 0 when the kernel has none */
	char limits_how[96];    /* e.g. "cgroup v1 (pids, memory) + rlimits" */
	/* Redactions per redactor rule index, stdout and stderr together. */
	uint64_t redactions[256];
	size_t n_redactions;
	sk_sup_stats sup;       /* what the supervisor evaluated */
	bool escalated;         /* an event escalated: the command was stopped */
	uint32_t chain;         /* the session chain that escalated (0 = none) */
	/* Filled by the run path (src/cli/run_path.c). */
	bool denied;            /* the policy refused the command: it did not run */
	char verdict[16], reason[48], rule[160];
	uint64_t command_receipt, outcome_receipt;   /* receipt sequence numbers */
	uint32_t quarantined;   /* repository entries moved aside after the run */
	char stdin_path[256];   /* the file on stdin the policy refused (nothing ran); "" = none */
} sk_run_result;

void sk_sandbox_config_init(sk_sandbox_config *cfg);

/* Build the mount plan for cfg (pure: no I/O).  Exposed for tests. */
int sk_mount_plan_build(const sk_sandbox_config *cfg, sk_mount_plan *plan, sk_error *err);
void sk_mount_plan_free(sk_mount_plan *plan);

/* Run cfg->argv in a fresh sandbox and supervise it to the end.
 * Returns 0 when a result was produced (whatever the command's exit code),
 * or a negative errno with err filled when the sandbox could not be made. */
int sk_sandbox_run(const sk_sandbox_config *cfg, sk_run_result *res, sk_error *err);

/* The default seccomp deny table, for docs, tests and profiles. */
typedef struct sk_syscall_rule {
	const char *name;
	const char *why;
} sk_syscall_rule;
const sk_syscall_rule *sk_seccomp_default_denies(size_t *n);

#endif
