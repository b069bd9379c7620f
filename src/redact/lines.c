/* One pass over the newlines of a stream's pending bytes, for the two
 * readers of the literal forms that work line by line: joined line breaks
 * (dewrap.c) and hex dumps (hexdump.c).
 *
 * The newlines are gathered 4 KiB at a time (a bit mask per 64 bytes, no
 * branch per line end); then each costs two cheap tests (the 16 bytes
 * before it for a break, the offset of the line it ends for a dump).  Most
 * lines of text go no further.  The candidates found around joined breaks
 * wait in their own list (ln->m). */
#include <string.h>

#include "internal.h"

/* Bit i set: p[i] is a newline (64 bytes). */
static inline uint64_t newline_bits64(const uint8_t *p)
{
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');
	uint64_t m0 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), nl));
	uint64_t m1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), nl));
	uint64_t m2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), nl));
	uint64_t m3 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), nl));
	return m0 | m1 << 16 | m2 << 32 | m3 << 48;
#else
	uint64_t m = 0;
	for (int k = 0; k < 64; k++)
		m |= (uint64_t)(p[k] == '\n') << k;
	return m;
#endif
}

/* The newline at n: to each reader that may want it.  1: the pass waits
 * here for more bytes. */
static int at_newline(rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		      uint64_t end, uint64_t n, bool final, rx_lit_match_fn fn, void *ctx)
{
	int e = rx_hexdump_line(&ln->hd, ls, buf, buf_pos, n, fn, ctx);
	if (e == 0 && rx_dewrap_may_join(buf, buf_pos, n))
		e = rx_dewrap_newline(&ln->dw, &ln->m, ls, buf, buf_pos, end, n, final, fn, ctx);
	return e;
}

/* The offsets of the newlines in p[0..n), n <= CHUNK, into pos.  Two
 * slots are written per 64 bytes whatever the count (a third newline is
 * rare in text): the loop has no branch to mispredict on line ends. */
#define CHUNK 4096u
static size_t gather_newlines(const uint8_t *p, size_t n, uint16_t *pos)
{
	size_t np = 0, i = 0;
	for (; i + 64 <= n; i += 64) {
		uint64_t m = newline_bits64(p + i), m1 = m & (m - 1), m2 = m1 & (m1 - 1);
		pos[np] = (uint16_t)(i + (unsigned)__builtin_ctzll(m | 1ULL << 63));
		pos[np + 1] = (uint16_t)(i + (unsigned)__builtin_ctzll(m1 | 1ULL << 63));
		np += (m != 0) + (m1 != 0);
		for (; m2; m2 &= m2 - 1)
			pos[np++] = (uint16_t)(i + (unsigned)__builtin_ctzll(m2));
	}
	for (; i < n; i++)
		if (p[i] == '\n')
			pos[np++] = (uint16_t)i;
	return np;
}

void rx_lines_init(rx_lines *ln)
{
	*ln = (rx_lines){ 0 };
	rx_dewrap_init(&ln->dw);
	rx_hexdump_init(&ln->hd);
}

void rx_lines_free(rx_lines *ln)
{
	rx_litmatch_free(&ln->m);
	rx_hexdump_free(&ln->hd);
}

int rx_lines_feed(rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		  uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	if (ln->src < buf_pos)   /* not reached: the stream keeps what was not looked at */
		ln->src = buf_pos;
	ln->dw.pending = UINT64_MAX;
	int e = rx_litmatch_recheck(&ln->m, ls, buf, buf_pos, end, final, fn, ctx);
	uint16_t pos[CHUNK + 2];
	while (e == 0 && ln->src < end) {
		uint64_t at = ln->src;
		size_t n = end - at < CHUNK ? (size_t)(end - at) : CHUNK;
		size_t np = gather_newlines(buf + (at - buf_pos), n, pos);
		for (size_t k = 0; k < np && e == 0; k++) {
			e = at_newline(ln, ls, buf, buf_pos, end, at + pos[k], final, fn, ctx);
			if (e != 0)
				ln->src = at + pos[k];   /* waiting (1), or failed */
		}
		if (e == 0)
			ln->src = at + n;
	}
	if (e < 0)
		return e;
	return rx_hexdump_settle(&ln->hd, ls, buf, buf_pos, end, final, fn, ctx);
}

uint64_t rx_lines_hold(const rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		       uint64_t end)
{
	uint64_t held = rx_litmatch_waiting(&ln->m);
	uint64_t h = rx_dewrap_hold(&ln->dw, ls, buf, buf_pos, end);
	held = h < held ? h : held;
	h = rx_hexdump_hold(&ln->hd, ls, buf, buf_pos, end);
	return h < held ? h : held;
}
