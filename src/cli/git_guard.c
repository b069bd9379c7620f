/* After a run, before anyone's git is let back into the workspace.
 *
 * The sandbox keeps the workspace repository's config and hooks read-only
 * (run_path.c), but git takes a repository's config from wherever that
 * repository's own files point, and those files are the command's to
 * write: a gitlink in the index makes `git status` enter another
 * repository; a `.git` file names a git directory; `commondir` moves the
 * config; `config.worktree` adds to it; a workspace that was no
 * repository can become one; a gitlink committed on a branch comes back
 * with a checkout.  Any of them ran core.fsmonitor on the host's next
 * `git status` (integration/corpus/git-host-exec.bats).
 *
 * So once the command's processes are gone, every repository git could
 * enter from the workspace is looked at from the host: the workspace's
 * .git, the gitlinks of its index (theirs in turn, 4 levels), every other
 * .git entry below the top (git_walk.c), each commondir and
 * config.worktree, the linked worktrees' git directories.  A repository
 * is left as it is when its git directory is one the sandbox saw
 * read-only (the caller's), or when nothing git would run from it changed
 * while a sandbox could write (unchanged_since).  Any other must hold only
 * config git itself writes as plain data (git_allow.c) and no hooks; one
 * that does not is moved aside in its own directory
 * (NAME.stockade-quarantined): git then finds nothing to run, and nothing
 * is lost.  Paths are resolved, never trusted by spelling; nothing outside
 * the workspace is moved (the sandbox cannot write there: the entry that
 * points there is moved instead). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "git_guard.h"
#include "stockade/util.h"

/* A resolved path (< PATH_MAX) and a fixed name below it always fit. */
enum { CONFIG_MAX = 1 << 20, GITFILE_MAX = PATH_MAX + 16, DEPTH_MAX = 4, JOIN_MAX = PATH_MAX + 80 };
#define INDEX_MAX ((size_t)1 << 30)

/* A git directory already looked at: by the entries that lead to it
 * (any number, by any path), each is moved aside when it is not clean. */
typedef struct seen_dir {
	char *gitdir;              /* NULL: an empty slot */
	char why[160];             /* "" when clean */
} seen_dir;

typedef struct walk {
	sk_git_guard *g;
	char root[PATH_MAX];       /* the workspace, resolved */
	sk_git_walk_result found;  /* every .git entry below the top, and the memo's view of each */
	seen_dir *seen;            /* open addressing, at most half full */
	size_t n_seen, cap_seen;
} walk;

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* gitdir's slot (its own, or the empty one it would take). */
static seen_dir *seen_slot(seen_dir *v, size_t cap, const char *gitdir)
{
	size_t i = hash(gitdir) & (cap - 1);
	while (v[i].gitdir && strcmp(v[i].gitdir, gitdir))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* The record of gitdir, made on first sight; NULL when memory ran out. */
static seen_dir *seen(walk *w, const char *gitdir, bool *first)
{
	if (2 * (w->n_seen + 1) > w->cap_seen) {
		size_t cap = w->cap_seen ? 2 * w->cap_seen : 64;
		seen_dir *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; i < w->cap_seen; i++)
			if (w->seen[i].gitdir)
				*seen_slot(v, cap, w->seen[i].gitdir) = w->seen[i];
		free(w->seen);
		w->seen = v;
		w->cap_seen = cap;
	}
	seen_dir *d = seen_slot(w->seen, w->cap_seen, gitdir);
	*first = !d->gitdir;
	if (*first) {
		if (!(d->gitdir = strdup(gitdir)))
			return NULL;
		d->why[0] = '\0';
		w->n_seen++;
	}
	return d;
}

static void seen_free(walk *w)
{
	for (size_t i = 0; i < w->cap_seen; i++)
		free(w->seen[i].gitdir);
	free(w->seen);
}

static void check_entry(walk *w, const char *path, int depth);

