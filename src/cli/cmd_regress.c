/* stockade regress LOG|CORPUS... [--profile P]: re-run, live and in the
 * sandbox, every command that was ever denied or escalated, and fail if
 * any is now allowed.  The known-bad corpus grows from real denials.
 *
 * Input: JSON Lines files (or state directories, for their logs).  A
 * command receipt whose verdict is deny or escalate contributes its
 * event.argv; a corpus line {"argv": [...]} contributes its argv.
 * "Allowed" until `stockade run` reports policy denials itself: the run
 * exited with a status other than 125/126/127 and printed no line
 * containing "denied". */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "stockade/audit.h"
#include "stockade/cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: stockade regress [--profile P] [--state-dir DIR] [--json] [LOG|CORPUS|DIR]...\n\n"
		   "Re-runs with `stockade run [--profile P] -- ARGV...` every command a\n"
		   "receipt recorded as denied or escalated (and every {\"argv\": [...]} line\n"
		   "of a corpus file), each once, and fails if any is now allowed: it exited\n"
		   "with a status other than 125/126/127 and printed no line containing\n"
		   "\"denied\".  No LOG means the state directory's logs.\n"
		   "Exit 0: every command still blocked; 1: some command is now allowed;\n"
		   "125: error.\n");
}

typedef struct cases {
	json_t *argvs;                   /* array of argv arrays, distinct */
	json_t *seen;                    /* object: serialized argv -> true */
} cases;

static int add_case(cases *c, json_t *argv)
{
	if (!json_is_array(argv) || json_array_size(argv) == 0)
		return 0;
	for (size_t i = 0; i < json_array_size(argv); i++)
		if (!json_is_string(json_array_get(argv, i)))
			return 0;
	char *key = json_dumps(argv, JSON_COMPACT);
	if (!key)
		return -ENOMEM;
	if (!json_object_get(c->seen, key)) {
		json_object_set_new(c->seen, key, json_true());
		json_array_append(c->argvs, argv);
	}
	free(key);
	return 0;
}

static int read_cases(const char *path, cases *c, sk_error *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return sk_fail_errno(err, errno, "cannot open %s", path);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	for (uint64_t lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
		if (len <= 1)
			continue;
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		if (!json_is_object(o)) {
			json_decref(o);
			return sk_fail(err, EINVAL, "%s:%" PRIu64 ": not a JSON object", path, lineno);
		}
		const char *verdict = json_string_value(json_object_get(o, "verdict"));
		const char *type = json_string_value(json_object_get(o, "type"));
		int r = 0;
		if (verdict && type && !strcmp(type, "command") && (!strcmp(verdict, "deny") || !strcmp(verdict, "escalate")))
			r = add_case(c, json_object_get(json_object_get(o, "event"), "argv"));
		else if (!verdict && !type)
			r = add_case(c, json_object_get(o, "argv"));
		json_decref(o);
		if (r < 0)
			return sk_fail(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Run one case; *allowed as defined above. */
static int run_case(const json_t *argv, const char *profile, bool *allowed, int *status)
{
	size_t n = json_array_size(argv);
	const char **av = calloc(n + 6, sizeof(*av));
	if (!av)
		return -ENOMEM;
	size_t k = 0;
	av[k++] = "stockade";
	av[k++] = "run";
	if (profile) {
		av[k++] = "--profile";
		av[k++] = profile;
	}
	av[k++] = "--";
	for (size_t i = 0; i < n; i++)
		av[k++] = json_string_value(json_array_get(argv, i));
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(av);
		return -errno;
	}
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(SK_EXIT_INTERNAL);
		execv("/proc/self/exe", (char *const *)av);
		_exit(127);
	}
	free(av);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -errno;
	}
	/* Scan the output for "denied", carrying a tail across reads. */
	char buf[4096 + 8];
	size_t keep = 0;
	bool denied = false;
	ssize_t got;
	while ((got = read(pfd[0], buf + keep, 4096)) > 0 || (got < 0 && errno == EINTR)) {
		if (got < 0)
			continue;
		size_t len = keep + (size_t)got;
		if (memmem(buf, len, "denied", 6))
			denied = true;
		keep = len < 5 ? len : 5;
		memmove(buf, buf + len - keep, keep);
	}
	close(pfd[0]);
	int ws;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	*allowed = !denied && *status != 125 && *status != 126 && *status != 127;
	return 0;
}

static void print_argv(FILE *f, const json_t *argv)
{
	for (size_t i = 0; i < json_array_size(argv); i++)
		fprintf(f, "%s%s", i ? " " : "", json_string_value(json_array_get(argv, i)));
}

int sk_cmd_regress(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' }, { "state-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *profile = NULL, *state = NULL;
	bool json = false;
	sk_error err = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'p': profile = optarg; break;
		case 'd': state = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return SK_EXIT_INTERNAL;
		}
	}
	char dir[4096];
	if (optind == argc && sk_audit_state_dir(state, dir, sizeof(dir), &err) < 0)
		return sk_cli_error("regress: %s", err.msg);
	char **files = NULL;
	size_t n = 0;
	const char *dirs[] = { dir };
	int r = optind < argc ? sk_audit_expand_logs((const char *const *)argv + optind,
						     (size_t)(argc - optind), &files, &n, &err)
			      : sk_audit_expand_logs(dirs, 1, &files, &n, &err);
	if (r < 0)
		return sk_cli_error("regress: %s", err.msg);
	cases cs = { .argvs = json_array(), .seen = json_object() };
	for (size_t i = 0; r == 0 && i < n; i++)
		r = read_cases(files[i], &cs, &err);
	sk_audit_files_free(files, n);
	json_decref(cs.seen);
	if (r < 0) {
		json_decref(cs.argvs);
		return sk_cli_error("regress: %s", err.msg);
	}
	size_t n_allowed = 0, total = json_array_size(cs.argvs);
	json_t *results = json_array();
	for (size_t i = 0; i < total; i++) {
		json_t *av = json_array_get(cs.argvs, i);
		bool allowed = false;
		int status = 0;
		r = run_case(av, profile, &allowed, &status);
		if (r < 0) {
			json_decref(cs.argvs);
			json_decref(results);
			return sk_cli_error("regress: cannot run stockade run: %s", strerror(-r));
		}
		n_allowed += allowed;
		if (json) {
			json_array_append_new(results, json_pack("{s:O, s:i, s:b}", "argv", av, "status", status,
								 "allowed", allowed));
		} else {
			printf("%s (exit %d): ", allowed ? "NOW ALLOWED" : "still blocked", status);
			print_argv(stdout, av);
			putchar('\n');
		}
	}
	if (json) {
		json_t *o = json_pack("{s:I, s:I, s:o}", "commands", (json_int_t)total, "now_allowed",
				      (json_int_t)n_allowed, "results", results);
		json_dumpf(o, stdout, JSON_SORT_KEYS);
		putchar('\n');
		json_decref(o);
	} else {
		json_decref(results);
		printf("regress: %zu command(s), %zu now allowed\n", total, n_allowed);
	}
	json_decref(cs.argvs);
	return n_allowed ? 1 : 0;
}
