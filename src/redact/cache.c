/* The compiled pattern databases, cached on disk so that a command's start
 * does not pay for compilation.  Keyed by a BLAKE2b digest of the engine
 * version and the rules; only pattern rules are cached, never literals
 * (a serialized literal database would hold the secrets themselves).
 *
 * File <dir>/redact-<digest>.hsdb, integers in host order:
 *   "SKRDB003" | u32 n_rules | u32 max_width[n] | u64 som_len[n]
 *   | u64 stream_len | u64 prefix_len | stream db | prefix db | som dbs...
 * A start raises only the header and the two first databases; a rule's
 * start-of-match database is read (pread on the kept descriptor: the file
 * may be replaced meanwhile, never changed in place) when a stream first
 * needs it.  The engine checks each database's own CRC when loading it. */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "internal.h"

#define MAGIC "SKRDB003"

int rx_cache_dir(const char *configured, char **out)
{
	return sk_cache_dir(configured, out);
}

static void hash_str(crypto_generichash_state *st, const char *s)
{
	uint64_t len = s ? strlen(s) : UINT64_MAX;
	crypto_generichash_update(st, (const uint8_t *)&len, sizeof(len));
	if (s)
		crypto_generichash_update(st, (const uint8_t *)s, strlen(s));
}

void rx_rules_digest(const rx_ruleset *rs, uint8_t digest[32])
{
	crypto_generichash_state st;
	if (sodium_init() < 0) {
		/* Only the choice of the fast BLAKE2b failed; the portable one works. */
	}
	crypto_generichash_init(&st, NULL, 0, 32);
	hash_str(&st, MAGIC);
	hash_str(&st, hs_version());
	for (size_t i = 0; i < rs->n; i++) {
		uint32_t kind = rs->v[i].kind;
		crypto_generichash_update(&st, (const uint8_t *)&kind, sizeof(kind));
		hash_str(&st, rs->v[i].name);
		hash_str(&st, rs->v[i].regex);
		hash_str(&st, rs->v[i].prefix);
	}
	crypto_generichash_final(&st, digest, 32);
}

static char *entry_path(const char *dir, const uint8_t digest[32])
{
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), digest, 32);
	char *path;
	return asprintf(&path, "%s/redact-%s.hsdb", dir, hex) < 0 ? NULL : path;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Deserialize straight from the page cache: a read into a fresh buffer
 * would fault in and copy a megabyte that is thrown away at once. */
static int load_db(int fd, uint64_t off, uint64_t len, hs_database_t **db)
{
	if (len == 0)
		return 0;
	if (len > (256u << 20))
		return -EBADMSG;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), base = off & ~(page - 1);
	void *map = mmap(NULL, len + (off - base), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, (off_t)base);
	if (map == MAP_FAILED)
		return -errno;
	hs_error_t r = hs_deserialize_database((const char *)map + (off - base), len, db);
	munmap(map, len + (off - base));
	return r == HS_SUCCESS ? 0 : -EBADMSG;
}

/* Header: widths, the som lengths, and where everything is. */
static int load_header(int fd, uint64_t size, size_t n_rules, rx_patterns *p, uint64_t *lens)
{
	uint8_t head[12];
	uint32_t n;
	int e = pread_all(fd, head, sizeof(head), 0);
	if (e < 0)
		return e;
	memcpy(&n, head + 8, 4);
	if (memcmp(head, MAGIC, 8) || n != n_rules)
		return -EBADMSG;
	size_t hlen = (size_t)n * 12 + 16;
	_cleanup_free_ uint8_t *h = malloc(hlen);
	if (!h)
		return -ENOMEM;
	if ((e = pread_all(fd, h, hlen, 12)) < 0)
		return e;
	memcpy(p->max_width, h, (size_t)n * 4);
	uint64_t off = 12 + hlen;
	memcpy(lens, h + (size_t)n * 12, 16);
	off += lens[0] + lens[1];
	for (size_t i = 0; i < n; i++) {
		uint64_t len;
		memcpy(&len, h + (size_t)n * 4 + i * 8, 8);
		if (len == 0 || off + len < off)
			return -EBADMSG;
		p->som_off[i] = (size_t)off;
		p->som_len[i] = (size_t)len;
		off += len;
	}
	return off == size ? 0 : -EBADMSG;
}