int sk_git_guard_trust(sk_git_guard *g, const char *gitdir)
{
	char real[PATH_MAX];
	if (!realpath(gitdir, real))
		return 0;   /* nothing there: nothing to trust */
	for (size_t i = 0; i < g->n_trusted; i++)
		if (!strcmp(g->trusted[i], real))
			return 0;
	char **v = sk_grow(g->trusted, &g->cap_trusted, g->n_trusted + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	g->trusted = v;
	if (!(g->trusted[g->n_trusted] = strdup(real)))
		return -ENOMEM;
	g->n_trusted++;
	return 0;
}

static bool trusted(const sk_git_guard *g, const char *real)
{
	for (size_t i = 0; i < g->n_trusted; i++)
		if (!strcmp(g->trusted[i], real))
			return true;
	return false;
}

/* path relative to the workspace, or NULL when it is not beneath it. */
static const char *beneath(const walk *w, const char *real)
{
	size_t n = strlen(w->root);
	if (strncmp(real, w->root, n) || (real[n] && real[n] != '/'))
		return NULL;
	return real[n] ? real + n + 1 : real + n;
}

/* The directory of path, resolved, relative to the workspace (NULL: not
 * beneath it); name gets its last component as it is. */
static const char *parent_beneath(const walk *w, const char *path, char real[PATH_MAX], char name[PATH_MAX])
{
	char dir[PATH_MAX];
	snprintf(dir, PATH_MAX, "%s", path);
	snprintf(name, PATH_MAX, "%s", basename(dir));
	snprintf(dir, PATH_MAX, "%s", path);
	return realpath(dirname(dir), real) ? beneath(w, real) : NULL;
}

/* src for a receipt and a terminal: bytes outside printable ASCII (and
 * the backslash) as \xNN, so that a name cannot forge a line or break
 * the receipt's JSON. */
static void printable(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)src; *p && n + 5 < cap; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '\\')
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", *p);
		else
			dst[n++] = (char)*p;
	}
	dst[n] = '\0';
}

/* Move path (its last component as it is, a symlink included) aside in
 * its own directory, or else fallback (the entry that led git there: the
 * sandbox can only have written what is in the workspace); record why
 * either way. */
