/* Unit tests for src/audit: canonical JSON, Merkle heads, sealing, the log
 * writer (chain, checkpoints, rotation, torn lines, concurrent writers),
 * tamper detection by verify, and the evidence store. */
#include <check.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "stockade/audit.h"
#include "stockade/policy.h"

static char *canon_of(const char *json)
{
	json_error_t je;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &je);
	ck_assert_msg(v != NULL, "bad test JSON %s", json);
	char *out = NULL;
	sk_error e = { 0 };
	int r = sk_jcs_serialize(v, &out, NULL, &e);
	json_decref(v);
	return r == 0 ? out : NULL;
}

static void assert_canon(const char *in, const char *want)
{
	char *got = canon_of(in);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_jcs_basic)
{
	assert_canon("{\"b\": 1, \"a\": [true, false, null], \"c\": {\"z\": \"x\", \"y\": -5}}",
		     "{\"a\":[true,false,null],\"b\":1,\"c\":{\"y\":-5,\"z\":\"x\"}}");
	assert_canon("{}", "{}");
	assert_canon("[]", "[]");
	assert_canon("9007199254740991", "9007199254740991");
}
END_TEST

START_TEST(test_jcs_escaping)
{
	/* Only " \\ and C0 controls escaped; short forms; lowercase \u00xx;
	 * DEL, '/', and non-ASCII stay literal. */
	assert_canon("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\\u00e9\\u20ac\"",
		     "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\xc3\xa9\xe2\x82\xac\"");
}
END_TEST

