/* stockade redact — the output redactor as a filter, stdin to stdout. */
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "stockade/cli.h"
#include "stockade/policy.h"
#include "stockade/redact.h"

extern char **environ;

#define READ_SIZE (1u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stockade redact [OPTIONS] < INPUT > OUTPUT\n\n"
		"Copies stdin to stdout with credentials replaced by [REDACTED:<rule>]:\n"
		"the shipped pattern rules plus the given literal secrets (also in base64,\n"
		"hex, URL- and JSON-escaped forms).\n\n"
		"  --profile P         the profile's redaction: its secret variables and files\n"
		"                      as literals, its `redact pattern` and `redact disable` rules\n"
		"  --rules FILE        pattern rules (default: the shipped redact.rules)\n"
		"  --no-rules          no pattern rules, literals only\n"
		"  --disable NAME      leave out one rule (repeatable)\n"
		"  --literals FILE     a secret file: its content and every value in it (repeatable)\n"
		"  --literal-env NAME  the value of an environment variable (repeatable)\n"
		"  --replacement TEXT  replacement; {rule} is the rule name (default [REDACTED:{rule}])\n"
		"  --no-cache          compile the rules even when a cached database exists\n"
		"  --json-counts       print the replacements per rule as JSON on stderr at the end\n"
		"  --verbose           print how the redactor was built on stderr\n"
		"  -h, --help          this text\n");
}

struct opts {
	const char *profile;
	char *extra_rules;     /* `redact pattern` rules of the profile */
	const char *rules;
	bool no_rules, no_cache, json_counts, verbose;
	const char *replacement;
	const char **disabled;
	size_t n_disabled;
};

static void warn_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "stockade: warning: %s\n", msg);
}

/* Takes name (malloc'd). */
static int push_name(struct opts *o, char *name)
{
	if (!name)
		return -ENOMEM;
	const char **v = realloc(o->disabled, (o->n_disabled + 2) * sizeof(*v));
	if (!v) {
		free(name);
		return -ENOMEM;
	}
	v[o->n_disabled++] = name;
	v[o->n_disabled] = NULL;
	o->disabled = v;
	return 0;
}

/* The profile's secrets become literals, its rules extra or disabled rules. */
static int apply_profile(struct opts *o, sk_redact_literals *lits, sk_error *err)
{
	_cleanup_profile_ sk_profile *p = NULL;
	sk_sandbox_config cfg;
	sk_profile_env env = { 0 };
	int e = sk_profile_load(o->profile, NULL, &p, err);
	if (e < 0)
		return e;
	sk_sandbox_config_init(&cfg);
	if ((e = sk_profile_apply(p, environ, NULL, &cfg, &env, err)) < 0)
		return e;
	if ((e = sk_profile_redact_inputs(&env, lits, &o->extra_rules, err)) >= 0)
		for (size_t i = 0; e >= 0 && env.disabled_rules && env.disabled_rules[i]; i++)
			e = push_name(o, strdup(env.disabled_rules[i]));
	sk_profile_env_free(&env);
	if (e < 0 && !err->code)
		sk_fail_errno(err, -e, "profile %s", o->profile);
	return e < 0 ? e : 0;
}

static int stdout_sink(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	return sk_write_all(STDOUT_FILENO, buf, len);
}

static void print_counts(const sk_redactor *r, const sk_redact_stream *s)
{
	fprintf(stderr, "{\"total\":%llu,\"rules\":{", (unsigned long long)sk_redact_stream_total(s));
	const char *sep = "";
	for (size_t i = 0; i < sk_redactor_rule_count(r); i++) {
		uint64_t n = sk_redact_stream_count(s, i);
		if (!n)
			continue;
		fprintf(stderr, "%s\"", sep);
		for (const char *p = sk_redactor_rule_name(r, i); *p; p++)
			fprintf(stderr, (*p == '"' || *p == '\\') ? "\\%c" : (unsigned char)*p < 0x20 ? "?" : "%c", *p);
		fprintf(stderr, "\":%llu", (unsigned long long)n);
		sep = ",";
	}
	fprintf(stderr, "}}\n");
}

static void print_info(const sk_redactor *r)
{
	sk_redact_info in;
	sk_redactor_info(r, &in);
	fprintf(stderr, "redact: %zu rules, %zu literals (%zu forms), window %zu bytes, "
		"setup %.3f ms, cache %s\n", in.n_rules, in.n_literals, in.n_literal_forms,
		in.window, in.setup_ns / 1e6,
		in.cache_hit ? "hit" : in.cache_written ? "written" : "not used");
}