static void quarantine(walk *w, const char *path, const char *fallback, const char *why)
{
	sk_git_guard *g = w->g;
	sk_git_quarantine q = { 0 };
	char real[PATH_MAX], name[PATH_MAX], shown[PATH_MAX];
	const char *rel = parent_beneath(w, path, real, name);
	if (!rel && fallback)
		rel = parent_beneath(w, fallback, real, name);
	snprintf(q.why, sizeof(q.why), "%s", why);
	if (rel && snprintf(shown, sizeof(shown), "%s%s%s", rel, *rel ? "/" : "", name) < (int)sizeof(shown))
		printable(q.path, sizeof(q.path), shown);
	else
		printable(q.path, sizeof(q.path), path);   /* outside the workspace: not the sandbox's to have written */
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int root = rel ? open(w->root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	int pfd = root < 0 ? -1 : (int)syscall(SYS_openat2, root, *rel ? rel : ".", &how, sizeof(how));
	for (int k = 0; pfd >= 0 && k < 100; k++) {
		char to[NAME_MAX + 1];
		if (snprintf(to, sizeof(to), k ? "%s.stockade-quarantined.%d" : "%s.stockade-quarantined", name, k) >=
		    (int)sizeof(to))
			break;
		if (renameat2(pfd, name, pfd, to, RENAME_NOREPLACE) == 0) {
			if (snprintf(shown, sizeof(shown), "%s%s%s", rel, *rel ? "/" : "", to) >= (int)sizeof(shown))
				snprintf(shown, sizeof(shown), "%s", to);
			printable(q.moved_to, sizeof(q.moved_to), shown);
			break;
		}
		if (errno != EEXIST)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	if (root >= 0)
		close(root);
	sk_git_quarantine *v = g->n_q < SK_GIT_QUARANTINE_MAX ? sk_grow(g->q, &g->cap_q, g->n_q + 1, sizeof(*v)) : NULL;
	if (!v) {
		g->overflow = true;   /* moved all the same; the count says so */
		g->n_unlisted++;
		return;
	}
	g->q = v;
	g->q[g->n_q++] = q;
}

/* path reaches what it names only through a /proc magic link (or a loop):
 * where it leads depends on the process that looks, git or this one. */
static bool magic(const char *path)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == ELOOP;
}

/* A small regular file: 1 read, 0 absent, -1 there but not a regular
 * file of at most cap bytes, or only through a magic link (a FIFO is not
 * opened for real: O_NONBLOCK). */
static int read_small(const char *path, size_t cap, char **out, size_t *len)
{
	*out = NULL;
	struct open_how how = { .flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, .resolve = RESOLVE_NO_MAGICLINKS };
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return sk_read_fd(fd, cap, out, len) == 0 ? 1 : -1;
}

/* A config file, when present, holds only what git writes (why: not). */
static bool config_clean(const char *path, char *why, size_t why_len)
{
	char *text;
	size_t len;
	int r = read_small(path, CONFIG_MAX, &text, &len);
	if (r == 0)
		return true;
	if (r < 0) {
		snprintf(why, why_len, "its config cannot be read as git would");
		return false;
	}
	bool clean = sk_git_config_check(text, len, why, why_len) == 0;
	free(text);
	return clean;
}

/* No hooks: every file in hooks/ but git's own samples is one. */
static bool hooks_clean(const char *common, char *why, size_t why_len)
{
	char path[JOIN_MAX];
	snprintf(path, sizeof(path), "%s/hooks", common);
	DIR *d = opendir(path);
	if (!d)
		return true;
	bool clean = true;
	for (struct dirent *e; clean && (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' && (n == 1 || (n == 2 && e->d_name[1] == '.')))
			continue;
		if (n < 7 || strcmp(e->d_name + n - 7, ".sample")) {
			snprintf(why, why_len, "it has a hook (hooks/%.100s)", e->d_name);
			clean = false;
		}
	}
	closedir(d);
	return clean;
}

/* A repository's own config and hooks: the caller's (trusted) or clean. */
static bool repo_clean(const walk *w, const char *common, char *why, size_t why_len)
{
	char path[JOIN_MAX];
	if (trusted(w->g, common))
		return true;
	snprintf(path, sizeof(path), "%s/config", common);
	return config_clean(path, why, why_len) && hooks_clean(common, why, why_len);
}

/* Where gitdir/commondir points (resolved) into out, "" when there is
 * none: 1; 0 when git could not follow it either (it stops: nothing
 * runs); -1 when this check cannot see what git would. */
static int common_dir(const char *gitdir, char out[PATH_MAX])
{
	char path[JOIN_MAX], target[JOIN_MAX + PATH_MAX], *text;
	size_t len;
	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/commondir", gitdir);
	int r = read_small(path, PATH_MAX, &text, &len);
	if (r <= 0)
		return r == 0 ? 1 : -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (text[0] == '/')
		snprintf(target, sizeof(target), "%s", text);
	else
		snprintf(target, sizeof(target), "%s/%s", gitdir, text);
	free(text);
	if (magic(target))
		return -1;
	return realpath(target, out) ? 1 : 0;
}

/* Parse index (its path) and check the entry of every gitlink in it, in
 * worktree (resolved).  A split index's shared part is read too. */
typedef struct links_ctx {
	walk *w;
	const char *worktree;
	int depth;
} links_ctx;

static int on_gitlink(void *ctx, const char *path, size_t len)
{
	links_ctx *c = ctx;
	char entry[PATH_MAX];
	if (snprintf(entry, sizeof(entry), "%s/%.*s/.git", c->worktree, (int)len, path) < (int)sizeof(entry))
		check_entry(c->w, entry, c->depth + 1);
	return 0;
}

static int index_links(links_ctx *c, const char *index, size_t hash_len, char shared[65])
{
	int fd = open(index, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	int r = -EINVAL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= INDEX_MAX && st.st_size > 0) {
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m != MAP_FAILED) {
			r = sk_git_index_gitlinks(m, (size_t)st.st_size, hash_len, shared, on_gitlink, c);
			munmap(m, (size_t)st.st_size);
		}
	}
	close(fd);
	return r;
}

static size_t repo_hash_len(const char *common)
{
	char path[JOIN_MAX], *text;
	size_t len, n = 20;
	snprintf(path, sizeof(path), "%s/config", common);
	if (read_small(path, CONFIG_MAX, &text, &len) == 1) {
		n = sk_git_hash_len(text, len);
		free(text);
	}
	return n;
}

/* The gitlinks of gitdir's index, in worktree. */
static void check_links(walk *w, const char *gitdir, const char *common, const char *worktree, int depth)
{
	if (depth >= DEPTH_MAX)
		return;
	char index[JOIN_MAX], shared[65];
	size_t hash_len = repo_hash_len(common);
	links_ctx c = { w, worktree, depth };
	snprintf(index, sizeof(index), "%s/index", gitdir);
	int r = index_links(&c, index, hash_len, shared);
	if (r >= 0 && shared[0]) {
		char more[65];
		snprintf(index, sizeof(index), "%s/sharedindex.%s", gitdir, shared);
		r = index_links(&c, index, hash_len, more);
	}
	(void)r;   /* an index this reader does not know: the walk finds every .git entry all the same */
}

/* gitdir (resolved) as git uses it: its commondir, the config there,
 * config.worktree; entry is what to move aside when the repository itself
 * is not clean (NULL: the commondir or config.worktree is the fault). */
static void check_gitdir(walk *w, const char *entry, const char *gitdir, const char *worktree, int depth,
			 char bad[160])
{
	char common[PATH_MAX], path[JOIN_MAX], why[160];
	int cd = common_dir(gitdir, common);
	if (cd == 0)
		return;   /* git stops there */
	snprintf(path, sizeof(path), "%s/commondir", gitdir);
	if (cd < 0) {
		quarantine(w, path, entry, "its commondir leads where this check cannot follow git (a /proc link)");
		common[0] = '\0';
	} else if (common[0] && !repo_clean(w, common, why, sizeof(why))) {
		char because[200];
		snprintf(because, sizeof(because), "it points git at a repository where %s", why);
		quarantine(w, path, entry, because);
		common[0] = '\0';   /* git now takes gitdir itself */
	}
	if (!common[0]) {
		snprintf(common, sizeof(common), "%s", gitdir);
		if (!repo_clean(w, common, why, sizeof(why))) {
			quarantine(w, entry, NULL, why);
			snprintf(bad, 160, "%s", why);
			return;
		}
	}
	snprintf(path, sizeof(path), "%s/config.worktree", gitdir);
	char real[PATH_MAX];
	if (!(realpath(path, real) && trusted(w->g, real)) && !config_clean(path, why, sizeof(why)))
		quarantine(w, path, entry, why);
	if (worktree)
		check_links(w, gitdir, common, worktree, depth);
}

/* The git directory of the entry at path (a directory, a "gitdir:" file
 * relative to worktree, or a link to either), resolved: 1; 0 when git
 * could not enter it either; -1 when it goes through a magic link. */
static int entry_gitdir(const char *path, const char *worktree, char gitdir[PATH_MAX])
{
	char *text;
	size_t len;
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (magic(path))
		return -1;
	if (stat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode))
		return realpath(path, gitdir) != NULL;
	int r = read_small(path, GITFILE_MAX, &text, &len);
	if (r <= 0)
		return r;   /* -1: not a file git would read as one (a FIFO, a device): moved aside */
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	char target[JOIN_MAX + GITFILE_MAX];
	bool ok = !strncmp(text, "gitdir: ", 8);
	if (ok)
		snprintf(target, sizeof(target), "%s%s%s", text[8] == '/' ? "" : worktree, text[8] == '/' ? "" : "/",
			 text + 8);
	free(text);
	if (ok && magic(target))
		return -1;
	return ok && realpath(target, gitdir) != NULL;
}

