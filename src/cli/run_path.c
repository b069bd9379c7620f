/* The one run path every front end calls (the prefix wrapper, the daemon,
 * MCP): request -> profile -> decide(command) -> receipt -> sandbox with
 * the redactor on every output byte -> outcome receipt -> result.
 * Any failure to evaluate or to record denies the command (fail closed). */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/audit.h"
#include "stockade/cli.h"
#include "stockade/policy.h"
#include "stockade/redact.h"
#include "stockade/sandbox.h"

#include "run_internal.h"

void sk_request_init(sk_request *req)
{
	memset(req, 0, sizeof(*req));
	req->net = -1;
	req->stdout_fd = 1;
	req->stderr_fd = 2;
	req->limits = (sk_limits){ .timeout_ms = SK_DEFAULT_TIMEOUT_MS, .memory_bytes = SK_DEFAULT_MEMORY,
				   .pids = SK_DEFAULT_PIDS, .output_bytes = SK_DEFAULT_OUTPUT };
}

/* The executable the sandbox will run, resolved on the host: the system
 * directories and the workspace are the same files inside. */
static void resolve_exe(const char *name, const char *cwd, char *const *envp, char *out, size_t n,
			struct stat *st, bool *found)
{
	*found = false;
	/* Not found: decide on the absolute spelling; the sandbox says 127. */
	size_t cl = name[0] == '/' ? 0 : strlen(cwd), nl = strlen(name);
	if (cl + nl + 2 > n) {
		snprintf(out, n, "/%s", "(name too long)");
	} else {
		memcpy(out, cwd, cl);
		out[cl] = '/';
		memcpy(out + cl + (cl ? 1 : 0), name, nl + 1);
	}
	if (strchr(name, '/')) {
		char joined[PATH_MAX * 2 + 2];
		snprintf(joined, sizeof(joined), "%s%s%s", name[0] == '/' ? "" : cwd, name[0] == '/' ? "" : "/", name);
		if (realpath(joined, out) && stat(out, st) == 0)
			*found = true;
		return;
	}
	const char *path = "/usr/local/bin:/usr/bin:/bin";
	for (char *const *e = envp; *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		char cand[PATH_MAX * 2 + 2];
		if ((size_t)(end - p) >= PATH_MAX)
			break;
		snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p, name);
		if (cand[0] == '/' && stat(cand, st) == 0 && S_ISREG(st->st_mode) && realpath(cand, out)) {
			*found = true;
			return;
		}
		p = *end ? end + 1 : end;
	}
}

static void run_state_free(run_state *s)
{
	sk_run_session_free(s);
	sk_profile_env_free(&s->env);
	free(s->envp);
	sk_redactor_free(s->redactor);
	sk_audit_close(s->log);
	free(s->canonical);
	free(s->cache_dir);
	sk_git_secrets_free(&s->git_secrets);
	sk_git_guard_free(&s->git_guard);
	if (s->profile)
		sk_profile_free(s->profile);
}

static int resolve_dirs(const sk_request *req, run_state *s, sk_error *err)
{
	char here[PATH_MAX];
	const char *cwd = req->cwd;
	if (!cwd) {
		if (!getcwd(here, sizeof(here)))
			return sk_fail_errno(err, errno, "cannot read the current directory");
		cwd = here;
	}
	const char *ws = req->workspace ? req->workspace : cwd;
	struct stat st;
	if (!realpath(ws, s->workspace) || stat(s->workspace, &st) < 0)
		return sk_fail(err, ENOENT, "workspace '%s' does not exist; create it or pass --workspace DIR", ws);
	if (!S_ISDIR(st.st_mode))
		return sk_fail(err, ENOTDIR, "workspace '%s' is not a directory", ws);
	if (!strcmp(s->workspace, "/"))
		return sk_fail(err, EINVAL, "the workspace cannot be /; pass --workspace DIR");
	size_t wl = strlen(s->workspace);
	/* The command starts where the caller is, when that is inside the workspace. */
	if (realpath(cwd, s->cwd) && !strncmp(s->cwd, s->workspace, wl) &&
	    (s->cwd[wl] == '/' || s->cwd[wl] == '\0'))
		s->cfg.cwd = s->cwd;
	else
		snprintf(s->cwd, sizeof(s->cwd), "%s", s->workspace);
	s->cfg.workspace = s->workspace;
	return 0;
}

/* The private HOME sits where the caller's is, so paths in tools still fit. */
static void choose_home(char *const *environ_in, run_state *s)
{
	const char *h = NULL;
	for (char *const *e = environ_in; *e; e++)
		if (!strncmp(*e, "HOME=", 5))
			h = *e + 5;
	if (!h || h[0] != '/' || !strcmp(h, "/") || strstr(h, "/.") || strstr(h, "//") ||
	    strlen(h) >= sizeof(s->home))
		h = "/home/stockade";
	snprintf(s->home, sizeof(s->home), "%s", h);
	size_t n = strlen(s->home);
	while (n > 1 && s->home[n - 1] == '/')
		s->home[--n] = '\0';
}

/* The profile's environment, with HOME naming the private home and a
 * marker that tells tools they are sandboxed. */
