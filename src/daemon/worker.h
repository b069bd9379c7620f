/* The exec worker (src/daemon/worker.c): private to the daemon. */
#ifndef STOCKADE_DAEMON_WORKER_H
#define STOCKADE_DAEMON_WORKER_H

#include <signal.h>
#include <sys/types.h>

#include <jansson.h>

typedef struct sk_worker_job {
	char **argv;
	const char *cwd, *workspace, *profile, *session, *state_dir;
	json_t *env;            /* the session's env object, or NULL */
	uint32_t turn;
	uint64_t timeout_ms;    /* 0 = the profile's */
	uid_t uid;
	gid_t gid;
	int out_fd, err_fd, res_fd;   /* the write ends of the three pipes */
} sk_worker_job;

/* Fork a worker in its own process group; the child restores oldmask
 * before sk_run.  The child's pid, or -1 with errno. */
pid_t sk_worker_spawn(const sk_worker_job *j, const sigset_t *oldmask);

#endif
