/* Table-driven test of decide(): events x profiles x session states ->
 * verdicts, sticky denials and the escalation threshold included.  Also
 * the surface keys decide and the sessions share. */
#include <arpa/inet.h>
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "stockade/policy.h"

static const sk_profile_vars vars = { .home = "/home/u", .workspace = "/home/u/proj", .uid = "1000" };

static const char *const profile_texts[] = {
	/* P0: a coding agent (line numbers matter: rule ids are p0:LINE) */
	"file default read-only\n"          /* 1 */
	"file read-write ${WORKSPACE}\n"    /* 2 */
	"file hidden ${HOME}\n"             /* 3 */
	"file read-only ${HOME}/.gitconfig\n" /* 4 */
	"file deny ${HOME}/.ssh\n"          /* 5 */
	"file secret ${HOME}/.aws\n"        /* 6 */
	"file deny .env\n"                  /* 7 */
	"file read-write .env.example\n"    /* 8 */
	"file tmpfs /tmp\n"                 /* 9 */
	"file deny ${HOME}/.kube escalate\n" /* 10 */
	"env default pass\n"                /* 11 */
	"env secret *_TOKEN\n"              /* 12 */
	"env pass GITHUB_TOKEN\n"           /* 13 */
	"env drop AWS_*\n"                  /* 14 */
	"net none\n"                        /* 15 */
	"command deny curl\n"               /* 16 */
	"command escalate /usr/bin/ssh\n"   /* 17 */
	"command allow /usr/bin/*\n"        /* 18 */
	"command default allow\n"           /* 19 */
	"escalation chain 3\n",             /* 20 */
	/* P1: host network with rules */
	"net host\n"                            /* 1 */
	"net deny 169.254.169.254:*\n"          /* 2 */
	"net allow 10.0.0.0/8:443\n"            /* 3 */
	"net deny 10.0.0.0/8:*\n"               /* 4 */
	"net escalate *.example.com:443\n"      /* 5 */
	"net allow api.example.com:443\n"       /* 6 */
	"syscall deny ptrace\n"                 /* 7 */
	"syscall allow personality\n"           /* 8 */
	"escalation class syscall\n"            /* 9 */
	"command default deny\n"                /* 10 */
	"net allow [2001:db8::]/32:*\n",        /* 11 */
	/* P2: loopback only, no chain escalation, deny by default */
	"net loopback\n"                        /* 1 */
	"escalation chain 0\n"                  /* 2 */
	"file default deny\n"                   /* 3 */
	"file read-write /w\n",                 /* 4 */
};
#define N_PROFILES 3

static sk_profile *profiles[N_PROFILES + 1];   /* [3] = P0 bound by hand */

/* Session states, each sorted by key in setup. */
static sk_surface_state s1[] = {
	{ "file:8:1:100", 1, true, false },
	{ "net:1.2.3.4:443", 5, true, false },
	{ "env:MY_TOKEN", 1, true, true },
	{ "content:sha256:abcd", 1, true, false },
	{ "file:/home/u/.ssh/id_rsa", 2, true, false },
	{ "file:/home/u/.ssh/known_hosts", 3, true, false },
	{ "net:9.9.9.9:53", 9, true, false },
	{ "cmd:/usr/bin/curl", 10, true, false },
};
static sk_session_view sessions[2];

static int cmp_state(const void *a, const void *b)
{
	return strcmp(((const sk_surface_state *)a)->key, ((const sk_surface_state *)b)->key);
}

static void setup(void)
{
	for (int i = 0; i < N_PROFILES; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i);
		sk_error err = { 0 };
		int r = sk_profile_parse_text(name, profile_texts[i], strlen(profile_texts[i]), &vars,
					      NULL, NULL, &profiles[i], &err);
		ck_assert_msg(r == 0, "%s", err.msg);
	}
	/* P0 again, bound as sk_profile_bind would: the identities of a
	 * secret file and of curl at their known locations. */
	sk_error err = { 0 };
	ck_assert_int_eq(sk_profile_parse_text("p0", profile_texts[0], strlen(profile_texts[0]), &vars,
					       NULL, NULL, &profiles[3], &err), 0);
	sk_ident *ids = calloc(3, sizeof(*ids));
	ids[0] = (sk_ident){ makedev(8, 1), 555, "/home/u/.ssh/id_rsa" };
	ids[1] = (sk_ident){ makedev(8, 1), 777, "/usr/bin/curl" };
	ids[2] = (sk_ident){ makedev(8, 2), 1, "/home/u/.gitconfig" };
	profiles[3]->idents = ids;
	profiles[3]->n_idents = 3;
	profiles[3]->bound = true;
	qsort(s1, SK_ARRAY_LEN(s1), sizeof(s1[0]), cmp_state);
	sessions[0] = (sk_session_view){ NULL, 0 };
	sessions[1] = (sk_session_view){ s1, SK_ARRAY_LEN(s1) };
}

