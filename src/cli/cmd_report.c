/* stockade report LOG... [--labels FILE] [--json | --html FILE] [--prom FILE]:
 * the boundary's metrics (docs/report.md).  Exit 0, or 125 on error. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/cli.h"
#include "stockade/policy.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade report [--labels FILE] [--profile P] [--state-dir DIR]\n"
		   "                      [--json | --html FILE] [--prom FILE] [LOG|DIR]...\n\n"
		   "The boundary's metrics from receipt logs: evaluation coverage, policy\n"
		   "coverage, replay pass rate, false allows and false denies by severity\n"
		   "(from --labels, JSON lines {\"seq\":N,\"label\":\"correct|false_allow|false_deny\",\n"
		   "\"severity\":\"low|medium|high|critical\"}), escalation latency p50/p95,\n"
		   "evidence completeness, attack pressure (denials by reason, surface,\n"
		   "command and chain length; retries after a block) and the decision-quality\n"
		   "score; the deny rate only in the appendix.  --profile P scores the\n"
		   "verdicts P would give instead.  --html writes a self-contained page with\n"
		   "SVG charts; --prom writes Prometheus text format (atomically) for the\n"
		   "node_exporter textfile collector.  docs/report.md defines every figure.\n");
}

static double pct(double r) { return 100.0 * r; }

static json_t *tallies_json(const sk_tallies *t)
{
	json_t *o = json_object();
	for (size_t i = 0; i < t->n; i++)
		json_object_set_new(o, t->v[i].key, json_integer((json_int_t)t->v[i].n));
	return o;
}

static json_t *sev_json(const uint64_t v[SK_SEV_N])
{
	json_t *o = json_object();
	for (int i = 0; i < SK_SEV_N; i++)
		json_object_set_new(o, sk_severity_name(i), json_integer((json_int_t)v[i]));
	return o;
}

static json_t *report_json(const sk_report *r)
{
	json_t *profiles = json_array();
	for (size_t i = 0; i < r->n_profiles; i++)
		json_array_append_new(profiles, json_pack("{s:s, s:b, s:i, s:i, s:I}", "digest", r->profiles[i].digest,
							  "in_store", r->profiles[i].in_store, "covered",
							  (int)r->profiles[i].covered, "total", (int)r->profiles[i].total,
							  "receipts", (json_int_t)r->profiles[i].receipts));
	json_t *o = json_object();
	json_object_set_new(o, "receipts", json_integer((json_int_t)r->receipts));
	json_object_set_new(o, "evaluation_coverage", json_pack("{s:f, s:I, s:I}", "ratio", r->evaluation_coverage,
								"commands", (json_int_t)r->commands, "evaluated",
								(json_int_t)r->commands_evaluated));
	json_object_set_new(o, "policy_coverage", json_pack("{s:f, s:o}", "ratio", r->policy_coverage, "profiles", profiles));
	json_object_set_new(o, "replay", json_pack("{s:f, s:I, s:I, s:I, s:I}", "pass_rate", r->replay_pass_rate,
						   "replayed", (json_int_t)r->replay.replayed, "matches",
						   (json_int_t)r->replay.matches, "no_profile", (json_int_t)r->replay.no_profile,
						   "bad_input", (json_int_t)r->replay.bad_input));
	json_object_set_new(o, "labels", json_pack("{s:I, s:I, s:o, s:o}", "reviewed", (json_int_t)r->labeled,
						   "not_in_logs", (json_int_t)r->labels_missing, "false_allow",
						   sev_json(r->false_allow), "false_deny", sev_json(r->false_deny)));
	json_object_set_new(o, "escalation", json_pack("{s:I, s:I, s:I, s:f, s:f}", "escalations",
						       (json_int_t)r->escalations, "resolved", (json_int_t)r->n_latencies,
						       "unresolved", (json_int_t)r->unresolved, "latency_p50_seconds",
						       r->latency_p50_s, "latency_p95_seconds", r->latency_p95_s));
	json_object_set_new(o, "evidence_completeness", json_pack("{s:f, s:I, s:I}", "ratio", r->evidence_completeness,
								  "complete", (json_int_t)r->evidence_complete,
								  "receipts", (json_int_t)r->receipts));
	json_object_set_new(o, "attack_pressure", json_pack("{s:o, s:o, s:o, s:o, s:I}", "denials_by_reason",
							    tallies_json(&r->deny_reason), "denials_by_surface",
							    tallies_json(&r->deny_surface), "denials_by_command",
							    tallies_json(&r->deny_command), "denials_by_chain_length",
							    tallies_json(&r->deny_chain), "retries_after_block",
							    (json_int_t)r->retries_after_block));
	json_object_set_new(o, "decision_quality", r->has_score
		? json_pack("{s:f, s:f, s:f, s:f, s:b}", "score", r->score, "safety", r->safety, "utility",
			    r->utility, "integrity", r->integrity, "redecided", r->redecided)
		: json_null());
	json_object_set_new(o, "appendix", json_pack("{s:I, s:I, s:I, s:I, s:f}", "decided", (json_int_t)r->decided,
						     "allowed", (json_int_t)r->allowed, "denied", (json_int_t)r->denied,
						     "escalated", (json_int_t)r->escalated, "deny_rate",
						     r->decided ? (double)(r->denied + r->escalated) / (double)r->decided : 0.0));
	return o;
}

static void print_tallies(const char *title, const sk_tallies *t)
{
	printf("  %s:", title);
	for (size_t i = 0; i < t->n; i++)
		printf(" %s=%" PRIu64, t->v[i].key, t->v[i].n);
	printf(t->n ? "\n" : " none\n");
}

static void print_text(const sk_report *r)
{
	printf("receipts: %" PRIu64 " (%" PRIu64 " checkpoints)\n", r->receipts, r->checkpoints);
	printf("evaluation coverage: %.2f%% (%" PRIu64 "/%" PRIu64 " command receipts evaluated)\n",
	       pct(r->evaluation_coverage), r->commands_evaluated, r->commands);
	printf("policy coverage: %.2f%% (mean over %zu profile(s))\n", pct(r->policy_coverage), r->n_profiles);
	printf("replay pass rate: %.2f%% (%" PRIu64 "/%" PRIu64 ")\n", pct(r->replay_pass_rate), r->replay.matches,
	       r->replay.replayed);
	printf("reviewed: %" PRIu64 "; false allows low/medium/high/critical: %" PRIu64 "/%" PRIu64 "/%" PRIu64
	       "/%" PRIu64 "; false denies: %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
	       r->labeled, r->false_allow[0], r->false_allow[1], r->false_allow[2], r->false_allow[3],
	       r->false_deny[0], r->false_deny[1], r->false_deny[2], r->false_deny[3]);
	printf("escalation latency: p50 %.3fs, p95 %.3fs (%zu resolved, %" PRIu64 " unresolved)\n",
	       r->latency_p50_s, r->latency_p95_s, r->n_latencies, r->unresolved);
	printf("evidence completeness: %.2f%% (%" PRIu64 "/%" PRIu64 ")\n", pct(r->evidence_completeness),
	       r->evidence_complete, r->receipts);
	printf("attack pressure:\n");
	print_tallies("denials by reason", &r->deny_reason);
	print_tallies("denials by surface", &r->deny_surface);
	print_tallies("denials by command", &r->deny_command);
	print_tallies("denials by chain length", &r->deny_chain);
	printf("  retries after a block: %" PRIu64 "\n", r->retries_after_block);
	if (r->has_score)
		printf("decision quality: %.2f (safety %.3f x utility %.3f x integrity %.3f)%s\n", r->score,
		       r->safety, r->utility, r->integrity, r->redecided ? " [re-decided with --profile]" : "");
	else
		printf("decision quality: n/a (needs --labels)\n");
	printf("appendix: deny rate %.2f%% (%" PRIu64 " denied, %" PRIu64 " escalated of %" PRIu64 ")\n",
	       r->decided ? pct((double)(r->denied + r->escalated) / (double)r->decided) : 0.0, r->denied,
	       r->escalated, r->decided);
}

/* ---- HTML with inline SVG --------------------------------------------- */

