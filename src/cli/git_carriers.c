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
 * content.  Secrets only in older commits: git_history.c, whose blobs
 * sk_git_object_carriers looks up the same way.  Not covered
 * (docs/sessions.md): alternates. */
#include <dirent.h>
#include <inttypes.h>
#include <sodium.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "git_guard.h"
#include "stockade/util.h"

enum { INDEX_MAX = 256 << 20, JOIN_MAX = PATH_MAX + 128, BLOB_HASH_MAX = 64 << 20 };

typedef struct tracked {
	const char **rel;            /* per secret: its path in the worktree, or NULL */
	size_t *rel_len;
	size_t n_secrets;
	size_t hash_len;
	unsigned char (*oids)[32];   /* per secret: its object id, when tracked */
	bool *found;
} tracked;

/* An index entry that is one of the secret files: keep its object id.
 * Called for every entry of the index (tens of thousands): lengths first. */
static int on_entry(void *ctx, const char *path, size_t len, uint32_t mode, const unsigned char *oid)
{
	(void)mode;
	tracked *t = ctx;
	for (size_t i = 0; i < t->n_secrets; i++)
		if (t->rel_len[i] == len && t->rel[i] && !memcmp(t->rel[i], path, len)) {
			memcpy(t->oids[i], oid, t->hash_len);
			t->found[i] = true;
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

/* Reading an index costs ~1 ms per 50,000 entries (its pages, then its
 * names), on every run of a workspace that holds a secret file: what it
 * said of the secrets is kept in the cache under the index's identity
 * (device, inode, size, mtime and ctime to the nanosecond; git replaces
 * the file when it writes) and read again only when that changes.  A split
 * index is read every time. */
#define MEMO_MAGIC "stockade-git-carriers 1"

static bool memo_file(const char *cache_dir, const char *gitdir, const tracked *t, char out[PATH_MAX])
{
	if (!cache_dir || sodium_init() < 0)
		return false;
	crypto_generichash_state st;
	unsigned char h[16];
	char hex[33];
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)gitdir, strlen(gitdir) + 1);
	for (size_t i = 0; i < t->n_secrets; i++)
		crypto_generichash_update(&st, (const unsigned char *)(t->rel[i] ? t->rel[i] : ""),
					  (t->rel[i] ? t->rel_len[i] : 0) + 1);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	return snprintf(out, PATH_MAX, "%s/git-carriers/%s", cache_dir, hex) < PATH_MAX;
}

static void index_identity(const struct stat *st, size_t hash_len, char out[160])
{
	snprintf(out, 160, MEMO_MAGIC " %" PRIu64 " %" PRIu64 " %lld %lld %ld %lld %ld %zu\n", (uint64_t)st->st_dev,
		 (uint64_t)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec, hash_len);
}

/* The kept lookup for an index of this identity: true, and t filled. */
static bool memo_load(const char *file, const char *id, tracked *t)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, idl = strlen(id);
	if (sk_read_file(file, 1 << 20, &text, &len) < 0 || len < idl || memcmp(text, id, idl))
		return false;
	const char *p = text + idl;
	for (size_t i = 0; i < t->n_secrets; i++) {
		int found;
		char hex[65];
		if (sscanf(p, "%d %64s", &found, hex) != 2 || (found && strlen(hex) != 2 * t->hash_len) ||
		    (found && sodium_hex2bin(t->oids[i], 32, hex, strlen(hex), NULL, NULL, NULL) != 0))
			return false;
		t->found[i] = found;
		if (!(p = strchr(p, '\n')))
			return false;
		p++;
	}
	return true;
}

static void memo_store(const char *file, const char *id, const tracked *t)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	fputs(id, f);
	for (size_t i = 0; i < t->n_secrets; i++) {
		char hex[65] = "-";
		if (t->found[i])
			sodium_bin2hex(hex, sizeof(hex), t->oids[i], t->hash_len);
		fprintf(f, "%d %s\n", (int)t->found[i], hex);
	}
	if (fclose(f) == 0)
		(void)sk_write_cache(file, text, len);   /* a cache: failing to keep it is fine */
}

