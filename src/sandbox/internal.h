/* Internal interfaces between the files of src/sandbox/. */
#ifndef STOCKADE_SANDBOX_INTERNAL_H
#define STOCKADE_SANDBOX_INTERNAL_H

#include <linux/filter.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/types.h>

#include "stockade/sandbox.h"

/* What the sandbox's init tells the supervisor over the report pipe. */
enum sk_report_kind {
	SK_REPORT_SETUP_FAILED = 1,  /* code = errno, msg = what failed */
	SK_REPORT_EXEC_FAILED,       /* code = errno of execve */
	SK_REPORT_EXITED,            /* code = the command's wait status */
	SK_REPORT_APPLIED,           /* code = landlock ABI that applied (0 = none) */
};

typedef struct sk_report {
	int kind;
	int code;
	char msg[240];
} sk_report;

int sk_report_send(int fd, int kind, int code, const char *msg);

/* mount_apply.c: inside the new user+mount namespace, build the root from
 * the plan and pivot into it.  Sources are opened before anything is
 * mounted, so a workspace under /tmp is not shadowed by the new root. */
int sk_mount_plan_apply(const sk_mount_plan *plan, uint64_t tmpfs_bytes, sk_error *err);

/* userns.c: map the caller's uid/gid into the child's user namespace. */
int sk_userns_map(pid_t child, uid_t uid, gid_t gid, sk_error *err);

/* net.c: bring up lo in the current (new) network namespace with libnl. */
int sk_net_loopback_up(sk_error *err);

/* caps.c: drop every capability (bounding and ambient too), lock the
 * securebits, set no_new_privs. */
int sk_caps_drop_all(sk_error *err);

/* landlock.c: writes only beneath rw_paths; returns the ABI applied (0 when
 * the kernel has none) or a negative errno. */
int sk_landlock_apply(const char *const *rw_paths, size_t n, sk_error *err);

/* seccomp.c: the filter for cfg.  The supervisor builds it while the child
 * builds its mount tree and writes the BPF program into a pipe
 * (sk_seccomp_send); the child reads it (sk_seccomp_receive) and loads it
 * last (sk_seccomp_load), so filter generation costs no latency. */
int sk_seccomp_build(const sk_sandbox_config *cfg, scmp_filter_ctx *out, sk_error *err);
/* The programs as they go down the pipe: per program its length (u32
 * bytes), then the BPF; the confinement filter, then the supervision one
 * when cfg->sup.enabled. */
#define SK_BPF_MAX (BPF_MAXINSNS * sizeof(struct sock_filter))
typedef struct sk_bpf_wire {
	char *bytes;
	size_t len;
} sk_bpf_wire;
int sk_seccomp_generate(const sk_sandbox_config *cfg, sk_bpf_wire *out, sk_error *err);
/* Well formed: one or two programs of sane lengths, nothing left over. */
bool sk_bpf_wire_valid(const sk_bpf_wire *w, bool with_notify);
int sk_seccomp_send(const sk_bpf_wire *w, int fd, sk_error *err);
/* seccomp_cache.c: sk_seccomp_generate through a cache on disk, keyed by
 * this binary's build id, libseccomp's version and the filter's inputs:
 * libseccomp takes milliseconds for what is the same program every time. */
int sk_seccomp_wire(const sk_sandbox_config *cfg, sk_bpf_wire *out, sk_error *err);
typedef struct sk_bpf_program {
	void *insns;
	size_t len;     /* bytes */
} sk_bpf_program;
/* The confinement filter, then (when supervision is on) the notification
 * filter; notify->insns stays NULL when none was sent. */
int sk_seccomp_receive(int fd, sk_bpf_program *prog, sk_bpf_program *notify, sk_error *err);
int sk_seccomp_load(const sk_bpf_program *prog, sk_error *err);
/* The supervision filter: open/creat/openat/openat2/execve/execveat/connect
 * go to the listener.  Load returns the listener fd. */
int sk_seccomp_build_notify(scmp_filter_ctx *out, bool host_net, sk_error *err);
int sk_seccomp_load_notify(const sk_bpf_program *prog, sk_error *err);

/* limits.c: resource bounds.  Cgroups where they can be had (root with v1
 * or a delegated v2 subtree), rlimits always. */
