/* Every .git entry below the workspace's top, found after each run without
 * reading every directory again; and what is known of each from before.
 *
 * A repository anywhere in the workspace is one the host's git can be made
 * to enter later: a gitlink to its path, committed on a branch or kept in
 * a stash, comes back into the index with the next checkout or reset; a
 * person runs git in it.  So the check after a run looks at every .git
 * entry, not only those the index links to.  Reading every directory
 * costs ~17 us per directory of 16 entries (ext4 hands getdents entries in
 * hash order: 86 ms for /usr/share's 5,100), so a memo in the cache
 * directory (hidden from every sandbox) keeps, per directory, its
 * identity, ctime, subdirectories and whether it holds a .git: one whose
 * ctime is unchanged, and older than the memo, has the same entries, and
 * costs a stat.  The memo also keeps each .git entry's identity and its git
 * directory's, and when its walk began.
 *
 * What the check may take as the caller's own needs to know when sandboxes
 * could have written: every run leaves a file run.PID.START beside the
 * memo before its command starts and removes it once its check is done,
 * so the earliest such file bounds the changes no check has judged yet (an
 * interrupted run's stay until a later check has looked). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "git_guard.h"
#include "stockade/util.h"

#define WALK_MAGIC "stockade-git-walk 2\n"
/* Depth: a path git can reach is shorter than PATH_MAX, so at most half
 * as many levels. */
enum { WALK_MAX_DIRS = 1000000, WALK_MAX_DEPTH = PATH_MAX / 2, WALK_MAX_BYTES = 128 << 20 };

typedef struct wdir {
	char *name;                /* the last component; "" for the top */
	uint32_t parent;
	uint64_t dev, ino;
	int64_t ctime_s, ctime_ns;
	bool has_git;
	uint32_t first, n;         /* children, in kids[] (loaded memo only) */
} wdir;

typedef struct wmemo {
	wdir *d;
	size_t n, cap;
	uint32_t *kids;
	sk_git_known *g;
	size_t n_g, cap_g;
	int64_t time_ns;           /* when its walk began */
	unsigned char body[16];    /* digest of all but its time (loaded memo only) */
} wmemo;

