/* The command's stdin, when the caller's shell opened a file for it
 * (`stockade run -- rev < .env`): that open happened outside the sandbox,
 * where the supervisor never sees it, and the command reads the file from
 * fd 0.  So such a stdin is decided before anything runs, as the command
 * opening that file for reading: by its identity (and, like any open, its
 * content's fingerprint when a denied file has its size).  A refusal is
 * an attempt on the file, recorded in its chain, and stops the run. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"

static bool size_wanted(const run_state *s, uint64_t size)
{
	for (size_t i = 0; i < s->n_sizes; i++)
		if (s->sizes[i] == size)
			return true;
	return false;
}

/* Where fd 0 leads, as the kernel names it. */
static void stdin_path(char *out, size_t n)
{
	ssize_t len = readlink("/proc/self/fd/0", out, n - 1);
	if (len < 0)
		snprintf(out, n, "/dev/stdin");
	else
		out[len] = '\0';
}

int sk_run_check_stdin(const sk_request *req, run_state *s, sk_run_result *res, sk_error *err)
{
	struct stat st;
	/* Pipes, terminals, sockets and device nodes hold no file of the
	 * host's; a closed stdin (EBADF) is no file either. */
	if (fstat(STDIN_FILENO, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode)))
		return 0;
	char path[PATH_MAX], content[SK_FINGERPRINT_LEN + 1] = "";
	const char *aliases[RUN_MAX_ALIASES];
	uint64_t size = 0;
	stdin_path(path, sizeof(path));
	sk_event ev = { .kind = SK_EVENT_FILE };
	sk_file_ref *f = &ev.file.file;
	ev.file.access = SK_ACCESS_READ;
	*f = (sk_file_ref){ .path = path, .has_identity = true, .dev = (uint64_t)st.st_dev,
			    .ino = (uint64_t)st.st_ino, .aliases = aliases };
	f->n_aliases = sk_profile_ident_paths(s->profile, f->dev, f->ino, aliases, RUN_MAX_ALIASES);
	if (S_ISREG(st.st_mode) && size_wanted(s, (uint64_t)st.st_size) &&
	    sk_fingerprint_fd(STDIN_FILENO, (uint64_t)st.st_size, content) == 0) {
		size = (uint64_t)st.st_size;
		f->fingerprint = content + 8;   /* past "content:" */
	}
	sk_verdict v = sk_decide(s->profile, &s->view, &ev);
	if (v.action == SK_ACTION_ALLOW)
		return 0;
	uint64_t seq = 0;
	int r = sk_run_record_attempt(req, s, &ev, &v, "stdin", "/dev/stdin", content[0] ? content : NULL, size,
				      SK_RECEIPT_EVENT, NULL, &seq, err);
	if (r < 0)
		return r;
	res->denied = true;
	res->escalated = v.action == SK_ACTION_ESCALATE;
	res->chain = s->escalated_chain;
	res->exit_code = SK_EXIT_CANNOT_EXEC;
	res->command_receipt = seq;
	snprintf(res->verdict, sizeof(res->verdict), "%s", sk_action_name(v.action));
	snprintf(res->reason, sizeof(res->reason), "%s", sk_reason_name(v.reason));
	snprintf(res->rule, sizeof(res->rule), "%s", v.rule_id ? v.rule_id : "");
	snprintf(res->stdin_path, sizeof(res->stdin_path), "%.*s", (int)sizeof(res->stdin_path) - 1, path);
	return 1;
}
