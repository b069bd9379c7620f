/* stockade verify LOG... [--key PUB]: are these receipt logs intact?
 * Exit 0 when they are, 1 on the first sign of tampering (named by
 * file:line), 125 when the check itself cannot run. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade verify [--key PUB]... [--state-dir DIR] [--every-signature] [--json] [LOG|DIR]...\n\n"
		   "Checks receipt logs as one chain, in the order given: canonical form,\n"
		   "hashes, ed25519 signatures, sequence and prev links (also across rotated\n"
		   "files) and Merkle checkpoints.  A directory stands for its logs, oldest\n"
		   "first; no LOG means the state directory.  Without --key the state\n"
		   "directory's public key is trusted.  Exit 0: intact; 1: tampered (the\n"
		   "first bad line is named); 125: could not check.\n"
		   "Each line's prev is the SHA-256 of the whole line before it, signature\n"
		   "included, so the signatures of the checkpoints and of each file's last\n"
		   "record cover every byte; --every-signature checks all of them anyway.\n");
}

static int load_default_key(const char *dir, sk_audit_key *key, sk_error *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, SK_AUDIT_PUB_NAME);
	if (access(path, R_OK) == 0)
		return sk_audit_pubkey_load(path, key, err);
	snprintf(path, sizeof(path), "%s/%s", dir, SK_AUDIT_KEY_NAME);
	if (access(path, R_OK) < 0)
		return sk_fail(err, ENOENT, "no key in %s to verify with: pass --key PUB", dir);
	int r = sk_audit_key_load_or_create(dir, key, err);
	explicit_bzero(key->sk, sizeof(key->sk));
	key->has_secret = false;
	return r;
}

static void print_result(const sk_verify_result *res, bool json)
{
	if (json) {
		json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I}", "ok", res->ok, "records", (json_int_t)res->records,
				      "receipts", (json_int_t)res->receipts, "checkpoints",
				      (json_int_t)res->checkpoints, "files", (json_int_t)res->files);
		if (!res->ok)
			json_object_set_new(o, "bad", json_pack("{s:s, s:I, s:s}", "file", res->bad_file, "line",
								 (json_int_t)res->bad_line, "what", res->what));
		json_dumpf(o, stdout, JSON_SORT_KEYS);
		putchar('\n');
		json_decref(o);
	} else if (res->ok) {
		printf("ok: %" PRIu64 " records (%" PRIu64 " receipts, %" PRIu64 " checkpoints) in %" PRIu64
		       " file(s): chain, hashes and signatures intact\n",
		       res->records, res->receipts, res->checkpoints, res->files);
	} else {
		printf("%s:%" PRIu64 ": %s\n", res->bad_file, res->bad_line, res->what);
	}
}

int sk_cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "every-signature", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL;
	bool json = false;
	unsigned flags = 0;
	sk_audit_key keys[16];
	size_t n_keys = 0;
	sk_error err = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "k:d:jeh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (n_keys == SK_ARRAY_LEN(keys))
				return sk_cli_error("verify: at most %zu keys", SK_ARRAY_LEN(keys));
			if (sk_audit_pubkey_load(optarg, &keys[n_keys++], &err) < 0)
				return sk_cli_error("verify: %s", err.msg);
			break;
		case 'd': state = optarg; break;
		case 'j': json = true; break;
		case 'e': flags |= SK_VERIFY_EVERY_SIGNATURE; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	char dir[4096];
	if (sk_audit_state_dir(state, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("verify: %s", err.msg);
	if (n_keys == 0 && load_default_key(dir, &keys[n_keys++], &err) < 0)
		return sk_cli_error("verify: %s", err.msg);
	char **files = NULL;
	size_t n = 0;
	const char *dirs[] = { dir };
	int r = optind < argc ? sk_audit_expand_logs((const char *const *)argv + optind,
						     (size_t)(argc - optind), &files, &n, &err)
			      : sk_audit_expand_logs(dirs, 1, &files, &n, &err);
	if (r < 0)
		return sk_cli_error("verify: %s", err.msg);
	sk_verify_result res;
	r = sk_audit_verify((const char *const *)files, n, keys, n_keys, flags, &res, &err);
	sk_audit_files_free(files, n);
	if (r < 0)
		return sk_cli_error("verify: %s", err.msg);
	print_result(&res, json);
	return res.ok ? 0 : 1;
}
