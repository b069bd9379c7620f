/* Literal forms across the line breaks of a wrapped encoding.
 *
 * Tools wrap encodings into lines: base64(1) and basenc at 76 columns,
 * openssl and PEM at 64, xxd -p at 60.  A literal's base64 or hex form
 * that crosses such a break is not in the stream in one piece, yet it
 * decodes across the break.
 *
 * A break (`\n` or `\r\n`) is joined when at least WRAP_MIN encoding
 * characters ([A-Za-z0-9+/=_-]) stand right before it and one right after
 * it.  A form matches across joined breaks when its bytes are the stream's
 * with those breaks left out (rx_dewrap_verify); the match covers the
 * breaks inside it too, and begins with the form's first byte.
 *
 * Finding such a form costs no second scan of the output.  Take the part
 * of the form before its first break:
 *  - BEFORE + 1 (15) bytes or more: it holds a piece that the stream's own
 *    probes sample (litscan.c: a form's piece at one of its first 8
 *    offsets, at a stream offset divisible by 8; 4 for the short forms).
 *    The candidate's plain verification fails at the break, and the
 *    literal matcher then verifies across breaks (litmatch.c);
 *  - shorter: the form begins in the BEFORE bytes before the break.  For
 *    every joined break, those bytes and the AFTER bytes after it, the
 *    break left out, are probed like the stream (probe_around), and each
 *    form that begins before the break and crosses it is a candidate.
 * So each joined break costs a copy of 29 bytes and four probes; every
 * other line costs a table lookup in the pass over the newlines (lines.c).
 *
 * Why WRAP_MIN: the lines of a wrapped encoding are full lines of it.  A
 * text line that ends in 16 encoding characters before a line that begins
 * with one costs a few probes, nothing more.  Narrower wraps, and
 * continuation lines that are indented, are not joined (docs/redact.md).
 * WRAP_MIN > BEFORE + 1 also keeps two joined breaks more than AFTER
 * apart, and the BEFORE bytes of a break free of other breaks.
 *
 * What the stream holds back for this (rx_dewrap_hold): the candidates
 * still waiting for bytes (litmatch.c), and, while the bytes after a break
 * have not all come, the BEFORE bytes before it from the first one that
 * may begin a form.  A match of L form bytes spans at most
 * rx_dewrap_span(L) stream bytes, which the stream's window covers. */
#include <string.h>

#include "internal.h"

#define WRAP_MIN RX_WRAP_MIN
#define BEFORE 14   /* 2K - 2 for the sampling's K = 8 */
#define AFTER 15    /* enough for a piece at one of the first 8 offsets of a form that begins before the break */
_Static_assert(WRAP_MIN >= BEFORE + 2, "the bytes probed around a break hold no other break");

