/* Secrets kept only in git's history (git_history.c): in the workspace's
 * repository, every blob that stood at a secret's name in a reachable
 * commit is a secret content of this run (known to decide by its
 * fingerprint), and the loose object or packs holding it carry it (an
 * open of one is decided as that content, as for the index's copies in
 * run_session.c).  A walk that stopped short says so on stderr. */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_guard.h"
#include "run_internal.h"
#include "stockade/util.h"

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

/* Blobs of the packs that hold a secret value: a token pasted into an
 * ordinary file (config/app.yml) and committed is, after `git gc` or in a
 * clone, in a pack, compressed or spread over deltas, where the
 * supervisor's reading of files does not find it and `git show
 * HEAD:config/app.yml | rev` would print it.  Every blob of each pack is
 * read here, before the run (git_objects.c: every length checked), and a
 * pack holding one carries that secret.  What was found is kept in the
 * cache under this build, the values' digest and the packs' names (each
 * is its pack's checksum): once per set of packs and of values.  At most
 * PACK_BUDGET bytes of blobs are read a run; a store not read to its end
 * is read again, from its start, by the next run (so a store of more than
 * that many bytes of blobs is never covered: docs/sessions.md). */
enum { PACK_BUDGET = 64 << 20, PACK_FOUND_MAX = 256 };
#define PACK_MEMO_MAGIC "stockade-git-values 1\n"

typedef struct pack_found {
	unsigned char oids[PACK_FOUND_MAX][32];
	const run_fingerprint *fp[PACK_FOUND_MAX];
	size_t n;
} pack_found;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The memo of a store's packs: named after this build, the values' digest
 * and the packs' index names (a pack's name is its checksum, so the set
 * of names is the set of packs), found by a directory listing: a run in
 * an unchanged store reads no pack.  -ENOENT: no cache, or no pack. */
static int pack_memo_path(const run_state *s, const char *objects, char out[PATH_MAX])
{
	unsigned char digest[32];
	char dir[PATH_MAX + 32];
	snprintf(dir, sizeof(dir), "%s/pack", objects);
	DIR *d = s->cache_dir ? opendir(dir) : NULL;
	if (!d)
		return -ENOENT;
	char *names[256];
	size_t n = 0;
	int r = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcmp(e->d_name + len - 4, ".idx"))
			continue;
		if (n == sizeof(names) / sizeof(*names) || !(names[n] = strdup(e->d_name))) {
			r = -ENOENT;   /* more than git makes: no memo, read them */
			break;
		}
		n++;
	}
	closedir(d);
	if (r == 0 && !n)
		r = -ENOENT;
	sk_bytes parts[1 + sizeof(names) / sizeof(*names)];
	if (r == 0) {
		qsort(names, n, sizeof(*names), cmp_name);
		sk_secret_values_digest(s->values, digest);
		parts[0] = (sk_bytes){ digest, sizeof(digest) };
		for (size_t i = 0; i < n; i++)
			parts[1 + i] = (sk_bytes){ names[i], strlen(names[i]) + 1 };
		r = sk_cache_file(s->cache_dir, "git-values", parts, 1 + n, out, PATH_MAX);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

static const run_fingerprint *fingerprint_keyed(const run_state *s, const char *key)
{
	for (size_t i = 0; i < s->n_fps; i++)
		if (!strcmp(s->fps[i].key, key))
			return &s->fps[i];
	return NULL;
}

/* What an earlier run found in the pack: true when it is kept. */
static bool pack_recalled(const run_state *s, const char *path, size_t hash_len, pack_found *f)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (sk_read_file(path, 1 << 20, &text, &len) < 0 || len < strlen(PACK_MEMO_MAGIC) ||
	    memcmp(text, PACK_MEMO_MAGIC, strlen(PACK_MEMO_MAGIC)))
		return false;
	char *save = NULL;
	for (char *line = strtok_r(text + strlen(PACK_MEMO_MAGIC), "\n", &save); line && f->n < PACK_FOUND_MAX;
	     line = strtok_r(NULL, "\n", &save)) {
		char *key = strchr(line, ' ');
		size_t bin = 0;
		if (!key)
			return false;
		*key++ = '\0';
		if (sodium_hex2bin(f->oids[f->n], 32, line, strlen(line), NULL, &bin, NULL) < 0 || bin != hash_len)
			return false;
		if ((f->fp[f->n] = fingerprint_keyed(s, key)))
			f->n++;   /* a secret of another run's: not one now */
	}
	return true;
}

