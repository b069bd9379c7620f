/* From a resolved profile to a sandbox configuration: mounts, network,
 * limits, syscalls, the command's environment, and what the redactor must
 * know (withheld values, secret files, pattern rules).  Non-pure glue: it
 * lists secret directories and scans the workspace for name patterns.
 * Every verdict about a variable comes from sk_decide, so the environment
 * and the receipts cannot disagree. */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_config.h"
#include "scan_memo.h"
#include "stockade/cli.h"

enum {
	SCAN_MAX_DEPTH = 6, SCAN_MAX_ENTRIES = 20000, SCAN_MAX_MATCHES = 256,
	SECRET_MAX_FILES = 256, SECRET_TREE_DEPTH = 3, SECRET_MAX_VALUES = 4096,
};

typedef struct applier {
	const sk_profile *p;
	sk_profile_env *env;
	sk_error *err;
	const char *cache_dir;   /* where the workspace walk is kept, or NULL */
	size_t cap_fs, cap_owned, cap_files, cap_secrets, cap_env, cap_configs, cap_repos;
	unsigned scanned;
} applier;

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n + 1 < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, nc * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

static int oom(applier *a)
{
	return sk_fail(a->err, ENOMEM, "applying profile %s: out of memory", a->p->name);
}

/* Keep s (malloc'd) alive as long as env; NULL when out of memory. */
static char *own(applier *a, char *s)
{
	if (!s || grow((void **)&a->env->owned, &a->cap_owned, a->env->n_owned, sizeof(char *)) < 0) {
		free(s);
		return NULL;
	}
	return a->env->owned[a->env->n_owned++] = s;
}

/* A withheld value for the redactor, labelled by where it came from. */
static int add_secret(applier *a, const char *label, const char *value, size_t len)
{
	sk_profile_env *e = a->env;
	if (len == 0 || e->n_secrets >= SECRET_MAX_VALUES)
		return 0;
	if (grow((void **)&e->secrets, &a->cap_secrets, e->n_secrets, sizeof(*e->secrets)) < 0)
		return oom(a);
	char *l = own(a, strdup(label)), *v = l ? own(a, strndup(value, len)) : NULL;
	if (!v)
		return oom(a);
	e->secrets[e->n_secrets++] = (sk_profile_secret){ l, v };
	return 0;
}

static int add_secret_file(applier *a, const char *path)
{
	sk_profile_env *e = a->env;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t bl = strlen(base);
	if (!strncmp(base, "known_hosts", 11) || (bl > 4 && !strcmp(base + bl - 4, ".pub")))
		return 0;   /* public by nature */
	if (e->n_secret_files >= SECRET_MAX_FILES)
		return 0;
	for (size_t i = 0; i < e->n_secret_files; i++)
		if (!strcmp(e->secret_files[i], path))
			return 0;
	if (grow((void **)&e->secret_files, &a->cap_files, e->n_secret_files, sizeof(char *)) < 0)
		return oom(a);
	char *copy = own(a, strdup(path));
	if (!copy)
		return oom(a);
	e->secret_files[e->n_secret_files++] = copy;
	e->secret_files[e->n_secret_files] = NULL;
	return 0;
}

/* The regular files at or beneath path (bounded, symlinks not followed). */
static int add_secret_tree(applier *a, const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISREG(st.st_mode))
		return add_secret_file(a, path);
	if (!S_ISDIR(st.st_mode) || depth >= SECRET_TREE_DEPTH)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;   /* unreadable here: the command cannot read it either */
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		char child[PATH_MAX];
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, de->d_name) < (int)sizeof(child))
			r = add_secret_tree(a, child, depth + 1);
	}
	closedir(d);
	return r;
}

static sk_fs_access fs_access(int action)
{
	switch (action) {
	case SK_FILE_READ_WRITE: return SK_FS_RW;
	case SK_FILE_READ_ONLY: return SK_FS_RO;
	case SK_FILE_TMPFS: return SK_FS_TMPFS;
	default: return SK_FS_HIDE;
	}
}

