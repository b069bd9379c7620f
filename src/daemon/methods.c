/* The JSON-RPC methods of stockaded (docs/protocol.md).  A session is seen
 * and driven by the uid that opened it; operators (root, --operator-uid,
 * --operator-group) also see every session and decide escalations.  Work
 * that writes a session's files runs as its owner in a task (jobs.c). */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "stockade/cli.h"
#include "internal.h"

/* ---- session.open ------------------------------------------------------- */

static json_t *open_task(const char *state_dir, json_t *ctx)
{
	sk_session *s = NULL;
	sk_error err = { 0 };
	const char *id = json_string_value(json_object_get(ctx, "session"));
	if (sk_session_open(state_dir, id, true, &s, &err) < 0)
		return json_pack("{s:s}", "error", err.msg);
	json_t *r = json_pack("{s:s, s:I, s:I}", "session", s->id, "turns", (json_int_t)s->turns, "chains",
			      (json_int_t)s->n_chains);
	sk_session_free(s);
	return r;
}

static void open_done(dmn *d, job *j, json_t *r)
{
	json_t *e = json_object_get(r, "error");
	if (!r || e) {
		if (j->c)
			dmn_reply_error(d, j->c, j->id, SK_RPC_RUN_FAILED, e ? json_string_value(e) : "the session could not be opened");
		return;
	}
	json_t *ctx = j->ctx;
	dsession *s = dmn_session_find(d, j->sid, j->uid);
	if (!s)
		s = dmn_session_add(d, j->sid, j->uid, (gid_t)json_integer_value(json_object_get(ctx, "gid")),
				    json_string_value(json_object_get(ctx, "profile")),
				    json_string_value(json_object_get(ctx, "workspace")), json_object_get(ctx, "env"));
	if (!s || dmn_session_save(d, s) < 0) {
		if (j->c)
			dmn_reply_error(d, j->c, j->id, SK_RPC_INTERNAL, "cannot record the session");
		return;
	}
	if (j->c)
		dmn_reply(d, j->c, j->id, json_incref(r));
}

static void m_session_open(dmn *d, client *c, sk_rpc_msg *m)
{
	sk_open_params p;
	sk_error err = { 0 };
	if (sk_rpc_open_params(m->params, &p, &err) < 0)
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, err.msg);
	if (geteuid() != 0 && c->uid != geteuid())
		return dmn_reply_error(d, c, m->id, SK_RPC_RUN_FAILED, "this daemon serves only its own uid");
	dsession *known = p.session ? dmn_session_find(d, p.session, c->uid) : NULL;
	if (known)   /* resumed: the session keeps its workspace, profile and env */
		return dmn_reply(d, c, m->id, json_pack("{s:s, s:b}", "session", known->id, "resumed", 1));
	if (!p.workspace)
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS,
				       "\"workspace\" is required: this daemon does not know that session");
	struct stat st;
	if (stat(p.workspace, &st) < 0 || !S_ISDIR(st.st_mode))
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"workspace\" is not an existing directory");
	dsession s = { .uid = c->uid, .gid = c->gid };
	if (p.session) {
		snprintf(s.id, sizeof(s.id), "%s", p.session);
	} else {
		unsigned char rnd[16];
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return dmn_reply_error(d, c, m->id, SK_RPC_INTERNAL, "no randomness for a session id");
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(s.id + 2 * i, 3, "%02x", rnd[i]);
	}
	json_t *ctx = json_pack("{s:s, s:s, s:s?, s:O?, s:I}", "session", s.id, "workspace", p.workspace, "profile",
				p.profile, "env", p.env, "gid", (json_int_t)c->gid);
	if (!ctx)
		return dmn_reply_error(d, c, m->id, SK_RPC_INTERNAL, "out of memory");
	if (dmn_start_task(d, c, &s, m->id, open_task, ctx, open_done, &err) < 0)
		dmn_reply_error(d, c, m->id, SK_RPC_RUN_FAILED, err.msg);
	json_decref(ctx);
}

/* ---- finding sessions --------------------------------------------------- */

/* The caller's session, or (for an operator) anyone's. */
static dsession *visible_session(dmn *d, client *c, json_t *params, json_t *id)
{
	json_t *sid = json_object_get(params, "session");
	if (!json_is_string(sid)) {
		dmn_reply_error(d, c, id, SK_RPC_INVALID_PARAMS, "\"session\" must be a string");
		return NULL;
	}
	dsession *s = dmn_session_find(d, json_string_value(sid), c->uid);
	bool ambiguous = false;
	if (!s && c->operator) {
		json_t *uid = json_object_get(params, "uid");
		s = dmn_session_lookup(d, json_string_value(sid), json_is_integer(uid) ? json_integer_value(uid) : -1,
				       &ambiguous);
	}
	if (!s)
		dmn_reply_error(d, c, id, ambiguous ? SK_RPC_INVALID_PARAMS : SK_RPC_NO_SESSION,
				ambiguous ? "two uids have a session of this id: give \"uid\"" : "no such session for this uid");
	return s;
}

