/* stockade exec --connect [SOCKET] -- CMD: run CMD through a running
 * stockaded (docs/protocol.md): open a session on the current directory,
 * exec, print the streamed output, exit with the command's exit code. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <jansson.h>
#include <sodium.h>

#include "stockade/cli.h"
#include "stockade/util.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade exec --connect [SOCKET] [--workspace DIR] [--profile NAME]\n"
		   "                     [--session ID] [--wait SECONDS] -- CMD [ARGS...]\n\n"
		   "Runs CMD through stockaded's socket (default $XDG_RUNTIME_DIR/stockade.sock,\n"
		   "or /run/stockade/stockade.sock as root) and exits with its exit code.\n"
		   "--session ID opens or resumes that session (default: a new one); --wait:\n"
		   "an escalation waits up to SECONDS for `stockade approve|deny --connect`.\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static int send_request(int fd, json_t *req)
{
	char *s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	int r = s ? sk_write_all(fd, s, strlen(s)) : -ENOMEM;
	if (r >= 0)
		r = sk_write_all(fd, "\n", 1);
	free(s);
	return r;
}

/* Print one exec.output notification to our stdout or stderr. */
static void print_output(json_t *params)
{
	FILE *f = strcmp(json_string_value(json_object_get(params, "stream")) ?: "", "stderr") ? stdout : stderr;
	json_t *t = json_object_get(params, "text"), *b = json_object_get(params, "base64");
	if (json_is_string(t)) {
		fwrite(json_string_value(t), 1, json_string_length(t), f);
	} else if (json_is_string(b)) {
		size_t cap = json_string_length(b), n = 0;
		unsigned char *buf = malloc(cap + 1);
		if (buf && !sodium_base642bin(buf, cap, json_string_value(b), cap, NULL, &n, NULL,
					      sodium_base64_VARIANT_ORIGINAL))
			fwrite(buf, 1, n, f);
		free(buf);
	}
	fflush(f);
}

/* Read responses until the one with id; notifications are printed. */
static json_t *await(FILE *in, int id)
{
	char *line = NULL;
	size_t cap = 0;
	json_t *found = NULL;
	while (!found && getline(&line, &cap, in) > 0) {
		json_t *m = json_loads(line, 0, NULL);
		json_t *mid = json_object_get(m, "id");
		if (!mid && !strcmp(json_string_value(json_object_get(m, "method")) ?: "", "exec.output"))
			print_output(json_object_get(m, "params"));
		if (json_is_integer(mid) && json_integer_value(mid) == id)
			found = json_incref(m);
		json_decref(m);
	}
	free(line);
	return found;
}

static int rpc_error(json_t *resp)
{
	json_t *e = json_object_get(resp, "error");
	return sk_cli_error("stockaded: %s", e ? json_string_value(json_object_get(e, "message")) : "no answer");
}

const char *sk_default_socket(char *buf, size_t n)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	snprintf(buf, n, "%s/stockade.sock", geteuid() == 0 || !rt || !*rt ? "/run/stockade" : rt);
	return buf;
}

int sk_connect_decide(const char *sock, const char *session, uint32_t chain, bool approve, const char *reason)
{
	const char *name = approve ? "approve" : "deny";
	char def[PATH_MAX];
	if (!sock)
		sock = sk_default_socket(def, sizeof(def));
	int fd = connect_to(sock);
	if (fd < 0)
		return sk_cli_error("%s: cannot connect to '%s': %s; is stockaded running?", name, sock, strerror(-fd));
	FILE *in = fdopen(fd, "r");
	if (!in)
		return close(fd), sk_cli_error("%s: out of memory", name);
	json_t *req = json_pack("{s:s, s:i, s:s, s:{s:s, s:I, s:s}}", "jsonrpc", "2.0", "id", 1, "method",
				"escalation.decide", "params", "session", session, "chain", (json_int_t)chain,
				"decision", name);
	if (req && reason)
		json_object_set_new(json_object_get(req, "params"), "reason", json_string(reason));
	json_t *resp = NULL;
	int rc;
	if (!req || send_request(fd, req) < 0 || !(resp = await(in, 1)) || !json_object_get(resp, "result")) {
		json_t *e = json_object_get(resp, "error");
		rc = sk_cli_error("%s: stockaded: %s", name, e ? json_string_value(json_object_get(e, "message")) : "no answer");
	} else {
		json_t *lat = json_object_get(json_object_get(resp, "result"), "latency_ms");
		printf("session %s chain %u: %s", session, chain, approve ? "approved" : "denied");
		if (json_is_integer(lat))
			printf(" (%lld ms after the escalation)", (long long)json_integer_value(lat));
		putchar('\n');
		rc = 0;
	}
	json_decref(resp);
	fclose(in);
	return rc;
}

