/* Unit tests for replay (src/audit/decide_read.c, replay.c): decide's input
 * read back from receipts, replay at 100% on an honest log, a tampered
 * verdict reported, the exact diff of a changed profile, sampling. */
#include <arpa/inet.h>
#include <check.h>

#include "check_main.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

static const char profile_a[] =
	"file default read-only\n"      /* 1 */
	"file read-write /w\n"          /* 2 */
	"file deny /etc/shadow\n"       /* 3 */
	"file secret /home/u/.aws\n"    /* 4 */
	"env default pass\n"            /* 5 */
	"env secret *_TOKEN\n"          /* 6 */
	"net none\n"                    /* 7 */
	"command deny curl\n"           /* 8 */
	"command default allow\n"       /* 9 */
	"escalation chain 3\n";         /* 10 */

/* B: /etc/shadow no longer denied, curl allowed: exactly events 1 and 5 change. */
static const char profile_b[] =
	"file default read-only\n"
	"file read-write /w\n"
	"file secret /home/u/.aws\n"
	"env default pass\n"
	"env secret *_TOKEN\n"
	"net none\n"
	"command allow curl\n"
	"command default allow\n"
	"escalation chain 3\n";

#define N_EVENTS 8
static sk_event events[N_EVENTS];
static const char *const curl_argv[] = { "curl", "http://example.com" };
static const char *const ls_argv[] = { "ls", "-l" };
static const char *const via[] = { "/w/link-to-shadow" };
static sk_surface_state sticky[] = { { "env:GITHUB_TOKEN", 1, true, false } };
static sk_surface_state retry[] = { { "file:/home/u/.aws/credentials", 3, true, false } };
static sk_session_view views[N_EVENTS];

static void setup_events(void)
{
	memset(events, 0, sizeof(events));
	memset(views, 0, sizeof(views));
	events[0] = (sk_event){ .kind = SK_EVENT_FILE };
	events[0].file.file = (sk_file_ref){ .path = "/w/src/main.c" };
	events[0].file.access = SK_ACCESS_WRITE;
	events[1] = (sk_event){ .kind = SK_EVENT_FILE };
	events[1].file.file = (sk_file_ref){ .path = "/etc/shadow", .via = via, .n_via = 1,
					     .has_identity = true, .dev = 2049, .ino = 1ULL << 60 };
	events[1].file.access = SK_ACCESS_READ;
	events[2] = (sk_event){ .kind = SK_EVENT_FILE };
	events[2].file.file = (sk_file_ref){ .path = "/home/u/.aws/credentials", .fingerprint = "sha256:ab" };
	events[2].file.access = SK_ACCESS_READ;
	views[2] = (sk_session_view){ .v = retry, .n = 1 };
	events[3] = (sk_event){ .kind = SK_EVENT_ENV };
	events[3].env.name = "GITHUB_TOKEN";
	views[3] = (sk_session_view){ .v = sticky, .n = 1 };
	events[4] = (sk_event){ .kind = SK_EVENT_CONNECT };
	events[4].connect.family = SK_NET_FAMILY_INET4;
	inet_pton(AF_INET, "93.184.216.34", events[4].connect.addr);
	events[4].connect.port = 443;
	events[4].connect.domain = "example.com";
	events[5] = (sk_event){ .kind = SK_EVENT_COMMAND };
	events[5].command.exe = (sk_file_ref){ .path = "/usr/bin/curl" };
	events[5].command.argv = curl_argv;
	events[5].command.argc = 2;
	events[6] = (sk_event){ .kind = SK_EVENT_COMMAND };
	events[6].command.exe = (sk_file_ref){ .path = "/usr/bin/ls" };
	events[6].command.argv = ls_argv;
	events[6].command.argc = 2;
	events[7] = (sk_event){ .kind = SK_EVENT_SYSCALL };
	events[7].syscall.name = "ptrace";
}