int sk_git_entry_dirs(const char *path, char gitdir[PATH_MAX], char common[PATH_MAX])
{
	char dir[PATH_MAX], worktree[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	common[0] = '\0';
	int r = realpath(dirname(dir), worktree) ? entry_gitdir(path, worktree, gitdir) : 0;
	if (r > 0 && common_dir(gitdir, common) <= 0)
		common[0] = '\0';
	return r;
}

/* The walk's record of the entry at path (absolute), or NULL. */
static sk_git_known *found_entry(walk *w, const char *path)
{
	const char *rel = beneath(w, path);
	for (size_t i = 0; rel && i < w->found.n; i++)
		if (!strcmp(w->found.entries[i].path, rel))
			return &w->found.entries[i];
	return NULL;
}

/* path (a file or directory) changed at or after since. */
static bool changed_since(const char *path, int64_t since)
{
	struct stat st;
	return lstat(path, &st) == 0 && sk_git_ctime_ns(&st) >= since;
}

/* When the inode at path was made (statx's btime), or false. */
static bool born(const char *path, int64_t *ns)
{
	struct statx stx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &stx) < 0 || !(stx.stx_mask & STATX_BTIME))
		return false;
	*ns = (int64_t)stx.stx_btime.tv_sec * 1000000000 + stx.stx_btime.tv_nsec;
	return true;
}

