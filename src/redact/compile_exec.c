/* rx_patterns_compile for the stockade binary: the helper stockade-rulec
 * compiles the rules, and this process loads what it wrote exactly as it
 * loads a cache entry.  The binary then links only Vectorscan's runtime:
 * the compiler (90 static constructors spread over 5 MB of code, and
 * libstdc++) cost every run's start ~0.5 ms of page faults, to be used
 * only on a cold cache.  The daemon and the tests link compile.c.
 *
 * The helper is looked for next to this binary (a build tree), then in
 * STOCKADE_LIBEXECDIR (an installed one).  Input and output are memfds:
 * no pipe to deadlock on, and the output is loaded where it lies. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#ifndef STOCKADE_LIBEXECDIR
#define STOCKADE_LIBEXECDIR "/usr/local/lib/stockade"
#endif
#define HELPER "stockade-rulec"

extern char **environ;

int rx_compile_som(const rx_rule *r, hs_database_t **out, sk_error *err)
{
	(void)r;
	(void)out;
	(void)err;
	return -ENOSYS;   /* the caller fails closed: the rule's whole width */
}

static int find_helper(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash && snprintf(out, cap, "%.*s/" HELPER, (int)(slash - self), self) < (int)cap &&
		    access(out, X_OK) == 0)
			return 0;
	}
	if (snprintf(out, cap, "%s/" HELPER, STOCKADE_LIBEXECDIR) < (int)cap && access(out, X_OK) == 0)
		return 0;
	return -ENOENT;
}

/* The helper runs with a clean signal state: the caller may have signals
 * blocked or ignored (stockade run does, while its sandbox starts). */
static int spawn_helper(const char *path, int in, int out, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	char *const argv[] = { (char *)HELPER, NULL };
	int e = posix_spawn(pid, path, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return -e;
}

/* What a failed helper said: "SKER", an errno, the message. */
static int helper_error(int fd, int status, const char *path, sk_error *err)
{
	char buf[sizeof(err->msg) + 8] = "";
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	int32_t code;
	if (n >= 8 && !memcmp(buf, "SKER", 4)) {
		buf[n] = '\0';
		memcpy(&code, buf + 4, 4);
		return sk_fail(err, code > 0 ? code : EINVAL, "%s", buf + 8);
	}
	return sk_fail(err, EIO, "cannot compile the redaction rules: %s %s %d", path,
		       WIFSIGNALED(status) ? "was killed by signal" : "exited with status",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
}

int rx_patterns_compile(const rx_ruleset *rs, bool with_som, rx_patterns *p, sk_error *err)
{
	(void)with_som;   /* always: without the compiler, none can be made later */
	*p = (rx_patterns){ .n = rs->n, .som_fd = -1 };
	if (rs->n == 0)
		return 0;
	char path[PATH_MAX];
	if (find_helper(path, sizeof(path)) < 0)
		return sk_fail(err, ENOENT, "cannot compile the redaction rules: %s not found next to stockade "
			       "nor in %s; reinstall stockade", HELPER, STOCKADE_LIBEXECDIR);
	_cleanup_free_ uint8_t *wire = NULL;
	size_t len;
	int e = rx_rules_encode(rs, &wire, &len);
	if (e < 0)
		return sk_fail_errno(err, -e, "cannot pass the redaction rules to %s", HELPER);
	int in = sk_memfd_of("stockade-rules", wire, len), out = memfd_create("stockade-rulesdb", MFD_CLOEXEC);
	pid_t pid = -1;
	if (in < 0 || out < 0)
		e = in < 0 ? in : -errno;
	else
		e = spawn_helper(path, in, out, &pid);
	int status = 0;
	while (e == 0 && waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			e = -errno;
	if (in >= 0)
		close(in);
	if (e < 0) {
		if (out >= 0)
			close(out);
		return sk_fail_errno(err, -e, "cannot run %s", path);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		e = helper_error(out, status, path, err);
		close(out);
		return e;
	}
	/* Loaded like a cache entry: the header checked now, the databases
	 * when the first stream loads them (sk_redactor_ready). */
	if ((e = rx_cache_load_fd(out, rs->n, p)) < 0)
		return sk_fail_errno(err, -e, "%s wrote no valid pattern databases", path);
	return 0;
}