START_TEST(test_jcs_key_order_utf16)
{
	/* U+FB01 (0xFB01) sorts after U+1F600 (surrogates 0xD83D...) in UTF-16,
	 * though before it in code points / UTF-8 bytes.  Also: "" < "a" < "aa". */
	assert_canon("{\"\\ufb01\": 1, \"\\ud83d\\ude00\": 2, \"aa\": 3, \"a\": 4, \"\": 5}",
		     "{\"\":5,\"a\":4,\"aa\":3,\"\xf0\x9f\x98\x80\":2,\"\xef\xac\x81\":1}");
	/* The RFC 8785 section 3.2.3 example keys. */
	assert_canon("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
		     "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
		     "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\","
		     "\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
	ck_assert_int_lt(sk_jcs_keycmp("\xf0\x9f\x98\x80", "\xef\xac\x81"), 0);
	ck_assert_int_gt(sk_jcs_keycmp("b", "a"), 0);
	ck_assert_int_eq(sk_jcs_keycmp("same", "same"), 0);
}
END_TEST

START_TEST(test_jcs_rejects_reals_and_big_ints)
{
	ck_assert_ptr_null(canon_of("{\"x\": 1.5}"));
	ck_assert_ptr_null(canon_of("[1e3]"));
	ck_assert_ptr_null(canon_of("9007199254740992"));
	ck_assert_ptr_null(canon_of("-9007199254740992"));
}
END_TEST

/* RFC 6962 MTH computed the slow, recursive way. */
static void leaf_hash(const unsigned char d[32], unsigned char out[32])
{
	unsigned char buf[33] = { 0 };
	memcpy(buf + 1, d, 32);
	crypto_hash_sha256(out, buf, 33);
}

static void mth(unsigned char (*leaves)[32], size_t n, unsigned char out[32])
{
	if (n == 1) {
		leaf_hash(leaves[0], out);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	unsigned char buf[65];
	buf[0] = 1;
	mth(leaves, k, buf + 1);
	mth(leaves + k, n - k, buf + 33);
	crypto_hash_sha256(out, buf, 65);
}

START_TEST(test_merkle_matches_rfc6962)
{
	unsigned char leaves[40][32], want[32], got[32];
	sk_merkle m;
	sk_merkle_init(&m);
	sk_merkle_root(&m, got);
	crypto_hash_sha256(want, (const unsigned char *)"", 0);
	ck_assert_mem_eq(got, want, 32);
	for (size_t n = 1; n <= 40; n++) {
		memset(leaves[n - 1], (int)n, 32);
		ck_assert_int_eq(sk_merkle_add(&m, leaves[n - 1]), 0);
		mth(leaves, n, want);
		sk_merkle_root(&m, got);
		ck_assert_msg(!memcmp(got, want, 32), "tree head differs at size %zu", n);
		/* The frontier alone restores the tree. */
		sk_merkle copy;
		sk_merkle_init(&copy);
		json_t *f = sk_merkle_frontier_json(&m);
		ck_assert_int_eq(sk_merkle_from_frontier(&copy, n, f), 0);
		sk_merkle_root(&copy, got);
		ck_assert_mem_eq(got, want, 32);
		ck_assert_int_eq(sk_merkle_from_frontier(&copy, 2 * n + 1, f), -EINVAL);
		json_decref(f);
		sk_merkle_free(&copy);
	}
	sk_merkle_free(&m);
}
END_TEST

/* ---- the writer ---- */

static char dir[256];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sk-audit-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static sk_audit_log *open_log(uint64_t every, uint64_t rotate)
{
	sk_audit_options o = { .state_dir = dir, .checkpoint_every = every, .rotate_bytes = rotate,
			       .host = "testhost" };
	sk_audit_log *log = NULL;
	sk_error e = { 0 };
	ck_assert_msg(sk_audit_open(&o, &log, &e) == 0, "%s", e.msg);
	return log;
}

static bool nowait_appends;   /* append_n through sk_audit_append_nowait + sync */

static void append_n(sk_audit_log *log, int n, const char *session)
{
	const char *argv[] = { "cat", "/etc/shadow" };
	const char *paths[] = { "/etc/shadow" };
	sk_receipt_redaction red[] = { { "aws-key", 2 } };
	for (int i = 0; i < n; i++) {
		sk_receipt r = {
			.kind = i % 2 ? SK_RECEIPT_EVENT : SK_RECEIPT_COMMAND,
			.session = session, .turn = (uint32_t)i + 1, .chain_id = "c1", .attempt = 1,
			.surface = { .type = "file", .key = "file:8:1:42", .paths = paths, .n_paths = 1,
				     .has_inode = true, .dev = 0x801, .ino = 42 },
			.event = { .syscall = "openat", .path = "/etc/shadow", .argv = argv, .argc = 2, .cwd = "/" },
			.verdict = i % 3 ? "allow" : "deny", .reason = "secret", .rule = "deny.file.1",
			.profile_digest = "sha256:00", .outcome = { .present = true, .exit_status = 1,
				.duration_ms = 12, .redactions = red, .n_redactions = 1 },
		};
		sk_receipt_id id;
		sk_error e = { 0 };
		if (nowait_appends) {
			ck_assert_msg(sk_audit_append_nowait(log, &r, &id, &e) == 0, "append: %s", e.msg);
			ck_assert_msg(sk_audit_sync_pending(log, &e) == 0, "sync: %s", e.msg);
		} else {
			ck_assert_msg(sk_audit_append(log, &r, &id, &e) == 0, "append: %s", e.msg);
		}
		ck_assert_uint_gt(id.seq, 0);
		ck_assert_uint_eq(strlen(id.hash), 64);
	}
}

static char logpath[400];

static unsigned flags;

static sk_verify_result verify_paths(const char *const *files, size_t n)
{
	sk_audit_key key;
	sk_error e = { 0 };
	ck_assert_msg(sk_audit_key_load_or_create(dir, &key, &e) == 0, "%s", e.msg);
	sk_verify_result res;
	ck_assert_msg(sk_audit_verify(files, n, &key, 1, flags, &res, &e) == 0, "%s", e.msg);
	return res;
}

static sk_verify_result verify_log(void)
{
	const char *files[] = { logpath };
	return verify_paths(files, 1);
}

static void write_log_of(int n)
{
	make_dir();
	sk_audit_log *log = open_log(4, 0);
	append_n(log, n, "s1");
	snprintf(logpath, sizeof(logpath), "%s", sk_audit_log_path(log));
	sk_audit_close(log);
}

START_TEST(test_log_verifies)
{
	write_log_of(10);
	sk_verify_result res = verify_log();
	ck_assert_msg(res.ok, "%s:%lu %s", res.bad_file, (unsigned long)res.bad_line, res.what);
	ck_assert_uint_eq(res.receipts, 10);
	ck_assert_uint_eq(res.checkpoints, 2);   /* after receipts 4 and 8 */
	ck_assert_uint_eq(res.records, 12);
	/* Key file mode 0600, dir 0700. */
	struct stat st;
	char kp[400];
	snprintf(kp, sizeof(kp), "%s/%s", dir, SK_AUDIT_KEY_NAME);
	ck_assert_int_eq(stat(kp, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(dir, &st), 0);
	remove_dir();
}
END_TEST

/* An append that leaves the fdatasync for later: one at a time, each
 * synced before the next; checkpoints and rotation still come in order,
 * and the log verifies like any other. */
START_TEST(test_append_nowait_then_sync)
{
	make_dir();
	sk_audit_log *log = open_log(3, 0);
	const char *paths[] = { "/bin/true" };
	sk_receipt r = { .kind = SK_RECEIPT_COMMAND, .session = "s1", .turn = 1,
			 .surface = { .type = "command", .key = "cmd:/bin/true", .paths = paths, .n_paths = 1 },
			 .event = { .syscall = "execve", .path = "/bin/true", .cwd = "/" },
			 .verdict = "allow", .reason = "command_allow", .rule = "r1", .profile_digest = "sha256:00" };
	sk_receipt_id id;
	sk_error e = { 0 };
	ck_assert_int_eq(sk_audit_sync_pending(log, &e), 0);   /* nothing pending: nothing to do */
	for (int i = 0; i < 7; i++) {
		ck_assert_msg(sk_audit_append_nowait(log, &r, &id, &e) == 0, "%s", e.msg);
		/* a second before the sync is refused, and loses nothing */
		ck_assert_int_eq(sk_audit_append_nowait(log, &r, &id, &e), -EBUSY);
		ck_assert_int_eq(sk_audit_append(log, &r, &id, &e), -EBUSY);
		ck_assert_msg(sk_audit_sync_pending(log, &e) == 0, "%s", e.msg);
	}
	snprintf(logpath, sizeof(logpath), "%s", sk_audit_log_path(log));
	sk_audit_close(log);
	sk_verify_result res = verify_log();
	ck_assert_msg(res.ok, "%s:%lu %s", res.bad_file, (unsigned long)res.bad_line, res.what);
	ck_assert_uint_eq(res.receipts, 7);
	ck_assert_uint_eq(res.checkpoints, 2);   /* after receipts 3 and 6 */
	remove_dir();
}
END_TEST

/* Lines of the log file, as an array of malloc'd strings. */
static size_t read_lines(char ***out)
{
	char *text = NULL;
	size_t len = 0, n = 0;
	ck_assert_int_eq(sk_read_file(logpath, 1 << 24, &text, &len), 0);
	char **lines = calloc(len + 1, sizeof(char *));
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		lines[n++] = strndup(p, (size_t)(nl - p + 1));
		p = nl + 1;
	}
	free(text);
	*out = lines;
	return n;
}

static void write_lines(char **lines, size_t n)
{
	FILE *f = fopen(logpath, "w");
	for (size_t i = 0; i < n; i++)
		fputs(lines[i], f);
	fclose(f);
}

static void expect_bad(uint64_t line, const char *what)
{
	sk_verify_result res = verify_log();
	ck_assert_msg(!res.ok, "tampered log verified");
	ck_assert_msg(res.bad_line == line, "bad line %lu, expected %lu (%s)", (unsigned long)res.bad_line,
		      (unsigned long)line, res.what);
	if (what)
		ck_assert_msg(strstr(res.what, what), "'%s' does not mention '%s'", res.what, what);
}

START_TEST(test_tamper_flip_each_byte)
{
	flags = _i ? SK_VERIFY_EVERY_SIGNATURE : 0;   /* both modes name the same line */
	write_log_of(5);   /* 5 receipts + 1 checkpoint */
	char *text = NULL;
	size_t len = 0;
	ck_assert_int_eq(sk_read_file(logpath, 1 << 24, &text, &len), 0);
	/* Every byte of the file, flipped one at a time, is caught on its line. */
	uint64_t line = 1;
	for (size_t i = 0; i < len; i++) {
		line = 1;
		for (size_t j = 0; j < i; j++)
			line += text[j] == '\n';
		char *copy = strndup(text, len);
		copy[i] ^= (i % 2 ? 0x01 : 0x20);
		FILE *f = fopen(logpath, "w");
		fwrite(copy, 1, len, f);
		fclose(f);
		free(copy);
		sk_verify_result res = verify_log();
		ck_assert_msg(!res.ok, "byte %zu flipped and the log still verifies", i);
		/* A flipped newline merges two lines or splits one: the damage is
		 * reported on that line or the one it ran into. */
		ck_assert_msg(res.bad_line == line || (text[i] == '\n' && res.bad_line == line + 1),
			      "byte %zu (line %lu) reported at line %lu: %s", i, (unsigned long)line,
			      (unsigned long)res.bad_line, res.what);
	}
	free(text);
	remove_dir();
}
END_TEST

START_TEST(test_tamper_drop_reorder_truncate)
{
	write_log_of(6);
	char **lines;
	size_t n = read_lines(&lines);
	ck_assert_uint_eq(n, 7);
	/* drop line 3 */
	char *l3 = lines[2];
	char *dropped[6] = { lines[0], lines[1], lines[3], lines[4], lines[5], lines[6] };
	write_lines(dropped, 6);
	expect_bad(3, "seq");
	/* swap lines 2 and 3 */
	char *swapped[7] = { lines[0], lines[2], lines[1], lines[3], lines[4], lines[5], lines[6] };
	write_lines(swapped, 7);
	expect_bad(2, "seq");
	/* duplicate line 2 */
	char *dup[8] = { lines[0], lines[1], lines[1], l3, lines[3], lines[4], lines[5], lines[6] };
	write_lines(dup, 8);
	expect_bad(3, "seq");
	/* truncate mid-line 5 */
	write_lines(lines, 7);
	struct stat st;
	stat(logpath, &st);
	ck_assert_int_eq(truncate(logpath, st.st_size - (off_t)strlen(lines[6]) - 10), 0);
	expect_bad(6, "torn");
	/* untouched verifies */
	write_lines(lines, 7);
	ck_assert(verify_log().ok);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	remove_dir();
}
END_TEST

START_TEST(test_tamper_splice_two_logs)
{
	/* Two logs with the same key (same dir): line 4 of the other is swapped in. */
	write_log_of(6);
	char **a;
	size_t na = read_lines(&a);
	char other[400];
	snprintf(other, sizeof(other), "%s/other", dir);
	sk_audit_options o = { .state_dir = other, .checkpoint_every = 4, .host = "h2" };
	sk_audit_log *log2 = NULL;
	sk_error e = { 0 };
	/* Same key: copy the secret key over first. */
	mkdir(other, 0700);
	char src[500], dst[500], cmd[1200];
	snprintf(src, sizeof(src), "%s/%s", dir, SK_AUDIT_KEY_NAME);
	snprintf(dst, sizeof(dst), "%s/%s", other, SK_AUDIT_KEY_NAME);
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", src, dst);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(sk_audit_open(&o, &log2, &e), 0);
	append_n(log2, 6, "s2");
	char save[400];
	snprintf(save, sizeof(save), "%s", logpath);
	snprintf(logpath, sizeof(logpath), "%s", sk_audit_log_path(log2));
	char **b;
	size_t nb = read_lines(&b);
	sk_audit_close(log2);
	snprintf(logpath, sizeof(logpath), "%s", save);
	char *mixed[7] = { a[0], a[1], a[2], b[3], a[4], a[5], a[6] };
	write_lines(mixed, 7);
	expect_bad(4, "prev");
	for (size_t i = 0; i < na; i++)
		free(a[i]);
	for (size_t i = 0; i < nb; i++)
		free(b[i]);
	free(a);
	free(b);
	remove_dir();
}
END_TEST

START_TEST(test_torn_line_cut_and_recorded)
{
	write_log_of(3);
	FILE *f = fopen(logpath, "a");
	fputs("{\"half\":\"a rec", f);   /* a crash mid-write */
	fclose(f);
	expect_bad(4, "torn");
	sk_audit_log *log = open_log(4, 0);
	append_n(log, 1, "s1");
	ck_assert_uint_eq(sk_audit_torn_bytes(log), strlen("{\"half\":\"a rec"));
	sk_audit_close(log);
	sk_verify_result res = verify_log();
	ck_assert_msg(res.ok, "%lu %s", (unsigned long)res.bad_line, res.what);
	char **lines;
	size_t n = read_lines(&lines);
	ck_assert_ptr_nonnull(strstr(lines[3], "\"type\":\"recovery\""));
	ck_assert_ptr_nonnull(strstr(lines[3], "\"cut_bytes\":14"));
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	remove_dir();
}
END_TEST

static void rotation_chains_files(bool nowait)
{
	nowait_appends = nowait;
	make_dir();
	sk_audit_log *log = open_log(1000, 4096);   /* rotate past 4 KiB */
	append_n(log, 20, "s1");
	sk_audit_close(log);
	char cmd[1000];
	snprintf(cmd, sizeof(cmd), "ls %s/receipts-*.jsonl %s/receipts.jsonl > %s/list", dir, dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(logpath, sizeof(logpath), "%s/list", dir);
	char **lines;
	size_t n = read_lines(&lines);
	ck_assert_uint_ge(n, 3);
	const char *files[64];
	for (size_t i = 0; i < n; i++) {
		lines[i][strlen(lines[i]) - 1] = '\0';
		files[i] = lines[i];
	}
	sk_verify_result res = verify_paths(files, n);
	ck_assert_msg(res.ok, "%s:%lu %s", res.bad_file, (unsigned long)res.bad_line, res.what);
	ck_assert_uint_eq(res.receipts, 20);
	ck_assert_uint_eq(res.files, n);
	ck_assert_uint_ge(res.checkpoints, n - 1);   /* one at each rotation */
	/* Leaving out a middle file breaks the chain at the next file's line 1. */
	const char *gap[64];
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (i != 1)
			gap[k++] = files[i];
	res = verify_paths(gap, k);
	ck_assert(!res.ok);
	ck_assert_str_eq(res.bad_file, files[2]);
	ck_assert_uint_eq(res.bad_line, 1);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	remove_dir();
	nowait_appends = false;
}

START_TEST(test_rotation_chains_files)
{
	rotation_chains_files(false);
}
END_TEST

/* Appends that leave their sync for later rotate the same way. */
START_TEST(test_rotation_chains_files_nowait)
{
	rotation_chains_files(true);
}
END_TEST

START_TEST(test_concurrent_writers_never_interleave)
{
	make_dir();
	enum { WRITERS = 4, EACH = 25 };
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			sk_audit_log *log = open_log(7, 0);
			append_n(log, EACH, "concurrent");
			sk_audit_close(log);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;
		wait(&st);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	snprintf(logpath, sizeof(logpath), "%s/%s", dir, SK_AUDIT_LOG_NAME);
	sk_verify_result res = verify_log();
	ck_assert_msg(res.ok, "%lu %s", (unsigned long)res.bad_line, res.what);
	ck_assert_uint_eq(res.receipts, WRITERS * EACH);
	ck_assert_uint_eq(res.checkpoints, WRITERS * EACH / 7);
	remove_dir();
}
END_TEST

START_TEST(test_receipt_refuses_bad_utf8_and_wrong_key)
{
	make_dir();
	sk_audit_log *log = open_log(0, 0);
	sk_receipt r = { .kind = SK_RECEIPT_COMMAND, .session = "s\xff" };
	sk_error e = { 0 };
	ck_assert_int_lt(sk_audit_append(log, &r, NULL, &e), 0);
	append_n(log, 2, "s");
	snprintf(logpath, sizeof(logpath), "%s", sk_audit_log_path(log));
	sk_audit_close(log);
	/* A key that did not sign it. */
	sk_audit_key other = { 0 };
	randombytes_buf(other.pk, 32);
	sk_audit_key_id(other.pk, other.id);
	const char *files[] = { logpath };
	sk_verify_result res;
	ck_assert_int_eq(sk_audit_verify(files, 1, &other, 1, 0, &res, &e), 0);
	ck_assert(!res.ok);
	ck_assert_uint_eq(res.bad_line, 1);
	ck_assert_ptr_nonnull(strstr(res.what, "not among the trusted keys"));
	remove_dir();
}
END_TEST

START_TEST(test_evidence_store)
{
	make_dir();
	const char *text = "profile text\n";
	unsigned char h[32];
	char digest[80] = "sha256:";
	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	sk_hex(h, 32, digest + 7);
	sk_error e = { 0 };
	ck_assert_int_eq(sk_evidence_put_profile(dir, digest, text, &e), 0);
	ck_assert_int_eq(sk_evidence_put_profile(dir, digest, text, &e), 0);   /* idempotent */
	char *back = NULL;
	ck_assert_int_eq(sk_evidence_get_profile(dir, digest, &back, &e), 0);
	ck_assert_str_eq(back, text);
	free(back);
	ck_assert_int_eq(sk_evidence_put_profile(dir, digest, "other text", &e), -EBADMSG);
	ck_assert_int_eq(sk_evidence_put_profile(dir, "../x", text, &e), -EINVAL);
	ck_assert_int_eq(sk_evidence_get_profile(dir, "sha256:1234", &back, &e), -ENOENT);
	remove_dir();
}
END_TEST

START_TEST(test_decide_input_as_data)
{
	const char *via[] = { "/w/link", "/proc/self/root/etc/shadow" };
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.file = (sk_file_ref){ .path = "/etc/shadow", .via = via, .n_via = 2, .has_identity = true,
				      .dev = 2049, .ino = 1ULL << 60 };
	ev.file.access = SK_ACCESS_READ;
	json_t *j = sk_audit_event_json(&ev);
	ck_assert_ptr_nonnull(j);
	char *c = NULL;
	sk_error e = { 0 };
	ck_assert_int_eq(sk_jcs_serialize(j, &c, NULL, &e), 0);
	/* the inode is beyond 2^53 and survives as a string */
	ck_assert_str_eq(c, "{\"access\":1,\"file\":{\"dev\":\"2049\",\"ino\":\"1152921504606846976\","
			    "\"path\":\"/etc/shadow\",\"via\":[\"/w/link\",\"/proc/self/root/etc/shadow\"]},\"kind\":\"file\"}");
	free(c);
	json_decref(j);
	sk_surface_state st[] = { { .key = "file:2049:42", .attempts = 2, .denied = true } };
	sk_session_view view = { .v = st, .n = 1 };
	j = sk_audit_view_json(&view);
	ck_assert_int_eq(sk_jcs_serialize(j, &c, NULL, &e), 0);
	ck_assert_str_eq(c, "{\"surfaces\":[{\"approved\":false,\"attempts\":2,\"denied\":true,\"key\":\"file:2049:42\"}]}");
	free(c);
	json_decref(j);
	sk_event bad = { .kind = SK_EVENT_ENV };
	bad.env.name = "X\xff";
	ck_assert_ptr_null(sk_audit_event_json(&bad));
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_jcs_basic);
	tcase_add_test(tc, test_jcs_escaping);
	tcase_add_test(tc, test_jcs_key_order_utf16);
	tcase_add_test(tc, test_jcs_rejects_reals_and_big_ints);
	tcase_add_test(tc, test_merkle_matches_rfc6962);
	tcase_add_test(tc, test_log_verifies);
	tcase_add_test(tc, test_append_nowait_then_sync);
	tcase_add_loop_test(tc, test_tamper_flip_each_byte, 0, 2);
	tcase_add_test(tc, test_tamper_drop_reorder_truncate);
	tcase_add_test(tc, test_tamper_splice_two_logs);
	tcase_add_test(tc, test_torn_line_cut_and_recorded);
	tcase_add_test(tc, test_rotation_chains_files);
	tcase_add_test(tc, test_rotation_chains_files_nowait);
	tcase_add_test(tc, test_concurrent_writers_never_interleave);
	tcase_add_test(tc, test_receipt_refuses_bad_utf8_and_wrong_key);
	tcase_add_test(tc, test_evidence_store);
	tcase_add_test(tc, test_decide_input_as_data);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(audit_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