typedef struct sk_cgroup {
	char paths[3][256];   /* created cgroup directories ("" = unused) */
	size_t n;
	/* v1: each cgroup's `tasks` file, opened by the supervisor; the
	 * sandbox's init joins through them itself (sk_cgroup_join_from). */
	int tasks_fd[3];
	size_t n_tasks;
	char how[96];
} sk_cgroup;
int sk_cgroup_create(const sk_limits *lim, sk_cgroup *cg);
/* Move pid (the sandbox's init) into a v2 cgroup; v1 needs nothing here. */
int sk_cgroup_attach(const sk_cgroup *cg, pid_t pid);
/* The supervisor sends init the `tasks` files over the set-up channel
 * (none for v2 or without cgroups) and closes its copies; init, while it
 * is one thread and before it forks, joins through them.  0 or -errno. */
int sk_cgroup_send(int sock, sk_cgroup *cg);
int sk_cgroup_join_from(int sock);
void sk_cgroup_destroy(sk_cgroup *cg);
int sk_rlimits_apply(const sk_limits *lim);

/* relay.c: output pipes -> redactor -> caller. */
typedef struct sk_relay {
	int in_fd;               /* read end of the command's pipe, -1 at EOF */
	int out_fd;              /* the caller's fd */
	bool out_broken;         /* the caller stopped reading: drain and discard */
	uint64_t delivered;
	sk_redact_stream *redact;
} sk_relay;
int sk_relay_open(sk_relay *r, int in_fd, int out_fd, const sk_redactor *red);
/* Read what is available and pass it on.  Returns bytes read (0 = EOF). */
ssize_t sk_relay_pump(sk_relay *r, char *buf, size_t cap);
int sk_relay_close(sk_relay *r, const sk_redactor *red, sk_run_result *res);

/* terminal.c: a terminal on the caller's stdin, copied to the command's
 * stdin through a pipe, so that the command never holds the terminal. */
struct pollfd;
typedef struct sk_tty_relay {
	int tty_fd;      /* the caller's stdin when it is a terminal, else -1 */
	int pipe_w;      /* to the command's stdin (nonblocking); -1: not relaying */
	size_t len, off; /* what was read and not yet written */
	char buf[4096];
} sk_tty_relay;
/* *child_fd: the read end for the command's stdin, or -1 (stdin is no
 * terminal and passes through as it is). */
int sk_tty_relay_open(sk_tty_relay *t, int *child_fd);
/* This round's poll entry (fd -1: none); may shorten *timeout_ms. */
void sk_tty_relay_poll(const sk_tty_relay *t, struct pollfd *p, int *timeout_ms);
void sk_tty_relay_handle(sk_tty_relay *t, short revents);
void sk_tty_relay_close(sk_tty_relay *t);

/* init.c: pid 1 of the sandbox.  Never returns. */
typedef struct sk_child_args {
	const sk_sandbox_config *cfg;
	const sk_mount_plan *plan;
	int bpf_fd;        /* parent -> child (a stream socket): the cgroups to join, then
	                    * the seccomp BPF program */
	int sync_fd;       /* parent -> child: "g" (maps written: build the root), then
	                    * "x" (read by the command: exec) */
	int report_fd;     /* child -> parent: sk_report messages */
	int stdout_fd, stderr_fd;   /* write ends of the relay pipes */
	int stdin_fd;      /* the command's stdin when the caller's is a terminal, else -1 */
	const char *const *rw_paths; size_t n_rw;
	int event_fd;      /* child -> parent: supervision records (SOCK_SEQPACKET), -1 = off */
	const cpu_set_t *cpus;   /* the caller's CPU mask, ours again once we go; NULL = keep */
} sk_child_args;

/* broker.c: the supervisor inside the sandbox (runs in init).  Answers
 * every notification of listener until the command is gone; reports on
 * event_fd.  Returns when SIGCHLD says the command exited (its status in
 * *status) — signals from sig_fd are forwarded to cmd. */
int sk_broker_run(const sk_sandbox_config *cfg, int listener, int event_fd, int sig_fd, int report_fd,
		  pid_t cmd, int *status);
/* broker_wire.c: records over the SOCK_SEQPACKET pair. */
enum { SK_WIRE_MAX = 16384 };
int sk_wire_send_record(int fd, const sk_sup_record *rec);
int sk_wire_send_stats(int fd, const sk_sup_stats *st);
/* Decode one message: 1 = a record (rec points into buf), 2 = stats, <0 bad. */
int sk_wire_send_clean(int fd, const sk_clean_file *f);
/* 1: a record (rec), 2: the counts (st), 3: a file found clean (clean);
 * -EBADMSG. */
int sk_wire_decode(char *buf, size_t len, sk_sup_record *rec, const char **aliases, size_t max_aliases,
		   sk_sup_stats *st, sk_clean_file *clean);
__attribute__((noreturn)) void sk_sandbox_init(const sk_child_args *a);

#endif
