/* The entries of a git index file (and its gitlinks), and the object ids
 * a pack's index lists.  Of the index: the entries through which `git status`
 * (and diff, and submodule commands) walks into another repository and
 * runs under that repository's config.  The index is the command's to
 * write, so this reads it the way git does (Documentation/gitformat-index:
 * versions 2 to 4, extended flags, v4's prefix-compressed names, a split
 * index's link to its shared index) and refuses what it does not
 * understand.  Pure. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sodium.h>
#include <string.h>

#include "git_guard.h"

enum { IDX_MAGIC = 0xff744f63, ENTRY_STAT = 40, FLAG_EXTENDED = 0x4000, NAME_MASK = 0xfff, MODE_TYPE = 0170000, MODE_GITLINK = 0160000 };

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* git's varint (varint.c): each continuation adds one before shifting. */
static bool varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	if (*p >= end)
		return false;
	unsigned char c = *(*p)++;
	uint64_t v = c & 127;
	while (c & 128) {
		if (*p >= end || (v + 1) >> 56)
			return false;
		c = *(*p)++;
		v = ((v + 1) << 7) + (c & 127);
	}
	*out = v;
	return true;
}

/* One entry's name into path (v4: after the previous entry's, less the
 * bytes it strips); *next is where the following entry starts. */
static bool entry_name(const unsigned char *name, const unsigned char *end, uint32_t version, size_t hdr,
		       unsigned flags, char *path, size_t *plen, const unsigned char **next)
{
	if (version == 4) {
		uint64_t strip;
		const unsigned char *s = name;
		if (!varint(&s, end, &strip) || strip > *plen)
			return false;
		const unsigned char *nul = memchr(s, '\0', (size_t)(end - s));
		size_t keep = *plen - (size_t)strip, n = nul ? (size_t)(nul - s) : 0;
		if (!nul || keep + n > PATH_MAX)
			return false;
		memcpy(path + keep, s, n);
		*plen = keep + n;
		*next = nul + 1;
	} else {
		size_t n = flags & NAME_MASK;
		const unsigned char *nul = memchr(name, '\0', (size_t)(end - name));
		if (!nul || (n != NAME_MASK && (size_t)(nul - name) != n))
			return false;
		n = (size_t)(nul - name);
		size_t size = (hdr + n + 8) & ~(size_t)7;   /* padded with 1 to 8 NULs */
		if (n > PATH_MAX || (size_t)(end - (name - hdr)) < size)
			return false;
		memcpy(path, name, n);
		*plen = n;
		*next = name - hdr + size;
	}
	path[*plen] = '\0';
	return memchr(path, '\0', *plen) == NULL;
}

/* Extensions after the entries; "link" names the shared index. */
static bool extensions(const unsigned char *p, const unsigned char *end, size_t hash_len, char shared[65])
{
	while (end - p >= 8) {
		uint32_t size = be32(p + 4);
		if ((size_t)(end - p - 8) < size)
			return false;
		if (!memcmp(p, "link", 4)) {
			if (size < hash_len)
				return false;
			for (size_t i = 0; i < hash_len; i++)
				snprintf(shared + 2 * i, 3, "%02x", p[8 + i]);
		}
		p += 8 + size;
	}
	return p == end;
}

