/* The mount plan: which host paths appear in the sandbox, and how.
 * Pure: built from the configuration alone, asserted in unit tests, then
 * applied by mount_apply.c.  Entries are ordered parents first, so a later
 * (deeper) mount is never hidden by an earlier one. */
#include <string.h>

#include "stockade/sandbox.h"

/* System directories shown read-only.  Top-level symlinks (/bin -> usr/bin
 * on merged-/usr systems) are reproduced as links by the apply step. */
static const char *const system_dirs[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/var",
};

static const char *const dev_nodes[] = {
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

static const struct { const char *dst, *target; } dev_links[] = {
	{ "/dev/ptmx", "pts/ptmx" },      { "/dev/fd", "/proc/self/fd" },
	{ "/dev/stdin", "/proc/self/fd/0" }, { "/dev/stdout", "/proc/self/fd/1" },
	{ "/dev/stderr", "/proc/self/fd/2" },
};

static int push(sk_mount_plan *p, sk_mount_kind kind, const char *src, const char *dst,
		unsigned mode, bool optional)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 32;
		sk_mount *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	sk_mount *m = &p->v[p->n];
	*m = (sk_mount){ .kind = kind, .mode = mode, .optional = optional };
	m->dst = strdup(dst);
	m->src = src ? strdup(src) : NULL;
	if (!m->dst || (src && !m->src)) {
		free(m->dst);
		free(m->src);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

void sk_mount_plan_free(sk_mount_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].src);
		free(p->v[i].dst);
	}
	free(p->v);
	*p = (sk_mount_plan){ 0 };
}

static size_t depth(const char *path)
{
	size_t d = 0;
	for (const char *s = path; *s; s++)
		if (*s == '/' && s[1] && s[1] != '/')
			d++;
	return d;
}

