/* stockade replay LOG [--sample N%] [--seed S] [--profile NEW] [--json]:
 * decide again, offline, on what the receipts recorded, and compare.
 * Exit 0: every replayed verdict matches (with --profile: the diff was
 * listed); 1: a mismatch, a receipt that could not be replayed, or a log
 * that fails verification; 125: could not run. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/cli.h"
#include "stockade/policy.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade replay [--sample N%%] [--seed S] [--profile NEW] [--state-dir DIR]\n"
		   "                      [--key PUB] [--no-verify] [--json] [LOG|DIR]...\n\n"
		   "Re-runs decide offline on every receipt that recorded decide's input\n"
		   "(decide.event, decide.state), with the profile the receipt names, taken\n"
		   "from the evidence store by digest, and prints the replay pass rate\n"
		   "(matching verdict, reason and rule / replayed) and every mismatch.\n"
		   "--sample takes a reproducible share of receipts, drawn by --seed.\n"
		   "--profile NEW decides with NEW instead and lists every verdict that\n"
		   "would change (seq, surface, old -> new): read it before deploying NEW.\n"
		   "The logs are verified first (--no-verify skips that and says so).\n"
		   "The evidence store is --state-dir, else the LOG directory, else the\n"
		   "directory the first LOG file is in.\n"
		   "Exit 0: all match (or, with --profile, the diff was listed); 1: mismatches,\n"
		   "receipts that could not be replayed, or a log that fails verification;\n"
		   "125: error.\n");
}

/* "25%", "25", "0.5%" -> basis points. */
static int parse_sample(const char *s, uint32_t *bp)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || (*end && strcmp(end, "%")) || !(v > 0) || v > 100)
		return -EINVAL;
	*bp = (uint32_t)(v * 100 + 0.5);
	if (*bp == 0)
		*bp = 1;
	return 0;
}

typedef struct replay_out {
	bool json, diff;
	json_t *items;                   /* --json: the mismatches / changes */
} replay_out;

static int print_item(const sk_replay_item *it, void *ctx)
{
	replay_out *o = ctx;
	if (o->diff ? !it->verdict_changed : it->match)
		return 0;
	if (o->json) {
		json_array_append_new(o->items,
			json_pack("{s:I, s:s, s:I, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}", "seq",
				  (json_int_t)it->seq, "file", it->file, "line", (json_int_t)it->line,
				  "surface", it->surface, "old", "verdict", it->old_verdict, "reason",
				  it->old_reason, "rule", it->old_rule, "new", "verdict", it->new_verdict,
				  "reason", it->new_reason, "rule", it->new_rule));
		return 0;
	}
	printf("%s seq=%" PRIu64 " surface=%s %s -> %s (recorded %s by %s; now %s by %s) at %s:%" PRIu64 "\n",
	       o->diff ? "change" : "mismatch", it->seq, it->surface, it->old_verdict, it->new_verdict,
	       it->old_reason, it->old_rule, it->new_reason, it->new_rule, it->file, it->line);
	return 0;
}

/* Verify before trusting what the receipts say; *what says how it went. */
static bool verify_first(const char *state, char **files, size_t n, const char *keyfile,
			 char *what, size_t len)
{
	sk_audit_key key;
	sk_error err = { 0 };
	char path[4200];
	int r;
	if (keyfile) {
		r = sk_audit_pubkey_load(keyfile, &key, &err);
	} else {
		snprintf(path, sizeof(path), "%s/%s", state, SK_AUDIT_PUB_NAME);
		if (access(path, R_OK) == 0) {
			r = sk_audit_pubkey_load(path, &key, &err);
		} else {
			snprintf(path, sizeof(path), "%s/%s", state, SK_AUDIT_KEY_NAME);
			r = access(path, R_OK) == 0 ? sk_audit_key_load_or_create(state, &key, &err)
						    : sk_fail(&err, ENOENT, "no key in %s (pass --key PUB)", state);
			explicit_bzero(key.sk, sizeof(key.sk));
		}
	}
	sk_verify_result res;
	if (r == 0)
		r = sk_audit_verify((const char *const *)files, n, &key, 1, 0, &res, &err);
	if (r < 0) {
		snprintf(what, len, "could not verify: %s", err.msg);
		return false;
	}
	if (!res.ok) {
		snprintf(what, len, "FAILED at %s:%" PRIu64 ": %s", res.bad_file, res.bad_line, res.what);
		return false;
	}
	snprintf(what, len, "ok (%" PRIu64 " records)", res.records);
	return true;
}