static int load_journal(dmn *d, const dsession *ds, sk_session **out, sk_error *err)
{
	char dir[PATH_MAX];
	if (dmn_state_dir_for(d, ds->uid, ds->gid, dir, sizeof(dir)) < 0)
		return sk_fail(err, EIO, "cannot reach the state directory of uid %u", (unsigned)ds->uid);
	return sk_session_open(dir, ds->id, false, out, err);
}

static void m_session_close(dmn *d, client *c, sk_rpc_msg *m)
{
	json_t *id = json_object_get(m->params, "session");
	if (!json_is_string(id))
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"session\" must be a string");
	dsession *s = dmn_session_find(d, json_string_value(id), c->uid);
	if (!s)
		return dmn_reply_error(d, c, m->id, SK_RPC_NO_SESSION, "no such session for this uid");
	dmn_session_remove(d, s);
	dmn_reply(d, c, m->id, json_pack("{s:b}", "closed", 1));
}

static void m_session_show(dmn *d, client *c, sk_rpc_msg *m)
{
	dsession *ds = visible_session(d, c, m->params, m->id);
	if (!ds)
		return;
	sk_session *s = NULL;
	sk_error err = { 0 };
	if (load_journal(d, ds, &s, &err) < 0)
		return dmn_reply_error(d, c, m->id, SK_RPC_RUN_FAILED, err.msg);
	json_t *o = sk_session_to_json(s);
	sk_session_free(s);
	if (!o)
		return dmn_reply_error(d, c, m->id, SK_RPC_INTERNAL, "out of memory");
	json_object_set_new(o, "uid", json_integer(ds->uid));
	json_object_set_new(o, "workspace", json_string(ds->workspace));
	json_object_set_new(o, "profile", json_string(ds->profile ? ds->profile : "default"));
	dmn_reply(d, c, m->id, o);
}

/* ---- escalations -------------------------------------------------------- */

static unsigned waiting_on(const dmn *d, const dsession *ds, uint32_t chain)
{
	unsigned n = 0;
	for (const hold *h = d->holds; h; h = h->next)
		n += h->uid == ds->uid && h->chain == chain && !strcmp(h->sid, ds->id);
	return n;
}

static void list_pending(dmn *d, const dsession *ds, json_t *out)
{
	sk_session *s = NULL;
	sk_error err = { 0 };
	if (load_journal(d, ds, &s, &err) < 0)
		return;
	for (size_t i = 0; i < s->n_chains; i++) {
		const sk_session_chain *ch = &s->chains[i];
		if (ch->esc != SK_ESC_PENDING)
			continue;
		char id[SK_SESSION_ID_MAX + 16], key[16];
		snprintf(id, sizeof(id), "%s#%u", ds->id, ch->id);
		snprintf(key, sizeof(key), "%u", ch->id);
		json_t *at = json_object_get(ds->escalated_at, key);
		json_array_append_new(out, json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:O?, s:I}", "id", id,
			"session", ds->id, "uid", (json_int_t)ds->uid, "chain", (json_int_t)ch->id, "type", ch->type,
			"surface", ch->path ? ch->path : ch->keys[0], "attempts", (json_int_t)ch->n, "turn",
			(json_int_t)ch->esc_turn, "escalated_at_ms", at, "waiting", (json_int_t)waiting_on(d, ds, ch->id)));
	}
	sk_session_free(s);
}

static void m_escalation_list(dmn *d, client *c, sk_rpc_msg *m)
{
	json_t *out = json_array();
	for (dsession *s = d->sessions; s && out; s = s->next)
		if (s->uid == c->uid || c->operator)
			list_pending(d, s, out);
	dmn_reply(d, c, m->id, json_pack("{s:o}", "escalations", out));
}

