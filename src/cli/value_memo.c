/* Files found clean of the secret values, kept between runs.
 *
 * The supervisor reads each file a command opens for the values of the
 * secret files (broker_values.c): ~18 ms for a 50 MB log, ~70 ms for a
 * gzip file, on every run that opens it.  A file whose device, inode,
 * size, mtime and ctime are those of a version an earlier run read whole
 * and found none of the same values in holds none now either: its content
 * cannot change without its ctime changing, which no process can set
 * back.  So the versions found clean (64 KiB and more, unchanged for two
 * seconds before the read: timestamps are coarse) are kept in the cache
 * directory, hidden from every sandbox, in a file named after this build
 * and the digest of every form of every value looked for: another set of
 * values, or another build, starts from nothing.  Anything unusual (a
 * short or damaged file) means no memo: every file is read.  At most
 * MEMO_MAX versions are kept, the newest first. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"
#include "stockade/util.h"

/* 32 bytes: the versions after it stay aligned. */
#define MEMO_MAGIC "stockade-value-memo 1          \n"
enum { MEMO_MAX = 8192, MAGIC_LEN = sizeof(MEMO_MAGIC) - 1 };
_Static_assert(MAGIC_LEN % 8 == 0, "aligned versions");

static int cmp_version(const void *a, const void *b)
{
	const sk_clean_file *x = a, *y = b;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return 0;
}

/* cache_dir/value-memo/HEX of (build id, digest of the values). */
static int memo_path(const char *cache_dir, const sk_secret_values *sv, char out[PATH_MAX])
{
	unsigned char digest[32];
	sk_secret_values_digest(sv, digest);
	sk_bytes part = { digest, sizeof(digest) };
	return sk_cache_file(cache_dir, "value-memo", &part, 1, out, PATH_MAX);
}

int sk_value_memo_load(run_state *s)
{
	sk_value_memo *m = &s->value_memo;
	*m = (sk_value_memo){ 0 };
	if (!sk_secret_values_count(s->values) || memo_path(s->cache_dir, s->values, m->path) < 0)
		return 0;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (sk_read_file(m->path, MAGIC_LEN + MEMO_MAX * sizeof(sk_clean_file), &data, &len) < 0)
		return 0;   /* none yet, or unreadable: every file is read */
	size_t body = len >= MAGIC_LEN ? len - MAGIC_LEN : 0;
	if (len < MAGIC_LEN || memcmp(data, MEMO_MAGIC, MAGIC_LEN) || body % sizeof(sk_clean_file))
		return 0;
	size_t n = body / sizeof(sk_clean_file);
	if (n && !(m->v = malloc(n * sizeof(*m->v))))
		return -ENOMEM;
	memcpy(m->v, data + MAGIC_LEN, n * sizeof(*m->v));
	m->n = n;
	qsort(m->v, n, sizeof(*m->v), cmp_version);   /* the supervisor looks them up by identity */
	return 0;
}

void sk_value_memo_seen(void *ctx, const sk_clean_file *f)
{
	sk_value_memo *m = ctx;
	if (!m->path[0] || m->n_new >= MEMO_MAX)
		return;
	sk_clean_file *v = sk_grow(m->fresh, &m->cap_new, m->n_new + 1, sizeof(*v));
	if (!v)
		return;   /* only speed is at stake */
	m->fresh = v;
	m->fresh[m->n_new++] = *f;
}

static const sk_clean_file *find(const sk_clean_file *v, size_t n, const sk_clean_file *f)
{
	return n ? bsearch(f, v, n, sizeof(*v), cmp_version) : NULL;
}

static int cmp_newest_last(const void *a, const void *b)
{
	const sk_clean_file *x = a, *y = b;
	int c = cmp_version(a, b);
	if (c)
		return c;
	if (x->ctime_s != y->ctime_s)
		return x->ctime_s < y->ctime_s ? -1 : 1;
	return x->ctime_ns < y->ctime_ns ? -1 : x->ctime_ns > y->ctime_ns;
}

/* The versions this run found (the newest of each file's), then those
 * kept before that are not versions of the same files, up to MEMO_MAX. */
void sk_value_memo_save(sk_value_memo *m)
{
	if (!m->n_new)
		return;
	qsort(m->fresh, m->n_new, sizeof(*m->fresh), cmp_newest_last);
	size_t w = 0;
	for (size_t i = 0; i < m->n_new; i++) {
		if (w && !cmp_version(&m->fresh[w - 1], &m->fresh[i]))
			w--;   /* an older version of this file */
		m->fresh[w++] = m->fresh[i];
	}
	m->n_new = w;
	size_t cap = m->n_new + m->n < MEMO_MAX ? m->n_new + m->n : MEMO_MAX;
	_cleanup_free_ char *out = malloc(MAGIC_LEN + cap * sizeof(sk_clean_file));
	if (!out)
		return;
	memcpy(out, MEMO_MAGIC, MAGIC_LEN);
	sk_clean_file *v = (sk_clean_file *)(void *)(out + MAGIC_LEN);
	size_t n = 0;
	for (size_t i = 0; i < m->n_new && n < cap; i++)
		v[n++] = m->fresh[i];
	for (size_t i = 0; i < m->n && n < cap; i++)
		if (!find(m->fresh, m->n_new, &m->v[i]))
			v[n++] = m->v[i];
	sk_write_cache(m->path, out, MAGIC_LEN + n * sizeof(sk_clean_file));   /* best effort */
}

void sk_value_memo_free(sk_value_memo *m)
{
	free(m->v);
	free(m->fresh);
	*m = (sk_value_memo){ 0 };
}
