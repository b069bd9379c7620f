/* Resource bounds: a cgroup where one can be had (root with cgroup v1, or a
 * delegated cgroup v2 subtree), and rlimits always.  Which applied is
 * reported, never assumed. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>

#include "internal.h"

/* Our own cgroup path for a v1 controller, or for v2 when controller is "". */
static int own_cgroup(const char *controller, char *out, size_t cap)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
	char line[512];
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *path;
		if (!ctrls || !(path = strchr(++ctrls, ':')))
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		bool match = controller[0] ? false : ctrls[0] == '\0';
		for (char *save, *c = controller[0] ? strtok_r(ctrls, ",", &save) : NULL; c;
		     c = strtok_r(NULL, ",", &save))
			match |= !strcmp(c, controller);
		if (match)
			return snprintf(out, cap, "%s", path) >= (int)cap ? -ENAMETOOLONG : 0;
	}
	return -ENOENT;
}

static int knob(const char *dir, const char *name, uint64_t value)
{
	char path[512], text[32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
	return sk_write_file(path, text);
}

/* A supervisor killed with SIGKILL leaves its cgroup behind (empty: the
 * sandbox died with it), and a host keeps only so many (65535 memory
 * cgroups).  Each run removes those of its siblings whose supervisor is
 * gone; a live one's may still be empty (its child joins later) and is
 * left alone, and so is one whose pid was reused (harmless). */
static void sweep_stale(const char *parent)
{
	DIR *d = opendir(parent);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		if (strncmp(e->d_name, "stockade-", 9) || e->d_type != DT_DIR)
			continue;
		long pid = strtol(e->d_name + 9, &end, 10);
		if (*end || pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[512];
		if (snprintf(path, sizeof(path), "%s/%s", parent, e->d_name) < (int)sizeof(path))
			rmdir(path);   /* EBUSY: not empty after all; left */
	}
	closedir(d);
}

static int make_child(const char *base, const char *own, char *out, size_t cap)
{
	if (snprintf(out, cap, "%s%s/stockade-%d", base, strcmp(own, "/") ? own : "", (int)getpid()) >= (int)cap)
		return -ENAMETOOLONG;
	if (mkdir(out, 0755) < 0)
		return -errno;
	char *slash = strrchr(out, '/');
	*slash = '\0';
	sweep_stale(out);
	*slash = '/';
	return 0;
}

/* What a cgroup made under dir gets: dir's subtree_control is its child's
 * cgroup.controllers. */
static bool hands_down_controllers(const char *dir)
{
	char path[512];
	_cleanup_free_ char *text = NULL;
	if (snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir) >= (int)sizeof(path))
		return false;
	if (sk_read_file(path, 4096, &text, NULL) < 0)
		return false;
	return strstr(text, "pids") && strstr(text, "memory");
}