static int final_env(run_state *s, sk_error *err)
{
	size_t n = 0;
	while (s->env.envp && s->env.envp[n])
		n++;
	if (!(s->envp = calloc(n + 3, sizeof(*s->envp))))
		return sk_fail(err, ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(s->env.envp[i], "HOME=", 5) && strncmp(s->env.envp[i], "STOCKADE_SANDBOX=", 17))
			s->envp[k++] = s->env.envp[i];
	snprintf(s->home_env, sizeof(s->home_env), "HOME=%s", s->home);
	s->envp[k++] = s->home_env;
	s->envp[k++] = (char *)"STOCKADE_SANDBOX=1";
	s->cfg.envp = s->envp;
	return 0;
}

static int load_profile(const sk_request *req, run_state *s, sk_error *err)
{
	char uid[24];
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	sk_profile_vars vars = { .home = s->home, .workspace = s->workspace, .uid = uid };
	const char *name = req->profile ? req->profile : "default";
	int r = sk_profile_load(name, &vars, &s->profile, err);
	if (r < 0)
		return r;
	if ((r = sk_profile_bind(s->profile, NULL, err)) < 0)
		return r;
	/* --net overrides the profile for the mount of the network and for the
	 * decisions on connects alike; the digest is of the profile that was
	 * in force, so replay agrees. */
	if (req->net >= 0) {
		s->profile->net.value = req->net == SK_NET_HOST ? SK_NETP_HOST : SK_NETP_NONE;
		s->profile->net.id = "command-line";
	}
	size_t len;
	if ((r = sk_profile_canonical(s->profile, &s->canonical, &len)) < 0)
		return sk_fail_errno(err, -r, "cannot compute the profile digest");
	sk_profile_digest_of(s->canonical, len, s->digest);
	return 0;
}

/* stockade's own state is no business of the command, whatever the
 * profile lets it see: the signing key, the receipts, the session journals
 * that hold its sticky denials, the system daemon's sessions (every uid's
 * env), the caches whose seccomp programs later runs load, and the daemon's
 * socket (whose operator calls would approve the command's own escalations;
 * the daemon also refuses them from a sandbox).  None of it is in the
 * sandbox; a workspace inside it is refused. */
/* One of stockade's own paths, where it exists: hidden, or the run refused
 * when the workspace lies inside it. */
static int hide_own(run_state *s, const char *path, sk_error *err)
{
	char real[PATH_MAX];
	if (!path || !realpath(path, real))
		return 0;
	if (sk_path_beneath(s->workspace, real))
		return sk_fail(err, EINVAL, "the workspace '%s' is inside stockade's own state '%s'; "
			       "pass another --workspace", s->workspace, real);
	return sk_profile_env_force(&s->env, &s->cfg, real, SK_FS_HIDE, err);
}

static int hide_own_state(const sk_request *req, run_state *s, sk_error *err)
{
	char sock[PATH_MAX];
	const char *cache = s->cache_dir, *state = s->state_dir;   /* no cache: nothing to hide */
	int r = sk_audit_state_dir(req->state_dir, s->state_dir, sizeof(s->state_dir), err);
	if (r < 0)
		return r;
	/* Made now if missing, or this run's receipts and cache would appear
	 * after the mount tree was planned.  A failure is no hole: a state dir
	 * that cannot be made fails the run at open_log, a cache dir that
	 * cannot be made holds nothing. */
	(void)sk_mkdir_p(state, 0700);
	if (cache)
		(void)sk_mkdir_p(cache, 0700);
	const char *own[] = { state, cache, SK_SYSTEM_STATE_DIR, sk_default_socket(sock, sizeof(sock)) };
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(own); i++)
		r = hide_own(s, own[i], err);
	for (size_t i = 0; r == 0 && i < req->n_own_paths; i++)
		r = hide_own(s, req->own_paths[i], err);
	return r;
}

/* The profile's rule for path: its own or the deepest directory's above it
 * (rules, not mounts), or NULL. */
static const sk_fs_rule *covering_rule(const run_state *s, const char *path)
{
	const sk_fs_rule *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < s->env.n_fs; i++) {
		size_t n = strlen(s->env.fs[i].path);
		if (!strncmp(s->env.fs[i].path, path, n) && (path[n] == '\0' || path[n] == '/') && n >= best_len) {
			best = &s->env.fs[i];
			best_len = n;
		}
	}
	return best;
}

/* path (a config file; seps: its key-value separators), when it holds a
 * credential, is shown read-only and without it: a sanitized copy in the
 * state directory (hidden from the sandbox, content-addressed) is bound
 * there instead, and the values taken out become redaction literals
 * (build_redactor).  One without a credential is left as it is. */
static int show_config_sanitized(run_state *s, const char *path, const char *seps, sk_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (sk_read_file(path, 1 << 20, &text, &len) < 0)
		return 0;   /* unreadable here: unreadable in the sandbox too */
	int e = 0;
	_cleanup_free_ char *clean = sk_config_sanitize(text, len, seps, &s->git_secrets, &e);
	if (!clean)
		return e ? sk_fail_errno(err, -e, "cannot read %s", path) : 0;
	unsigned char h[16];
	char hex[33], dir[PATH_MAX], copy[PATH_MAX];
	crypto_generichash(h, sizeof(h), (const unsigned char *)clean, strlen(clean), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	if (!s->state_dir[0] || snprintf(dir, sizeof(dir), "%s/git", s->state_dir) >= (int)sizeof(dir) ||
	    snprintf(copy, sizeof(copy), "%s/%s.config", dir, hex) >= (int)sizeof(copy))
		return sk_fail(err, ENAMETOOLONG, "the state directory's path is too long");
	int r = sk_mkdir_p(dir, 0700);
	_cleanup_free_ char *kept = NULL;
	size_t kept_len = 0;
	if ((r == 0 || r == -EEXIST) && sk_read_file(copy, 1 << 20, &kept, &kept_len) == 0 &&
	    kept_len == strlen(clean) && !memcmp(kept, clean, kept_len))
		r = 0;   /* written by an earlier run: a rename over it would flush it again */
	else if (r == 0 || r == -EEXIST)
		r = sk_write_atomic(dir, copy, clean, strlen(clean));
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot write the credential-free copy of %s (in %s); nothing was run",
				     path, dir);
	if ((r = sk_profile_env_force(&s->env, &s->cfg, path, SK_FS_RO, err)) < 0)
		return r;
	return sk_profile_env_show_copy(&s->env, &s->cfg, path, copy, err);
}

