/* The secrets a repository's history keeps: every blob that stood at a
 * secret's name (a .env, a key) in any commit reachable from the refs,
 * the reflogs or HEAD - a .env deleted from the worktree, removed in a
 * later commit, or rewritten (its older versions).  `git show HEAD~3:.env`
 * and `git log -p` read them from the object store, where no file of the
 * worktree matches.  The walk reads commits and trees (git_objects.c),
 * each tree once, up to MAX_COMMITS commits and MAX_TREES trees per walk
 * (beyond: *partial, and the run says so); its result is kept in the cache
 * under a digest of the refs' and reflogs' files (name, size, mtime,
 * inode), with the commits and trees it read: when a ref moves, the next
 * walk reads only what is new (and goes on where a bounded one stopped). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git_guard.h"
#include "stockade/util.h"

enum { MAX_COMMITS = 20000, MAX_TREES = 200000, MAX_REF_FILES = 20000, MAX_DEPTH = 64, JOIN_MAX = PATH_MAX + 128,
       SEEN_MAX = 2000000 };

typedef struct oid_set {
	unsigned char (*v)[32];
	size_t n, cap;   /* cap: a power of two; empty slots are all zero */
} oid_set;

typedef struct history {
	size_t hash_len;
	sk_git_odb *db;
	oid_set seen;                   /* commits and trees read */
	unsigned char (*todo)[32];      /* commits to read */
	size_t n_todo, cap_todo;
	size_t commits, trees;
	bool partial;
	sk_git_secret_name_fn secret;
	void *ctx;
	sk_git_history_blob *blobs;
	size_t n_blobs, cap_blobs;
	crypto_hash_sha256_state digest;  /* of the ref files */
	size_t ref_files;
} history;

static bool zero(const unsigned char *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (o[i])
			return false;
	return true;
}

static uint64_t hash_of(const unsigned char *o)
{
	uint64_t h;
	memcpy(&h, o, 8);
	return h;
}

