/* stockade key show|export: the receipt signing key's public half. */
#include <getopt.h>
#include <sodium.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade key show [--state-dir DIR] [--json]\n"
		   "       stockade key export [--state-dir DIR] [--out FILE]\n\n"
		   "The ed25519 key that signs receipts, made on first use under the state\n"
		   "directory ($XDG_STATE_HOME/stockade).  'show' prints its key id and public\n"
		   "key; 'export' writes the public key as PEM (SPKI) for 'stockade verify --key'.\n");
}

static int show(const sk_audit_key *key, const char *dir, bool json)
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), key->pk, 32, sodium_base64_VARIANT_ORIGINAL);
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "algorithm", "ed25519", "key_id", key->id,
				      "public_key", b64, "state_dir", dir);
		json_dumpf(o, stdout, JSON_SORT_KEYS);
		putchar('\n');
		json_decref(o);
	} else {
		printf("key id:     %s\nalgorithm:  ed25519\npublic key: %s\nstate dir:  %s\n", key->id, b64, dir);
	}
	return 0;
}

static int export_pem(const sk_audit_key *key, const char *out)
{
	_cleanup_free_ char *pem = sk_audit_pubkey_pem(key);
	if (!pem)
		return sk_cli_error("key export: out of memory");
	if (!out) {
		fputs(pem, stdout);
		return 0;
	}
	FILE *f = fopen(out, "we");
	if (!f)
		return sk_cli_error("key export: cannot write %s: %s", out, strerror(errno));
	fputs(pem, f);
	if (fclose(f) != 0)
		return sk_cli_error("key export: cannot write %s: %s", out, strerror(errno));
	return 0;
}

int sk_cmd_key(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL, *out = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jo:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': state = optarg; break;
		case 'j': json = true; break;
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "show") && strcmp(argv[optind], "export")))
		return sk_cli_error("key: say 'show' or 'export' ('stockade key --help')");
	char dir[4096];
	sk_error err = { 0 };
	sk_audit_key key;
	if (sk_audit_state_dir(state, dir, sizeof(dir), &err) < 0 ||
	    sk_audit_key_load_or_create(dir, &key, &err) < 0)
		return sk_cli_error("key: %s", err.msg);
	int r = !strcmp(argv[optind], "show") ? show(&key, dir, json) : export_pem(&key, out);
	sodium_memzero(&key, sizeof(key));
	return r;
}
