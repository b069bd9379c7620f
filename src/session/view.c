/* The session as decide() sees it (a sorted view of surface states), and
 * as people see it (`stockade session show`). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const sk_surface_state *)a)->key, ((const sk_surface_state *)b)->key);
}

sk_surface_state *sk_session_view_find(sk_session_view *v, const char *key)
{
	size_t lo = 0, hi = v->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v->v[mid].key, key);
		if (c == 0)
			return (sk_surface_state *)&v->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One more attempt on key (inserted when new); denied makes it sticky. */
int sk_session_view_bump(sk_session_view *v, const char *key, bool denied)
{
	sk_surface_state *st = sk_session_view_find(v, key);
	if (!st) {
		sk_surface_state *n = realloc((void *)v->v, (v->n + 1) * sizeof(*n));
		char *k = strdup(key);
		if (!n || !k) {
			if (n)
				v->v = n;
			free(k);
			return -ENOMEM;
		}
		size_t i = v->n;
		while (i > 0 && strcmp(n[i - 1].key, key) > 0) {
			n[i] = n[i - 1];
			i--;
		}
		n[i] = (sk_surface_state){ .key = k };
		v->v = n;
		v->n++;
		st = &n[i];
	}
	if (st->attempts < UINT32_MAX)
		st->attempts++;
	st->denied |= denied;
	return 0;
}

static int push(sk_surface_state **v, size_t *n, size_t *cap, const char *key, const sk_session_chain *c)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		sk_surface_state *x = realloc(*v, nc * sizeof(*x));
		if (!x)
			return -ENOMEM;
		*v = x;
		*cap = nc;
	}
	char *k = strdup(key);
	if (!k)
		return -ENOMEM;
	(*v)[(*n)++] = (sk_surface_state){
		.key = k, .attempts = c ? c->since_decision : 0,
		.denied = c ? c->denied && c->esc != SK_ESC_APPROVED : true,
		.approved = c && c->esc == SK_ESC_APPROVED,
	};
	return 0;
}

int sk_session_view_build(const sk_session *s, const char *const *extra, size_t n_extra, sk_session_view *out)
{
	sk_surface_state *v = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && s && i < s->n_chains; i++) {
		const sk_session_chain *c = &s->chains[i];
		for (size_t k = 0; r == 0 && k < c->n_keys; k++)
			r = push(&v, &n, &cap, c->keys[k], c);
		if (r == 0 && c->content)
			r = push(&v, &n, &cap, c->content, c);
	}
	for (size_t i = 0; r == 0 && i < n_extra; i++)
		if (!s || !sk_session_chain_of(s, NULL, extra[i]))
			r = push(&v, &n, &cap, extra[i], NULL);
	out->v = v;
	out->n = n;
	if (r < 0) {
		sk_session_view_free(out);
		return r;
	}
	sk_sort(v, n, sizeof(*v), cmp_state);
	/* A key met under two chains (rare: a copy turned out to be another
	 * chain's object) keeps the strictest state. */
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (w && !strcmp(v[w - 1].key, v[i].key)) {
			v[w - 1].denied |= v[i].denied;
			v[w - 1].approved &= v[i].approved;
			if (v[i].attempts > v[w - 1].attempts)
				v[w - 1].attempts = v[i].attempts;
			free((char *)v[i].key);
			continue;
		}
		v[w++] = v[i];
	}
	out->n = w;
	return 0;
}

void sk_session_view_free(sk_session_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free((char *)v->v[i].key);
	free((void *)v->v);
	v->v = NULL;
	v->n = 0;
}

static const char *esc_name(sk_escalation_state e)
{
	static const char *names[] = { "none", "pending", "approved", "denied" };
	return names[e];
}

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *attempt_json(const sk_session_attempt *a)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "attempt", (json_int_t)a->n,
			      "turn", (json_int_t)a->turn, "verdict", sk_action_name(a->verdict),
			      "op", opt_str(a->op), "via", opt_str(a->via), "path", opt_str(a->path),
			      "reason", opt_str(a->reason), "rule", opt_str(a->rule), "soft_block", a->soft_block);
	if (o && a->receipt)
		json_object_set_new(o, "receipt", json_integer((json_int_t)a->receipt));
	return o;
}

static json_t *chain_json(const sk_session_chain *c)
{
	json_t *keys = json_array(), *attempts = json_array();
	for (size_t i = 0; keys && i < c->n_keys; i++)
		json_array_append_new(keys, json_string(c->keys[i]));
	for (size_t i = 0; attempts && i < c->n; i++)
		json_array_append_new(attempts, attempt_json(&c->v[i]));
	json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:b, s:s, s:I, s:I, s:o}", "chain", (json_int_t)c->id,
			      "type", c->type, "keys", keys, "path", opt_str(c->path), "content", opt_str(c->content),
			      "denied", c->denied, "escalation", esc_name(c->esc), "length", (json_int_t)c->n,
			      "soft_blocks", (json_int_t)c->soft_blocks, "attempts", attempts);
	if (o && (c->esc == SK_ESC_APPROVED || c->esc == SK_ESC_DENIED)) {
		json_object_set_new(o, "decision_reason", opt_str(c->decision_reason));
		json_object_set_new(o, "decided_by", opt_str(c->decided_by));
	}
	return o;
}

json_t *sk_session_to_json(const sk_session *s)
{
	json_t *chains = json_array(), *pending = json_array();
	for (size_t i = 0; chains && pending && i < s->n_chains; i++) {
		json_array_append_new(chains, chain_json(&s->chains[i]));
		if (s->chains[i].esc == SK_ESC_PENDING)
			json_array_append_new(pending, json_integer((json_int_t)s->chains[i].id));
	}
	return json_pack("{s:s, s:I, s:o, s:o}", "session", s->id, "turns", (json_int_t)s->turns,
			 "chains", chains, "pending_escalations", pending);
}
