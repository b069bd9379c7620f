/* libFuzzer target: git's object store as the history walk reads it
 * (src/cli/git_objects.c) - the agent writes the repository, and stockade
 * reads it on the host, outside the sandbox.  The first byte picks what
 * the rest is: a loose object's deflated bytes, a delta applied to a
 * fixed base, or a pack whose index (made here) lists two objects at
 * offsets the input names, read with their delta chains.  Any crash,
 * leak or UB (under ASan/UBSan) is a finding, and so is an object longer
 * than its bound or a delta result of another length than it declares.
 * fuzz-parts: util */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/cli/git_index.c"
#include "../../src/cli/git_objects.c"

static void check(int e, unsigned char *data, size_t len)
{
	if (e == 0 && len > SK_GIT_OBJECT_MAX)
		abort();
	if (e == 0)
		free(data);
}

/* A v2 index of two 20-byte ids (0x01..., 0x02...) at off1 and off2. */
static void make_idx(unsigned char *idx, uint32_t off1, uint32_t off2)
{
	memset(idx, 0, 8 + 256 * 4 + 2 * (20 + 8));
	memcpy(idx, "\377tOc\0\0\0\2", 8);
	unsigned char *fan = idx + 8;
	for (int i = 0; i < 256; i++) {
		uint32_t c = i >= 2 ? 2 : i >= 1 ? 1 : 0;
		fan[4 * i + 3] = (unsigned char)c;
	}
	unsigned char *ids = fan + 256 * 4;
	memset(ids, 1, 20);
	memset(ids + 20, 2, 20);
	unsigned char *offs = ids + 2 * 20 + 2 * 4;
	for (int k = 0; k < 4; k++) {
		offs[k] = (unsigned char)(off1 >> (24 - 8 * k));
		offs[4 + k] = (unsigned char)(off2 >> (24 - 8 * k));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int type;
	unsigned char *out = NULL;
	size_t len = 0;
	const uint8_t mode = data[0] % 4, *p = data + 1;
	size_t n = size - 1;
	if (mode == 0) {
		check(parse_loose(p, n, &type, &out, &len), out, len);
	} else if (mode == 1) {
		unsigned char base[300];
		for (size_t i = 0; i < sizeof(base); i++)
			base[i] = (unsigned char)(i * 7);
		out = apply_delta(base, sizeof(base), p, n, &len);
		if (out && len > SK_GIT_OBJECT_MAX)
			abort();
		free(out);
	} else if (mode == 3) {
		/* the input as a pack index: the ids it lists, each touched */
		unsigned char *idx = malloc(n ? n : 1);
		if (!idx)
			return 0;
		memcpy(idx, p, n);
		sk_git_odb db = { .objects = "/nonexistent", .hash_len = 20, .n_packs = 1 };
		db.packs[0] = (pack){ .idx = idx, .idx_len = n };
		const unsigned char *oids, *sum;
		size_t count;
		unsigned x = 0;
		if (sk_git_odb_pack_ids(&db, 0, &oids, &count, &sum) == 0)
			for (size_t i = 0; i < count * 20 + 40; i++)
				x += i < count * 20 ? oids[i] : sum[i - count * 20];
		free(idx);
		return (int)(x & 0);
	} else if (n >= 2) {
		unsigned char idx[8 + 256 * 4 + 2 * (20 + 8)];
		unsigned char *bytes = malloc(12 + n - 2);
		if (!bytes)
			return 0;
		memcpy(bytes, "PACK\0\0\0\2\0\0\0\2", 12);
		memcpy(bytes + 12, p + 2, n - 2);
		make_idx(idx, 12, 12 + p[0] * 256u + p[1]);
		sk_git_odb db = { .objects = "/nonexistent", .hash_len = 20, .n_packs = 1 };
		db.packs[0] = (pack){ .idx = idx, .idx_len = sizeof(idx), .data = bytes, .data_len = 12 + n - 2 };
		unsigned char oid[32];
		for (int k = 1; k <= 2; k++) {
			memset(oid, k, sizeof(oid));
			out = NULL;
			check(sk_git_odb_read(&db, oid, &type, &out, &len), out, len);
		}
		free(bytes);
	}
	return 0;
}
