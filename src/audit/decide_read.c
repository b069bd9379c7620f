/* decide.event and decide.state read back into an sk_event and an
 * sk_session_view: the inverse of decide_json.c, for replay.  Anything
 * that does not read back exactly is refused (-EBADMSG): replaying a guess
 * would hide a difference. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

typedef struct owned {
	sk_event ev;
	sk_session_view view;
	sk_surface_state *states;
	const char **strv[3];            /* argv / via / aliases arrays */
} owned;

static int bad(sk_error *err, const char *what)
{
	return sk_fail(err, EBADMSG, "decide input: %s", what);
}

/* Optional string member: NULL when absent, -EBADMSG when not a string. */
static int get_str(const json_t *o, const char *key, const char **out, sk_error *err)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return sk_fail(err, EBADMSG, "decide input: \"%s\" is not a string", key);
	*out = json_string_value(v);
	return 0;
}

static int get_u64_str(const json_t *o, const char *key, uint64_t *out, sk_error *err)
{
	const char *s;
	int r = get_str(o, key, &s, err);
	if (r < 0)
		return r;
	if (!s || !*s || s[0] == '-')
		return sk_fail(err, EBADMSG, "decide input: \"%s\" missing or not a decimal string", key);
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return sk_fail(err, EBADMSG, "decide input: \"%s\" is not a decimal number", key);
	*out = v;
	return 0;
}

static int get_int(const json_t *o, const char *key, int64_t lo, int64_t hi, int64_t *out,
		   sk_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return sk_fail(err, EBADMSG, "decide input: \"%s\" missing or out of range", key);
	*out = json_integer_value(v);
	return 0;
}

/* A JSON array of strings as a borrowed-string vector (owned array). */
static int get_strv(const json_t *o, const char *key, const char ***out, size_t *n,
		    sk_error *err)
{
	json_t *a = json_object_get(o, key);
	*out = NULL;
	*n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return sk_fail(err, EBADMSG, "decide input: \"%s\" is not an array", key);
	size_t len = json_array_size(a);
	const char **v = calloc(len + 1, sizeof(*v));
	if (!v)
		return sk_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < len; i++) {
		v[i] = json_string_value(json_array_get(a, i));
		if (!v[i]) {
			free(v);
			return sk_fail(err, EBADMSG, "decide input: \"%s\" holds a non-string", key);
		}
	}
	*out = v;
	*n = len;
	return 0;
}

static int read_file_ref(const json_t *o, sk_file_ref *f, const char ***via, const char ***aliases,
			 sk_error *err)
{
	if (!json_is_object(o))
		return bad(err, "file reference is not an object");
	int r = get_str(o, "path", &f->path, err);
	if (r == 0)
		r = get_strv(o, "via", via, &f->n_via, err);
	if (r == 0)
		r = get_strv(o, "aliases", aliases, &f->n_aliases, err);
	if (r < 0)
		return r;
	f->via = *via;
	f->aliases = *aliases;
	if (json_object_get(o, "dev") || json_object_get(o, "ino")) {
		f->has_identity = true;
		r = get_u64_str(o, "dev", &f->dev, err);
		if (r == 0)
			r = get_u64_str(o, "ino", &f->ino, err);
		if (r < 0)
			return r;
	}
	f->sandbox_private = json_is_true(json_object_get(o, "sandbox_private"));
	return get_str(o, "fingerprint", &f->fingerprint, err);
}

static int read_connect(const json_t *o, sk_event *ev, sk_error *err)
{
	int64_t fam = 0, port = 0;
	const char *addr = NULL;
	int r = get_int(o, "family", 0, 255, &fam, err);
	if (r == 0)
		r = get_int(o, "port", 0, 65535, &port, err);
	if (r == 0)
		r = get_str(o, "addr", &addr, err);
	if (r < 0)
		return r;
	if (!addr || sk_unhex(addr, ev->connect.addr, 16) < 0)
		return bad(err, "\"addr\" is not 32 hex digits");
	ev->connect.family = (sk_net_family)fam;
	ev->connect.port = (uint16_t)port;
	r = get_str(o, "domain", &ev->connect.domain, err);
	return r < 0 ? r : get_str(o, "unix_path", &ev->connect.unix_path, err);
}

