/* Unit tests for src/session: the journal (turns, chains by identity and
 * by content, decisions, soft blocks), concurrency of two handles, torn and
 * damaged journals, the view decide gets, and decide() on it. */
#include <check.h>

#include "check_main.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "stockade/session.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sk-session-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static sk_session_event attempt(uint32_t turn, const char *key, const char *content, sk_action v)
{
	return (sk_session_event){ .turn = turn, .type = "file", .key = key, .content = content, .size = 42,
				   .op = "openat", .via = "x", .path = "/home/u/.aws/credentials", .verdict = v,
				   .reason = "file_secret", .rule = "default:30", .receipt = 7 };
}

START_TEST(test_ids)
{
	ck_assert(sk_session_id_valid("agent-1.turns:42_x"));
	ck_assert(!sk_session_id_valid(""));
	ck_assert(!sk_session_id_valid(".hidden"));
	ck_assert(!sk_session_id_valid("-x"));
	ck_assert(!sk_session_id_valid("a/b"));
	ck_assert(!sk_session_id_valid("a b"));
	char longid[200];
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert(!sk_session_id_valid(longid));
	sk_session *s = NULL;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_session_open("/tmp", "../etc", true, &s, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid session id"));
}
END_TEST

START_TEST(test_chains_by_identity_and_content)
{
	make_dir();
	sk_session *s = NULL;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_session_open(dir, "t", false, &s, &err), -ENOENT);
	ck_assert_int_eq(sk_session_open(dir, "t", true, &s, &err), 0);
	char *argv[] = { "cat", "x", NULL };
	uint32_t turn, chain, n;
	ck_assert_int_eq(sk_session_begin_turn(s, argv, &turn, &err), 0);
	ck_assert_uint_eq(turn, 1);
	sk_session_event e = attempt(1, "file:1:2:3", "content:sha256:aa", SK_ACTION_DENY);
	ck_assert_int_eq(sk_session_record(s, &e, &chain, &n, &err), 0);
	ck_assert_uint_eq(chain, 1);
	ck_assert_uint_eq(n, 1);
	/* A copy (other inode, same content) joins chain 1 and adds its key. */
	e = attempt(1, "file:1:2:99", "content:sha256:aa", SK_ACTION_DENY);
	ck_assert_int_eq(sk_session_record(s, &e, &chain, &n, &err), 0);
	ck_assert_uint_eq(chain, 1);
	ck_assert_uint_eq(n, 2);
	/* Another surface is another chain. */
	e = attempt(1, "cmd:1:2:5", NULL, SK_ACTION_ESCALATE);
	ck_assert_int_eq(sk_session_record(s, &e, &chain, &n, &err), 0);
	ck_assert_uint_eq(chain, 2);
	ck_assert_int_eq(s->chains[1].esc, SK_ESC_PENDING);
	ck_assert_int_eq(sk_session_soft_block(s, 1, "exit 1", &err), 0);
	ck_assert_uint_eq(s->chains[0].soft_blocks, 1);
	ck_assert(s->chains[0].v[1].soft_block);
	ck_assert_int_eq(sk_session_decide(s, 2, true, "ok", "uid 0", &err), 0);
	ck_assert_int_eq(sk_session_decide(s, 9, true, NULL, NULL, &err), -ENOENT);
	sk_session_free(s);

	/* Reloaded from disk: the same state. */
	ck_assert_int_eq(sk_session_open(dir, "t", false, &s, &err), 0);
	ck_assert_uint_eq(s->turns, 1);
	ck_assert_uint_eq(s->n_chains, 2);
	ck_assert_uint_eq(s->chains[0].n, 2);
	ck_assert_uint_eq(s->chains[0].n_keys, 2);
	ck_assert_str_eq(s->chains[0].content, "content:sha256:aa");
	ck_assert(s->chains[0].denied);
	ck_assert_int_eq(s->chains[1].esc, SK_ESC_APPROVED);
	ck_assert_str_eq(s->chains[1].decision_reason, "ok");

	/* The view decide gets: sorted, sticky, approved, attempts since the
	 * last decision; an extra content key merges with its chain. */
	const char *extra[] = { "content:sha256:aa", "content:sha256:bb" };
	sk_session_view v;
	ck_assert_int_eq(sk_session_view_build(s, extra, 2, &v), 0);
	ck_assert_uint_eq(v.n, 5);
	for (size_t i = 1; i < v.n; i++)
		ck_assert_int_lt(strcmp(v.v[i - 1].key, v.v[i].key), 0);
	sk_surface_state *st = sk_session_view_find(&v, "file:1:2:99");
	ck_assert(st && st->denied && st->attempts == 2 && !st->approved);
	st = sk_session_view_find(&v, "cmd:1:2:5");
	ck_assert(st && st->approved && !st->denied && st->attempts == 0);
	st = sk_session_view_find(&v, "content:sha256:bb");
	ck_assert(st && st->denied && st->attempts == 0);
	ck_assert_int_eq(sk_session_view_bump(&v, "file:0:0:1", true), 0);
	ck_assert_int_eq(sk_session_view_bump(&v, "file:0:0:1", false), 0);
	st = sk_session_view_find(&v, "file:0:0:1");
	ck_assert(st && st->denied && st->attempts == 2);
	sk_session_view_free(&v);

	json_t *j = sk_session_to_json(s);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "turns")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(j, "chains")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(j, "pending_escalations")), 0);
	json_decref(j);
	sk_session_free(s);
	remove_dir();
}
END_TEST

