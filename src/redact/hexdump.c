/* Literal forms in a hex dump of the output.
 *
 * `xxd`, `hexdump -C` and `od -tx1` print a few bytes per line, in hex
 * and (xxd, hexdump) again in an ASCII column, after an offset.  Neither
 * the raw value nor its hex form is then in the output in one piece, yet
 * both columns read back to it.  So each complete line is parsed as a dump
 * line when it is one; the bytes of consecutive dump lines are decoded
 * into a view, and the view is scanned for the literal forms like the
 * stream (litmatch.c).  A match is redacted, line by line, over its hex
 * digits (od -c: its cells) and its ASCII column.
 *
 * A line is a dump line only when it parses whole: an offset, hex tokens
 * of whole bytes, and (xxd, hexdump -C) an ASCII column that shows exactly
 * those bytes (printable ones as themselves, others as '.').  So text
 * is not mistaken for a dump, and the columns cannot be misread.  Read:
 *   xxd [-u] [-g N] [-c N]  00000000: 7878 7878 736b 2d63  xxxxsk-c
 *   hexdump -C, hd          00000000  78 78 73 6b  2d 63  |xxsk-c|
 *   od -tx1 [-An]           0000000 78 78 73 6b 2d 63   (or no offset)
 *   od -c                   0000000   x   x   s   k  \n 303
 *   od -x, hexdump          0000000 7878 6b73 632d   (little-endian words)
 *   xxd -i                    0x78, 0x78, 0x73, 0x6b,
 * Not read: xxd -e (docs/redact.md).
 *
 * Cost: in the pass over the newlines (lines.c), a line whose offset
 * does not fit a dump costs a few comparisons (rx_hexdump_line); the
 * others are parsed.
 *
 * Held back (rx_hexdump_hold): while a run of dump lines is open, the
 * stream from the hex digits of the first decoded byte that may begin a
 * form; and a line not yet complete that may become a dump line. */
#include <string.h>

#include "internal.h"

#define LINE_BYTES_MIN 4    /* fewer (but the last line of a run): not read as a dump */
#define LINE_BYTES_MAX 64   /* xxd -c 64 at most */
#define NONE UINT64_MAX

static int8_t hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return (int8_t)(c - '0');
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? (int8_t)(c - 'a' + 10) : -1;
}

static bool is_hex(uint8_t c)
{
	return hex_value(c) >= 0;
}

/* One parsed dump line: its bytes and where they are printed. */
typedef struct dump_line {
	unsigned n;
	uint8_t byte[LINE_BYTES_MAX];
	uint16_t hex[LINE_BYTES_MAX];   /* offset in the line of each byte's token (hex digits, od -c cell) */
	uint8_t width[LINE_BYTES_MAX];  /* ... and its length */
	uint16_t asc;                   /* offset of the ASCII column, or UINT16_MAX */
} dump_line;

static void add_byte(dump_line *d, uint8_t b, size_t at, unsigned width)
{
	d->hex[d->n] = (uint16_t)at;
	d->width[d->n] = (uint8_t)width;
	d->byte[d->n++] = b;
}

/* Hex digits from i on, in whole bytes; a token is at most 16 bytes
 * (xxd -g 16).  Returns the offset after them, or 0 on anything else. */
static size_t hex_token(const uint8_t *l, size_t len, size_t i, dump_line *d)
{
	size_t j = i;
	while (j < len && is_hex(l[j]))
		j++;
	if (j == i || (j - i) % 2 || j - i > 32 || d->n + (j - i) / 2 > LINE_BYTES_MAX)
		return 0;
	for (size_t k = i; k < j; k += 2)
		add_byte(d, (uint8_t)(hex_value(l[k]) << 4 | hex_value(l[k + 1])), k, 2);
	return j;
}

/* The ASCII column at l[at..at+n) shows exactly the line's bytes. */
static bool ascii_matches(const uint8_t *l, size_t at, const dump_line *d)
{
	for (unsigned k = 0; k < d->n; k++) {
		uint8_t b = d->byte[k], shown = b >= 0x20 && b < 0x7F ? b : '.';
		if (l[at + k] != shown)
			return false;
	}
	return true;
}