/* The secrets the worktree's index tracks, and their object ids. */
static int tracked_secrets(const char *cache_dir, const char *gitdir, tracked *t)
{
	char file[JOIN_MAX], memo[PATH_MAX], id[160], shared[65] = "";
	struct stat st;
	snprintf(file, sizeof(file), "%s/index", gitdir);
	if (stat(file, &st) < 0)
		return 0;   /* no index: nothing tracked */
	index_identity(&st, t->hash_len, id);
	bool kept = memo_file(cache_dir, gitdir, t, memo);
	if (kept && memo_load(memo, id, t))
		return 0;
	int r = read_index(t, file, shared);
	if (r == 0 && shared[0]) {   /* a split index: the entries it does not repeat */
		char base[65] = "";
		snprintf(file, sizeof(file), "%s/sharedindex.%s", gitdir, shared);
		return read_index(t, file, base);
	}
	if (r == 0 && kept)
		memo_store(memo, id, t);
	return r;
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
	struct stat st;
	return sk_git_loose_path(objects, t->oids[i], t->hash_len, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
			       S_ISREG(st.st_mode)
		       ? push(v, n, cap, &st, i)
		       : 0;
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

int sk_git_repository_of(const char *worktree, sk_git_repo *repo)
{
	char entry[JOIN_MAX], file[JOIN_MAX];
	if (snprintf(entry, sizeof(entry), "%s/.git", worktree) >= (int)sizeof(entry) ||
	    sk_git_entry_dirs(entry, repo->gitdir, repo->common) <= 0)
		return 0;   /* no repository git would enter */
	const char *top = repo->common[0] ? repo->common : repo->gitdir;
	_cleanup_free_ char *config = NULL;
	size_t clen = 0;
	snprintf(file, sizeof(file), "%s/config", top);
	repo->hash_len = sk_read_file(file, 1 << 20, &config, &clen) == 0 ? sk_git_hash_len(config, clen) : 20;
	return snprintf(repo->objects, sizeof(repo->objects), "%s/objects", top) < (int)sizeof(repo->objects);
}

/* The object id git gives the content of path as a blob ("blob SIZE",
 * NUL, the bytes: what `git hash-object` prints): SHA-1, or SHA-256 for a
 * repository of that format (Nettle's; libsodium has no SHA-1).  Negative
 * errno when the file is not there or changes while it is read. */
static int blob_oid(const char *path, size_t hash_len, unsigned char *oid)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BLOB_HASH_MAX)
		return -EINVAL;
	struct sha1_ctx h1;
	struct sha256_ctx h2;
	bool wide = hash_len == SHA256_DIGEST_SIZE;
	char buf[64 << 10];
	int hl = snprintf(buf, sizeof(buf), "blob %lld", (long long)st.st_size) + 1;   /* with its NUL */
	if (wide) {
		sha256_init(&h2);
		sha256_update(&h2, (size_t)hl, (const uint8_t *)buf);
	} else {
		sha1_init(&h1);
		sha1_update(&h1, (size_t)hl, (const uint8_t *)buf);
	}
	for (uint64_t left = (uint64_t)st.st_size; left;) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0)
			return -EIO;   /* shrank meanwhile: no id worth looking for */
		left -= (uint64_t)n;
		if (wide)
			sha256_update(&h2, (size_t)n, (const uint8_t *)buf);
		else
			sha1_update(&h1, (size_t)n, (const uint8_t *)buf);
	}
	if (wide)
		sha256_digest(&h2, SHA256_DIGEST_SIZE, oid);
	else
		sha1_digest(&h1, SHA1_DIGEST_SIZE, oid);
	return 0;
}

/* The objects that hold each secret, in one pass over the store: the one
 * the index names, and the blob of its current content when that is
 * another (a .env added and reset: its blob stays, unreachable, where
 * `git fsck --unreachable` finds it and `git cat-file` reads it). */
static int lookup(const char *objects, const tracked *t, const char *const *secrets, sk_git_carrier **out,
		  size_t *n_out)
{
	unsigned char (*oids)[32] = calloc(2 * t->n_secrets + 1, sizeof(*oids));
	size_t *owner = calloc(2 * t->n_secrets + 1, sizeof(*owner)), n = 0;
	int r = oids && owner ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < t->n_secrets; i++) {
		if (t->found[i]) {
			memcpy(oids[n], t->oids[i], t->hash_len);
			owner[n++] = i;
		}
		if (t->rel[i] && blob_oid(secrets[i], t->hash_len, oids[n]) == 0 &&
		    !(t->found[i] && !memcmp(oids[n], t->oids[i], t->hash_len)))
			owner[n++] = i;
	}
	if (r == 0 && n)
		r = sk_git_object_carriers(objects, t->hash_len, (const unsigned char (*)[32])oids, n, out, n_out);
	for (size_t k = 0; r == 0 && k < *n_out; k++)
		(*out)[k].secret = owner[(*out)[k].secret];
	free(oids);
	free(owner);
	return r;
}

int sk_git_secret_carriers(const char *cache_dir, const char *workspace, const char *const *secrets,
			   size_t n_secrets, sk_git_carrier **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	sk_git_repo repo;
	if (!n_secrets || sk_git_repository_of(workspace, &repo) <= 0)
		return 0;
	const char *gitdir = repo.gitdir, *objects = repo.objects;
	tracked t = { .n_secrets = n_secrets, .hash_len = repo.hash_len };
	t.oids = calloc(n_secrets, sizeof(*t.oids));
	t.found = calloc(n_secrets, sizeof(*t.found));
	t.rel = calloc(n_secrets, sizeof(*t.rel));
	t.rel_len = calloc(n_secrets, sizeof(*t.rel_len));
	int r = t.oids && t.found && t.rel && t.rel_len ? 0 : -ENOMEM;
	size_t wl = strlen(workspace);
	for (size_t i = 0; r == 0 && i < n_secrets; i++)
		if (!strncmp(secrets[i], workspace, wl) && secrets[i][wl] == '/') {
			t.rel[i] = secrets[i] + wl + 1;
			t.rel_len[i] = strlen(t.rel[i]);
		}
	if (r == 0)
		r = tracked_secrets(cache_dir, gitdir, &t);
	if (r == 0)
		r = lookup(objects, &t, secrets, out, n_out);
	free(t.oids);
	free(t.found);
	free(t.rel);
	free(t.rel_len);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return r;
}

int sk_git_object_carriers(const char *objects, size_t hash_len, const unsigned char (*oids)[32], size_t n,
			   sk_git_carrier **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	tracked t = { .n_secrets = n, .hash_len = hash_len, .oids = (unsigned char (*)[32])oids,
		      .found = calloc(n + 1, sizeof(bool)) };
	if (!t.found)
		return -ENOMEM;
	size_t cap = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		t.found[i] = true;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = loose(objects, &t, i, out, n_out, &cap);
	if (r == 0)
		r = packs(objects, &t, out, n_out, &cap);
	free(t.found);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n_out = 0;
	}
	return r;
}
