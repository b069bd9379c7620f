/* stockade — sessions (src/session/): the state of one agent's conversation
 * that outlives any single command: turns, retry chains, sticky denials,
 * escalations and their answers.
 *
 * On disk: STATE_DIR/sessions/ID/journal.jsonl, one JSON object per line,
 * appended under an exclusive flock and fsync'd, never rewritten.  Loading
 * folds the journal; every append first folds what other writers (a second
 * `stockade run` of the same session) appended since, so turn and attempt
 * numbers stay dense and in order under concurrency.  A torn last line (a
 * crash mid-append) is ignored on load and cut off by the next append; any
 * other malformed line is an error naming file:line (fail closed).
 *
 * A chain is all the attempts on one surface: it is found by any of its
 * identity keys ("file:MAJ:MIN:INO", "cmd:...", "net:...") or by the
 * content key of a copy ("content:sha256:HEX").
 */
#ifndef STOCKADE_SESSION_H
#define STOCKADE_SESSION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/policy.h"
#include "stockade/util.h"

#define SK_SESSION_ID_MAX 128

typedef enum sk_escalation_state {
	SK_ESC_NONE = 0,
	SK_ESC_PENDING,     /* waiting for `stockade approve|deny` */
	SK_ESC_APPROVED,
	SK_ESC_DENIED,
} sk_escalation_state;

/* One attempt on a surface, as recorded. */
typedef struct sk_session_attempt {
	uint32_t turn;
	uint32_t n;                  /* 1-based number within its chain */
	char *op;                    /* "openat", "execve", "connect", "command" */
	char *via;                   /* the path or command line as the process gave it */
	char *path;                  /* the object's resolved path */
	sk_action verdict;
	char *reason, *rule;
	uint64_t receipt;            /* receipt sequence number, 0 = none */
	bool soft_block;             /* a timeout or failure followed this denial */
} sk_session_attempt;

typedef struct sk_session_chain {
	uint32_t id;                 /* 1-based, in order of first attempt */
	char *type;                  /* "file", "command", "net", "syscall", "env" */
	char **keys;                 /* identity keys the surface was met under */
	size_t n_keys;
	char *content;               /* "content:sha256:HEX" when known, else NULL */
	uint64_t size;               /* content size, when content is known */
	char *path;                  /* first resolved path (display; revealed on approval) */
	bool denied;                 /* sticky: some attempt was refused */
	uint32_t since_decision;     /* attempts after the last human decision */
	sk_escalation_state esc;
	uint32_t esc_turn;           /* turn the (last) escalation happened in */
	char *decision_reason, *decided_by;
	uint32_t soft_blocks;
	sk_session_attempt *v;
	size_t n, cap;
} sk_session_chain;

typedef struct sk_session {
	char *id;
	char *dir;                   /* STATE_DIR/sessions/ID */
	char *journal;               /* DIR/journal.jsonl */
	uint32_t turns;              /* turns begun so far */
	sk_session_chain *chains;
	size_t n_chains, cap_chains;
	uint64_t offset;             /* journal bytes folded so far */
	uint64_t line;               /* journal lines folded so far */
	int fd;                      /* the journal, O_RDWR | O_APPEND */
} sk_session;

/* An id is 1..128 of [A-Za-z0-9._:-], not starting with '.' or '-'. */
bool sk_session_id_valid(const char *id);

/* Open (creating when create is set) the session ID under state_dir and
 * fold its journal.  -ENOENT when it does not exist and create is false. */
int sk_session_open(const char *state_dir, const char *id, bool create, sk_session **out, sk_error *err);
void sk_session_free(sk_session *s);
static inline void sk_session_freep(sk_session **s) { if (*s) sk_session_free(*s); }
#define _cleanup_session_ _cleanup_(sk_session_freep)

/* Begin a turn: the next number, recorded with the command line. */
int sk_session_begin_turn(sk_session *s, char *const *argv, uint32_t *turn, sk_error *err);

/* One attempt to record (strings borrowed). */
typedef struct sk_session_event {
	uint32_t turn;
	const char *type, *key;      /* surface type and identity key */
	const char *content;         /* content key, or NULL */
	uint64_t size;
	const char *op, *via, *path;
	sk_action verdict;
	const char *reason, *rule;
	uint64_t receipt;
} sk_session_event;

/* Append an attempt (durable when it returns 0) and say which chain and
 * attempt number it became.  A deny or escalate makes the chain sticky;
 * an escalate makes it pending. */
int sk_session_record(sk_session *s, const sk_session_event *e, uint32_t *chain, uint32_t *attempt,
		      sk_error *err);
/* Which chain an event would join (0 = a new one), without recording. */
uint32_t sk_session_chain_of(const sk_session *s, const char *key, const char *content);

/* Tag the denials of this turn: the command then timed out or failed. */
int sk_session_soft_block(sk_session *s, uint32_t turn, const char *why, sk_error *err);

/* A human's answer to chain `chain`: approve (the surface is allowed for
 * the rest of the session) or deny (it stays denied; its escalation count
 * starts again).  -ENOENT: no such chain. */
int sk_session_decide(sk_session *s, uint32_t chain, bool approve, const char *reason, const char *by,
		      sk_error *err);

/* The view decide() gets: every identity and content key of every chain,
 * sorted.  extra (may be empty) are content keys denied from the start
 * (the profile's secret files); they merge with chains of the same key.
 * Free with sk_session_view_free. */
int sk_session_view_build(const sk_session *s, const char *const *extra, size_t n_extra,
			  sk_session_view *out);
void sk_session_view_free(sk_session_view *v);

/* A chain by id, or NULL. */
const sk_session_chain *sk_session_chain_get(const sk_session *s, uint32_t id);

/* The session as data for `stockade session show --json` and the daemon. */
json_t *sk_session_to_json(const sk_session *s);

/* Helpers for views built by hand (the broker grows its own copy). */
sk_surface_state *sk_session_view_find(sk_session_view *v, const char *key);
int sk_session_view_bump(sk_session_view *v, const char *key, bool denied);

#endif