static void print_summary(const sk_replay_result *r, bool diff, bool verified, const char *vwhat,
			  bool json, json_t *items)
{
	double rate = r->replayed ? 100.0 * (double)r->matches / (double)r->replayed : 100.0;
	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}", "verified",
				      verified, "verification", vwhat, "receipts", (json_int_t)r->receipts,
				      "with_input", (json_int_t)r->with_input, "replayed", (json_int_t)r->replayed,
				      "matches", (json_int_t)r->matches, "changed", (json_int_t)r->changed,
				      "no_profile", (json_int_t)r->no_profile, "bad_input",
				      (json_int_t)r->bad_input, "pass_rate", rate, diff ? "changes" : "mismatches",
				      items);
		json_dumpf(o, stdout, JSON_SORT_KEYS);
		putchar('\n');
		json_decref(o);
		return;
	}
	json_decref(items);
	printf("verified: %s\n", vwhat);
	if (diff)
		printf("diff: %" PRIu64 " of %" PRIu64 " replayed verdicts would change\n", r->changed, r->replayed);
	else
		printf("replay pass rate: %.2f%% (%" PRIu64 "/%" PRIu64 " match)\n", rate, r->matches, r->replayed);
	printf("receipts: %" PRIu64 ", with decide input: %" PRIu64 ", profile not in evidence store: %" PRIu64
	       ", unreadable decide input: %" PRIu64 "\n",
	       r->receipts, r->with_input, r->no_profile, r->bad_input);
}

int sk_cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sample", required_argument, NULL, 's' }, { "seed", required_argument, NULL, 'S' },
		{ "profile", required_argument, NULL, 'p' }, { "state-dir", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },     { "no-verify", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	sk_replay_options ro = { .sample_bp = 10000 };
	const char *state = NULL, *keyfile = NULL, *profile = NULL;
	bool json = false, no_verify = false;
	sk_error err = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:S:p:d:k:njh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_sample(optarg, &ro.sample_bp) < 0)
				return sk_cli_error("replay: --sample '%s': want a percentage in (0, 100]", optarg);
			break;
		case 'S': {
			char *end;
			errno = 0;
			ro.seed = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg)
				return sk_cli_error("replay: --seed '%s': want an integer", optarg);
			break;
		}
		case 'p': profile = optarg; break;
		case 'd': state = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'n': no_verify = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	char dir[4096];
	if (sk_audit_state_dir_of(state, optind < argc ? argv[optind] : NULL, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("replay: %s", err.msg);
	ro.state_dir = dir;
	_cleanup_profile_ sk_profile *newp = NULL;
	if (profile && sk_profile_load(profile, NULL, &newp, &err) < 0)
		return sk_cli_error("replay: %s", err.msg);
	ro.profile = newp;
	char **files = NULL;
	size_t n = 0;
	const char *dirs[] = { dir };
	int r = optind < argc ? sk_audit_expand_logs((const char *const *)argv + optind,
						     (size_t)(argc - optind), &files, &n, &err)
			      : sk_audit_expand_logs(dirs, 1, &files, &n, &err);
	if (r < 0)
		return sk_cli_error("replay: %s", err.msg);
	char vwhat[2048] = "no (--no-verify)";
	bool verified = !no_verify && verify_first(dir, files, n, keyfile, vwhat, sizeof(vwhat));
	replay_out out = { .json = json, .diff = newp != NULL, .items = json_array() };
	sk_replay_result res;
	r = sk_audit_replay((const char *const *)files, n, &ro, print_item, &out, &res, &err);
	sk_audit_files_free(files, n);
	if (r < 0) {
		json_decref(out.items);
		return sk_cli_error("replay: %s", err.msg);
	}
	print_summary(&res, out.diff, verified, vwhat, json, out.items);
	bool ok = (verified || no_verify) && res.no_profile == 0 && res.bad_input == 0 &&
		  (out.diff || res.mismatches == 0);
	return ok ? 0 : 1;
}
