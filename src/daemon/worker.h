/* The forked side of a job (src/daemon/worker.c): private to the daemon. */
#ifndef STOCKADE_DAEMON_WORKER_H
#define STOCKADE_DAEMON_WORKER_H

#include <signal.h>
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
	sk_task_fn task;        /* set: run this instead of a command */
	json_t *task_ctx;
} sk_worker_job;

/* Fork a worker in its own process group; the child restores oldmask
 * before it works.  The child's pid, or -1 with errno. */
pid_t sk_worker_spawn(const sk_worker_job *j, const sigset_t *oldmask);

#endif
