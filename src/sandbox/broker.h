/* Private to the broker files (broker.c, broker_open.c, broker_net.c). */
#ifndef STOCKADE_SANDBOX_BROKER_H
#define STOCKADE_SANDBOX_BROKER_H

#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/stat.h>

#include "internal.h"

enum { BROKER_PATH_MAX = 4096, BROKER_MAX_OWN = 32, BROKER_MAX_PRIVATE = 16 };

/* What the broker's threads share.  One lock serializes everything they do
 * but waiting for a notification and the wait inside
 * SECCOMP_IOCTL_NOTIF_ADDFD, so decide, the records and their order are as
 * with one thread. */
enum { BROKER_VALUE_MEMO = 256 };

/* What a file held the last time it was read for secret values, by its
 * identity and its change time (any write moves ctime). */
typedef struct value_memo {
	uint64_t dev, ino, size;
	struct timespec mtime, ctime;
	const char *content;      /* the secret's content key, or NULL: none */
	uint64_t content_size;
	bool used;
} value_memo;

typedef struct broker_shared {
	pthread_mutex_t lock;
	value_memo memo[BROKER_VALUE_MEMO];
} broker_shared;

typedef struct broker {
	const sk_sandbox_config *cfg;
	broker_shared *shared;
	int listener, event_fd;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	size_t req_size, resp_size;
	sk_sup_stats stats;
	struct { uint64_t dev, ino; } own[BROKER_MAX_OWN];   /* our own fds: never handed out */
	size_t n_own;
	uint64_t empty_dev, empty_ino;   /* the hidden-file stand-in */
	uint64_t private_devs[BROKER_MAX_PRIVATE];
	size_t n_private;
	bool private_net;
	bool escalated;
	int give_fd;              /* to hand over once the lock is let go, or -1 */
	int pidfd;                /* of thread pidfd_tid (PIDFD_THREAD), kept for the next call; or -1 */
	pid_t pidfd_tid;
	uint32_t give_cloexec;
} broker;

/* What one supervised access resolved to. */
typedef struct resolved {
	char path[BROKER_PATH_MAX];      /* as the kernel names the object */
	struct stat st;
	bool has_object;
} resolved;

/* broker_open.c */
int broker_read_string(broker *b, uint64_t addr, char *buf, size_t cap);
bool broker_still_valid(broker *b);
/* The path as the broker must open it for the thread tid (/proc/self and
 * /dev/fd rewritten; relative paths get a directory fd in *dfd). */
int broker_prepare(broker *b, int dirfd_arg, const char *path, char *out, size_t cap, int *dfd);
/* Fill r from an fd the broker opened; -EACCES when it is one of ours. */
int broker_describe(broker *b, int fd, resolved *r);
/* Best-effort name of what a failed access aimed at (for the record). */
void broker_name_missing(int dfd, const char *path, char *out, size_t cap);
bool broker_system_path(const char *path);
/* A numeric field of /proc/TID/status ("Umask:", "Tgid:") in base, or
 * fallback when it cannot be read. */
long broker_status_field(pid_t tid, const char *field, int base, long fallback);
/* Decide the file event for r / path and report it; the verdict. */
sk_verdict broker_decide_file(broker *b, const char *op, const char *via, const resolved *r,
			      const char *missing_path, unsigned access, int fd, int error);
void broker_handle_open(broker *b, int nr_kind);
/* Hand over the fd an allowed open left in b->give_fd, without the lock
 * (ADDFD sleeps until the opener has taken it). */
void broker_give_pending(broker *b);

/* broker_values.c: 1 and the content key and size of the secret whose
 * value the file open on fd holds, 0 when it holds none or is not looked
 * at, negative errno when it cannot be read. */
int broker_value_holder(broker *b, const resolved *r, int fd, const char **content, uint64_t *size);

/* broker.c */
static inline void broker_lock(broker *b) { pthread_mutex_lock(&b->shared->lock); }
static inline void broker_unlock(broker *b) { pthread_mutex_unlock(&b->shared->lock); }
void broker_respond(broker *b, int64_t val, int error, uint32_t flags);
void broker_report(broker *b, sk_sup_record *rec);
void broker_after_verdict(broker *b, const sk_verdict *v);
/* A refusal that is an attempt on a surface (recorded), not a mere refusal
 * of the kernel's (a hidden HOME probe, a read-only write). */
bool broker_is_attempt(const sk_verdict *v, int error);
bool broker_mere_refusal(const sk_verdict *v, int error);
/* Sent out of the sandbox as a record: every verdict but a plain allow. */
bool broker_reportable(const sk_verdict *v);
/* Decide ev, report it when it is an attempt, count it (an escalation
 * stops the command); true: allowed. */
bool broker_decide_event(broker *b, sk_event *ev, const char *op, const char *via);
/* Let the call through (the kernel performs it), or refuse it (EACCES). */
void broker_answer(broker *b, bool allowed);

/* broker_net.c */
void broker_handle_connect(broker *b, int nr_kind);
void broker_handle_sendmsg(broker *b, int nr_kind);

enum { K_OPEN = 1, K_CREAT, K_OPENAT, K_OPENAT2, K_EXECVE, K_EXECVEAT, K_CONNECT, K_SENDTO, K_SENDMSG, K_SENDMMSG };

#endif
