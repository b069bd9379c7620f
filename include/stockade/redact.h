/* stockade — the streaming redactor (src/redact/).
 *
 * OWNED BY THE REDACT WORK (issue 5).  The sandbox's output relay depends
 * only on the stream functions below: one stream per output (stdout,
 * stderr); every byte goes through sk_redact_feed() before it reaches the
 * sink, and sk_redact_finish() flushes what was held back.
 *
 * Building a redactor (what the run path calls):
 *
 *     sk_redact_literals *lits;
 *     sk_redact_literals_new(&lits, warn_fn, warn_ctx);
 *     sk_redact_literals_add(lits, "env:GITHUB_TOKEN", val, strlen(val));   // per secret
 *     sk_redact_literals_add_file(lits, "file:/home/u/.netrc", path, &err); // per secret file
 *     sk_redact_config cfg;
 *     sk_redact_config_init(&cfg);      // shipped rules, default replacement, default cache
 *     cfg.literals = lits;
 *     sk_redactor *red;
 *     if (sk_redactor_build(&cfg, &red, &err) < 0) -> fail closed
 *     sk_redact_literals_free(lits);    // the redactor keeps what it needs
 *     ... sk_redact_stream_new(red, sink, ctx, &s); feed; finish;
 *     ... counts: sk_redact_stream_count(s, i) for i < sk_redactor_rule_count(red)
 *
 * Matching: the named pattern rules (profiles/redact.rules, format in
 * docs/redact.md) run in one Vectorscan streaming database with leftmost
 * start of match; it is cached on disk keyed by the digest of the rules.
 * Literals are indexed for each redactor (never written to disk) and
 * matched by sampling aligned pieces (no compilation, see litscan.c).
 * Every literal is also matched as base64 (three alignments, standard and
 * URL-safe, padded and not), hex (lower, upper), URL- and JSON-escaped.
 *
 * Streaming: a stream holds back only bytes that can still be part of a
 * match — when every rule stays within a line, an unfinished line and
 * anything from the first byte that may begin a literal form — and never
 * more than sk_redactor_window() bytes; sk_redact_finish() releases the
 * rest.  The output for any chunking of the input equals the output for
 * the whole input at once.
 * Overlapping and adjacent matches merge into one replacement, named after
 * the rule of the leftmost match (ties: the rule listed first; literals
 * after the pattern rules).
 */
#ifndef STOCKADE_REDACT_H
#define STOCKADE_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stockade/util.h"

typedef struct sk_redactor sk_redactor;           /* compiled rules + literals; read-only once built */
typedef struct sk_redact_stream sk_redact_stream; /* per-output streaming state */

/* Where redacted bytes go.  Returns 0 or a negative errno (which aborts the feed). */
typedef int (*sk_redact_sink)(void *ctx, const void *buf, size_t len);

int sk_redact_stream_new(const sk_redactor *r, sk_redact_sink sink, void *sink_ctx,
			 sk_redact_stream **out);
int sk_redact_feed(sk_redact_stream *s, const void *buf, size_t len);
int sk_redact_finish(sk_redact_stream *s);
void sk_redact_stream_free(sk_redact_stream *s);

/* Run the pattern scan of this stream on a second thread from now on; the
 * output is the same.  A pipeline: a feed hands its slices to the thread
 * and returns while the last one is being scanned (the caller reads on);
 * its matches are handled, and its bytes emitted, at the next feed or at
 * sk_redact_finish().  For large feeds (a filter reading 1 MiB at a time).
 * The thread ends in sk_redact_finish() or sk_redact_stream_free(); do
 * not fork while it runs.  No pattern rules: does nothing.  Returns 0 or
 * a negative errno (the stream then stays single-threaded). */
int sk_redact_stream_parallel(sk_redact_stream *s);
/* With the pattern thread: finish the slice in flight and emit what it made
 * final, as a single-threaded stream would have by now.  Call it when the
 * input pauses (no more is ready), so that a complete line waits for
 * nothing.  Without the thread: nothing to do.  0 or a negative errno. */
int sk_redact_settle(sk_redact_stream *s);

void sk_redactor_free(sk_redactor *r);

/* ---- literals ---------------------------------------------------------- */

/* Literals shorter than this are refused (with a warning): they would
 * redact common words.  Longer than SK_REDACT_LITERAL_MAX are refused too
 * (they would make every stream hold back that much). */
#define SK_REDACT_LITERAL_MIN 8
#define SK_REDACT_LITERAL_MAX 4096

typedef struct sk_redact_literals sk_redact_literals;

/* Called with one line (no value in it, only a label and a reason) for
 * every literal refused.  May be NULL. */
typedef void (*sk_redact_warn_fn)(void *ctx, const char *msg);

int sk_redact_literals_new(sk_redact_literals **out, sk_redact_warn_fn warn, void *warn_ctx);
void sk_redact_literals_free(sk_redact_literals *l);

/* One raw value (an environment variable's value, a value read from a
 * denied surface).  label names the replacement ("[REDACTED:<label>]") and
 * the count; NULL means "literal".  Returns 1 when added, 0 when refused
 * (too short/long: warned) or already present, negative errno on failure. */
int sk_redact_literals_add(sk_redact_literals *l, const char *label, const void *value, size_t len);

/* The content of a secret file: the whole content (and without its final
 * newline), each line, each `key=value` / `key: value` / INI value
 * (unquoted), and every string of a JSON document.  Values shorter than
 * the minimum are skipped with one warning per source.  Returns the
 * number of literals added or a negative errno. */
int sk_redact_literals_add_content(sk_redact_literals *l, const char *label,
				   const void *data, size_t len);
/* The same for a file (at most 16 MiB); err names the file on failure. */
int sk_redact_literals_add_file(sk_redact_literals *l, const char *label, const char *path,
				sk_error *err);