int sk_cmd_exec(int argc, char **argv)
{
	const char *sock = NULL, *workspace = NULL, *profile = NULL, *session = NULL;
	double wait_s = 0;
	bool connect_flag = false;
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return usage(stdout), 0;
		if (!strcmp(argv[i], "--connect")) {
			connect_flag = true;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				sock = argv[++i];
		} else if (!strcmp(argv[i], "--workspace") && i + 1 < argc) {
			workspace = argv[++i];
		} else if (!strcmp(argv[i], "--profile") && i + 1 < argc) {
			profile = argv[++i];
		} else if (!strcmp(argv[i], "--session") && i + 1 < argc) {
			session = argv[++i];
		} else if (!strcmp(argv[i], "--wait") && i + 1 < argc) {
			char *end;
			wait_s = strtod(argv[++i], &end);
			if (*end || !(wait_s >= 0 && wait_s <= 86400))
				return sk_cli_error("exec: --wait '%s': seconds from 0 to 86400", argv[i]);
		} else {
			return sk_cli_error("exec: unknown option '%s'; see 'stockade exec --help'", argv[i]);
		}
	}
	if (!connect_flag)
		return sk_cli_error("exec: --connect is required (the command goes through stockaded)");
	if (i + 1 >= argc)
		return sk_cli_error("exec: no command; usage: stockade exec --connect [SOCKET] -- CMD");
	char def[PATH_MAX], here[PATH_MAX];
	if (!sock)
		sock = sk_default_socket(def, sizeof(def));
	if (!workspace && !(workspace = getcwd(here, sizeof(here))))
		return sk_cli_error("exec: cannot read the current directory");
	char ws[PATH_MAX];
	if (!realpath(workspace, ws))
		return sk_cli_error("exec: workspace '%s' does not exist", workspace);
	int fd = connect_to(sock);
	if (fd < 0)
		return sk_cli_error("exec: cannot connect to '%s': %s; is stockaded running?", sock, strerror(-fd));
	FILE *in = fdopen(fd, "r");
	if (!in)
		return close(fd), sk_cli_error("exec: out of memory");
	json_t *args = json_array();
	for (int k = i + 1; k < argc; k++)
		json_array_append_new(args, json_string(argv[k]));
	json_t *open = json_pack("{s:s, s:i, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", 1, "method", "session.open",
				 "params", "workspace", ws);
	if (profile)
		json_object_set_new(json_object_get(open, "params"), "profile", json_string(profile));
	if (session)
		json_object_set_new(json_object_get(open, "params"), "session", json_string(session));
	int rc = SK_EXIT_INTERNAL;
	json_t *r1 = NULL, *r2 = NULL;
	if (send_request(fd, open) < 0 || !(r1 = await(in, 1)) || !json_object_get(r1, "result")) {
		rc = rpc_error(r1);
		json_decref(args);
		goto out;
	}
	const char *sid = json_string_value(json_object_get(json_object_get(r1, "result"), "session"));
	if (send_request(fd, json_pack("{s:s, s:i, s:s, s:{s:s, s:o, s:f}}", "jsonrpc", "2.0", "id", 2, "method", "exec",
				       "params", "session", sid ?: "", "argv", args, "wait", wait_s)) < 0 ||
	    !(r2 = await(in, 2)) || !json_object_get(r2, "result")) {
		rc = rpc_error(r2);
		goto out;
	}
	json_t *res = json_object_get(r2, "result");
	rc = (int)json_integer_value(json_object_get(res, "exit"));
	json_t *esc = json_object_get(res, "escalation");
	const char *state = json_string_value(json_object_get(esc, "state"));
	if (state && !strcmp(state, "pending"))
		fprintf(stderr, "stockade: escalated: %s awaits a human decision; the command was stopped.  Decide with: "
			"stockade approve --connect %s %lld | stockade deny --connect %s %lld\n",
			json_string_value(json_object_get(esc, "id")), sid, (long long)json_integer_value(json_object_get(esc, "chain")),
			sid, (long long)json_integer_value(json_object_get(esc, "chain")));
	else if (json_is_true(json_object_get(res, "denied")))
		fprintf(stderr, "stockade: denied (%s, %s)\n", json_string_value(json_object_get(res, "reason")) ?: "",
			json_string_value(json_object_get(res, "rule")) ?: "");
out:
	json_decref(r1);
	json_decref(r2);
	fclose(in);
	return rc;
}