/* The caller's own git configs (~/.gitconfig, ~/.config/git/config),
 * where the profile shows them. */
static int sanitize_home_git_configs(run_state *s, sk_error *err)
{
	const char *const names[] = { ".gitconfig", ".config/git/config" };
	int r = 0;
	for (size_t i = 0; r == 0 && s->home[0] && i < SK_ARRAY_LEN(names); i++) {
		char path[PATH_MAX];
		struct stat st;
		const sk_fs_rule *rule;
		if (snprintf(path, sizeof(path), "%s/%s", s->home, names[i]) >= (int)sizeof(path) ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(rule = covering_rule(s, path)) ||
		    rule->access != SK_FS_RO)
			continue;
		r = show_config_sanitized(s, path, "=", err);
	}
	return r;
}

/* Package managers' project configs, at the workspace's top and wherever
 * the profile's walk found one (a monorepo's packages): a registry token
 * written into them (//host/:_authToken=..., npmAuthToken: ...,
 * password = ...) reaches no output; such a file is a read-only copy in
 * the sandbox. */
static const char *config_seps(const char *path)
{
	static const struct { const char *name, *seps; } files[] = {
		{ ".npmrc", "=" }, { ".yarnrc.yml", ":" }, { ".pypirc", "=:" },
	};
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < SK_ARRAY_LEN(files); i++)
		if (!strcmp(base, files[i].name))
			return files[i].seps;
	return NULL;
}

static int sanitize_config(run_state *s, const char *path, sk_error *err)
{
	struct stat st;
	char real[PATH_MAX];
	const char *seps = config_seps(path);
	if (!seps || lstat(path, &st) < 0)
		return 0;
	/* A link (packages/a/.npmrc -> ../../shared/npmrc): what it leads to,
	 * when that is in the workspace (outside, the mount tree decides). */
	if (S_ISLNK(st.st_mode)) {
		if (!realpath(path, real) || !sk_path_beneath(real, s->workspace) || stat(real, &st) < 0)
			return 0;
		path = real;
	}
	const sk_fs_rule *rule = covering_rule(s, path);
	if (!S_ISREG(st.st_mode) || (rule && rule->access == SK_FS_HIDE))
		return 0;
	return show_config_sanitized(s, path, seps, err);
}

static bool found_by_walk(const run_state *s, const char *path)
{
	for (size_t i = 0; i < s->env.n_package_configs; i++)
		if (!strcmp(s->env.package_configs[i], path))
			return true;
	return false;
}

static int sanitize_workspace_configs(run_state *s, sk_error *err)
{
	static const char *const top[] = { ".npmrc", ".yarnrc.yml", ".pypirc" };
	int r = 0;
	/* The top's, should the walk have stopped short of them (its limits). */
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(top); i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", s->workspace, top[i]) < (int)sizeof(path) &&
		    !found_by_walk(s, path))
			r = sanitize_config(s, path, err);
	}
	for (size_t i = 0; r == 0 && i < s->env.n_package_configs; i++)
		r = sanitize_config(s, s->env.package_configs[i], err);
	return r;
}

/* The system-wide configs of git and the package managers, shown with the
 * rest of /etc and /usr: a corporate image's index URL with a token in it
 * (pip), a global npmrc's _authToken, an extraheader in /etc/gitconfig. */
static int sanitize_system_configs(run_state *s, sk_error *err)
{
	static const struct { const char *path, *seps; } files[] = {
		{ "/etc/pip.conf", "=:" }, { "/etc/xdg/pip/pip.conf", "=:" }, { "/etc/npmrc", "=" },
		{ "/usr/etc/npmrc", "=" }, { "/usr/local/etc/npmrc", "=" }, { "/etc/gitconfig", "=" },
	};
	int r = 0;
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(files); i++) {
		struct stat st;
		const sk_fs_rule *rule = covering_rule(s, files[i].path);
		if (lstat(files[i].path, &st) < 0 || !S_ISREG(st.st_mode) || (rule && rule->access == SK_FS_HIDE))
			continue;
		r = show_config_sanitized(s, files[i].path, files[i].seps, err);
	}
	return r;
}

/* path (a git directory, or a config.worktree) is the caller's own: the
 * check after the run (git_guard.c) leaves it be. */
static int git_trust(run_state *s, const char *path, sk_error *err)
{
	int r = sk_git_guard_trust(&s->git_guard, path);
	return r < 0 ? sk_fail_errno(err, -r, "cannot note %s as the caller's repository", path) : 0;
}

/* One git directory's config (a copy without credentials) and hooks,
 * read-only where they really are: a link to a directory in the workspace
 * must not leave the hooks writable there. */
