/* A reader of git's object store, for the history walk (git_history.c):
 * loose objects (zlib), and packs through their .idx (version 2) with
 * both kinds of delta.  The repository is the agent's to write, so every
 * length is checked against what was read and everything is bounded: an
 * object at most SK_GIT_OBJECT_MAX bytes, a delta chain at most
 * DELTA_DEPTH long.  What this reader does not understand is "not found":
 * the history walk then knows less, and says so. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "git_guard.h"
#include "stockade/util.h"

enum { DELTA_DEPTH = 64, MAX_PACKS = 256, JOIN_MAX = PATH_MAX + 128 };
enum { OBJ_OFS_DELTA = 6, OBJ_REF_DELTA = 7 };

typedef struct pack {
	const unsigned char *idx, *data;
	size_t idx_len, data_len;
} pack;

struct sk_git_odb {
	char objects[PATH_MAX];
	size_t hash_len;
	pack packs[MAX_PACKS];
	size_t n_packs;
};

static const void *map_file(int dir, const char *name, size_t *len)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
		return NULL;
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return m;
}

static void open_packs(sk_git_odb *db)
{
	char dir[JOIN_MAX];
	snprintf(dir, sizeof(dir), "%s/pack", db->objects);
	DIR *d = opendir(dir);
	for (struct dirent *e; d && db->n_packs < MAX_PACKS && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		char name[NAME_MAX + 1];
		if (len < 5 || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		pack p = { 0 };
		snprintf(name, sizeof(name), "%.*s.pack", (int)(len - 4), e->d_name);
		if (!(p.idx = map_file(dirfd(d), e->d_name, &p.idx_len)))
			continue;
		if (!(p.data = map_file(dirfd(d), name, &p.data_len))) {
			munmap((void *)p.idx, p.idx_len);
			continue;
		}
		db->packs[db->n_packs++] = p;
	}
	if (d)
		closedir(d);
}

int sk_git_odb_open(const char *objects, size_t hash_len, sk_git_odb **out)
{
	sk_git_odb *db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	snprintf(db->objects, sizeof(db->objects), "%s", objects);
	db->hash_len = hash_len;
	open_packs(db);
	*out = db;
	return 0;
}

void sk_git_odb_close(sk_git_odb *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n_packs; i++) {
		munmap((void *)db->packs[i].idx, db->packs[i].idx_len);
		munmap((void *)db->packs[i].data, db->packs[i].data_len);
	}
	free(db);
}

size_t sk_git_odb_n_packs(const sk_git_odb *db)
{
	return db->n_packs;
}

int sk_git_odb_pack_ids(const sk_git_odb *db, size_t i, const unsigned char **oids, size_t *n,
			const unsigned char **checksum)
{
	static const unsigned char v2[8] = { 0xff, 't', 'O', 'c', 0, 0, 0, 2 };
	const pack *p = &db->packs[i];
	size_t h = db->hash_len, head = 8 + 256 * 4;
	if (i >= db->n_packs || p->idx_len < head + 2 * h || memcmp(p->idx, v2, sizeof(v2)))
		return -ENOENT;
	const unsigned char *f = p->idx + 8 + 255 * 4;
	uint64_t count = (uint64_t)f[0] << 24 | (uint64_t)f[1] << 16 | (uint64_t)f[2] << 8 | f[3];
	if (count > (p->idx_len - head - 2 * h) / h)
		return -ENOENT;
	*oids = p->idx + head;
	*n = (size_t)count;
	*checksum = p->idx + p->idx_len - 2 * h;   /* the pack's, then the index's own */
	return 0;
}

/* Inflate src into a buffer of exactly want bytes (a pack entry's size,
 * a loose object's whole); NULL when the stream is not that. */
static unsigned char *inflate_exact(const unsigned char *src, size_t src_len, size_t want)
{
	unsigned char *out = malloc(want ? want : 1);
	z_stream z = { .next_in = (Bytef *)src, .avail_in = (uInt)(src_len > UINT32_MAX ? UINT32_MAX : src_len),
		       .next_out = out, .avail_out = (uInt)want };
	if (!out || inflateInit(&z) != Z_OK) {
		free(out);
		return NULL;
	}
	int r = inflate(&z, Z_FINISH);
	bool ok = r == Z_STREAM_END && z.total_out == want;
	inflateEnd(&z);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}

/* A loose object's bytes: "TYPE SIZE\0" then the content, all deflated. */
static int parse_loose(const unsigned char *f, size_t flen, int *type, unsigned char **data, size_t *len)
{
	/* The header first, to learn the size. */
	unsigned char hdr[64];
	z_stream z = { .next_in = (Bytef *)f, .avail_in = (uInt)(flen > UINT32_MAX ? UINT32_MAX : flen),
		       .next_out = hdr, .avail_out = sizeof(hdr) };
	int r = inflateInit(&z) == Z_OK ? inflate(&z, Z_SYNC_FLUSH) : Z_DATA_ERROR;
	size_t got = sizeof(hdr) - z.avail_out;
	inflateEnd(&z);
	const unsigned char *nul = (r == Z_OK || r == Z_STREAM_END) ? memchr(hdr, '\0', got) : NULL;
	static const char *const names[] = { "commit ", "tree ", "blob ", "tag " };
	int t = 0;
	for (int i = 0; nul && i < 4; i++)
		if (!strncmp((const char *)hdr, names[i], strlen(names[i])))
			t = i + 1;
	char *end = NULL;
	unsigned long long size = t ? strtoull((const char *)hdr + strlen(names[t - 1]), &end, 10) : 0;
	if (!t || end != (const char *)nul || size > SK_GIT_OBJECT_MAX)
		return -ENOENT;
	size_t skip = (size_t)(nul - hdr) + 1;
	unsigned char *all = inflate_exact(f, flen, skip + (size_t)size);
	if (!all)
		return -ENOENT;
	memmove(all, all + skip, (size_t)size);
	*type = t;
	*data = all;
	*len = (size_t)size;
	return 0;
}

