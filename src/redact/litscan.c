/* The literal forms, matched by sampling.
 *
 * Every occurrence of a form of length L >= 2K - 1 holds a K-byte window
 * that starts at a stream offset divisible by K (K = 8 for forms of 15
 * bytes or more, K = 4 for the shorter ones, which are at least 8 bytes).
 * So the stream is probed only at those offsets: the K bytes there are
 * looked up in a bitmap filter, and on a hit in a hash table of the
 * K-byte pieces of every form at each of its K first offsets; each entry
 * (form, offset) gives a candidate start that the stream verifies with
 * memcmp.  One load, one multiply and one bit test per 8 bytes: faster
 * than a 10,000-literal automaton, and nothing to compile, so a session's
 * literals cost no start-up time.
 *
 * rx_litset_live() answers "can these bytes still become (or be) a form
 * the scan has not reported?" without false negatives (exactly from 8
 * bytes on, by a sorted list of beginnings below), so that a stream holds back only what can
 * still become a literal. */
#include <string.h>

#include "internal.h"

#define HASH_MUL 0x9E3779B97F4A7C15ULL

typedef struct lit_entry {
	uint64_t key;     /* the piece */
	uint32_t form;
	uint32_t k;       /* offset of the piece in the form */
} lit_entry;

typedef struct lit_table {
	unsigned key_len;          /* 4 or 8; 0 = no form uses this table */
	unsigned word_bits;        /* the filter has 2^word_bits words */
	unsigned bucket_bits;      /* 2^bucket_bits buckets: the top bits of a key's hash */
	uint64_t *filter;
	lit_entry *entries;        /* by bucket, then by key */
	uint32_t *bucket_start;    /* a bucket's entries: [start[h], start[h + 1]) */
	size_t n_entries;
} lit_table;

struct rx_litset {
	size_t n;
	uint8_t *blob;             /* all forms, one after the other */
	size_t *off;
	uint32_t *len, *name;
	size_t max_len;
	unsigned stride;           /* 4 when the short table is used, else 8 */
	lit_table t4, t8;
	lit_table heads;           /* the first 8 bytes of every form */
	uint64_t *heads_be;        /* the first 8 bytes of every form, big-endian, sorted */
};

static uint64_t load_key(const uint8_t *p, unsigned key_len)
{
	if (key_len == 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		return w;
	}
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}


/* The table filter: a blocked Bloom filter, two bits in one 64-bit word
 * (one cache access per probe, about 0.5% false hits). */
static uint64_t filter_mask(uint64_t x)
{
	return 1ULL << (x & 63) | 1ULL << (x >> 6 & 63);
}

static bool filter_test(const uint64_t *f, unsigned word_bits, uint64_t key)
{
	uint64_t x = key * HASH_MUL;
	uint64_t m = filter_mask(x >> 20);
	return (f[x >> (64 - word_bits)] & m) == m;
}

static void filter_set(uint64_t *f, unsigned word_bits, uint64_t key)
{
	uint64_t x = key * HASH_MUL;
	f[x >> (64 - word_bits)] |= filter_mask(x >> 20);
}

/* 2^bits >= n * per, within [lo, hi]. */
static unsigned bits_for(size_t n, size_t per, unsigned lo, unsigned hi)
{
	unsigned b = lo;
	while (b < hi && ((size_t)1 << b) < n * per)
		b++;
	return b;
}

static unsigned table_key_len(uint32_t len)
{
	return len >= 15 ? 8 : 4;
}

/* Whether form f goes in a table of pieces of key_len bytes at offsets
 * 0..n_offsets-1 (heads: every form, one piece at offset 0). */
static bool in_table(const rx_litset *ls, size_t f, unsigned key_len, unsigned n_offsets)
{
	return n_offsets == 1 || table_key_len(ls->len[f]) == key_len;
}

