/* The MCP server's parts, private to the cli (src/cli/mcp_*.c, cmd_mcp.c).
 *
 * mcp_proto.c is the protocol (pure: a JSON line in, a JSON line out): both
 * eras of the specification — the 2025-era `initialize` handshake and the
 * stateless 2026-07-28 revision whose requests carry their version in _meta.
 * mcp_tools.c validates tool arguments and shapes tool results (pure).
 * mcp_text.c makes command output safe to put in JSON (pure).
 * cmd_mcp.c is the I/O: stdin/stdout, sessions, and sk_run. */
#ifndef STOCKADE_CLI_MCP_H
#define STOCKADE_CLI_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SK_MCP_MODERN_VERSION "2026-07-28"
#define SK_MCP_LEGACY_LATEST "2025-11-25"
#define SK_MCP_META_VERSION "io.modelcontextprotocol/protocolVersion"
#define SK_MCP_META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define SK_MCP_META_SERVER "io.modelcontextprotocol/serverInfo"

enum {
	SK_MCP_PARSE_ERROR = -32700,
	SK_MCP_INVALID_REQUEST = -32600,
	SK_MCP_METHOD_NOT_FOUND = -32601,
	SK_MCP_INVALID_PARAMS = -32602,
	SK_MCP_INTERNAL_ERROR = -32603,
	SK_MCP_UNSUPPORTED_VERSION = -32022,   /* 2026-07-28: UnsupportedProtocolVersionError */
};

/* Bounds on what a client may ask for. */
#define SK_MCP_MAX_ARGV 4096
#define SK_MCP_MAX_TIMEOUT_S (24 * 3600)
#define SK_MCP_SESSION_MAX 128

/* One run_command, validated.  Strings are borrowed from the request. */
typedef struct sk_mcp_call {
	const char **argv;       /* NULL-terminated, malloc'd array (free it) */
	const char *cwd;         /* NULL = the workspace; relative = under it */
	uint64_t timeout_ms;     /* 0 = the profile's */
	const char *session;     /* NULL = the connection's session */
} sk_mcp_call;

/* What one run produced, as the result shows it. */
typedef struct sk_mcp_outcome {
	const char *session;
	bool failed;             /* nothing could be run or recorded (fail closed) */
	const char *error;       /* why, when failed */
	bool ran, denied, timed_out, output_capped;
	bool escalated;          /* the command or an event in it escalated */
	uint32_t chain;          /* the session's retry chain that escalated, 0 = none */
	int exit_code;
	const char *verdict, *reason, *rule;
	const char *out, *err;   /* redacted output; need not be valid UTF-8 */
	size_t out_len, err_len;
	uint64_t out_omitted, err_omitted;   /* bytes left out of the result */
	uint64_t redactions;
	uint64_t command_receipt, outcome_receipt;
	uint64_t duration_ms;
} sk_mcp_outcome;

/* What the protocol layer needs from the server process. */
typedef struct sk_mcp_host {
	/* Run one call; fill *out (its strings stay valid until the next call).
	 * 0, or a negative errno when the call could not even be attempted. */
	int (*run)(void *ctx, const sk_mcp_call *call, sk_mcp_outcome *out);
	/* The status of a session as a JSON object (new reference). */
	json_t *(*status)(void *ctx, const char *session);
	void *ctx;
} sk_mcp_host;

typedef struct sk_mcp_server {
	sk_mcp_host host;
	char legacy_version[16];  /* negotiated by initialize; "" before */
	bool initialized;         /* notifications/initialized seen */
} sk_mcp_server;

/* ---- mcp_proto.c --------------------------------------------------------- */

/* Handle one message (one line, without its newline).  *reply is the
 * answer as one malloc'd JSON line without newline, or NULL when none is
 * due (notifications, responses).  Returns 0, or -ENOMEM. */
int sk_mcp_handle_line(sk_mcp_server *s, const char *line, size_t len, char **reply);

/* The version initialize answers for a requested one. */
const char *sk_mcp_negotiate_legacy(const char *requested);
bool sk_mcp_modern_supported(const char *version);

/* ---- mcp_tools.c --------------------------------------------------------- */

json_t *sk_mcp_tools_json(void);
/* Validate run_command's arguments.  On error returns -EINVAL and writes
 * a sentence for the model into why. */
int sk_mcp_parse_run(json_t *args, sk_mcp_call *call, char *why, size_t why_len);
/* session_status's session argument (NULL when absent); -EINVAL + why. */
int sk_mcp_parse_status(json_t *args, const char **session, char *why, size_t why_len);
bool sk_mcp_session_id_valid(const char *id);
/* A CallToolResult for a run (new reference). */
json_t *sk_mcp_run_result(const sk_mcp_outcome *o);
/* A CallToolResult carrying a tool error (isError) for the model. */
json_t *sk_mcp_tool_error(const char *msg);

/* ---- mcp_text.c ---------------------------------------------------------- */

/* A valid UTF-8 copy of s[0..n): each invalid byte becomes U+FFFD.
 * malloc'd, NUL-terminated; *out_len its length. */
char *sk_utf8_sanitize(const char *s, size_t n, size_t *out_len);

#endif