static size_t offset_digits(const uint8_t *l, size_t len)
{
	size_t i = 0;
	while (i < len && is_hex(l[i]))
		i++;
	return i;
}

/* xxd: "OFFSET: " tokens separated by one space, padding, two spaces, ASCII. */
static bool parse_xxd(const uint8_t *l, size_t len, dump_line *d)
{
	size_t i = offset_digits(l, len);
	if (i < 8 || i + 2 > len || l[i] != ':' || l[i + 1] != ' ')
		return false;
	for (i += 2;;) {
		if (!(i = hex_token(l, len, i, d)))
			return false;
		if (i + 1 < len && l[i] == ' ' && is_hex(l[i + 1]))
			i++;
		else
			break;
	}
	if (len < d->n || len - d->n < i + 2)
		return false;
	size_t at = len - d->n;
	for (size_t k = i; k < at; k++)
		if (l[k] != ' ')
			return false;
	d->asc = (uint16_t)at;
	return ascii_matches(l, at, d);
}

/* hexdump -C: "OFFSET  " bytes separated by one or two spaces, "  |ASCII|". */
static bool parse_hexdump(const uint8_t *l, size_t len, dump_line *d)
{
	size_t i = offset_digits(l, len);
	if (i < 8 || i + 2 > len || l[i] != ' ' || l[i + 1] != ' ' || len < 2 || l[len - 1] != '|')
		return false;
	for (i += 2; i < len && is_hex(l[i]);) {
		size_t j = hex_token(l, len, i, d);
		if (j != i + 2)
			return false;
		for (i = j; i < len && l[i] == ' ' && i - j < 2;)
			i++;
	}
	while (i < len && l[i] == ' ')
		i++;
	if (i >= len || l[i] != '|' || len - i - 2 != d->n)
		return false;
	d->asc = (uint16_t)(i + 1);
	return ascii_matches(l, i + 1, d);
}

/* The last two bytes added change places: a little-endian word. */
static void swap_last_two(dump_line *d)
{
	unsigned a = d->n - 2, b = d->n - 1;
	uint8_t byte = d->byte[a];
	uint16_t hex = d->hex[a];
	d->byte[a] = d->byte[b], d->hex[a] = d->hex[b];
	d->byte[b] = byte, d->hex[b] = hex;
}

/* od -tx1: an offset (or none, -An), then " HH" to the end; od -x and
 * hexdump's default: " HHHH", 16-bit little-endian words. */
static bool parse_od(const uint8_t *l, size_t len, dump_line *d)
{
	while (len > 0 && l[len - 1] == ' ')   /* hexdump pads its last line */
		len--;
	size_t i = offset_digits(l, len);
	if ((i != 0 && i < 7) || i == len)
		return false;
	size_t width = i + 3 < len && l[i + 3] != ' ' ? 4 : 2;
	while (i < len) {
		if (l[i] != ' ' || hex_token(l, len, i + 1, d) != i + 1 + width)
			return false;
		if (width == 4)
			swap_last_two(d);
		i += 1 + width;
	}
	d->asc = UINT16_MAX;
	return true;
}

/* xxd -i: "  0x41, 0x50, 0x49," (a C array's lines). */
static bool parse_xxd_i(const uint8_t *l, size_t len, dump_line *d)
{
	if (len < 6 || l[0] != ' ' || l[1] != ' ')
		return false;
	for (size_t i = 2; i < len;) {
		if (i + 4 > len || l[i] != '0' || l[i + 1] != 'x' || hex_token(l, len, i + 2, d) != i + 4)
			return false;
		d->width[d->n - 1] = 4;   /* 0xHH */
		d->hex[d->n - 1] = (uint16_t)i;
		i += 4;
		if (i < len && l[i] == ',')
			i++;
		else if (i < len)
			return false;
		if (i < len && l[i] == ' ')
			i++;
	}
	d->asc = UINT16_MAX;
	return true;
}

