/* Copies of secret files in git's object store.  A secret file that the
 * workspace's index tracks (a .env committed by mistake) has its content,
 * compressed, in a loose object or in a pack, where `git show HEAD:.env |
 * rev` reads it: no fingerprint of the file's bytes matches there, and the
 * redactor knows only encodings, not transformations.  The file holding
 * that object carries the secret.  Found on the host before the run, by
 * the object id the index records (no hashing of ours), among the loose
 * objects and in the packs' indexes (version 2) of the repository of the
 * given worktree (run_session.c asks each secret's own); the supervisor
 * then decides an open of a carrier as an attempt on that secret's
 * content.  Not covered (docs/sessions.md): a
 * secret only in older commits (no longer in the index), alternates. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_guard.h"
#include "stockade/util.h"

enum { INDEX_MAX = 256 << 20, JOIN_MAX = PATH_MAX + 128 };

typedef struct tracked {
	const char *workspace;
	const char *const *secrets;
	size_t n_secrets;
	size_t hash_len;
	unsigned char (*oids)[32];   /* per secret: its object id, when tracked */
	bool *found;
} tracked;

/* An index entry that is one of the secret files: keep its object id. */
static int on_entry(void *ctx, const char *path, size_t len, uint32_t mode, const unsigned char *oid)
{
	(void)mode;
	tracked *t = ctx;
	size_t wl = strlen(t->workspace);
	for (size_t i = 0; i < t->n_secrets; i++) {
		const char *s = t->secrets[i];
		if (!strncmp(s, t->workspace, wl) && s[wl] == '/' && strlen(s + wl + 1) == len &&
		    !memcmp(s + wl + 1, path, len)) {
			memcpy(t->oids[i], oid, t->hash_len);
			t->found[i] = true;
		}
	}
	return 0;
}

static int read_index(tracked *t, const char *file, char shared[65])
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > INDEX_MAX)
		return 0;   /* no index (or none git would read): nothing tracked */
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	int r = sk_git_index_entries(m, (size_t)st.st_size, t->hash_len, shared, on_entry, t);
	munmap(m, (size_t)st.st_size);
	return r < 0 ? r : 0;
}

static int push(sk_git_carrier **v, size_t *n, size_t *cap, const struct stat *st, size_t secret)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dev == (uint64_t)st->st_dev && (*v)[i].ino == (uint64_t)st->st_ino)
			return 0;   /* one pack may carry several: the first names it */
	sk_git_carrier *nv = sk_grow(*v, cap, *n + 1, sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	(*v)[(*n)++] = (sk_git_carrier){ .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino, .secret = secret };
	return 0;
}

static int loose(const char *objects, const tracked *t, size_t i, sk_git_carrier **v, size_t *n, size_t *cap)
{
	char path[JOIN_MAX];
	int at = snprintf(path, sizeof(path), "%s/%02x/", objects, t->oids[i][0]);
	for (size_t k = 1; k < t->hash_len && at > 0 && (size_t)at + 3 < sizeof(path); k++)
		at += snprintf(path + at, sizeof(path) - (size_t)at, "%02x", t->oids[i][k]);
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? push(v, n, cap, &st, i) : 0;
}

/* The .pack beside an .idx that lists a tracked secret's object. */
static int packs(const char *objects, const tracked *t, sk_git_carrier **v, size_t *n, size_t *cap)
{
	char dir[JOIN_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/pack", objects);
	DIR *d = opendir(dir);
	int r = 0;
	for (struct dirent *e; r == 0 && d && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		_cleanup_close_ int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
			continue;
		void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			continue;
		for (size_t i = 0; r == 0 && i < t->n_secrets; i++) {
			char pack[NAME_MAX + 1];
			struct stat pst;
			if (!t->found[i] || !sk_git_idx_has(m, (size_t)st.st_size, t->hash_len, t->oids[i]))
				continue;
			snprintf(pack, sizeof(pack), "%.*s.pack", (int)(len - 4), e->d_name);
			if (fstatat(dirfd(d), pack, &pst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(pst.st_mode))
				r = push(v, n, cap, &pst, i);
		}
		munmap(m, (size_t)st.st_size);
	}
	if (d)
		closedir(d);
	return r;
}

int sk_git_secret_carriers(const char *workspace, const char *const *secrets, size_t n_secrets,
			   sk_git_carrier **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	char entry[JOIN_MAX], gitdir[PATH_MAX], common[PATH_MAX], file[JOIN_MAX], objects[JOIN_MAX];
	if (!n_secrets || snprintf(entry, sizeof(entry), "%s/.git", workspace) >= (int)sizeof(entry) ||
	    sk_git_entry_dirs(entry, gitdir, common) <= 0)
		return 0;   /* no repository git would enter */
	const char *top = common[0] ? common : gitdir;
	_cleanup_free_ char *config = NULL;
	size_t clen = 0;
	snprintf(file, sizeof(file), "%s/config", top);
	tracked t = { .workspace = workspace, .secrets = secrets, .n_secrets = n_secrets,
		      .hash_len = sk_read_file(file, 1 << 20, &config, &clen) == 0 ? sk_git_hash_len(config, clen) : 20 };
	t.oids = calloc(n_secrets, sizeof(*t.oids));
	t.found = calloc(n_secrets, sizeof(*t.found));
	char shared[65] = "";
	int r = t.oids && t.found ? 0 : -ENOMEM;
	snprintf(file, sizeof(file), "%s/index", gitdir);
	if (r == 0)
		r = read_index(&t, file, shared);
	if (r == 0 && shared[0]) {   /* a split index: the entries it does not repeat */
		char base[65] = "";
		snprintf(file, sizeof(file), "%s/sharedindex.%s", gitdir, shared);
		r = read_index(&t, file, base);
	}
	size_t cap = 0;
	snprintf(objects, sizeof(objects), "%s/objects", top);
	for (size_t i = 0; r == 0 && i < n_secrets; i++)
		if (t.found[i])
			r = loose(objects, &t, i, out, n_out, &cap);
	if (r == 0)
		r = packs(objects, &t, out, n_out, &cap);
	free(t.oids);
	free(t.found);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return r;
}
