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
	if (!oids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		memcpy(oids[i], b[i].oid, 32);
	sk_git_carrier *c = NULL;
	size_t n_c = 0, cap = s->n_carriers;
	int r = sk_git_object_carriers(objects, hash_len, (const unsigned char (*)[32])oids, n, &c, &n_c);
	sk_carrier_file *v = r == 0 && n_c ? sk_grow(s->carriers, &cap, s->n_carriers + n_c, sizeof(*v)) : NULL;
	if (r == 0 && n_c && !v)
		r = -ENOMEM;
	if (v)
		s->carriers = v;
	for (size_t k = 0; r == 0 && k < n_c; k++)
		if (tags[c[k].secret] >= 0)
			s->carriers[s->n_carriers++] = (sk_carrier_file){
				.dev = c[k].dev, .ino = c[k].ino, .content = s->fps[tags[c[k].secret]].key,
				.size = s->fps[tags[c[k].secret]].size };
	free(c);
	free(oids);
	return r;
}

int sk_run_history_carriers(const sk_request *req, run_state *s, sk_error *err)
{
	char entry[PATH_MAX + 8], gitdir[PATH_MAX], common[PATH_MAX], file[PATH_MAX + 16], objects[PATH_MAX + 16];
	if (snprintf(entry, sizeof(entry), "%s/.git", s->workspace) >= (int)sizeof(entry) ||
	    sk_git_entry_dirs(entry, gitdir, common) <= 0)
		return 0;   /* no repository git would enter */
	const char *top = common[0] ? common : gitdir;
	_cleanup_free_ char *config = NULL;
	size_t clen = 0;
	snprintf(file, sizeof(file), "%s/config", top);
	size_t hash_len = sk_read_file(file, 1 << 20, &config, &clen) == 0 ? sk_git_hash_len(config, clen) : 20;
	sk_git_history_blob *b = NULL;
	size_t n = 0;
	bool partial = false;
	int r = sk_git_history_secrets(s->cache_dir, gitdir, common, hash_len, s->digest, secret_name, s, &b, &n,
				       &partial);
	long *tags = r == 0 ? calloc(n + 1, sizeof(*tags)) : NULL;
	if (r == 0 && !tags)
		r = -ENOMEM;
	/* Fingerprints only while the carriers' content pointers are not
	 * taken: s->fps may move as it grows. */
	for (size_t i = 0; r == 0 && i < n; i++) {
		run_fingerprint fp = { .size = b[i].size };
		snprintf(fp.key, sizeof(fp.key), "%s", b[i].content);
		r = sk_run_push_fingerprint(s, &fp, &tags[i]);
	}
	snprintf(objects, sizeof(objects), "%s/objects", top);
	if (r == 0 && n)
		r = add_carriers(s, objects, hash_len, b, n, tags);
	if (r == 0 && partial && req->verbose)
		dprintf(req->stderr_fd, "stockade: the history of %s is larger than is walked for secrets: "
			"older commits were not looked at\n", s->workspace);
	free(tags);
	free(b);
	return r < 0 ? sk_fail(err, -r, "cannot look for the secrets git's history keeps") : 0;
}
