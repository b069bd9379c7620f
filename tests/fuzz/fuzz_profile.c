/* libFuzzer target: the profile parser (with includes), the canonical form
 * (must parse back to the same text) and decide on a few events.  Any
 * crash, leak, UB (under ASan/UBSan) or a canonical form that does not
 * round-trip is a finding.  Input: up to three texts separated by NUL
 * bytes: the top profile, then the files "a" and "b" it may include.
 * fuzz-parts: util policy */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/policy.h"

typedef struct parts { const char *text[3]; size_t len[3]; } parts;

static int loader(void *ctx, const char *from, const char *ref, sk_profile_text *out, sk_error *err)
{
	(void)from;
	const parts *p = ctx;
	int i = !strcmp(ref, "a") ? 1 : !strcmp(ref, "b") ? 2 : -1;
	if (i < 0 || !p->text[i])
		return sk_fail(err, ENOENT, "no such profile");
	out->path = strdup(ref);
	out->key = strdup(ref);
	out->text = malloc(p->len[i] + 1);
	if (!out->path || !out->key || !out->text)
		return sk_fail(err, ENOMEM, "out of memory");
	memcpy(out->text, p->text[i], p->len[i]);
	out->text[p->len[i]] = '\0';
	out->len = p->len[i];
	return 0;
}

static void exercise_decide(const sk_profile *p)
{
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file = (sk_file_ref){ .path = "/home/u/.ssh/id_rsa", .has_identity = true, .dev = 1, .ino = 2 };
	ev.file.access = SK_ACCESS_READ | SK_ACCESS_WRITE;
	sk_surface_state st[] = { { "file:0:1:2", 7, true, false } };
	sk_session_view view = { st, 1 };
	volatile sk_verdict v = sk_decide(p, &view, &ev);
	sk_event env = { .kind = SK_EVENT_ENV };
	env.env.name = "GITHUB_TOKEN";
	v = sk_decide(p, NULL, &env);
	sk_event net = { .kind = SK_EVENT_CONNECT };
	net.connect.family = SK_NET_FAMILY_INET6;
	net.connect.addr[15] = 1;
	net.connect.port = 443;
	net.connect.domain = "api.example.com";
	v = sk_decide(p, NULL, &net);
	sk_event cmd = { .kind = SK_EVENT_COMMAND };
	cmd.command.exe = (sk_file_ref){ .path = "/usr/bin/curl" };
	v = sk_decide(p, NULL, &cmd);
	sk_event sc = { .kind = SK_EVENT_SYSCALL };
	sc.syscall.name = "ptrace";
	v = sk_decide(p, NULL, &sc);
	(void)v;
	sk_coverage c;
	sk_profile_coverage(p, &c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parts p = { { 0 }, { 0 } };
	const char *s = (const char *)data, *end = s + size;
	for (int i = 0; i < 3 && s <= end; i++) {
		const char *nul = memchr(s, '\0', (size_t)(end - s));
		p.text[i] = s;
		p.len[i] = nul ? (size_t)(nul - s) : (size_t)(end - s);
		if (!nul)
			break;
		s = nul + 1;
	}
	static const sk_profile_vars vars = { .home = "/home/u", .workspace = "/home/u/w", .uid = "1000" };
	sk_profile *prof = NULL;
	sk_error err = { 0 };
	if (sk_profile_parse_text("top", p.text[0], p.len[0], &vars, loader, &p, &prof, &err) < 0) {
		if (!strchr(err.msg, ':'))
			abort();   /* every error names its place */
		return 0;
	}
	exercise_decide(prof);
	char *c1 = NULL, *c2 = NULL;
	size_t l1, l2;
	if (sk_profile_canonical(prof, &c1, &l1) < 0)
		abort();
	sk_profile *again = NULL;
	if (sk_profile_parse_text("canonical", c1, l1, NULL, NULL, NULL, &again, &err) < 0) {
		fprintf(stderr, "canonical form does not parse: %s\n%s", err.msg, c1);
		abort();
	}
	if (sk_profile_canonical(again, &c2, &l2) < 0 || l1 != l2 || memcmp(c1, c2, l1)) {
		fprintf(stderr, "canonical form is not stable:\n%s---\n%s", c1, c2 ? c2 : "");
		abort();
	}
	free(c1);
	free(c2);
	sk_profile_free(again);
	sk_profile_free(prof);
	return 0;
}
