/* The forked side of a job (src/daemon/worker.c): private to the daemon. */
#ifndef STOCKADE_DAEMON_WORKER_H
#define STOCKADE_DAEMON_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

/* A task: a short job that must run as the session's owner in its state
 * dir (open a session, record a decision).  Returns the result object, or
 * {"error": MESSAGE[, "code": N]}. */
typedef json_t *(*sk_task_fn)(const char *state_dir, json_t *ctx);

typedef struct sk_worker_job {
	char **argv;
	const char *cwd, *workspace, *profile, *session, *state_dir;
	json_t *env;            /* the session's env object, or NULL */
	json_t *exec_env;       /* this exec's env over it, or NULL */
	const char *home;       /* the uid's home (HOME unless env sets it), or NULL */
	const char *stdin_data; /* the command's stdin (NULL = empty) */
	size_t stdin_len;
	uint64_t timeout_ms;    /* 0 = the profile's */
	uid_t uid;
	gid_t gid;
	int out_fd, err_fd, res_fd;   /* the write ends of the three pipes */
	int stdin_fd;           /* in the worker: the command's stdin, or -1 */
	const char *own_socket; /* the daemon's socket: hidden in the sandbox */
	sk_task_fn task;        /* set: run this instead of a command */
	json_t *task_ctx;
} sk_worker_job;

/* Hand job j to the spare worker waiting on chan (a SOCK_SEQPACKET end):
 * the job as JSON in the message (in a memfd when it is too large for one),
 * the three pipes and the stdin by SCM_RIGHTS.
 * 0 or a negative errno. */
int sk_worker_send(int chan, const sk_worker_job *j);

/* A spare worker (forked by the zygote, spares.c): wait on chan for one job
 * and do it; exits without one when the daemon closes chan. */
_Noreturn void sk_worker_spare_main(int chan);

#endif