static json_t *decide_task(const char *state_dir, json_t *ctx)
{
	sk_error err = { 0 };
	uint64_t seq = 0;
	json_t *lat = json_object_get(ctx, "latency_ms");
	int r = sk_escalation_resolve(state_dir, json_string_value(json_object_get(ctx, "session")),
				      (uint32_t)json_integer_value(json_object_get(ctx, "chain")),
				      json_is_true(json_object_get(ctx, "approve")),
				      json_string_value(json_object_get(ctx, "reason")),
				      json_string_value(json_object_get(ctx, "by")),
				      json_is_integer(lat) ? (int64_t)json_integer_value(lat) : -1, &seq, &err);
	if (r < 0)
		return json_pack("{s:s, s:i}", "error", err.msg, "code", r == -ENOENT ? SK_RPC_NO_CHAIN : SK_RPC_RUN_FAILED);
	return json_pack("{s:I}", "receipt", (json_int_t)seq);
}

static void decide_done(dmn *d, job *j, json_t *r)
{
	json_t *e = json_object_get(r, "error");
	if (!r || e) {
		if (j->c)
			dmn_reply_error(d, j->c, j->id, r ? (int)json_integer_value(json_object_get(r, "code")) : SK_RPC_INTERNAL,
					e ? json_string_value(e) : "the decision could not be recorded");
		return;
	}
	json_t *ctx = j->ctx;
	bool approve = json_is_true(json_object_get(ctx, "approve"));
	uint32_t chain = (uint32_t)json_integer_value(json_object_get(ctx, "chain"));
	json_t *res = json_pack("{s:s, s:I, s:s, s:O?, s:s, s:O?, s:O}", "session", j->sid, "chain", (json_int_t)chain,
				"decision", approve ? "approve" : "deny", "reason", json_object_get(ctx, "reason"), "by",
				json_string_value(json_object_get(ctx, "by")), "latency_ms",
				json_object_get(ctx, "latency_ms"), "receipt", json_object_get(r, "receipt"));
	dsession *s = dmn_session_find(d, j->sid, j->uid);
	char key[16];
	snprintf(key, sizeof(key), "%u", chain);
	if (s && !json_object_del(s->escalated_at, key))
		dmn_session_save(d, s);
	dmn_release_holds(d, j->uid, j->sid, chain, approve, res);
	if (j->c)
		dmn_reply(d, j->c, j->id, json_incref(res));
	json_decref(res);
}

static void m_escalation_decide(dmn *d, client *c, sk_rpc_msg *m)
{
	if (!c->operator)
		return dmn_reply_error(d, c, m->id, SK_RPC_NOT_OPERATOR,
				       c->foreign ? "deciding escalations needs an operator in the daemon's own pid "
						    "namespace, never a command inside a sandbox"
						  : "deciding escalations needs an operator (root, --operator-uid or "
						    "--operator-group)");
	sk_decide_params p;
	sk_error err = { 0 };
	if (sk_rpc_decide_params(m->params, &p, &err) < 0)
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, err.msg);
	bool ambiguous;
	dsession *s = dmn_session_lookup(d, p.session, p.uid, &ambiguous);
	if (!s)
		return dmn_reply_error(d, c, m->id, ambiguous ? SK_RPC_INVALID_PARAMS : SK_RPC_NO_SESSION,
				       ambiguous ? "two uids have a session of this id: give \"uid\"" : "no such session");
	char key[16], by[96];
	snprintf(key, sizeof(key), "%u", p.chain);
	json_t *at = json_object_get(s->escalated_at, key);
	uint64_t now = dmn_wall_ms();
	json_t *lat = json_is_integer(at) && (uint64_t)json_integer_value(at) <= now
			      ? json_integer((json_int_t)(now - (uint64_t)json_integer_value(at))) : NULL;
	struct passwd *pw = getpwuid(c->uid);
	snprintf(by, sizeof(by), "uid %u%s%s", (unsigned)c->uid, pw ? " " : "", pw ? pw->pw_name : "");
	json_t *ctx = json_pack("{s:s, s:I, s:b, s:s?, s:s, s:o?}", "session", s->id, "chain", (json_int_t)p.chain,
				"approve", p.approve, "reason", p.reason, "by", by, "latency_ms", lat);
	if (!ctx)
		return dmn_reply_error(d, c, m->id, SK_RPC_INTERNAL, "out of memory");
	if (dmn_start_task(d, c, s, m->id, decide_task, ctx, decide_done, &err) < 0)
		dmn_reply_error(d, c, m->id, SK_RPC_RUN_FAILED, err.msg);
	json_decref(ctx);
}

/* ---- exec --------------------------------------------------------------- */

static bool id_in_use(dmn *d, client *c, json_t *id)
{
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c && j->is_exec && json_equal(j->id, id))
			return true;
	for (hold *h = d->holds; h; h = h->next)
		if (h->c == c && json_equal(h->id, id))
			return true;
	return false;
}