static void pack_remember(const char *path, const pack_found *f, size_t hash_len)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return;
	fputs(PACK_MEMO_MAGIC, m);
	for (size_t i = 0; i < f->n; i++) {
		char hex[65];
		sodium_bin2hex(hex, sizeof(hex), f->oids[i], hash_len);
		fprintf(m, "%s %s\n", hex, f->fp[i]->key);
	}
	if (fclose(m) == 0)
		sk_write_cache(path, text, len);   /* best effort: the next run reads the pack again */
	free(text);
}

/* Every blob of the pack (ids listed by its index), within *budget. */
static int pack_read(run_state *s, sk_git_odb *db, const unsigned char *oids, size_t n, size_t hash_len,
		     size_t *budget, pack_found *f, bool *whole)
{
	*whole = false;
	for (size_t k = 0; k < n; k++) {
		int type = 0;
		unsigned char *data = NULL;
		size_t len = 0;
		if (sk_git_odb_read(db, oids + k * hash_len, &type, &data, &len) < 0)
			continue;   /* not in a form this reader knows */
		uint32_t tag = 0;
		int r = type == 3 ? sk_secret_values_find(s->values, data, len, &tag) : 0;
		free(data);
		if (r < 0)
			return r;
		if (r > 0 && tag < s->n_fps && f->n < PACK_FOUND_MAX) {
			memcpy(f->oids[f->n], oids + k * hash_len, hash_len);
			f->fp[f->n++] = &s->fps[tag];
		}
		if (len >= *budget) {
			*budget = 0;
			return 0;
		}
		*budget -= len;
	}
	*whole = true;
	return 0;
}

static int one_pack_store(run_state *s, const char *top, size_t *budget)
{
	sk_git_repo repo;
	if (sk_git_repository_of(top, &repo) <= 0)
		return 0;
	char memo[PATH_MAX];
	bool kept = pack_memo_path(s, repo.objects, memo) == 0;
	pack_found *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	int r = 0;
	sk_git_odb *db = NULL;
	if (!(kept && pack_recalled(s, memo, repo.hash_len, f))) {
		f->n = 0;
		bool all = sk_git_odb_open(repo.objects, repo.hash_len, &db) == 0;
		for (size_t i = 0; r == 0 && db && i < sk_git_odb_n_packs(db); i++) {
			const unsigned char *oids, *checksum;
			size_t n;
			bool whole = false;
			if (sk_git_odb_pack_ids(db, i, &oids, &n, &checksum) == 0 && *budget)
				r = pack_read(s, db, oids, n, repo.hash_len, budget, f, &whole);
			all &= whole;
		}
		if (r == 0 && all && kept)
			pack_remember(memo, f, repo.hash_len);
	}
	sk_git_carrier *c = NULL;
	size_t n_c = 0;
	if (r == 0 && f->n)
		r = sk_git_object_carriers(repo.objects, repo.hash_len, (const unsigned char (*)[32])f->oids, f->n, &c,
					   &n_c);
	if (r == 0 && n_c)
		r = sk_run_add_carriers(s, c, n_c, f->fp);
	free(c);
	free(f);
	sk_git_odb_close(db);
	return r;
}

int sk_run_pack_values(const sk_request *req, run_state *s, sk_error *err)
{
	(void)req;
	if (!sk_secret_values_count(s->values))
		return 0;
	size_t budget = PACK_BUDGET;
	int r = one_pack_store(s, s->workspace, &budget);
	char (*tops)[PATH_MAX] = r == 0 ? calloc(MAX_REPOS, PATH_MAX) : NULL;
	if (r == 0 && !tops)
		r = -ENOMEM;
	size_t n = r == 0 ? nested_repositories(s, tops) : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = one_pack_store(s, tops[i], &budget);
	free(tops);
	return r < 0 ? sk_fail(err, -r, "cannot look for secret values in git's packs") : 0;
}