static sk_profile *parse(const char *name, const char *text)
{
	sk_profile *p = NULL;
	sk_error e = { 0 };
	const sk_profile_vars none = { 0 };
	ck_assert_msg(sk_profile_parse_text(name, text, strlen(text), &none, NULL, NULL, &p, &e) == 0,
		      "%s", e.msg);
	return p;
}

/* Store p in the evidence store of dir; its digest into dg. */
static void store(const char *dir, const sk_profile *p, char dg[SK_PROFILE_DIGEST_LEN + 1])
{
	char *canon = NULL;
	size_t len = 0;
	sk_error e = { 0 };
	ck_assert_int_eq(sk_profile_canonical(p, &canon, &len), 0);
	ck_assert_int_eq(sk_profile_digest(p, dg), 0);
	ck_assert_msg(sk_evidence_put_profile(dir, dg, canon, &e) == 0, "%s", e.msg);
	free(canon);
}

/* Write rounds x N_EVENTS receipts decided by p; the receipt at index
 * flip (or none if < 0) records a verdict other than decide's.  Returns
 * the seq of the flipped receipt. */
static uint64_t write_log(const char *dir, const sk_profile *p, int rounds, int flip)
{
	char dg[SK_PROFILE_DIGEST_LEN + 1];
	store(dir, p, dg);
	sk_audit_options o = { .state_dir = dir, .checkpoint_every = 7 };
	sk_audit_log *log = NULL;
	sk_error e = { 0 };
	ck_assert_msg(sk_audit_open(&o, &log, &e) == 0, "%s", e.msg);
	uint64_t flipped = 0;
	for (int i = 0; i < rounds * N_EVENTS; i++) {
		const sk_event *ev = &events[i % N_EVENTS];
		const sk_session_view *view = &views[i % N_EVENTS];
		sk_verdict v = sk_decide(p, view, ev);
		char key[SK_SURFACE_KEY_MAX];
		ck_assert_int_ge(sk_surface_key(ev, key, sizeof(key)), 0);
		const char *verdict = sk_action_name(v.action);
		if (i == flip)
			verdict = v.action == SK_ACTION_ALLOW ? "deny" : "allow";
		json_t *jev = sk_audit_event_json(ev), *jview = sk_audit_view_json(view);
		ck_assert_ptr_nonnull(jev);
		sk_receipt r = {
			.kind = ev->kind == SK_EVENT_COMMAND ? SK_RECEIPT_COMMAND : SK_RECEIPT_EVENT,
			.session = "s1", .turn = 1, .chain_id = key, .attempt = 1,
			.surface = { .type = sk_class_name(sk_event_class(ev)), .key = key },
			.event = { .argv = ev->kind == SK_EVENT_COMMAND ? ev->command.argv : NULL,
				   .argc = ev->kind == SK_EVENT_COMMAND ? ev->command.argc : 0 },
			.verdict = verdict, .reason = sk_reason_name(v.reason), .rule = v.rule_id,
			.profile_digest = dg, .decide_event = jev, .state_view = jview,
		};
		sk_receipt_id id;
		ck_assert_msg(sk_audit_append(log, &r, &id, &e) == 0, "%s", e.msg);
		if (i == flip)
			flipped = id.seq;
		json_decref(jev);
		json_decref(jview);
	}
	sk_audit_close(log);
	return flipped;
}

static char **logs_of(const char *dir, size_t *n)
{
	char **files = NULL;
	sk_error e = { 0 };
	ck_assert_msg(sk_audit_list_logs(dir, &files, n, &e) == 0, "%s", e.msg);
	return files;
}

typedef struct collected {
	uint64_t seq[64];
	char what[64][160];
	size_t n;
} collected;

static int collect_mismatch(const sk_replay_item *it, void *ctx)
{
	collected *c = ctx;
	if (it->match || c->n == 64)
		return 0;
	c->seq[c->n] = it->seq;
	snprintf(c->what[c->n++], 160, "%s %s->%s", it->surface, it->old_verdict, it->new_verdict);
	return 0;
}

