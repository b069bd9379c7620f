/* RFC 6962 Merkle tree head, kept as a frontier: the roots of the perfect
 * subtrees that cover the leaves so far, largest first.  Adding a leaf
 * merges equal-sized subtrees, as a binary counter carries; the head folds
 * the frontier from the right, which is exactly RFC 6962's split at the
 * largest power of two below n. */
#include <sodium.h>
#include <string.h>

#include "internal.h"

static void node_hash(const unsigned char l[32], const unsigned char r[32], unsigned char out[32])
{
	sk_sha256_ctx st;
	const unsigned char one = 0x01;
	sk_sha256_init(&st);
	sk_sha256_update(&st, &one, 1);
	sk_sha256_update(&st, l, 32);
	sk_sha256_update(&st, r, 32);
	sk_sha256_final(&st, out);
}

void sk_merkle_init(sk_merkle *m) { memset(m, 0, sizeof(*m)); }

void sk_merkle_free(sk_merkle *m)
{
	free(m->frontier);
	free(m->sizes);
	sk_merkle_init(m);
}

static int push(sk_merkle *m, const unsigned char h[32], uint64_t size)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		unsigned char (*f)[32] = realloc(m->frontier, cap * 32);
		if (!f)
			return -ENOMEM;
		m->frontier = f;
		uint64_t *s = realloc(m->sizes, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		m->sizes = s;
		m->cap = cap;
	}
	memcpy(m->frontier[m->n], h, 32);
	m->sizes[m->n++] = size;
	return 0;
}

int sk_merkle_add(sk_merkle *m, const unsigned char data[32])
{
	unsigned char leaf[32];
	sk_sha256_ctx st;
	const unsigned char zero = 0x00;
	sk_sha256_init(&st);
	sk_sha256_update(&st, &zero, 1);
	sk_sha256_update(&st, data, 32);
	sk_sha256_final(&st, leaf);
	int r = push(m, leaf, 1);
	if (r < 0)
		return r;
	while (m->n >= 2 && m->sizes[m->n - 1] == m->sizes[m->n - 2]) {
		unsigned char merged[32];
		node_hash(m->frontier[m->n - 2], m->frontier[m->n - 1], merged);
		m->n--;
		memcpy(m->frontier[m->n - 1], merged, 32);
		m->sizes[m->n - 1] *= 2;
	}
	m->size++;
	return 0;
}

void sk_merkle_root(const sk_merkle *m, unsigned char root[32])
{
	if (m->n == 0) {
		sk_sha256((const unsigned char *)"", 0, root);
		return;
	}
	memcpy(root, m->frontier[m->n - 1], 32);
	for (size_t i = m->n - 1; i-- > 0;)
		node_hash(m->frontier[i], root, root);
}

json_t *sk_merkle_frontier_json(const sk_merkle *m)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < m->n; i++) {
		char hex[65];
		sk_hex(m->frontier[i], 32, hex);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

int sk_merkle_from_frontier(sk_merkle *m, uint64_t size, const json_t *frontier)
{
	sk_merkle_free(m);
	/* The subtree sizes are the set bits of size, largest first. */
	size_t idx = 0;
	for (int bit = 63; bit >= 0; bit--) {
		if (!(size & (1ULL << bit)))
			continue;
		const char *hex = json_string_value(json_array_get(frontier, idx++));
		unsigned char h[32];
		if (!hex || sk_unhex(hex, h, 32) < 0 || push(m, h, 1ULL << bit) < 0) {
			sk_merkle_free(m);
			return -EINVAL;
		}
	}
	if (idx != json_array_size(frontier)) {
		sk_merkle_free(m);
		return -EINVAL;
	}
	m->size = size;
	return 0;
}
