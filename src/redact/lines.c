/* One pass over the newlines of a stream's pending bytes, for the two
 * readers of the literal forms that work line by line: joined line breaks
 * (dewrap.c) and hex dumps (hexdump.c).
 *
 * 64 bytes at a time: a bit mask of the newlines, then per newline a table
 * lookup each (the byte before it for a break, the first byte of the line
 * it ends for a dump).  Most lines of text go no further. */
#include <string.h>

#include "internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
	rx_hexdump *hd = ln->hd;
	int e = 0;
	if (n >= hd->line_start &&
	    (hd->in_run || hd->line_cut || hd->line_start < buf_pos || rx_hexdump_may_begin(buf[hd->line_start - buf_pos])))
		e = rx_hexdump_line(hd, ls, buf, buf_pos, n, fn, ctx);
	else if (n >= hd->line_start)
		hd->line_start = n + 1;
	uint8_t last = n > buf_pos ? buf[n - 1 - buf_pos] : 0;
	if (e == 0 && (last == '\r' || rx_enc_char(last)))
		e = rx_dewrap_newline(ln->dw, ln->m, ls, buf, buf_pos, end, n, final, fn, ctx);
	return e;
}

int rx_lines_feed(rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		  uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	if (ln->src < buf_pos)   /* not reached: the stream keeps what was not looked at */
		ln->src = buf_pos;
	ln->dw->pending = UINT64_MAX;
	int e = 0;
	while (e == 0 && ln->src < end) {
		uint64_t at = ln->src, left = end - at;
		const uint8_t *p = buf + (at - buf_pos);
		uint64_t lines;
		if (left >= 64) {
			lines = newline_bits64(p);
			left = 64;
		} else {   /* the last bytes: one newline at a time */
			const uint8_t *nl = memchr(p, '\n', (size_t)left);
			if (!nl) {
				ln->src = end;
				break;
			}
			at += (uint64_t)(nl - p);
			lines = 1;
			left = 1;
		}
		for (; lines && e == 0; lines &= lines - 1) {
			uint64_t n = at + (uint64_t)__builtin_ctzll(lines);
			e = at_newline(ln, ls, buf, buf_pos, end, n, final, fn, ctx);
			if (e != 0)
				ln->src = n;   /* waiting (1), or failed */
		}
		if (e == 0)
			ln->src = at + left;
	}
	if (e < 0)
		return e;
	return rx_hexdump_settle(ln->hd, ls, buf, buf_pos, end, final, fn, ctx);
}