/* How strict a mount is, for several rules on one path. */
static int fs_strictness(sk_fs_access a)
{
	return a == SK_FS_HIDE ? 3 : a == SK_FS_RO ? 2 : a == SK_FS_TMPFS ? 1 : 0;
}

/* One mount rule per path: the strictest action named for it wins, as in decide. */
static int add_fs(applier *a, const char *path, int action, bool required)
{
	sk_profile_env *e = a->env;
	sk_fs_access acc = fs_access(action);
	for (size_t i = 0; i < e->n_fs; i++)
		if (!strcmp(e->fs[i].path, path)) {
			if (fs_strictness(acc) > fs_strictness(e->fs[i].access))
				e->fs[i].access = acc;
			e->fs[i].optional = e->fs[i].optional && !required;
			return 0;
		}
	if (grow((void **)&e->fs, &a->cap_fs, e->n_fs, sizeof(*e->fs)) < 0)
		return oom(a);
	char *copy = own(a, strdup(path));
	if (!copy)
		return oom(a);
	e->fs[e->n_fs++] = (sk_fs_rule){ .path = copy, .access = acc, .optional = !required };
	return 0;
}

static int hide_match(applier *a, const sk_rule *r, const char *path)
{
	int rc = add_fs(a, path, r->action, false);
	if (rc == 0 && r->action == SK_FILE_SECRET)
		rc = add_secret_tree(a, path, 0);
	return rc;
}

/* Package managers' project configs: a registry token written into one
 * (//host/:_authToken=..., npmAuthToken: ..., password = ...) sits in every
 * package of a monorepo as much as at its top.  The walk finds them
 * (rule index n + i in its memo), the run path shows them sanitized. */
static const char *const package_config_names[] = { ".npmrc", ".yarnrc.yml", ".pypirc" };
enum { N_PACKAGE_CONFIGS = sizeof(package_config_names) / sizeof(package_config_names[0]) };

/* A copy of path at the end of the list *v (n entries), up to max. */
static int add_path(applier *a, const char ***v, size_t *n, size_t *cap, size_t max, const char *path)
{
	if (*n >= max)
		return 0;
	if (grow((void **)v, cap, *n, sizeof(char *)) < 0)
		return oom(a);
	const char *copy = own(a, strdup(path));
	if (!copy)
		return oom(a);
	(*v)[(*n)++] = copy;
	return 0;
}

static int add_package_config(applier *a, const char *path)
{
	sk_profile_env *e = a->env;
	return add_path(a, &e->package_configs, &e->n_package_configs, &a->cap_configs, SCAN_MAX_MATCHES, path);
}

/* A directory of the workspace holding a .git (memo index
 * n + N_PACKAGE_CONFIGS + 1). */
static int add_nested_repo(applier *a, const char *dir)
{
	sk_profile_env *e = a->env;
	return add_path(a, &e->nested_repos, &e->n_nested_repos, &a->cap_repos, SK_NESTED_REPOS_MAX, dir);
}

static ssize_t package_config(const char *name)
{
	for (size_t i = 0; i < N_PACKAGE_CONFIGS; i++)
		if (!strcmp(name, package_config_names[i]))
			return (ssize_t)i;
	return -1;
}

/* Private keys in PEM files named for their use (server.key, tls.pem,
 * Apple's AuthKey_*.p8), which no name rule can list: one of these names
 * that holds a PEM private key in its first 64 KiB is a secret by its
 * content (a certificate is not), unless a rule names it (memo index
 * n + N_PACKAGE_CONFIGS). */
enum { KEY_SCAN_MAX = 64 << 10 };

static bool key_file_name(const char *n)
{
	static const char *const ext[] = { ".pem", ".key", ".p8" };
	size_t len = strlen(n);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t el = strlen(ext[i]);
		if (len > el && !strcmp(n + len - el, ext[i]))
			return true;
	}
	return false;
}

