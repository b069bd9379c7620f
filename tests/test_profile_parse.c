/* Unit tests for the profile parser: every error kind with file:line:col,
 * includes and include cycles, variables, unknown keys, the canonical form
 * and the digest. */
#include <check.h>

#include "check_main.h"
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/policy.h"

static const sk_profile_vars vars = { .home = "/home/u", .workspace = "/home/u/proj", .uid = "1000" };

/* An in-memory loader: includes name entries of a table. */
typedef struct mem_file { const char *name, *text; } mem_file;

static int mem_loader(void *ctx, const char *from, const char *ref, sk_profile_text *out, sk_error *err)
{
	(void)from;
	for (const mem_file *f = ctx; f->name; f++)
		if (!strcmp(f->name, ref)) {
			out->path = strdup(f->name);
			out->key = strdup(f->name);
			out->text = strdup(f->text);
			out->len = strlen(f->text);
			return 0;
		}
	return sk_fail(err, ENOENT, "no such profile");
}

static sk_profile *parse_ok(const char *text, const mem_file *files)
{
	sk_profile *p = NULL;
	sk_error err = { 0 };
	int r = sk_profile_parse_text("top", text, strlen(text), &vars, files ? mem_loader : NULL,
				      (void *)files, &p, &err);
	ck_assert_msg(r == 0, "parse failed: %s", err.msg);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void expect_error_v(const char *text, const mem_file *files, const sk_profile_vars *v,
			   const char *want)
{
	sk_profile *p = NULL;
	sk_error err = { 0 };
	int r = sk_profile_parse_text("top", text, strlen(text), v, files ? mem_loader : NULL,
				      (void *)files, &p, &err);
	ck_assert_msg(r < 0, "expected an error for: %s", text);
	ck_assert_ptr_null(p);
	ck_assert_msg(!strncmp(err.msg, want, strlen(want)), "for %.60s\n   got: %s\nwanted: %s...", text, err.msg, want);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_v(text, NULL, &vars, want);
}

START_TEST(test_error_kinds)
{
	expect_error("fiel deny /x\n", "top:1:1: unknown key 'fiel'");
	expect_error("# c\n\n  bogus\n", "top:3:3: unknown key 'bogus'");
	expect_error("file deni /x", "top:1:6: unknown file action 'deni'");
	expect_error("file deny", "top:1:10: expected a path after 'deny'");
	expect_error("file deny relative/path", "top:1:11: path 'relative/path' must be absolute");
	expect_error("file deny /a/../b", "top:1:11: path '/a/../b' must not contain");
	expect_error("file deny /a/./b", "top:1:11: path '/a/./b' must not contain");
	expect_error("file deny ..", "top:1:11: '..' is not a name pattern");
	expect_error("file deny \"/a b", "top:1:11: unterminated quote");
	expect_error("file deny \"/a\"b", "top:1:15: a closing quote must end the word");
	expect_error("file deny /a\"b\"", "top:1:13: a quote may only start a word");
	expect_error("file deny ${FOO}/x", "top:1:11: unknown variable ${FOO}");
	expect_error("file deny ${HOME/x", "top:1:11: unterminated ${");
	expect_error("file deny /x\x01", "top:1:13: control character 0x01");
	{
		sk_profile *p = NULL;
		sk_error err = { 0 };
		ck_assert_int_lt(sk_profile_parse_text("top", "file deny /x\0y", 14, &vars, NULL, NULL, &p, &err), 0);
		ck_assert_str_eq(err.msg, "top:1:13: control character 0x00 in the line");
	}
	expect_error("file deny /x bogus", "top:1:14: unexpected 'bogus'");
	expect_error("file read-only /x escalate", "top:1:19: unexpected 'escalate'");
	expect_error("file deny /x optional required", "top:1:14: a rule cannot be both optional and required");
	expect_error("file tmpfs /tmp/*", "top:1:12: tmpfs needs a plain absolute path");
	expect_error("file default secret", "top:1:14: file default must be");
	expect_error("env keep FOO", "top:1:5: unknown env action 'keep'");
	expect_error("env drop FOO-BAR", "top:1:10: bad variable name or pattern 'FOO-BAR'");
	expect_error("env default secret", "top:1:13: env default must be pass or drop");
	expect_error("net allow 1.2.3.4", "top:1:11: missing :PORT");
	expect_error("net allow 1.2.3:80", "top:1:11: bad IPv4 address");
	expect_error("net allow 1.2.3.4:99999", "top:1:11: port out of range");
	expect_error("net allow 1.2.3.4:90-80", "top:1:11: port out of range");
	expect_error("net allow 10.0.0.0/33:*", "top:1:11: bad prefix length");
	expect_error("net allow [::1:80", "top:1:11: missing :PORT");
	expect_error("net allow [zz::1]:80", "top:1:11: bad IPv6 address");
	expect_error("net allow exa..mple.com:80", "top:1:11: bad domain name");
	expect_error("net allow ex/ample:80", "top:1:11: a prefix length needs an IP address");
	expect_error("net wide", "top:1:5: unknown net action 'wide'");
	expect_error("net allow 1.2.3.4:80 escalate", "top:1:22: unexpected 'escalate'");
	expect_error("syscall deny notasyscall", "top:1:14: unknown syscall 'notasyscall'");
	expect_error("syscall block ptrace", "top:1:9: unknown syscall action 'block'");
	expect_error("command forbid /bin/ls", "top:1:9: unknown command action 'forbid'");
	expect_error("command default maybe", "top:1:17: command default must be allow, deny or escalate");
	expect_error("limit timeout forever", "top:1:15: bad timeout value 'forever'");
	expect_error("limit memory 2X", "top:1:14: bad memory value '2X'");
	expect_error("limit pids -1", "top:1:12: bad pids value '-1'");
	expect_error("limit disk 1G", "top:1:7: unknown limit 'disk'");
	expect_error("limit", "top:1:6: expected timeout, memory");
	expect_error("escalation chain many", "top:1:18: bad chain length 'many'");
	expect_error("escalation class memory", "top:1:18: unknown class 'memory'");
	expect_error("escalation after 3", "top:1:12: unknown escalation setting 'after'");
	expect_error("redact hide x", "top:1:8: unknown redact rule 'hide'");
	expect_error("redact pattern \"bad name\"", "top:1:16: bad pattern name 'bad name'");
	expect_error("redact literal-file keys.txt", "top:1:21: literal-file needs an absolute path");
	expect_error("stockade-profile 2", "top:1:18: unsupported profile version '2'");
	expect_error("a b c d e f g h i j k l m n o p q", "top:1:");
	expect_error("include other", "top:1:9: include 'other': includes are not available here");
}
END_TEST

START_TEST(test_unset_variable)
{
	sk_profile_vars nows = { .home = "/home/u", .uid = "7" };
	expect_error_v("file read-write ${WORKSPACE}", NULL, &nows, "top:1:17: variable ${WORKSPACE} is not set here");
	expect_error_v("file read-write ${HOME}", NULL, NULL, "top:1:17: variable ${HOME} is not set here");
}
END_TEST

START_TEST(test_word_limits)
{
	char line[5000] = "file deny /";
	memset(line + 11, 'a', 4100);
	line[4111] = '\0';
	expect_error(line, "top:1:11: word too long");
	expect_error("file deny /x id=a id=b id=c id=d id=e id=f id=g id=h id=i id=j id=k id=l id=m id=n",
		     "top:1:");
}
END_TEST

START_TEST(test_variables_and_quotes)
{
	sk_profile *p = parse_ok("file read-write ${WORKSPACE}\n"
				 "file deny \"${HOME}/My Secrets\"   # a comment\n"
				 "file tmpfs /run/user/${UID}\n"
				 "redact pattern price \"\\\\$[0-9]+ and $$\"\n"
				 "file read-only //usr//lib/\n", NULL);
	ck_assert_uint_eq(p->n_rules, 5);
	ck_assert_str_eq(p->rules[0].arg, "/home/u/proj");
	ck_assert_str_eq(p->rules[1].arg, "/home/u/My Secrets");
	ck_assert_int_eq(p->rules[1].action, SK_FILE_DENY);
	ck_assert_str_eq(p->rules[1].id, "top:2");
	ck_assert_str_eq(p->rules[2].arg, "/run/user/1000");
	ck_assert_str_eq(p->rules[3].arg2, "\\$[0-9]+ and $");
	ck_assert_str_eq(p->rules[4].arg, "/usr/lib");
	ck_assert_int_eq(p->rules[4].path_kind, SK_PATH_PREFIX);
	sk_profile_free(p);
}
END_TEST

START_TEST(test_settings)
{
	sk_profile *p = parse_ok("net loopback\nnet host\nlimit timeout 1.5\nlimit memory 2G\nlimit cpu 1500ms\n"
				 "escalation chain 5\nescalation class net\ncommand default escalate\n"
				 "env default drop\nfile default read-only\r\n", NULL);
	ck_assert_int_eq(p->net.value, SK_NETP_HOST);
	ck_assert_str_eq(p->net.id, "top:2");
	ck_assert_uint_eq(p->limits[SK_LIMIT_TIMEOUT], 1500);
	ck_assert_uint_eq(p->limits[SK_LIMIT_MEMORY], 2ULL << 30);
	ck_assert_uint_eq(p->limits[SK_LIMIT_CPU], 2);
	ck_assert_int_eq(p->chain.value, 5);
	ck_assert(p->escalate_class[SK_CLASS_NET]);
	ck_assert(!p->escalate_class[SK_CLASS_FILE]);
	ck_assert_int_eq(p->command_default.value, SK_ACTION_ESCALATE);
	ck_assert_int_eq(p->env_default.value, SK_ENV_DROP);
	ck_assert_int_eq(p->file_default.value, SK_FILE_READ_ONLY);
	sk_profile_free(p);
	/* Builtin defaults, named "builtin". */
	p = parse_ok("", NULL);
	ck_assert_int_eq(p->net.value, SK_NETP_NONE);
	ck_assert_str_eq(p->net.id, "builtin");
	ck_assert_int_eq(p->file_default.value, SK_FILE_HIDDEN);
	ck_assert_int_eq(p->chain.value, 3);
	sk_profile_free(p);
}
END_TEST

START_TEST(test_rule_kinds)
{
	sk_profile *p = parse_ok("file deny .env\nfile deny /home/*/.netrc\nenv secret *_TOKEN\nenv pass PATH\n"
				 "net allow [2001:db8::1]/32:443\nnet deny *.Example.COM:1-1024 escalate\n"
				 "command deny curl\nsyscall allow ptrace\nfile secret /k required escalate\n", NULL);
	ck_assert_int_eq(p->rules[0].path_kind, SK_PATH_NAME);
	ck_assert_int_eq(p->rules[1].path_kind, SK_PATH_GLOB);
	ck_assert_int_eq(p->rules[2].path_kind, SK_PATH_GLOB);
	ck_assert_int_eq(p->rules[3].path_kind, SK_PATH_NAME);
	ck_assert_str_eq(p->rules[4].arg, "[2001:db8::]/32:443");
	ck_assert_int_eq(p->rules[4].net.prefix, 32);
	ck_assert_str_eq(p->rules[5].arg, "*.example.com:1-1024");
	ck_assert(p->rules[5].escalate);
	ck_assert_int_eq(p->rules[6].cls, SK_CLASS_COMMAND);
	ck_assert_int_eq(p->rules[6].path_kind, SK_PATH_NAME);
	ck_assert(p->rules[8].required && p->rules[8].escalate);
	sk_profile_free(p);
}
END_TEST

static const mem_file files[] = {
	{ "base", "file read-only /usr\ninclude common\n" },
	{ "common", "env drop *_TOKEN\n" },
	{ "loop1", "include loop2\n" },
	{ "loop2", "\n\ninclude loop1\n" },
	{ "self", "include self\n" },
	{ "bad", "file read-only /usr\nnet sometimes\n" },
	{ "d1", "include d2" }, { "d2", "include d3" }, { "d3", "include d4" }, { "d4", "include d5" },
	{ "d5", "include d6" }, { "d6", "include d7" }, { "d7", "include d8" }, { "d8", "include d9" },
	{ "d9", "include d10" }, { "d10", "" },
	{ NULL, NULL },
};

START_TEST(test_includes)
{
	sk_profile *p = parse_ok("file deny /a\ninclude base\nfile deny /b\n", files);
	ck_assert_uint_eq(p->n_rules, 4);
	ck_assert_str_eq(p->rules[0].id, "top:1");
	ck_assert_str_eq(p->rules[1].id, "base:1");
	ck_assert_str_eq(p->rules[2].id, "common:1");
	ck_assert_str_eq(p->rules[3].id, "top:3");
	sk_profile_free(p);
	/* The same file twice (not nested) is fine. */
	p = parse_ok("include common\ninclude common\n", files);
	ck_assert_uint_eq(p->n_rules, 2);
	sk_profile_free(p);

	expect_error_v("include loop1", files, &vars, "loop2:3:9: include 'loop1': include cycle");
	expect_error_v("include self", files, &vars, "self:1:9: include 'self': include cycle");
	expect_error_v("\ninclude missing", files, &vars, "top:2:9: include 'missing': no such profile");
	expect_error_v("include bad", files, &vars, "bad:2:5: unknown net action 'sometimes'");
	expect_error_v("include d1", files, &vars, "d8:1:9: include 'd9': includes nested deeper than 8");
	expect_error_v("include a b", files, &vars, "top:1:11: unexpected 'b'");
}
END_TEST

START_TEST(test_canonical_roundtrip)
{
	const char *text =
		"# whom: tests\nfile read-write ${WORKSPACE}\nfile deny \"/with space/and\\\"quote\"\n"
		"file deny /dollar$x escalate\nfile secret /k required\nenv secret *_TOKEN\n"
		"net allow 10.1.2.3/8:80-90\nnet deny example.org:*\nsyscall deny ptrace\n"
		"command escalate ssh\nlimit timeout 2m\nlimit output 1M\nescalation class command\n"
		"redact pattern aws_key \"AKIA[0-9A-Z]{16}\"\nredact disable email\n"
		"redact literal-file /etc/secret\nredact pattern id-like \"id=1\"\n";
	sk_profile *p = parse_ok(text, NULL);
	char *c1 = NULL, *c2 = NULL;
	size_t l1, l2;
	ck_assert_int_eq(sk_profile_canonical(p, &c1, &l1), 0);
	ck_assert_uint_eq(strlen(c1), l1);
	const char *want =
		"stockade-profile 1\n"
		"net none id=builtin\n"
		"file default hidden id=builtin\n"
		"env default pass id=builtin\n"
		"command default allow id=builtin\n"
		"escalation chain 3 id=builtin\n"
		"escalation class command id=top:13\n"
		"limit timeout 120000ms id=top:11\n"
		"limit output 1048576 id=top:12\n"
		"file read-write /home/u/proj id=top:2\n"
		"file deny \"/with space/and\\\"quote\" id=top:3\n"
		"file deny /dollar$$x escalate id=top:4\n"
		"file secret /k required id=top:5\n"
		"env secret *_TOKEN id=top:6\n"
		"net allow 10.0.0.0/8:80-90 id=top:7\n"
		"net deny example.org:* id=top:8\n"
		"syscall deny ptrace id=top:9\n"
		"command escalate ssh id=top:10\n"
		"redact pattern aws_key \"AKIA[0-9A-Z]{16}\" id=top:14\n"
		"redact disable email id=top:15\n"
		"redact literal-file /etc/secret id=top:16\n"
		"redact pattern id-like \"id=1\" id=top:17\n";
	ck_assert_str_eq(c1, want);
	/* The canonical form is a profile whose canonical form is itself. */
	sk_profile *q = NULL;
	sk_error err = { 0 };
	ck_assert_msg(sk_profile_parse_text("sha256:x", c1, l1, NULL, NULL, NULL, &q, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sk_profile_canonical(q, &c2, &l2), 0);
	ck_assert_str_eq(c1, c2);
	char d1[SK_PROFILE_DIGEST_LEN + 1], d2[SK_PROFILE_DIGEST_LEN + 1];
	ck_assert_int_eq(sk_profile_digest(p, d1), 0);
	ck_assert_int_eq(sk_profile_digest(q, d2), 0);
	ck_assert_str_eq(d1, d2);
	ck_assert_uint_eq(strlen(d1), SK_PROFILE_DIGEST_LEN);
	ck_assert(!strncmp(d1, "sha256:", 7));
	free(c1);
	free(c2);
	sk_profile_free(p);
	sk_profile_free(q);
}
END_TEST

static void digest_of(const char *text, char out[SK_PROFILE_DIGEST_LEN + 1])
{
	sk_profile *p = parse_ok(text, NULL);
	ck_assert_int_eq(sk_profile_digest(p, out), 0);
	sk_profile_free(p);
}

START_TEST(test_digest_stability)
{
	char a[80], b[80], c[80], d[80], e[80];
	digest_of("file deny /x\n", a);
	digest_of("file   deny\t/x   # comments and blanks do not count\n", b);
	digest_of("file deny /y\n", c);
	digest_of("\nfile deny /x\n", d);   /* the rule moved: its id changed */
	digest_of("file deny \"/x\"\n", e);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(a, e);
	ck_assert_str_ne(a, c);
	ck_assert_str_ne(a, d);
	/* The digest is the SHA-256 of the canonical text, computed here apart. */
	sk_profile *p = parse_ok("file deny /x\n", NULL);
	char *text = NULL;
	size_t len;
	ck_assert_int_eq(sk_profile_canonical(p, &text, &len), 0);
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)text, len);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	ck_assert_str_eq(a + 7, hex);
	free(text);
	sk_profile_free(p);
}
END_TEST