static void teardown(void)
{
	for (int i = 0; i <= N_PROFILES; i++)
		sk_profile_free(profiles[i]);
}

enum { F, C, N, S, E };   /* event kinds in the table */
#define R SK_ACCESS_READ
#define W SK_ACCESS_WRITE

typedef struct row {
	int profile, session;
	int kind;
	const char *what;        /* path, name, or address */
	unsigned access;
	unsigned ino;            /* 0 = no identity; else dev 8:1 */
	uint16_t port;
	const char *extra;       /* domain, or fingerprint */
	sk_action want;
	sk_reason reason;
	const char *rule;
	uint32_t chain;
} row;

static const row table[] = {
	/* files, P0, empty session */
	{ 0, 0, F, "/home/u/proj/main.c", W, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	{ 0, 0, F, "/usr/lib/libc.so", R, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_ONLY, "p0:1", 1 },
	{ 0, 0, F, "/usr/lib/libc.so", W, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_WRITE_READ_ONLY, "p0:1", 1 },
	{ 0, 0, F, "/home/u/.gitconfig", R, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_ONLY, "p0:4", 1 },
	{ 0, 0, F, "/home/u/.gitconfig", W, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_WRITE_READ_ONLY, "p0:4", 1 },
	{ 0, 0, F, "/home/u/.bashrc", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_HIDDEN, "p0:3", 1 },
	{ 0, 0, F, "/home/u", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_HIDDEN, "p0:3", 1 },
	{ 0, 0, F, "/home/u/.ssh/id_rsa", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:5", 1 },
	{ 0, 0, F, "/home/u/.ssh", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:5", 1 },
	{ 0, 0, F, "/home/u/.sshx", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_HIDDEN, "p0:3", 1 },
	{ 0, 0, F, "/home/u/.aws/credentials", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_SECRET, "p0:6", 1 },
	{ 0, 0, F, "/home/u/proj/.env", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:7", 1 },
	{ 0, 0, F, "/home/u/proj/sub/.env/x", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:7", 1 },
	{ 0, 0, F, "/home/u/proj/.env.example", R, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:8", 1 },
	{ 0, 0, F, "/home/u/proj/.envrc", R, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	{ 0, 0, F, "/tmp/build/x.o", W, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_TMPFS, "p0:9", 1 },
	{ 0, 0, F, "/home/u/.kube/config", R, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_ESCALATE_RULE, "p0:10", 1 },
	{ 0, 0, F, "/var/run/docker.sock", W, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_WRITE_READ_ONLY, "p0:1", 1 },
	{ 0, 0, F, "relative/path", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_INVALID_EVENT, "builtin", 1 },
	/* identity: a hard link to a denied file, reached by a harmless path */
	{ 3, 0, F, "/home/u/proj/innocent", R, 555, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:5", 1 },
	{ 0, 0, F, "/home/u/proj/innocent", R, 555, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	{ 3, 0, F, "/home/u/proj/other", R, 556, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	/* sticky deny: by identity, by content (a copy joins the original's chain), by path; the chain threshold (3) */
	{ 0, 1, F, "/home/u/proj/a.c", R, 100, 0, NULL, SK_ACTION_DENY, SK_REASON_STICKY_DENY, "session", 2 },
	{ 0, 0, F, "/home/u/proj/a.c", R, 100, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	{ 0, 1, F, "/home/u/proj/copy", R, 101, 0, "sha256:abcd", SK_ACTION_DENY, SK_REASON_SECRET_CONTENT, "session", 2 },
	{ 0, 1, F, "/home/u/proj/copy", R, 101, 0, "sha256:ef01", SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p0:2", 1 },
	{ 0, 1, F, "/home/u/.ssh/id_rsa", R, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:5", 3 },
	{ 0, 1, F, "/home/u/.ssh/known_hosts", R, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_CHAIN_THRESHOLD, "p0:5", 4 },
	{ 0, 1, N, "1.2.3.4", 0, 0, 443, NULL, SK_ACTION_ESCALATE, SK_REASON_CHAIN_THRESHOLD, "p0:15", 6 },
	{ 2, 1, N, "9.9.9.9", 0, 0, 53, NULL, SK_ACTION_DENY, SK_REASON_NET_NOT_LOOPBACK, "p2:1", 10 },
	{ 1, 1, N, "9.9.9.9", 0, 0, 53, NULL, SK_ACTION_ESCALATE, SK_REASON_CHAIN_THRESHOLD, "session", 10 },
	{ 1, 1, N, "1.2.3.4", 0, 0, 443, NULL, SK_ACTION_ESCALATE, SK_REASON_CHAIN_THRESHOLD, "session", 6 },
	{ 2, 1, N, "1.2.3.4", 0, 0, 443, NULL, SK_ACTION_DENY, SK_REASON_NET_NOT_LOOPBACK, "p2:1", 6 },
	/* env */
	{ 0, 0, E, "MY_TOKEN", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_ENV_SECRET, "p0:12", 1 },
	{ 0, 1, E, "MY_TOKEN", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_APPROVED, "session", 2 },
	{ 0, 0, E, "GITHUB_TOKEN", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_ENV_PASS, "p0:13", 1 },
	{ 0, 0, E, "AWS_REGION", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_ENV_DROP, "p0:14", 1 },
	{ 0, 0, E, "PATH", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_ENV_PASS, "p0:11", 1 },
	{ 0, 0, E, "", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_INVALID_EVENT, "builtin", 1 },
	/* commands */
	{ 0, 0, C, "/usr/bin/curl", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_COMMAND_DENY, "p0:16", 1 },
	{ 0, 0, C, "/usr/bin/ssh", 0, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_COMMAND_ESCALATE, "p0:17", 1 },
	{ 0, 0, C, "/usr/bin/git", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_COMMAND_ALLOW, "p0:18", 1 },
	{ 0, 0, C, "/home/u/proj/a.out", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_COMMAND_ALLOW, "p0:19", 1 },
	{ 0, 0, C, "/home/u/.ssh/evil", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p0:5", 1 },
	{ 3, 0, C, "/home/u/proj/mytool", 0, 777, 0, NULL, SK_ACTION_DENY, SK_REASON_COMMAND_DENY, "p0:16", 1 },
	{ 0, 0, C, "/home/u/proj/mytool", 0, 777, 0, NULL, SK_ACTION_ALLOW, SK_REASON_COMMAND_ALLOW, "p0:19", 1 },
	{ 0, 1, C, "/usr/bin/curl", 0, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_CHAIN_THRESHOLD, "p0:16", 11 },
	{ 1, 0, C, "/usr/bin/ls", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_COMMAND_DENY, "p1:10", 1 },
	/* network */
	{ 0, 0, N, "127.0.0.1", 0, 0, 8080, NULL, SK_ACTION_DENY, SK_REASON_NET_MODE_NONE, "p0:15", 1 },
	{ 1, 0, N, "169.254.169.254", 0, 0, 80, NULL, SK_ACTION_DENY, SK_REASON_NET_RULE_DENY, "p1:2", 1 },
	{ 1, 0, N, "10.1.2.3", 0, 0, 443, NULL, SK_ACTION_ALLOW, SK_REASON_NET_RULE_ALLOW, "p1:3", 1 },
	{ 1, 0, N, "10.1.2.3", 0, 0, 22, NULL, SK_ACTION_DENY, SK_REASON_NET_RULE_DENY, "p1:4", 1 },
	{ 1, 0, N, "8.8.8.8", 0, 0, 53, NULL, SK_ACTION_ALLOW, SK_REASON_NET_HOST, "p1:1", 1 },
	{ 1, 0, N, "93.184.216.34", 0, 0, 443, "api.example.com", SK_ACTION_ALLOW, SK_REASON_NET_RULE_ALLOW, "p1:6", 1 },
	{ 1, 0, N, "93.184.216.34", 0, 0, 443, "www.Example.com", SK_ACTION_ESCALATE, SK_REASON_NET_RULE_ESCALATE, "p1:5", 1 },
	{ 1, 0, N, "93.184.216.34", 0, 0, 443, "example.com", SK_ACTION_ALLOW, SK_REASON_NET_HOST, "p1:1", 1 },
	{ 1, 0, N, "2001:db8::5", 0, 0, 80, NULL, SK_ACTION_ALLOW, SK_REASON_NET_RULE_ALLOW, "p1:11", 1 },
	{ 2, 0, N, "127.0.0.1", 0, 0, 8080, NULL, SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, "p2:1", 1 },
	{ 2, 0, N, "::1", 0, 0, 8080, NULL, SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, "p2:1", 1 },
	{ 2, 0, N, "::ffff:127.0.0.2", 0, 0, 80, NULL, SK_ACTION_ALLOW, SK_REASON_NET_LOOPBACK, "p2:1", 1 },
	{ 2, 0, N, "1.1.1.1", 0, 0, 80, NULL, SK_ACTION_DENY, SK_REASON_NET_NOT_LOOPBACK, "p2:1", 1 },
	{ 2, 0, N, "unix:/w/app.sock", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_FILE_READ_WRITE, "p2:4", 1 },
	{ 2, 0, N, "unix:/run/docker.sock", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_FILE_DENIED, "p2:3", 1 },
	/* syscalls */
	{ 1, 0, S, "ptrace", 0, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_ESCALATE_CLASS, "p1:7", 1 },
	{ 1, 0, S, "personality", 0, 0, 0, NULL, SK_ACTION_ALLOW, SK_REASON_SYSCALL_ALLOW, "p1:8", 1 },
	{ 1, 0, S, "keyctl", 0, 0, 0, NULL, SK_ACTION_ESCALATE, SK_REASON_ESCALATE_CLASS, "builtin", 1 },
	{ 0, 0, S, "keyctl", 0, 0, 0, NULL, SK_ACTION_DENY, SK_REASON_SYSCALL_DEFAULT, "builtin", 1 },
};

static void build_event(const row *t, sk_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	sk_file_ref f = { .path = t->what, .has_identity = t->ino != 0, .dev = makedev(8, 1),
			  .ino = t->ino, .fingerprint = t->extra };
	switch (t->kind) {
	case F:
		ev->kind = SK_EVENT_FILE;
		ev->file.file = f;
		ev->file.access = t->access;
		break;
	case C:
		ev->kind = SK_EVENT_COMMAND;
		ev->command.exe = f;
		break;
	case E:
		ev->kind = SK_EVENT_ENV;
		ev->env.name = t->what;
		break;
	case S:
		ev->kind = SK_EVENT_SYSCALL;
		ev->syscall.name = t->what;
		break;
	case N:
		ev->kind = SK_EVENT_CONNECT;
		ev->connect.port = t->port;
		ev->connect.domain = t->extra;
		if (!strncmp(t->what, "unix:", 5)) {
			ev->connect.family = SK_NET_FAMILY_UNIX;
			ev->connect.unix_path = t->what + 5;
		} else if (strchr(t->what, ':')) {
			ev->connect.family = SK_NET_FAMILY_INET6;
			ck_assert_int_eq(inet_pton(AF_INET6, t->what, ev->connect.addr), 1);
		} else {
			ev->connect.family = SK_NET_FAMILY_INET4;
			ck_assert_int_eq(inet_pton(AF_INET, t->what, ev->connect.addr), 1);
		}
		break;
	}
}

START_TEST(test_decide_table)
{
	const row *t = &table[_i];
	sk_event ev;
	build_event(t, &ev);
	sk_verdict v = sk_decide(profiles[t->profile], &sessions[t->session], &ev);
	ck_assert_msg(v.action == t->want && v.reason == t->reason && !strcmp(v.rule_id, t->rule) &&
		      v.chain == t->chain,
		      "row %d (%s): got %s/%s/%s/chain %u, want %s/%s/%s/chain %u", _i, t->what,
		      sk_action_name(v.action), sk_reason_name(v.reason), v.rule_id, v.chain,
		      sk_action_name(t->want), sk_reason_name(t->reason), t->rule, t->chain);
	/* Pure: the same question gets the same answer. */
	sk_verdict again = sk_decide(profiles[t->profile], &sessions[t->session], &ev);
	ck_assert(again.action == v.action && again.reason == v.reason && again.rule_id == v.rule_id);
}
END_TEST

/* The specificity of a name pattern, shared by decide and the sandbox's
 * workspace walk: its characters that are not glob metacharacters. */
START_TEST(test_pattern_literal_chars)
{
	ck_assert_uint_eq(sk_pattern_literal_chars(".env"), 4);
	ck_assert_uint_eq(sk_pattern_literal_chars(".env.*"), 5);
	ck_assert_uint_eq(sk_pattern_literal_chars(".env.example"), 12);
	ck_assert_uint_eq(sk_pattern_literal_chars("*.pem"), 4);
	ck_assert_uint_eq(sk_pattern_literal_chars("id_[rd]sa*"), 7);   /* a bracket's letters count */
	ck_assert_uint_eq(sk_pattern_literal_chars(""), 0);
}
END_TEST

START_TEST(test_decide_null_inputs)
{
	sk_event ev = { .kind = SK_EVENT_ENV };
	ev.env.name = "X";
	sk_verdict v = sk_decide(NULL, NULL, &ev);
	ck_assert_int_eq(v.action, SK_ACTION_DENY);
	ck_assert_int_eq(v.reason, SK_REASON_INVALID_EVENT);
	v = sk_decide(profiles[0], NULL, &ev);   /* NULL session = empty session */
	ck_assert_int_eq(v.action, SK_ACTION_ALLOW);
	sk_event bad = { .kind = (sk_event_kind)99 };
	v = sk_decide(profiles[0], NULL, &bad);
	ck_assert_int_eq(v.reason, SK_REASON_INVALID_EVENT);
}
END_TEST

START_TEST(test_surface_keys)
{
	char buf[SK_SURFACE_KEY_MAX];
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file = (sk_file_ref){ .path = "/a/b", .has_identity = true, .dev = makedev(8, 1), .ino = 1234 };
	ck_assert_int_gt(sk_surface_key(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "file:8:1:1234");
	ev.file.file.has_identity = false;
	sk_surface_key(&ev, buf, sizeof(buf));
	ck_assert_str_eq(buf, "file:/a/b");
	ck_assert_int_eq(sk_surface_key(&ev, buf, 5), -ENOSPC);
	ck_assert_int_eq(sk_surface_content_key(&ev, buf, sizeof(buf)), -ENOENT);
	ev.file.file.fingerprint = "sha256:00";
	ck_assert_int_gt(sk_surface_content_key(&ev, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "content:sha256:00");

	sk_event c = { .kind = SK_EVENT_COMMAND };
	c.command.exe = (sk_file_ref){ .path = "/usr/bin/git", .has_identity = true, .dev = makedev(254, 3), .ino = 9 };
	sk_surface_key(&c, buf, sizeof(buf));
	ck_assert_str_eq(buf, "cmd:254:3:9");

	sk_event n = { .kind = SK_EVENT_CONNECT };
	n.connect.family = SK_NET_FAMILY_INET6;
	inet_pton(AF_INET6, "2001:db8::1", n.connect.addr);
	n.connect.port = 443;
	sk_surface_key(&n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "net:[2001:db8::1]:443");
	n.connect.family = SK_NET_FAMILY_INET4;
	inet_pton(AF_INET, "10.0.0.1", n.connect.addr);
	sk_surface_key(&n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "net:10.0.0.1:443");
	n.connect.family = SK_NET_FAMILY_UNIX;
	n.connect.unix_path = "/run/x.sock";
	sk_surface_key(&n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "net:unix:/run/x.sock");
	n.connect.unix_path = NULL;
	ck_assert_int_eq(sk_surface_key(&n, buf, sizeof(buf)), -EINVAL);

	sk_event s = { .kind = SK_EVENT_SYSCALL };
	s.syscall.name = "ptrace";
	sk_surface_key(&s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "syscall:ptrace");
	sk_event e = { .kind = SK_EVENT_ENV };
	e.env.name = "HOME";
	sk_surface_key(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "env:HOME");
	ck_assert_int_eq(sk_event_class(&e), SK_CLASS_ENV);
	ck_assert_int_eq(sk_event_class(&n), SK_CLASS_NET);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_decide");
	TCase *tc = tcase_create("decide");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_decide_table, 0, (int)SK_ARRAY_LEN(table));
	tcase_add_test(tc, test_decide_null_inputs);
	tcase_add_test(tc, test_pattern_literal_chars);
	tcase_add_test(tc, test_surface_keys);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