int rx_cache_load(const char *dir, const uint8_t digest[32], size_t n_rules, rx_patterns *p)
{
	_cleanup_free_ char *path = entry_path(dir, digest);
	if (!path)
		return -ENOMEM;
	*p = (rx_patterns){ .n = n_rules, .som_fd = -1 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int e = fd < 0 ? -errno : rx_cache_load_fd(fd, n_rules, p);
	if (e == 0) {
		p->entry_path = path;   /* to remove it, should its databases prove bad */
		path = NULL;
	}
	return e;
}

int rx_cache_load_fd(int fd, size_t n_rules, rx_patterns *p)
{
	*p = (rx_patterns){ .n = n_rules, .som_fd = fd };
	struct stat st;
	uint64_t lens[2] = { 0, 0 };
	p->max_width = calloc(n_rules + 1, sizeof(*p->max_width));
	p->som_off = calloc(n_rules + 1, sizeof(*p->som_off));
	p->som_len = calloc(n_rules + 1, sizeof(*p->som_len));
	int e = (!p->max_width || !p->som_off || !p->som_len) ? -ENOMEM : 0;
	if (e == 0 && fstat(p->som_fd, &st) < 0)
		e = -errno;
	if (e == 0)
		e = load_header(p->som_fd, (uint64_t)st.st_size, n_rules, p, lens);
	uint64_t base = 12 + (uint64_t)n_rules * 12 + 16;
	if (e == 0 && lens[0] == 0)
		e = -EBADMSG;
	if (e < 0) {
		rx_patterns_free(p);
		return e;
	}
	p->db_off[0] = base;
	p->db_len[0] = lens[0];
	p->db_off[1] = base + lens[0];
	p->db_len[1] = lens[1];
	p->dbs_pending = true;
	return 0;
}

int rx_cache_load_dbs(rx_patterns *p)
{
	if (!p->dbs_pending)
		return 0;
	int e = load_db(p->som_fd, p->db_off[0], p->db_len[0], &p->stream_db);
	if (e == 0)
		e = load_db(p->som_fd, p->db_off[1], p->db_len[1], &p->prefix_db);
	if (e == 0 && !p->stream_db)
		e = -EBADMSG;
	p->dbs_pending = false;
	/* The header was sound, the databases are not: the next start
	 * compiles afresh instead of failing the same way. */
	if (e == -EBADMSG && p->entry_path)
		unlink(p->entry_path);
	return e;
}

static int serialize(const hs_database_t *db, char **bytes, size_t *len)
{
	*bytes = NULL;
	*len = 0;
	return !db || hs_serialize_database(db, bytes, len) == HS_SUCCESS ? 0 : -ENOMEM;
}

/* A loaded entry is its file, whole. */
static int read_entry(int fd, uint8_t **out, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!(*out = malloc((size_t)st.st_size + 1)))
		return -ENOMEM;
	*len = (size_t)st.st_size;
	int e = pread_all(fd, *out, *len, 0);
	if (e < 0) {
		free(*out);
		*out = NULL;
	}
	return e;
}

int rx_cache_encode(const rx_patterns *p, uint8_t **out, size_t *len)
{
	_cleanup_free_ char *stream = NULL, *prefix = NULL;
	size_t stream_len, prefix_len;
	*out = NULL;
	if (!p->som_blob && p->som_fd >= 0)
		return read_entry(p->som_fd, out, len);
	for (size_t i = 0; i < p->n; i++)
		if (!p->som_len[i] || !p->som_blob)
			return -EINVAL;   /* only complete entries are cached */
	int e = serialize(p->stream_db, &stream, &stream_len);
	if (e == 0)
		e = serialize(p->prefix_db, &prefix, &prefix_len);
	if (e < 0)
		return e;
	rx_bytes w = { 0 };
	uint32_t n = (uint32_t)p->n;
	uint64_t lens[2] = { stream_len, prefix_len };
	rx_bytes_put(&w, MAGIC, 8);
	rx_bytes_put(&w, &n, 4);
	rx_bytes_put(&w, p->max_width, (size_t)n * 4);
	for (size_t i = 0; i < p->n; i++) {
		uint64_t som_len = p->som_len[i];
		rx_bytes_put(&w, &som_len, 8);
	}
	rx_bytes_put(&w, lens, 16);
	rx_bytes_put(&w, stream, stream_len);
	rx_bytes_put(&w, prefix, prefix_len);
	for (size_t i = 0; i < p->n; i++)
		rx_bytes_put(&w, p->som_blob + p->som_off[i], p->som_len[i]);
	if (w.err) {
		free(w.buf);
		return w.err;
	}
	*out = w.buf;
	*len = w.len;
	return 0;
}

int rx_cache_store(const char *dir, const uint8_t digest[32], const rx_patterns *p)
{
	_cleanup_free_ char *path = entry_path(dir, digest);
	_cleanup_free_ uint8_t *bytes = NULL;
	size_t len;
	if (!path)
		return -ENOMEM;
	int e = rx_cache_encode(p, &bytes, &len);
	if (e == 0)
		e = sk_mkdir_p(dir, 0700);
	return e < 0 ? e : sk_write_atomic(dir, path, bytes, len);
}
