/* stockade — policy (src/policy/): profiles, surface keys and decide().
 *
 * A profile is a plain-text file (see stockade-profile(5), docs/profiles.md).
 * Parsing resolves includes and variables into an sk_profile; its canonical
 * form (sk_profile_canonical) is itself a valid profile and its SHA-256 is
 * the digest that receipts name.
 *
 * Purity: sk_decide(), sk_surface_key(), sk_profile_coverage(), the parser on
 * a buffer (sk_profile_parse_text with a loader you supply) and the
 * canonical form do no I/O, read no clock and touch no global state.  Only
 * sk_profile_load()/sk_profile_find()/sk_profile_list() (files, search path)
 * and sk_profile_bind() (stat of rule paths) touch the file system; they
 * live in load.c and bind.c.
 */
#ifndef STOCKADE_POLICY_H
#define STOCKADE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/util.h"

/* ---- verdicts ------------------------------------------------------------ */

typedef enum sk_action {
	SK_ACTION_ALLOW = 0,
	SK_ACTION_DENY,
	SK_ACTION_ESCALATE,
} sk_action;

/* Action classes: what a rule is about.  Policy coverage is computed over
 * the first SK_CLASS_N_DECIDING classes. */
typedef enum sk_class {
	SK_CLASS_FILE = 0,
	SK_CLASS_ENV,
	SK_CLASS_NET,
	SK_CLASS_SYSCALL,
	SK_CLASS_COMMAND,
	SK_CLASS_N_DECIDING,
	SK_CLASS_LIMIT = SK_CLASS_N_DECIDING,
	SK_CLASS_ESCALATION,
	SK_CLASS_REDACT,
	SK_CLASS_META,      /* stockade-profile header, include */
	SK_CLASS_N,
} sk_class;

/* Reason codes.  STABLE: the numbers and names are recorded in receipts;
 * append new codes at the end, never renumber.  docs/profiles.md lists them. */
typedef enum sk_reason {
	SK_REASON_INVALID_EVENT = 0,   /* deny: the event could not be evaluated (fail closed) */
	SK_REASON_APPROVED,            /* allow: a human approved this surface in this session */
	SK_REASON_STICKY_DENY,         /* deny: denied earlier in this session, by any path */
	SK_REASON_CHAIN_THRESHOLD,     /* escalate: retry chain longer than the profile allows */
	SK_REASON_ESCALATE_RULE,       /* escalate: a denying rule marked `escalate` */
	SK_REASON_ESCALATE_CLASS,      /* escalate: a denial in a class under `escalation class` */
	SK_REASON_FILE_READ_WRITE,     /* allow */
	SK_REASON_FILE_READ_ONLY,      /* allow: read or exec of a read-only path */
	SK_REASON_FILE_WRITE_READ_ONLY,/* deny: write to a read-only path */
	SK_REASON_FILE_TMPFS,          /* allow: a private tmpfs */
	SK_REASON_FILE_HIDDEN,         /* deny */
	SK_REASON_FILE_DENIED,         /* deny */
	SK_REASON_FILE_SECRET,         /* deny */
	SK_REASON_ENV_PASS,            /* allow */
	SK_REASON_ENV_DROP,            /* deny */
	SK_REASON_ENV_SECRET,          /* deny */
	SK_REASON_NET_RULE_ALLOW,      /* allow */
	SK_REASON_NET_RULE_DENY,       /* deny */
	SK_REASON_NET_RULE_ESCALATE,   /* escalate */
	SK_REASON_NET_MODE_NONE,       /* deny: network none */
	SK_REASON_NET_NOT_LOOPBACK,    /* deny: network loopback, destination elsewhere */
	SK_REASON_NET_LOOPBACK,        /* allow: network loopback, loopback destination */
	SK_REASON_NET_HOST,            /* allow: network host */
	SK_REASON_SYSCALL_ALLOW,       /* allow: explicit syscall allow */
	SK_REASON_SYSCALL_DENY,        /* deny: explicit syscall deny */
	SK_REASON_SYSCALL_ESCALATE,    /* escalate: explicit syscall escalate */
	SK_REASON_SYSCALL_DEFAULT,     /* deny: in the default filter */
	SK_REASON_COMMAND_ALLOW,       /* allow */
	SK_REASON_COMMAND_DENY,        /* deny */
	SK_REASON_COMMAND_ESCALATE,    /* escalate */
	SK_REASON_SECRET_CONTENT,      /* deny: same content (size, SHA-256) as a secret or a denied file */
	SK_REASON_N
} sk_reason;