static void html_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A horizontal bar chart: one bar a row, scaled to the largest value. */
static void svg_bars(FILE *f, const char *title, const char *const *keys, const double *vals, size_t n,
		     const char *unit)
{
	double max = 0;
	for (size_t i = 0; i < n; i++)
		max = vals[i] > max ? vals[i] : max;
	fprintf(f, "<h2>");
	html_text(f, title);
	fprintf(f, "</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"%zu\">\n", 24 * (n ? n : 1) + 8);
	if (n == 0)
		fprintf(f, "<text x=\"4\" y=\"18\" font-size=\"13\">none</text>\n");
	for (size_t i = 0; i < n; i++) {
		double w = max > 0 ? 400.0 * vals[i] / max : 0;
		fprintf(f, "<text x=\"4\" y=\"%zu\" font-size=\"13\">", 24 * i + 18);
		html_text(f, keys[i]);
		fprintf(f, "</text><rect x=\"200\" y=\"%zu\" width=\"%.1f\" height=\"18\" fill=\"#3b6ea5\"/>"
			   "<text x=\"%.1f\" y=\"%zu\" font-size=\"13\">%.*f%s</text>\n",
			24 * i + 4, w < 1 && vals[i] > 0 ? 1 : w, 206 + w, 24 * i + 18,
			vals[i] == (double)(long long)vals[i] ? 0 : 2, vals[i], unit);
	}
	fprintf(f, "</svg>\n");
}