static int filter(const sk_redactor *r, const struct opts *o)
{
	sk_redact_stream *s;
	int e = sk_redact_stream_new(r, stdout_sink, NULL, &s);
	if (e < 0)
		return sk_cli_error("redact: %s", strerror(-e));
	/* The patterns on a second thread: a filter feeds large slices (best
	 * effort: single-threaded otherwise). */
	(void)sk_redact_stream_parallel(s);
	/* A larger pipe means fewer, larger reads (best effort). */
	(void)fcntl(STDIN_FILENO, F_SETPIPE_SZ, (int)READ_SIZE);
	_cleanup_free_ char *buf = malloc(READ_SIZE);
	if (!buf) {
		sk_redact_stream_free(s);
		return sk_cli_error("redact: out of memory");
	}
	for (;;) {
		/* Nothing more to read yet: what is final goes out now, not when
		 * the next input comes (the pattern thread lags one slice). */
		struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(&in, 1, 0) == 0 && (e = sk_redact_settle(s)) < 0)
			break;
		ssize_t n = read(STDIN_FILENO, buf, READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			break;
		}
		if (n == 0) {
			e = sk_redact_finish(s);
			break;
		}
		if ((e = sk_redact_feed(s, buf, (size_t)n)) < 0)
			break;
	}
	if (e == 0 && o->json_counts)
		print_counts(r, s);
	sk_redact_stream_free(s);
	return e < 0 ? sk_cli_error("redact: %s", strerror(-e)) : 0;
}

int sk_cmd_redact(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "rules", required_argument, NULL, 'r' },
		{ "no-rules", no_argument, NULL, 'R' },
		{ "disable", required_argument, NULL, 'd' },
		{ "literals", required_argument, NULL, 'l' },
		{ "literal-env", required_argument, NULL, 'e' },
		{ "replacement", required_argument, NULL, 't' },
		{ "no-cache", no_argument, NULL, 'C' },
		{ "json-counts", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct opts o = { 0 };
	sk_redact_literals *lits = NULL;
	sk_redactor *red = NULL;
	sk_error err = { 0 };
	int rc = 0, c;
	if (sk_redact_literals_new(&lits, warn_stderr, NULL) < 0)
		return sk_cli_error("redact: out of memory");
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.profile = optarg; break;
		case 'r': o.rules = optarg; break;
		case 'R': o.no_rules = true; break;
		case 'd':
			if (push_name(&o, strdup(optarg)) < 0)
				rc = sk_cli_error("redact: out of memory");
			break;
		case 'l':
			if (sk_redact_literals_add_file(lits, "literal", optarg, &err) < 0)
				rc = sk_cli_error("redact: %s", err.msg);
			break;
		case 'e': {
			const char *v = getenv(optarg);
			char label[256];
			snprintf(label, sizeof(label), "env:%s", optarg);
			if (!v)
				warn_stderr(NULL, "redact: environment variable is not set");
			else if (sk_redact_literals_add(lits, label, v, strlen(v)) < 0)
				rc = sk_cli_error("redact: out of memory");
			break;
		}
		case 't': o.replacement = optarg; break;
		case 'C': o.no_cache = true; break;
		case 'j': o.json_counts = true; break;
		case 'v': o.verbose = true; break;
		case 'h':
			usage(stdout);
			rc = -1;
			break;
		default:
			rc = sk_cli_error("redact: unknown option; 'stockade redact --help' lists them");
		}
	}
	if (rc == 0 && optind < argc)
		rc = sk_cli_error("redact: unexpected argument '%s' (input is stdin)", argv[optind]);
	if (rc == 0 && o.profile && apply_profile(&o, lits, &err) < 0)
		rc = sk_cli_error("redact: %s", err.msg);
	if (rc == 0) {
		sk_redact_config cfg;
		sk_redact_config_init(&cfg);
		cfg.rules_path = o.no_rules ? "" : o.rules;
		cfg.disabled_rules = o.disabled;
		cfg.extra_rules = o.extra_rules;
		cfg.extra_rules_origin = o.profile;
		cfg.replacement = o.replacement;
		cfg.literals = lits;
		cfg.cache_dir = o.no_cache ? "" : NULL;
		if (sk_redactor_build(&cfg, &red, &err) < 0)
			rc = sk_cli_error("redact: %s", err.msg);
	}
	sk_redact_literals_free(lits);
	int ready = rc == 0 ? sk_redactor_ready(red) : 0;
	if (ready == -EBADMSG)
		rc = sk_cli_error("redact: the cached redaction database was damaged and has been removed; "
				  "run the command again");
	else if (ready < 0)
		rc = sk_cli_error("redact: cannot load the redaction database: %s", strerror(-ready));
	if (rc == 0) {
		if (o.verbose)
			print_info(red);
		rc = filter(red, &o);
	}
	sk_redactor_free(red);
	for (size_t i = 0; i < o.n_disabled; i++)
		free((char *)o.disabled[i]);
	free(o.disabled);
	free(o.extra_rules);
	return rc < 0 ? 0 : rc;
}