static int collect_changed(const sk_replay_item *it, void *ctx)
{
	collected *c = ctx;
	if (!it->verdict_changed || c->n == 64)
		return 0;
	c->seq[c->n] = it->seq;
	snprintf(c->what[c->n++], 160, "%s %s->%s", it->surface, it->old_verdict, it->new_verdict);
	return 0;
}

START_TEST(test_decide_input_round_trip)
{
	setup_events();
	for (int i = 0; i < N_EVENTS; i++) {
		json_t *jev = sk_audit_event_json(&events[i]), *jview = sk_audit_view_json(&views[i]);
		sk_decide_input in;
		sk_error e = { 0 };
		ck_assert_msg(sk_audit_decide_input_read(jev, jview, &in, &e) == 0, "event %d: %s", i, e.msg);
		json_t *jev2 = sk_audit_event_json(in.ev), *jview2 = sk_audit_view_json(in.view);
		ck_assert_msg(json_equal(jev, jev2), "event %d does not round-trip", i);
		ck_assert_msg(json_equal(jview, jview2), "view %d does not round-trip", i);
		ck_assert_int_eq(in.ev->kind, events[i].kind);
		sk_audit_decide_input_free(&in);
		json_decref(jev);
		json_decref(jview);
		json_decref(jev2);
		json_decref(jview2);
	}
	/* the inode beyond 2^53 survives exactly */
	json_t *j = sk_audit_event_json(&events[1]);
	sk_decide_input in;
	sk_error e = { 0 };
	ck_assert_int_eq(sk_audit_decide_input_read(j, NULL, &in, &e), 0);
	ck_assert(in.ev->file.file.ino == 1ULL << 60);
	ck_assert_str_eq(in.ev->file.file.via[0], "/w/link-to-shadow");
	ck_assert_uint_eq(in.view->n, 0);
	sk_audit_decide_input_free(&in);
	json_decref(j);
	/* bad input is refused, not guessed */
	const char *bad[] = { "{\"kind\":\"warp\"}", "{\"kind\":\"file\",\"file\":{\"path\":\"/x\"}}",
			      "{\"kind\":\"connect\",\"family\":4,\"port\":1,\"addr\":\"zz\"}",
			      "{\"kind\":\"file\",\"access\":1,\"file\":{\"path\":\"/x\",\"dev\":\"1\"}}",
			      "{\"kind\":\"command\",\"exe\":{\"path\":\"/x\"},\"argv\":[1]}" };
	for (size_t i = 0; i < SK_ARRAY_LEN(bad); i++) {
		json_t *b = json_loads(bad[i], 0, NULL);
		ck_assert_ptr_nonnull(b);
		ck_assert_msg(sk_audit_decide_input_read(b, NULL, &in, &e) == -EBADMSG, "accepted %s", bad[i]);
		json_decref(b);
	}
}
END_TEST