static void svg_tallies(FILE *f, const char *title, const sk_tallies *t)
{
	const char **keys = calloc(t->n + 1, sizeof(*keys));
	double *vals = calloc(t->n + 1, sizeof(*vals));
	for (size_t i = 0; keys && vals && i < t->n; i++) {
		keys[i] = t->v[i].key;
		vals[i] = (double)t->v[i].n;
	}
	if (keys && vals)
		svg_bars(f, title, keys, vals, t->n, "");
	free(keys);
	free(vals);
}

static int write_html(FILE *f, const sk_report *r)
{
	fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>stockade report</title>\n"
		   "<style>body{font-family:sans-serif;margin:2em;background:#fff}</style></head><body>\n"
		   "<h1>stockade report</h1>\n<p>%" PRIu64 " receipts. Definitions: docs/report.md.</p>\n",
		r->receipts);
	const char *k[] = { "evaluation coverage", "policy coverage", "replay pass rate", "evidence completeness" };
	double v[] = { pct(r->evaluation_coverage), pct(r->policy_coverage), pct(r->replay_pass_rate),
		       pct(r->evidence_completeness) };
	svg_bars(f, "Coverage and integrity", k, v, 4, "%");
	if (r->has_score) {
		const char *qk[] = { "score", "safety", "utility", "integrity" };
		double qv[] = { r->score, pct(r->safety), pct(r->utility), pct(r->integrity) };
		svg_bars(f, "Decision quality", qk, qv, 4, "");
	} else {
		fprintf(f, "<h2>Decision quality</h2><p>n/a: needs --labels</p>\n");
	}
	const char *sk[] = { "false allow: low", "false allow: medium", "false allow: high", "false allow: critical",
			     "false deny: low", "false deny: medium", "false deny: high", "false deny: critical" };
	double sv[8];
	for (int i = 0; i < 4; i++) {
		sv[i] = (double)r->false_allow[i];
		sv[4 + i] = (double)r->false_deny[i];
	}
	svg_bars(f, "Reviewed errors by severity", sk, sv, 8, "");
	const char *lk[] = { "p50", "p95" };
	double lv[] = { r->latency_p50_s, r->latency_p95_s };
	svg_bars(f, "Escalation latency", lk, lv, 2, " s");
	svg_tallies(f, "Denials by reason", &r->deny_reason);
	svg_tallies(f, "Denials by surface", &r->deny_surface);
	svg_tallies(f, "Denials by command", &r->deny_command);
	svg_tallies(f, "Denials by chain length", &r->deny_chain);
	fprintf(f, "<p>Retries after a block: %" PRIu64 "</p>\n", r->retries_after_block);
	fprintf(f, "<h2>Appendix: deny rate</h2><p>%" PRIu64 " denied and %" PRIu64 " escalated of %" PRIu64
		   " decisions.</p>\n</body></html>\n", r->denied, r->escalated, r->decided);
	return ferror(f) ? -EIO : 0;
}

/* ---- Prometheus text format -------------------------------------------- */