static int protect_git_dir(run_state *s, const char *git, sk_error *err)
{
	char part[PATH_MAX], real[PATH_MAX];
	const char *const ro[] = { "config", "hooks", "config.worktree" };
	int r = git_trust(s, git, err);
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(ro); i++)
		if (snprintf(part, sizeof(part), "%s/%s", git, ro[i]) < (int)sizeof(part) && realpath(part, real)) {
			r = sk_profile_env_force(&s->env, &s->cfg, real, SK_FS_RO, err);
			if (r == 0 && i == 0)
				r = show_config_sanitized(s, real, "=", err);
			if (r == 0 && i == 2)
				r = git_trust(s, real, err);
		}
	return r;
}

/* Submodules keep their git directories in .git/modules/NAME (nested ones
 * in .git/modules/NAME/modules/...): the host's git runs in them too (git
 * status looks into every submodule), so their configs and hooks are the
 * repository's own.  Bounded: depth 4, 64 of them. */
static int protect_submodules(run_state *s, const char *modules, int depth, int *left, sk_error *err)
{
	if (depth > 4 || *left <= 0)
		return 0;
	DIR *d = opendir(modules);
	if (!d)
		return 0;
	int r = 0;
	struct dirent *e;
	while (r == 0 && *left > 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX], head[PATH_MAX], nested[PATH_MAX];
		struct stat st;
		if (snprintf(sub, sizeof(sub), "%s/%s", modules, e->d_name) >= (int)sizeof(sub) ||
		    snprintf(head, sizeof(head), "%s/HEAD", sub) >= (int)sizeof(head) ||
		    snprintf(nested, sizeof(nested), "%s/modules", sub) >= (int)sizeof(nested) ||
		    lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (lstat(head, &st) == 0) {
			(*left)--;
			r = protect_git_dir(s, sub, err);
		}
		/* A name with slashes (libs/foo) is a directory level more. */
		if (r == 0)
			r = protect_submodules(s, lstat(head, &st) == 0 ? nested : sub, depth + 1, left, err);
	}
	closedir(d);
	return r;
}

/* A git directory a .git file names: one in the workspace (a separate git
 * dir) is protected like .git itself; one outside it (a linked worktree's,
 * a submodule's) is the caller's, out of the sandbox's reach, and not
 * shown for this. */
static int trust_git_dir(run_state *s, const char *gitdir, sk_error *err)
{
	size_t n = strlen(s->workspace);
	if (!strncmp(gitdir, s->workspace, n) && gitdir[n] == '/')
		return protect_git_dir(s, gitdir, err);
	return git_trust(s, gitdir, err);
}

/* A workspace that is a linked worktree (or a submodule's checkout) has a
 * .git file naming its git directory: the file is read-only, so that the
 * host's git keeps finding the caller's repository there; that git
 * directory and its common one are the caller's (outside the workspace,
 * shown or not as the profile says). */
static int protect_gitfile(run_state *s, const char *git, sk_error *err)
{
	char gitdir[PATH_MAX], common[PATH_MAX];
	int r = sk_profile_env_force(&s->env, &s->cfg, git, SK_FS_RO, err);
	if (r < 0 || sk_git_entry_dirs(git, gitdir, common) <= 0)
		return r;
	r = trust_git_dir(s, gitdir, err);
	return r == 0 && common[0] ? trust_git_dir(s, common, err) : r;
}

/* The repository's git configuration and hooks run outside the sandbox
 * later, unsandboxed (a person's next `git status`, an agent harness's own
 * git: core.fsmonitor, core.hooksPath, hooks/post-checkout).  When the
 * workspace is a repository they are read-only, and .git is a mount of its
 * own so that it cannot be moved aside for a new one; commits, branches
 * and fetches still work.  A repository the command makes itself is not
 * covered in that run (docs/profiles.md). */