static int read_loose(const sk_git_odb *db, const unsigned char *oid, int *type, unsigned char **data, size_t *len)
{
	char name[JOIN_MAX];
	size_t flen;
	const unsigned char *f = sk_git_loose_path(db->objects, oid, db->hash_len, name, sizeof(name)) == 0
					 ? map_file(AT_FDCWD, name, &flen)
					 : NULL;
	if (!f)
		return -ENOENT;
	int e = parse_loose(f, flen, type, data, len);
	munmap((void *)f, flen);
	return e;
}

static bool delta_size(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		unsigned char c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* Git's delta: the sizes of base and result, then copies from the base
 * and inserted bytes.  NULL when it does not fit the base it names. */
static unsigned char *apply_delta(const unsigned char *base, size_t base_len, const unsigned char *d, size_t dlen,
				  size_t *out_len)
{
	const unsigned char *p = d, *end = d + dlen;
	uint64_t src, dst;
	if (!delta_size(&p, end, &src) || !delta_size(&p, end, &dst) || src != base_len || dst > SK_GIT_OBJECT_MAX)
		return NULL;
	unsigned char *out = malloc(dst ? (size_t)dst : 1);
	size_t at = 0;
	while (out && p < end) {
		unsigned char op = *p++;
		uint64_t off = 0, n = 0;
		if (op & 0x80) {
			for (int i = 0; i < 4; i++)
				if (op & (1u << i)) {
					if (p >= end)
						goto bad;
					off |= (uint64_t)*p++ << (8 * i);
				}
			for (int i = 0; i < 3; i++)
				if (op & (0x10u << i)) {
					if (p >= end)
						goto bad;
					n |= (uint64_t)*p++ << (8 * i);
				}
			if (n == 0)
				n = 0x10000;
			if (off + n > base_len || at + n > dst)
				goto bad;
			memcpy(out + at, base + off, (size_t)n);
		} else if (op) {
			n = op;
			if ((size_t)(end - p) < n || at + n > dst)
				goto bad;
			memcpy(out + at, p, (size_t)n);
			p += n;
		} else {
			goto bad;   /* reserved */
		}
		at += (size_t)n;
	}
	if (out && at == dst) {
		*out_len = (size_t)dst;
		return out;
	}
bad:
	free(out);
	return NULL;
}

static int read_packed(sk_git_odb *db, const pack *p, uint64_t off, int depth, int *type, unsigned char **data,
		       size_t *len);

static int read_any(sk_git_odb *db, const unsigned char *oid, int depth, int *type, unsigned char **data, size_t *len)
{
	for (size_t i = 0; i < db->n_packs; i++) {
		uint64_t off;
		if (sk_git_idx_find(db->packs[i].idx, db->packs[i].idx_len, db->hash_len, oid, &off))
			return read_packed(db, &db->packs[i], off, depth, type, data, len);
	}
	return read_loose(db, oid, type, data, len);
}

static int read_packed(sk_git_odb *db, const pack *p, uint64_t off, int depth, int *type, unsigned char **data,
		       size_t *len)
{
	if (depth > DELTA_DEPTH || off < 12 || off >= p->data_len)
		return -ENOENT;
	const unsigned char *q = p->data + off, *end = p->data + p->data_len;
	unsigned char c = *q++;
	int t = (c >> 4) & 7;
	uint64_t size = c & 15;
	for (unsigned shift = 4; c & 0x80; shift += 7) {
		if (q >= end || shift > 57)
			return -ENOENT;
		c = *q++;
		size |= (uint64_t)(c & 0x7f) << shift;
	}
	if (size > SK_GIT_OBJECT_MAX)
		return -ENOENT;
	int bt;
	unsigned char *base = NULL;
	size_t base_len = 0;
	int e = 0;
	if (t == OBJ_OFS_DELTA) {
		if (q >= end)
			return -ENOENT;
		c = *q++;
		uint64_t back = c & 127;
		while (c & 128) {
			if (q >= end || back > (UINT64_MAX >> 8))
				return -ENOENT;
			c = *q++;
			back = ((back + 1) << 7) | (c & 127);
		}
		if (back == 0 || back > off)
			return -ENOENT;
		e = read_packed(db, p, off - back, depth + 1, &bt, &base, &base_len);
	} else if (t == OBJ_REF_DELTA) {
		if ((size_t)(end - q) < db->hash_len)
			return -ENOENT;
		e = read_any(db, q, depth + 1, &bt, &base, &base_len);
		q += db->hash_len;
	} else if (t < 1 || t > 4) {
		return -ENOENT;
	}
	if (e < 0)
		return e;
	unsigned char *raw = inflate_exact(q, (size_t)(end - q), (size_t)size);
	if (!raw) {
		free(base);
		return -ENOENT;
	}
	if (!base) {
		*type = t;
		*data = raw;
		*len = (size_t)size;
		return 0;
	}
	*data = apply_delta(base, base_len, raw, (size_t)size, len);
	free(base);
	free(raw);
	*type = bt;
	return *data ? 0 : -ENOENT;
}

int sk_git_odb_read(sk_git_odb *db, const unsigned char *oid, int *type, unsigned char **data, size_t *len)
{
	return read_any(db, oid, 0, type, data, len);
}