size_t sk_redact_literals_count(const sk_redact_literals *l);

/* ---- building a redactor ----------------------------------------------- */

typedef struct sk_redact_config {
	/* The shipped pattern rules; NULL = sk_redact_find_rules().  "" = no
	 * rules file (only extra_rules and literals). */
	const char *rules_path;
	/* More rules in the same format (e.g. from a profile); may be NULL.
	 * extra_rules_origin names them in error messages ("profile x"). */
	const char *extra_rules;
	const char *extra_rules_origin;
	/* Rule names to leave out (a profile's disabled rules); NULL-terminated
	 * array or NULL.  An unknown name is an error (a typo must not
	 * silently keep a rule). */
	const char *const *disabled_rules;
	/* Replacement text; "{rule}" is replaced by the rule name.  NULL =
	 * "[REDACTED:{rule}]". */
	const char *replacement;
	/* Literal values; may be NULL.  Copied: may be freed after building. */
	const sk_redact_literals *literals;
	/* Compiled-database cache directory; NULL = $XDG_CACHE_HOME/stockade
	 * (else ~/.cache/stockade); "" = no cache.  An unwritable cache is
	 * not an error: the rules are then compiled each time. */
	const char *cache_dir;
	/* Largest block (e.g. a PEM private key) removed after its begin line
	 * when no end line comes; 0 = 65536. */
	size_t block_max;
} sk_redact_config;

void sk_redact_config_init(sk_redact_config *cfg);

/* Build a redactor.  Bad rules give -EINVAL with "file:line: why" in err.
 * A redactor with no rules and no literals is valid (passes bytes through). */
int sk_redactor_build(const sk_redact_config *cfg, sk_redactor **out, sk_error *err);
/* A cached pattern database is only checked by sk_redactor_build; mapping,
 * copying and verifying it (a megabyte) and making the scratch wait for
 * the first stream, or for this call: idempotent, thread-safe, 0 or a
 * negative errno (a stream cannot be made then).  `stockade run` opens its
 * streams once the filter is sent, so the work overlaps the command's
 * start instead of delaying it; no byte passes before it is done. */
int sk_redactor_ready(const sk_redactor *r);

/* Where the shipped rules are: $STOCKADE_DATADIR/redact.rules, then
 * <dir of /proc/self/exe>/../profiles/redact.rules, then
 * STOCKADE_DATADIR/redact.rules (compile time), then
 * /etc/stockade/profiles/redact.rules and /etc/stockade/redact.rules.
 * Returns 0 and a malloc'd path, or -ENOENT with err filled. */
int sk_redact_find_rules(char **out, sk_error *err);

/* How the redactor was made, for benchmarks and --verbose. */
typedef struct sk_redact_info {
	size_t n_rules;          /* pattern rules compiled */
	size_t n_literals;       /* literal values */
	size_t n_literal_forms;  /* literal values x encodings, deduplicated */
	size_t window;           /* bytes a stream may hold back */
	bool cache_hit;          /* the pattern database came from the cache */
	bool cache_written;      /* ... or was compiled and stored */
	uint64_t setup_ns;       /* time spent in sk_redactor_build and _ready */
} sk_redact_info;
void sk_redactor_info(const sk_redactor *r, sk_redact_info *info);

size_t sk_redactor_window(const sk_redactor *r);

/* ---- secret values in files ------------------------------------------- */

/* The credential-like values of secret files (src/redact/secret_values.c
 * says which values count), in every form a literal is matched in, to
 * look for in the content of files a command reads.  Each value carries
 * the tag of the file it came from. */
typedef struct sk_secret_values sk_secret_values;

int sk_secret_values_new(sk_secret_values **out);
void sk_secret_values_free(sk_secret_values *sv);
/* The values of one secret file's content; returns how many counted. */
int sk_secret_values_add_content(sk_secret_values *sv, const void *data, size_t len, uint32_t tag);
/* One value standing under key (an environment variable's name); 1 when
 * it counted, 0 when not. */
int sk_secret_values_add_value(sk_secret_values *sv, const char *key, size_t key_len, const void *value,
			       size_t len, uint32_t tag);
size_t sk_secret_values_count(const sk_secret_values *sv);     /* forms */
/* SHA-256 of every form, in order: what a memo of files found clean of
 * these values is kept under. */
void sk_secret_values_digest(const sk_secret_values *sv, unsigned char out[32]);
size_t sk_secret_values_min_len(const sk_secret_values *sv);   /* the shortest form */
/* 1 and *tag when buf holds a form of a value, 0 when it holds none,
 * negative errno on failure (the matcher is built on the first call). */
int sk_secret_values_find(sk_secret_values *sv, const void *buf, size_t len, uint32_t *tag);
/* Does a value, under key (NULL: none), count as a credential? */
bool sk_secret_value_like(const char *key, size_t key_len, const char *value, size_t len);

/* ---- counts ------------------------------------------------------------ */

/* Every name a replacement can carry: the pattern rules, then the literal
 * labels.  Index i is stable for the life of the redactor. */
size_t sk_redactor_rule_count(const sk_redactor *r);
const char *sk_redactor_rule_name(const sk_redactor *r, size_t i);

/* Replacements made by a stream so far, per rule index, and in total. */
uint64_t sk_redact_stream_count(const sk_redact_stream *s, size_t i);
uint64_t sk_redact_stream_total(const sk_redact_stream *s);

/* Redact a whole buffer at once (tests, small outputs).  *out is malloc'd
 * and NUL-terminated; counts (may be NULL) gets sk_redactor_rule_count()
 * entries added to it. */
int sk_redact_buffer(const sk_redactor *r, const void *in, size_t len, char **out,
		     size_t *out_len, uint64_t *counts);

#endif