/* true when oid was not in the set (now added). */
static int set_add(oid_set *s, const unsigned char *oid, size_t hash_len)
{
	if (zero(oid, hash_len))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		unsigned char (*v)[32] = calloc(cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (!zero(s->v[i], hash_len))
				for (size_t k = hash_of(s->v[i]) & (cap - 1);; k = (k + 1) & (cap - 1))
					if (zero(v[k], hash_len)) {
						memcpy(v[k], s->v[i], 32);
						break;
					}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (size_t k = hash_of(oid) & (s->cap - 1);; k = (k + 1) & (s->cap - 1)) {
		if (zero(s->v[k], hash_len)) {
			memset(s->v[k], 0, 32);
			memcpy(s->v[k], oid, hash_len);
			s->n++;
			return 1;
		}
		if (!memcmp(s->v[k], oid, hash_len))
			return 0;
	}
}

static bool parse_hex(const char *p, size_t hash_len, unsigned char *oid)
{
	size_t got = 0;
	memset(oid, 0, 32);
	return sodium_hex2bin(oid, 32, p, 2 * hash_len, NULL, &got, NULL) == 0 && got == hash_len;
}

static int want_commit(history *h, const unsigned char *oid)
{
	if (h->n_todo == h->cap_todo) {
		size_t cap = h->cap_todo ? h->cap_todo * 2 : 256;
		unsigned char (*v)[32] = realloc(h->todo, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->todo = v;
		h->cap_todo = cap;
	}
	memset(h->todo[h->n_todo], 0, 32);
	memcpy(h->todo[h->n_todo++], oid, h->hash_len);
	return 0;
}

/* Every object id at the start of a line, or after one (a reflog's
 * "OLD NEW ..."), or after "ref: "-less content: the commits to start from. */
static int starts_in(history *h, const char *text, size_t len)
{
	size_t hex = 2 * h->hash_len;
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *q = *p == '^' ? p + 1 : p;
		unsigned char oid[32];
		for (int k = 0; k < 2 && (size_t)(eol - q) >= hex; k++) {
			if (!parse_hex(q, h->hash_len, oid))
				break;
			int r = want_commit(h, oid);
			if (r < 0)
				return r;
			q += hex;
			if (q >= eol || *q != ' ')
				break;
			q++;
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int ref_file(history *h, int dir, const char *name, bool read)
{
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (++h->ref_files > MAX_REF_FILES) {
		h->partial = true;
		return 0;
	}
	uint64_t id[4] = { (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec,
			   (uint64_t)st.st_ino };
	crypto_hash_sha256_update(&h->digest, (const unsigned char *)name, strlen(name) + 1);
	crypto_hash_sha256_update(&h->digest, (const unsigned char *)id, sizeof(id));
	if (!read)
		return 0;
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || st.st_size > (64 << 20))
		return 0;
	_cleanup_free_ char *text = malloc((size_t)st.st_size + 1);
	ssize_t n = text ? pread(fd, text, (size_t)st.st_size, 0) : -1;
	return n > 0 ? starts_in(h, text, (size_t)n) : 0;
}

/* The files under dir (refs/, logs/), depth first. */
static int ref_tree(history *h, int parent, const char *name, int depth, bool read)
{
	if (depth > MAX_DEPTH)
		return 0;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	int r = 0;
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		crypto_hash_sha256_update(&h->digest, (const unsigned char *)e->d_name, strlen(e->d_name) + 1);
		r = S_ISDIR(st.st_mode) ? ref_tree(h, dirfd(d), e->d_name, depth + 1, read)
					: ref_file(h, dirfd(d), e->d_name, read);
	}
	closedir(d);
	return r;
}

/* The refs, packed refs, HEAD and the reflogs of both git directories:
 * digested always, read (for the commits to start from) when asked. */
static int refs(history *h, const char *gitdir, const char *common, bool read)
{
	const char *dirs[2] = { gitdir, common && common[0] && strcmp(common, gitdir) ? common : NULL };
	int r = 0;
	for (int i = 0; r == 0 && i < 2; i++) {
		if (!dirs[i])
			continue;
		_cleanup_close_ int dir = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			continue;
		crypto_hash_sha256_update(&h->digest, (const unsigned char *)dirs[i], strlen(dirs[i]) + 1);
		if ((r = ref_file(h, dir, "HEAD", read)) < 0 || (r = ref_file(h, dir, "packed-refs", read)) < 0 ||
		    (r = ref_tree(h, dir, "refs", 0, read)) < 0)
			break;
		r = ref_tree(h, dir, "logs", 0, read);
	}
	return r;
}

static int add_blob(history *h, const unsigned char *oid)
{
	for (size_t i = 0; i < h->n_blobs; i++)
		if (!memcmp(h->blobs[i].oid, oid, h->hash_len))
			return 0;
	sk_git_history_blob *v = sk_grow(h->blobs, &h->cap_blobs, h->n_blobs + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->blobs = v;
	sk_git_history_blob *b = &h->blobs[h->n_blobs++];
	memset(b, 0, sizeof(*b));
	memcpy(b->oid, oid, h->hash_len);
	return 0;
}

/* A tree's entries: "MODE NAME\0OID"; a subtree is walked (once, the
 * first path it is met at), a blob at a secret's name is kept. */
static int walk_tree(history *h, const unsigned char *oid, char *path, size_t plen, int depth)
{
	int added = set_add(&h->seen, oid, h->hash_len);
	if (added <= 0)
		return added;
	if (depth > MAX_DEPTH || ++h->trees > MAX_TREES) {
		h->partial = true;
		return 0;
	}
	int type = 0;
	unsigned char *data = NULL;
	size_t len;
	if (sk_git_odb_read(h->db, oid, &type, &data, &len) < 0 || type != 2) {
		h->partial |= !data;   /* a tree this reader cannot read */
		free(data);
		return 0;
	}
	int r = 0;
	for (const unsigned char *p = data, *end = data + len; r == 0 && p < end;) {
		const unsigned char *sp = memchr(p, ' ', (size_t)(end - p));
		const unsigned char *nul = sp ? memchr(sp, '\0', (size_t)(end - sp)) : NULL;
		if (!nul || (size_t)(end - nul - 1) < h->hash_len)
			break;
		const unsigned char *child = nul + 1;
		size_t nlen = (size_t)(nul - sp - 1);
		bool dir = sp - p == 5 && !memcmp(p, "40000", 5), link = sp - p == 6 && !memcmp(p, "160000", 6);
		if (plen + nlen + 2 < PATH_MAX && !link) {
			size_t at = plen;
			if (at)
				path[at++] = '/';
			memcpy(path + at, sp + 1, nlen);
			path[at + nlen] = '\0';
			if (dir)
				r = walk_tree(h, child, path, at + nlen, depth + 1);
			else if (h->secret(h->ctx, path))
				r = add_blob(h, child);
			path[plen] = '\0';
		}
		p = child + h->hash_len;
	}
	free(data);
	return r;
}

static int walk_commit(history *h, const unsigned char *oid)
{
	int added = set_add(&h->seen, oid, h->hash_len);
	if (added <= 0)
		return added;
	if (++h->commits > MAX_COMMITS) {
		h->partial = true;
		return 0;
	}
	int type;
	unsigned char *data = NULL;
	size_t len;
	if (sk_git_odb_read(h->db, oid, &type, &data, &len) < 0)
		return 0;   /* a ref to nothing (pruned): nothing kept */
	int r = 0;
	size_t hex = 2 * h->hash_len;
	char path[PATH_MAX] = "";
	for (const unsigned char *p = data, *end = data + len; r == 0 && p < end && *p != '\n';) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		const unsigned char *eol = nl ? nl : end;
		size_t line = (size_t)(eol - p);
		unsigned char next[32];
		if (type == 1 && line >= 5 + hex && !memcmp(p, "tree ", 5) && parse_hex((const char *)p + 5, h->hash_len, next))
			r = walk_tree(h, next, path, 0, 0);
		else if (((type == 1 && !memcmp(p, "parent ", 7 < line ? 7 : line)) ||
			  (type == 4 && !memcmp(p, "object ", 7 < line ? 7 : line))) &&
			 line >= 7 + hex && parse_hex((const char *)p + 7, h->hash_len, next))
			r = want_commit(h, next);   /* a parent, or what a tag names */
		p = nl ? nl + 1 : end;
	}
	free(data);
	return r;
}

static void blob_keys(history *h)
{
	for (size_t i = 0; i < h->n_blobs; i++) {
		if (h->blobs[i].content[0])
			continue;   /* from an earlier walk */
		int type;
		unsigned char *data;
		size_t len;
		if (sk_git_odb_read(h->db, h->blobs[i].oid, &type, &data, &len) < 0) {
			h->partial = true;
			continue;
		}
		sk_fingerprint_bytes(data, len, h->blobs[i].content);
		h->blobs[i].size = len;
		free(data);
	}
	size_t w = 0;
	for (size_t i = 0; i < h->n_blobs; i++)
		if (h->blobs[i].content[0])
			h->blobs[w++] = h->blobs[i];
	h->n_blobs = w;
}

/* ---- the memo ---- */

/* One memo per repository and set of secret names (what was found, and
 * the trees read, hold for those names only). */
static bool memo_path(const char *cache_dir, const char *common, const char *names, char out[PATH_MAX])
{
	if (!cache_dir)
		return false;
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)common, strlen(common) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)names, strlen(names));
	crypto_hash_sha256_final(&st, d);
	int n = snprintf(out, PATH_MAX, "%s/git-history/", cache_dir);
	for (size_t i = 0; i < 16 && n > 0 && n + 3 < PATH_MAX; i++)
		n += snprintf(out + n, PATH_MAX - (size_t)n, "%02x", d[i]);
	return n > 0 && n < PATH_MAX;
}

