/* Internals of the redactor, shared by the files of src/redact/. */
#ifndef STOCKADE_REDACT_INTERNAL_H
#define STOCKADE_REDACT_INTERNAL_H

#include <hs/hs.h>
#include <pthread.h>

#include "stockade/redact.h"

/* The marker that splits a rule's regex into the context kept in the
 * output and the secret that is replaced: "password=(?#secret)\S{8,}".
 * It is a regex comment, so the whole regex stays valid. */
#define RX_SECRET_MARK "(?#secret)"

/* Default and largest hold-back window (bytes).  The SOM horizon used
 * (HS_MODE_SOM_HORIZON_SMALL) tracks starts 2^16 bytes back. */
#define RX_WINDOW_DEFAULT 8192
#define RX_WINDOW_MAX 60000
/* Engines may report a match one byte after its end (\b needs the next
 * byte); the window keeps a few more bytes than the longest match. */
#define RX_WINDOW_SLACK 8

enum rx_kind {
	RX_PATTERN = 0, /* a match is replaced */
	RX_BEGIN,       /* a match opens a block replaced up to its end rule */
	RX_END,         /* closes the open block of the same name */
	RX_KIND_MAX = RX_END,
};

typedef struct rx_rule {
	char *name;
	char *regex;      /* the whole regex */
	char *prefix;     /* the kept context before RX_SECRET_MARK, or NULL */
	enum rx_kind kind;
	char *origin;     /* file name, for messages */
	unsigned line;
	unsigned name_idx;        /* index among distinct rule names */
	unsigned max_width;       /* from hs_expression_info; UINT_MAX = unbounded */
} rx_rule;

typedef struct rx_ruleset {
	rx_rule *v;
	size_t n, cap;
	size_t window;    /* the largest "window N" directive, 0 = none */
} rx_ruleset;

/* rules.c */
int rx_rules_parse(rx_ruleset *rs, const char *text, size_t len, const char *origin,
		   sk_error *err);
int rx_rules_disable(rx_ruleset *rs, const char *const *names, sk_error *err);
int rx_rules_check_blocks(const rx_ruleset *rs, sk_error *err);
void rx_rules_free(rx_ruleset *rs);

/* encode.c: every form a literal is matched in.  Calls emit() for each
 * (possibly repeated) form; returns the first negative emit() result. */
typedef int (*rx_form_fn)(void *ctx, const uint8_t *form, size_t len);
int rx_literal_forms(const uint8_t *lit, size_t len, rx_form_fn emit, void *ctx);

/* literals.c: read access for the builder. */
typedef struct rx_literal {
	uint8_t *bytes;
	size_t len;
	unsigned label;   /* index into labels */
} rx_literal;
const rx_literal *rx_literals_items(const sk_redact_literals *l, size_t *n);
const char *const *rx_literals_labels(const sk_redact_literals *l, size_t *n);

/* litscan.c: the literal forms, matched by sampling aligned pieces. */
typedef struct rx_litset rx_litset;
/* A candidate: form f may start at stream offset `start` (to be verified). */
typedef void (*rx_lit_cand_fn)(void *ctx, uint32_t form, uint64_t start);
int rx_litset_new(rx_litset **out, const uint8_t *const *forms, const uint32_t *lens,
		  const uint32_t *names, size_t n);
void rx_litset_free(rx_litset *ls);
size_t rx_litset_count(const rx_litset *ls);
size_t rx_litset_max_len(const rx_litset *ls);
const uint8_t *rx_litset_form(const rx_litset *ls, uint32_t f, uint32_t *len, uint32_t *name);
/* Probe the sampled offsets from *next (advanced) while the bytes at them
 * are in buf (which holds the stream from buf_pos up to end); `final`
 * probes the last few offsets that only short forms can use. */
void rx_litset_scan(const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos, uint64_t end,
		    bool final, uint64_t *next, rx_lit_cand_fn fn, void *ctx);
/* false: the bytes p[0..avail) at stream offset q (the last bytes fed)
 * are neither the beginning of a form nor a whole form that the scan
 * (now at `next`) has still to report. */
bool rx_litset_live(const rx_litset *ls, const uint8_t *p, size_t avail, uint64_t q,
		    uint64_t next);

/* litmatch.c: the forms found in a stream's pending bytes, candidates
 * verified byte for byte, in one piece or across joined line breaks. */
typedef struct rx_waiting {
	uint64_t start;
	uint32_t form;
} rx_waiting;
typedef struct rx_litmatch {
	uint64_t next;        /* the next sampled offset to probe */
	rx_waiting *v;        /* candidates waiting for their last bytes */
	size_t n, cap;
} rx_litmatch;
/* A match of a form labelled `name` over [start, end); negative: error. */
typedef int (*rx_lit_match_fn)(void *ctx, uint32_t name, uint64_t start, uint64_t end);
/* buf holds the stream from buf_pos up to end; `final`: nothing follows
 * (waiting candidates are dropped).  Returns the first error of fn. */