typedef struct sk_verdict {
	sk_action action;
	sk_reason reason;
	const char *rule_id;   /* "NAME:LINE" of the deciding rule or setting, or "builtin" */
	uint32_t chain;        /* length of the retry chain including this attempt */
} sk_verdict;

const char *sk_action_name(sk_action a);    /* "allow", "deny", "escalate" */
/* How strict an action is: allow 0 < escalate 1 < deny 2 (ties in decide). */
int sk_action_rank(sk_action a);
const char *sk_reason_name(sk_reason r);    /* "file_secret", ...; "unknown" if out of range */
const char *sk_class_name(sk_class c);      /* "file", "env", "net", ... */
/* Reverse lookups for replay; -1 when unknown. */
int sk_reason_from_name(const char *name);

/* ---- the profile (read-only once parsed and bound) ----------------------- */

typedef enum sk_file_action {   /* strictness grows downward */
	SK_FILE_READ_WRITE = 0,
	SK_FILE_TMPFS,
	SK_FILE_READ_ONLY,
	SK_FILE_HIDDEN,
	SK_FILE_DENY,
	SK_FILE_SECRET,
} sk_file_action;

typedef enum sk_env_action { SK_ENV_PASS = 0, SK_ENV_DROP, SK_ENV_SECRET } sk_env_action;
typedef enum sk_net_policy { SK_NETP_NONE = 0, SK_NETP_LOOPBACK, SK_NETP_HOST } sk_net_policy;

typedef enum sk_path_kind {
	SK_PATH_PREFIX = 0,  /* absolute path: the path and everything beneath it */
	SK_PATH_GLOB,        /* absolute with * ? [ ]: fnmatch on the whole path, '*' crosses '/' */
	SK_PATH_NAME,        /* no '/': glob on any path component (".env", ".env.*"); commands: a name */
} sk_path_kind;

typedef enum sk_addr_kind { SK_ADDR_ANY = 0, SK_ADDR_IP, SK_ADDR_DOMAIN } sk_addr_kind;

typedef struct sk_net_match {
	sk_addr_kind kind;
	int family;            /* 4 or 6 for SK_ADDR_IP */
	uint8_t addr[16];      /* network byte order; IPv4 in the first 4 bytes */
	uint8_t prefix;        /* bits */
	char *domain;          /* lower case; "*.example.com" matches sub-domains only */
	uint16_t port_lo, port_hi;   /* 0..65535 = any */
} sk_net_match;

typedef struct sk_rule {
	sk_class cls;
	int action;            /* sk_file_action, sk_env_action or sk_action by class */
	char *arg;             /* path / pattern / name / net spec, variables expanded */
	char *arg2;            /* redact pattern: the expression (may be NULL) */
	char *id;              /* "NAME:LINE" */
	sk_path_kind path_kind;
	bool escalate;         /* a denial by this rule escalates instead */
	bool required;         /* file: a missing path is an error when applied */
	sk_net_match net;      /* SK_CLASS_NET */
	char *resolved;        /* set by sk_profile_bind: realpath of arg, when it exists */
} sk_rule;

typedef enum sk_redact_op { SK_REDACT_PATTERN = 0, SK_REDACT_DISABLE, SK_REDACT_LITERAL_FILE } sk_redact_op;
typedef enum sk_limit_kind {
	SK_LIMIT_TIMEOUT = 0, SK_LIMIT_MEMORY, SK_LIMIT_PIDS, SK_LIMIT_CPU, SK_LIMIT_OUTPUT,
	SK_LIMIT_NOFILE, SK_LIMIT_N
} sk_limit_kind;

