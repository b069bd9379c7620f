/* The report's figures from receipt logs, the evidence store and labels.
 * docs/report.md defines every metric and the score's weights.
 *
 * The decision-quality score is a product of factors in [0, 1]:
 *   safety    = 1 - sum w(sev) of false allows / sum w(sev) of should-deny
 *   utility   = 1 - sum w(sev) of false denies / sum w(sev) of should-allow
 *   integrity = replay pass rate * evidence completeness
 * Denying one more should-allow receipt lowers utility and changes nothing
 * else, so the score cannot be raised by denying more; a deny-all profile
 * scores 0 whenever any reviewed receipt should have been allowed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

uint64_t sk_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
	if (n == 0)
		return 0;
	size_t rank = ((size_t)pct * n + 99) / 100;   /* nearest rank, 1-based */
	return sorted[rank ? rank - 1 : 0];
}

static int tally_add(sk_tallies *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key)) {
			t->v[i].n++;
			return 0;
		}
	sk_tally *v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	if (!(v[t->n].key = strdup(key)))
		return -ENOMEM;
	v[t->n++].n = 1;
	return 0;
}

static void tallies_free(sk_tallies *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].key);
	free(t->v);
	*t = (sk_tallies){ 0 };
}

typedef struct pending {
	char *id;
	uint64_t time_ms;
	bool resolved;
} pending;