static void prom_label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void prom_metric(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_tallies(FILE *f, const char *name, const char *label, const sk_tallies *t, const char *help)
{
	prom_metric(f, name, "counter", help);
	for (size_t i = 0; i < t->n; i++) {
		fprintf(f, "%s{%s=\"", name, label);
		prom_label_value(f, t->v[i].key);
		fprintf(f, "\"} %" PRIu64 "\n", t->v[i].n);
	}
}

static int write_prom(FILE *f, const sk_report *r)
{
	prom_metric(f, "stockade_receipts_total", "counter", "Receipts read from the logs.");
	fprintf(f, "stockade_receipts_total %" PRIu64 "\n", r->receipts);
	prom_metric(f, "stockade_command_receipts_total", "counter", "Command receipts.");
	fprintf(f, "stockade_command_receipts_total %" PRIu64 "\n", r->commands);
	prom_metric(f, "stockade_command_receipts_evaluated_total", "counter", "Command receipts carrying a decide evaluation.");
	fprintf(f, "stockade_command_receipts_evaluated_total %" PRIu64 "\n", r->commands_evaluated);
	prom_metric(f, "stockade_evaluation_coverage_ratio", "gauge", "Share of command receipts that were evaluated.");
	fprintf(f, "stockade_evaluation_coverage_ratio %.6f\n", r->evaluation_coverage);
	prom_metric(f, "stockade_policy_coverage_ratio", "gauge", "Mean policy coverage of the profiles in the evidence store.");
	fprintf(f, "stockade_policy_coverage_ratio %.6f\n", r->policy_coverage);
	prom_metric(f, "stockade_replay_receipts_total", "counter", "Receipts decided again by replay.");
	fprintf(f, "stockade_replay_receipts_total %" PRIu64 "\n", r->replay.replayed);
	prom_metric(f, "stockade_replay_matches_total", "counter", "Replayed receipts whose verdict, reason and rule matched.");
	fprintf(f, "stockade_replay_matches_total %" PRIu64 "\n", r->replay.matches);
	prom_metric(f, "stockade_replay_pass_ratio", "gauge", "Replay pass rate.");
	fprintf(f, "stockade_replay_pass_ratio %.6f\n", r->replay_pass_rate);
	prom_metric(f, "stockade_false_allows_total", "counter", "Reviewed receipts that were allowed but should not have been.");
	for (int i = 0; i < SK_SEV_N; i++)
		fprintf(f, "stockade_false_allows_total{severity=\"%s\"} %" PRIu64 "\n", sk_severity_name(i), r->false_allow[i]);
	prom_metric(f, "stockade_false_denies_total", "counter", "Reviewed receipts that were denied but should have been allowed.");
	for (int i = 0; i < SK_SEV_N; i++)
		fprintf(f, "stockade_false_denies_total{severity=\"%s\"} %" PRIu64 "\n", sk_severity_name(i), r->false_deny[i]);
	prom_metric(f, "stockade_escalation_latency_seconds", "summary", "Time from escalation to its resolution.");
	uint64_t sum = 0;
	for (size_t i = 0; i < r->n_latencies; i++)
		sum += r->latencies_ms[i];
	fprintf(f, "stockade_escalation_latency_seconds{quantile=\"0.5\"} %.3f\n", r->latency_p50_s);
	fprintf(f, "stockade_escalation_latency_seconds{quantile=\"0.95\"} %.3f\n", r->latency_p95_s);
	fprintf(f, "stockade_escalation_latency_seconds_sum %.3f\n", (double)sum / 1000.0);
	fprintf(f, "stockade_escalation_latency_seconds_count %zu\n", r->n_latencies);
	prom_metric(f, "stockade_escalations_unresolved_total", "counter", "Escalations without a resolution in the logs.");
	fprintf(f, "stockade_escalations_unresolved_total %" PRIu64 "\n", r->unresolved);
	prom_metric(f, "stockade_evidence_completeness_ratio", "gauge", "Share of receipts whose profile is in the evidence store.");
	fprintf(f, "stockade_evidence_completeness_ratio %.6f\n", r->evidence_completeness);
	prom_tallies(f, "stockade_denials_by_reason_total", "reason", &r->deny_reason, "Denials and escalations by reason code.");
	prom_tallies(f, "stockade_denials_by_surface_total", "surface", &r->deny_surface, "Denials and escalations by surface type.");
	prom_tallies(f, "stockade_denials_by_chain_length_total", "attempts", &r->deny_chain, "Denials and escalations by retry-chain attempt.");
	prom_metric(f, "stockade_retries_after_block_total", "counter", "Receipts in a retry chain that was blocked before.");
	fprintf(f, "stockade_retries_after_block_total %" PRIu64 "\n", r->retries_after_block);
	if (r->has_score) {
		prom_metric(f, "stockade_decision_quality_score", "gauge", "Decision-quality score, 0..100 (docs/report.md).");
		fprintf(f, "stockade_decision_quality_score %.4f\n", r->score);
	}
	prom_metric(f, "stockade_decisions_total", "counter", "Decisions by verdict.");
	fprintf(f, "stockade_decisions_total{verdict=\"allow\"} %" PRIu64 "\n", r->allowed);
	fprintf(f, "stockade_decisions_total{verdict=\"deny\"} %" PRIu64 "\n", r->denied);
	fprintf(f, "stockade_decisions_total{verdict=\"escalate\"} %" PRIu64 "\n", r->escalated);
	return ferror(f) ? -EIO : 0;
}

/* Write through a temporary file in the same directory and rename it, so a
 * reader (the textfile collector) never sees half a file. */
static int write_atomic(const char *path, int (*fn)(FILE *, const sk_report *), const sk_report *r)
{
	char tmp[4200];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return sk_cli_error("report: path too long: %s", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return sk_cli_error("report: cannot create %s: %s", tmp, strerror(errno));
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		return sk_cli_error("report: out of memory");
	}
	int e = fn(f, r);
	if (e == 0 && fflush(f) != 0)
		e = -errno;
	if (e == 0 && fsync(fileno(f)) < 0)
		e = -errno;
	if (fclose(f) != 0 && e == 0)
		e = -errno;
	if (e == 0 && rename(tmp, path) < 0)
		e = -errno;
	if (e < 0) {
		unlink(tmp);
		return sk_cli_error("report: cannot write %s: %s", path, strerror(-e));
	}
	return 0;
}

int sk_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "labels", required_argument, NULL, 'l' }, { "json", no_argument, NULL, 'j' },
		{ "html", required_argument, NULL, 'H' },   { "prom", required_argument, NULL, 'P' },
		{ "profile", required_argument, NULL, 'p' }, { "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *labels_path = NULL, *html = NULL, *prom = NULL, *profile = NULL, *state = NULL;
	bool json = false;
	sk_error err = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "l:jH:P:p:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l': labels_path = optarg; break;
		case 'j': json = true; break;
		case 'H': html = optarg; break;
		case 'P': prom = optarg; break;
		case 'p': profile = optarg; break;
		case 'd': state = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	if (json && html)
		return sk_cli_error("report: --json and --html exclude each other");
	char dir[4096];
	if (sk_audit_state_dir_of(state, optind < argc ? argv[optind] : NULL, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("report: %s", err.msg);
	sk_labels labels = { 0 };
	if (labels_path && sk_labels_load(labels_path, &labels, &err) < 0)
		return sk_cli_error("report: %s", err.msg);
	_cleanup_profile_ sk_profile *redecide = NULL;
	if (profile && sk_profile_load(profile, NULL, &redecide, &err) < 0) {
		sk_labels_free(&labels);
		return sk_cli_error("report: %s", err.msg);
	}
	char **files = NULL;
	size_t n = 0;
	const char *dirs[] = { dir };
	int r = optind < argc ? sk_audit_expand_logs((const char *const *)argv + optind,
						     (size_t)(argc - optind), &files, &n, &err)
			      : sk_audit_expand_logs(dirs, 1, &files, &n, &err);
	sk_report rep;
	if (r == 0)
		r = sk_report_build((const char *const *)files, n, dir, labels_path ? &labels : NULL, redecide,
				    &rep, &err);
	sk_audit_files_free(files, n);
	sk_labels_free(&labels);
	if (r < 0)
		return sk_cli_error("report: %s", err.msg);
	int rc = 0;
	if (html)
		rc = write_atomic(html, write_html, &rep);
	if (rc == 0 && prom)
		rc = write_atomic(prom, write_prom, &rep);
	if (rc == 0 && json) {
		json_t *o = report_json(&rep);
		json_dumpf(o, stdout, JSON_SORT_KEYS | JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else if (rc == 0 && !html) {
		print_text(&rep);
	}
	sk_report_free(&rep);
	return rc;
}