START_TEST(test_coverage)
{
	sk_profile *p = parse_ok("file read-only /usr\nfile deny /x\nfile deny /y escalate\nenv pass PATH\n"
				 "net deny *:*\nescalation class net\ncommand allow /bin/ls\ncommand escalate ssh\n", NULL);
	sk_coverage c;
	sk_profile_coverage(p, &c);
	ck_assert_uint_eq(c.total, 15);
	ck_assert(c.has[SK_CLASS_FILE][SK_ACTION_ALLOW] && c.has[SK_CLASS_FILE][SK_ACTION_DENY] && c.has[SK_CLASS_FILE][SK_ACTION_ESCALATE]);
	ck_assert(c.has[SK_CLASS_ENV][SK_ACTION_ALLOW] && !c.has[SK_CLASS_ENV][SK_ACTION_DENY]);
	ck_assert(!c.has[SK_CLASS_NET][SK_ACTION_DENY] && c.has[SK_CLASS_NET][SK_ACTION_ESCALATE]);
	ck_assert(!c.has[SK_CLASS_SYSCALL][SK_ACTION_ALLOW]);
	ck_assert(c.has[SK_CLASS_COMMAND][SK_ACTION_ALLOW] && c.has[SK_CLASS_COMMAND][SK_ACTION_ESCALATE]);
	ck_assert_uint_eq(c.covered, 3 + 1 + 1 + 0 + 2);
	sk_profile_free(p);
}
END_TEST

START_TEST(test_names)
{
	for (int r = 0; r < SK_REASON_N; r++) {
		const char *n = sk_reason_name((sk_reason)r);
		ck_assert_str_ne(n, "unknown");
		ck_assert_int_eq(sk_reason_from_name(n), r);
	}
	ck_assert_str_eq(sk_reason_name(SK_REASON_N), "unknown");
	ck_assert_int_eq(sk_reason_from_name("nope"), -1);
	ck_assert_str_eq(sk_reason_name(SK_REASON_STICKY_DENY), "sticky_deny");
	ck_assert_int_eq(SK_REASON_COMMAND_ESCALATE, 29);   /* stable numbering */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("profile_parse");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, test_error_kinds);
	tcase_add_test(tc, test_unset_variable);
	tcase_add_test(tc, test_word_limits);
	tcase_add_test(tc, test_variables_and_quotes);
	tcase_add_test(tc, test_settings);
	tcase_add_test(tc, test_rule_kinds);
	tcase_add_test(tc, test_includes);
	tcase_add_test(tc, test_canonical_roundtrip);
	tcase_add_test(tc, test_digest_stability);
	tcase_add_test(tc, test_coverage);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return sk_check_run(s);
}
