/* An sk_receipt as the JSON object that goes into the log.  Only what the
 * run path knows goes in here; the writer adds seq, time, host and chain. */
#include <inttypes.h>
#include <sodium.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "internal.h"

static const char *kind_name(sk_receipt_kind k)
{
	switch (k) {
	case SK_RECEIPT_COMMAND: return "command";
	case SK_RECEIPT_EVENT: return "event";
	case SK_RECEIPT_ESCALATION: return "escalation";
	case SK_RECEIPT_RESOLUTION: return "resolution";
	case SK_RECEIPT_OUTCOME: return "outcome";
	}
	return NULL;
}

/* Set key to a string when s is non-NULL; jansson refuses invalid UTF-8. */
static int set_str(json_t *o, const char *key, const char *s)
{
	if (!s)
		return 0;
	json_t *v = json_string(s);
	if (!v)
		return -EILSEQ;
	return json_object_set_new(o, key, v) < 0 ? -ENOMEM : 0;
}

static int set_int(json_t *o, const char *key, int64_t v)
{
	return json_object_set_new(o, key, json_integer(v)) < 0 ? -ENOMEM : 0;
}

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *s = v[i] ? json_string(v[i]) : NULL;
		if (!s || json_array_append_new(a, s) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *surface_json(const sk_receipt_surface *s)
{
	json_t *o = json_object();
	int r = set_str(o, "type", s->type) | set_str(o, "key", s->key);
	if (s->n_paths) {
		json_t *p = str_array(s->paths, s->n_paths);
		r |= p ? json_object_set_new(o, "paths", p) : -EILSEQ;
	}
	if (s->has_inode) {
		/* Strings: inode numbers (overlayfs xino) exceed 2^53. */
		char dev[48], ino[24];
		snprintf(dev, sizeof(dev), "%u:%u", major(s->dev), minor(s->dev));
		snprintf(ino, sizeof(ino), "%" PRIu64, s->ino);
		r |= set_str(o, "dev", dev) | set_str(o, "ino", ino);
	}
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *event_json(const sk_receipt_event *e)
{
	json_t *o = json_object();
	int r = set_str(o, "syscall", e->syscall) | set_str(o, "path", e->path) |
		set_str(o, "cwd", e->cwd);
	if (e->argc) {
		json_t *a = str_array(e->argv, e->argc);
		r |= a ? json_object_set_new(o, "argv", a) : -EILSEQ;
	}
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *outcome_json(const sk_receipt_outcome *oc)
{
	json_t *o = json_object(), *red = json_object();
	int r = set_int(o, "exit", oc->exit_status) | set_int(o, "duration_ms", (int64_t)oc->duration_ms);
	r |= json_object_set_new(o, "timed_out", json_boolean(oc->timed_out));
	for (size_t i = 0; i < oc->n_redactions; i++) {
		if (!oc->redactions[i].rule || oc->redactions[i].count > (uint64_t)SK_MAX_SAFE_INT)
			r = -EINVAL;
		else
			r |= set_int(red, oc->redactions[i].rule, (int64_t)oc->redactions[i].count);
	}
	r |= json_object_set_new(o, "redactions", red);
	if (oc->n_quarantined) {
		json_t *q = json_array();
		for (size_t i = 0; q && i < oc->n_quarantined; i++) {
			const sk_receipt_quarantine *x = &oc->quarantined[i];
			json_t *e = json_pack("{s:s, s:s, s:s}", "path", x->path, "moved_to", x->moved_to, "why", x->why);
			r |= e ? json_array_append_new(q, e) : -EILSEQ;   /* not UTF-8 */
		}
		r |= q ? json_object_set_new(o, "quarantined", q) : -ENOMEM;
	}
	if (r) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* "sha256:<hex>" of the canonical form of v. */
static int digest_json(const json_t *v, char out[8 + SK_HASH_HEX_LEN], sk_error *err)
{
	_cleanup_free_ char *canon = NULL;
	size_t len = 0;
	int r = sk_jcs_serialize(v, &canon, &len, err);
	if (r < 0)
		return r;
	unsigned char h[32];
	sk_sha256((const unsigned char *)canon, len, h);
	memcpy(out, "sha256:", 7);
	sk_hex(h, 32, out + 7);
	return 0;
}

static int add_decide_input(json_t *o, const sk_receipt *r, sk_error *err)
{
	if (!r->decide_event && !r->state_view)
		return 0;
	json_t *d = json_object();
	if (r->decide_event)
		json_object_set(d, "event", (json_t *)r->decide_event);
	if (r->state_view) {
		char dg[8 + SK_HASH_HEX_LEN];
		int rc = digest_json(r->state_view, dg, err);
		if (rc < 0) {
			json_decref(d);
			return rc;
		}
		json_object_set(d, "state", (json_t *)r->state_view);
		set_str(o, "state_digest", dg);
	}
	return json_object_set_new(o, "decide", d) < 0 ? sk_fail(err, ENOMEM, "out of memory") : 0;
}

json_t *sk_receipt_to_json(const sk_receipt *r, sk_error *err)
{
	const char *kind = kind_name(r->kind);
	if (!kind) {
		sk_fail(err, EINVAL, "unknown receipt kind %d", (int)r->kind);
		return NULL;
	}
	json_t *o = json_object();
	int rc = set_str(o, "type", kind) | set_str(o, "session", r->session) |
		 set_str(o, "chain", r->chain_id) | set_str(o, "verdict", r->verdict) |
		 set_str(o, "reason", r->reason) | set_str(o, "rule", r->rule) |
		 set_str(o, "profile_digest", r->profile_digest);
	rc |= set_int(o, "turn", r->turn) | set_int(o, "attempt", r->attempt);
	if (r->surface.type || r->surface.key) {
		json_t *s = surface_json(&r->surface);
		rc |= s ? json_object_set_new(o, "surface", s) : -EILSEQ;
	}
	if (r->event.syscall || r->event.path || r->event.argc || r->event.cwd) {
		json_t *e = event_json(&r->event);
		rc |= e ? json_object_set_new(o, "event", e) : -EILSEQ;
	}
	if (r->outcome.present) {
		json_t *oc = outcome_json(&r->outcome);
		rc |= oc ? json_object_set_new(o, "outcome", oc) : -EINVAL;
	}
	if (r->config)
		rc |= json_object_set(o, "config", (json_t *)r->config);
	if (r->escalation.id) {
		json_t *e = json_object();
		rc |= set_str(e, "id", r->escalation.id) | set_str(e, "decision", r->escalation.decision) |
		      set_str(e, "by", r->escalation.by);
		rc |= json_object_set_new(o, "escalation", e);
	}
	if (rc) {
		json_decref(o);
		sk_fail(err, EINVAL, "receipt has a string that is not UTF-8, or a count beyond 2^53");
		return NULL;
	}
	if (add_decide_input(o, r, err) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}