/* A scalar setting: its value and the line that set it ("builtin" if none). */
typedef struct sk_setting {
	int value;
	const char *id;
} sk_setting;

/* A bound identity: an object named by a rule (or found beneath a denying
 * rule's directory) and where it was at bind time.  decide evaluates the
 * rules at every known location of the object it is asked about and keeps
 * the strictest verdict, so a hard link or a bind mount elsewhere does not
 * loosen anything. */
typedef struct sk_ident {
	uint64_t dev, ino;
	const char *path;      /* arena */
} sk_ident;

typedef struct sk_arena sk_arena;

typedef struct sk_profile {
	char *name;            /* top file's base name, e.g. "default" */
	char *source;          /* path the top file was read from (or the name given) */
	char *home, *workspace;      /* the ${HOME} and ${WORKSPACE} it was resolved with, or NULL */
	sk_rule *rules;        /* in resolution order (includes inlined) */
	size_t n_rules;
	sk_setting net;        /* sk_net_policy */
	sk_setting file_default;     /* sk_file_action */
	sk_setting env_default;      /* sk_env_action (PASS or DROP) */
	sk_setting command_default;  /* sk_action */
	sk_setting chain;            /* escalation chain threshold; 0 = never */
	bool escalate_class[SK_CLASS_N_DECIDING];
	const char *escalate_class_id[SK_CLASS_N_DECIDING];
	uint64_t limits[SK_LIMIT_N]; /* timeout ms, memory bytes, pids, cpu s, output bytes, nofile; 0 = unset */
	const char *limit_id[SK_LIMIT_N];
	sk_ident *idents;      /* sorted by (dev, ino); set by sk_profile_bind */
	size_t n_idents;
	bool bound;
	sk_arena *arena;       /* owns every string above */
} sk_profile;

void sk_profile_free(sk_profile *p);
static inline void sk_profile_freep(sk_profile **p) { if (*p) sk_profile_free(*p); }
#define _cleanup_profile_ _cleanup_(sk_profile_freep)

/* ---- parsing --------------------------------------------------------------- */

typedef struct sk_profile_vars {
	const char *home;       /* ${HOME}; NULL = using it is an error */
	const char *workspace;  /* ${WORKSPACE}; NULL = using it is an error */
	const char *uid;        /* ${UID} as decimal text; NULL = using it is an error */
} sk_profile_vars;

/* One profile text handed to the parser by a loader. */
typedef struct sk_profile_text {
	char *path;    /* where it came from, for messages (malloc) */
	char *key;     /* identity for include-cycle detection, e.g. "dev:ino" (malloc) */
	char *text;    /* contents, NUL-terminated (malloc) */
	size_t len;
} sk_profile_text;
void sk_profile_text_clear(sk_profile_text *t);

/* Resolve `include REF` written in the file at from_path.  Returns 0, or a
 * negative errno with err filled (the parser prefixes file:line:col). */
typedef int (*sk_profile_loader)(void *ctx, const char *from_path, const char *ref,
				 sk_profile_text *out, sk_error *err);

enum { SK_PROFILE_MAX_INCLUDE_DEPTH = 8, SK_PROFILE_MAX_BYTES = 1 << 20,
       SK_PROFILE_MAX_RULES = 10000 };

/* Parse one profile text.  path names it in messages and rule ids (its base
 * name); includes go through load (NULL: any include is an error).  Errors
 * are "path:line:col: message" in err->msg, and -EINVAL. */
int sk_profile_parse_text(const char *path, const char *text, size_t len,
			  const sk_profile_vars *vars, sk_profile_loader load, void *ctx,
			  sk_profile **out, sk_error *err);

/* ---- files and the search path (I/O: load.c) ------------------------------- */

/* The loader for real files: REF with a '/' is a path (relative to the
 * including file's directory); a bare REF is a file of that name in the
 * including file's directory, then on the search path. */
