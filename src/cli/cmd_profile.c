/* stockade profile check | show | list: the profile language from the
 * command line.  check reports file:line:col errors; show prints the
 * resolved canonical form and its digest; list walks the search path. */
#include <dirent.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/cli.h"
#include "stockade/policy.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: stockade profile check [--workspace DIR] NAME|FILE...\n"
		"       stockade profile show [--workspace DIR] [--json | --digest] NAME|FILE\n"
		"       stockade profile list [--json]\n\n"
		"check   parse each profile (includes and variables resolved); errors are\n"
		"        FILE:LINE:COL: MESSAGE, exit 125 if any profile is invalid\n"
		"show    the resolved canonical form, after a first line '# sha256:HEX'\n"
		"        (the digest receipts name; it is the SHA-256 of the lines after it)\n"
		"list    the profiles on the search path, first match wins\n\n"
		"A NAME is looked up on the search path ($STOCKADE_PROFILE_PATH,\n"
		"$XDG_CONFIG_HOME/stockade/profiles, /etc/stockade/profiles, the profiles/\n"
		"directory next to the stockade binary); anything with a '/' is a FILE.\n"
		"${WORKSPACE} is --workspace (default: the current directory), ${HOME} is\n"
		"$HOME and ${UID} your uid.  See stockade-profile(5).\n");
}

typedef struct vars_buf {
	sk_profile_vars v;
	char ws[PATH_MAX], uid[16];
} vars_buf;

static int make_vars(vars_buf *b, const char *workspace)
{
	b->v.home = getenv("HOME");
	if (workspace) {
		if (!realpath(workspace, b->ws))
			return sk_cli_error("workspace %s: %s", workspace, strerror(errno));
	} else if (!getcwd(b->ws, sizeof(b->ws))) {
		return sk_cli_error("cannot get the current directory: %s", strerror(errno));
	}
	b->v.workspace = b->ws;
	snprintf(b->uid, sizeof(b->uid), "%u", (unsigned)getuid());
	b->v.uid = b->uid;
	return 0;
}

enum { OPT_JSON = 1, OPT_DIGEST, OPT_WORKSPACE, OPT_HELP };

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "digest", no_argument, NULL, OPT_DIGEST },
	{ "workspace", required_argument, NULL, OPT_WORKSPACE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

typedef struct opts {
	bool json, digest_only;
	const char *workspace;
} opts;

/* Options after the verb; returns the index of the first operand, or < 0. */
static int parse_opts(int argc, char **argv, opts *o)
{
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: o->json = true; break;
		case OPT_DIGEST: o->digest_only = true; break;
		case OPT_WORKSPACE: o->workspace = optarg; break;
		case 'h':
		case OPT_HELP: usage(stdout); return -1;
		default:
			sk_cli_error("profile %s: unknown option '%s'; see 'stockade profile --help'",
				     argv[0], argv[optind - 1]);
			return -2;
		}
	}
	return optind;
}

/* Connects are decided by the address dialled (a domain rule by the
 * addresses its name resolves to): a wildcard domain names none. */
static void warn_unmatchable(const sk_profile *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const sk_rule *r = &p->rules[i];
		if (r->cls == SK_CLASS_NET && r->net.kind == SK_ADDR_DOMAIN && !strncmp(r->net.domain, "*.", 2))
			fprintf(stderr,
				"%s: warning: net %s: a wildcard domain resolves to no addresses, so this rule "
				"matches no connect; name the domains one by one\n",
				r->id, r->arg);
	}
}

