/* Private to profile_apply.c: the workspace walk for name rules, kept
 * between runs (scan_memo.c). */
#ifndef STOCKADE_CLI_SCAN_MEMO_H
#define STOCKADE_CLI_SCAN_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct scan_dir {
	uint64_t dev, ino;
	int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
	char *path;
} scan_dir;

typedef struct scan_hit {
	uint32_t rule;
	char *path;
} scan_hit;

typedef struct scan_memo {
	char file[4096];      /* where the walk is kept */
	scan_dir *dirs;       /* every directory the walk opened, in order */
	size_t n_dirs, cap_dirs;
	scan_hit *hits;       /* what it found, in order */
	size_t n_hits, cap_hits;
	bool keep;            /* nothing stopped this walk from being kept */
} scan_memo;

/* Where a walk described by `what` (the workspace, the rules, the limits:
 * any change gives another file) is kept under cache_dir.  false: none. */
bool scan_memo_open(scan_memo *m, const char *cache_dir, const void *what, size_t what_len);
/* The kept walk, when every directory it opened is as it was then: true,
 * and m->hits are what a walk would find now. */
bool scan_memo_load(scan_memo *m);
/* During a walk: a directory opened (fd), a name found. */
void scan_memo_dir(scan_memo *m, const char *path, int fd);
void scan_memo_hit(scan_memo *m, uint32_t rule, const char *path);
/* Keep the walk just made, unless something in it forbids (best effort). */
void scan_memo_store(scan_memo *m);
/* Drop what was loaded or noted (the file stays named). */
void scan_memo_forget(scan_memo *m);
void scan_memo_free(scan_memo *m);

#endif
