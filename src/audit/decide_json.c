/* The input of sk_decide() as receipt data: the event and the session view,
 * so that replay can call decide again on exactly what it saw. */
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

static const char *event_kind_name(sk_event_kind k)
{
	switch (k) {
	case SK_EVENT_COMMAND: return "command";
	case SK_EVENT_FILE: return "file";
	case SK_EVENT_CONNECT: return "connect";
	case SK_EVENT_SYSCALL: return "syscall";
	case SK_EVENT_ENV: return "env";
	}
	return NULL;
}

/* Adds nothing for NULL; a string that is not UTF-8 makes *bad true. */
static void put_str(json_t *o, const char *key, const char *s, bool *bad)
{
	if (!s)
		return;
	json_t *v = json_string(s);
	if (!v || json_object_set_new(o, key, v) < 0)
		*bad = true;
}

static void put_u64_str(json_t *o, const char *key, uint64_t v, bool *bad)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	put_str(o, key, buf, bad);
}

static json_t *strv_json(const char *const *v, size_t n, bool *bad)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *s = v[i] ? json_string(v[i]) : NULL;
		if (!s || json_array_append_new(a, s) < 0)
			*bad = true;
	}
	return a;
}

static json_t *file_ref_json(const sk_file_ref *f, bool *bad)
{
	json_t *o = json_object();
	put_str(o, "path", f->path, bad);
	if (f->n_via)
		json_object_set_new(o, "via", strv_json(f->via, f->n_via, bad));
	if (f->n_aliases)
		json_object_set_new(o, "aliases", strv_json(f->aliases, f->n_aliases, bad));
	if (f->has_identity) {
		put_u64_str(o, "dev", f->dev, bad);
		put_u64_str(o, "ino", f->ino, bad);
	}
	put_str(o, "fingerprint", f->fingerprint, bad);
	if (f->sandbox_private)
		json_object_set_new(o, "sandbox_private", json_true());
	return o;
}

json_t *sk_audit_event_json(const struct sk_event *ev)
{
	const char *kind = event_kind_name(ev->kind);
	if (!kind)
		return NULL;
	bool bad = false;
	json_t *o = json_object();
	put_str(o, "kind", kind, &bad);
	switch (ev->kind) {
	case SK_EVENT_COMMAND:
		json_object_set_new(o, "exe", file_ref_json(&ev->command.exe, &bad));
		json_object_set_new(o, "argv", strv_json(ev->command.argv, ev->command.argc, &bad));
		break;
	case SK_EVENT_FILE:
		json_object_set_new(o, "file", file_ref_json(&ev->file.file, &bad));
		json_object_set_new(o, "access", json_integer(ev->file.access));
		break;
	case SK_EVENT_CONNECT: {
		char hex[33];
		sk_hex(ev->connect.addr, 16, hex);
		json_object_set_new(o, "family", json_integer(ev->connect.family));
		put_str(o, "addr", hex, &bad);
		json_object_set_new(o, "port", json_integer(ev->connect.port));
		put_str(o, "domain", ev->connect.domain, &bad);
		put_str(o, "unix_path", ev->connect.unix_path, &bad);
		break;
	}
	case SK_EVENT_SYSCALL:
		put_str(o, "name", ev->syscall.name, &bad);
		break;
	case SK_EVENT_ENV:
		put_str(o, "name", ev->env.name, &bad);
		break;
	}
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *sk_audit_view_json(const struct sk_session_view *view)
{
	bool bad = false;
	json_t *o = json_object(), *a = json_array();
	for (size_t i = 0; view && i < view->n; i++) {
		const sk_surface_state *s = &view->v[i];
		json_t *e = json_object();
		put_str(e, "key", s->key, &bad);
		json_object_set_new(e, "attempts", json_integer(s->attempts));
		json_object_set_new(e, "denied", json_boolean(s->denied));
		json_object_set_new(e, "approved", json_boolean(s->approved));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "surfaces", a);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