START_TEST(test_decide_on_the_view)
{
	/* decide(): sticky by identity across a path the profile allows, by
	 * content for a copy, and the threshold escalates. */
	sk_profile *p = NULL;
	sk_error err = { 0 };
	const char *text = "stockade-profile 1\nfile default read-only\nfile read-write /w\n"
			   "file secret /h/.aws\nescalation chain 2\n";
	const sk_profile_vars vars = { 0 };
	ck_assert_int_eq(sk_profile_parse_text("t", text, strlen(text), &vars, NULL, NULL, &p, &err), 0);
	make_dir();
	sk_session *s = NULL;
	ck_assert_int_eq(sk_session_open(dir, "d", true, &s, &err), 0);
	sk_session_event e = attempt(1, "file:8:1:77", "content:sha256:cc", SK_ACTION_DENY);
	ck_assert_int_eq(sk_session_record(s, &e, NULL, NULL, &err), 0);
	sk_session_view v;
	ck_assert_int_eq(sk_session_view_build(s, NULL, 0, &v), 0);
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.access = SK_ACCESS_READ;
	ev.file.file = (sk_file_ref){ .path = "/w/link", .has_identity = true, .dev = 8, .ino = 77 };
	/* file:8:1:77 is "8:1" as MAJ:MIN: dev = makedev(8, 1). */
	ev.file.file.dev = (8u << 8) | 1u;
	sk_verdict r = sk_decide(p, &v, &ev);
	ck_assert_int_eq(r.action, SK_ACTION_DENY);
	ck_assert_int_eq(r.reason, SK_REASON_STICKY_DENY);
	ck_assert_uint_eq(r.chain, 2);
	ev.file.file = (sk_file_ref){ .path = "/w/copy", .has_identity = true, .dev = 1, .ino = 5,
				      .fingerprint = "sha256:cc" };
	r = sk_decide(p, &v, &ev);
	ck_assert_int_eq(r.action, SK_ACTION_DENY);
	ck_assert_int_eq(r.reason, SK_REASON_SECRET_CONTENT);
	ck_assert_int_eq(sk_session_view_bump(&v, "content:sha256:cc", true), 0);
	r = sk_decide(p, &v, &ev);
	ck_assert_int_eq(r.action, SK_ACTION_ESCALATE);
	ck_assert_int_eq(r.reason, SK_REASON_CHAIN_THRESHOLD);
	/* An unrelated file stays allowed. */
	ev.file.file = (sk_file_ref){ .path = "/w/other", .has_identity = true, .dev = 1, .ino = 6 };
	ck_assert_int_eq(sk_decide(p, &v, &ev).action, SK_ACTION_ALLOW);
	/* An alias the caller knows for an object is decided like its path. */
	const char *alias[] = { "/h/.aws/credentials" };
	ev.file.file.aliases = alias;
	ev.file.file.n_aliases = 1;
	r = sk_decide(p, &v, &ev);
	ck_assert_int_eq(r.action, SK_ACTION_DENY);
	ck_assert_int_eq(r.reason, SK_REASON_FILE_SECRET);
	sk_session_view_free(&v);
	sk_session_free(s);
	sk_profile_free(p);
	remove_dir();
}
END_TEST