int sk_profile_file_loader(void *ctx, const char *from_path, const char *ref,
			   sk_profile_text *out, sk_error *err);

/* Find profile NAME: $STOCKADE_PROFILE_PATH (colon list),
 * $XDG_CONFIG_HOME/stockade/profiles (else ~/.config/...), /etc/stockade/profiles,
 * <dir of /proc/self/exe>/../profiles, STOCKADE_SYSCONFDIR/stockade/profiles.
 * Writes the path found into out.  -ENOENT when none has it. */
int sk_profile_find(const char *name, char *out, size_t out_len);

/* Load NAME or FILE (anything with a '/' is a FILE), resolve includes and
 * variables.  vars may be NULL: HOME, the current directory and getuid(). */
int sk_profile_load(const char *name_or_file, const sk_profile_vars *vars,
		    sk_profile **out, sk_error *err);

/* Every directory of the search path, in order, NULL-terminated (malloc'd
 * array of malloc'd strings; free with sk_strv_free). */
char **sk_profile_search_dirs(void);
void sk_strv_free(char **v);

/* ---- canonical form and digest (pure) ------------------------------------ */

/* The resolved profile as text (malloc'd): "stockade-profile 1", every
 * setting, then every rule in resolution order, each with id=NAME:LINE;
 * itself a valid profile whose canonical form is identical. */
int sk_profile_canonical(const sk_profile *p, char **out, size_t *out_len);
/* "sha256:" + 64 hex digits of the canonical form. */
#define SK_PROFILE_DIGEST_LEN (7 + 64)
int sk_profile_digest(const sk_profile *p, char out[SK_PROFILE_DIGEST_LEN + 1]);
/* The same, of a canonical form already made (no second rendering). */
void sk_profile_digest_of(const char *canonical, size_t len, char out[SK_PROFILE_DIGEST_LEN + 1]);

/* ---- binding to the host (I/O: bind.c) ------------------------------------ */

/* Resolve rule paths to their identity: for every file rule with a plain
 * path that exists, its realpath and dev:ino; for hidden/deny/secret
 * directories also the files beneath (bounded), so that a hard link
 * elsewhere still matches; for command rules the executable's identity
 * (bare names looked up in path_dirs, a colon list, NULL = a default PATH).
 * Call once, at sandbox start, before decide. */
int sk_profile_bind(sk_profile *p, const char *path_dirs, sk_error *err);
/* Record one more location of an object after binding (a name the sandbox
 * hides, found by a scan): decide then knows the object there too. */
int sk_profile_add_ident(sk_profile *p, uint64_t dev, uint64_t ino, const char *path, sk_error *err);
/* The locations bound for (dev, ino): up to cap paths into out (arena
 * strings); returns how many. */
size_t sk_profile_ident_paths(const sk_profile *p, uint64_t dev, uint64_t ino, const char **out, size_t cap);

/* ---- events, session view, decide (pure) --------------------------------- */

typedef enum sk_event_kind {
	SK_EVENT_COMMAND = 1,  /* an exec: the command itself or one seen inside */
	SK_EVENT_FILE,         /* an open (or exec) of a file */
	SK_EVENT_CONNECT,      /* a connect / sendto to an address */
	SK_EVENT_SYSCALL,      /* a syscall the filter denied */
	SK_EVENT_ENV,          /* a read of an environment variable */
} sk_event_kind;

enum {
	SK_ACCESS_READ = 1,
	SK_ACCESS_WRITE = 2,   /* includes truncate, create, unlink, rename */
	SK_ACCESS_EXEC = 4,
};