/* Nothing git would run from this repository was written while a sandbox
 * could write (since pending_ns: the earliest run not yet checked), and
 * the entry did not move there then either.  ctime: no process can set it
 * back.  An entry the last walk knew must be the same entry with the same
 * git directory.  One it did not know, and its git directory, must have
 * been made after that walk (else they were somewhere else then: moved
 * here since) and before pending: by the caller, between runs.  A git
 * directory's own ctime changes with every git command run in it, so its
 * birth time is what tells. */
static bool unchanged_since(const walk *w, const sk_git_known *k, const char *entry, const char *gitdir,
			    const char *common)
{
	int64_t since = w->found.pending_ns, birth;
	struct stat est, gst;
	char path[JOIN_MAX];
	if (lstat(entry, &est) < 0 || stat(gitdir, &gst) < 0)
		return false;
	if (k && k->known) {
		if (k->dev != (uint64_t)est.st_dev || k->ino != (uint64_t)est.st_ino ||
		    k->gdev != (uint64_t)gst.st_dev || k->gino != (uint64_t)gst.st_ino)
			return false;
	} else if (!born(entry, &birth) || birth < w->found.memo_ns || birth >= since || !born(gitdir, &birth) ||
		   birth < w->found.memo_ns || birth >= since) {
		return false;   /* the entry, or the git directory it names, was elsewhere at the last walk */
	}
	if (!S_ISDIR(est.st_mode) && sk_git_ctime_ns(&est) >= since)
		return false;   /* a .git file or link rewritten */
	const char *const in_gitdir[] = { "commondir", "config.worktree" }, *const in_common[] = { "config", "hooks" };
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", gitdir, in_gitdir[i]);
		if (changed_since(path, since))
			return false;
		snprintf(path, sizeof(path), "%s/%s", common, in_common[i]);
		if (changed_since(path, since))
			return false;
	}
	snprintf(path, sizeof(path), "%s/hooks", common);
	DIR *d = opendir(path);
	bool same = true;
	for (struct dirent *e; same && d && (e = readdir(d));) {
		struct stat st;
		same = !strcmp(e->d_name, "..") || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		       sk_git_ctime_ns(&st) < since;
	}
	if (d)
		closedir(d);
	return same;
}

/* A repository's entry: path is .git in some worktree.  The caller's own
 * git directories (trusted), and those nothing changed in, are entered
 * only for their commondir, config.worktree and gitlinks; any other is
 * looked at whole. */