/* od -c: an octal offset, then cells of 4 characters, right-aligned: a
 * character, a backslash escape, or 3 octal digits. */
static bool parse_od_c(const uint8_t *l, size_t len, dump_line *d)
{
	static const char esc_from[] = "0abfnrtv\\", esc_to[] = "\0\a\b\f\n\r\t\v\\";
	size_t i = 0;
	while (i < len && l[i] >= '0' && l[i] <= '7')
		i++;
	if (i < 7 || (len - i) % 4 || len == i || (len - i) / 4 > LINE_BYTES_MAX)
		return false;
	for (; i < len; i += 4) {
		const uint8_t *c = l + i;
		if (c[0] != ' ')
			return false;
		if (c[1] == ' ' && c[2] == ' ') {   /* "   x", or "    " for a space */
			add_byte(d, c[3], i + 3, 1);
		} else if (c[1] == ' ' && c[2] == '\\') {
			const char *e = memchr(esc_from, c[3], sizeof(esc_from) - 1);
			if (!e)
				return false;
			add_byte(d, (uint8_t)esc_to[e - esc_from], i + 2, 2);
		} else if (c[1] >= '0' && c[1] <= '3' && c[2] >= '0' && c[2] <= '7' && c[3] >= '0' && c[3] <= '7') {
			add_byte(d, (uint8_t)((c[1] - '0') << 6 | (c[2] - '0') << 3 | (c[3] - '0')), i + 1, 3);
		} else {
			return false;
		}
	}
	d->asc = UINT16_MAX;
	return true;
}

static bool parse_dump_line(const uint8_t *l, size_t len, dump_line *d)
{
	if (len > 0 && l[len - 1] == '\r')
		len--;
	if (len > UINT16_MAX)
		return false;
	d->n = 0;
	if (parse_xxd(l, len, d))
		return true;
	d->n = 0;
	if (parse_hexdump(l, len, d))
		return true;
	d->n = 0;
	if (parse_od(l, len, d) && d->n > 0)
		return true;
	d->n = 0;
	if (parse_xxd_i(l, len, d))
		return true;
	d->n = 0;
	return parse_od_c(l, len, d);
}

/* ---- the view of the decoded bytes ---- */

void rx_hexdump_init(rx_hexdump *hd)
{
	*hd = (rx_hexdump){ .line_start = 0 };
}

void rx_hexdump_free(rx_hexdump *hd)
{
	rx_litmatch_free(&hd->lm);
	free(hd->bytes);
	free(hd->at);
	rx_hexdump_init(hd);
}

static int reserve(rx_hexdump *hd, size_t more)
{
	size_t have = (size_t)(hd->end - hd->pos);
	if (have + more <= hd->cap)
		return 0;
	size_t cap = (have + more) * 2;
	uint8_t *b = realloc(hd->bytes, cap);
	if (b)
		hd->bytes = b;
	rx_dump_place *at = realloc(hd->at, cap * sizeof(*at));
	if (at)
		hd->at = at;
	if (!b || !at)
		return -ENOMEM;
	hd->cap = cap;
	return 0;
}

static int append_line(rx_hexdump *hd, const dump_line *d, uint64_t line)
{
	int e = reserve(hd, d->n);
	if (e < 0)
		return e;
	for (unsigned k = 0; k < d->n; k++) {
		size_t x = (size_t)(hd->end++ - hd->pos);
		hd->bytes[x] = d->byte[k];
		hd->at[x] = (rx_dump_place){
			.token = line + d->hex[k],
			.asc = d->asc == UINT16_MAX ? NONE : line + d->asc + k,
			.width = d->width[k],
			.first = k == 0,
		};
	}
	return 0;
}

struct report {
	const rx_hexdump *hd;
	rx_lit_match_fn fn;
	void *ctx;
};

/* A match of decoded bytes [start, end): its hex digits and its ASCII
 * characters, one range per line for each. */