static int protect_repository(run_state *s, sk_error *err)
{
	char git[PATH_MAX], modules[PATH_MAX];
	struct stat st;
	sk_git_guard *g = &s->git_guard;
	snprintf(g->workspace, sizeof(g->workspace), "%s", s->workspace);
	g->cache_dir = s->cache_dir;
	if (snprintf(git, sizeof(git), "%s/.git", s->workspace) >= (int)sizeof(git) || lstat(git, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return protect_gitfile(s, git, err);
	if (!S_ISDIR(st.st_mode))
		return 0;
	int r = sk_profile_env_force(&s->env, &s->cfg, git, s->cfg.workspace_readonly ? SK_FS_RO : SK_FS_RW, err);
	if (r == 0)
		r = protect_git_dir(s, git, err);
	int left = 64;
	if (r == 0 && snprintf(modules, sizeof(modules), "%s/modules", git) < (int)sizeof(modules))
		r = protect_submodules(s, modules, 1, &left, err);
	return r;
}

/* The workspace is bound read-write unless the profile refuses writes to
 * it (decided like any other file event, so receipts agree). */
static void workspace_access(run_state *s)
{
	struct stat st;
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file.path = s->workspace;
	ev.file.access = SK_ACCESS_WRITE;
	if (stat(s->workspace, &st) == 0) {
		ev.file.file.has_identity = true;
		ev.file.file.dev = (uint64_t)st.st_dev;
		ev.file.file.ino = (uint64_t)st.st_ino;
	}
	s->cfg.workspace_readonly = sk_decide(s->profile, NULL, &ev).action != SK_ACTION_ALLOW;
}

/* Command-line options override the profile; the override is recorded
 * because the receipt names the resolved configuration (cfg) it ran. */
static void apply_overrides(const sk_request *req, run_state *s)
{
	sk_limits *l = &s->cfg.limits;
	const sk_limits *o = &req->limits;
	if (req->limits_set & SK_LIMIT_SET_TIMEOUT) l->timeout_ms = o->timeout_ms;
	if (req->limits_set & SK_LIMIT_SET_MEMORY) l->memory_bytes = o->memory_bytes;
	if (req->limits_set & SK_LIMIT_SET_PIDS) l->pids = o->pids;
	if (req->limits_set & SK_LIMIT_SET_CPU) l->cpu_seconds = o->cpu_seconds;
	if (req->limits_set & SK_LIMIT_SET_OUTPUT) l->output_bytes = o->output_bytes;
	if (req->net >= 0)
		s->cfg.net = (sk_net_mode)req->net;
	s->cfg.verbose = req->verbose;
	s->cfg.stdout_fd = req->stdout_fd;
	s->cfg.stderr_fd = req->stderr_fd;
}

/* Limits the profile leaves unset keep the wrapper's defaults. */
static void default_limits(sk_limits *l)
{
	if (!l->timeout_ms) l->timeout_ms = SK_DEFAULT_TIMEOUT_MS;
	if (!l->memory_bytes) l->memory_bytes = SK_DEFAULT_MEMORY;
	if (!l->pids) l->pids = SK_DEFAULT_PIDS;
	if (!l->output_bytes) l->output_bytes = SK_DEFAULT_OUTPUT;
}

static void warn_literal(void *ctx, const char *msg)
{
	const sk_request *req = ctx;
	if (req->verbose)
		dprintf(req->stderr_fd, "stockade: %s\n", msg);
}

static int build_redactor(const sk_request *req, run_state *s, sk_error *err)
{
	sk_redact_literals *lits = NULL;
	int r = sk_redact_literals_new(&lits, warn_literal, (void *)req);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot start the redactor");
	_cleanup_free_ char *extra_rules = NULL;
	r = sk_profile_redact_inputs(&s->env, lits, &extra_rules, err);
	sk_redact_config rc;
	sk_redact_config_init(&rc);
	rc.literals = lits;
	rc.disabled_rules = (const char *const *)s->env.disabled_rules;
	rc.extra_rules = extra_rules;
	rc.extra_rules_origin = s->profile->source;
	for (size_t i = 0; r >= 0 && i < s->n_extra_files; i++)
		r = sk_redact_literals_add_file(lits, "denied-file", s->extra_files[i], err);
	for (size_t i = 0; r >= 0 && i < s->n_history_blobs; i++)
		r = sk_redact_literals_add_content(lits, "git-history", s->history_blobs[i].data,
						   s->history_blobs[i].len);
	for (size_t i = 0; r >= 0 && i < s->git_secrets.n; i++)
		r = sk_redact_literals_add(lits, "git-config", s->git_secrets.v[i], strlen(s->git_secrets.v[i]));
	if (r >= 0)
		r = sk_redactor_build(&rc, &s->redactor, err);
	sk_redact_literals_free(lits);
	return r < 0 ? r : 0;
}

/* The part of the session view the command's decision read. */
static sk_session_view command_view(run_state *s, const sk_event *ev, sk_surface_state *slot)
{
	char key[SK_SURFACE_KEY_MAX];
	sk_session_view v = { 0 };
	if (sk_surface_key(ev, key, sizeof(key)) >= 0) {
		const sk_surface_state *st = sk_session_view_find(&s->view, key);
		if (st) {
			*slot = *st;   /* a copy: the view grows (and moves) during the run */
			v.v = slot;
			v.n = 1;
		}
	}
	return v;
}

static void command_event(const sk_request *req, const run_state *s, sk_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = SK_EVENT_COMMAND;
	ev->command.exe.path = s->exe;
	ev->command.exe.has_identity = s->exe_found;
	ev->command.exe.dev = s->exe_found ? (uint64_t)s->exe_st.st_dev : 0;
	ev->command.exe.ino = s->exe_found ? (uint64_t)s->exe_st.st_ino : 0;
	ev->command.argv = (const char *const *)req->argv;
	size_t n = 0;
	while (req->argv[n])
		n++;
	ev->command.argc = n;
}

/* The settings that applied, integers only (receipts hold no floats), and
 * the names of those the command line overrode. */
static json_t *config_json(const sk_request *req, const run_state *s)
{
	const sk_limits *l = &s->cfg.limits;
	json_t *over = json_array();
	static const struct { unsigned bit; const char *name; } names[] = {
		{ SK_LIMIT_SET_TIMEOUT, "timeout" }, { SK_LIMIT_SET_MEMORY, "memory" },
		{ SK_LIMIT_SET_PIDS, "pids" }, { SK_LIMIT_SET_CPU, "cpu" }, { SK_LIMIT_SET_OUTPUT, "output" },
	};
	for (size_t i = 0; over && i < SK_ARRAY_LEN(names); i++)
		if (req->limits_set & names[i].bit)
			json_array_append_new(over, json_string(names[i].name));
	if (over && req->net >= 0)
		json_array_append_new(over, json_string("net"));
	return json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:o*}",
			 "net", s->cfg.net == SK_NET_HOST ? "host" : "none",
			 "workspace_readonly", s->cfg.workspace_readonly,
			 "timeout_ms", (json_int_t)l->timeout_ms, "memory_bytes", (json_int_t)l->memory_bytes,
			 "pids", (json_int_t)l->pids, "cpu_seconds", (json_int_t)l->cpu_seconds,
			 "output_bytes", (json_int_t)l->output_bytes, "overridden", over);
}

