/* Build a redactor: rules (cached compiled database) + literals (compiled
 * here, in memory only) + replacement texts. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_REPLACEMENT "[REDACTED:{rule}]"
#define DEFAULT_BLOCK_MAX 65536

void sk_redact_config_init(sk_redact_config *cfg)
{
	*cfg = (sk_redact_config){ 0 };
}

static int load_rules(const sk_redact_config *cfg, rx_ruleset *rs, sk_error *err)
{
	_cleanup_free_ char *found = NULL;
	const char *path = cfg->rules_path;
	int e;
	if (!path) {
		if ((e = sk_redact_find_rules(&found, err)) < 0)
			return e;
		path = found;
	}
	if (*path) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		if ((e = sk_read_file(path, 4u << 20, &text, &len)) < 0)
			return sk_fail_errno(err, -e, "cannot read redaction rules %s", path);
		if ((e = rx_rules_parse(rs, text, len, path, err)) < 0)
			return e;
	}
	if (cfg->extra_rules) {
		const char *origin = cfg->extra_rules_origin ? cfg->extra_rules_origin : "extra rules";
		if ((e = rx_rules_parse(rs, cfg->extra_rules, strlen(cfg->extra_rules), origin, err)) < 0)
			return e;
	}
	if ((e = rx_rules_disable(rs, cfg->disabled_rules, err)) < 0)
		return e;
	return rx_rules_check_blocks(rs, err);
}

/* Names: one per distinct rule name, in order of first appearance. */
static int name_rules(sk_redactor *r)
{
	r->names = calloc(r->rules.n + 1, sizeof(*r->names));
	if (!r->names)
		return -ENOMEM;
	for (size_t i = 0; i < r->rules.n; i++) {
		rx_rule *rule = &r->rules.v[i];
		size_t k = 0;
		while (k < r->n_names && strcmp(r->names[k], rule->name))
			k++;
		if (k == r->n_names && !(r->names[r->n_names++] = strdup(rule->name)))
			return -ENOMEM;
		rule->name_idx = (unsigned)k;
	}
	r->n_rule_names = r->n_names;
	return 0;
}

static bool rules_line_bounded(const rx_ruleset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!rx_regex_line_bounded(rs->v[i].regex))
			return false;
	return true;
}

/* A cold cache and many starts at once (a burst of execs after an install
 * or an upgrade) would have every start compile the same rules, each
 * taking a core for a quarter of a second.  The first takes this lock and
 * compiles; the others wait for it (10 s at the most, then compile
 * themselves) and load what it stored.  -1: no lock (compile anyway). */
