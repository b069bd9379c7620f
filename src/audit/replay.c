/* Replay: call sk_decide() again, offline, on the event and session state a
 * receipt recorded, with the profile the receipt names (from the evidence
 * store) or a new one, and compare.  Nothing here reads the live system:
 * the profile is parsed from its canonical text and not bound, so the file
 * identities decide sees are the recorded ones. */
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

typedef struct cached_profile {
	char *digest;
	sk_profile *p;                   /* NULL: not in the store (remembered) */
} cached_profile;

typedef struct replay_ctx {
	const sk_replay_options *opt;
	sk_replay_fn fn;
	void *fn_ctx;
	sk_replay_result *res;
	cached_profile *cache;
	size_t n_cache;
	sk_error *err;
} replay_ctx;

/* splitmix64: a well-mixed hash of (seed, seq), so a sample is a fixed,
 * reproducible subset that another auditor can draw again. */
bool sk_replay_sampled(uint64_t seed, uint64_t seq, uint32_t sample_bp)
{
	if (sample_bp >= 10000)
		return true;
	uint64_t z = seed ^ (seq * 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z % 10000 < sample_bp;
}

int sk_evidence_load_profile(const char *state_dir, const char *digest, sk_profile **out,
			     sk_error *err)
{
	_cleanup_free_ char *text = NULL;
	int r = sk_evidence_get_profile(state_dir, digest, &text, err);
	if (r < 0)
		return r;
	/* Canonical text: no variables, no includes, every rule keeps its id. */
	const sk_profile_vars none = { 0 };
	return sk_profile_parse_text(digest, text, strlen(text), &none, NULL, NULL, out, err);
}

static const sk_profile *profile_for(replay_ctx *c, const char *digest)
{
	if (c->opt->profile)
		return c->opt->profile;
	if (!digest)
		return NULL;
	for (size_t i = 0; i < c->n_cache; i++)
		if (!strcmp(c->cache[i].digest, digest))
			return c->cache[i].p;
	cached_profile *n = realloc(c->cache, (c->n_cache + 1) * sizeof(*n));
	if (!n)
		return NULL;
	c->cache = n;
	sk_error e = { 0 };
	sk_profile *p = NULL;
	if (sk_evidence_load_profile(c->opt->state_dir, digest, &p, &e) < 0)
		p = NULL;
	c->cache[c->n_cache++] = (cached_profile){ .digest = strdup(digest), .p = p };
	return p;
}

static const char *str_or_empty(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static int on_record(const json_t *rec, const char *file, uint64_t line, void *vctx)
{
	replay_ctx *c = vctx;
	if (!strcmp(str_or_empty(rec, "type"), "checkpoint"))
		return 0;
	c->res->receipts++;
	json_t *decide = json_object_get(rec, "decide");
	json_t *event = json_object_get(decide, "event");
	if (!event)
		return 0;
	c->res->with_input++;
	uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
	if (!sk_replay_sampled(c->opt->seed, seq, c->opt->sample_bp))
		return 0;
	const sk_profile *p = profile_for(c, json_string_value(json_object_get(rec, "profile_digest")));
	if (!p) {
		c->res->no_profile++;
		return 0;
	}
	sk_decide_input in;
	sk_error e = { 0 };
	if (sk_audit_decide_input_read(event, json_object_get(decide, "state"), &in, &e) < 0) {
		c->res->bad_input++;
		return 0;
	}
	sk_verdict v = sk_decide(p, in.view, in.ev);
	sk_audit_decide_input_free(&in);
	sk_replay_item it = {
		.rec = rec, .seq = seq, .file = file, .line = line,
		.surface = str_or_empty(json_object_get(rec, "surface"), "key"),
		.old_verdict = str_or_empty(rec, "verdict"), .old_reason = str_or_empty(rec, "reason"),
		.old_rule = str_or_empty(rec, "rule"),
		.new_verdict = sk_action_name(v.action), .new_reason = sk_reason_name(v.reason),
		.new_rule = v.rule_id ? v.rule_id : "",
	};
	it.verdict_changed = strcmp(it.old_verdict, it.new_verdict) != 0;
	it.match = !it.verdict_changed && !strcmp(it.old_reason, it.new_reason) &&
		   !strcmp(it.old_rule, it.new_rule);
	c->res->replayed++;
	c->res->matches += it.match;
	c->res->mismatches += !it.match;
	c->res->changed += it.verdict_changed;
	return c->fn ? c->fn(&it, c->fn_ctx) : 0;
}

int sk_audit_replay(const char *const *files, size_t n_files, const sk_replay_options *opt,
		    sk_replay_fn fn, void *ctx, sk_replay_result *res, sk_error *err)
{
	*res = (sk_replay_result){ 0 };
	replay_ctx c = { .opt = opt, .fn = fn, .fn_ctx = ctx, .res = res, .err = err };
	int r = sk_audit_read(files, n_files, on_record, &c, err);
	for (size_t i = 0; i < c.n_cache; i++) {
		free(c.cache[i].digest);
		if (c.cache[i].p)
			sk_profile_free(c.cache[i].p);
	}
	free(c.cache);
	return r;
}