static int record_how(const sk_request *req, run_state *s, const sk_event *ev, const sk_session_view *view,
		      sk_receipt_kind kind, const sk_receipt_outcome *outcome, bool nowait, sk_receipt_id *id,
		      sk_error *err)
{
	char key[SK_SURFACE_KEY_MAX];
	if (sk_surface_key(ev, key, sizeof(key)) < 0)
		snprintf(key, sizeof(key), "cmd:%s", s->exe);
	const char *paths[] = { req->argv[0], s->exe };
	json_t *evj = sk_audit_event_json(ev), *viewj = sk_audit_view_json(view);
	json_t *cfgj = kind == SK_RECEIPT_COMMAND ? config_json(req, s) : NULL;
	sk_receipt rc = {
		.kind = kind, .session = req->session, .turn = req->turn,
		.surface = { .type = "command", .key = key, .paths = paths, .n_paths = 2,
			     .has_inode = s->exe_found, .dev = (uint64_t)s->exe_st.st_dev,
			     .ino = (uint64_t)s->exe_st.st_ino },
		.event = { .syscall = "execve", .path = req->argv[0],
			   .argv = (const char *const *)req->argv, .argc = ev->command.argc, .cwd = s->cwd },
		.verdict = sk_action_name(s->verdict.action), .reason = sk_reason_name(s->verdict.reason),
		.rule = s->verdict.rule_id, .profile_digest = s->digest, .profile_text = s->canonical,
		.decide_event = evj, .state_view = viewj, .config = cfgj,
	};
	if (outcome)
		rc.outcome = *outcome;
	int r = evj && viewj && (cfgj || kind != SK_RECEIPT_COMMAND)
		? (nowait ? sk_audit_append_nowait : sk_audit_append)(s->log, &rc, id, err)
		: sk_fail(err, ENOMEM, "cannot encode the receipt");
	json_decref(evj);
	json_decref(viewj);
	json_decref(cfgj);
	return r;
}

static int record(const sk_request *req, run_state *s, const sk_event *ev, const sk_session_view *view,
		  sk_receipt_kind kind, const sk_receipt_outcome *outcome, sk_receipt_id *id, sk_error *err)
{
	return record_how(req, s, ev, view, kind, outcome, false, id, err);
}

static int open_log(const sk_request *req, run_state *s, sk_error *err)
{
	sk_audit_options o = { .state_dir = req->state_dir };
	int r = sk_audit_open(&o, &s->log, err);
	if (r < 0)
		return sk_fail(err, -r, "cannot record receipts (%s); nothing was run. "
			       "Pass --state-dir DIR or set XDG_STATE_HOME to a writable directory", err->msg);
	return 0;
}

/* Redaction counts of both streams, per rule, for the outcome receipt. */
static size_t redaction_counts(const run_state *s, const sk_run_result *res, sk_receipt_redaction *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < res->n_redactions && n < cap; i++)
		if (res->redactions[i])
			out[n++] = (sk_receipt_redaction){ sk_redactor_rule_name(s->redactor, i), res->redactions[i] };
	return n;
}

/* From here the command may write the workspace: the check after the run
 * will judge what it leaves (git_guard.c), and its run file says so until
 * then, for a check after an interrupted run.  A cache directory that
 * cannot be written (a user without a home) has none: each check then
 * judges by its own run's start, and walks the whole workspace. */
static void guard_begin(run_state *s)
{
	sk_git_guard *g = &s->git_guard;
	char real[PATH_MAX];
	g->start_ns = sk_git_now_ns();
	if (!s->cfg.workspace_readonly && g->workspace[0] && s->cache_dir && realpath(g->workspace, real))
		sk_git_walk_prepare(s->cache_dir, real, g->start_ns, g->run_file);
}

/* Work that overlaps the child's set-up; the command cannot exec before
 * its decision receipt is on disk and the redactor is ready.  The receipt's
 * fdatasync (milliseconds of waiting on the disk) runs in a thread while
 * the redactor and the filter are built; exec_gate waits for it. */
typedef struct before_exec_ctx {
	const sk_request *req;
	run_state *s;
	const sk_event *ev;
	const sk_session_view *view;
	uint64_t command_seq;
	bool recorded;
	bool syncing;           /* sync_thread runs */
	pthread_t sync_thread;
	int sync_r;
	sk_error sync_err;
	bool concluded;         /* conclude() has run, from after_exit or after the run */
	int conclude_r;
	sk_error conclude_err;
} before_exec_ctx;

static void *sync_receipt(void *ctx)
{
	before_exec_ctx *bx = ctx;
	bx->sync_r = sk_audit_sync_pending(bx->s->log, &bx->sync_err);
	return NULL;
}

/* The receipt is on disk (or why not); idempotent. */
static int join_sync(before_exec_ctx *bx, sk_error *err)
{
	if (bx->syncing) {
		pthread_join(bx->sync_thread, NULL);
		bx->syncing = false;
	}
	if (bx->sync_r < 0 && err)
		*err = bx->sync_err;
	return bx->sync_r;
}

