/* The de-wrapped view of a stream.
 *
 * Tools wrap encodings into lines: base64(1) and basenc at 76 columns,
 * openssl and PEM at 64, xxd -p at 60.  A literal's base64 or hex form
 * that crosses such a break is not in the stream in one piece, yet it
 * decodes across the break.  The view joins those lines again.
 *
 * A break (`\n` or `\r\n`) is joined when at least WRAP_MIN encoding
 * characters ([A-Za-z0-9+/=_-]) stand right before it and one right after
 * it.  A run of encoding characters and joined breaks enters the view at
 * its first joined break, with up to max_len - 1 characters from before
 * it, and leaves it at its first other byte.  The view holds the run with
 * the breaks removed; it is scanned for the literal forms like the stream
 * (litmatch.c), and a match that crosses a removed break is reported by
 * its stream range, breaks included.  The stream redacts it like any
 * other match.
 *
 * Why WRAP_MIN: the lines of a wrapped encoding are full lines of it.  A
 * text line that ends in 16 encoding characters before a line that
 * begins with one costs a scan, nothing more.  Narrower wraps, and
 * continuation lines that are indented, are not joined (docs/redact.md).
 *
 * The stream holds back what a view match may still cover: the view's
 * live positions while a run is in it, and the live end of a line that
 * may be joined to the next (rx_dewrap_hold).  A match of L view bytes
 * spans at most rx_dewrap_span(L) stream bytes, which the stream's window
 * covers (build.c).  The view is bounded: it keeps max_len + 16 bytes
 * between feeds. */
#include <string.h>

#include "internal.h"

#define WRAP_MIN RX_WRAP_MIN

static const bool ENC[256] = {
	['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['0' ... '9'] = true,
	['+'] = true, ['/'] = true, ['='] = true, ['_'] = true, ['-'] = true,
};

typedef struct rx_seg {
	uint64_t view, stream;   /* view bytes from `view` on are stream bytes from `stream` on */
} rx_seg;

struct rx_dewrap {
	rx_litmatch lm;       /* the literal scan of the view */
	uint8_t *buf;         /* view bytes [pos, end) */
	size_t cap;
	uint64_t pos, end;
	rx_seg *seg;          /* the run's segments, oldest first */
	size_t n_seg, cap_seg;
	uint64_t src;         /* the stream bytes before src are taken in */
	bool in_run;
	unsigned line_run;    /* encoding characters ending the run's last line, at most WRAP_MIN */
};

/* The stream as the caller holds it: offsets [pos, end) in buf. */
typedef struct stream_bytes {
	const uint8_t *buf;
	uint64_t pos, end;
} stream_bytes;

static uint8_t byte_at(const stream_bytes *sb, uint64_t x)
{
	return sb->buf[x - sb->pos];
}

size_t rx_dewrap_span(size_t len)
{
	return len + 2 * ((len + WRAP_MIN - 1) / WRAP_MIN);
}

int rx_dewrap_new(rx_dewrap **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void rx_dewrap_free(rx_dewrap *dw)
{
	if (!dw)
		return;
	rx_litmatch_free(&dw->lm);
	free(dw->buf);
	free(dw->seg);
	free(dw);
}

/* ---- encoding characters, 16 at a time where SSE2 is there ---- */

#if defined(__SSE2__)
#include <emmintrin.h>

/* x <= max (unsigned, per byte): 0xFF or 0x00 per byte */
static __m128i at_most(__m128i x, char max)
{
	return _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(max)), x);
}

static __m128i is_byte(__m128i c, char b)
{
	return _mm_cmpeq_epi8(c, _mm_set1_epi8(b));
}

/* Bit i set: p[i] is an encoding character. */
static inline unsigned enc_bits16(const uint8_t *p)
{
	__m128i c = _mm_loadu_si128((const __m128i *)p);
	__m128i folded = _mm_or_si128(c, _mm_set1_epi8(0x20));   /* A-Z to a-z */
	__m128i letter = at_most(_mm_sub_epi8(folded, _mm_set1_epi8('a')), 25);
	__m128i digit = at_most(_mm_sub_epi8(c, _mm_set1_epi8('0')), 9);
	__m128i sym = _mm_or_si128(_mm_or_si128(is_byte(c, '+'), is_byte(c, '/')),
				   _mm_or_si128(is_byte(c, '='), _mm_or_si128(is_byte(c, '_'), is_byte(c, '-'))));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), sym));
}
#endif