START_TEST(test_replay_honest_log_is_100)
{
	setup_events();
	char dir[] = "/tmp/sk-replay-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sk_profile *p = parse("a", profile_a);
	write_log(dir, p, 3, -1);
	size_t n;
	char **files = logs_of(dir, &n);
	sk_replay_options o = { .state_dir = dir, .sample_bp = 10000 };
	sk_replay_result res;
	collected c = { .n = 0 };
	sk_error e = { 0 };
	ck_assert_msg(sk_audit_replay((const char *const *)files, n, &o, collect_mismatch, &c, &res, &e) == 0,
		      "%s", e.msg);
	ck_assert_uint_eq(res.receipts, 3 * N_EVENTS);
	ck_assert_uint_eq(res.replayed, 3 * N_EVENTS);
	ck_assert_uint_eq(res.matches, 3 * N_EVENTS);
	ck_assert_uint_eq(res.mismatches, 0);
	ck_assert_uint_eq(c.n, 0);
	sk_audit_files_free(files, n);
	sk_profile_free(p);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_replay_reports_a_wrong_verdict)
{
	setup_events();
	char dir[] = "/tmp/sk-replay-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sk_profile *p = parse("a", profile_a);
	uint64_t flipped = write_log(dir, p, 2, N_EVENTS + 1);   /* the second /etc/shadow read */
	size_t n;
	char **files = logs_of(dir, &n);
	sk_replay_options o = { .state_dir = dir, .sample_bp = 10000 };
	sk_replay_result res;
	collected c = { .n = 0 };
	sk_error e = { 0 };
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, collect_mismatch, &c, &res, &e), 0);
	ck_assert_uint_eq(res.replayed, 2 * N_EVENTS);
	ck_assert_uint_eq(res.mismatches, 1);
	ck_assert_uint_eq(c.n, 1);
	ck_assert_uint_eq(c.seq[0], flipped);
	ck_assert_str_eq(c.what[0], "file:8:1:1152921504606846976 allow->deny");
	sk_audit_files_free(files, n);
	sk_profile_free(p);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_replay_new_profile_gives_exact_diff)
{
	setup_events();
	char dir[] = "/tmp/sk-replay-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sk_profile *a = parse("a", profile_a), *b = parse("b", profile_b);
	write_log(dir, a, 1, -1);
	size_t n;
	char **files = logs_of(dir, &n);
	sk_replay_options o = { .state_dir = dir, .sample_bp = 10000, .profile = b };
	sk_replay_result res;
	collected c = { .n = 0 };
	sk_error e = { 0 };
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, collect_changed, &c, &res, &e), 0);
	ck_assert_uint_eq(res.replayed, N_EVENTS);
	ck_assert_uint_eq(res.changed, 2);
	ck_assert_uint_eq(c.n, 2);
	char want1[120], want5[120];
	sk_surface_key(&events[1], want1, sizeof(want1));
	sk_surface_key(&events[5], want5, sizeof(want5));
	char w[2][200];
	snprintf(w[0], sizeof(w[0]), "%s deny->allow", want1);
	snprintf(w[1], sizeof(w[1]), "%s deny->allow", want5);
	ck_assert_str_eq(c.what[0], w[0]);
	ck_assert_str_eq(c.what[1], w[1]);
	sk_audit_files_free(files, n);
	sk_profile_free(a);
	sk_profile_free(b);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_replay_sample_and_missing_profile)
{
	setup_events();
	char dir[] = "/tmp/sk-replay-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sk_profile *p = parse("a", profile_a);
	write_log(dir, p, 10, -1);
	size_t n;
	char **files = logs_of(dir, &n);
	sk_replay_options o = { .state_dir = dir, .sample_bp = 2500, .seed = 7 };
	sk_replay_result res, res2;
	sk_error e = { 0 };
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, NULL, NULL, &res, &e), 0);
	uint64_t want = 0;
	for (uint64_t s = 0; s < 200; s++)
		want += sk_replay_sampled(7, s, 2500) && s >= 1 && s <= 10 * N_EVENTS + 20;
	ck_assert_uint_gt(res.replayed, 0);
	ck_assert_uint_lt(res.replayed, 10 * N_EVENTS);
	ck_assert_uint_eq(res.matches, res.replayed);
	/* the same seed draws the same sample */
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, NULL, NULL, &res2, &e), 0);
	ck_assert_uint_eq(res.replayed, res2.replayed);
	(void)want;
	/* without the evidence store nothing can be replayed, and that is said */
	char other[] = "/tmp/sk-replay-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(other));
	o = (sk_replay_options){ .state_dir = other, .sample_bp = 10000 };
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, NULL, NULL, &res, &e), 0);
	ck_assert_uint_eq(res.replayed, 0);
	ck_assert_uint_eq(res.no_profile, 10 * N_EVENTS);
	sk_audit_files_free(files, n);
	sk_profile_free(p);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, other);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static const char profile_deny_all[] =
	"file default deny\n"
	"env default drop\n"
	"net none\n"
	"command default deny\n";

static int seq_in_order(const sk_replay_item *it, void *ctx)
{
	collected *c = ctx;
	if (c->n < 64)
		c->seq[c->n++] = it->seq;
	return 0;
}