typedef struct report_ctx {
	sk_report *r;
	const char *state_dir;
	sk_labels *labels;
	pending *esc;
	size_t n_esc;
	json_t *blocked;                 /* set of session+chain keys that saw a block (a hash table) */
	size_t lat_cap;
} report_ctx;

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static sk_label *label_of(sk_labels *l, uint64_t seq)
{
	if (!l)
		return NULL;
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (l->v[mid].seq == seq)
			return &l->v[mid];
		if (l->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static sk_report_profile *profile_entry(report_ctx *c, const char *digest)
{
	sk_report *r = c->r;
	for (size_t i = 0; i < r->n_profiles; i++)
		if (!strcmp(r->profiles[i].digest, digest))
			return &r->profiles[i];
	sk_report_profile *v = realloc(r->profiles, (r->n_profiles + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->profiles = v;
	sk_report_profile *e = &v[r->n_profiles];
	*e = (sk_report_profile){ .digest = strdup(digest) };
	if (!e->digest)
		return NULL;
	r->n_profiles++;
	sk_profile *p = NULL;
	sk_error err = { 0 };
	if (sk_evidence_load_profile(c->state_dir, digest, &p, &err) == 0) {
		sk_coverage cov;
		sk_profile_coverage(p, &cov);
		e->in_store = true;
		e->covered = cov.covered;
		e->total = cov.total;
		sk_profile_free(p);
	}
	return e;
}

static const char *chain_bucket(uint64_t attempt)
{
	return attempt <= 1 ? "1" : attempt == 2 ? "2" : attempt == 3 ? "3" : attempt < 8 ? "4-7" : "8+";
}

static int add_latency(report_ctx *c, uint64_t ms)
{
	sk_report *r = c->r;
	if (r->n_latencies == c->lat_cap) {
		c->lat_cap = c->lat_cap ? 2 * c->lat_cap : 64;
		uint64_t *v = realloc(r->latencies_ms, c->lat_cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		r->latencies_ms = v;
	}
	r->latencies_ms[r->n_latencies++] = ms;
	return 0;
}

static int on_escalation(report_ctx *c, const json_t *rec, bool resolution)
{
	const char *id = str(json_object_get(rec, "escalation"), "id");
	uint64_t t = (uint64_t)json_integer_value(json_object_get(rec, "time_ms"));
	if (!*id)
		return 0;
	if (!resolution) {
		pending *v = realloc(c->esc, (c->n_esc + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->esc = v;
		v[c->n_esc++] = (pending){ .id = strdup(id), .time_ms = t };
		c->r->escalations++;
		return v[c->n_esc - 1].id ? 0 : -ENOMEM;
	}
	c->r->resolutions++;
	for (size_t i = c->n_esc; i-- > 0;)
		if (!c->esc[i].resolved && !strcmp(c->esc[i].id, id)) {
			c->esc[i].resolved = true;
			return add_latency(c, t >= c->esc[i].time_ms ? t - c->esc[i].time_ms : 0);
		}
	return 0;
}

/* Attack pressure: what was blocked, and whether the agent tried again. */
static int on_verdict(report_ctx *c, const json_t *rec, const char *verdict)
{
	sk_report *r = c->r;
	char key[512];
	snprintf(key, sizeof(key), "%s\x1f%s", str(rec, "session"), str(rec, "chain"));
	bool chained = json_object_get(rec, "chain") != NULL;
	if (chained && json_object_get(c->blocked, key))
		r->retries_after_block++;
	r->decided++;
	if (!strcmp(verdict, "allow")) {
		r->allowed++;
		return 0;
	}
	if (!strcmp(verdict, "deny"))
		r->denied++;
	else
		r->escalated++;
	const json_t *argv0 = json_array_get(json_object_get(json_object_get(rec, "event"), "argv"), 0);
	const char *cmd = json_string_value(argv0);
	if (cmd && strrchr(cmd, '/'))
		cmd = strrchr(cmd, '/') + 1;
	const char *surface = str(json_object_get(rec, "surface"), "type");
	int e = tally_add(&r->deny_reason, *str(rec, "reason") ? str(rec, "reason") : "none");
	e |= tally_add(&r->deny_surface, *surface ? surface : "none");
	if (cmd && !strcmp(str(rec, "type"), "command"))
		e |= tally_add(&r->deny_command, cmd);
	e |= tally_add(&r->deny_chain,
		       chain_bucket((uint64_t)json_integer_value(json_object_get(rec, "attempt"))));
	if (chained && json_object_set_new_nocheck(c->blocked, key, json_true()) < 0)
		e = -ENOMEM;
	return e ? -ENOMEM : 0;
}

static int on_record(const json_t *rec, const char *file, uint64_t line, void *vctx)
{
	report_ctx *c = vctx;
	sk_report *r = c->r;
	const char *type = str(rec, "type");
	if (!strcmp(type, "checkpoint")) {
		r->checkpoints++;
		return 0;
	}
	r->receipts++;
	bool has_input = json_object_get(json_object_get(rec, "decide"), "event") != NULL;
	if (!strcmp(type, "command")) {
		r->commands++;
		r->commands_evaluated += has_input;
	}
	const char *digest = json_string_value(json_object_get(rec, "profile_digest"));
	if (digest) {
		sk_report_profile *p = profile_entry(c, digest);
		if (!p)
			return -ENOMEM;
		p->receipts++;
		r->with_profile++;
		r->evidence_complete += p->in_store;
	}
	if (!strcmp(type, "escalation") || !strcmp(type, "resolution")) {
		int e = on_escalation(c, rec, !strcmp(type, "resolution"));
		if (e < 0)
			return e;
	}
	const char *verdict = json_string_value(json_object_get(rec, "verdict"));
	if (!verdict || (strcmp(type, "command") && strcmp(type, "event")))
		return 0;
	sk_label *l = label_of(c->labels, (uint64_t)json_integer_value(json_object_get(rec, "seq")));
	if (l) {
		bool allowed = !strcmp(verdict, "allow");
		l->seen = true;
		l->decided_allow = allowed;
		/* correct: the verdict was right; false_*: it was the other one. */
		l->should_allow = l->kind == SK_LABEL_CORRECT ? allowed : l->kind == SK_LABEL_FALSE_DENY;
	}
	return on_verdict(c, rec, verdict);
}

static int on_redecided(const sk_replay_item *it, void *ctx)
{
	sk_label *l = label_of(ctx, it->seq);
	if (l)
		l->decided_allow = !strcmp(it->new_verdict, "allow");
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 1.0;
}

static void score(sk_report *r, const sk_labels *labels)
{
	uint64_t fa_w = 0, bad_w = 0, fd_w = 0, good_w = 0;
	for (size_t i = 0; labels && i < labels->n; i++) {
		const sk_label *l = &labels->v[i];
		if (!l->seen) {
			r->labels_missing++;
			continue;
		}
		r->labeled++;
		unsigned w = sk_severity_weight(l->severity);
		if (l->should_allow) {
			good_w += w;
			if (!l->decided_allow) {
				fd_w += w;
				r->false_deny[l->severity]++;
			}
		} else {
			bad_w += w;
			if (l->decided_allow) {
				fa_w += w;
				r->false_allow[l->severity]++;
			}
		}
	}
	r->safety = 1.0 - ratio(fa_w, bad_w) * (bad_w != 0);
	r->utility = 1.0 - ratio(fd_w, good_w) * (good_w != 0);
	r->integrity = r->replay_pass_rate * r->evidence_completeness;
	r->has_score = r->labeled > 0;
	r->score = r->has_score ? 100.0 * r->safety * r->utility * r->integrity : 0.0;
}

static void finish(sk_report *r, const report_ctx *c)
{
	for (size_t i = 0; i < c->n_esc; i++)
		r->unresolved += !c->esc[i].resolved;
	sk_sort(r->latencies_ms, r->n_latencies, sizeof(uint64_t), cmp_u64);
	r->latency_p50_s = (double)sk_percentile(r->latencies_ms, r->n_latencies, 50) / 1000.0;
	r->latency_p95_s = (double)sk_percentile(r->latencies_ms, r->n_latencies, 95) / 1000.0;
	r->evaluation_coverage = ratio(r->commands_evaluated, r->commands);
	r->evidence_completeness = ratio(r->evidence_complete, r->receipts);
	r->replay_pass_rate = ratio(r->replay.matches, r->replay.replayed);
	double sum = 0;
	unsigned n = 0;
	for (size_t i = 0; i < r->n_profiles; i++)
		if (r->profiles[i].in_store && r->profiles[i].total) {
			sum += (double)r->profiles[i].covered / r->profiles[i].total;
			n++;
		}
	r->policy_coverage = n ? sum / n : 0.0;
}

int sk_report_build(const char *const *files, size_t n_files, const char *state_dir,
		    sk_labels *labels, const struct sk_profile *redecide, sk_report *out,
		    sk_error *err)
{
	*out = (sk_report){ 0 };
	report_ctx c = { .r = out, .state_dir = state_dir, .labels = labels, .blocked = json_object() };
	if (!c.blocked)
		return sk_fail(err, ENOMEM, "out of memory");
	int r = sk_audit_read(files, n_files, on_record, &c, err);
	if (r == -ENOMEM)
		r = sk_fail(err, ENOMEM, "out of memory");
	sk_replay_options ro = { .state_dir = state_dir, .sample_bp = 10000 };
	if (r == 0)
		r = sk_audit_replay(files, n_files, &ro, NULL, NULL, &out->replay, err);
	if (r == 0 && redecide && labels) {
		sk_replay_result ignored;
		ro.profile = redecide;
		out->redecided = true;
		r = sk_audit_replay(files, n_files, &ro, on_redecided, labels, &ignored, err);
	}
	if (r == 0) {
		finish(out, &c);
		score(out, labels);
	}
	for (size_t i = 0; i < c.n_esc; i++)
		free(c.esc[i].id);
	free(c.esc);
	json_decref(c.blocked);
	if (r < 0)
		sk_report_free(out);
	return r;
}

void sk_report_free(sk_report *r)
{
	for (size_t i = 0; i < r->n_profiles; i++)
		free(r->profiles[i].digest);
	free(r->profiles);
	free(r->latencies_ms);
	tallies_free(&r->deny_reason);
	tallies_free(&r->deny_surface);
	tallies_free(&r->deny_command);
	tallies_free(&r->deny_chain);
	*r = (sk_report){ 0 };
}