/* Is path equal to or beneath dir? */
static bool beneath(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A clean absolute path: no "..", ".", "//" or trailing slash components. */
static bool clean_absolute(const char *p)
{
	if (p[0] != '/')
		return false;
	if (p[1] == '\0')
		return true;
	for (const char *s = p; *s; s++) {
		if (*s != '/')
			continue;
		const char *c = s + 1;
		if (*c == '/' || *c == '\0')
			return false;
		if (c[0] == '.' && (c[1] == '/' || c[1] == '\0'))
			return false;
		if (c[0] == '.' && c[1] == '.' && (c[2] == '/' || c[2] == '\0'))
			return false;
	}
	return true;
}

/* Only a path that some host bind would reveal needs hiding: anything else
 * is not in the sandbox to begin with. */
static bool revealed_by_bind(const sk_mount_plan *p, const char *path)
{
	bool revealed = false;
	for (size_t i = 0; i < p->n; i++) {
		const sk_mount *m = &p->v[i];
		if (!beneath(path, m->dst))
			continue;
		/* The deepest covering entry wins. */
		revealed = m->kind == SK_MNT_BIND_RO || m->kind == SK_MNT_BIND_RW;
	}
	return revealed;
}

static int add_fs_rule(sk_mount_plan *p, const sk_fs_rule *r, sk_error *err)
{
	if (!r->path || !clean_absolute(r->path))
		return sk_fail(err, EINVAL, "filesystem rule path '%s' must be a clean absolute path",
			       r->path ? r->path : "(null)");
	switch (r->access) {
	case SK_FS_RO:
		return push(p, SK_MNT_BIND_RO, r->source ? r->source : r->path, r->path, 0, r->optional);
	case SK_FS_RW:
		return push(p, SK_MNT_BIND_RW, r->source ? r->source : r->path, r->path, 0, r->optional);
	case SK_FS_TMPFS:
		for (size_t i = 0; i < p->n; i++)
			if (p->v[i].kind == SK_MNT_TMPFS && !strcmp(p->v[i].dst, r->path))
				return 0;   /* the sandbox's own private tmpfs already */
		return push(p, SK_MNT_TMPFS, NULL, r->path, 0755, false);
	case SK_FS_HIDE:
		if (!revealed_by_bind(p, r->path))
			return 0;
		return push(p, SK_MNT_HIDE, r->path, r->path, 0, true);
	}
	return sk_fail(err, EINVAL, "unknown access kind %d for '%s'", (int)r->access, r->path);
}

static int cmp_depth(const void *a, const void *b)
{
	size_t da = depth(((const sk_mount *)a)->dst), db = depth(((const sk_mount *)b)->dst);
	return (da > db) - (da < db);
}

/* Stable insertion sort by depth: qsort is not stable, and the order of
 * equal-depth entries is the order of precedence (later wins). */
static void sort_parents_first(sk_mount_plan *p)
{
	for (size_t i = 1; i < p->n; i++) {
		sk_mount m = p->v[i];
		size_t j = i;
		while (j > 0 && cmp_depth(&p->v[j - 1], &m) > 0) {
			p->v[j] = p->v[j - 1];
			j--;
		}
		p->v[j] = m;
	}
}

int sk_mount_plan_build(const sk_sandbox_config *cfg, sk_mount_plan *p, sk_error *err)
{
	*p = (sk_mount_plan){ 0 };
	int r = 0;
	if (!cfg->workspace || !clean_absolute(cfg->workspace) || !strcmp(cfg->workspace, "/"))
		return sk_fail(err, EINVAL, "workspace must be a clean absolute directory other than /");
	if (cfg->home && (!clean_absolute(cfg->home) || !strcmp(cfg->home, "/")))
		return sk_fail(err, EINVAL, "home must be a clean absolute path other than /");

	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(system_dirs); i++)
		r = push(p, SK_MNT_BIND_RO, system_dirs[i], system_dirs[i], 0, true);
	if (r == 0) r = push(p, SK_MNT_PROC, NULL, "/proc", 0, false);
	if (r == 0) r = push(p, SK_MNT_TMPFS, NULL, "/dev", 0755, false);
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(dev_nodes); i++)
		r = push(p, SK_MNT_BIND_DEV, dev_nodes[i], dev_nodes[i], 0, true);
	if (r == 0) r = push(p, SK_MNT_DEVPTS, NULL, "/dev/pts", 0, false);
	if (r == 0) r = push(p, SK_MNT_TMPFS, NULL, "/dev/shm", 01777, false);
	for (size_t i = 0; r == 0 && i < SK_ARRAY_LEN(dev_links); i++)
		r = push(p, SK_MNT_SYMLINK, dev_links[i].target, dev_links[i].dst, 0, false);
	if (r == 0) r = push(p, SK_MNT_TMPFS, NULL, "/tmp", 01777, false);
	if (r == 0) r = push(p, SK_MNT_TMPFS, NULL, "/var/tmp", 01777, false);
	if (r == 0) r = push(p, SK_MNT_TMPFS, NULL, "/run", 0755, false);
	if (r == 0 && cfg->home)
		r = push(p, SK_MNT_TMPFS, NULL, cfg->home, 0700, false);
	if (r < 0)
		goto fail;
	/* The workspace goes before profile rules, so a rule can hide a file
	 * inside it (e.g. the workspace's .env). */
	if ((r = push(p, cfg->workspace_readonly ? SK_MNT_BIND_RO : SK_MNT_BIND_RW, cfg->workspace,
		      cfg->workspace, 0, false)) < 0)
		goto fail;
	/* Hides last: whether a path needs hiding depends on every bind. */
	for (int hides = 0; hides <= 1; hides++)
		for (size_t i = 0; i < cfg->n_fs; i++)
			if ((cfg->fs[i].access == SK_FS_HIDE) == hides &&
			    (r = add_fs_rule(p, &cfg->fs[i], err)) < 0)
				goto out;
	sort_parents_first(p);
	if ((r = push(p, SK_MNT_REMOUNT_RO, NULL, "/", 0, false)) < 0)
		goto fail;
	return 0;
fail:
	sk_fail(err, -r, "cannot build the mount plan: out of memory");
out:
	sk_mount_plan_free(p);
	return r;
}