int rx_litmatch_scan(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		     uint64_t end, bool final, rx_lit_match_fn fn, void *ctx);
/* The waiting candidates only, verified again. */
int rx_litmatch_recheck(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
			uint64_t end, bool final, rx_lit_match_fn fn, void *ctx);
/* A candidate found by other probes: verified now, or kept waiting. */
int rx_litmatch_offer(rx_litmatch *m, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		      uint64_t end, uint32_t form, uint64_t start, rx_lit_match_fn fn, void *ctx);
/* The first start of a waiting candidate, or UINT64_MAX. */
uint64_t rx_litmatch_waiting(const rx_litmatch *m);
void rx_litmatch_free(rx_litmatch *m);

/* dewrap.c: forms across the line breaks of a wrapped encoding (base64
 * -w 76, PEM, xxd -p).  A break is joined after RX_WRAP_MIN encoding
 * characters; a stream keeps at least that many bytes before the ones it
 * has emitted (so that the break after a live position is still seen as
 * one). */
#define RX_WRAP_MIN 16
typedef struct rx_dewrap {
	uint64_t pending;   /* a joined break's newline whose bytes after are to come, or UINT64_MAX */
} rx_dewrap;
void rx_dewrap_init(rx_dewrap *dw);
/* The newline at n (buf holds the stream from buf_pos to end): if it is a
 * joined break, offer m the forms that begin just before it and cross it.
 * 1: the bytes after it are to come (wait); 0: done; negative: error. */
int rx_dewrap_newline(rx_dewrap *dw, rx_litmatch *m, const rx_litset *ls, const uint8_t *buf,
		      uint64_t buf_pos, uint64_t end, uint64_t n, bool final, rx_lit_match_fn fn, void *ctx);
/* The encoding characters: [A-Za-z0-9+/=_-]. */
extern const bool rx_enc[256];
#if defined(__SSE2__)
#include <emmintrin.h>
#define RX_HAVE_SSE2 1
/* Bit i set: p[i] is an encoding character (16 bytes, SSE2). */
static inline unsigned rx_enc_bits16(const uint8_t *p)
{
	__m128i c = _mm_loadu_si128((const __m128i *)p);
	__m128i folded = _mm_or_si128(c, _mm_set1_epi8(0x20));   /* A-Z to a-z */
	__m128i letter = _mm_sub_epi8(folded, _mm_set1_epi8('a'));
	letter = _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(25)), letter);   /* <= 25 */
	__m128i digit = _mm_sub_epi8(c, _mm_set1_epi8('0'));
	digit = _mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit);
	__m128i sym = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('+')),
						_mm_cmpeq_epi8(c, _mm_set1_epi8('/'))),
				   _mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('=')),
						_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('_')),
							     _mm_cmpeq_epi8(c, _mm_set1_epi8('-')))));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), sym));
}
#else
#define RX_HAVE_SSE2 0
#endif
/* Can the newline at n be a joined break?  The cheap half of the test,
 * made for every line: 16 encoding characters before it (and any '\r'). */
static inline bool rx_dewrap_may_join(const uint8_t *buf, uint64_t buf_pos, uint64_t n)
{
	uint64_t b = n > buf_pos && buf[n - 1 - buf_pos] == '\r' ? n - 1 : n;
	if (b < buf_pos + RX_WRAP_MIN || !rx_enc[buf[b - 1 - buf_pos]])
		return false;
#if RX_HAVE_SSE2
	_Static_assert(RX_WRAP_MIN == 16, "one 16-byte test");
	return rx_enc_bits16(buf + (b - 16 - buf_pos)) == 0xFFFF;
#else
	for (uint64_t k = b - RX_WRAP_MIN; k < b; k++)
		if (!rx_enc[buf[k - buf_pos]])
			return false;
	return true;
#endif
}
/* 1: `form` matches the stream from `start` with joined breaks left out
 * (at least one), ending at *match_end; 0: it does not; -1: it does so
 * far, bytes are missing. */
int rx_dewrap_verify(const uint8_t *form, size_t len, const uint8_t *buf, uint64_t buf_pos,
		     uint64_t end, uint64_t start, uint64_t *match_end);
/* The first stream offset where a form across a break whose bytes after
 * have not all come may begin (UINT64_MAX: none).  Same arguments as the
 * last feed. */
uint64_t rx_dewrap_hold(const rx_dewrap *dw, const rx_litset *ls, const uint8_t *buf,
			uint64_t buf_pos, uint64_t end);
/* How many stream bytes a form of `len` bytes can span across breaks. */
size_t rx_dewrap_span(size_t len);

