/* stockade session show|list, stockade approve|deny: a session's surfaces,
 * retry chains and escalations, and the human's answer to an escalation. */
#include <dirent.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/audit.h"
#include "stockade/cli.h"
#include "stockade/session.h"

static const char session_usage[] =
	"usage: stockade session show ID [--state-dir DIR] [--json]\n"
	"       stockade session list [--state-dir DIR] [--json]\n\n"
	"A session's surfaces, each retry chain with every attempt (turn, path or\n"
	"command used, verdict, reason), soft blocks, and pending escalations.\n";

static const char decide_usage[] =
	"usage: stockade approve SESSION CHAIN [--reason TEXT] [--state-dir DIR | --connect [SOCKET]]\n"
	"       stockade deny SESSION CHAIN [--reason TEXT] [--state-dir DIR | --connect [SOCKET]]\n\n"
	"Answer an escalation.  approve: the chain's surface is allowed for the rest\n"
	"of the session (a hidden file is then shown read-only).  deny: it stays\n"
	"denied, and its escalation count starts again.  Both are receipted.\n"
	"--connect: decide through stockaded (escalation.decide; needs an operator).\n";

static const char *esc_word(sk_escalation_state e)
{
	static const char *w[] = { "", " [escalation pending]", " [approved]", " [denied by a human]" };
	return w[e];
}

static void print_text(const sk_session *s)
{
	printf("session %s: %u turn%s, %zu chain%s\n", s->id, s->turns, s->turns == 1 ? "" : "s", s->n_chains,
	       s->n_chains == 1 ? "" : "s");
	size_t pending = 0;
	for (size_t i = 0; i < s->n_chains; i++) {
		const sk_session_chain *c = &s->chains[i];
		pending += c->esc == SK_ESC_PENDING;
		printf("\nchain %u: %s %s%s%s\n", c->id, c->type, c->path ? c->path : c->keys[0],
		       c->denied ? " (sticky deny)" : "", esc_word(c->esc));
		printf("  keys:");
		for (size_t k = 0; k < c->n_keys; k++)
			printf(" %s", c->keys[k]);
		if (c->content)
			printf(" %s", c->content);
		printf("\n  %zu attempt%s, %u soft block%s\n", c->n, c->n == 1 ? "" : "s", c->soft_blocks,
		       c->soft_blocks == 1 ? "" : "s");
		for (size_t k = 0; k < c->n; k++) {
			const sk_session_attempt *a = &c->v[k];
			printf("  #%u turn %u  %-8s %-7s %-22s %s%s\n", a->n, a->turn, a->op ? a->op : "-",
			       sk_action_name(a->verdict), a->reason ? a->reason : "-", a->via ? a->via : "-",
			       a->soft_block ? "  (soft-blocked)" : "");
		}
		if (c->decided_by)
			printf("  decided by %s: %s\n", c->decided_by, c->decision_reason ? c->decision_reason : "");
	}
	printf("\npending escalations: %zu\n", pending);
	for (size_t i = 0; i < s->n_chains; i++)
		if (s->chains[i].esc == SK_ESC_PENDING)
			printf("  stockade approve %s %u | stockade deny %s %u\n", s->id, s->chains[i].id, s->id,
			       s->chains[i].id);
}

static int list_sessions(const char *dir, bool json)
{
	char path[4096 + 16];
	snprintf(path, sizeof(path), "%s/sessions", dir);
	DIR *d = opendir(path);
	json_t *arr = json_array();
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (sk_session_id_valid(e->d_name)) {
			if (json)
				json_array_append_new(arr, json_string(e->d_name));
			else
				printf("%s\n", e->d_name);
		}
	if (d)
		closedir(d);
	if (json) {
		json_dumpf(arr, stdout, JSON_COMPACT);
		putchar('\n');
	}
	json_decref(arr);
	return 0;
}

int sk_cmd_session(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *state = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': state = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(session_usage, stdout); return 0;
		default: fputs(session_usage, stderr); return SK_EXIT_INTERNAL;
		}
	}
	char dir[4096];
	sk_error err = { 0 };
	if (sk_audit_state_dir(state, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("session: %s", err.msg);
	if (optind == argc - 1 && !strcmp(argv[optind], "list"))
		return list_sessions(dir, json);
	if (optind != argc - 2 || strcmp(argv[optind], "show"))
		return sk_cli_error("session: say 'show ID' or 'list' ('stockade session --help')");
	_cleanup_session_ sk_session *s = NULL;
	if (sk_session_open(dir, argv[optind + 1], false, &s, &err) < 0)
		return sk_cli_error("session: %s", err.msg);
	if (json) {
		json_t *o = sk_session_to_json(s);
		json_dumpf(o, stdout, JSON_SORT_KEYS | JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		print_text(s);
	}
	return 0;
}

static int decide(int argc, char **argv, bool approve)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 'd' }, { "reason", required_argument, NULL, 'r' },
		{ "connect", optional_argument, NULL, 'c' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *state = NULL, *reason = NULL, *name = approve ? "approve" : "deny", *sock = NULL;
	bool remote = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': remote = true, sock = optarg; break;
		case 'd': state = optarg; break;
		case 'r': reason = optarg; break;
		case 'h': fputs(decide_usage, stdout); return 0;
		default: fputs(decide_usage, stderr); return SK_EXIT_INTERNAL;
		}
	}
	if (remote && !sock && optind == argc - 3)
		sock = argv[optind++];   /* --connect SOCKET SESSION CHAIN */
	if (optind != argc - 2)
		return sk_cli_error("%s: give SESSION and CHAIN ('stockade %s --help')", name, name);
	char *end;
	unsigned long chain = strtoul(argv[optind + 1], &end, 10);
	if (*end || !chain || chain > UINT32_MAX)
		return sk_cli_error("%s: CHAIN must be a chain number, as `stockade session show` lists them", name);
	if (remote)
		return sk_connect_decide(sock, argv[optind], (uint32_t)chain, approve, reason);
	char dir[4096], by[64];
	sk_error err = { 0 };
	if (sk_audit_state_dir(state, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("%s: %s", name, err.msg);
	struct passwd *pw = getpwuid(getuid());
	snprintf(by, sizeof(by), "uid %u%s%s", (unsigned)getuid(), pw ? " " : "", pw ? pw->pw_name : "");
	if (sk_escalation_resolve(dir, argv[optind], (uint32_t)chain, approve, reason, by, -1, NULL, &err) < 0)
		return sk_cli_error("%s: %s", name, err.msg);
	printf("session %s chain %lu: %s\n", argv[optind], chain, approve ? "approved" : "denied");
	return 0;
}

int sk_cmd_approve(int argc, char **argv) { return decide(argc, argv, true); }
int sk_cmd_deny(int argc, char **argv) { return decide(argc, argv, false); }