/* A log of one round decided by A, the seqs of its receipts in order, and a
 * labels file: 0 (write in /w) correct, 1 (/etc/shadow) correct, 5 (curl)
 * a false deny (high), 6 (ls) correct, 4 (connect) correct (critical). */
static void report_fixture(char *dir, char *labels_path, collected *seqs)
{
	setup_events();
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sk_profile *a = parse("a", profile_a);
	write_log(dir, a, 1, -1);
	sk_profile_free(a);
	size_t n;
	char **files = logs_of(dir, &n);
	sk_replay_options o = { .state_dir = dir, .sample_bp = 10000 };
	sk_replay_result res;
	sk_error e = { 0 };
	seqs->n = 0;
	ck_assert_int_eq(sk_audit_replay((const char *const *)files, n, &o, seq_in_order, seqs, &res, &e), 0);
	ck_assert_uint_eq(seqs->n, N_EVENTS);
	sk_audit_files_free(files, n);
	snprintf(labels_path, 64, "%s/labels.jsonl", dir);
	FILE *f = fopen(labels_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"seq\": %" PRIu64 ", \"label\": \"correct\", \"severity\": \"low\"}\n", seqs->seq[0]);
	fprintf(f, "{\"seq\": %" PRIu64 ", \"label\": \"correct\", \"severity\": \"high\"}\n\n", seqs->seq[1]);
	fprintf(f, "{\"seq\": %" PRIu64 ", \"label\": \"false_deny\", \"severity\": \"high\"}\n", seqs->seq[5]);
	fprintf(f, "{\"seq\": %" PRIu64 ", \"label\": \"correct\"}\n", seqs->seq[6]);
	fprintf(f, "{\"seq\": %" PRIu64 ", \"label\": \"correct\", \"severity\": \"critical\"}\n", seqs->seq[4]);
	fclose(f);
}

static double score_with(const char *dir, const char *labels_path, const sk_profile *redecide,
			 sk_report *rep)
{
	size_t n;
	char **files = logs_of(dir, &n);
	sk_labels labels;
	sk_error e = { 0 };
	ck_assert_msg(sk_labels_load(labels_path, &labels, &e) == 0, "%s", e.msg);
	ck_assert_msg(sk_report_build((const char *const *)files, n, dir, &labels, redecide, rep, &e) == 0,
		      "%s", e.msg);
	sk_labels_free(&labels);
	sk_audit_files_free(files, n);
	ck_assert(rep->has_score);
	return rep->score;
}

static uint64_t tally_of(const sk_tallies *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].key, key))
			return t->v[i].n;
	return 0;
}