static bool holds_private_key(int dir_fd, const char *name)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return false;
	struct stat st;
	static const char mark[] = "PRIVATE KEY-----";
	bool found = false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		char *buf = malloc(KEY_SCAN_MAX);
		ssize_t n = buf ? read(fd, buf, KEY_SCAN_MAX) : -1;
		found = n > 0 && memmem(buf, (size_t)n, mark, sizeof(mark) - 1);
		free(buf);
	}
	close(fd);
	return found;
}

static int hide_private_key(applier *a, const char *path)
{
	int rc = add_fs(a, path, SK_FILE_SECRET, false);
	return rc == 0 ? add_secret_file(a, path) : rc;
}

/* The name pattern rules (".env", ".env.*", ".env.example"), matched in one
 * walk of the workspace for all of them (a walk is most of the run path's
 * time in a large workspace), with decide's precedence: the rule with the
 * most literal characters wins, the stricter at a tie.  So the default
 * profile's "file read-write .env.example" beats its "file secret .env.*"
 * here as it does in decide, and the example is not hidden. */
typedef struct name_scan {
	const sk_rule **rules;
	unsigned *matches;   /* per rule: the entries it hid, up to SCAN_MAX_MATCHES */
	size_t *prefix;      /* per rule: its leading literal characters */
	size_t n;
} name_scan;

static bool hiding(const sk_rule *r)
{
	return r->action >= SK_FILE_HIDDEN;
}

static bool scan_done(const applier *a, const name_scan *ns)
{
	if (a->env->n_package_configs < SCAN_MAX_MATCHES)
		return false;
	for (size_t k = 0; k < ns->n; k++)
		if (hiding(ns->rules[k]) && ns->matches[k] < SCAN_MAX_MATCHES)
			return false;
	return true;
}

/* The rule that decides name n (as decide would), or -1. */
static ssize_t best_name_rule(const name_scan *ns, const char *n)
{
	ssize_t best = -1;
	for (size_t k = 0; k < ns->n; k++) {
		const sk_rule *r = ns->rules[k];
		/* Most names differ in their first characters: fnmatch is skipped. */
		if (strncmp(n, r->arg, ns->prefix[k]) || fnmatch(r->arg, n, 0) != 0)
			continue;
		if (best < 0) {
			best = (ssize_t)k;
			continue;
		}
		const sk_rule *b = ns->rules[best];
		size_t lr = sk_pattern_literal_chars(r->arg), lb = sk_pattern_literal_chars(b->arg);
		if (lr > lb || (lr == lb && r->action > b->action))
			best = (ssize_t)k;
	}
	return best;
}

/* Files in the workspace whose name a hiding rule decides; a directory so
 * decided is hidden whole, any other is walked into. */
static int scan_names(applier *a, const char *dir, int depth, name_scan *ns, scan_memo *memo)
{
	if (depth > SCAN_MAX_DEPTH)
		return 0;
	DIR *d = opendir(dir);
	if (!d) {
		memo->keep = false;   /* it may open another time */
		return 0;
	}
	scan_memo_dir(memo, dir, dirfd(d));
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && !scan_done(a, ns) && a->scanned < SCAN_MAX_ENTRIES && (de = readdir(d))) {
		const char *n = de->d_name;
		a->scanned++;
		if (!strcmp(n, ".git") && depth > 0) {
			scan_memo_hit(memo, (uint32_t)(ns->n + N_PACKAGE_CONFIGS + 1), dir);
			rc = add_nested_repo(a, dir);
			continue;
		}
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, ".git") || !strcmp(n, "node_modules"))
			continue;
		ssize_t k = best_name_rule(ns, n);
		bool hide = k >= 0 && hiding(ns->rules[k]);
		ssize_t c = hide || de->d_type == DT_DIR ? -1 : package_config(n);
		bool key = k < 0 && c < 0 && de->d_type != DT_DIR && key_file_name(n) &&
			   holds_private_key(dirfd(d), n);
		if (!hide && de->d_type != DT_DIR && c < 0 && !key)
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, n) >= (int)sizeof(path))
			continue;
		if (key) {
			scan_memo_hit(memo, (uint32_t)(ns->n + N_PACKAGE_CONFIGS), path);
			rc = hide_private_key(a, path);
		} else if (c >= 0) {
			scan_memo_hit(memo, (uint32_t)(ns->n + (size_t)c), path);
			rc = add_package_config(a, path);
		} else if (!hide)
			rc = scan_names(a, path, depth + 1, ns, memo);   /* a directory, from above */
		else if (ns->matches[k] < SCAN_MAX_MATCHES) {
			ns->matches[k]++;
			scan_memo_hit(memo, (uint32_t)k, path);
			rc = hide_match(a, ns->rules[k], path);
		}
	}
	closedir(d);
	return rc;
}