/* LSD radix sort of the entries by key (the low key_len bytes). */
static int sort_entries(lit_entry *v, size_t n, unsigned key_len)
{
	lit_entry *tmp = malloc(n * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	for (unsigned byte = 0; byte < key_len; byte++) {
		size_t count[257] = { 0 };
		for (size_t i = 0; i < n; i++)
			count[(v[i].key >> (8 * byte) & 255) + 1]++;
		for (size_t c = 1; c < 257; c++)
			count[c] += count[c - 1];
		for (size_t i = 0; i < n; i++)
			tmp[count[v[i].key >> (8 * byte) & 255]++] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
	free(tmp);
	return 0;
}

static size_t bucket_of(const lit_table *t, uint64_t key)
{
	return (size_t)((key * HASH_MUL) >> (64 - t->bucket_bits));
}

/* A filter hit costs one look into a bucket of ~1 entry instead of a
 * binary search of the whole table (~17 dependent cache misses on 1,000
 * literals; the filter lets ~0.75% of the probes of tool output through).
 * A stable counting sort by bucket keeps each key's entries together and
 * in order. */
static int group_by_bucket(lit_table *t)
{
	size_t n = t->n_entries;
	t->bucket_bits = 1;
	while (t->bucket_bits < 30 && ((size_t)1 << t->bucket_bits) < n)
		t->bucket_bits++;
	size_t nb = (size_t)1 << t->bucket_bits;
	t->bucket_start = calloc(nb + 1, sizeof(*t->bucket_start));
	lit_entry *tmp = malloc(n * sizeof(*tmp));
	if (!t->bucket_start || !tmp) {
		free(tmp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		t->bucket_start[bucket_of(t, t->entries[i].key) + 1]++;
	for (size_t h = 1; h <= nb; h++)
		t->bucket_start[h] += t->bucket_start[h - 1];
	for (size_t i = 0; i < n; i++) {
		size_t h = bucket_of(t, t->entries[i].key);
		tmp[t->bucket_start[h]++] = t->entries[i];
	}
	for (size_t h = nb; h > 0; h--)   /* each start moved to its bucket's end */
		t->bucket_start[h] = t->bucket_start[h - 1];
	t->bucket_start[0] = 0;
	memcpy(t->entries, tmp, n * sizeof(*tmp));
	free(tmp);
	return 0;
}

static int table_build(lit_table *t, const rx_litset *ls, unsigned key_len, unsigned n_offsets)
{
	size_t n = 0;
	for (size_t f = 0; f < ls->n; f++)
		n += in_table(ls, f, key_len, n_offsets) ? n_offsets : 0;
	if (n == 0)
		return 0;
	t->key_len = key_len;
	t->n_entries = n;
	/* about one key per word (pieces repeat across the base64 variants), 256 KiB at most */
	t->word_bits = bits_for(n / 4 + 1, 1, 6, 15);
	t->filter = calloc((size_t)1 << t->word_bits, sizeof(uint64_t));
	t->entries = malloc(n * sizeof(*t->entries));
	if (!t->filter || !t->entries)
		return -ENOMEM;
	size_t at = 0;
	for (size_t f = 0; f < ls->n; f++) {
		if (!in_table(ls, f, key_len, n_offsets))
			continue;
		for (uint32_t k = 0; k < n_offsets; k++) {
			uint64_t key = load_key(ls->blob + ls->off[f] + k, key_len);
			t->entries[at++] = (lit_entry){ .key = key, .form = (uint32_t)f, .k = k };
			filter_set(t->filter, t->word_bits, key);
		}
	}
	int e = sort_entries(t->entries, n, key_len);
	return e < 0 ? e : group_by_bucket(t);
}

/* The entries of one key: [*first, return value). */
static size_t find_key(const lit_table *t, uint64_t key, size_t *first)
{
	size_t h = bucket_of(t, key), a = t->bucket_start[h], b = t->bucket_start[h + 1];
	while (a < b && t->entries[a].key != key)
		a++;
	*first = a;
	size_t e = a;
	while (e < b && t->entries[e].key == key)
		e++;
	return e;
}

static void table_free(lit_table *t)
{
	free(t->filter);
	free(t->entries);
	free(t->bucket_start);
}

/* The first m <= 8 bytes as a big-endian number (the rest zero): the
 * numeric order of such numbers is the order of the byte strings. */
static uint64_t head_be(const uint8_t *p, size_t m)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < m ? p[i] : 0);
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Does some form begin with p[0..m), m < 8? */
static bool some_head_begins(const rx_litset *ls, const uint8_t *p, size_t m)
{
	uint64_t lo = head_be(p, m), hi = lo | (~0ULL >> (8 * m));
	size_t a = 0, b = ls->n;   /* first head >= lo */
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (ls->heads_be[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < ls->n && ls->heads_be[a] <= hi;
}

int rx_litset_new(rx_litset **out, const uint8_t *const *forms, const uint32_t *lens,
		  const uint32_t *names, size_t n)
{
	rx_litset *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	size_t total = 0;
	for (size_t f = 0; f < n; f++)
		total += lens[f];
	ls->n = n;
	ls->blob = malloc(total + 1);
	ls->off = calloc(n + 1, sizeof(*ls->off));
	ls->len = calloc(n + 1, sizeof(*ls->len));
	ls->name = calloc(n + 1, sizeof(*ls->name));
	ls->heads_be = calloc(n + 1, sizeof(*ls->heads_be));
	int e = (!ls->blob || !ls->off || !ls->len || !ls->name || !ls->heads_be) ? -ENOMEM : 0;
	size_t at = 0;
	for (size_t f = 0; e == 0 && f < n; f++) {
		if (lens[f] < SK_REDACT_LITERAL_MIN) {
			e = -EINVAL;
			break;
		}
		memcpy(ls->blob + at, forms[f], lens[f]);
		ls->off[f] = at;
		ls->len[f] = lens[f];
		ls->name[f] = names[f];
		at += lens[f];
		if (lens[f] > ls->max_len)
			ls->max_len = lens[f];
		ls->heads_be[f] = head_be(forms[f], 8);
	}
	if (e == 0)
		sk_sort(ls->heads_be, n, sizeof(*ls->heads_be), cmp_u64);
	if (e == 0)
		e = table_build(&ls->t4, ls, 4, 4);
	if (e == 0)
		e = table_build(&ls->t8, ls, 8, 8);
	if (e == 0)
		e = table_build(&ls->heads, ls, 8, 1);
	if (e < 0) {
		rx_litset_free(ls);
		return e;
	}
	ls->stride = ls->t4.key_len ? 4 : 8;
	*out = ls;
	return 0;
}

void rx_litset_free(rx_litset *ls)
{
	if (!ls)
		return;
	table_free(&ls->t4);
	table_free(&ls->t8);
	table_free(&ls->heads);
	free(ls->blob);
	free(ls->off);
	free(ls->len);
	free(ls->name);
	free(ls->heads_be);
	free(ls);
}

size_t rx_litset_count(const rx_litset *ls)
{
	return ls ? ls->n : 0;
}

size_t rx_litset_max_len(const rx_litset *ls)
{
	return ls ? ls->max_len : 0;
}

const uint8_t *rx_litset_form(const rx_litset *ls, uint32_t f, uint32_t *len, uint32_t *name)
{
	*len = ls->len[f];
	*name = ls->name[f];
	return ls->blob + ls->off[f];
}

static void probe(const lit_table *t, uint64_t key, uint64_t pos, rx_lit_cand_fn fn, void *ctx)
{
	if (!filter_test(t->filter, t->word_bits, key))
		return;
	size_t j, end = find_key(t, key, &j);
	for (; j < end; j++)
		if (pos >= t->entries[j].k)
			fn(ctx, t->entries[j].form, pos - t->entries[j].k);
}

/* The fast case: only long forms, one probe per 8 bytes. */
static uint64_t scan8(const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos, uint64_t p,
		      uint64_t end, rx_lit_cand_fn fn, void *ctx)
{
	const lit_table *t = &ls->t8;
	const uint8_t *q = buf + (p - buf_pos);
	for (; p + 8 <= end; p += 8, q += 8) {
		uint64_t w;
		memcpy(&w, q, 8);
		if (__builtin_expect(filter_test(t->filter, t->word_bits, w), 0))
			probe(t, w, p, fn, ctx);
	}
	return p;
}

void rx_litset_scan(const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos, uint64_t end,
		    bool final, uint64_t *next, rx_lit_cand_fn fn, void *ctx)
{
	uint64_t p = *next;
	if (ls->stride == 8) {
		*next = scan8(ls, buf, buf_pos, p, end, fn, ctx);
		return;
	}
	for (;; p += 4) {
		bool long_too = ls->t8.key_len && p % 8 == 0;
		if (p + 4 > end || (long_too && p + 8 > end && !final))
			break;
		const uint8_t *q = buf + (p - buf_pos);
		probe(&ls->t4, load_key(q, 4), p, fn, ctx);
		if (long_too && p + 8 <= end)
			probe(&ls->t8, load_key(q, 8), p, fn, ctx);
	}
	*next = p;
}

/* Is the occurrence of form f at q (complete in the buffer) still to be
 * found by the scan?  Its piece is at the first multiple of K from q. */
static bool not_probed_yet(const rx_litset *ls, uint32_t f, uint64_t q, uint64_t next)
{
	uint64_t k = table_key_len(ls->len[f]);
	return (q + k - 1) / k * k >= next;
}

bool rx_litset_live(const rx_litset *ls, const uint8_t *p, size_t avail, uint64_t q,
		    uint64_t next)
{
	if (avail == 0)
		return false;
	if (avail < 8)
		return some_head_begins(ls, p, avail);
	const lit_table *t = &ls->heads;
	uint64_t key = load_key(p, 8);
	if (!filter_test(t->filter, t->word_bits, key))
		return false;
	size_t j, end = find_key(t, key, &j);
	for (; j < end; j++) {
		uint32_t f = t->entries[j].form, len = ls->len[f];
		const uint8_t *form = ls->blob + ls->off[f];
		if (avail < len ? !memcmp(p, form, avail)
				: not_probed_yet(ls, f, q, next) && !memcmp(p, form, len))
			return true;
	}
	return false;
}
