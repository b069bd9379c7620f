/* The workspace walk for name rules (".env"), kept between runs.
 *
 * In a large workspace the walk is most of a run's start: 10,000 files in
 * 100 directories cost ~4 ms, nearly all of it ext4 putting each directory
 * in hash order for getdents.  What the walk finds depends only on the
 * entries of the directories it opened, and a directory's entries do not
 * change without its ctime changing, which no process can set back.  So
 * the walk is kept in the cache directory (hidden from every sandbox) with
 * the device, inode, mtime and ctime of each directory it opened; the next
 * run that finds every one of them unchanged takes what the walk found
 * instead of walking.  A walk is kept only when none of its directories
 * changed in the last two seconds: timestamps are coarse, and a change in
 * the same tick as the walk would not show.  Anything unusual (a directory
 * that cannot be opened, a name with a newline, a file that cannot be read
 * or written, a line that does not parse) means no memo: a walk.  The
 * memo is the caller's own (sk_cache_dir, 0700, like the seccomp and
 * redactor caches): whoever can write it can already replace the caller's
 * binaries; its name covers this build (sk_build_id), the workspace, the
 * rules and the walk's limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "scan_memo.h"
#include "stockade/util.h"

#define MEMO_MAGIC "stockade-scan-memo 1\n"
enum { MEMO_MAX_BYTES = 16 << 20, MEMO_SETTLE_S = 2 };

bool scan_memo_open(scan_memo *m, const char *cache_dir, const void *what, size_t what_len)
{
	*m = (scan_memo){ .keep = true };
	sk_bytes part = { what, what_len };   /* and this build: another walks anew */
	return sk_cache_file(cache_dir, "scan", &part, 1, m->file, sizeof(m->file)) == 0;
}

static bool push_dir(scan_memo *m, scan_dir d)
{
	scan_dir *v = sk_grow(m->dirs, &m->cap_dirs, m->n_dirs + 1, sizeof(*v));
	if (!v)
		return false;
	m->dirs = v;
	m->dirs[m->n_dirs++] = d;
	return true;
}

static bool push_hit(scan_memo *m, scan_hit h)
{
	scan_hit *v = sk_grow(m->hits, &m->cap_hits, m->n_hits + 1, sizeof(*v));
	if (!v)
		return false;
	m->hits = v;
	m->hits[m->n_hits++] = h;
	return true;
}

static scan_dir dir_of(const struct stat *st)
{
	return (scan_dir){ .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino,
			   .mtime_s = st->st_mtim.tv_sec, .mtime_ns = st->st_mtim.tv_nsec,
			   .ctime_s = st->st_ctim.tv_sec, .ctime_ns = st->st_ctim.tv_nsec };
}

static bool same_dir(const scan_dir *a, const scan_dir *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->mtime_s == b->mtime_s && a->mtime_ns == b->mtime_ns &&
	       a->ctime_s == b->ctime_s && a->ctime_ns == b->ctime_ns;
}

/* One line of the memo: a directory as it was ("d DEV INO MS MNS CS CNS
 * PATH") or a find ("h RULE PATH"); false when it does not parse or the
 * directory is not as it was. */
static bool take_line(scan_memo *m, char *line)
{
	char *path = NULL;
	if (line[0] == 'd') {
		scan_dir d;
		int at = 0;
		if (sscanf(line, "d %" SCNu64 " %" SCNu64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %n", &d.dev,
			   &d.ino, &d.mtime_s, &d.mtime_ns, &d.ctime_s, &d.ctime_ns, &at) != 6 || at == 0)
			return false;
		struct stat st;
		scan_dir now;
		if (stat(line + at, &st) < 0 || !S_ISDIR(st.st_mode) || (now = dir_of(&st), !same_dir(&d, &now)))
			return false;
		return true;   /* checked; the path is not needed again */
	}
	if (line[0] == 'h') {
		unsigned rule;
		int at = 0;
		if (sscanf(line, "h %u %n", &rule, &at) != 1 || at == 0 || !(path = strdup(line + at)))
			return false;
		if (push_hit(m, (scan_hit){ .rule = rule, .path = path }))
			return true;
		free(path);
	}
	return false;
}