static int compile_lock(const char *dir)
{
	_cleanup_free_ char *path = NULL;
	if (sk_mkdir_p(dir, 0700) < 0 || asprintf(&path, "%s/compile.lock", dir) < 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	for (int i = 0; fd >= 0 && i < 1000; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		usleep(10000);
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

static int patterns(sk_redactor *r, const sk_redact_config *cfg, sk_error *err)
{
	if (r->rules.n == 0)
		return 0;
	uint8_t digest[32];
	rx_rules_digest(&r->rules, digest);
	_cleanup_free_ char *dir = NULL;
	bool cache = rx_cache_dir(cfg->cache_dir, &dir) == 0;
	if (cache && rx_cache_load(dir, digest, r->rules.n, &r->pat) == 0) {
		r->info.cache_hit = true;
		return rx_patterns_lazy_init(&r->pat);
	}
	int lock = cache ? compile_lock(dir) : -1;
	if (lock >= 0 && rx_cache_load(dir, digest, r->rules.n, &r->pat) == 0) {
		close(lock);   /* another start compiled them while this one waited */
		r->info.cache_hit = true;
		return rx_patterns_lazy_init(&r->pat);
	}
	/* With a cache, compile the start-of-match databases now, once; without
	 * one, each stream compiles those of the rules it meets. */
	int e = rx_patterns_compile(&r->rules, cache, &r->pat, err);
	/* An unwritable cache only costs the next start a compilation. */
	if (e == 0 && cache && rx_cache_store(dir, digest, &r->pat) == 0)
		r->info.cache_written = true;
	if (lock >= 0)
		close(lock);
	return e < 0 ? e : rx_patterns_lazy_init(&r->pat);
}

static int window_for_rules(sk_redactor *r, sk_error *err)
{
	size_t w = r->rules.window;
	bool unbounded = false;
	for (size_t i = 0; i < r->rules.n; i++) {
		unsigned mw = r->pat.max_width[i];
		const rx_rule *rule = &r->rules.v[i];
		if (mw == UINT_MAX)
			unbounded = true;
		else if (mw > RX_WINDOW_MAX)
			return sk_fail(err, EINVAL, "%s:%u: rule '%s' can match %u bytes; at most %u",
				       rule->origin, rule->line, rule->name, mw, RX_WINDOW_MAX);
		else if (mw > w)
			w = mw;
	}
	if (unbounded && r->rules.window == 0 && w < RX_WINDOW_DEFAULT)
		w = RX_WINDOW_DEFAULT;
	r->window = w;
	return 0;
}

/* ---- literal forms ---- */

typedef struct form {
	uint8_t *bytes;
	uint32_t len, name, order;
} form;

typedef struct form_vec {
	form *v;
	size_t n, cap;
	unsigned name;
} form_vec;

static int add_form(void *ctx, const uint8_t *bytes, size_t len)
{
	form_vec *fv = ctx;
	size_t nul = 0;
	while (nul < len && bytes[nul] == '\0')
		nul++;
	if (len < SK_REDACT_LITERAL_MIN || nul == len)
		return 0;   /* too short, or only NUL bytes (would mangle binary output) */
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 256;
		form *v = realloc(fv->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		fv->v = v;
		fv->cap = cap;
	}
	form f = { .len = (uint32_t)len, .name = fv->name, .order = (uint32_t)fv->n };
	if (!(f.bytes = malloc(len)))
		return -ENOMEM;
	memcpy(f.bytes, bytes, len);
	fv->v[fv->n++] = f;
	return 0;
}

static int cmp_form(const void *a, const void *b)
{
	const form *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int c = memcmp(x->bytes, y->bytes, x->len);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void dedupe(form_vec *fv)
{
	sk_sort(fv->v, fv->n, sizeof(form), cmp_form);
	size_t k = 0;
	for (size_t i = 0; i < fv->n; i++) {
		if (k && fv->v[k - 1].len == fv->v[i].len &&
		    !memcmp(fv->v[k - 1].bytes, fv->v[i].bytes, fv->v[i].len)) {
			free(fv->v[i].bytes);
			continue;
		}
		fv->v[k++] = fv->v[i];
	}
	fv->n = k;
}

static int index_forms(sk_redactor *r, const form_vec *fv)
{
	size_t n = fv->n;
	_cleanup_free_ const uint8_t **bytes = calloc(n + 1, sizeof(*bytes));
	_cleanup_free_ uint32_t *lens = calloc(n + 1, sizeof(*lens));
	_cleanup_free_ uint32_t *names = calloc(n + 1, sizeof(*names));
	if (!bytes || !lens || !names)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		bytes[i] = fv->v[i].bytes;
		lens[i] = fv->v[i].len;
		names[i] = fv->v[i].name;
		/* a form across line breaks spans them too (dewrap.c), one in a
		 * hex dump its lines (hexdump.c) */
		size_t span = rx_dewrap_span(fv->v[i].len + 16), dump = rx_hexdump_span(fv->v[i].len);
		span = span > dump ? span : dump;
		if (span > r->window)
			r->window = span;
	}
	return rx_litset_new(&r->lits, bytes, lens, names, n);
}

static int literals(sk_redactor *r, const sk_redact_literals *lits)
{
	size_t n_items, n_labels;
	const rx_literal *items = rx_literals_items(lits, &n_items);
	const char *const *labels = rx_literals_labels(lits, &n_labels);
	if (n_items == 0)
		return 0;
	char **names = realloc(r->names, (r->n_names + n_labels) * sizeof(*names));
	if (!names)
		return -ENOMEM;
	r->names = names;
	for (size_t i = 0; i < n_labels; i++)
		if (!(r->names[r->n_names++] = strdup(labels[i])))
			return -ENOMEM;
	form_vec fv = { 0 };
	int e = 0;
	for (size_t i = 0; i < n_items && e == 0; i++) {
		fv.name = (unsigned)(r->n_rule_names + items[i].label);
		e = rx_literal_forms(items[i].bytes, items[i].len, add_form, &fv);
	}
	if (e == 0) {
		dedupe(&fv);
		r->info.n_literals = n_items;
		r->info.n_literal_forms = fv.n;
		e = index_forms(r, &fv);
	}
	for (size_t i = 0; i < fv.n; i++)
		free(fv.v[i].bytes);
	free(fv.v);
	return e;
}

/* ---- replacements, scratch ---- */

static char *expand(const char *tmpl, const char *name)
{
	size_t cap = strlen(tmpl) + 1, nl = strlen(name);
	for (const char *p = strstr(tmpl, "{rule}"); p; p = strstr(p + 6, "{rule}"))
		cap += nl;
	char *out = malloc(cap), *o = out;
	if (!out)
		return NULL;
	for (const char *p = tmpl; *p;) {
		if (!strncmp(p, "{rule}", 6)) {
			memcpy(o, name, nl);
			o += nl;
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static int replacements(sk_redactor *r, const char *tmpl)
{
	r->repl = calloc(r->n_names + 1, sizeof(*r->repl));
	r->repl_len = calloc(r->n_names + 1, sizeof(*r->repl_len));
	if (!r->repl || !r->repl_len)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_names; i++) {
		if (!(r->repl[i] = expand(tmpl ? tmpl : DEFAULT_REPLACEMENT, r->names[i])))
			return -ENOMEM;
		r->repl_len[i] = strlen(r->repl[i]);
	}
	return 0;
}

static int scratch(sk_redactor *r)
{
	hs_database_t *dbs[] = { r->pat.stream_db, r->pat.prefix_db };
	for (size_t i = 0; i < SK_ARRAY_LEN(dbs); i++)
		if (dbs[i] && hs_alloc_scratch(dbs[i], &r->scratch) != HS_SUCCESS)
			return -ENOMEM;
	return 0;
}

/* Vectorscan's database (a megabyte) and scratch come from mmap with
 * MAP_POPULATE: one system call maps all their pages, where malloc'd memory
 * takes a page fault per page on first touch (each costs tens of
 * microseconds on a virtual machine, and every `stockade run` builds a
 * redactor).  The 64 bytes before the block keep its length for munmap
 * and keep the block 64-byte aligned. */
enum { HS_BLOCK_HEAD = 64 };

static void *hs_block_alloc(size_t size)
{
	size_t len = size + HS_BLOCK_HEAD;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, &len, sizeof(len));
	return p + HS_BLOCK_HEAD;
}

static void hs_block_free(void *ptr)
{
	if (!ptr)
		return;
	char *p = (char *)ptr - HS_BLOCK_HEAD;
	size_t len;
	memcpy(&len, p, sizeof(len));
	munmap(p, len);
}

/* At load time, before any database or scratch exists: a block must be
 * freed by the allocator that made it. */
__attribute__((constructor)) static void use_hs_blocks(void)
{
	hs_set_database_allocator(hs_block_alloc, hs_block_free);
	hs_set_scratch_allocator(hs_block_alloc, hs_block_free);
}

int sk_redactor_build(const sk_redact_config *cfg, sk_redactor **out, sk_error *err)
{
	uint64_t t0 = sk_now_ns();
	sk_redactor *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->pat.som_fd = -1;
	pthread_mutex_init(&r->ready_lock, NULL);
	r->block_max = cfg->block_max ? cfg->block_max : DEFAULT_BLOCK_MAX;
	int e = load_rules(cfg, &r->rules, err);
	if (e == 0)
		e = name_rules(r);
	if (e == 0)
		r->lines_bounded = rules_line_bounded(&r->rules);
	if (e == 0)
		e = patterns(r, cfg, err);
	if (e == 0)
		e = window_for_rules(r, err);
	if (e == 0)
		e = literals(r, cfg->literals);
	if (e == 0)
		e = replacements(r, cfg->replacement);
	if (e < 0) {
		if (err && !err->code)
			sk_fail_errno(err, -e, "cannot build the redactor");
		sk_redactor_free(r);
		return e;
	}
	r->window += RX_WINDOW_SLACK;
	r->info.n_rules = r->rules.n;
	r->info.window = r->window;
	r->info.setup_ns = sk_now_ns() - t0;
	*out = r;
	return 0;
}

void sk_redactor_free(sk_redactor *r)
{
	if (!r)
		return;
	rx_patterns_free(&r->pat);
	rx_litset_free(r->lits);
	hs_free_scratch(r->scratch);
	for (size_t i = 0; i < r->n_names; i++) {
		free(r->names[i]);
		if (r->repl)
			free(r->repl[i]);
	}
	free(r->names);
	free(r->repl);
	free(r->repl_len);
	rx_rules_free(&r->rules);
	pthread_mutex_destroy(&r->ready_lock);
	free(r);
}

int sk_redactor_ready(const sk_redactor *cr)
{
	/* Always made by sk_redactor_build on the heap: the part made late is
	 * written under its lock, and read only once this has returned 0. */
	sk_redactor *r = (sk_redactor *)cr;
	pthread_mutex_lock(&r->ready_lock);
	if (r->ready == 0) {
		uint64_t t0 = sk_now_ns();
		int e = rx_cache_load_dbs(&r->pat);
		if (e == 0)
			e = scratch(r);
		r->ready = e < 0 ? e : 1;
		r->info.setup_ns += sk_now_ns() - t0;
	}
	int e = r->ready < 0 ? r->ready : 0;
	pthread_mutex_unlock(&r->ready_lock);
	return e;
}

void sk_redactor_info(const sk_redactor *r, sk_redact_info *info)
{
	*info = r->info;
}

size_t sk_redactor_window(const sk_redactor *r)
{
	return r->window;
}

size_t sk_redactor_rule_count(const sk_redactor *r)
{
	return r->n_names;
}

const char *sk_redactor_rule_name(const sk_redactor *r, size_t i)
{
	return i < r->n_names ? r->names[i] : NULL;
}
