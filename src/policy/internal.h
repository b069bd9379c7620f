/* Shared inside src/policy only. */
#ifndef STOCKADE_POLICY_INTERNAL_H
#define STOCKADE_POLICY_INTERNAL_H

#include "stockade/policy.h"

/* A bump allocator that owns every string of a profile: one free. */
sk_arena *sk_arena_new(void);
void sk_arena_free(sk_arena *a);
void *sk_arena_alloc(sk_arena *a, size_t n);
char *sk_arena_strdup(sk_arena *a, const char *s);
char *sk_arena_strndup(sk_arena *a, const char *s, size_t n);

/* Keyword tables, shared by the parser and the canonical form. */
const char *sk_file_action_name(sk_file_action a);
const char *sk_env_action_name(sk_env_action a);
const char *sk_net_policy_name(sk_net_policy n);
const char *sk_limit_name(sk_limit_kind k);

/* Matching helpers (pure). */
bool sk_name_glob(const char *pattern, const char *name);     /* fnmatch, no flags */
bool sk_path_component_glob(const char *pattern, const char *path);
/* Parse "ADDR[/P]:PORT" into m; returns NULL or a static message. */
const char *sk_net_spec_parse(sk_arena *a, const char *spec, sk_net_match *m);
/* Write the canonical spelling of m; returns snprintf's count. */
int sk_net_spec_format(const sk_net_match *m, char *buf, size_t len);

#define SK_BUILTIN_ID "builtin"

/* ---- the lexer: one line into words -------------------------------------- */
enum { SK_LEX_MAX_WORDS = 16, SK_LEX_MAX_WORD = 4096 };

typedef struct sk_word {
	const char *text;   /* variables expanded, quotes and escapes removed */
	unsigned col;       /* 1-based byte column where the word starts */
	bool quoted;
} sk_word;

typedef struct sk_line {
	sk_word w[SK_LEX_MAX_WORDS];
	size_t n;
	char *buf;          /* storage for the words (malloc, reused line to line) */
	size_t cap;
	unsigned end_col;   /* column just after the last word */
	char msg[160];      /* the error, when lexing fails */
	unsigned err_col;
} sk_line;

/* Split one line (without its newline).  Returns 0, or -EINVAL with
 * msg/err_col set, or -ENOMEM. */
int sk_lex_line(const char *line, size_t len, const sk_profile_vars *vars, sk_line *out);
void sk_line_free(sk_line *l);

/* Parse with a known identity for the top file (include-cycle detection). */
int sk_profile_parse_keyed(const char *path, const char *key, const char *text, size_t len,
			   const sk_profile_vars *vars, sk_profile_loader load, void *ctx,
			   sk_profile **out, sk_error *err);

/* ---- the parser's state, shared by parse.c and directives.c ------------ */
enum { SK_PROFILE_MAX_INCLUDES = 256 };

typedef struct sk_parser {
	sk_profile *p;
	const sk_profile_vars *vars;
	sk_profile_loader load;
	void *ctx;
	sk_error *err;
	const char *keys[SK_PROFILE_MAX_INCLUDE_DEPTH + 2];  /* include stack identities */
	unsigned depth;
	unsigned includes;
	size_t rules_cap;
	sk_line line;
	const char *path;     /* current file, for messages */
	const char *name;     /* its base name, for rule ids */
	unsigned lineno;
} sk_parser;

/* "path:line:col: message" into ps->err; returns -EINVAL. */
int sk_parse_error(sk_parser *ps, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Handle one lexed line (n >= 1 words). */
int sk_parse_directive(sk_parser *ps, const sk_line *l);
/* Parse one more text into ps (top file or include). */
int sk_parse_source(sk_parser *ps, const char *path, const char *key, const char *text, size_t len);

/* Does a word need quotes in the canonical form? */
bool sk_word_needs_quotes(const char *s);

#endif