/* Bit i set: p[i] is a newline (64 bytes). */
static inline uint64_t newline_bits64(const uint8_t *p)
{
#if defined(__SSE2__)
	uint64_t m = 0;
	for (int k = 0; k < 4; k++)
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
			     _mm_loadu_si128((const __m128i *)(p + 16 * k)), _mm_set1_epi8('\n'))) << (16 * k);
	return m;
#else
	uint64_t m = 0;
	for (int k = 0; k < 64; k++)
		m |= (uint64_t)(p[k] == '\n') << k;
	return m;
#endif
}

/* How many of p[0..n) are encoding characters, from the start. */
static size_t enc_span(const uint8_t *p, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		unsigned miss = ~enc_bits16(p + i) & 0xFFFF;
		if (miss)
			return i + (size_t)__builtin_ctz(miss);
	}
#endif
	while (i < n && ENC[p[i]])
		i++;
	return i;
}

/* How many of p[0..n) are encoding characters, from the end. */
static size_t enc_span_back(const uint8_t *p, size_t n)
{
	size_t k = 0;
#if defined(__SSE2__)
	for (; k + 16 <= n; k += 16) {
		unsigned miss = ~enc_bits16(p + n - k - 16) & 0xFFFF;
		if (miss)
			return k + (size_t)(__builtin_clz(miss) - 16);
	}
#endif
	while (k < n && ENC[p[n - k - 1]])
		k++;
	return k;
}

/* How many encoding characters end the stream just before x (at most max). */
static size_t enc_before(const stream_bytes *sb, uint64_t x, size_t max)
{
	size_t n = x - sb->pos < max ? (size_t)(x - sb->pos) : max;
	return enc_span_back(sb->buf + (x - sb->pos) - n, n);
}

/* Is there a joinable break at x (a byte that is not an encoding
 * character)?  1: yes, the run goes on at *after; 0: no; -1: the bytes
 * that tell have not arrived. */
static int break_at(const stream_bytes *sb, uint64_t x, bool final, uint64_t *after)
{
	uint64_t nl = x;
	if (byte_at(sb, x) == '\r') {
		if (x + 1 == sb->end)
			return final ? 0 : -1;
		nl = x + 1;
	}
	if (byte_at(sb, nl) != '\n')
		return 0;
	if (nl + 1 == sb->end)
		return final ? 0 : -1;
	*after = nl + 1;
	return ENC[byte_at(sb, nl + 1)];
}

/* ---- the view ---- */

static int view_append(rx_dewrap *dw, const uint8_t *p, size_t n)
{
	size_t have = (size_t)(dw->end - dw->pos);
	if (have + n > dw->cap) {
		size_t cap = (have + n) * 2;
		uint8_t *b = realloc(dw->buf, cap);
		if (!b)
			return -ENOMEM;
		dw->buf = b;
		dw->cap = cap;
	}
	memcpy(dw->buf + have, p, n);
	dw->end += n;
	return 0;
}