/* The receipt's fdatasync runs beside us on another CPU: started on ours
 * it would wait for us to sleep, at the exec gate, and only then begin. */
static int start_sync_thread(before_exec_ctx *bx)
{
	pthread_attr_t attr;
	cpu_set_t others;
	if (pthread_attr_init(&attr) != 0)
		return -1;
	if (sk_sched_other_cpus(NULL, &others))
		pthread_attr_setaffinity_np(&attr, sizeof(others), &others);
	int r = pthread_create(&bx->sync_thread, &attr, sync_receipt, bx);
	pthread_attr_destroy(&attr);
	return r == 0 ? 0 : -1;
}

static int before_exec(void *ctx, sk_sandbox_config *cfg, sk_error *err)
{
	(void)cfg;   /* the redactor is set at the gate */
	before_exec_ctx *bx = ctx;
	sk_receipt_id id;
	int r = record_how(bx->req, bx->s, bx->ev, bx->view, SK_RECEIPT_COMMAND, NULL, true, &id, err);
	if (r < 0)
		return r;
	guard_begin(bx->s);
	bx->command_seq = id.seq;
	bx->recorded = true;
	if (start_sync_thread(bx) == 0)
		bx->syncing = true;
	else if ((r = sk_audit_sync_pending(bx->s->log, err)) < 0)
		return r;
	return 0;
}

/* The filter is sent: the redactor is built while the child confines
 * itself, then the receipt's fdatasync is waited for. */
static int exec_gate(void *ctx, sk_sandbox_config *cfg, sk_error *err)
{
	before_exec_ctx *bx = ctx;
	int r = build_redactor(bx->req, bx->s, err);
	if (r < 0) {
		join_sync(bx, NULL);
		return r;
	}
	cfg->redactor = bx->s->redactor;
	return join_sync(bx, err);
}

static void fill_decision(sk_run_result *res, const run_state *s, uint64_t command_seq)
{
	res->command_receipt = command_seq;
	snprintf(res->verdict, sizeof(res->verdict), "%s", sk_action_name(s->verdict.action));
	snprintf(res->reason, sizeof(res->reason), "%s", sk_reason_name(s->verdict.reason));
	snprintf(res->rule, sizeof(res->rule), "%s", s->verdict.rule_id ? s->verdict.rule_id : "");
}

/* The command's processes are gone: the repositories the host's git would
 * enter from the workspace are checked (git_guard.c), and what was moved
 * aside is said on the command's stderr and goes into the outcome. */
static size_t guard_repositories(const sk_request *req, run_state *s, sk_run_result *res,
				 sk_receipt_quarantine out[SK_GIT_QUARANTINE_MAX])
{
	sk_git_guard *g = &s->git_guard;
	if (s->cfg.workspace_readonly || !g->workspace[0])
		return 0;
	sk_git_guard_check(g);
	for (size_t i = 0; i < g->n_q; i++) {
		const sk_git_quarantine *q = &g->q[i];
		out[i] = (sk_receipt_quarantine){ q->path, q->moved_to, q->why };
		if (q->moved_to[0])
			dprintf(req->stderr_fd,
				"stockade: quarantined %s (now %s): %s, which the host's git would run; "
				"look at it before moving it back\n", q->path, q->moved_to, q->why);
		else
			dprintf(req->stderr_fd,
				"stockade: NOT quarantined %s (it could not be moved): %s, which the host's git "
				"would run; do not run git in %s until it is removed\n", q->path, q->why, g->workspace);
	}
	if (g->n_unlisted)
		dprintf(req->stderr_fd, "stockade: and %zu more moved aside (NAME.stockade-quarantined)\n", g->n_unlisted);
	if (g->overflow)
		dprintf(req->stderr_fd, "stockade: the workspace is larger than the check after a run looks at "
				       "(1,000,000 directories, or unreadable ones); run git there only with "
				       "-c core.fsmonitor= -c core.hooksPath=/dev/null\n");
	res->quarantined = (uint32_t)(g->n_q + g->n_unlisted);
	return g->n_q;
}

/* The command has run: its outcome is receipted and the session learns
 * of it.  Runs while the sandbox's namespaces are still being torn down
 * (after_exit), or after the run when it timed out or hit the output cap. */
static void conclude(void *ctx, sk_run_result *res)
{
	before_exec_ctx *bx = ctx;
	run_state *s = bx->s;
	bx->concluded = true;
	fill_decision(res, s, bx->command_seq);
	if (res->escalated) {
		/* An attempt inside escalated: the command was stopped there. */
		res->denied = true;
		res->chain = s->escalated_chain;
		res->exit_code = SK_EXIT_CANNOT_EXEC;
		snprintf(res->verdict, sizeof(res->verdict), "escalate");
		snprintf(res->reason, sizeof(res->reason), "%s", "chain_threshold");
	}
	sk_receipt_redaction reds[64];
	sk_receipt_quarantine quar[SK_GIT_QUARANTINE_MAX];
	sk_receipt_outcome oc = {
		.present = true, .exit_status = res->exit_code, .duration_ms = res->duration_ns / 1000000,
		.timed_out = res->timed_out, .redactions = reds,
		.n_redactions = redaction_counts(s, res, reds, SK_ARRAY_LEN(reds)),
		.quarantined = quar, .n_quarantined = guard_repositories(bx->req, s, res, quar),
	};
	if (s->carrier_refused)
		dprintf(bx->req->stderr_fd, "stockade: this repository's history holds a secret file of the workspace "
			"(committed): git's objects that hold it were refused (docs/sessions.md, \"Git's copies\"; "
			"stockade session show lists the attempts)\n");
	if (s->value_refused[0])
		dprintf(bx->req->stderr_fd, "stockade: %s holds a secret value (of a secret file or a withheld "
			"variable), so it was refused as that secret (docs/sessions.md, \"Secret values in other files\"; stockade session show lists the "
			"attempts)\n", s->value_refused);
	sk_receipt_id id;
	int r = record(bx->req, s, bx->ev, bx->view, SK_RECEIPT_OUTCOME, &oc, &id, &bx->conclude_err);
	if (r == 0)
		res->outcome_receipt = id.seq;
	if (r == 0)
		r = sk_run_session_end(bx->req, s, res, &bx->conclude_err);
	sk_value_memo_save(&s->value_memo);   /* the records are all in: the channel is closed */
	bx->conclude_r = r;
}