/* hexdump.c: forms in a hex dump of the output (xxd, hexdump -C, od -tx1, od -c):
 * each complete line that parses as a dump line adds its bytes to a view
 * of the decoded bytes, scanned like the stream; a match is reported as
 * the hex digits and the ASCII column that show it, line by line. */
typedef struct rx_dump_place {
	uint64_t token;         /* the stream offset of a decoded byte's hex digits (od -c: cell) */
	uint64_t asc;           /* ... of its ASCII column character, or UINT64_MAX */
	uint8_t width;          /* the token's length */
	bool first;             /* the first byte of its line */
} rx_dump_place;
typedef struct rx_hexdump {
	rx_litmatch lm;         /* the literal forms in the decoded bytes */
	uint8_t *bytes;         /* decoded bytes [pos, end) */
	rx_dump_place *at;      /* ... where each is printed */
	size_t cap;
	uint64_t pos, end;
	bool in_run;            /* the last complete line was a dump line */
	uint64_t line_start;    /* the stream offset of the first line not looked at */
	bool line_cut;          /* ... whose beginning the stream let go: not a dump line */
} rx_hexdump;
void rx_hexdump_init(rx_hexdump *hd);
void rx_hexdump_free(rx_hexdump *hd);
static inline bool rx_hex_digit(uint8_t c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}
/* Can the complete line l[0..len) be a dump line that begins a run?  A
 * necessary condition only, made for every line (hexdump.c parses the
 * rest): an offset of 7 octal or 8 hex digits and what follows it (xxd
 * ':', hexdump and od ' '), od -An's " HH ", or xxd -i's "  0x". */
static inline bool rx_hexdump_may_begin(const uint8_t *l, uint64_t len)
{
	if (len < 9)
		return false;
	if (l[0] == ' ')   /* od -An, xxd -i */
		return l[3] == ' ' || (l[1] == ' ' && l[2] == '0' && l[3] == 'x');
	return rx_hex_digit(l[0]) && (l[7] == ' ' || l[8] == ' ' || l[8] == ':' || rx_hex_digit(l[8]));
}
/* The line from hd->line_start, complete at its newline nl, read. */
int rx_hexdump_read_line(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
			 uint64_t nl, rx_lit_match_fn fn, void *ctx);
/* The same, but most lines of text are passed over in a few comparisons:
 * only one that may begin a dump, or may go on with an open run, is read. */
static inline int rx_hexdump_line(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf,
				  uint64_t buf_pos, uint64_t nl, rx_lit_match_fn fn, void *ctx)
{
	if (nl < hd->line_start)   /* seen before (the pass waited at this newline) */
		return 0;
	if (hd->in_run || hd->line_cut || hd->line_start < buf_pos ||
	    rx_hexdump_may_begin(buf + (hd->line_start - buf_pos), nl - hd->line_start))
		return rx_hexdump_read_line(hd, ls, buf, buf_pos, nl, fn, ctx);
	hd->line_start = nl + 1;
	return 0;
}
/* After the newlines up to `end`: scan the view (`final`: the last line
 * too, and the run ends). */
int rx_hexdump_settle(rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		      uint64_t end, bool final, rx_lit_match_fn fn, void *ctx);
/* The first stream offset a match of the view, or of a dump line still
 * open, may cover (UINT64_MAX: none).  Same arguments as the last feed. */
uint64_t rx_hexdump_hold(const rx_hexdump *hd, const rx_litset *ls, const uint8_t *buf,
			 uint64_t buf_pos, uint64_t end);
/* How many stream bytes a match of `len` decoded bytes can span. */
size_t rx_hexdump_span(size_t len);

/* lines.c: the pass over the newlines for dewrap.c and hexdump.c. */
typedef struct rx_lines {
	uint64_t src;          /* the newlines before src are seen */
	rx_dewrap dw;
	rx_hexdump hd;
	rx_litmatch m;         /* the candidates dewrap.c finds around joined breaks */
} rx_lines;
void rx_lines_init(rx_lines *ln);
void rx_lines_free(rx_lines *ln);
int rx_lines_feed(rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		  uint64_t end, bool final, rx_lit_match_fn fn, void *ctx);
/* The first stream offset a match of the two readers may still cover
 * (UINT64_MAX: none).  Same arguments as the last feed. */
uint64_t rx_lines_hold(const rx_lines *ln, const rx_litset *ls, const uint8_t *buf, uint64_t buf_pos,
		       uint64_t end);

/* linebound.c: true when no match of the regex can contain a newline, so
 * that a stream may release every byte up to the last newline it saw. */
bool rx_regex_line_bounded(const char *regex);

/* values.c: the values inside a secret file's content, each with the key
 * it stands under (NULL, 0 when none). */
typedef int (*rx_value_fn)(void *ctx, const char *key, size_t key_len, const char *value, size_t len);
int rx_content_values(const char *data, size_t len, rx_value_fn fn, void *ctx);