static void check_entry(walk *w, const char *path, int depth)
{
	char gitdir[PATH_MAX], worktree[PATH_MAX], dir[PATH_MAX], common[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	int r = realpath(dirname(dir), worktree) ? entry_gitdir(path, worktree, gitdir) : 0;
	sk_git_known *k = found_entry(w, path);
	if (k)
		k->judged = true;
	if (r < 0)
		quarantine(w, path, NULL, "it leads git where this check cannot follow (a /proc link)");
	if (r <= 0)
		return;   /* nothing there, or nothing git could enter */
	bool first;
	seen_dir *sd = seen(w, gitdir, &first);
	if (!sd) {
		quarantine(w, path, NULL, "out of memory while checking it");
		return;
	}
	if (!first) {
		if (sd->why[0])
			quarantine(w, path, NULL, sd->why);   /* another way into the same repository */
		return;
	}
	char bad[160] = "";
	/* Time alone vouches for a repository with no commondir, or one that
	 * names the caller's own: the memo keeps no identity of a common
	 * directory, which could be swapped like a git directory. */
	if (!trusted(w->g, gitdir) && common_dir(gitdir, common) > 0 && (!common[0] || trusted(w->g, common)) &&
	    unchanged_since(w, k, path, gitdir, common[0] ? common : gitdir))
		check_links(w, gitdir, common[0] ? common : gitdir, worktree, depth);
	else
		check_gitdir(w, path, gitdir, worktree, depth, bad);
	/* sd may have moved: the table grows while gitlinks are followed. */
	if (bad[0] && (sd = seen(w, gitdir, &first)))
		snprintf(sd->why, sizeof(sd->why), "%s", bad);
}

/* After the check: the memo keeps each entry still there as it is now. */
static void note_entries(walk *w)
{
	for (size_t i = 0; i < w->found.n; i++) {
		sk_git_known *k = &w->found.entries[i];
		char path[JOIN_MAX], worktree[JOIN_MAX], gitdir[PATH_MAX];
		struct stat est, gst;
		snprintf(path, sizeof(path), "%s/%s", w->root, k->path);
		memcpy(worktree, path, sizeof(path));
		*strrchr(worktree, '/') = '\0';
		k->keep = lstat(path, &est) == 0 && entry_gitdir(path, worktree, gitdir) > 0 && stat(gitdir, &gst) == 0;
		if (k->keep) {
			k->now_dev = (uint64_t)est.st_dev, k->now_ino = (uint64_t)est.st_ino;
			k->now_gdev = (uint64_t)gst.st_dev, k->now_gino = (uint64_t)gst.st_ino;
		}
	}
}

/* The linked worktrees of a repository: their git directories live in
 * its worktrees/ and are entered from wherever those worktrees are. */
static void check_worktrees(walk *w, const char *gitdir)
{
	char dir[JOIN_MAX];
	snprintf(dir, sizeof(dir), "%s/worktrees", gitdir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		char sub[PATH_MAX], real[PATH_MAX];
		if (e->d_name[0] == '.' || snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name) >= (int)sizeof(sub) ||
		    !realpath(sub, real))
			continue;
		char bad[160] = "";
		check_gitdir(w, sub, real, NULL, DEPTH_MAX, bad);
	}
	closedir(d);
}

void sk_git_guard_check(sk_git_guard *g)
{
	walk w = { .g = g };
	char top[PATH_MAX], gitdir[PATH_MAX] = "";
	g->n_q = 0;
	if (!realpath(g->workspace, w.root) || snprintf(top, sizeof(top), "%s/.git", w.root) >= (int)sizeof(top))
		return;
	if (sk_git_walk(g->cache_dir, w.root, g->start_ns, &w.found) < 0)
		g->overflow = true;
	if (w.found.overflow)
		g->overflow = true;
	/* The workspace's own repository and what its index links to; then
	 * every other .git entry the walk found. */
	check_entry(&w, top, 0);
	for (size_t i = 0; i < w.found.n; i++) {
		char path[JOIN_MAX];
		if (!w.found.entries[i].judged &&
		    snprintf(path, sizeof(path), "%s/%s", w.root, w.found.entries[i].path) < (int)sizeof(path))
			check_entry(&w, path, 0);
	}
	if (realpath(top, gitdir))
		check_worktrees(&w, gitdir);
	for (size_t i = 0; i < g->n_trusted; i++)
		if (strcmp(g->trusted[i], gitdir))
			check_worktrees(&w, g->trusted[i]);
	seen_free(&w);
	note_entries(&w);
	if (sk_git_walk_save(&w.found, g->run_file) == 0)
		g->run_file[0] = '\0';
	sk_git_walk_free(&w.found);
}

void sk_git_guard_free(sk_git_guard *g)
{
	for (size_t i = 0; i < g->n_trusted; i++)
		free(g->trusted[i]);
	free(g->trusted);
	g->trusted = NULL;
	g->n_trusted = 0;
	free(g->q);
	g->q = NULL;
	g->n_q = 0;
}
