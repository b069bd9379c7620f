/* Folding journal records into the in-memory session: the one place that
 * knows what each record means.  Pure: no I/O. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

bool sk_session_id_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > SK_SESSION_ID_MAX || id[0] == '.' || id[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", id[i]))
			return false;
	return true;
}

static bool chain_has_key(const sk_session_chain *c, const char *key)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (!strcmp(c->keys[i], key))
			return true;
	return false;
}

uint32_t sk_session_chain_of(const sk_session *s, const char *key, const char *content)
{
	for (size_t i = 0; key && i < s->n_chains; i++)
		if (chain_has_key(&s->chains[i], key))
			return s->chains[i].id;
	for (size_t i = 0; content && i < s->n_chains; i++)
		if (s->chains[i].content && !strcmp(s->chains[i].content, content))
			return s->chains[i].id;
	return 0;
}

const sk_session_chain *sk_session_chain_get(const sk_session *s, uint32_t id)
{
	return id >= 1 && id <= s->n_chains ? &s->chains[id - 1] : NULL;
}

static sk_session_chain *new_chain(sk_session *s, const char *type)
{
	if (s->n_chains == s->cap_chains) {
		size_t cap = s->cap_chains ? s->cap_chains * 2 : 8;
		sk_session_chain *n = realloc(s->chains, cap * sizeof(*n));
		if (!n)
			return NULL;
		s->chains = n;
		s->cap_chains = cap;
	}
	sk_session_chain *c = &s->chains[s->n_chains];
	memset(c, 0, sizeof(*c));
	if (!(c->type = strdup(type ? type : "file")))
		return NULL;
	s->n_chains++;
	c->id = (uint32_t)s->n_chains;
	return c;
}

static int add_key(sk_session_chain *c, const char *key)
{
	if (!key || chain_has_key(c, key))
		return 0;
	char **n = realloc(c->keys, (c->n_keys + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->keys = n;
	if (!(c->keys[c->n_keys] = strdup(key)))
		return -ENOMEM;
	c->n_keys++;
	return 0;
}

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static uint64_t num(const json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? (uint64_t)v : 0;
}

static int fold_attempt(sk_session *s, const json_t *o, sk_error *err)
{
	const char *key = str(o, "key"), *content = str(o, "content"), *verdict = str(o, "verdict");
	int action = verdict ? (!strcmp(verdict, "allow") ? SK_ACTION_ALLOW : !strcmp(verdict, "deny") ? SK_ACTION_DENY
				: !strcmp(verdict, "escalate") ? SK_ACTION_ESCALATE : -1) : -1;
	if (!key || action < 0)
		return sk_fail(err, EBADMSG, "attempt record without a key or a verdict");
	uint32_t id = sk_session_chain_of(s, key, content);
	sk_session_chain *c = id ? &s->chains[id - 1] : new_chain(s, str(o, "type"));
	if (!c || add_key(c, key) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	if (content && !c->content) {
		if (!(c->content = strdup(content)))
			return sk_fail(err, ENOMEM, "out of memory");
		c->size = num(o, "size");
	}
	if (!c->path && str(o, "path") && !(c->path = strdup(str(o, "path"))))
		return sk_fail(err, ENOMEM, "out of memory");
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		sk_session_attempt *n = realloc(c->v, cap * sizeof(*n));
		if (!n)
			return sk_fail(err, ENOMEM, "out of memory");
		c->v = n;
		c->cap = cap;
	}
	sk_session_attempt *a = &c->v[c->n];
	*a = (sk_session_attempt){
		.turn = (uint32_t)num(o, "turn"), .n = (uint32_t)c->n + 1, .op = dup_or_null(str(o, "op")),
		.via = dup_or_null(str(o, "via")), .path = dup_or_null(str(o, "path")),
		.verdict = (sk_action)action, .reason = dup_or_null(str(o, "reason")),
		.rule = dup_or_null(str(o, "rule")), .receipt = num(o, "receipt"),
	};
	c->n++;
	c->since_decision++;
	if (action != SK_ACTION_ALLOW)
		c->denied = true;
	if (action == SK_ACTION_ESCALATE && c->esc != SK_ESC_PENDING) {
		c->esc = SK_ESC_PENDING;
		c->esc_turn = a->turn;
	}
	return 0;
}

static int fold_soft(sk_session *s, const json_t *o)
{
	uint32_t turn = (uint32_t)num(o, "turn");
	for (size_t i = 0; i < s->n_chains; i++) {
		sk_session_chain *c = &s->chains[i];
		bool hit = false;
		for (size_t j = 0; j < c->n; j++)
			if (c->v[j].turn == turn && c->v[j].verdict != SK_ACTION_ALLOW && !c->v[j].soft_block)
				c->v[j].soft_block = hit = true;
		c->soft_blocks += hit;
	}
	return 0;
}

static int fold_decision(sk_session *s, const json_t *o, sk_error *err)
{
	uint32_t id = (uint32_t)num(o, "chain");
	const char *d = str(o, "decision");
	if (!id || id > s->n_chains || !d || (strcmp(d, "approve") && strcmp(d, "deny")))
		return sk_fail(err, EBADMSG, "decision record names no known chain or decision");
	sk_session_chain *c = &s->chains[id - 1];
	c->esc = !strcmp(d, "approve") ? SK_ESC_APPROVED : SK_ESC_DENIED;
	c->since_decision = 0;
	free(c->decision_reason);
	free(c->decided_by);
	c->decision_reason = dup_or_null(str(o, "reason"));
	c->decided_by = dup_or_null(str(o, "by"));
	return 0;
}

int sk_session_fold(sk_session *s, const json_t *o, sk_error *err)
{
	const char *t = str(o, "t");
	if (!t)
		return sk_fail(err, EBADMSG, "record without \"t\"");
	if (!strcmp(t, "turn")) {
		uint32_t n = (uint32_t)num(o, "turn");
		if (n > s->turns)
			s->turns = n;
		return 0;
	}
	if (!strcmp(t, "attempt"))
		return fold_attempt(s, o, err);
	if (!strcmp(t, "soft"))
		return fold_soft(s, o);
	if (!strcmp(t, "decision"))
		return fold_decision(s, o, err);
	return sk_fail(err, EBADMSG, "unknown record type \"%s\"", t);
}

static void free_chain(sk_session_chain *c)
{
	for (size_t i = 0; i < c->n; i++) {
		sk_session_attempt *a = &c->v[i];
		free(a->op);
		free(a->via);
		free(a->path);
		free(a->reason);
		free(a->rule);
	}
	for (size_t i = 0; i < c->n_keys; i++)
		free(c->keys[i]);
	free(c->keys);
	free(c->v);
	free(c->type);
	free(c->content);
	free(c->path);
	free(c->decision_reason);
	free(c->decided_by);
}

void sk_session_free(sk_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_chains; i++)
		free_chain(&s->chains[i]);
	free(s->chains);
	if (s->fd >= 0)
		close(s->fd);
	free(s->id);
	free(s->dir);
	free(s->journal);
	free(s);
}
