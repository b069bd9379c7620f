/* audit-replay-gen: writes a receipt log whose verdicts are what sk_decide()
 * gives, with decide's input recorded and the profile in the evidence store
 * -- what `stockade run` will write -- for integration/audit-replay.bats.
 *
 *   audit-replay-gen STATE_DIR PROFILE_FILE ROUNDS
 *
 * Each round: a write in /w, a read of /etc/shadow, a read of
 * ~/.aws/credentials on its 4th attempt, a sticky-denied GITHUB_TOKEN, a
 * connect to 93.184.216.34:443, `curl http://example.com`, `ls -l`,
 * ptrace; then an escalation and its resolution. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

#define N_EVENTS 8

static const char *const curl_argv[] = { "curl", "http://example.com" };
static const char *const ls_argv[] = { "ls", "-l" };
static sk_surface_state sticky[] = { { "env:GITHUB_TOKEN", 1, true, false } };
static sk_surface_state retry[] = { { "file:/home/u/.aws/credentials", 3, true, false } };

static void make_events(sk_event *ev, sk_session_view *views)
{
	memset(ev, 0, N_EVENTS * sizeof(*ev));
	memset(views, 0, N_EVENTS * sizeof(*views));
	ev[0].kind = SK_EVENT_FILE;
	ev[0].file.file.path = "/w/src/main.c";
	ev[0].file.access = SK_ACCESS_WRITE;
	ev[1].kind = SK_EVENT_FILE;
	ev[1].file.file.path = "/etc/shadow";
	ev[1].file.access = SK_ACCESS_READ;
	ev[2].kind = SK_EVENT_FILE;
	ev[2].file.file.path = "/home/u/.aws/credentials";
	ev[2].file.access = SK_ACCESS_READ;
	views[2] = (sk_session_view){ .v = retry, .n = 1 };
	ev[3].kind = SK_EVENT_ENV;
	ev[3].env.name = "GITHUB_TOKEN";
	views[3] = (sk_session_view){ .v = sticky, .n = 1 };
	ev[4].kind = SK_EVENT_CONNECT;
	ev[4].connect.family = SK_NET_FAMILY_INET4;
	inet_pton(AF_INET, "93.184.216.34", ev[4].connect.addr);
	ev[4].connect.port = 443;
	ev[5].kind = SK_EVENT_COMMAND;
	ev[5].command.exe.path = "/usr/bin/curl";
	ev[5].command.argv = curl_argv;
	ev[5].command.argc = 2;
	ev[6].kind = SK_EVENT_COMMAND;
	ev[6].command.exe.path = "/usr/bin/ls";
	ev[6].command.argv = ls_argv;
	ev[6].command.argc = 2;
	ev[7].kind = SK_EVENT_SYSCALL;
	ev[7].syscall.name = "ptrace";
}

static int fail(const char *what, const sk_error *e)
{
	fprintf(stderr, "audit-replay-gen: %s: %s\n", what, e->msg);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: audit-replay-gen STATE_DIR PROFILE_FILE ROUNDS\n");
		return 2;
	}
	sk_error e = { 0 };
	char *text = NULL;
	size_t len = 0;
	if (sk_read_file(argv[2], 1 << 20, &text, &len) < 0)
		return fprintf(stderr, "audit-replay-gen: cannot read %s\n", argv[2]), 1;
	const sk_profile_vars none = { 0 };
	sk_profile *p = NULL;
	if (sk_profile_parse_text(argv[2], text, len, &none, NULL, NULL, &p, &e) < 0)
		return fail("profile", &e);
	char *canon = NULL, dg[SK_PROFILE_DIGEST_LEN + 1];
	if (sk_profile_canonical(p, &canon, &len) < 0 || sk_profile_digest(p, dg) < 0)
		return fprintf(stderr, "audit-replay-gen: canonical form failed\n"), 1;
	if (sk_evidence_put_profile(argv[1], dg, canon, &e) < 0)
		return fail("evidence", &e);
	sk_audit_options o = { .state_dir = argv[1], .checkpoint_every = 5 };
	sk_audit_log *log = NULL;
	if (sk_audit_open(&o, &log, &e) < 0)
		return fail("open", &e);
	sk_event ev[N_EVENTS];
	sk_session_view views[N_EVENTS];
	make_events(ev, views);
	int rounds = atoi(argv[3]);
	for (int i = 0; i < rounds * N_EVENTS; i++) {
		const sk_event *x = &ev[i % N_EVENTS];
		sk_verdict v = sk_decide(p, &views[i % N_EVENTS], x);
		char key[SK_SURFACE_KEY_MAX];
		sk_surface_key(x, key, sizeof(key));
		json_t *jev = sk_audit_event_json(x), *jview = sk_audit_view_json(&views[i % N_EVENTS]);
		bool cmd = x->kind == SK_EVENT_COMMAND;
		sk_receipt r = {
			.kind = cmd ? SK_RECEIPT_COMMAND : SK_RECEIPT_EVENT,
			.session = "s1", .turn = (uint32_t)(i / N_EVENTS + 1), .chain_id = key,
			.attempt = views[i % N_EVENTS].n ? views[i % N_EVENTS].v[0].attempts + 1 : 1,
			.surface = { .type = sk_class_name(sk_event_class(x)), .key = key },
			.event = { .argv = cmd ? x->command.argv : NULL, .argc = cmd ? x->command.argc : 0 },
			.verdict = sk_action_name(v.action), .reason = sk_reason_name(v.reason), .rule = v.rule_id,
			.profile_digest = dg, .decide_event = jev, .state_view = jview,
		};
		sk_receipt_id id;
		int rc = sk_audit_append(log, &r, &id, &e);
		json_decref(jev);
		json_decref(jview);
		if (rc < 0)
			return fail("append", &e);
		if (i % N_EVENTS == N_EVENTS - 1) {
			char esc_id[32];
			snprintf(esc_id, sizeof(esc_id), "esc-%d", i);
			sk_receipt er = { .kind = SK_RECEIPT_ESCALATION, .session = "s1", .verdict = "escalate",
					  .profile_digest = dg, .escalation = { .id = esc_id } };
			sk_receipt rr = { .kind = SK_RECEIPT_RESOLUTION, .session = "s1", .profile_digest = dg,
					  .escalation = { .id = esc_id, .decision = "deny", .by = "tester" } };
			if (sk_audit_append(log, &er, &id, &e) < 0 || sk_audit_append(log, &rr, &id, &e) < 0)
				return fail("append", &e);
		}
	}
	sk_audit_close(log);
	sk_profile_free(p);
	free(canon);
	free(text);
	return 0;
}