static int add_segment(rx_dewrap *dw, uint64_t stream)
{
	if (dw->n_seg == dw->cap_seg) {
		size_t cap = dw->cap_seg ? dw->cap_seg * 2 : 64;
		rx_seg *v = realloc(dw->seg, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		dw->seg = v;
		dw->cap_seg = cap;
	}
	dw->seg[dw->n_seg++] = (rx_seg){ .view = dw->end, .stream = stream };
	return 0;
}

/* The segment that holds view offset v (>= the first segment's start). */
static size_t segment_of(const rx_dewrap *dw, uint64_t v)
{
	size_t a = 0, b = dw->n_seg;   /* the last segment starting at or before v */
	while (b - a > 1) {
		size_t mid = a + (b - a) / 2;
		if (dw->seg[mid].view <= v)
			a = mid;
		else
			b = mid;
	}
	return a;
}

static uint64_t stream_offset(const rx_dewrap *dw, uint64_t v)
{
	const rx_seg *g = &dw->seg[segment_of(dw, v)];
	return g->stream + (v - g->view);
}

struct report {
	rx_dewrap *dw;
	rx_lit_match_fn fn;
	void *ctx;
};

/* A view match: the stream's own scan finds the ones inside one segment. */
static int on_view_match(void *ctx, uint32_t name, uint64_t start, uint64_t end)
{
	struct report *r = ctx;
	size_t first = segment_of(r->dw, start), last = segment_of(r->dw, end - 1);
	if (first == last)
		return 0;
	const rx_seg *a = &r->dw->seg[first], *b = &r->dw->seg[last];
	return r->fn(r->ctx, name, a->stream + (start - a->view), b->stream + (end - 1 - b->view) + 1);
}

static int scan_view(rx_dewrap *dw, const rx_litset *ls, bool final, rx_lit_match_fn fn, void *ctx)
{
	struct report r = { .dw = dw, .fn = fn, .ctx = ctx };
	return rx_litmatch_scan(&dw->lm, ls, dw->buf, dw->pos, dw->end, final, on_view_match, &r);
}

/* A run enters the view: the characters before its first joined break
 * (ending at stream offset brk), then the line after it (from after). */
static int start_run(rx_dewrap *dw, const rx_litset *ls, const stream_bytes *sb, uint64_t brk,
		     uint64_t after)
{
	size_t max_len = rx_litset_max_len(ls);
	size_t k = enc_before(sb, brk, max_len > 1 ? max_len - 1 : 1);
	uint64_t v = (dw->end + 7) & ~(uint64_t)7;   /* the probes sample multiples of 8 */
	dw->pos = dw->end = v;
	dw->n_seg = 0;
	rx_litmatch_restart(&dw->lm, v);
	int e = add_segment(dw, brk - k);
	if (e == 0)
		e = view_append(dw, sb->buf + (brk - k - sb->pos), k);
	if (e == 0)
		e = add_segment(dw, after);
	dw->in_run = true;
	dw->line_run = 0;
	dw->src = after;
	return e;
}

/* The run leaves the view: what it still holds is scanned as final. */
static int end_run(rx_dewrap *dw, const rx_litset *ls, rx_lit_match_fn fn, void *ctx)
{
	int e = scan_view(dw, ls, true, fn, ctx);
	dw->in_run = false;
	dw->pos = dw->end;
	dw->n_seg = 0;
	rx_litmatch_restart(&dw->lm, dw->end);
	return e;
}

/* Is the newline at n a joinable break?  1: yes (its break begins at
 * *brk); 0: no; -1: the byte after it has not arrived. */
static int join_at(const stream_bytes *sb, uint64_t n, bool final, uint64_t *brk)
{
	uint64_t b = n > sb->pos && byte_at(sb, n - 1) == '\r' ? n - 1 : n;
	if (b == sb->pos || !ENC[byte_at(sb, b - 1)] || enc_before(sb, b, WRAP_MIN) < WRAP_MIN)
		return 0;
	if (n + 1 == sb->end)
		return final ? 0 : -1;
	*brk = b;
	return ENC[byte_at(sb, n + 1)];
}

/* Outside a run: find the next joinable break, 64 bytes at a time (most
 * lines are text; a line costs a bit test).  false: waiting for bytes. */
static bool find_join(rx_dewrap *dw, const rx_litset *ls, const stream_bytes *sb, bool final, int *err)
{
	while (dw->src < sb->end) {
		uint64_t at = dw->src, left = sb->end - at;
		const uint8_t *p = sb->buf + (at - sb->pos);
		uint64_t lines;
		if (left >= 64) {
			lines = newline_bits64(p);
		} else {
			const uint8_t *nl = memchr(p, '\n', (size_t)left);
			lines = nl ? 1ULL << (nl - p) : 0;
			left = nl ? (uint64_t)(nl - p) + 1 : left;
		}
		for (; lines; lines &= lines - 1) {
			uint64_t n = at + (uint64_t)__builtin_ctzll(lines), brk = 0;
			int j = join_at(sb, n, final, &brk);
			if (j < 0) {
				dw->src = n;
				return false;
			}
			if (j > 0) {
				*err = start_run(dw, ls, sb, brk, n + 1);
				return *err == 0;
			}
		}
		dw->src = at + (left < 64 ? left : 64);
	}
	return true;
}

/* In a run: take its characters and joined breaks.  false: waiting. */
static bool take_run(rx_dewrap *dw, const rx_litset *ls, const stream_bytes *sb, bool final,
		     rx_lit_match_fn fn, void *ctx, int *err)
{
	while (dw->src < sb->end) {
		const uint8_t *p = sb->buf + (dw->src - sb->pos);
		size_t k = enc_span(p, (size_t)(sb->end - dw->src));
		if ((*err = view_append(dw, p, k)) < 0)
			return false;
		dw->line_run = dw->line_run + k < WRAP_MIN ? dw->line_run + (unsigned)k : WRAP_MIN;
		dw->src += k;
		if (dw->src == sb->end)
			return true;
		uint64_t after = 0;
		int j = dw->line_run >= WRAP_MIN ? break_at(sb, dw->src, final, &after) : 0;
		if (j < 0)
			return false;
		if (j == 0) {
			*err = end_run(dw, ls, fn, ctx);
			return *err == 0;
		}
		if ((*err = add_segment(dw, after)) < 0)
			return false;
		dw->line_run = 0;
		dw->src = after;
	}
	return true;
}

/* Keep what the scan and rx_dewrap_hold still read: from the oldest
 * waiting candidate or probe, and the last max_len + 16 bytes. */
static void trim(rx_dewrap *dw, const rx_litset *ls)
{
	uint64_t longest = rx_litset_max_len(ls) + 16;
	uint64_t keep = dw->end > longest ? dw->end - longest : 0;
	uint64_t oldest = rx_litmatch_oldest(&dw->lm);
	if (oldest < keep)
		keep = oldest;
	if (keep <= dw->pos)
		return;
	memmove(dw->buf, dw->buf + (keep - dw->pos), (size_t)(dw->end - keep));
	dw->pos = keep;
	size_t drop = segment_of(dw, keep);
	memmove(dw->seg, dw->seg + drop, (dw->n_seg - drop) * sizeof(*dw->seg));
	dw->n_seg -= drop;
}

int rx_dewrap_feed(rx_dewrap *dw, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		   uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	stream_bytes sb = { .buf = buf, .pos = buf_pos, .end = end };
	if (dw->src < buf_pos)   /* not reached: the stream keeps what was not taken in */
		dw->src = buf_pos;
	int e = 0;
	bool more = true;
	while (e == 0 && more && dw->src < end)
		more = dw->in_run ? take_run(dw, ls, &sb, final, fn, ctx, &e)
				  : find_join(dw, ls, &sb, final, &e);
	if (e == 0 && dw->in_run)
		e = final ? end_run(dw, ls, fn, ctx) : scan_view(dw, ls, false, fn, ctx);
	if (e == 0 && dw->in_run)
		trim(dw, ls);
	return e;
}

/* The first position in the view's last bytes where a form may still be
 * reported, or UINT64_MAX. */
static uint64_t view_live(const rx_dewrap *dw, const rx_litset *ls)
{
	uint64_t first = UINT64_MAX;
	for (size_t i = 0; i < dw->lm.n; i++)
		if (dw->lm.v[i].start < first)
			first = dw->lm.v[i].start;
	uint64_t longest = rx_litset_max_len(ls) + 16;
	uint64_t q = dw->end > longest ? dw->end - longest : 0;
	for (q = q > dw->pos ? q : dw->pos; q < dw->end && q < first; q++)
		if (rx_litset_live(ls, dw->buf + (q - dw->pos), (size_t)(dw->end - q), q, dw->lm.next))
			first = q;
	return first;
}

uint64_t rx_dewrap_hold(const rx_dewrap *dw, const rx_litset *ls, const uint8_t *buf,
			uint64_t buf_pos, uint64_t end)
{
	if (dw->in_run) {
		uint64_t v = view_live(dw, ls);
		return v == UINT64_MAX ? v : stream_offset(dw, v);
	}
	/* A line that may be joined to the next: its live end. */
	stream_bytes sb = { .buf = buf, .pos = buf_pos, .end = end };
	uint64_t e = end;
	if (e > buf_pos && byte_at(&sb, e - 1) == '\n')
		e--;
	if (e > buf_pos && byte_at(&sb, e - 1) == '\r')
		e--;
	if (e == end)
		return UINT64_MAX;   /* a line still open: the stream's own hold covers it */
	size_t k = enc_before(&sb, e, rx_litset_max_len(ls) + 16);
	if (k < WRAP_MIN)
		return UINT64_MAX;
	for (uint64_t q = e - k; q < e; q++)
		if (rx_litset_live(ls, buf + (q - buf_pos), (size_t)(e - q), q, UINT64_MAX))
			return q;
	return UINT64_MAX;
}