START_TEST(test_concurrent_writers)
{
	/* Two processes append to one session: dense, ordered numbers. */
	make_dir();
	sk_session *s = NULL;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_session_open(dir, "c", true, &s, &err), 0);
	sk_session_free(s);
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			sk_session *m = NULL;
			if (sk_session_open(dir, "c", false, &m, &err) < 0)
				_exit(1);
			for (int i = 0; i < 50; i++) {
				uint32_t t;
				sk_session_event e = attempt(0, "file:1:1:1", NULL, SK_ACTION_DENY);
				if (sk_session_begin_turn(m, NULL, &t, &err) < 0)
					_exit(2);
				e.turn = t;
				if (sk_session_record(m, &e, NULL, NULL, &err) < 0)
					_exit(3);
			}
			sk_session_free(m);
			_exit(0);
		}
	}
	for (int k = 0; k < 2; k++) {
		int st;
		ck_assert_int_eq(waitpid(kids[k], &st, 0), kids[k]);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	ck_assert_int_eq(sk_session_open(dir, "c", false, &s, &err), 0);
	ck_assert_uint_eq(s->turns, 100);
	ck_assert_uint_eq(s->n_chains, 1);
	ck_assert_uint_eq(s->chains[0].n, 100);
	for (uint32_t i = 0; i < 100; i++)
		ck_assert_uint_eq(s->chains[0].v[i].n, i + 1);
	sk_session_free(s);
	remove_dir();
}
END_TEST

static void append_raw(const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/sessions/b/journal.jsonl", dir);
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(test_torn_and_damaged)
{
	make_dir();
	sk_session *s = NULL;
	sk_error err = { 0 };
	ck_assert_int_eq(sk_session_open(dir, "b", true, &s, &err), 0);
	uint32_t t;
	ck_assert_int_eq(sk_session_begin_turn(s, NULL, &t, &err), 0);
	sk_session_free(s);
	/* A torn last line: ignored on load, cut by the next append. */
	append_raw("{\"t\":\"turn\",\"tu");
	ck_assert_int_eq(sk_session_open(dir, "b", false, &s, &err), 0);
	ck_assert_uint_eq(s->turns, 1);
	ck_assert_int_eq(sk_session_begin_turn(s, NULL, &t, &err), 0);
	ck_assert_uint_eq(t, 2);
	sk_session_free(s);
	ck_assert_int_eq(sk_session_open(dir, "b", false, &s, &err), 0);
	ck_assert_uint_eq(s->turns, 2);
	sk_session_free(s);
	/* A damaged line in the middle: refused with file:line. */
	append_raw("{\"t\":\"attempt\"}\n");
	ck_assert_int_eq(sk_session_open(dir, "b", false, &s, &err), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(err.msg, "journal.jsonl:3:"));
	remove_dir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_chains_by_identity_and_content);
	tcase_add_test(tc, test_decide_on_the_view);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_torn_and_damaged);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
