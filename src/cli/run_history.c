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

/* The values of the secret blobs: each up to BLOB_VALUES_MAX, up to
 * HISTORY_VALUES_MAX in all (a .env is a few hundred bytes; a larger
 * secret still counts by its fingerprint). */
enum { MAX_REPOS = 64, BLOB_VALUES_MAX = 256 << 10, HISTORY_VALUES_MAX = 4 << 20 };

typedef struct worktree {
	run_state *s;
	const char *top;   /* the worktree the tree's paths start at */
} worktree;

/* A name the profile keeps secret, wherever it stood in the tree. */
static bool secret_name(void *ctx, const char *rel)
{
	const worktree *w = ctx;
	run_state *s = w->s;
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", w->top, rel) >= (int)sizeof(path))
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

/* A secret blob's values are looked for in what the command reads (as
 * those of the secret files are) and are literals of the redactor: a
 * .env deleted from the worktree, or rotated, leaves its old token in the
 * history, and maybe in a config the agent can read. */
static int add_blob_values(run_state *s, sk_git_odb *db, const sk_git_history_blob *b, long tag)
{
	if (tag < 0 || b->size > BLOB_VALUES_MAX || s->history_bytes + b->size > HISTORY_VALUES_MAX)
		return 0;
	int type = 0;
	unsigned char *data = NULL;
	size_t len = 0;
	if (sk_git_odb_read(db, b->oid, &type, &data, &len) < 0)
		return 0;   /* unreadable now: its fingerprint still counts */
	run_blob *v = realloc(s->history_blobs, (s->n_history_blobs + 1) * sizeof(*v));
	int r = v ? sk_secret_values_add_content(s->values, data, len, (uint32_t)tag) : -ENOMEM;
	if (v)
		s->history_blobs = v;
	if (r < 0) {
		free(data);
		return r;
	}
	s->history_blobs[s->n_history_blobs++] = (run_blob){ data, len };
	s->history_bytes += len;
	return 0;
}

static int one_repository(const sk_request *req, run_state *s, const char *top)
{
	sk_git_repo repo;
	if (sk_git_repository_of(top, &repo) <= 0)
		return 0;
	sk_git_history_blob *b = NULL;
	size_t n = 0;
	bool partial = false;
	worktree w = { .s = s, .top = top };
	int r = sk_git_history_secrets(s->cache_dir, repo.gitdir, repo.common, repo.hash_len, s->digest,
				       secret_name, &w, &b, &n, &partial);
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
	sk_git_odb *db = NULL;
	if (r == 0 && n && sk_git_odb_open(repo.objects, repo.hash_len, &db) == 0) {
		for (size_t i = 0; r == 0 && i < n; i++)
			r = add_blob_values(s, db, &b[i], tags[i]);
		sk_git_odb_close(db);
	}
	if (r == 0 && partial && req->verbose)
		dprintf(req->stderr_fd, "stockade: the history of %s is larger than one walk for secrets reads: "
			"older commits are looked at in the next runs\n", top);
	free(tags);
	free(b);
	return r;
}

static bool listed(char (*tops)[PATH_MAX], size_t n, const char *top)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(tops[i], top))
			return true;
	return false;
}

/* The repositories below the workspace: those the name walk before this
 * run found (a directory holding a .git), then those the last check after
 * a run found (it looks further: into node_modules, past the walk's
 * bounds); each once, up to MAX_REPOS. */
static size_t nested_repositories(const run_state *s, char (*tops)[PATH_MAX])
{
	size_t n = 0;
	for (size_t i = 0; i < s->env.n_nested_repos && n < MAX_REPOS; i++)
		if (sk_path_beneath(s->env.nested_repos[i], s->workspace) &&
		    strcmp(s->env.nested_repos[i], s->workspace) && !listed(tops, n, s->env.nested_repos[i]) &&
		    snprintf(tops[n], PATH_MAX, "%s", s->env.nested_repos[i]) < PATH_MAX)
			n++;
	_cleanup_free_ char *repos = NULL;
	sk_git_walk_repos(s->cache_dir, s->workspace, &repos);
	for (char *line = repos, *nl; line && *line && n < MAX_REPOS; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		size_t len = strlen(line);
		/* "DIR/.git" below the top; ".git" is the top's own */
		if (len <= 5 || strcmp(line + len - 5, "/.git") || strstr(line, "..") ||
		    snprintf(tops[n], PATH_MAX, "%s/%.*s", s->workspace, (int)(len - 5), line) >= PATH_MAX)
			continue;
		if (!listed(tops, n, tops[n]))
			n++;
	}
	return n;
}

/* The workspace's repository, and the nested ones. */
int sk_run_history_carriers(const sk_request *req, run_state *s, sk_error *err)
{
	int r = one_repository(req, s, s->workspace);
	char (*tops)[PATH_MAX] = r == 0 ? calloc(MAX_REPOS, PATH_MAX) : NULL;
	if (r == 0 && !tops)
		r = -ENOMEM;
	size_t n = r == 0 ? nested_repositories(s, tops) : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = one_repository(req, s, tops[i]);
	free(tops);
	return r < 0 ? sk_fail(err, -r, "cannot look for the secrets git's history keeps") : 0;
}