const bool rx_enc[256] = {
	['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['0' ... '9'] = true,
	['+'] = true, ['/'] = true, ['='] = true, ['_'] = true, ['-'] = true,
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

void rx_dewrap_init(rx_dewrap *dw)
{
	*dw = (rx_dewrap){ .pending = UINT64_MAX };
}

/* ---- encoding characters, 16 at a time where SSE2 is there ---- */

/* How many of p[0..n) are encoding characters, from the end. */
static size_t enc_span_back(const uint8_t *p, size_t n)
{
	size_t k = 0;
#if RX_HAVE_SSE2
	for (; k + 16 <= n; k += 16) {
		unsigned miss = ~rx_enc_bits16(p + n - k - 16) & 0xFFFF;
		if (miss)
			return k + (size_t)(__builtin_clz(miss) - 16);
	}
#endif
	while (k < n && rx_enc[p[n - k - 1]])
		k++;
	return k;
}

/* How many encoding characters end the stream just before x (at most max). */
static size_t enc_before(const stream_bytes *sb, uint64_t x, size_t max)
{
	size_t n = x - sb->pos < max ? (size_t)(x - sb->pos) : max;
	return enc_span_back(sb->buf + (x - sb->pos) - n, n);
}

/* Is the newline at n a joined break?  1: yes, the break begins at *brk;
 * 0: no; -1: the byte after it has not arrived. */
static int join_at(const stream_bytes *sb, uint64_t n, bool final, uint64_t *brk)
{
	uint64_t b = n > sb->pos && byte_at(sb, n - 1) == '\r' ? n - 1 : n;
	if (b == sb->pos || !rx_enc[byte_at(sb, b - 1)] || enc_before(sb, b, WRAP_MIN) < WRAP_MIN)
		return 0;
	if (n + 1 == sb->end)
		return final ? 0 : -1;
	*brk = b;
	return rx_enc[byte_at(sb, n + 1)];
}

int rx_dewrap_verify(const uint8_t *form, size_t len, const uint8_t *buf, uint64_t buf_pos,
		     uint64_t end, uint64_t start, uint64_t *match_end)
{
	stream_bytes sb = { .buf = buf, .pos = buf_pos, .end = end };
	uint64_t x = start;
	bool joined = false;
	for (size_t i = 0; i < len;) {
		if (x == end)
			return -1;
		uint8_t c = byte_at(&sb, x);
		if (c == form[i]) {
			i++, x++;
			continue;
		}
		uint64_t n = c == '\r' ? x + 1 : x, brk = 0;
		/* A form begins with its own first byte, never with a break: a
		 * candidate placed on one is the plain match after it, which is
		 * the caller's (else the whole input and its pieces could cover
		 * different bytes). */
		if ((c != '\n' && c != '\r') || i == 0)
			return 0;
		if (n == end)
			return -1;
		if (byte_at(&sb, n) != '\n')
			return 0;
		int j = join_at(&sb, n, false, &brk);
		if (j <= 0)
			return j;
		x = n + 1;
		joined = true;
	}
	if (!joined)
		return 0;   /* a plain match: the caller's */
	*match_end = x;
	return 1;
}

struct around {
	rx_litmatch *m;
	const rx_litset *ls;
	const stream_bytes *sb;
	uint64_t origin;   /* the stream offset of the first byte probed */
	rx_lit_match_fn fn;
	void *ctx;
	int error;
};

static void on_around(void *ctx, uint32_t f, uint64_t start)
{
	struct around *a = ctx;
	uint32_t len, name;
	rx_litset_form(a->ls, f, &len, &name);
	/* begins after the break, or ends before it: not this break's */
	if (start >= BEFORE || start + len <= BEFORE || a->error)
		return;
	const stream_bytes *sb = a->sb;
	a->error = rx_litmatch_offer(a->m, a->ls, sb->buf, sb->pos, sb->end, f, a->origin + start, a->fn,
				     a->ctx);
}

/* The BEFORE bytes before the break at brk and the (up to) AFTER bytes
 * from after, the break left out, into near; returns their number. */
static size_t bytes_around(const stream_bytes *sb, uint64_t brk, uint64_t after, uint8_t near[BEFORE + AFTER])
{
	size_t n = sb->end - after < AFTER ? (size_t)(sb->end - after) : AFTER;
	memcpy(near, sb->buf + (brk - BEFORE - sb->pos), BEFORE);
	memcpy(near + BEFORE, sb->buf + (after - sb->pos), n);
	return BEFORE + n;
}

/* The forms that begin in the BEFORE bytes before the break at brk and
 * cross it, probed in the bytes around it. */
static int probe_around(rx_litmatch *m, const rx_litset *ls, const stream_bytes *sb, uint64_t brk,
			uint64_t after, rx_lit_match_fn fn, void *ctx)
{
	uint8_t near[BEFORE + AFTER];
	size_t n = bytes_around(sb, brk, after, near);
	struct around a = { .m = m, .ls = ls, .sb = sb, .origin = brk - BEFORE, .fn = fn, .ctx = ctx };
	uint64_t next = 0;
	rx_litset_scan(ls, near, 0, n, true, &next, on_around, &a);
	return a.error;
}

int rx_dewrap_newline(rx_dewrap *dw, rx_litmatch *m, const rx_litset *ls, const uint8_t *buf,
		      uint64_t buf_pos, uint64_t end, uint64_t n, bool final, rx_lit_match_fn fn, void *ctx)
{
	stream_bytes sb = { .buf = buf, .pos = buf_pos, .end = end };
	uint64_t brk = 0;
	int j = join_at(&sb, n, final, &brk);
	if (j < 0 || (j > 0 && n + 1 + AFTER > end && !final)) {
		dw->pending = n;   /* the bytes after it are to come */
		return 1;
	}
	return j > 0 ? probe_around(m, ls, &sb, brk, n + 1, fn, ctx) : 0;
}

uint64_t rx_dewrap_hold(const rx_dewrap *dw, const rx_litset *ls, const uint8_t *buf,
			uint64_t buf_pos, uint64_t end)
{
	stream_bytes sb = { .buf = buf, .pos = buf_pos, .end = end };
	uint64_t brk, after;
	if (dw->pending != UINT64_MAX) {
		after = dw->pending + 1;
		brk = byte_at(&sb, dw->pending - 1) == '\r' ? dw->pending - 1 : dw->pending;
	} else if (end > buf_pos && byte_at(&sb, end - 1) == '\r') {   /* a \r\n may be coming */
		brk = end - 1;
		after = end;
	} else {
		return UINT64_MAX;
	}
	if (enc_before(&sb, brk, WRAP_MIN) < WRAP_MIN)
		return UINT64_MAX;
	uint8_t near[BEFORE + AFTER];
	size_t n = bytes_around(&sb, brk, after, near);
	for (size_t q = 0; q < BEFORE; q++)
		if (rx_litset_live(ls, near + q, n - q, q, 0))
			return brk - BEFORE + q;
	return UINT64_MAX;
}
