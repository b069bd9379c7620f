/* Secret values in the files a command reads: a file that holds a value
 * of a secret file (a token pasted into a config, a copy with lines
 * added) is decided as that secret's content, so `rev config.yml` meets
 * the same refusal as `cat .env`.  The caller says which values count and
 * matches them (sk_supervisor.values_in); here is which files are read,
 * how, and the memo that reads each at most once per change. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "broker.h"

/* The trees of programs and libraries (/usr, /lib*, /bin, /sbin: what a
 * compiler reads by the thousand) hold no config a secret's value was
 * pasted into, and the sandbox's own mounts hold nothing from the host;
 * /etc, /opt, /usr/local/etc and the rest do (a service's config under
 * /opt with the .env's token). */
static bool program_tree(const char *path)
{
	static const char *const prefixes[] = { "/usr/", "/lib/", "/lib32/", "/lib64/", "/bin/", "/sbin/" };
	if (!strncmp(path, "/usr/local/etc/", strlen("/usr/local/etc/")))
		return false;
	for (size_t i = 0; i < SK_ARRAY_LEN(prefixes); i++)
		if (!strncmp(path, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static bool worth_reading(const broker *b, const resolved *r)
{
	if (!S_ISREG(r->st.st_mode) || (uint64_t)r->st.st_size < b->cfg->sup.values_min ||
	    (uint64_t)r->st.st_size > SK_VALUE_SCAN_MAX)
		return false;
	for (size_t i = 0; i < b->n_private; i++)
		if (b->private_devs[i] == (uint64_t)r->st.st_dev)
			return false;
	/* r->path is the kernel's name, or for a system path the name given
	 * (broker_open.c), which a ".." could bend: such a name is read. */
	return !program_tree(r->path) || strstr(r->path, "/..") || sk_path_beneath(r->path, b->cfg->workspace);
}

static value_memo *memo_slot(broker *b, const struct stat *st)
{
	uint64_t h = ((uint64_t)st->st_dev * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)st->st_ino * 0xC2B2AE3D27D4EB4FULL);
	return &b->shared->memo[(h >> 32) % BROKER_VALUE_MEMO];
}

static bool same_file(const value_memo *m, const struct stat *st)
{
	return m->used && m->dev == (uint64_t)st->st_dev && m->ino == (uint64_t)st->st_ino &&
	       m->size == (uint64_t)st->st_size && m->mtime.tv_sec == st->st_mtim.tv_sec &&
	       m->mtime.tv_nsec == st->st_mtim.tv_nsec && m->ctime.tv_sec == st->st_ctim.tv_sec &&
	       m->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/* A file is read a piece at a time (memory stays bounded whatever its
 * size), each piece looked at with the end of the one before: more than
 * the longest form of a value (SK_REDACT_LITERAL_MAX bytes, six times
 * over when JSON-escaped), so a value across two pieces is found whole. */
enum { PIECE = 1 << 20, OVERLAP = 64 << 10, GZIP_OUT_MAX = 16 << 20 };
_Static_assert(OVERLAP > 6 * SK_REDACT_LITERAL_MAX, "a value's longest form fits in the overlap");

/* pread of up to len bytes at off; an O_DIRECT descriptor is read through
 * a plain one (*plain, opened here once). */
static ssize_t read_at(int fd, int *plain, char *buf, size_t len, uint64_t off)
{
	for (;;) {
		ssize_t n = pread(*plain >= 0 ? *plain : fd, buf, len, (off_t)off);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EINVAL || *plain >= 0)
			return -errno;
		char proc[40];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if ((*plain = open(proc, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0)
			return -EINVAL;
	}
}

/* Looks at each piece of what next() yields (into buf + kept, at most
 * PIECE bytes; 0 at the end, -errno) with the end of the one before. */
typedef ssize_t (*piece_fn)(void *src, char *into, size_t cap);

static int scan_pieces(broker *b, char *buf, piece_fn next, void *src, const char **key, uint64_t *key_size)
{
	size_t kept = 0;
	for (;;) {
		ssize_t n = next(src, buf + kept, PIECE);
		if (n <= 0)
			return n < 0 ? (int)n : 0;
		size_t have = kept + (size_t)n;
		int found = b->cfg->sup.values_in(b->cfg->sup.decide_ctx, buf, have, key, key_size);
		if (found)
			return found;
		kept = have < OVERLAP ? have : OVERLAP;
		memmove(buf, buf + have - kept, kept);
	}
}

/* The file's bytes, from offset 0 to its size as seen (a file that shrinks
 * meanwhile is read as far as it goes). */
typedef struct file_src {
	int fd, plain;
	uint64_t off, size;
} file_src;

static ssize_t next_bytes(void *p, char *into, size_t cap)
{
	file_src *f = p;
	if (f->off >= f->size)
		return 0;
	size_t want = f->size - f->off < cap ? (size_t)(f->size - f->off) : cap;
	ssize_t n = read_at(f->fd, &f->plain, into, want, f->off);
	if (n > 0)
		f->off += (uint64_t)n;
	return n;
}

/* What a gzip file holds (a rotated log, a tarball): its members, one
 * after another; or a zlib stream (git's loose object: a token committed
 * in an ordinary file); up to GZIP_OUT_MAX bytes in all (a bomb ends
 * there; inflating costs ~4 ms a MiB here, once per version of a file).
 * A stream that turns out damaged ends where it breaks; a file in which
 * no stream ran to its end is read as it is too (two bytes that look
 * like a header at the start of a text, a stream cut short). */
typedef struct gzip_src {
	file_src *file;
	z_stream z;
	unsigned char in[64 << 10];
	uint64_t out;
	bool ended;
	bool whole;   /* a stream ran to its end: it was compressed data */
} gzip_src;

static ssize_t next_inflated(void *p, char *into, size_t cap)
{
	gzip_src *g = p;
	g->z.next_out = (unsigned char *)into;
	g->z.avail_out = (uInt)cap;
	while (!g->ended && g->z.avail_out == cap && g->out < GZIP_OUT_MAX) {
		if (g->z.avail_in == 0) {
			ssize_t n = next_bytes(g->file, (char *)g->in, sizeof(g->in));
			if (n <= 0) {
				g->ended = true;
				if (n < 0)
					return n;
				break;
			}
			g->z.next_in = g->in;
			g->z.avail_in = (uInt)n;
		}
		int zr = inflate(&g->z, Z_NO_FLUSH);
		if (zr == Z_MEM_ERROR)
			return -ENOMEM;
		if (zr == Z_STREAM_END) {
			g->whole = true;
			zr = inflateReset(&g->z);   /* the next member, if any */
		}
		else if (zr == Z_BUF_ERROR && g->z.avail_in)
			zr = Z_DATA_ERROR;          /* no progress with input left */
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			g->ended = true;
	}
	size_t made = cap - g->z.avail_out;
	g->out += made;
	return (ssize_t)made;
}

/* The values in the file, through fd (pread leaves the offset the opener
 * will use alone): 1 and the secret's key, 0, or -errno. */
static int scan_file(broker *b, int fd, uint64_t size, const char **key, uint64_t *key_size)
{
	char *buf = malloc(PIECE + OVERLAP);
	gzip_src *g = NULL;
	int found = -ENOMEM;
	file_src f = { .fd = fd, .plain = -1, .size = size };
	unsigned char magic[2];
	if (!buf)
		goto out;
	int bits = 0;
	if (size >= 8 && read_at(fd, &f.plain, (char *)magic, 2, 0) == 2)
		bits = magic[0] == 0x1f && magic[1] == 0x8b ? 16 + MAX_WBITS   /* gzip */
		       : (magic[0] & 0x0f) == Z_DEFLATED && (magic[0] >> 4) <= 7 &&
				 ((magic[0] << 8) | magic[1]) % 31 == 0 ? MAX_WBITS   /* zlib */
		       : 0;
	if (bits && (g = calloc(1, sizeof(*g))) && inflateInit2(&g->z, bits) == Z_OK) {
		g->file = &f;
		found = scan_pieces(b, buf, next_inflated, g, key, key_size);
		inflateEnd(&g->z);
		if (found != 0 || g->whole)
			goto out;   /* found, failed (fail closed), or read whole */
		f.off = 0;   /* not compressed after all: its bytes as they are */
	}
	found = scan_pieces(b, buf, next_bytes, &f, key, key_size);
out:
	if (f.plain >= 0)
		close(f.plain);
	free(g);
	free(buf);
	return found;
}

/* Files smaller than this are read again each run (cheaper than the
 * memo's room); a file changed less than RACY_S seconds ago is not
 * remembered (a change in the same clock tick after the read would keep
 * its timestamps). */
enum { CLEAN_MIN = 64 << 10, RACY_S = 2 };

static sk_clean_file version_of(const struct stat *st)
{
	return (sk_clean_file){ .dev = (uint64_t)st->st_dev, .ino = (uint64_t)st->st_ino, .size = (uint64_t)st->st_size,
				.mtime_s = st->st_mtim.tv_sec, .mtime_ns = st->st_mtim.tv_nsec,
				.ctime_s = st->st_ctim.tv_sec, .ctime_ns = st->st_ctim.tv_nsec };
}

/* An earlier run read this very version and found no value in it. */
static bool known_clean(const broker *b, const struct stat *st)
{
	sk_clean_file v = version_of(st);
	size_t lo = 0, hi = b->cfg->sup.n_clean;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const sk_clean_file *m = &b->cfg->sup.clean[mid];
		if (m->dev == v.dev && m->ino == v.ino)
			return !memcmp(m, &v, sizeof(v));
		if (m->dev < v.dev || (m->dev == v.dev && m->ino < v.ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static void remember_clean(broker *b, const struct stat *st)
{
	struct timespec now;
	if (b->event_fd < 0 || st->st_size < CLEAN_MIN || clock_gettime(CLOCK_REALTIME_COARSE, &now) < 0 ||
	    now.tv_sec - st->st_mtim.tv_sec < RACY_S || now.tv_sec - st->st_ctim.tv_sec < RACY_S)
		return;
	sk_clean_file v = version_of(st);
	sk_wire_send_clean(b->event_fd, &v);   /* best effort: only speed is at stake */
}

int broker_value_holder(broker *b, const resolved *r, int fd, const char **content, uint64_t *size)
{
	if (!b->cfg->sup.values_in || fd < 0 || !worth_reading(b, r))
		return 0;
	value_memo *m = memo_slot(b, &r->st);
	if (same_file(m, &r->st)) {
		*content = m->content;
		*size = m->content_size;
		return m->content != NULL;
	}
	const char *key = NULL;
	uint64_t key_size = 0;
	int found = 0;
	if (!known_clean(b, &r->st)) {
		found = scan_file(b, fd, (uint64_t)r->st.st_size, &key, &key_size);
		b->stats.scanned++;
		if (found < 0)
			return found;
		if (found == 0)
			remember_clean(b, &r->st);
	}
	*m = (value_memo){ .dev = (uint64_t)r->st.st_dev, .ino = (uint64_t)r->st.st_ino,
			   .size = (uint64_t)r->st.st_size, .mtime = r->st.st_mtim, .ctime = r->st.st_ctim,
			   .content = found ? key : NULL, .content_size = key_size, .used = true };
	*content = m->content;
	*size = key_size;
	return found;
}