static int check(int argc, char **argv, const opts *o, int first)
{
	vars_buf vb;
	if (make_vars(&vb, o->workspace))
		return SK_EXIT_INTERNAL;
	if (first >= argc)
		return sk_cli_error("profile check: name a profile or a file");
	int bad = 0;
	for (int i = first; i < argc; i++) {
		_cleanup_profile_ sk_profile *p = NULL;
		sk_error err = { 0 };
		if (sk_profile_load(argv[i], &vb.v, &p, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad++;
			continue;
		}
		char digest[SK_PROFILE_DIGEST_LEN + 1];
		sk_coverage cov;
		sk_profile_coverage(p, &cov);
		if (sk_profile_digest(p, digest) < 0)
			return sk_cli_error("profile check: out of memory");
		printf("%s: ok, %zu rules, policy coverage %u/%u, %s\n", p->source, p->n_rules,
		       cov.covered, cov.total, digest);
		warn_unmatchable(p);
	}
	return bad ? SK_EXIT_INTERNAL : 0;
}

static json_t *coverage_json(const sk_profile *p)
{
	sk_coverage cov;
	sk_profile_coverage(p, &cov);
	json_t *classes = json_object();
	for (int c = 0; c < SK_CLASS_N_DECIDING; c++)
		json_object_set_new(classes, sk_class_name((sk_class)c),
				    json_pack("{s:b,s:b,s:b}", "allow", cov.has[c][SK_ACTION_ALLOW],
					      "deny", cov.has[c][SK_ACTION_DENY], "escalate", cov.has[c][SK_ACTION_ESCALATE]));
	return json_pack("{s:i,s:i,s:f,s:o}", "covered", (int)cov.covered, "total", (int)cov.total,
			 "ratio", (double)cov.covered / cov.total, "classes", classes);
}

static int show(int argc, char **argv, const opts *o, int first)
{
	vars_buf vb;
	if (make_vars(&vb, o->workspace))
		return SK_EXIT_INTERNAL;
	if (first != argc - 1)
		return sk_cli_error("profile show: name exactly one profile or file");
	_cleanup_profile_ sk_profile *p = NULL;
	sk_error err = { 0 };
	if (sk_profile_load(argv[first], &vb.v, &p, &err) < 0)
		return sk_cli_error("%s", err.msg);
	_cleanup_free_ char *text = NULL;
	size_t len;
	char digest[SK_PROFILE_DIGEST_LEN + 1];
	if (sk_profile_canonical(p, &text, &len) < 0 || sk_profile_digest(p, digest) < 0)
		return sk_cli_error("profile show: out of memory");
	if (o->digest_only) {
		printf("%s\n", digest);
	} else if (o->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s%,s:i,s:o}", "name", p->name, "source", p->source,
				      "digest", digest, "canonical", text, len, "rules", (int)p->n_rules,
				      "coverage", coverage_json(p));
		if (!j)
			return sk_cli_error("profile show: cannot build JSON");
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
		json_decref(j);
	} else {
		printf("# %s\n", digest);
		fwrite(text, 1, len, stdout);
	}
	return fflush(stdout) == 0 ? 0 : sk_cli_error("profile show: cannot write: %s", strerror(errno));
}

/* The first comment line of a profile: by convention, whom it is for. */
static void first_comment(const char *path, char *out, size_t len)
{
	out[0] = '\0';
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		if (line[0] != '#')
			continue;
		char *s = line + 1;
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, "\n")] = '\0';
		if (*s) {
			snprintf(out, len, "%s", s);
			return;
		}
	}
}

static bool listed(json_t *seen, const char *name)
{
	return json_object_get(seen, name) != NULL;
}

static int list(const opts *o)
{
	char **dirs = sk_profile_search_dirs();
	if (!dirs)
		return sk_cli_error("profile list: out of memory");
	json_t *seen = json_object(), *arr = json_array();
	for (char **d = dirs; *d; d++) {
		struct dirent **ents = NULL;
		int n = scandir(*d, &ents, NULL, alphasort);
		for (int i = 0; i < n; i++) {
			const char *name = ents[i]->d_name;
			char path[PATH_MAX + NAME_MAX + 2];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", *d, name);
			/* Profiles have plain names; "redact.rules" and the like are data. */
			if (name[0] != '.' && !strchr(name, '.') && !listed(seen, name) &&
			    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				char about[512];
				first_comment(path, about, sizeof(about));
				json_object_set_new(seen, name, json_true());
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", name, "path", path, "about", about));
			}
			free(ents[i]);
		}
		free(ents);
	}
	if (o->json) {
		json_t *j = json_pack("{s:o,s:o}", "profiles", arr, "search_path", json_array());
		for (char **d = dirs; *d; d++)
			json_array_append_new(json_object_get(j, "search_path"), json_string(*d));
		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(arr, i, e)
			printf("%-10s %s\n           %s\n", json_string_value(json_object_get(e, "name")),
			       json_string_value(json_object_get(e, "about")),
			       json_string_value(json_object_get(e, "path")));
		printf("search path:");
		for (char **d = dirs; *d; d++)
			printf(" %s", *d);
		printf("\n");
		json_decref(arr);
	}
	json_decref(seen);
	sk_strv_free(dirs);
	return 0;
}

int sk_cmd_profile(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return SK_EXIT_INTERNAL;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		usage(stdout);
		return 0;
	}
	opts o = { 0 };
	int first = parse_opts(argc - 1, argv + 1, &o);
	if (first == -1)
		return 0;
	if (first < 0)
		return SK_EXIT_INTERNAL;
	first += 1;   /* back to argv's numbering */
	if (!strcmp(verb, "check"))
		return check(argc, argv, &o, first);
	if (!strcmp(verb, "show"))
		return show(argc, argv, &o, first);
	if (!strcmp(verb, "list"))
		return list(&o);
	return sk_cli_error("profile: unknown action '%s' (check, show, list)", verb);
}