START_TEST(test_report_metrics)
{
	char dir[] = "/tmp/sk-report-XXXXXX", labels[64];
	collected seqs;
	report_fixture(dir, labels, &seqs);
	sk_report rep;
	double s = score_with(dir, labels, NULL, &rep);
	ck_assert_uint_eq(rep.receipts, N_EVENTS);
	ck_assert_uint_eq(rep.commands, 2);
	ck_assert_uint_eq(rep.commands_evaluated, 2);
	ck_assert(rep.evaluation_coverage == 1.0);
	ck_assert(rep.evidence_completeness == 1.0);
	ck_assert(rep.replay_pass_rate == 1.0);
	ck_assert_uint_eq(rep.n_profiles, 1);
	ck_assert(rep.profiles[0].in_store);
	ck_assert_uint_gt(rep.profiles[0].covered, 0);
	ck_assert_uint_eq(rep.profiles[0].total, SK_CLASS_N_DECIDING * 3);
	ck_assert_uint_eq(rep.labeled, 5);
	ck_assert_uint_eq(rep.false_deny[SK_SEV_HIGH], 1);
	ck_assert_uint_eq(rep.false_allow[SK_SEV_HIGH] + rep.false_allow[SK_SEV_CRITICAL], 0);
	/* utility: should-allow weights 1 (low) + 4 (curl, high) + 2 (ls, medium); curl denied */
	ck_assert_double_eq_tol(rep.utility, 1.0 - 4.0 / 7.0, 1e-9);
	ck_assert(rep.safety == 1.0);
	ck_assert_double_eq_tol(s, 100.0 * 3.0 / 7.0, 1e-9);
	ck_assert_uint_eq(rep.allowed + rep.denied + rep.escalated, N_EVENTS);
	ck_assert_uint_eq(tally_of(&rep.deny_command, "curl"), 1);
	ck_assert_uint_eq(tally_of(&rep.deny_surface, "net"), 1);
	ck_assert_uint_eq(tally_of(&rep.deny_reason, "net_mode_none"), 1);
	sk_report_free(&rep);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_report_score_cannot_be_raised_by_denying)
{
	char dir[] = "/tmp/sk-report-XXXXXX", labels[64];
	collected seqs;
	report_fixture(dir, labels, &seqs);
	sk_report rep;
	double recorded = score_with(dir, labels, NULL, &rep);
	sk_report_free(&rep);
	/* deny-all drives false allows to zero -- and still never scores higher */
	sk_profile *deny_all = parse("deny-all", profile_deny_all);
	double denied = score_with(dir, labels, deny_all, &rep);
	ck_assert(rep.redecided);
	ck_assert_uint_eq(rep.false_allow[0] + rep.false_allow[1] + rep.false_allow[2] + rep.false_allow[3], 0);
	ck_assert_uint_eq(rep.false_deny[SK_SEV_LOW], 1);
	ck_assert_msg(denied <= recorded, "deny-all scored %f > %f", denied, recorded);
	ck_assert(denied == 0.0);
	sk_report_free(&rep);
	/* fixing the false deny (B allows curl) raises it */
	sk_profile *b = parse("b", profile_b);
	double fixed = score_with(dir, labels, b, &rep);
	ck_assert_msg(fixed > recorded, "fixing a false deny scored %f <= %f", fixed, recorded);
	sk_report_free(&rep);
	sk_profile_free(deny_all);
	sk_profile_free(b);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_labels_errors_and_percentiles)
{
	char dir[] = "/tmp/sk-labels-XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/l.jsonl", dir);
	const char *bad[] = { "{\"seq\": 1, \"label\": \"correct\"}\n{\"seq\": 2, \"label\": \"maybe\"}\n",
			      "{\"seq\": 1, \"label\": \"correct\"}\n[1]\n",
			      "{\"seq\": 1, \"label\": \"correct\"}\n{\"seq\": 3, \"label\": \"correct\", \"severity\": \"dire\"}\n",
			      "{\"seq\": 1, \"label\": \"correct\"}\n{\"seq\": -1, \"label\": \"correct\"}\n" };
	for (size_t i = 0; i < SK_ARRAY_LEN(bad); i++) {
		FILE *f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		sk_labels l;
		sk_error e = { 0 };
		ck_assert_int_eq(sk_labels_load(path, &l, &e), -EINVAL);
		char want[96];
		snprintf(want, sizeof(want), "%s:2: ", path);
		ck_assert_msg(strncmp(e.msg, want, strlen(want)) == 0, "message '%s' lacks %s", e.msg, want);
	}
	uint64_t v[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
	ck_assert_uint_eq(sk_percentile(v, 20, 50), 10);
	ck_assert_uint_eq(sk_percentile(v, 20, 95), 19);
	ck_assert_uint_eq(sk_percentile(v, 1, 95), 1);
	ck_assert_uint_eq(sk_percentile(v, 0, 50), 0);
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("audit_replay");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_decide_input_round_trip);
	tcase_add_test(tc, test_replay_honest_log_is_100);
	tcase_add_test(tc, test_replay_reports_a_wrong_verdict);
	tcase_add_test(tc, test_replay_new_profile_gives_exact_diff);
	tcase_add_test(tc, test_replay_sample_and_missing_profile);
	tcase_add_test(tc, test_report_metrics);
	tcase_add_test(tc, test_report_score_cannot_be_raised_by_denying);
	tcase_add_test(tc, test_labels_errors_and_percentiles);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sk_check_run(replay_suite());
}