int sk_git_index_entries(const unsigned char *buf, size_t len, size_t hash_len, char shared[65],
			 sk_git_entry_fn fn, void *ctx)
{
	shared[0] = '\0';
	if ((hash_len != 20 && hash_len != 32) || len < 12 + hash_len || memcmp(buf, "DIRC", 4))
		return -EINVAL;
	uint32_t version = be32(buf + 4), n = be32(buf + 8);
	if (version < 2 || version > 4)
		return -EINVAL;
	const unsigned char *p = buf + 12, *end = buf + len - hash_len;
	char path[PATH_MAX + 1];
	size_t plen = 0;
	int links = 0;
	for (uint32_t i = 0; i < n; i++) {
		size_t hdr = ENTRY_STAT + hash_len + 2;
		if ((size_t)(end - p) < hdr)
			return -EINVAL;
		uint32_t mode = be32(p + 24);
		unsigned flags = (unsigned)p[hdr - 2] << 8 | p[hdr - 1];
		if (flags & FLAG_EXTENDED) {
			if (version < 3 || (size_t)(end - p) < hdr + 2)
				return -EINVAL;
			hdr += 2;
		}
		const unsigned char *oid = p + ENTRY_STAT;
		if (!entry_name(p + hdr, end, version, hdr, flags, path, &plen, &p))
			return -EINVAL;
		int r = fn(ctx, path, plen, mode, oid);
		if (r < 0)
			return r;
		links += r;
	}
	return extensions(p, end, hash_len, shared) ? links : -EINVAL;
}

typedef struct gitlinks_ctx {
	sk_gitlink_fn fn;
	void *ctx;
} gitlinks_ctx;

static int only_gitlinks(void *ctx, const char *path, size_t len, uint32_t mode, const unsigned char *oid)
{
	(void)oid;
	gitlinks_ctx *g = ctx;
	if ((mode & MODE_TYPE) != MODE_GITLINK)
		return 0;
	int r = g->fn(g->ctx, path, len);
	return r < 0 ? r : 1;
}

int sk_git_index_gitlinks(const unsigned char *buf, size_t len, size_t hash_len, char shared[65],
			  sk_gitlink_fn fn, void *ctx)
{
	gitlinks_ctx g = { fn, ctx };
	return sk_git_index_entries(buf, len, hash_len, shared, only_gitlinks, &g);
}

/* Where a pack index (version 2) lists oid: its fan-out table bounds a
 * binary search of the sorted ids; with offset, the entry's offset in the
 * pack (4-byte offsets after the ids and CRCs; the top bit an index into
 * 8-byte ones), which needs those tables whole. */
bool sk_git_idx_find(const unsigned char *idx, size_t len, size_t hash_len, const unsigned char *oid,
		     uint64_t *offset)
{
	if (len < 8 + 256 * 4 || be32(idx) != IDX_MAGIC || be32(idx + 4) != 2)
		return false;
	const unsigned char *fan = idx + 8;
	uint32_t lo = oid[0] ? be32(fan + 4 * (oid[0] - 1)) : 0, hi = be32(fan + 4 * oid[0]);
	uint32_t total = be32(fan + 4 * 255);
	if (hi > total || lo > hi || (len - 8 - 256 * 4) / hash_len < total)
		return false;
	const unsigned char *ids = fan + 256 * 4;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = memcmp(ids + (size_t)mid * hash_len, oid, hash_len);
		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			if (!offset)
				return true;
			size_t tables = 8 + 256 * 4 + (size_t)total * (hash_len + 8);
			if (tables > len)
				return false;
			uint32_t o = be32(ids + (size_t)total * (hash_len + 4) + 4 * (size_t)mid);
			size_t big = tables + 8 * (size_t)(o & 0x7fffffffu);
			if (!(o & 0x80000000u))
				*offset = o;
			else if (big + 8 <= len)
				*offset = (uint64_t)be32(idx + big) << 32 | be32(idx + big + 4);
			else
				return false;
			return true;
		}
	}
	return false;
}

bool sk_git_idx_has(const unsigned char *idx, size_t len, size_t hash_len, const unsigned char *oid)
{
	return sk_git_idx_find(idx, len, hash_len, oid, NULL);
}

/* objects/XX/YYYY... of oid: 0, or -ENAMETOOLONG. */
int sk_git_loose_path(const char *objects, const unsigned char *oid, size_t hash_len, char *out, size_t cap)
{
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), oid, hash_len);
	int n = snprintf(out, cap, "%s/%.2s/%s", objects, hex, hex + 2);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