static int on_view_match(void *ctx, uint32_t name, uint64_t start, uint64_t end)
{
	struct report *r = ctx;
	const rx_hexdump *hd = r->hd;
	for (uint64_t k = start; k < end;) {
		/* the bytes of one line: from the first token to the end of the
		 * last (od -x prints a word's bytes in the other order) */
		const rx_dump_place *first = &hd->at[k - hd->pos], *last = first;
		uint64_t lo = first->token, hi = first->token + first->width;
		for (; k + 1 < end && !hd->at[k + 1 - hd->pos].first; k++) {
			last = &hd->at[k + 1 - hd->pos];
			lo = last->token < lo ? last->token : lo;
			hi = last->token + last->width > hi ? last->token + last->width : hi;
		}
		int e = r->fn(r->ctx, name, lo, hi);
		if (e == 0 && first->asc != NONE)
			e = r->fn(r->ctx, name, first->asc, last->asc + 1);
		if (e < 0)
			return e;
		k++;
	}
	return 0;
}

static int scan_view(rx_hexdump *hd, const rx_litset *ls, bool final, rx_lit_match_fn fn, void *ctx)
{
	struct report r = { .hd = hd, .fn = fn, .ctx = ctx };
	return rx_litmatch_scan(&hd->lm, ls, hd->bytes, hd->pos, hd->end, final, on_view_match, &r);
}

/* The run of dump lines ended: what the view holds is scanned as final. */
static int end_run(rx_hexdump *hd, const rx_litset *ls, rx_lit_match_fn fn, void *ctx)
{
	int e = scan_view(hd, ls, true, fn, ctx);
	hd->in_run = false;
	hd->end = (hd->end + 7) & ~(uint64_t)7;   /* the probes sample multiples of 8 */
	hd->pos = hd->end;
	hd->lm.n = 0;
	hd->lm.next = hd->end;
	return e;
}

/* Keep what the scan and rx_hexdump_hold still read. */
static void trim(rx_hexdump *hd, const rx_litset *ls)
{
	uint64_t longest = rx_litset_max_len(ls) + 16;
	uint64_t keep = hd->end > longest ? hd->end - longest : 0;
	uint64_t waiting = rx_litmatch_waiting(&hd->lm);
	if (waiting < keep)
		keep = waiting;
	if (hd->lm.next < keep)
		keep = hd->lm.next;
	if (keep <= hd->pos)
		return;
	size_t drop = (size_t)(keep - hd->pos), left = (size_t)(hd->end - keep);
	memmove(hd->bytes, hd->bytes + drop, left);
	memmove(hd->at, hd->at + drop, left * sizeof(*hd->at));
	hd->pos = keep;
}

static int take_line(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		     uint64_t from, uint64_t to, rx_lit_match_fn fn, void *ctx)
{
	dump_line d;
	const uint8_t *l = buf + (from - buf_pos);
	bool dump = parse_dump_line(l, (size_t)(to - from), &d) && (d.n >= LINE_BYTES_MIN || hd->in_run);
	if (!dump)
		return hd->in_run ? end_run(hd, ls, fn, ctx) : 0;
	hd->in_run = true;
	int e = append_line(hd, &d, from);
	/* a short line ends a run (the last line of a dump) */
	if (e == 0 && d.n < LINE_BYTES_MIN)
		e = end_run(hd, ls, fn, ctx);
	return e;
}

/* Could the open line l[0..n) still become a dump line: does its
 * beginning fit one? */
static bool may_become_dump(const uint8_t *l, size_t n)
{
	size_t h = offset_digits(l, n);
	if (h == n || (h >= 8 && (l[h] == ':' || l[h] == ' ')))   /* xxd, hexdump -C */
		return true;
	size_t o = 0;
	while (o < n && l[o] >= '0' && l[o] <= '7')
		o++;
	if ((o == 7 || h == 7) && l[7] == ' ')   /* od, hexdump's default */
		return true;
	if (l[0] != ' ')
		return false;
	static const char xxd_i[] = "  0x";   /* xxd -i */
	if (!memcmp(l, xxd_i, n < 4 ? n : 4))
		return true;
	for (size_t i = 0; i < n && i < 3 * LINE_BYTES_MAX; i++)   /* od -An: " HH HH" */
		if (i % 3 == 0 ? l[i] != ' ' : !is_hex(l[i]))
			return false;
	return true;
}

