/* A human's answer to an escalation, one function for `stockade approve|deny`
 * and stockaded's escalation.decide: the RESOLUTION receipt first (a
 * decision that cannot be recorded is not made), then the session journal. */
#include <stdio.h>

#include "stockade/audit.h"
#include "stockade/cli.h"

static int resolution_receipt(const char *dir, const sk_session *s, const sk_session_chain *c, bool approve,
			      const char *by, int64_t latency_ms, uint64_t *seq, sk_error *err)
{
	sk_audit_log *log = NULL;
	sk_audit_options o = { .state_dir = dir };
	int r = sk_audit_open(&o, &log, err);
	if (r < 0)
		return r;
	char esc_id[SK_SESSION_ID_MAX + 16], chain_id[16];
	snprintf(esc_id, sizeof(esc_id), "%s#%u", s->id, c->id);
	snprintf(chain_id, sizeof(chain_id), "%u", c->id);
	const char *paths[1] = { c->path };
	/* The receipt has no latency field: it travels in the config object. */
	json_t *cfg = latency_ms >= 0 ? json_pack("{s:{s:I}}", "escalation", "latency_ms", (json_int_t)latency_ms) : NULL;
	sk_receipt rc = {
		.kind = SK_RECEIPT_RESOLUTION, .session = s->id, .turn = s->turns, .chain_id = chain_id,
		.attempt = (uint32_t)c->n,
		.surface = { .type = c->type, .key = c->keys[0], .paths = paths, .n_paths = c->path ? 1 : 0 },
		.verdict = approve ? "allow" : "deny", .reason = approve ? "approved" : "sticky_deny", .rule = "session",
		.escalation = { .id = esc_id, .decision = approve ? "approve" : "deny", .by = by },
		.config = cfg,
	};
	sk_receipt_id id = { 0 };
	r = sk_audit_append(log, &rc, &id, err);
	sk_audit_close(log);
	json_decref(cfg);
	if (r == 0 && seq)
		*seq = id.seq;
	return r;
}

int sk_escalation_resolve(const char *state_dir, const char *session, uint32_t chain, bool approve,
			  const char *reason, const char *by, int64_t latency_ms, uint64_t *receipt_seq, sk_error *err)
{
	_cleanup_session_ sk_session *s = NULL;
	int r = sk_session_open(state_dir, session, false, &s, err);
	if (r < 0)
		return r;
	const sk_session_chain *c = sk_session_chain_get(s, chain);
	if (!c)
		return sk_fail(err, ENOENT, "session '%s' has no chain %u (see `stockade session show %s`)", s->id,
			       chain, s->id);
	if ((r = resolution_receipt(state_dir, s, c, approve, by, latency_ms, receipt_seq, err)) < 0)
		return r;
	return sk_session_decide(s, chain, approve, reason, by, err);
}
