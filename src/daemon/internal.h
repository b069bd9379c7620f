/* stockaded's private state, shared by its files:
 *   loop.c      the poll loop, clients' input and output, drain on SIGTERM
 *   methods.c   the JSON-RPC methods
 *   sessions.c  the session table, its files under STATE_DIR/daemon, operators
 *   jobs.c      workers (execs and tasks), their results, escalation waits
 *   spares.c    the zygote that forks workers ahead of time
 *   worker.c    the forked side of a job
 *   rpc.c       framing and parameter validation (pure) */
#ifndef STOCKADE_DAEMON_INTERNAL_H
#define STOCKADE_DAEMON_INTERNAL_H

#include <limits.h>
#include <signal.h>

#include "stockade/daemon.h"
#include "worker.h"

typedef struct dsession {
	struct dsession *next;
	char id[SK_SESSION_ID_MAX + 1];
	uid_t uid;
	gid_t gid;
	char *profile, *workspace;
	char *home;             /* the uid's home, looked up once (NULL: not yet) */
	json_t *env;
	json_t *escalated_at;   /* {"CHAIN": unix ms} of escalations this daemon saw */
} dsession;

typedef struct client {
	struct client *next;
	int fd;
	uid_t uid;
	gid_t gid;
	bool operator;          /* may decide escalations and see every session */
	bool foreign;           /* from another pid namespace (a sandbox): never an operator */
	char *in;
	size_t in_len;
	char *out;
	size_t out_len, out_cap;
	uint64_t last_progress_ns;
	bool closing;           /* drop once the queued output is written */
	bool dead;
} client;

struct dmn;
struct job;
typedef void (*job_done_fn)(struct dmn *d, struct job *j, json_t *result);

typedef struct job {
	struct job *next;
	client *c;              /* NULL once the client is gone: drain and discard */
	json_t *id;
	pid_t pid;
	int fds[3];             /* stdout, stderr, result; -1 at EOF */
	char *res;
	size_t res_len;
	bool is_exec;
	bool answered;          /* the result went out (before the worker's exit) */
	bool cancelled;
	uint64_t kill_at_ns;    /* 0, or when the whole group gets SIGKILL */
	/* exec */
	json_t *params;         /* the exec's params: a re-run after approval uses them */
	uid_t uid;
	char sid[SK_SESSION_ID_MAX + 1];
	uint64_t wait_until_ns; /* 0 = an escalation is answered at once */
	json_t *after;          /* a re-run: the escalation that was approved */
	/* task */
	job_done_fn done;       /* NULL: reply with the result */
	json_t *ctx;
} job;

/* An escalated exec waiting for escalation.decide. */
typedef struct hold {
	struct hold *next;
	client *c;
	json_t *id, *params, *result;
	uid_t uid;
	char sid[SK_SESSION_ID_MAX + 1];
	uint32_t chain;
	uint64_t until_ns;
} hold;

enum { DMN_SPARES = 4 };   /* workers forked ahead, waiting for a job */

typedef struct dmn {
	const sk_daemon_options *o;
	int zfd;                /* the zygote's channel, or -1 */
	pid_t spare_pid[DMN_SPARES];
	int spare_fd[DMN_SPARES];
	unsigned n_spares, n_asked;
	uint64_t refill_at_ns;  /* when to ask the zygote for more spares, or 0 */
	char state[PATH_MAX];   /* the daemon's own state dir (resolved) */
	char socket[PATH_MAX];  /* the listening socket's path ("" = unnamed) */
	int lfd, sfd;
	dsession *sessions;
	client *clients;
	job *jobs;
	hold *holds;
	uint64_t started_ns, drain_until_ns, kill_scan_ns;
	unsigned n_sessions, n_running;
	bool stop;              /* SIGTERM: draining */
} dmn;

/* loop.c */
void dmn_send(dmn *d, client *c, char *line);   /* takes line */
void dmn_reply_error(dmn *d, client *c, json_t *id, int code, const char *msg);
void dmn_reply(dmn *d, client *c, json_t *id, json_t *result);   /* steals result */
void dmn_handle_line(dmn *d, client *c, const char *line, size_t len);

/* sessions.c */
dsession *dmn_session_find(dmn *d, const char *id, uid_t uid);
/* Any uid's session by id; uid < 0 = any, NULL when none or ambiguous. */
dsession *dmn_session_lookup(dmn *d, const char *id, int64_t uid, bool *ambiguous);
dsession *dmn_session_add(dmn *d, const char *id, uid_t uid, gid_t gid, const char *profile, const char *workspace,
			  json_t *env);
void dmn_session_remove(dmn *d, dsession *s);
void dmn_session_free(dsession *s);
int dmn_session_save(dmn *d, const dsession *s);
void dmn_sessions_load(dmn *d);
/* The state dir of uid's sessions and receipts (created, owned by uid). */
int dmn_state_dir_for(dmn *d, uid_t uid, gid_t gid, char *buf, size_t n);
bool dmn_peer_in_our_pidns(pid_t pid);
bool dmn_is_operator(const dmn *d, uid_t uid, gid_t gid, int fd);

/* spares.c: call dmn_zygote_start before anything secret is in memory. */
int dmn_zygote_start(dmn *d, sk_error *err);
/* A spare worker: its pid (its own process group) and the channel that
 * takes its job (sk_worker_send).  Asks the zygote for its replacement. */
int dmn_spare_take(dmn *d, pid_t *pid, int *chan, sk_error *err);
/* Ask for the spares taken, once their delay is over (the loop calls it). */
void dmn_spares_refill(dmn *d);
void dmn_zygote_stop(dmn *d);

/* jobs.c */
int dmn_start_exec(dmn *d, client *c, dsession *s, json_t *params, json_t *id, json_t *after, uint64_t wait_until_ns,
		   sk_error *err);
int dmn_start_task(dmn *d, client *c, const dsession *s, json_t *id, sk_task_fn fn, json_t *ctx, job_done_fn done,
		   sk_error *err);
void dmn_read_job(dmn *d, job *j, int which);
/* Kill a job's command but let its worker write the outcome receipt. */
void dmn_kill_job(dmn *d, job *j);
/* escalation.decide arrived: answer or re-run the execs waiting on it. */
void dmn_release_holds(dmn *d, uid_t uid, const char *sid, uint32_t chain, bool approve, json_t *decision);
void dmn_expire_holds(dmn *d, bool all);
void dmn_kill_sweep(dmn *d);
bool dmn_any_killing(const dmn *d);
/* Answer and free every job whose pipes are all closed. */
void dmn_jobs_reap(dmn *d);
/* A client is gone: its held execs are dropped, its running ones killed. */
void dmn_forget_client(dmn *d, client *c);
uint64_t dmn_wall_ms(void);

#endif