static void m_exec(dmn *d, client *c, sk_rpc_msg *m)
{
	if (!m->id || json_is_null(m->id))
		return dmn_reply_error(d, c, NULL, SK_RPC_INVALID_REQUEST, "exec needs an id: its output is tagged with it");
	if (d->stop)
		return dmn_reply_error(d, c, m->id, SK_RPC_SHUTTING_DOWN, "the daemon is shutting down");
	if (id_in_use(d, c, m->id))
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_REQUEST, "an exec with this id is still running");
	sk_exec_params p;
	sk_error err = { 0 };
	if (sk_rpc_exec_params(m->params, &p, &err) < 0)
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, err.msg);
	free(p.argv);
	dsession *s = dmn_session_find(d, p.session, c->uid);
	if (!s)
		return dmn_reply_error(d, c, m->id, SK_RPC_NO_SESSION, "no such session for this uid");
	uint64_t until = p.wait_ms ? sk_now_ns() + p.wait_ms * 1000000ULL : 0;
	if (dmn_start_exec(d, c, s, m->params, m->id, NULL, until, &err) < 0)
		dmn_reply_error(d, c, m->id, SK_RPC_RUN_FAILED, err.msg);
}

static void m_exec_cancel(dmn *d, client *c, sk_rpc_msg *m)
{
	json_t *id = json_object_get(m->params, "id");
	if (!id)
		return dmn_reply_error(d, c, m->id, SK_RPC_INVALID_PARAMS, "\"id\" (the exec's request id) is required");
	for (job *j = d->jobs; j; j = j->next)
		if (j->c == c && j->is_exec && json_equal(j->id, id) && !j->cancelled &&
		    (j->fds[0] >= 0 || j->fds[1] >= 0 || j->fds[2] >= 0)) {
			j->cancelled = true;
			dmn_kill_job(d, j);
			return dmn_reply(d, c, m->id, json_pack("{s:b}", "cancelled", 1));
		}
	for (hold **pp = &d->holds; *pp; pp = &(*pp)->next)
		if ((*pp)->c == c && json_equal((*pp)->id, id)) {
			hold *h = *pp;
			*pp = h->next;
			dmn_reply(d, c, m->id, json_pack("{s:b}", "cancelled", 1));
			dmn_reply(d, c, h->id, json_incref(h->result));   /* still pending */
			json_decref(h->id), json_decref(h->params), json_decref(h->result), free(h);
			return;
		}
	dmn_reply_error(d, c, m->id, SK_RPC_NO_EXEC, "no running exec with this id on this connection");
}

static void m_status(dmn *d, client *c, sk_rpc_msg *m)
{
	unsigned mine = 0, waiting = 0;
	for (dsession *s = d->sessions; s; s = s->next)
		mine += s->uid == c->uid;
	for (hold *h = d->holds; h; h = h->next)
		waiting++;
	dmn_reply(d, c, m->id, json_pack("{s:s, s:I, s:i, s:i, s:i, s:i, s:b, s:b}", "version", STOCKADE_VERSION,
		"uptime_s", (json_int_t)((sk_now_ns() - d->started_ns) / 1000000000ULL), "sessions", (int)d->n_sessions,
		"your_sessions", (int)mine, "running", (int)d->n_running, "waiting", (int)waiting, "operator", c->operator,
		"draining", d->stop));
}

static const struct {
	const char *name;
	void (*fn)(dmn *, client *, sk_rpc_msg *);
} methods[] = {
	{ "status", m_status },
	{ "session.open", m_session_open },
	{ "session.show", m_session_show },
	{ "session.close", m_session_close },
	{ "exec", m_exec },
	{ "exec.cancel", m_exec_cancel },
	{ "escalation.list", m_escalation_list },
	{ "escalation.decide", m_escalation_decide },
};

void dmn_handle_line(dmn *d, client *c, const char *line, size_t len)
{
	sk_rpc_msg m;
	sk_error err = { 0 };
	int code = sk_rpc_parse(line, len, &m, &err);
	if (code < 0) {
		dmn_reply_error(d, c, m.id, code, err.msg);
	} else {
		size_t i = 0;
		while (i < SK_ARRAY_LEN(methods) && strcmp(methods[i].name, m.method))
			i++;
		if (i == SK_ARRAY_LEN(methods))
			dmn_reply_error(d, c, m.id, SK_RPC_METHOD_NOT_FOUND, "unknown method; see docs/protocol.md");
		else
			methods[i].fn(d, c, &m);
	}
	sk_rpc_msg_free(&m);
}