/* compile.c
 * The streaming database reports match ends only (leftmost-start tracking
 * in the combined database costs 7x in throughput); the start of a match
 * is found afterwards, in the held-back window, by a block-mode database of
 * that one rule with leftmost start of match (som_db).  Those per-rule
 * databases are compiled with a cold build (and cached), or on the first
 * match of that rule when there is no cache. */
typedef struct rx_patterns {
	hs_database_t *stream_db;  /* all rules, streaming, match ends */
	hs_database_t *prefix_db;  /* rules with a secret mark: anchored context, block mode */
	unsigned *max_width;       /* per rule */
	size_t n;
	uint8_t *som_blob;         /* serialized per-rule start-of-match databases, or */
	int som_fd;                /* ... the cache file holding them (-1 = none) */
	size_t *som_off, *som_len; /* per rule, in the blob or the file; len 0 = compile on first use */
	hs_database_t **som;       /* per rule, loaded on first use (shared by all streams) */
	uint64_t db_off[2], db_len[2]; /* stream_db and prefix_db in som_fd ... */
	bool dbs_pending;          /* ... not loaded yet (rx_cache_load_dbs) */
	char *entry_path;          /* the cache entry they came from, or NULL */
	pthread_mutex_t som_lock;  /* guards som: the only mutable part of a built redactor */
} rx_patterns;
/* Compile the rules (compile.c); with_som: every rule's start-of-match
 * database too.  The stockade binary links compile_exec.c instead, which
 * has the helper stockade-rulec compile them (always with_som): the
 * compiler is most of Vectorscan and all of libstdc++, and every run's
 * start would pay for loading and initialising it, to use it only on a
 * cold cache. */
int rx_patterns_compile(const rx_ruleset *rs, bool with_som, rx_patterns *p, sk_error *err);
/* One rule's start-of-match database; -ENOSYS without the compiler. */
int rx_compile_som(const rx_rule *r, hs_database_t **out, sk_error *err);
/* patterns.c */
void rx_patterns_free(rx_patterns *p);
/* The start-of-match database of rule i: loaded (deserialized, or
 * compiled) once on first use, then shared.  Thread-safe. */
int rx_som_db(const rx_ruleset *rs, rx_patterns *p, size_t i, hs_database_t **out);
/* Allocate the lazily filled part (after compile or cache load). */
int rx_patterns_lazy_init(rx_patterns *p);

/* cache.c */
int rx_cache_dir(const char *configured, char **out);
void rx_rules_digest(const rx_ruleset *rs, uint8_t digest[32]);
/* 0 loaded, -ENOENT no (valid) entry, other negative errno */
int rx_cache_load(const char *dir, const uint8_t digest[32], size_t n_rules, rx_patterns *p);
/* The same from an entry already open (kept by p on success, closed on failure). */
int rx_cache_load_fd(int fd, size_t n_rules, rx_patterns *p);
/* The stream and prefix databases of an entry loaded above; 0 or -errno. */
int rx_cache_load_dbs(rx_patterns *p);
/* The entry's bytes: p compiled here (its som_blob), or loaded (its file). */
int rx_cache_encode(const rx_patterns *p, uint8_t **out, size_t *len);
int rx_cache_store(const char *dir, const uint8_t digest[32], const rx_patterns *p);

/* bytes.c: a growable buffer for the encoders; the first failure (-ENOMEM,
 * -E2BIG) stays in err and later puts do nothing. */
typedef struct rx_bytes {
	uint8_t *buf;
	size_t len, cap;
	int err;
} rx_bytes;
void rx_bytes_put(rx_bytes *b, const void *p, size_t n);

/* rules_wire.c: the rules as the compile helper reads them on stdin.
 * u32 n, then per rule: u32 kind, u32 line, and name, regex, prefix,
 * origin, each as u32 length (UINT32_MAX = none) and bytes. */
int rx_rules_encode(const rx_ruleset *rs, uint8_t **out, size_t *len);
int rx_rules_decode(const uint8_t *in, size_t len, rx_ruleset *rs);

/* The compiled redactor. */
struct sk_redactor {
	rx_ruleset rules;
	rx_patterns pat;
	rx_litset *lits;           /* literal forms, or NULL */
	bool lines_bounded;        /* no rule can match across a newline */
	hs_scratch_t *scratch;     /* prototype: each stream clones it */
	pthread_mutex_t ready_lock; /* guards the databases' loading and scratch (sk_redactor_ready) */
	int ready;                 /* 0 not yet, 1 done, or the negative errno it failed with */
	char **names;              /* rule names, then literal labels */
	size_t n_names, n_rule_names;
	char **repl;               /* the replacement text per name */
	size_t *repl_len;
	size_t window;
	size_t block_max;
	sk_redact_info info;
};

#endif