int sk_run(const sk_request *req, sk_run_result *res, sk_error *err)
{
	run_state s = { 0 };
	sk_sandbox_config_init(&s.cfg);
	memset(res, 0, sizeof(*res));
	res->exit_code = SK_EXIT_INTERNAL;
	int r;
	if (!req->argv || !req->argv[0])
		return sk_fail(err, EINVAL, "no command given");
	if ((r = resolve_dirs(req, &s, err)) < 0)
		goto out;
	choose_home(req->environ, &s);
	sk_cache_dir(NULL, &s.cache_dir);
	if ((r = load_profile(req, &s, err)) < 0 ||
	    (r = sk_profile_apply_cached(s.profile, req->environ, s.home, s.cache_dir, &s.cfg, &s.env, err)) < 0 ||
	    (r = hide_own_state(req, &s, err)) < 0 || (r = final_env(&s, err)) < 0)
		goto out;
	workspace_access(&s);
	if ((r = protect_repository(&s, err)) < 0 || (r = sanitize_home_git_configs(&s, err)) < 0 ||
	    (r = sanitize_workspace_configs(&s, err)) < 0 || (r = sanitize_system_configs(&s, err)) < 0)
		goto out;
	default_limits(&s.cfg.limits);
	apply_overrides(req, &s);
	s.cfg.argv = req->argv;
	resolve_exe(req->argv[0], s.cwd, s.envp, s.exe, sizeof(s.exe), &s.exe_st, &s.exe_found);
	if ((r = sk_run_session_begin(req, &s, err)) < 0 || (r = sk_run_session_prepare(req, &s, err)) < 0)
		goto out;

	sk_event ev;
	command_event(req, &s, &ev);
	s.verdict = sk_decide(s.profile, &s.view, &ev);
	sk_surface_state slot;
	sk_session_view view = command_view(&s, &ev, &slot);
	sk_receipt_id id;
	if ((r = open_log(req, &s, err)) < 0)
		goto out;
	if (!req->decide_only && (r = sk_run_check_stdin(req, &s, res, err)) != 0) {
		if (r > 0)
			r = 0;   /* refused: res says why */
		goto out;
	}
	if (s.verdict.action != SK_ACTION_ALLOW) {
		json_t *cfgj = config_json(req, &s);
		r = cfgj ? sk_run_record_attempt(req, &s, &ev, &s.verdict, "execve", req->argv[0], NULL, 0,
						 SK_RECEIPT_COMMAND, cfgj, &id.seq, err)
			 : sk_fail(err, ENOMEM, "out of memory");
		json_decref(cfgj);
		if (r < 0)
			goto out;
		res->denied = true;
		res->escalated = s.verdict.action == SK_ACTION_ESCALATE;
		res->chain = s.escalated_chain;
		res->exit_code = SK_EXIT_CANNOT_EXEC;
		fill_decision(res, &s, id.seq);
		goto out;
	}
	if (req->decide_only) {
		/* Allowed, and recorded as decided: nothing is started. */
		if ((r = record(req, &s, &ev, &view, SK_RECEIPT_COMMAND, NULL, &id, err)) < 0)
			goto out;
		res->exit_code = 0;
		fill_decision(res, &s, id.seq);
		goto out;
	}
	sk_run_supervise(req, &s);
	before_exec_ctx bx = { .req = req, .s = &s, .ev = &ev, .view = &view };
	s.cfg.before_exec = before_exec;
	s.cfg.exec_gate = exec_gate;
	s.cfg.after_exit = conclude;
	s.cfg.before_exec_ctx = &bx;
	r = sk_sandbox_run(&s.cfg, res, err);
	join_sync(&bx, NULL);   /* a failure before the gate left it running */
	if (r < 0 && s.git_guard.run_file[0])
		unlink(s.git_guard.run_file);   /* the command did not run */
	if (r < 0) {
		/* The decision was recorded: so is the failure to carry it out. */
		if (bx.recorded) {
			sk_error ignored;
			sk_receipt_outcome failed = { .present = true, .exit_status = SK_EXIT_INTERNAL };
			record(req, &s, &ev, &view, SK_RECEIPT_OUTCOME, &failed, &id, &ignored);
		}
		goto out;
	}
	if (!bx.concluded)
		conclude(&bx, res);   /* a timeout or the output cap: no after_exit */
	r = bx.conclude_r;
	if (r < 0)
		*err = bx.conclude_err;
out:
	run_state_free(&s);
	return r;
}
