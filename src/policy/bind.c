/* Binding a parsed profile to this host: rule paths to realpaths and to
 * device:inode identities, so that decide can recognise an object reached
 * by another path (hard link, bind mount, /proc/PID/root, a symlinked
 * rule path).  I/O happens here and only here; decide stays pure. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

enum { BIND_MAX_IDENTS = 8192, BIND_MAX_DEPTH = 4 };
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

typedef struct binder {
	sk_profile *p;
	size_t cap;
	sk_error *err;
} binder;

static int add_ident(binder *b, const struct stat *st, const char *path)
{
	sk_profile *p = b->p;
	if (p->n_idents >= BIND_MAX_IDENTS)
		return 0;   /* bounded: the rest still match by path */
	if (p->n_idents == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		sk_ident *n = realloc(p->idents, cap * sizeof(*n));
		if (!n)
			return sk_fail(b->err, ENOMEM, "out of memory");
		p->idents = n;
		b->cap = cap;
	}
	const char *copy = sk_arena_strdup(p->arena, path);
	if (!copy)
		return sk_fail(b->err, ENOMEM, "out of memory");
	p->idents[p->n_idents++] = (sk_ident){ (uint64_t)st->st_dev, (uint64_t)st->st_ino, copy };
	return 0;
}

/* Every file beneath a denied directory: a hard link to one of them
 * elsewhere is still that file.  Symlinks are not followed. */
static int add_tree(binder *b, const char *dir, int depth)
{
	if (depth > BIND_MAX_DEPTH || b->p->n_idents >= BIND_MAX_IDENTS)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;   /* unreadable here: it cannot be opened by the command either */
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode))
			continue;
		r = add_ident(b, &st, path);
		if (r == 0 && S_ISDIR(st.st_mode))
			r = add_tree(b, path, depth + 1);
	}
	closedir(d);
	return r;
}

static int bind_path_rule(binder *b, sk_rule *r)
{
	char real[PATH_MAX];
	struct stat st;
	if (!realpath(r->arg, real) || stat(real, &st) < 0)
		return 0;   /* absent now: the rule still matches by path */
	if (strcmp(real, r->arg) && !(r->resolved = sk_arena_strdup(b->p->arena, real)))
		return sk_fail(b->err, ENOMEM, "out of memory");
	int rc = add_ident(b, &st, r->arg);
	bool denying = r->cls == SK_CLASS_FILE && (r->action == SK_FILE_DENY || r->action == SK_FILE_SECRET);
	if (rc == 0 && denying && S_ISDIR(st.st_mode))
		rc = add_tree(b, r->arg, 1);
	return rc;
}

/* `command deny curl`: the executables called curl on the PATH; the
 * location recorded is the name as found, so a symlinked alternative
 * (/usr/bin/nc -> nc.openbsd) still carries the name the rule uses. */
static int bind_command_name(binder *b, const sk_rule *r, const char *path_dirs)
{
	_cleanup_free_ char *dirs = strdup(path_dirs);
	if (!dirs)
		return sk_fail(b->err, ENOMEM, "out of memory");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char path[PATH_MAX];
		struct stat st;
		if (d[0] != '/' || snprintf(path, sizeof(path), "%s/%s", d, r->arg) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			int rc = add_ident(b, &st, path);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int cmp_ident(const void *a, const void *b)
{
	const sk_ident *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

int sk_profile_add_ident(sk_profile *p, uint64_t dev, uint64_t ino, const char *path, sk_error *err)
{
	const char *copy = sk_arena_strdup(p->arena, path);
	sk_ident *n = copy ? realloc(p->idents, (p->n_idents + 1) * sizeof(*n)) : NULL;
	if (!n)
		return sk_fail(err, ENOMEM, "out of memory");
	p->idents = n;
	/* Keep the array sorted: insert in place. */
	sk_ident id = { dev, ino, copy };
	size_t i = p->n_idents;
	while (i > 0 && cmp_ident(&p->idents[i - 1], &id) > 0) {
		p->idents[i] = p->idents[i - 1];
		i--;
	}
	p->idents[i] = id;
	p->n_idents++;
	return 0;
}

size_t sk_profile_ident_paths(const sk_profile *p, uint64_t dev, uint64_t ino, const char **out, size_t cap)
{
	size_t lo = 0, hi = p->n_idents, n = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const sk_ident *m = &p->idents[mid];
		if (m->dev < dev || (m->dev == dev && m->ino < ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < p->n_idents && n < cap && p->idents[lo].dev == dev && p->idents[lo].ino == ino; lo++)
		out[n++] = p->idents[lo].path;
	return n;
}

int sk_profile_bind(sk_profile *p, const char *path_dirs, sk_error *err)
{
	if (p->bound)
		return 0;
	binder b = { .p = p, .err = err };
	for (size_t i = 0; i < p->n_rules; i++) {
		sk_rule *r = &p->rules[i];
		int rc = 0;
		if (r->cls != SK_CLASS_FILE && r->cls != SK_CLASS_COMMAND)
			continue;
		if (r->path_kind == SK_PATH_PREFIX)
			rc = bind_path_rule(&b, r);
		else if (r->cls == SK_CLASS_COMMAND && r->path_kind == SK_PATH_NAME && !strpbrk(r->arg, "*?["))
			rc = bind_command_name(&b, r, path_dirs ? path_dirs : DEFAULT_PATH);
		if (rc < 0)
			return rc;
	}
	sk_sort(p->idents, p->n_idents, sizeof(*p->idents), cmp_ident);
	p->bound = true;
	return 0;
}