/* "DIGEST PARTIAL N\n" then "OID CONTENT SIZE\n" per blob.  The blobs
 * are loaded whatever the digest (an earlier walk's finds stay true);
 * *same says whether the refs are as they were. */
static bool memo_load(const char *file, const char *digest, history *h, bool *same)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (sk_read_file(file, 16 << 20, &text, &len) < 0)
		return false;
	char d[65];
	int partial;
	size_t n;
	int used;
	if (sscanf(text, "%64s %d %zu\n%n", d, &partial, &n, &used) != 3 || n > 1000000)
		return false;
	*same = !strcmp(d, digest);
	const char *p = text + used;
	for (size_t i = 0; i < n; i++) {
		char oid[65], key[SK_FINGERPRINT_LEN + 1];
		unsigned long long size;
		if (sscanf(p, "%64s %79s %llu\n%n", oid, key, &size, &used) != 3 || strlen(oid) != 2 * h->hash_len)
			return false;
		unsigned char o[32];
		if (!parse_hex(oid, h->hash_len, o) || strncmp(key, "content:sha256:", 15) || add_blob(h, o) < 0) {
			h->n_blobs = 0;
			return false;
		}
		snprintf(h->blobs[h->n_blobs - 1].content, sizeof(h->blobs[0].content), "%s", key);
		h->blobs[h->n_blobs - 1].size = size;
		p += used;
	}
	h->partial = partial;
	return true;
}