/* What a walk's result depends on besides the directories: the
 * workspace, the rules (in order) and the limits (the build's id is
 * scan_memo_open's). */
static char *walk_identity(const char *workspace, const name_scan *ns, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	fprintf(f, "%s%c%d %d %d%c", workspace, 0, SCAN_MAX_DEPTH, SCAN_MAX_ENTRIES, SCAN_MAX_MATCHES, 0);
	for (size_t k = 0; k < ns->n; k++)
		fprintf(f, "%s%c%d%c", ns->rules[k]->arg, 0, (int)ns->rules[k]->action, 0);
	for (size_t i = 0; i < N_PACKAGE_CONFIGS; i++)
		fprintf(f, "config %s%c", package_config_names[i], 0);
	fprintf(f, "pem private keys %d%c", KEY_SCAN_MAX, 0);
	fprintf(f, "nested repositories %d%c", SK_NESTED_REPOS_MAX, 0);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Every find names one of these rules. */
static bool hits_fit(const scan_memo *m, const name_scan *ns)
{
	for (size_t i = 0; i < m->n_hits; i++)
		if (m->hits[i].rule > ns->n + N_PACKAGE_CONFIGS + 1)
			return false;
	return true;
}

/* The walk, or what the last one found when no directory it opened has
 * changed since (scan_memo.c). */
static int scan_or_recall(applier *a, const char *workspace, name_scan *ns)
{
	size_t len = 0;
	char *what = a->cache_dir ? walk_identity(workspace, ns, &len) : NULL;
	scan_memo memo = { 0 };   /* keep = false: a walk that is not kept */
	bool kept = what && scan_memo_open(&memo, a->cache_dir, what, len);
	free(what);
	int rc = 0;
	if (kept && scan_memo_load(&memo) && hits_fit(&memo, ns)) {
		for (size_t i = 0; rc == 0 && i < memo.n_hits; i++) {
			uint32_t k = memo.hits[i].rule;
			if (k == ns->n + N_PACKAGE_CONFIGS + 1) {
				rc = add_nested_repo(a, memo.hits[i].path);
				continue;
			}
			if (k == ns->n + N_PACKAGE_CONFIGS) {
				rc = hide_private_key(a, memo.hits[i].path);
				continue;
			}
			if (k >= ns->n) {
				rc = add_package_config(a, memo.hits[i].path);
				continue;
			}
			ns->matches[k]++;
			rc = hide_match(a, ns->rules[k], memo.hits[i].path);
		}
	} else {
		scan_memo_forget(&memo);
		memo.keep = kept;
		rc = scan_names(a, workspace, 0, ns, &memo);
		if (rc == 0 && memo.keep)
			scan_memo_store(&memo);
	}
	scan_memo_free(&memo);
	return rc;
}

static bool name_rule(const sk_rule *r)
{
	return r->cls == SK_CLASS_FILE && r->path_kind == SK_PATH_NAME;
}

static int apply_name_rules(applier *a, const sk_sandbox_config *cfg)
{
	if (!cfg->workspace)
		return 0;
	size_t n = 0;   /* walked even with none: the package configs */
	for (size_t i = 0; i < a->p->n_rules; i++)
		n += name_rule(&a->p->rules[i]);
	name_scan ns = { .rules = calloc(n + 1, sizeof(*ns.rules)), .matches = calloc(n + 1, sizeof(*ns.matches)),
			 .prefix = calloc(n + 1, sizeof(*ns.prefix)) };
	int rc = ns.rules && ns.matches && ns.prefix ? 0 : oom(a);
	for (size_t i = 0; rc == 0 && i < a->p->n_rules; i++)
		if (name_rule(&a->p->rules[i])) {
			ns.prefix[ns.n] = strcspn(a->p->rules[i].arg, "*?[\\");
			ns.rules[ns.n++] = &a->p->rules[i];
		}
	if (rc == 0)
		rc = scan_or_recall(a, cfg->workspace, &ns);
	free(ns.rules);
	free(ns.matches);
	free(ns.prefix);
	return rc;
}

static int apply_glob(applier *a, const sk_rule *r)
{
	glob_t g;
	if (glob(r->arg, GLOB_NOSORT, NULL, &g) != 0)
		return 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < g.gl_pathc && i < SCAN_MAX_MATCHES; i++)
		rc = hide_match(a, r, g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

static int apply_file_rule(applier *a, const sk_rule *r, const char *home, const sk_sandbox_config *cfg)
{
	if (r->path_kind == SK_PATH_NAME)
		return 0;   /* apply_name_rules: one walk for all of them */
	if (r->path_kind == SK_PATH_GLOB)
		return hiding(r) ? apply_glob(a, r) : 0;
	if (cfg->workspace && !strcmp(r->arg, cfg->workspace) && r->action == SK_FILE_READ_WRITE)
		return 0;   /* the sandbox binds the workspace read-write itself */
	if (home && !strcmp(r->arg, home) && (r->action == SK_FILE_HIDDEN || r->action == SK_FILE_TMPFS))
		return 0;   /* the sandbox's private HOME is that already */
	int rc = add_fs(a, r->arg, r->action, r->required);
	if (rc == 0 && r->action == SK_FILE_SECRET)
		rc = add_secret_tree(a, r->arg, 0);
	return rc;
}

/* A hard link of a hidden file: hidden too (and a secret if that was). */
static int hide_link(void *ctx, const char *path, bool secret)
{
	applier *a = ctx;
	int rc = add_fs(a, path, SK_FILE_HIDDEN, false);
	if (rc == 0 && secret)
		rc = add_secret_file(a, path);
	return rc;
}

/* No rule names the variable: it passes by the profile's default. */
static bool passed_by_default(const sk_profile *p, const sk_verdict *v)
{
	return v->rule_id && p->env_default.id && !strcmp(v->rule_id, p->env_default.id);
}

/* A credential in a URL (a proxy's user:password, a package index's
 * token) rides in variables of any name; one that no rule passes on
 * purpose goes in without it (*out: NAME=value as it goes in, or NULL
 * when there was none), and what was taken out is withheld like a
 * secret's value. */
static int strip_url_credentials(applier *a, const char *name, const char *value, char **out)
{
	sk_git_secrets taken = { 0 };
	int err = 0, rc = 0;
	char *clean = strchr(value, '@') ? sk_url_userinfo_strip(value, &taken, &err) : NULL;
	*out = NULL;
	if (err < 0)
		return oom(a);
	for (size_t i = 0; rc == 0 && i < taken.n; i++) {
		char label[300];
		snprintf(label, sizeof(label), "env:%s", name);
		rc = add_secret(a, label, taken.v[i], strlen(taken.v[i]));
	}
	sk_git_secrets_free(&taken);
	if (clean && rc == 0 && asprintf(out, "%s=%s", name, clean) < 0) {
		*out = NULL;
		rc = oom(a);
	}
	free(clean);
	return rc;
}

static int apply_env(applier *a, char *const *environ)
{
	sk_profile_env *e = a->env;
	size_t n = 0;
	if (grow((void **)&e->envp, &a->cap_env, 0, sizeof(char *)) < 0)
		return oom(a);
	e->envp[0] = NULL;
	for (char *const *v = environ; v && *v; v++) {
		const char *eq = strchr(*v, '=');
		char name[256];
		size_t nl = eq ? (size_t)(eq - *v) : 0;
		if (nl == 0 || nl >= sizeof(name))
			continue;   /* no rule can name it: withheld */
		memcpy(name, *v, nl);
		name[nl] = '\0';
		sk_event ev = { .kind = SK_EVENT_ENV };
		ev.env.name = name;
		sk_verdict verdict = sk_decide(a->p, NULL, &ev);
		if (verdict.action != SK_ACTION_ALLOW) {
			if (verdict.reason == SK_REASON_ENV_SECRET || verdict.reason == SK_REASON_ESCALATE_RULE ||
			    verdict.reason == SK_REASON_ESCALATE_CLASS) {
				char label[300];
				snprintf(label, sizeof(label), "env:%s", name);
				int rc = add_secret(a, label, eq + 1, strlen(eq + 1));
				if (rc < 0)
					return rc;
			}
			continue;
		}
		char *kept = NULL;
		if (passed_by_default(a->p, &verdict)) {
			int rc = strip_url_credentials(a, name, eq + 1, &kept);
			if (rc < 0)
				return rc;
		}
		if (grow((void **)&e->envp, &a->cap_env, n, sizeof(char *)) < 0)
			return oom(a);
		if (!(e->envp[n] = own(a, kept ? kept : strdup(*v))))
			return oom(a);
		e->envp[++n] = NULL;
	}
	return 0;
}

static int apply_syscalls(applier *a)
{
	sk_profile_env *e = a->env;
	size_t n = a->p->n_rules;
	e->deny_syscalls = calloc(n + 1, sizeof(char *));
	e->allow_syscalls = calloc(n + 1, sizeof(char *));
	if (!e->deny_syscalls || !e->allow_syscalls)
		return oom(a);
	for (size_t i = 0; i < n; i++) {
		const sk_rule *r = &a->p->rules[i];
		if (r->cls != SK_CLASS_SYSCALL)
			continue;
		/* Escalation cannot wait inside seccomp yet: an escalating syscall is denied. */
		if (r->action == SK_ACTION_ALLOW)
			e->allow_syscalls[e->n_allow_syscalls++] = r->arg;
		else
			e->deny_syscalls[e->n_deny_syscalls++] = r->arg;
	}
	return 0;
}

static int apply_redact(applier *a)
{
	sk_profile_env *e = a->env;
	size_t n = a->p->n_rules, n_disabled = 0;
	e->disabled_rules = calloc(n + 1, sizeof(char *));
	if (!e->secret_files && !(e->secret_files = calloc(1, sizeof(char *))))
		return oom(a);
	e->pattern_rules = calloc(n + 1, sizeof(char *));
	e->pattern_exprs = calloc(n + 1, sizeof(char *));
	if (!e->disabled_rules || !e->pattern_rules || !e->pattern_exprs)
		return oom(a);
	for (size_t i = 0; i < n; i++) {
		const sk_rule *r = &a->p->rules[i];
		if (r->cls != SK_CLASS_REDACT)
			continue;
		if (r->action == SK_REDACT_DISABLE) {
			e->disabled_rules[n_disabled++] = r->arg;
		} else if (r->action == SK_REDACT_PATTERN) {
			e->pattern_rules[e->n_patterns] = r->arg;
			e->pattern_exprs[e->n_patterns++] = r->arg2;
		} else {
			int rc = add_secret_tree(a, r->arg, 0);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static size_t depth(const char *path)
{
	size_t d = 0;
	for (; *path; path++)
		d += *path == '/';
	return d;
}

/* Parents first; among equals, the order the rules came in. */
static void sort_parents_first(sk_profile_env *e)
{
	for (size_t i = 1; i < e->n_fs; i++) {
		sk_fs_rule r = e->fs[i];
		size_t j = i;
		while (j > 0 && depth(e->fs[j - 1].path) > depth(r.path)) {
			e->fs[j] = e->fs[j - 1];
			j--;
		}
		e->fs[j] = r;
	}
}

/* A command the profile refuses is also taken out of the mount tree (an
 * empty stand-in over its executable): the kernel then refuses it too,
 * with no window between a decision and an exec. */
static int apply_commands(applier *a)
{
	static const char *const dirs[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	for (size_t i = 0; i < a->p->n_rules; i++) {
		const sk_rule *r = &a->p->rules[i];
		if (r->cls != SK_CLASS_COMMAND || r->action == SK_ACTION_ALLOW)
			continue;
		char real[PATH_MAX];
		int rc = 0;
		if (r->path_kind == SK_PATH_PREFIX && r->resolved)
			rc = add_fs(a, r->resolved, SK_FILE_HIDDEN, false);
		for (size_t d = 0; rc == 0 && r->path_kind == SK_PATH_NAME && !strpbrk(r->arg, "*?[") &&
				   d < SK_ARRAY_LEN(dirs); d++) {
			char cand[PATH_MAX];
			struct stat st;
			if (snprintf(cand, sizeof(cand), "%s/%s", dirs[d], r->arg) < (int)sizeof(cand) &&
			    stat(cand, &st) == 0 && S_ISREG(st.st_mode) && realpath(cand, real))
				rc = add_fs(a, real, SK_FILE_HIDDEN, false);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '/' || (n == 1 && dir[0] == '/'));
}

/* One more fs rule after the profile's, parents first again. */
static int append_fs(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, sk_fs_access acc,
		     sk_error *err)
{
	sk_fs_rule *fs = realloc(env->fs, (env->n_fs + 2) * sizeof(*fs));
	if (fs)
		env->fs = fs;
	char **owned = fs ? realloc(env->owned, (env->n_owned + 1) * sizeof(*owned)) : NULL;
	if (owned)
		env->owned = owned;
	char *copy = owned ? strdup(path) : NULL;
	if (!copy)
		return sk_fail(err, ENOMEM, "out of memory");
	env->owned[env->n_owned++] = copy;
	env->fs[env->n_fs++] = (sk_fs_rule){ .path = copy, .access = acc, .optional = true };
	sort_parents_first(env);
	cfg->fs = env->fs;
	cfg->n_fs = env->n_fs;
	return 0;
}

int sk_profile_env_reveal(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, sk_error *err)
{
	/* The stand-in over it goes; then, if something above it is hidden
	 * or private (the private HOME), the path is bound back read-only. */
	for (size_t i = 0; i < env->n_fs; i++)
		if (!strcmp(env->fs[i].path, path) && env->fs[i].access == SK_FS_HIDE) {
			memmove(&env->fs[i], &env->fs[i + 1], (env->n_fs - i - 1) * sizeof(*env->fs));
			env->n_fs--;
			break;
		}
	bool covered = cfg->home && beneath(path, cfg->home);
	for (size_t i = 0; i < env->n_fs && !covered; i++)
		covered = (env->fs[i].access == SK_FS_HIDE || env->fs[i].access == SK_FS_TMPFS) &&
			  beneath(path, env->fs[i].path);
	cfg->fs = env->fs;
	cfg->n_fs = env->n_fs;
	return covered ? append_fs(env, cfg, path, SK_FS_RO, err) : 0;
}

int sk_profile_env_show_copy(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, const char *source,
			     sk_error *err)
{
	for (size_t i = 0; i < env->n_fs; i++)
		if (!strcmp(env->fs[i].path, path) && env->fs[i].access == SK_FS_RO) {
			char **owned = realloc(env->owned, (env->n_owned + 1) * sizeof(*owned));
			if (owned)
				env->owned = owned;
			char *copy = owned ? strdup(source) : NULL;
			if (!copy)
				return sk_fail(err, ENOMEM, "out of memory");
			env->owned[env->n_owned++] = copy;
			env->fs[i].source = copy;
			cfg->fs = env->fs;
			return 0;
		}
	return sk_fail(err, EINVAL, "%s is not shown read-only: no copy can stand in for it", path);
}

int sk_profile_env_force(sk_profile_env *env, sk_sandbox_config *cfg, const char *path, sk_fs_access acc,
			 sk_error *err)
{
	for (size_t i = 0; i < env->n_fs; i++)
		if (!strcmp(env->fs[i].path, path)) {
			if (fs_strictness(acc) > fs_strictness(env->fs[i].access))
				env->fs[i].access = acc;   /* never looser than the profile */
			return 0;
		}
	return append_fs(env, cfg, path, acc, err);
}

static void fill_config(const sk_profile *p, const sk_profile_env *e, const char *home, sk_sandbox_config *cfg)
{
	cfg->fs = e->fs;
	cfg->n_fs = e->n_fs;
	cfg->envp = e->envp;
	if (home && !cfg->home)
		cfg->home = home;
	cfg->net = p->net.value == SK_NETP_HOST ? SK_NET_HOST : SK_NET_NONE;
	cfg->deny_syscalls = e->deny_syscalls;
	cfg->n_deny_syscalls = e->n_deny_syscalls;
	cfg->allow_syscalls = e->allow_syscalls;
	cfg->n_allow_syscalls = e->n_allow_syscalls;
	const uint64_t *l = p->limits;
	if (l[SK_LIMIT_TIMEOUT]) cfg->limits.timeout_ms = l[SK_LIMIT_TIMEOUT];
	if (l[SK_LIMIT_MEMORY]) cfg->limits.memory_bytes = l[SK_LIMIT_MEMORY];
	if (l[SK_LIMIT_PIDS]) cfg->limits.pids = l[SK_LIMIT_PIDS];
	if (l[SK_LIMIT_CPU]) cfg->limits.cpu_seconds = l[SK_LIMIT_CPU];
	if (l[SK_LIMIT_OUTPUT]) cfg->limits.output_bytes = l[SK_LIMIT_OUTPUT];
	if (l[SK_LIMIT_NOFILE]) cfg->limits.nofile = l[SK_LIMIT_NOFILE];
}

int sk_profile_apply(const sk_profile *p, char *const *environ, const char *home,
		     sk_sandbox_config *cfg, sk_profile_env *env, sk_error *err)
{
	return sk_profile_apply_cached(p, environ, home, NULL, cfg, env, err);
}

int sk_profile_apply_cached(const sk_profile *p, char *const *environ, const char *home, const char *cache_dir,
			    sk_sandbox_config *cfg, sk_profile_env *env, sk_error *err)
{
	*env = (sk_profile_env){ 0 };
	applier a = { .p = p, .env = env, .err = err, .cache_dir = cache_dir };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->n_rules; i++)
		if (p->rules[i].cls == SK_CLASS_FILE)
			rc = apply_file_rule(&a, &p->rules[i], home, cfg);
	if (rc == 0)
		rc = apply_name_rules(&a, cfg);
	if (rc == 0)
		rc = apply_commands(&a);
	if (rc == 0)
		rc = sk_profile_hide_links(env, cfg->workspace, hide_link, &a);
	if (rc == 0)
		rc = apply_env(&a, environ);
	if (rc == 0)
		rc = apply_syscalls(&a);
	if (rc == 0)
		rc = apply_redact(&a);
	if (rc < 0) {
		sk_profile_env_free(env);
		return rc;
	}
	sort_parents_first(env);
	fill_config(p, env, home, cfg);
	return 0;
}

void sk_profile_env_free(sk_profile_env *env)
{
	for (size_t i = 0; i < env->n_owned; i++)
		free(env->owned[i]);
	free(env->owned);
	free(env->secrets);
	free(env->secret_files);
	free(env->package_configs);
	free(env->nested_repos);
	free(env->disabled_rules);
	free(env->pattern_rules);
	free(env->pattern_exprs);
	free(env->fs);
	free(env->envp);
	free(env->deny_syscalls);
	free(env->allow_syscalls);
	*env = (sk_profile_env){ 0 };
}