static int read_event(const json_t *o, owned *w, sk_error *err)
{
	const char *kind;
	if (!json_is_object(o))
		return bad(err, "event is not an object");
	int r = get_str(o, "kind", &kind, err);
	if (r < 0)
		return r;
	if (!kind)
		return bad(err, "event has no kind");
	sk_event *ev = &w->ev;
	if (!strcmp(kind, "command")) {
		ev->kind = SK_EVENT_COMMAND;
		r = read_file_ref(json_object_get(o, "exe"), &ev->command.exe, &w->strv[0], &w->strv[2], err);
		if (r == 0)
			r = get_strv(o, "argv", &w->strv[1], &ev->command.argc, err);
		ev->command.argv = w->strv[1];
	} else if (!strcmp(kind, "file")) {
		int64_t access = 0;
		ev->kind = SK_EVENT_FILE;
		r = read_file_ref(json_object_get(o, "file"), &ev->file.file, &w->strv[0], &w->strv[2], err);
		if (r == 0)
			r = get_int(o, "access", 0, 0xffff, &access, err);
		ev->file.access = (unsigned)access;
	} else if (!strcmp(kind, "connect")) {
		ev->kind = SK_EVENT_CONNECT;
		r = read_connect(o, ev, err);
	} else if (!strcmp(kind, "syscall")) {
		ev->kind = SK_EVENT_SYSCALL;
		r = get_str(o, "name", &ev->syscall.name, err);
	} else if (!strcmp(kind, "env")) {
		ev->kind = SK_EVENT_ENV;
		r = get_str(o, "name", &ev->env.name, err);
	} else {
		return sk_fail(err, EBADMSG, "decide input: unknown event kind \"%s\"", kind);
	}
	return r;
}

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const sk_surface_state *)a)->key, ((const sk_surface_state *)b)->key);
}

static int read_view(const json_t *o, owned *w, sk_error *err)
{
	if (!o)
		return 0;   /* no state recorded: an empty session */
	json_t *a = json_object_get(o, "surfaces");
	if (!json_is_object(o) || !json_is_array(a))
		return bad(err, "state has no \"surfaces\" array");
	size_t n = json_array_size(a);
	w->states = calloc(n ? n : 1, sizeof(*w->states));
	if (!w->states)
		return sk_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		sk_surface_state *s = &w->states[i];
		int64_t attempts = 0;
		int r = get_str(e, "key", &s->key, err);
		if (r == 0)
			r = get_int(e, "attempts", 0, UINT32_MAX, &attempts, err);
		if (r < 0)
			return r;
		json_t *d = json_object_get(e, "denied"), *ap = json_object_get(e, "approved");
		if (!s->key || !json_is_boolean(d) || !json_is_boolean(ap))
			return bad(err, "state surface lacks key, denied or approved");
		s->attempts = (uint32_t)attempts;
		s->denied = json_is_true(d);
		s->approved = json_is_true(ap);
	}
	sk_sort(w->states, n, sizeof(*w->states), cmp_state);   /* decide needs the order */
	w->view = (sk_session_view){ .v = w->states, .n = n };
	return 0;
}

static void owned_free(owned *w)
{
	if (!w)
		return;
	free(w->states);
	free(w->strv[0]);
	free(w->strv[1]);
	free(w->strv[2]);
	free(w);
}

int sk_audit_decide_input_read(const json_t *event, const json_t *state, sk_decide_input *in,
			       sk_error *err)
{
	*in = (sk_decide_input){ 0 };
	owned *w = calloc(1, sizeof(*w));
	if (!w)
		return sk_fail(err, ENOMEM, "out of memory");
	int r = read_event(event, w, err);
	if (r == 0)
		r = read_view(state, w, err);
	if (r < 0) {
		owned_free(w);
		return r;
	}
	in->ev = &w->ev;
	in->view = &w->view;
	in->owned = w;
	return 0;
}

void sk_audit_decide_input_free(sk_decide_input *in)
{
	owned_free(in->owned);
	*in = (sk_decide_input){ 0 };
}