bool scan_memo_load(scan_memo *m)
{
	char *text = NULL;
	size_t len = 0;
	if (sk_read_file(m->file, MEMO_MAX_BYTES, &text, &len) < 0)
		return false;
	bool ok = len > strlen(MEMO_MAGIC) && !memcmp(text, MEMO_MAGIC, strlen(MEMO_MAGIC)) && text[len - 1] == '\n';
	for (char *line = text + strlen(MEMO_MAGIC); ok && line < text + len;) {
		char *nl = memchr(line, '\n', (size_t)(text + len - line));
		*nl = '\0';
		ok = take_line(m, line);
		line = nl + 1;
	}
	free(text);
	if (!ok)
		scan_memo_forget(m);
	return ok;
}

void scan_memo_dir(scan_memo *m, const char *path, int fd)
{
	struct stat st;
	char *copy = NULL;
	if (!m->keep || strchr(path, '\n') || fstat(fd, &st) < 0 || !(copy = strdup(path))) {
		m->keep = false;
		return;
	}
	scan_dir d = dir_of(&st);
	d.path = copy;
	if (!push_dir(m, d)) {
		free(copy);
		m->keep = false;
	}
}

void scan_memo_hit(scan_memo *m, uint32_t rule, const char *path)
{
	char *copy = NULL;
	if (!m->keep || strchr(path, '\n') || !(copy = strdup(path)) ||
	    !push_hit(m, (scan_hit){ .rule = rule, .path = copy })) {
		free(copy);
		m->keep = false;
	}
}

/* Changed so lately that another change in the same tick would not show. */
static bool settling(const scan_dir *d, const struct timespec *now)
{
	const int64_t ns = 1000000000;
	int64_t since = (now->tv_sec - MEMO_SETTLE_S) * ns + now->tv_nsec;
	return d->mtime_s * ns + d->mtime_ns >= since || d->ctime_s * ns + d->ctime_ns >= since;
}

void scan_memo_store(scan_memo *m)
{
	struct timespec now;
	if (!m->keep || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	for (size_t i = 0; i < m->n_dirs; i++)
		if (settling(&m->dirs[i], &now))
			return;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	fputs(MEMO_MAGIC, f);
	for (size_t i = 0; i < m->n_dirs; i++) {
		const scan_dir *d = &m->dirs[i];
		fprintf(f, "d %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %s\n", d->dev,
			d->ino, d->mtime_s, d->mtime_ns, d->ctime_s, d->ctime_ns, d->path);
	}
	for (size_t i = 0; i < m->n_hits; i++)
		fprintf(f, "h %" PRIu32 " %s\n", m->hits[i].rule, m->hits[i].path);
	bool ok = !ferror(f);
	if (fclose(f) != 0)
		ok = false;
	char dir[sizeof(m->file)];
	snprintf(dir, sizeof(dir), "%s", m->file);
	char *slash = strrchr(dir, '/');
	if (ok && slash) {
		*slash = '\0';
		if (sk_mkdir_p(dir, 0700) == 0 && sk_write_atomic(dir, m->file, text, len) < 0) {
			/* best effort: the next run walks */
		}
	}
	free(text);
}

void scan_memo_forget(scan_memo *m)
{
	for (size_t i = 0; i < m->n_dirs; i++)
		free(m->dirs[i].path);
	for (size_t i = 0; i < m->n_hits; i++)
		free(m->hits[i].path);
	m->n_dirs = m->n_hits = 0;
}

void scan_memo_free(scan_memo *m)
{
	scan_memo_forget(m);
	free(m->dirs);
	free(m->hits);
	*m = (scan_memo){ 0 };
}