/* A file as the kernel resolved it. */
typedef struct sk_file_ref {
	const char *path;          /* the resolved absolute path (e.g. readlink of /proc/PID/fd/N) */
	const char *const *via;    /* the spellings it was reached by; recorded, never decided on */
	size_t n_via;
	/* Other paths where the same object is known to live (hard links,
	 * hidden names), supplied by whoever saw it; decided like the path,
	 * and recorded, so replay needs no live binding. */
	const char *const *aliases;
	size_t n_aliases;
	bool has_identity;
	uint64_t dev, ino;
	const char *fingerprint;   /* "sha256:HEX" of the content when known, else NULL */
	/* On a file system the sandbox itself made (its tmpfs, its /proc,
	 * its device nodes): not the host's, so no profile rule is about it;
	 * only the session (a sticky denial, a secret's content) still is. */
	bool sandbox_private;
} sk_file_ref;

typedef enum sk_net_family { SK_NET_FAMILY_INET4 = 4, SK_NET_FAMILY_INET6 = 6, SK_NET_FAMILY_UNIX = 1 } sk_net_family;

typedef struct sk_event {
	sk_event_kind kind;
	union {
		struct {
			sk_file_ref exe;           /* the resolved executable */
			const char *const *argv;   /* recorded, never decided on */
			size_t argc;
		} command;
		struct {
			sk_file_ref file;
			unsigned access;           /* SK_ACCESS_* */
		} file;
		struct {
			sk_net_family family;
			uint8_t addr[16];          /* network byte order */
			uint16_t port;
			const char *domain;        /* the name it was resolved from, when known */
			const char *unix_path;     /* SK_NET_FAMILY_UNIX: the socket path (decided as a file write) */
		} connect;
		struct {
			const char *name;          /* "ptrace" */
		} syscall;
		struct {
			const char *name;
		} env;
	};
} sk_event;

/* What decide may know of the session: for each surface key seen so far,
 * the attempts recorded before this event and whether it is sticky-denied
 * or approved.  Sorted by strcmp(key); owned by the session part. */
typedef struct sk_surface_state {
	const char *key;
	uint32_t attempts;
	bool denied;
	bool approved;
} sk_surface_state;

typedef struct sk_session_view {
	const sk_surface_state *v;
	size_t n;
} sk_session_view;

/* Canonical surface key of an event: "file:MAJ:MIN:INO" (or "file:PATH"
 * without identity), "cmd:MAJ:MIN:INO" (or "cmd:PATH"), "net:ADDR:PORT" ("net:[v6]:PORT",
 * "net:unix:PATH"), "syscall:NAME", "env:NAME".  Writes a NUL-terminated key
 * and returns its length, or -ENOSPC / -EINVAL.  4200 bytes always suffice. */
#define SK_SURFACE_KEY_MAX 4200
int sk_surface_key(const sk_event *ev, char *buf, size_t len);
/* "content:sha256:HEX" for a file or command event carrying a fingerprint;
 * 0 = written, -ENOENT = no fingerprint, -ENOSPC. */
int sk_surface_content_key(const sk_event *ev, char *buf, size_t len);
/* The class an event belongs to. */
sk_class sk_event_class(const sk_event *ev);

/* THE decision.  Pure: depends only on its arguments.  session may be NULL
 * (an empty session).  Never fails: an event it cannot evaluate is denied
 * with SK_REASON_INVALID_EVENT. */
sk_verdict sk_decide(const sk_profile *p, const sk_session_view *session, const sk_event *ev);

/* How specifically a name pattern names: its characters that are not glob
 * metacharacters.  Among the name patterns that match, decide takes the
 * one with the most (the stricter at a tie); the sandbox's workspace walk
 * uses the same rule.  Pure. */
size_t sk_pattern_literal_chars(const char *pattern);
/* path is prefix itself or lies beneath it (both absolute, clean).  Pure. */
bool sk_path_beneath(const char *path, const char *prefix);

/* ---- policy coverage (pure) ---------------------------------------------- */

typedef struct sk_coverage {
	bool has[SK_CLASS_N_DECIDING][3];  /* [class][sk_action]: an explicit rule exists */
	unsigned covered, total;           /* cells with a rule, of SK_CLASS_N_DECIDING * 3 */
} sk_coverage;
void sk_profile_coverage(const sk_profile *p, sk_coverage *out);

#endif
