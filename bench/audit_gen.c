/* audit_gen: writes sample receipts through sk_audit_append, for the audit
 * benchmark (bench/audit.sh) and for the integration tests that need a log
 * stockade wrote before `stockade run` itself writes one.
 *
 *   audit_gen STATE_DIR N [CHECKPOINT_EVERY [ROTATE_BYTES]]
 *
 * Prints "receipts=N us_per_receipt=X" on stdout.  The receipts vary their
 * strings (non-ASCII, control characters, quotes, astral-plane keys) so that
 * an independent canonicalizer is exercised on the hard cases. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stockade/audit.h"

static const char *const sessions[] = { "s-alpha", "s-\xc3\xa9t\xc3\xa9", "s-\"quoted\"\t" };
static const char *const paths[] = { "/etc/shadow", "/home/u/.aws/credentials", "/tmp/\xe2\x82\xac\x01x",
				     "/w/\xf0\x9f\x98\x80.txt" };
static const char *const verdicts[] = { "allow", "deny", "escalate" };

static void fill(sk_receipt *r, uint64_t i, json_t *ev, json_t *view, const char **argv,
		 sk_receipt_redaction *red)
{
	const char *path = paths[i % SK_ARRAY_LEN(paths)];
	argv[0] = "cat";
	argv[1] = path;
	red[0] = (sk_receipt_redaction){ "aws_access_key", i % 3 };
	red[1] = (sk_receipt_redaction){ "\xef\xac\x81-rule", 1 };
	json_object_set_new(ev, "kind", json_string("file"));
	json_object_set_new(ev, "path", json_string(path));
	json_object_set_new(ev, "access", json_integer(1));
	json_object_set_new(view, "attempts", json_integer((json_int_t)(i % 5)));
	*r = (sk_receipt){
		.kind = i % 4 == 0 ? SK_RECEIPT_COMMAND : SK_RECEIPT_EVENT,
		.session = sessions[i % SK_ARRAY_LEN(sessions)],
		.turn = (uint32_t)(i / 4 + 1),
		.chain_id = path,
		.attempt = (uint32_t)(i % 5 + 1),
		.surface = { .type = "file", .key = "file:8:1:42", .paths = &argv[1], .n_paths = 1,
			     .has_inode = true, .dev = 0x801, .ino = 42 + i },
		.event = { .syscall = "openat", .path = path, .argv = argv, .argc = 2, .cwd = "/w" },
		.verdict = verdicts[i % 3],
		.reason = "file_secret",
		.rule = "default:12",
		.profile_digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		.decide_event = ev,
		.state_view = view,
		.outcome = { .present = i % 4 == 0, .exit_status = (int)(i % 2), .duration_ms = i,
			     .redactions = red, .n_redactions = 2 },
	};
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: audit_gen STATE_DIR N [CHECKPOINT_EVERY [ROTATE_BYTES]]\n");
		return 2;
	}
	uint64_t n = strtoull(argv[2], NULL, 10);
	sk_audit_options o = { .state_dir = argv[1],
			       .checkpoint_every = argc > 3 ? strtoull(argv[3], NULL, 10) : 0,
			       .rotate_bytes = argc > 4 ? strtoull(argv[4], NULL, 10) : 0 };
	sk_audit_log *log = NULL;
	sk_error err = { 0 };
	if (sk_audit_open(&o, &log, &err) < 0) {
		fprintf(stderr, "audit_gen: %s\n", err.msg);
		return 1;
	}
	uint64_t t0 = sk_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		json_t *ev = json_object(), *view = json_object();
		const char *av[2];
		sk_receipt_redaction red[2];
		sk_receipt r;
		fill(&r, i, ev, view, av, red);
		sk_receipt_id id;
		int rc = sk_audit_append(log, &r, &id, &err);
		json_decref(ev);
		json_decref(view);
		if (rc < 0) {
			fprintf(stderr, "audit_gen: receipt %" PRIu64 ": %s\n", i, err.msg);
			return 1;
		}
		/* The crash test kills us at random: a printed id is a returned result. */
		if (getenv("AUDIT_GEN_PRINT_IDS"))
			printf("id %" PRIu64 " %s\n", id.seq, id.hash), fflush(stdout);
	}
	uint64_t dt = sk_now_ns() - t0;
	printf("receipts=%" PRIu64 " us_per_receipt=%.1f torn_bytes=%" PRIu64 "\n", n,
	       n ? (double)dt / 1000.0 / (double)n : 0.0, sk_audit_torn_bytes(log));
	sk_audit_close(log);
	return 0;
}
