/* Secrets kept only in git's history (git_history.c): in the workspace's
 * repository, every blob that stood at a secret's name in a reachable
 * commit is a secret content of this run (known to decide by its
 * fingerprint), and the loose object or packs holding it carry it (an
 * open of one is decided as that content, as for the index's copies in
 * run_session.c).  A walk that stopped short says so on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_guard.h"
#include "run_internal.h"

/* A name the profile keeps secret, wherever it stood in the tree. */
static bool secret_name(void *ctx, const char *rel)
{
	run_state *s = ctx;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", s->workspace, rel) >= (int)sizeof(path))
		return false;
	const char *vias[1] = { path };
	sk_event ev = { .kind = SK_EVENT_FILE };
	ev.file.access = SK_ACCESS_READ;
	ev.file.file.path = path;
	ev.file.file.via = vias;
	ev.file.file.n_via = 1;
	sk_verdict v = sk_decide(s->profile, NULL, &ev);
	return v.action != SK_ACTION_ALLOW && v.reason == SK_REASON_FILE_SECRET;
}

static int add_carriers(run_state *s, const char *objects, size_t hash_len, const sk_git_history_blob *b, size_t n,
			const long *tags)
{
	unsigned char (*oids)[32] = calloc(n + 1, sizeof(*oids));
	const run_fingerprint **fp = calloc(n + 1, sizeof(*fp));
	sk_git_carrier *c = NULL;
	size_t n_c = 0;
	int r = oids && fp ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		memcpy(oids[i], b[i].oid, 32);
		fp[i] = tags[i] >= 0 ? &s->fps[tags[i]] : NULL;
	}
	if (r == 0)
		r = sk_git_object_carriers(objects, hash_len, (const unsigned char (*)[32])oids, n, &c, &n_c);
	if (r == 0)
		r = sk_run_add_carriers(s, c, n_c, fp);
	free(c);
	free(fp);
	free(oids);
	return r;
}

int sk_run_history_carriers(const sk_request *req, run_state *s, sk_error *err)
{
	sk_git_repo repo;
	if (sk_git_repository_of(s->workspace, &repo) <= 0)
		return 0;
	sk_git_history_blob *b = NULL;
	size_t n = 0;
	bool partial = false;
	int r = sk_git_history_secrets(s->cache_dir, repo.gitdir, repo.common, repo.hash_len, s->digest,
				       secret_name, s, &b, &n, &partial);
	long *tags = r == 0 ? calloc(n + 1, sizeof(*tags)) : NULL;
	if (r == 0 && !tags)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++) {
		run_fingerprint fp = { .size = b[i].size };
		snprintf(fp.key, sizeof(fp.key), "%s", b[i].content);
		r = sk_run_push_fingerprint(s, &fp, &tags[i]);
	}
	if (r == 0 && n)
		r = add_carriers(s, repo.objects, repo.hash_len, b, n, tags);
	if (r == 0 && partial && req->verbose)
		dprintf(req->stderr_fd, "stockade: the history of %s is larger than one walk for secrets reads: "
			"older commits are looked at in the next runs\n", s->workspace);
	free(tags);
	free(b);
	return r < 0 ? sk_fail(err, -r, "cannot look for the secrets git's history keeps") : 0;
}