/* The line from hd->line_start is complete at `to` (its newline, or the
 * end of the stream). */
static int complete_line(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
			 uint64_t to, rx_lit_match_fn fn, void *ctx)
{
	uint64_t from = hd->line_start;
	int e = 0;
	if (hd->line_cut)
		e = hd->in_run ? end_run(hd, ls, fn, ctx) : 0;
	else if (hd->in_run || rx_hexdump_may_begin(buf + (from - buf_pos), to - from))
		e = take_line(hd, ls, buf, buf_pos, from, to, fn, ctx);
	hd->line_start = to + 1;
	hd->line_cut = false;
	return e;
}

int rx_hexdump_read_line(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
			 uint64_t nl, rx_lit_match_fn fn, void *ctx)
{
	if (hd->line_start < buf_pos) {
		/* The stream let the line's beginning go: it could not begin a
		 * dump line (rx_hexdump_hold), or it is longer than any. */
		hd->line_start = buf_pos;
		hd->line_cut = true;
	}
	return complete_line(hd, ls, buf, buf_pos, nl, fn, ctx);
}

int rx_hexdump_settle(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		      uint64_t end, bool final, rx_lit_match_fn fn, void *ctx)
{
	if (hd->line_start < buf_pos) {
		hd->line_start = buf_pos;
		hd->line_cut = true;
	}
	int e = 0;
	if (final && hd->line_start < end)   /* the last line, without its newline */
		e = complete_line(hd, ls, buf, buf_pos, end, fn, ctx);
	if (e == 0 && hd->in_run)
		e = final ? end_run(hd, ls, fn, ctx) : scan_view(hd, ls, false, fn, ctx);
	if (e == 0 && hd->in_run)
		trim(hd, ls);
	return e;
}

uint64_t rx_hexdump_hold(const rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf,
			 uint64_t buf_pos, uint64_t end)
{
	uint64_t first = NONE;
	/* A line still open that may become a dump line (its beginning is
	 * still here: rx_hexdump_settle marked it cut otherwise); or lines the
	 * pass over the newlines has not come to: it waits at a joined break
	 * for the bytes after it (fewer than 16), and those may begin a dump. */
	if (hd->line_start >= buf_pos && hd->line_start < end) {
		const uint8_t *open = buf + (hd->line_start - buf_pos);
		size_t n = (size_t)(end - hd->line_start);
		if (memchr(open, '\n', n) || (!hd->line_cut && (hd->in_run || may_become_dump(open, n))))
			first = hd->line_start;
	}
	if (!hd->in_run)
		return first;
	uint64_t v = rx_litmatch_waiting(&hd->lm);
	uint64_t longest = rx_litset_max_len(ls) + 16;
	uint64_t q = hd->end > longest ? hd->end - longest : 0;
	for (q = q > hd->pos ? q : hd->pos; q < hd->end && q < v; q++)
		if (rx_litset_live(ls, hd->bytes + (q - hd->pos), (size_t)(hd->end - q), q, hd->lm.next))
			v = q;
	/* od -x prints the byte after v first when v begins a word */
	for (uint64_t k = v; k < hd->end && k < v + 2 && (k == v || !hd->at[k - hd->pos].first); k++)
		if (hd->at[k - hd->pos].token < first)
			first = hd->at[k - hd->pos].token;
	return first;
}

size_t rx_hexdump_span(size_t len)
{
	/* a line of n >= LINE_BYTES_MIN bytes is at most 4n + 16 long (od:
	 * 3n + 7; hexdump -C: 4n + 13; xxd: 3.5n + 12 for the offset) */
	return 8 * len + 2 * (4 * LINE_BYTES_MAX + 16);
}