int64_t sk_git_now_ns(void)
{
	struct timespec ts;
	/* The clock file timestamps come from: a change after now has a
	 * ctime at or after it. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t sk_git_ctime_ns(const struct stat *st)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

/* The workspace's directory in the cache: git-walk/HASH (of its path). */
static int memo_dir(const char *cache_dir, const char *root, char out[PATH_MAX])
{
	unsigned char h[16];
	char hex[33];
	if (!cache_dir || sodium_init() < 0)
		return -ENOENT;
	crypto_generichash(h, sizeof(h), (const unsigned char *)root, strlen(root), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return snprintf(out, PATH_MAX, "%s/git-walk/%s", cache_dir, hex) < PATH_MAX - 64 ? 0 : -ENAMETOOLONG;
}

/* Names are written with \n and \\ escaped. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++)
		fputs(*s == '\n' ? "\\n" : *s == '\\' ? "\\\\" : (char[2]){ *s, 0 }, f);
}

static bool unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (*s != '\\')
			*o++ = *s;
		else if (s[1] == 'n' || s[1] == '\\')
			*o++ = *++s == 'n' ? '\n' : '\\';
		else
			return false;
	}
	*o = '\0';
	return true;
}

static void memo_free(wmemo *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->d[i].name);
	for (size_t i = 0; i < m->n_g; i++)
		free(m->g[i].path);
	free(m->d);
	free(m->kids);
	free(m->g);
	*m = (wmemo){ 0 };
}

static bool push_dir(wmemo *m, wdir d)
{
	wdir *v = sk_grow(m->d, &m->cap, m->n + 1, sizeof(*v));
	if (!v)
		return false;
	m->d = v;
	m->d[m->n++] = d;
	return true;
}

static bool push_known(wmemo *m, sk_git_known k)
{
	sk_git_known *v = sk_grow(m->g, &m->cap_g, m->n_g + 1, sizeof(*v));
	if (!v)
		return false;
	m->g = v;
	m->g[m->n_g++] = k;
	return true;
}

static bool take_line(wmemo *m, char *line)
{
	int at = 0;
	if (line[0] == 'd') {
		wdir d = { 0 };
		int has_git = 0;
		if (sscanf(line, "d %" SCNu32 " %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %d %n", &d.parent, &d.dev,
			   &d.ino, &d.ctime_s, &d.ctime_ns, &has_git, &at) != 6 || !at ||
		    (m->n ? d.parent >= m->n : d.parent != 0) || !unescape(line + at) || !(d.name = strdup(line + at)))
			return false;
		d.has_git = has_git;
		if (push_dir(m, d))
			return true;
		free(d.name);
		return false;
	}
	if (line[0] == 'g') {
		sk_git_known k = { 0 };
		if (sscanf(line, "g %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %n", &k.dev, &k.ino, &k.gdev, &k.gino,
			   &at) != 4 || !at || !unescape(line + at) || !(k.path = strdup(line + at)))
			return false;
		if (push_known(m, k))
			return true;
		free(k.path);
		return false;
	}
	long long t;
	if (sscanf(line, "t %lld", &t) == 1 && !m->n && !m->n_g) {
		m->time_ns = t;
		return true;
	}
	return false;
}

/* Each directory's children, in file order (pre-order: parents first). */
static bool index_children(wmemo *m)
{
	if (!m->n)
		return true;
	if (!(m->kids = calloc(m->n, sizeof(*m->kids))))
		return false;
	for (size_t i = 1; i < m->n; i++)
		m->d[m->d[i].parent].n++;
	uint32_t at = 0;
	for (size_t i = 0; i < m->n; i++) {
		m->d[i].first = at;
		at += m->d[i].n;
		m->d[i].n = 0;
	}
	for (size_t i = 1; i < m->n; i++) {
		wdir *p = &m->d[m->d[i].parent];
		m->kids[p->first + p->n++] = (uint32_t)i;
	}
	return true;
}

static bool memo_load(const char *file, wmemo *m)
{
	char *text = NULL;
	size_t len = 0;
	*m = (wmemo){ 0 };
	if (sk_read_file(file, WALK_MAX_BYTES, &text, &len) < 0)
		return false;
	size_t magic = strlen(WALK_MAGIC);
	bool ok = len > magic && !memcmp(text, WALK_MAGIC, magic) && text[len - 1] == '\n' && !memchr(text, 0, len);
	bool timed = false;
	for (char *line = text + magic; ok && line < text + len;) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		if (!timed)
			crypto_generichash(m->body, sizeof(m->body), (unsigned char *)nl + 1, (size_t)(text + len - nl - 1),
					   NULL, 0);
		*nl = '\0';
		ok = take_line(m, line) && (timed || line[0] == 't');
		timed = true;
		line = nl + 1;
	}
	free(text);
	if (!ok || !timed || !index_children(m)) {
		memo_free(m);
		return false;
	}
	return true;
}

/* The memo's lines after its time. */
static char *memo_body(const wmemo *m, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	for (size_t i = 0; i < m->n; i++) {
		const wdir *d = &m->d[i];
		fprintf(f, "d %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %d ", d->parent, d->dev, d->ino,
			d->ctime_s, d->ctime_ns, (int)d->has_git);
		put_escaped(f, d->name);
		fputc('\n', f);
	}
	for (size_t i = 0; i < m->n_g; i++) {
		const sk_git_known *k = &m->g[i];
		fprintf(f, "g %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " ", k->dev, k->ino, k->gdev, k->gino);
		put_escaped(f, k->path);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* When the memo at file began its walk (INT64_MIN: none). */
static int64_t memo_time(const char *file)
{
	char head[64] = "";
	long long t;
	FILE *f = fopen(file, "re");
	size_t n = f ? fread(head, 1, sizeof(head) - 1, f) : 0;
	if (f)
		fclose(f);
	head[n] = '\0';
	size_t magic = strlen(WALK_MAGIC);
	return n > magic && !memcmp(head, WALK_MAGIC, magic) && sscanf(head + magic, "t %lld", &t) == 1 ? t : INT64_MIN;
}

/* Written only when it says something new: the same directories and
 * entries keep the older time, which judges no less. */
static int memo_store(const char *file, const wmemo *m, const unsigned char old_body[16])
{
	char *body, *text = NULL, dir[PATH_MAX];
	size_t blen = 0;
	unsigned char h[16];
	if (!(body = memo_body(m, &blen)))
		return -ENOMEM;
	crypto_generichash(h, sizeof(h), (unsigned char *)body, blen, NULL, 0);
	int r = 0;
	if ((old_body && !memcmp(h, old_body, sizeof(h))) || memo_time(file) > m->time_ns) {
		/* Nothing new; or a later walk's memo, which looked at this
		 * run's changes too. */
		free(body);
		return 0;
	}
	int n = asprintf(&text, "%st %" PRId64 "\n%s", WALK_MAGIC, m->time_ns, body);
	free(body);
	if (n < 0)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s", file);
	*strrchr(dir, '/') = '\0';
	r = sk_write_atomic(dir, file, text, (size_t)n);
	free(text);
	return r;
}


int sk_git_walk_prepare(const char *cache_dir, const char *root, int64_t start_ns, char run_file[PATH_MAX])
{
	char dir[PATH_MAX];
	run_file[0] = '\0';
	int r = memo_dir(cache_dir, root, dir);
	if (r == 0 && (r = sk_mkdir_p(dir, 0700)) == -EEXIST)
		r = 0;
	if (r < 0)
		return r;
	if (snprintf(run_file, PATH_MAX, "%s/run.%d.%" PRId64, dir, (int)getpid(), start_ns) >= PATH_MAX) {
		run_file[0] = '\0';
		return -ENAMETOOLONG;
	}
	int fd = open(run_file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		run_file[0] = '\0';
		return -errno;
	}
	close(fd);
	return 0;
}

/* The earliest start of a run whose check is not done (this one's too);
 * *others: runs besides this one have files. */
static int64_t earliest_run(const char *dir, int64_t mine, bool *others)
{
	DIR *d = opendir(dir);
	int64_t min = mine;
	int runs = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		int pid;
		long long start;
		if (sscanf(e->d_name, "run.%d.%lld", &pid, &start) == 2) {
			runs++;
			if (start < min)
				min = start;
		}
	}
	if (d)
		closedir(d);
	*others = !d || runs > 1;
	return min;
}

/* Runs that were stopped before their check (their process is gone): the
 * check that just ended looked at all they could have left. */
static void forget_dead_runs(const char *dir, int64_t since)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		int pid;
		long long start;
		if (sscanf(e->d_name, "run.%d.%lld", &pid, &start) == 2 && start >= since && kill(pid, 0) < 0 &&
		    errno == ESRCH)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

typedef struct walker {
	const wmemo *old;
	wmemo now;
	int root_fd;
	char path[PATH_MAX];       /* relative to the top; "" for the top */
	size_t len;
	bool overflow, broken;
} walker;

/* The memo's child of old directory i named name, or UINT32_MAX. */
static uint32_t old_child(const wmemo *m, uint32_t i, const char *name)
{
	if (i == UINT32_MAX)
		return UINT32_MAX;
	for (uint32_t k = 0; k < m->d[i].n; k++)
		if (!strcmp(m->d[m->kids[m->d[i].first + k]].name, name))
			return m->kids[m->d[i].first + k];
	return UINT32_MAX;
}

static bool unchanged(const walker *w, uint32_t i, const struct stat *st)
{
	const wdir *o;
	return i != UINT32_MAX && (o = &w->old->d[i], o->dev == (uint64_t)st->st_dev) &&
	       o->ino == (uint64_t)st->st_ino && o->ctime_s == st->st_ctim.tv_sec &&
	       o->ctime_ns == st->st_ctim.tv_nsec && sk_git_ctime_ns(st) < w->old->time_ns;
}

static void visit(walker *w, const char *name, uint32_t parent, uint32_t old, int depth);

/* The subdirectories of the directory at w->path, read anew; the
 * directory is closed before they are visited (a deep tree must not hold
 * a descriptor a level). */
static void read_dir(walker *w, uint32_t self, uint32_t old, int depth)
{
	int fd = openat(w->root_fd, w->len ? w->path : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		w->broken = true;   /* unreadable now, maybe not next time */
		return;
	}
	char **subs = NULL;
	size_t n = 0, cap = 0;
	for (struct dirent *e; (e = readdir(d));) {
		const char *name = e->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (!strcmp(name, ".git")) {
			w->now.d[self].has_git = true;
			continue;   /* a repository's insides are its own */
		}
		struct stat st;
		bool dir = e->d_type == DT_DIR ||
			   (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode));
		if (!dir)
			continue;
		char **v = sk_grow(subs, &cap, n + 1, sizeof(*v));
		if (v)
			subs = v;
		if (!v || !(subs[n] = strdup(name))) {
			w->broken = true;
			break;
		}
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		visit(w, subs[i], self, old_child(w->old, old, subs[i]), depth + 1);
		free(subs[i]);
	}
	free(subs);
}

static void visit(walker *w, const char *name, uint32_t parent, uint32_t old, int depth)
{
	size_t at = w->len, n = strlen(name);
	if (depth > WALK_MAX_DEPTH || w->now.n >= WALK_MAX_DIRS || at + n + 2 >= sizeof(w->path)) {
		w->overflow = true;
		return;
	}
	if (at && n) {
		w->path[w->len++] = '/';
	}
	memcpy(w->path + w->len, name, n + 1);
	w->len += n;
	struct stat st;
	wdir d = { .parent = parent };
	if (fstatat(w->root_fd, w->len ? w->path : ".", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
	    (d.name = strdup(name))) {
		d.dev = (uint64_t)st.st_dev, d.ino = (uint64_t)st.st_ino;
		d.ctime_s = st.st_ctim.tv_sec, d.ctime_ns = st.st_ctim.tv_nsec;
		uint32_t self = (uint32_t)w->now.n;
		if (!push_dir(&w->now, d)) {
			free(d.name);
			w->broken = true;
		} else if (unchanged(w, old, &st)) {
			/* Same entries as when the memo was made: its children. */
			const wdir *o = &w->old->d[old];
			w->now.d[self].has_git = o->has_git;
			for (uint32_t k = 0; k < o->n; k++) {
				uint32_t c = w->old->kids[o->first + k];
				visit(w, w->old->d[c].name, self, c, depth + 1);
			}
		} else {
			read_dir(w, self, old, depth);
		}
	}
	w->len = at;
	w->path[at] = '\0';
}

/* Directory i's path relative to the top ("" for the top), or 0 when it
 * does not fit. */
static size_t rel_path(const wmemo *m, size_t i, char out[PATH_MAX])
{
	size_t len = 0;
	out[0] = '\0';
	for (; i; i = m->d[i].parent) {
		size_t n = strlen(m->d[i].name);
		if (len + n + 2 > PATH_MAX)
			return 0;
		memmove(out + n + (len ? 1 : 0), out, len + 1);
		memcpy(out, m->d[i].name, n);
		if (len)
			out[n] = '/';
		len += n + (len ? 1 : 0);
	}
	return len;
}

int sk_git_walk(const char *cache_dir, const char *root, int64_t run_start_ns, sk_git_walk_result *out)
{
	char dir[PATH_MAX] = "", file[PATH_MAX];
	wmemo old = { 0 };
	*out = (sk_git_walk_result){ .memo_ns = INT64_MIN, .pending_ns = run_start_ns };
	bool have = memo_dir(cache_dir, root, dir) == 0 &&
		    snprintf(file, sizeof(file), "%s/memo", dir) < (int)sizeof(file) && memo_load(file, &old);
	if (have) {
		out->memo_ns = old.time_ns;
		out->have_old = true;
		memcpy(out->old_body, old.body, sizeof(old.body));
	}
	if (cache_dir && dir[0])
		out->pending_ns = earliest_run(dir, run_start_ns, &out->other_runs);
	walker w = { .old = &old, .now = { .time_ns = sk_git_now_ns() } };
	if ((w.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		memo_free(&old);
		return -errno;
	}
	visit(&w, "", 0, have && old.n ? 0 : UINT32_MAX, 0);
	close(w.root_fd);
	for (size_t i = 1; i < w.now.n; i++) {
		char rel[PATH_MAX];
		size_t len;
		if (!w.now.d[i].has_git)
			continue;
		if (!(len = rel_path(&w.now, i, rel)) || len + 6 > sizeof(rel)) {
			w.overflow = true;
			continue;
		}
		memcpy(rel + len, "/.git", 6);
		sk_git_known k = { .path = strdup(rel) };
		for (size_t j = 0; k.path && j < old.n_g; j++)
			if (!strcmp(old.g[j].path, rel))
				k = (sk_git_known){ .path = k.path, .dev = old.g[j].dev, .ino = old.g[j].ino,
						    .gdev = old.g[j].gdev, .gino = old.g[j].gino, .known = true };
		sk_git_known *v = k.path ? sk_grow(out->entries, &out->cap, out->n + 1, sizeof(*v)) : NULL;
		if (!v) {
			free(k.path);
			w.broken = true;
			continue;
		}
		out->entries = v;
		out->entries[out->n++] = k;
	}
	memo_free(&old);
	/* A walk that could not look everywhere makes no memo: the next one
	 * would take the places it missed for unchanged. */
	out->overflow = w.overflow || w.broken;
	if (cache_dir && dir[0])
		out->memo = strdup(dir);
	if (!out->overflow && out->memo && (out->next = malloc(sizeof(wmemo)))) {
		*(wmemo *)out->next = w.now;
		return 0;
	}
	memo_free(&w.now);
	return 0;
}

/* The repositories the walk found (their .git entries, relative to the
 * top, one per line), beside the memo: what the next run's look at the
 * secrets git keeps goes through (run_history.c).  Rewritten only when
 * it changed. */
static void store_repos(const sk_git_walk_result *r)
{
	char file[PATH_MAX + 8];
	snprintf(file, sizeof(file), "%s/repos", r->memo);
	size_t cap = 1, len = 0;
	for (size_t i = 0; i < r->n; i++)
		cap += strlen(r->entries[i].path) + 1;
	_cleanup_free_ char *text = malloc(cap);
	if (!text)
		return;
	text[0] = '\0';
	for (size_t i = 0; i < r->n; i++)
		if (r->entries[i].keep && !strchr(r->entries[i].path, '\n'))
			len += (size_t)sprintf(text + len, "%s\n", r->entries[i].path);
	_cleanup_free_ char *old = NULL;
	size_t old_len = 0;
	if (sk_read_file(file, 1 << 20, &old, &old_len) == 0 && old_len == len && !memcmp(old, text, len))
		return;
	(void)sk_write_atomic(r->memo, file, text, len);   /* a cache: failing to keep it is fine */
}

void sk_git_walk_repos(const char *cache_dir, const char *root, char **text)
{
	char dir[PATH_MAX], file[PATH_MAX + 8];
	size_t len;
	*text = NULL;
	if (memo_dir(cache_dir, root, dir) < 0)
		return;   /* no cache: none known */
	snprintf(file, sizeof(file), "%s/repos", dir);
	if (sk_read_file(file, 1 << 20, text, &len) < 0)
		*text = NULL;   /* none known yet: the first check writes it */
}

int sk_git_walk_save(sk_git_walk_result *r, const char *run_file)
{
	wmemo *m = r->next;
	char file[PATH_MAX];
	if (!r->memo || snprintf(file, sizeof(file), "%s/memo", r->memo) >= (int)sizeof(file))
		return -ENOENT;   /* the run file stays: the next check covers this run */
	if (!m) {
		/* Too large or unreadable to walk whole: said to the caller, and
		 * no memo; the run is done with all the same. */
		unlink(file);
		if (run_file && run_file[0])
			unlink(run_file);
		return 0;
	}
	for (size_t i = 0; i < r->n; i++) {
		const sk_git_known *e = &r->entries[i];
		if (!e->keep)
			continue;
		sk_git_known k = { .path = strdup(e->path), .dev = e->now_dev, .ino = e->now_ino,
				   .gdev = e->now_gdev, .gino = e->now_gino };
		if (!k.path || !push_known(m, k)) {
			free(k.path);
			return -ENOMEM;
		}
	}
	/* A memo from a later walk stays: it looked at this run's changes too. */
	int r2 = memo_store(file, m, r->have_old ? r->old_body : NULL);
	if (r2 < 0)
		return r2;
	store_repos(r);
	if (run_file && run_file[0])
		unlink(run_file);
	if (r->other_runs)
		forget_dead_runs(r->memo, r->pending_ns);
	return 0;
}

void sk_git_walk_free(sk_git_walk_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->entries[i].path);
	free(r->entries);
	if (r->next)
		memo_free(r->next);
	free(r->next);
	free(r->memo);
	*r = (sk_git_walk_result){ 0 };
}
