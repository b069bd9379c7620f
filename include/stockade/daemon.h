/* stockaded — the long-running supervisor (src/daemon/): one Unix socket,
 * one event loop, JSON-RPC 2.0 with one message per line (docs/protocol.md).
 * Every exec runs the one run path (sk_run) in a forked worker, so the loop
 * never blocks and a crashed run never takes the daemon down. */
#ifndef STOCKADE_DAEMON_H
#define STOCKADE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "stockade/session.h"
#include "stockade/util.h"

/* JSON-RPC 2.0 error codes (and ours, in the server range). */
enum {
	SK_RPC_PARSE_ERROR = -32700,
	SK_RPC_INVALID_REQUEST = -32600,
	SK_RPC_METHOD_NOT_FOUND = -32601,
	SK_RPC_INVALID_PARAMS = -32602,
	SK_RPC_INTERNAL = -32603,
	SK_RPC_NO_SESSION = -32001,     /* unknown, closed, or another uid's session */
	SK_RPC_RUN_FAILED = -32002,     /* nothing could be run or recorded */
	SK_RPC_TOO_LARGE = -32003,      /* a line over SK_RPC_MAX_LINE */
	SK_RPC_NO_EXEC = -32004,        /* exec.cancel: no such running exec */
	SK_RPC_NOT_OPERATOR = -32005,   /* escalation.decide: the caller is not an operator */
	SK_RPC_NO_CHAIN = -32006,       /* escalation.decide: the session has no such chain */
	SK_RPC_SHUTTING_DOWN = -32007,  /* the daemon is draining: no new execs */
};

#define SK_RPC_MAX_LINE (1u << 20)

/* One parsed request.  root owns everything; id is NULL for a notification. */
typedef struct sk_rpc_msg {
	json_t *root;
	json_t *id;
	const char *method;
	json_t *params;      /* an object (an empty one when absent) */
} sk_rpc_msg;

/* Parse one line.  0, or a negative JSON-RPC code (SK_RPC_PARSE_ERROR,
 * SK_RPC_INVALID_REQUEST) with err filled; on SK_RPC_INVALID_REQUEST
 * msg->id holds the request's id when one could be read (borrowed from
 * msg->root, which the caller frees with sk_rpc_msg_free in every case). */
int sk_rpc_parse(const char *line, size_t len, sk_rpc_msg *msg, sk_error *err);
void sk_rpc_msg_free(sk_rpc_msg *msg);

/* Encoded messages: one compact line ending in '\n', malloc'd.
 * sk_rpc_result steals result. */
char *sk_rpc_result(json_t *id, json_t *result);
char *sk_rpc_error(json_t *id, int code, const char *message);
char *sk_rpc_notify(const char *method, json_t *params);   /* steals params */

/* session.open params. */
typedef struct sk_open_params {
	const char *profile;     /* NULL = "default" */
	const char *workspace;    /* NULL only when resuming a session the daemon knows */
	json_t *env;             /* borrowed object of strings, or NULL */
	const char *session;     /* an id to open or resume; NULL = a new random one */
} sk_open_params;
int sk_rpc_open_params(json_t *params, sk_open_params *out, sk_error *err);

/* exec params.  argv is malloc'd (the strings are borrowed from params);
 * free it with free(). */
typedef struct sk_exec_params {
	const char *session;
	char **argv;
	const char *cwd;         /* NULL = the session's workspace */
	uint64_t timeout_ms;     /* 0 = the profile's or the default */
	uint64_t wait_ms;        /* how long an escalation may wait for a decision; 0 = answer at once */
	json_t *env;             /* borrowed object of strings over the session's env, or NULL */
	const char *stdin_data;  /* borrowed; the command's stdin (default empty) */
	size_t stdin_len;
} sk_exec_params;
int sk_rpc_exec_params(json_t *params, sk_exec_params *out, sk_error *err);

/* escalation.decide params: {"id": "SESSION#CHAIN"} or {"session", "chain"},
 * "decision": "approve" | "deny", optional "reason" and "uid" (the session's
 * owner, for an operator when two uids use the same session id). */
typedef struct sk_decide_params {
	char session[SK_SESSION_ID_MAX + 1];
	uint32_t chain;
	bool approve;
	const char *reason;      /* borrowed, or NULL */
	int64_t uid;             /* -1 = any */
} sk_decide_params;
int sk_rpc_decide_params(json_t *params, sk_decide_params *out, sk_error *err);

/* One output chunk as exec.output params: "text" when it is valid UTF-8,
 * else "base64". */
json_t *sk_rpc_output_params(json_t *exec_id, const char *stream, const void *buf, size_t len);

/* ---- the daemon --------------------------------------------------------- */

typedef struct sk_daemon_options {
	const char *socket_path;  /* NULL with listen_fd >= 0 (socket activation) */
	int listen_fd;            /* an inherited listening socket, or -1 */
	const char *state_dir;    /* receipts; per-uid subdirectories for other uids */
	size_t client_buffer;     /* bytes queued to one client before it is dropped */
	unsigned stall_ms;        /* a client that reads nothing this long with output queued is dropped */
	unsigned grace_ms;        /* SIGTERM: running commands get this long before they are killed */
	const uid_t *operator_uids;   /* may decide escalations (root always may) */
	size_t n_operator_uids;
	const gid_t *operator_gids;   /* ... and so may members of these groups */
	size_t n_operator_gids;
	void (*on_ready)(void);   /* called once signals are handled (sd_notify), or NULL */
} sk_daemon_options;

/* Run the event loop until SIGTERM/SIGINT, then drain: no new work, running
 * commands get grace_ms, then are killed (and still receipted).  Sessions
 * are reloaded from STATE_DIR/daemon at start.  0, or a negative errno. */
int sk_daemon_run(const sk_daemon_options *o, sk_error *err);

#endif