static void memo_store(const char *file, const char *digest, const history *h)
{
	size_t cap = 100 + h->n_blobs * (65 + SK_FINGERPRINT_LEN + 24);
	_cleanup_free_ char *text = malloc(cap);
	if (!text)
		return;
	size_t at = (size_t)snprintf(text, cap, "%s %d %zu\n", digest, h->partial, h->n_blobs);
	for (size_t i = 0; i < h->n_blobs; i++) {
		char oid[65];
		sodium_bin2hex(oid, sizeof(oid), h->blobs[i].oid, h->hash_len);
		at += (size_t)snprintf(text + at, cap - at, "%s %s %llu\n", oid, h->blobs[i].content,
				       (unsigned long long)h->blobs[i].size);
	}
	(void)sk_write_cache(file, text, at);   /* a cache: failing to keep it is fine */
}

/* The commits and trees earlier walks read, beside the memo: a walk after
 * a ref moved reads only what is new.  Dropped when it grows past
 * SEEN_MAX (the next walk starts over). */
static void seen_load(const char *memo, history *h)
{
	char file[PATH_MAX + 8];
	snprintf(file, sizeof(file), "%s.seen", memo);
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (sk_read_file(file, (size_t)SEEN_MAX * 32, &data, &len) < 0)
		return;
	for (size_t at = 0; at + h->hash_len <= len; at += h->hash_len)
		if (set_add(&h->seen, (const unsigned char *)data + at, h->hash_len) < 0)
			return;
}

static void seen_store(const char *memo, const history *h)
{
	char file[PATH_MAX + 8];
	snprintf(file, sizeof(file), "%s.seen", memo);
	if (h->seen.n > SEEN_MAX) {
		unlink(file);
		return;
	}
	_cleanup_free_ unsigned char *data = malloc(h->seen.n * h->hash_len + 1);
	if (!data)
		return;
	size_t at = 0;
	for (size_t i = 0; i < h->seen.cap; i++)
		if (!zero(h->seen.v[i], h->hash_len)) {
			memcpy(data + at, h->seen.v[i], h->hash_len);
			at += h->hash_len;
		}
	(void)sk_write_cache(file, data, at);
}

int sk_git_history_secrets(const char *cache_dir, const char *gitdir, const char *common, size_t hash_len,
			   const char *names, sk_git_secret_name_fn secret, void *ctx, sk_git_history_blob **out,
			   size_t *n_out, bool *partial)
{
	*out = NULL;
	*n_out = 0;
	*partial = false;
	const char *top = common && common[0] ? common : gitdir;
	history h = { .hash_len = hash_len, .secret = secret, .ctx = ctx };
	crypto_hash_sha256_init(&h.digest);
	int r = refs(&h, gitdir, common, false);
	unsigned char d[crypto_hash_sha256_BYTES];
	char digest[65], memo[PATH_MAX];
	crypto_hash_sha256_final(&h.digest, d);
	sodium_bin2hex(digest, sizeof(digest), d, 32);
	bool kept = memo_path(cache_dir, top, names, memo), same = false;
	bool loaded = r == 0 && kept && memo_load(memo, digest, &h, &same);
	if (loaded && same)
		goto done;
	if (loaded)
		seen_load(memo, &h);   /* the blobs of earlier walks stand: read only what is new */
	h.partial = false;
	h.ref_files = 0;
	crypto_hash_sha256_init(&h.digest);
	char objects[JOIN_MAX];
	snprintf(objects, sizeof(objects), "%s/objects", top);
	if (r == 0 && (r = refs(&h, gitdir, common, true)) == 0 && (r = sk_git_odb_open(objects, hash_len, &h.db)) == 0) {
		while (r == 0 && h.n_todo > 0)
			r = walk_commit(&h, h.todo[--h.n_todo]);
		if (r == 0)
			blob_keys(&h);
		sk_git_odb_close(h.db);
	}
	if (r == 0 && kept) {
		memo_store(memo, digest, &h);
		seen_store(memo, &h);
	}
done:
	free(h.seen.v);
	free(h.todo);
	if (r < 0) {
		free(h.blobs);
		return r;
	}
	*out = h.blobs;
	*n_out = h.n_blobs;
	*partial = h.partial;
	return 0;
}