static const char *cgroup2_mount(void)
{
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup";
	if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

static bool try_v2(const sk_limits *lim, sk_cgroup *cg)
{
	char own[256];
	const char *mnt = cgroup2_mount();
	if (!mnt || own_cgroup("", own, sizeof(own)) < 0)
		return false;
	/* Asked of our own cgroup, before any is made: no cgroup made and
	 * removed on every run where nothing is delegated (a hybrid host). */
	char parent[512];
	snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") ? own : "");
	if (!hands_down_controllers(parent))
		return false;
	char *dir = cg->paths[0];
	if (make_child(mnt, own, dir, sizeof(cg->paths[0])) < 0)
		return false;
	if ((lim->pids && knob(dir, "pids.max", lim->pids) < 0) ||
	    (lim->memory_bytes && knob(dir, "memory.max", lim->memory_bytes) < 0)) {
		rmdir(dir);
		dir[0] = '\0';
		return false;
	}
	if (lim->memory_bytes)
		knob(dir, "memory.swap.max", 0);   /* absent without swap accounting */
	cg->n = 1;
	snprintf(cg->how, sizeof(cg->how), "cgroup v2 (pids, memory) + rlimits");
	return true;
}

static bool try_v1(const sk_limits *lim, sk_cgroup *cg)
{
	static const char *const ctrls[] = { "pids", "memory" };
	for (size_t i = 0; i < SK_ARRAY_LEN(ctrls); i++) {
		char own[256], base[64];
		snprintf(base, sizeof(base), "/sys/fs/cgroup/%s", ctrls[i]);
		char *dir = cg->paths[cg->n];
		if (own_cgroup(ctrls[i], own, sizeof(own)) < 0 || make_child(base, own, dir, sizeof(cg->paths[0])) < 0)
			goto undo;
		cg->n++;
		int r = i == 0 ? (lim->pids ? knob(dir, "pids.max", lim->pids) : 0)
			       : (lim->memory_bytes ? knob(dir, "memory.limit_in_bytes", lim->memory_bytes) : 0);
		if (r < 0)
			goto undo;
		if (i == 1 && lim->memory_bytes)
			knob(dir, "memory.memsw.limit_in_bytes", lim->memory_bytes);  /* absent without swap accounting */
		char tasks[512];
		snprintf(tasks, sizeof(tasks), "%s/tasks", dir);
		int fd = open(tasks, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			goto undo;
		cg->tasks_fd[cg->n_tasks++] = fd;
	}
	snprintf(cg->how, sizeof(cg->how), "cgroup v1 (pids, memory) + rlimits");
	return true;
undo:
	sk_cgroup_destroy(cg);
	return false;
}

int sk_cgroup_create(const sk_limits *lim, sk_cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	for (size_t i = 0; i < SK_ARRAY_LEN(cg->tasks_fd); i++)
		cg->tasks_fd[i] = -1;
	snprintf(cg->how, sizeof(cg->how), "rlimits only (no writable cgroup)");
	if (!lim->pids && !lim->memory_bytes)
		return 0;
	if (!try_v2(lim, cg))
		try_v1(lim, cg);
	return 0;
}

static void close_tasks_fds(sk_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_tasks; i++)
		if (cg->tasks_fd[i] >= 0) {
			close(cg->tasks_fd[i]);
			cg->tasks_fd[i] = -1;
		}
}

int sk_cgroup_send(int sock, sk_cgroup *cg)
{
	int r = sk_send_fds(sock, "C", 1, cg->tasks_fd, cg->n_tasks);
	close_tasks_fds(cg);   /* init has its own now */
	return r;
}

/* Moving a process (cgroup.procs) takes the kernel's global threadgroup
 * lock for writing, which waits out an RCU grace period: 8 to 17 ms on
 * every run on the test machine, unless another move had just happened
 * (back-to-back runs do not see it; an agent's, seconds apart, do).  A
 * single thread moving itself ("0" into v1's `tasks`) does not take that
 * lock (0.06-0.12 ms): the sandbox's init joins its v1 cgroups itself,
 * while it is one thread and before it forks, through files opened here
 * (the kernel checks the opener's credentials).  v2 has no such file for a
 * domain cgroup; there the supervisor still moves the child. */
int sk_cgroup_join_from(int sock)
{
	char c;
	int fds[3];
	size_t n;
	ssize_t got;
	do
		n = SK_ARRAY_LEN(fds);
	while ((got = sk_recv_fds(sock, &c, 1, fds, &n)) == -EINTR);
	int r = got == 1 && c == 'C' ? 0 : got < 0 ? (int)got : -EPROTO;
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && write(fds[i], "0", 1) != 1)
			r = errno ? -errno : -EIO;
		close(fds[i]);
	}
	return r;
}

int sk_cgroup_attach(const sk_cgroup *cg, pid_t pid)
{
	if (cg->n_tasks)
		return 0;   /* v1: the child joins by itself */
	for (size_t i = 0; i < cg->n; i++)
		if (knob(cg->paths[i], "cgroup.procs", (uint64_t)pid) < 0)
			return -errno ? -errno : -EIO;
	return 0;
}

void sk_cgroup_destroy(sk_cgroup *cg)
{
	close_tasks_fds(cg);
	cg->n_tasks = 0;
	for (size_t i = 0; i < cg->n; i++) {
		/* The pid namespace's last processes may still be exiting. */
		for (int tries = 0; tries < 4000 && rmdir(cg->paths[i]) < 0 && errno == EBUSY; tries++)
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
		cg->paths[i][0] = '\0';
	}
	cg->n = 0;
}

static int set_limit(int resource, uint64_t soft, uint64_t hard)
{
	struct rlimit rl = { .rlim_cur = soft, .rlim_max = hard };
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

int sk_rlimits_apply(const sk_limits *lim)
{
	int r = set_limit(RLIMIT_CORE, 0, 0);
	/* RLIMIT_NPROC counts per uid inside the new user namespace. */
	if (r == 0 && lim->pids)
		r = set_limit(RLIMIT_NPROC, lim->pids, lim->pids);
	/* RLIMIT_DATA, not RLIMIT_AS: runtimes reserve huge PROT_NONE ranges. */
	if (r == 0 && lim->memory_bytes)
		r = set_limit(RLIMIT_DATA, lim->memory_bytes, lim->memory_bytes);
	/* SIGXCPU at the limit, SIGKILL a second later. */
	if (r == 0 && lim->cpu_seconds)
		r = set_limit(RLIMIT_CPU, lim->cpu_seconds, lim->cpu_seconds + 1);
	if (r == 0 && lim->nofile)
		r = set_limit(RLIMIT_NOFILE, lim->nofile, lim->nofile);
	return r;
}
