/* The run path's session side: the turn, the fingerprints of secrets, the
 * names the sandbox hides, the approvals, the view decide sees, and the
 * supervisor's two callbacks — decide (in the sandbox's init) and record
 * (here: receipt first, then the session journal).  Every attempt on a
 * protected surface goes through sk_run_record_attempt. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git_guard.h"
#include "run_internal.h"

enum { FP_MIN = 8, FP_MAX = 64 << 20, MAX_FPS = 4096, MAX_ALIASES = RUN_MAX_ALIASES, VALUES_FILE_MAX = 1 << 20 };

int sk_run_session_begin(const sk_request *req, run_state *s, sk_error *err)
{
	int r = sk_audit_state_dir(req->state_dir, s->state_dir, sizeof(s->state_dir), err);
	if (r < 0 || !req->session)
		return r;
	if ((r = sk_session_open(s->state_dir, req->session, true, &s->session, err)) < 0 ||
	    (r = sk_session_begin_turn(s->session, req->argv, &s->turn, err)) < 0)
		return r;
	return 0;
}

/* The index of fp in s->fps (added when new), or -1 when the table is
 * full; negative errno on failure (-ENOMEM).  Entries never move. */
int sk_run_push_fingerprint(run_state *s, const run_fingerprint *fp, long *index)
{
	*index = -1;
	for (size_t i = 0; i < s->n_fps; i++)
		if (!strcmp(s->fps[i].key, fp->key) && s->fps[i].dev == fp->dev && s->fps[i].ino == fp->ino) {
			*index = (long)i;
			return 0;
		}
	if (s->n_fps >= MAX_FPS)
		return 0;
	/* All at once (pages are only touched as used): the hidden table and
	 * the carriers point into it, so it must never move. */
	if (!s->fps && !(s->fps = calloc(MAX_FPS, sizeof(*s->fps))))
		return -ENOMEM;
	*index = (long)s->n_fps;
	s->fps[s->n_fps++] = *fp;
	return 0;
}

static int push_fp(run_state *s, const run_fingerprint *fp)
{
	long index;
	return sk_run_push_fingerprint(s, fp, &index);
}

/* A secret file's fingerprint, and its values for the supervisor to look
 * for in other files (run_values.c), from one read of it; files too small
 * to be told apart from common content, or too large to hash on every
 * open, are left to the mount tree and the redactor (and one larger than
 * VALUES_FILE_MAX to the redactor for its values). */
static int fingerprint_file(run_state *s, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < FP_MIN || st.st_size > FP_MAX)
		return 0;
	run_fingerprint fp = { .dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino, .size = (uint64_t)st.st_size };
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (fp.size <= VALUES_FILE_MAX) {
		if (sk_read_fd(fd, VALUES_FILE_MAX, &data, &len) < 0 || len != fp.size)
			return 0;   /* changed while read: not the size seen */
		sk_fingerprint_bytes(data, len, fp.key);
	} else if (sk_fingerprint_fd(fd, fp.size, fp.key) < 0) {
		return 0;
	}
	long tag;
	int r = sk_run_push_fingerprint(s, &fp, &tag);
	if (r == 0 && data && tag >= 0)
		r = sk_secret_values_add_content(s->values, data, len, (uint32_t)tag);
	return r < 0 ? r : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_hidden(const void *a, const void *b)
{
	return strcmp(((const sk_hidden_file *)a)->path, ((const sk_hidden_file *)b)->path);
}

static bool listed(char *const *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], path))
			return true;
	return false;
}

/* The session's denied files: their values become literals, their content
 * a fingerprint (a copy made before the denial is still that secret). */
static int denied_files(run_state *s)
{
	for (size_t i = 0; s->session && i < s->session->n_chains; i++) {
		const sk_session_chain *c = &s->session->chains[i];
		if (!c->denied || c->esc == SK_ESC_APPROVED || strcmp(c->type, "file"))
			continue;
		if (c->content) {
			run_fingerprint fp = { .size = c->size };
			snprintf(fp.key, sizeof(fp.key), "%s", c->content);
			if (push_fp(s, &fp) < 0)
				return -ENOMEM;
		}
		struct stat st;
		if (!c->path || stat(c->path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (fingerprint_file(s, c->path) < 0)
			return -ENOMEM;
		if (listed(s->env.secret_files, s->env.n_secret_files, c->path) ||
		    listed(s->extra_files, s->n_extra_files, c->path))
			continue;
		char **n = realloc(s->extra_files, (s->n_extra_files + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->extra_files = n;
		if (!(s->extra_files[s->n_extra_files] = strdup(c->path)))
			return -ENOMEM;
		s->n_extra_files++;
	}
	return 0;
}

/* Every regular file the sandbox hides: the real object behind its
 * stand-in, known to decide at that name too. */
static int hidden_table(run_state *s, sk_error *err)
{
	const sk_sandbox_config *cfg = &s->cfg;
	s->hidden = calloc(cfg->n_fs + 1, sizeof(*s->hidden));
	if (!s->hidden)
		return sk_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->n_fs; i++) {
		struct stat st;
		if (cfg->fs[i].access != SK_FS_HIDE || stat(cfg->fs[i].path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		sk_hidden_file *h = &s->hidden[s->n_hidden++];
		*h = (sk_hidden_file){ .path = cfg->fs[i].path, .dev = (uint64_t)st.st_dev, .ino = (uint64_t)st.st_ino };
		for (size_t k = 0; k < s->n_fps; k++)
			if (s->fps[k].dev == h->dev && s->fps[k].ino == h->ino) {
				h->content = s->fps[k].key;
				h->size = s->fps[k].size;
			}
		int r = sk_profile_add_ident(s->profile, h->dev, h->ino, h->path, err);
		if (r < 0)
			return r;
	}
	sk_sort(s->hidden, s->n_hidden, sizeof(*s->hidden), cmp_hidden);
	return 0;
}

/* The worktree a secret file belongs to: the nearest directory above it,
 * up to the workspace's top, with a .git entry (a submodule's, a nested
 * repository's). */
static void worktree_of(const char *path, const char *workspace, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s", path);
	for (char *slash; (slash = strrchr(out, '/')) && slash > out;) {
		*slash = '\0';
		char entry[PATH_MAX + 8];
		struct stat st;
		snprintf(entry, sizeof(entry), "%s/.git", out);
		if (lstat(entry, &st) == 0 || !strcmp(out, workspace))
			return;
	}
	snprintf(out, PATH_MAX, "%s", workspace);
}

/* Carriers found by git_carriers.c: carrier k holds the content of
 * fp[c[k].secret] (NULL: none of this run's). */
int sk_run_add_carriers(run_state *s, const sk_git_carrier *c, size_t n_c, const run_fingerprint *const *fp)
{
	if (!n_c)
		return 0;
	size_t cap = s->n_carriers;
	sk_carrier_file *v = sk_grow(s->carriers, &cap, s->n_carriers + n_c, sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->carriers = v;
	for (size_t k = 0; k < n_c; k++)
		if (fp[c[k].secret])
			s->carriers[s->n_carriers++] = (sk_carrier_file){ .dev = c[k].dev, .ino = c[k].ino,
									  .content = fp[c[k].secret]->key,
									  .size = fp[c[k].secret]->size };
	return 0;
}

/* Git's copies of secret files that their repository's index tracks
 * (git_carriers.c), each decided as the content of the secret it carries.
 * Only secrets with a fingerprint count: the content is how the
 * supervisor knows them.  One look per repository (the workspace's, a
 * submodule's). */
static int carrier_table(run_state *s, sk_error *err)
{
	size_t n_s = s->env.n_secret_files;
	const char **paths = calloc(n_s + 1, sizeof(*paths));
	const run_fingerprint **fps = calloc(n_s + 1, sizeof(*fps));
	char (*tops)[PATH_MAX] = calloc(n_s + 1, sizeof(*tops));
	bool *done = calloc(n_s + 1, sizeof(*done));
	const char **group = calloc(n_s + 1, sizeof(*group));
	const run_fingerprint **gfps = calloc(n_s + 1, sizeof(*gfps));
	size_t n = 0;
	int r = paths && fps && tops && done && group && gfps ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < n_s; i++) {
		struct stat st;
		const char *path = s->env.secret_files[i];
		if (!sk_path_beneath(path, s->workspace) || stat(path, &st) < 0)
			continue;
		for (size_t k = 0; k < s->n_fps; k++)
			if (s->fps[k].dev == (uint64_t)st.st_dev && s->fps[k].ino == (uint64_t)st.st_ino) {
				worktree_of(path, s->workspace, tops[n]);
				paths[n] = path;
				fps[n++] = &s->fps[k];
				break;
			}
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (done[i])
			continue;
		size_t m = 0;
		for (size_t k = i; k < n; k++)
			if (!done[k] && !strcmp(tops[k], tops[i])) {
				done[k] = true;
				gfps[m] = fps[k];
				group[m++] = paths[k];
			}
		sk_git_carrier *c = NULL;
		size_t n_c = 0;
		r = sk_git_secret_carriers(s->cache_dir, tops[i], group, m, &c, &n_c);
		if (r == 0)
			r = sk_run_add_carriers(s, c, n_c, gfps);
		free(c);
	}
	free(paths);
	free(fps);
	free(tops);
	free(done);
	free(group);
	free(gfps);
	return r < 0 ? sk_fail(err, -r, "cannot look for the secret files git keeps copies of") : 0;
}

static int approvals(run_state *s, sk_error *err)
{
	for (size_t i = 0; s->session && i < s->session->n_chains; i++) {
		const sk_session_chain *c = &s->session->chains[i];
		/* A file shown read-only; a command's executable back in place. */
		if (c->esc != SK_ESC_APPROVED || !c->path || c->path[0] != '/' ||
		    (strcmp(c->type, "file") && strcmp(c->type, "command")))
			continue;
		int r = sk_profile_env_reveal(&s->env, &s->cfg, c->path, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int sk_run_session_prepare(const sk_request *req, run_state *s, sk_error *err)
{
	if (sk_secret_values_new(&s->values) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < s->env.n_secret_files; i++)
		if (fingerprint_file(s, s->env.secret_files[i]) < 0)
			return sk_fail(err, ENOMEM, "out of memory");
	if (denied_files(s) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	int r = approvals(s, err);
	if (r < 0 || (r = hidden_table(s, err)) < 0 || (r = carrier_table(s, err)) < 0 ||
	    (r = sk_run_history_carriers(req, s, err)) < 0 || (r = sk_run_values_prepare(s, err)) < 0 ||
	    (r = sk_run_values_filter_env(req, s, err)) < 0 || (r = sk_run_pack_values(req, s, err)) < 0)
		return r;
	if (sk_value_memo_load(s) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	s->sizes = calloc(s->n_fps + 1, sizeof(*s->sizes));
	const char **keys = calloc(s->n_fps + 1, sizeof(*keys));
	if (!s->sizes || !keys) {
		free(keys);
		return sk_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < s->n_fps; i++) {
		s->sizes[i] = s->fps[i].size;
		keys[i] = s->fps[i].key;
	}
	sk_sort(s->sizes, s->n_fps, sizeof(*s->sizes), cmp_u64);
	size_t w = 0;
	for (size_t i = 0; i < s->n_fps; i++)
		if (!w || s->sizes[w - 1] != s->sizes[i])
			s->sizes[w++] = s->sizes[i];
	s->n_sizes = w;
	r = sk_session_view_build(s->session, keys, s->n_fps, &s->view);
	free(keys);
	return r < 0 ? sk_fail(err, -r, "cannot build the session view") : 0;
}

static const sk_file_ref *file_of(const sk_event *ev)
{
	return ev->kind == SK_EVENT_FILE ? &ev->file.file : ev->kind == SK_EVENT_COMMAND ? &ev->command.exe : NULL;
}

/* The entries of the view this event's decision read (its key and its
 * content key), as they were before it: enough for replay. */
static void reduced_view(run_state *s, const char *key, const char *content, sk_surface_state out[2],
			 sk_session_view *v)
{
	v->v = out;
	v->n = 0;
	const sk_surface_state *a = sk_session_view_find(&s->view, key);
	const sk_surface_state *b = content ? sk_session_view_find(&s->view, content) : NULL;
	if (a)
		out[v->n++] = *a;
	if (b && b != a)
		out[v->n++] = *b;
	if (v->n == 2 && strcmp(out[0].key, out[1].key) > 0) {
		sk_surface_state t = out[0];
		out[0] = out[1];
		out[1] = t;
	}
}

/* The content of a denied file, read here on the host (the sandbox could
 * not): its chain then knows it, and a copy met later joins the chain. */
static const char *denied_content(const sk_file_ref *f, char key[SK_FINGERPRINT_LEN + 1], uint64_t *size)
{
	if (!f || !f->has_identity || !f->path || f->path[0] != '/')
		return NULL;
	_cleanup_close_ int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_dev != f->dev ||
	    (uint64_t)st.st_ino != f->ino || st.st_size < FP_MIN || st.st_size > FP_MAX ||
	    sk_fingerprint_fd(fd, (uint64_t)st.st_size, key) < 0)
		return NULL;
	*size = (uint64_t)st.st_size;
	return key;
}

static const char *surface_type(const sk_event *ev)
{
	switch (ev->kind) {
	case SK_EVENT_FILE: return "file";
	case SK_EVENT_COMMAND: return "command";
	case SK_EVENT_CONNECT: return ev->connect.family == SK_NET_FAMILY_UNIX ? "file" : "net";
	case SK_EVENT_SYSCALL: return "syscall";
	case SK_EVENT_ENV: return "env";
	}
	return "unknown";
}

int sk_run_record_attempt(const sk_request *req, run_state *s, const sk_event *ev, const sk_verdict *v,
			  const char *op, const char *via, const char *content, uint64_t size,
			  sk_receipt_kind kind, const json_t *config, uint64_t *receipt_seq, sk_error *err)
{
	char key[SK_SURFACE_KEY_MAX];
	if (sk_surface_key(ev, key, sizeof(key)) < 0)
		return sk_fail(err, EINVAL, "an event without a surface key cannot be recorded");
	const sk_file_ref *f = file_of(ev);
	char fp[SK_FINGERPRINT_LEN + 1];
	if (!content && v->action != SK_ACTION_ALLOW && ev->kind == SK_EVENT_FILE)
		content = denied_content(f, fp, &size);
	sk_surface_state st[2];
	sk_session_view view;
	reduced_view(s, key, content, st, &view);
	uint32_t chain = 0, attempt = v->chain;
	if (s->session) {
		chain = sk_session_chain_of(s->session, key, content);
		const sk_session_chain *c = sk_session_chain_get(s->session, chain);
		attempt = c ? (uint32_t)c->n + 1 : 1;
		if (!chain)
			chain = (uint32_t)s->session->n_chains + 1;
	}
	char chain_id[16];
	snprintf(chain_id, sizeof(chain_id), "%u", chain);
	const char *paths[2] = { via, f ? f->path : NULL };
	size_t n_paths = via ? 1 : 0;
	if (f && f->path && (!via || strcmp(via, f->path)))
		paths[n_paths++] = f->path;
	json_t *evj = sk_audit_event_json(ev), *viewj = sk_audit_view_json(&view);
	sk_receipt rc = {
		.kind = kind, .session = req->session, .turn = s->turn ? s->turn : req->turn,
		.chain_id = s->session ? chain_id : NULL, .attempt = attempt,
		.surface = { .type = surface_type(ev), .key = key, .paths = paths + (paths[0] ? 0 : 1),
			     .n_paths = n_paths, .has_inode = f && f->has_identity,
			     .dev = f ? f->dev : 0, .ino = f ? f->ino : 0 },
		.event = { .syscall = op, .path = via, .cwd = s->cwd,
			   .argv = ev->kind == SK_EVENT_COMMAND ? ev->command.argv : NULL,
			   .argc = ev->kind == SK_EVENT_COMMAND ? ev->command.argc : 0 },
		.verdict = sk_action_name(v->action), .reason = sk_reason_name(v->reason), .rule = v->rule_id,
		.profile_digest = s->digest, .profile_text = s->canonical,
		.decide_event = evj, .state_view = viewj, .config = config,
	};
	char esc_id[SK_SESSION_ID_MAX + 16];
	if (v->action == SK_ACTION_ESCALATE && s->session) {
		snprintf(esc_id, sizeof(esc_id), "%s#%u", s->session->id, chain);
		rc.escalation.id = esc_id;
	}
	sk_receipt_id id = { 0 };
	int r = evj && viewj ? sk_audit_append(s->log, &rc, &id, err) : sk_fail(err, ENOMEM, "cannot encode the receipt");
	json_decref(evj);
	json_decref(viewj);
	if (r < 0)
		return r;
	if (receipt_seq)
		*receipt_seq = id.seq;
	if (s->session) {
		sk_session_event se = {
			.turn = s->turn, .type = surface_type(ev), .key = key, .content = content, .size = size,
			.op = op, .via = via, .path = f ? f->path : NULL, .verdict = v->action,
			.reason = sk_reason_name(v->reason), .rule = v->rule_id, .receipt = id.seq,
		};
		if ((r = sk_session_record(s->session, &se, &chain, &attempt, err)) < 0)
			return r;
	}
	bool denied = v->action != SK_ACTION_ALLOW;
	if (sk_session_view_bump(&s->view, key, denied) < 0 ||
	    (content && sk_session_view_bump(&s->view, content, denied) < 0))
		return sk_fail(err, ENOMEM, "out of memory");
	if (denied)
		s->denied_this_turn = true;
	if (v->action == SK_ACTION_ESCALATE && !s->escalated_chain)
		s->escalated_chain = chain ? chain : 1;
	return 0;
}

/* A destination that is an address of a domain the profile has a rule
 * for is decided as that domain (the strictest, if several share it), and
 * the event keeps the name for the record. */
static sk_verdict decide_named(run_state *s, sk_event *ev)
{
	const char *names[8];
	size_t k = sk_net_names_of(&s->net_names, ev, names, SK_ARRAY_LEN(names));
	if (!k)
		return sk_decide(s->profile, &s->view, ev);
	sk_verdict best = { 0 };
	const char *chosen = NULL;
	for (size_t i = 0; i < k; i++) {
		ev->connect.domain = names[i];
		sk_verdict v = sk_decide(s->profile, &s->view, ev);
		if (!chosen || sk_action_rank(v.action) > sk_action_rank(best.action)) {
			best = v;
			chosen = names[i];
		}
	}
	ev->connect.domain = chosen;
	return best;
}

/* In the sandbox's init: the profile, the view and the bound identities
 * are this process's copies.  A denial grows the view at once, so the next
 * path to the same surface in this very turn meets it sticky. */
static sk_verdict sup_decide(void *ctx, sk_event *ev)
{
	run_state *s = ctx;
	const char **aliases = s->aliases;   /* valid until the record is sent */
	sk_file_ref *f = ev->kind == SK_EVENT_FILE ? &ev->file.file : ev->kind == SK_EVENT_COMMAND ? &ev->command.exe : NULL;
	if (f && f->has_identity) {
		f->aliases = aliases;
		f->n_aliases = sk_profile_ident_paths(s->profile, f->dev, f->ino, aliases, MAX_ALIASES);
	}
	if (ev->kind == SK_EVENT_CONNECT && !ev->connect.domain)
		return decide_named(s, ev);
	sk_verdict v = sk_decide(s->profile, &s->view, ev);
	if (f && !f->has_identity && v.action != SK_ACTION_ALLOW) {
		/* A failed access to a bound name: decide (and key) it as that object. */
		for (size_t i = 0; i < s->profile->n_idents; i++)
			if (!strcmp(s->profile->idents[i].path, f->path)) {
				f->has_identity = true;
				f->dev = s->profile->idents[i].dev;
				f->ino = s->profile->idents[i].ino;
				f->aliases = aliases;
				f->n_aliases = sk_profile_ident_paths(s->profile, f->dev, f->ino, aliases, MAX_ALIASES);
				v = sk_decide(s->profile, &s->view, ev);
				break;
			}
	}
	return v;
}

/* In init too: a reported attempt grows this turn's view. */
static void sup_note(void *ctx, const sk_event *ev, const sk_verdict *v)
{
	run_state *s = ctx;
	char key[SK_SURFACE_KEY_MAX], ckey[SK_SURFACE_KEY_MAX];
	bool denied = v->action != SK_ACTION_ALLOW;
	if (sk_surface_key(ev, key, sizeof(key)) >= 0)
		sk_session_view_bump(&s->view, key, denied);
	if (sk_surface_content_key(ev, ckey, sizeof(ckey)) >= 0)
		sk_session_view_bump(&s->view, ckey, denied);
}

/* A refused open of git's copy of a secret: said once after the run, for
 * git's own message ("Permission denied", "corrupt") does not say why. */
static void note_carrier(run_state *s, const sk_sup_record *rec)
{
	const sk_file_ref *f = &rec->ev.file.file;
	if (s->carrier_refused || rec->ev.kind != SK_EVENT_FILE || rec->verdict.action == SK_ACTION_ALLOW ||
	    !f->has_identity)
		return;
	for (size_t i = 0; i < s->n_carriers; i++)
		if (s->carriers[i].dev == f->dev && s->carriers[i].ino == f->ino) {
			s->carrier_refused = true;
			return;
		}
}

static int sup_record(void *ctx, const sk_sup_record *rec, sk_error *err)
{
	run_state *s = ctx;
	note_carrier(s, rec);
	if (rec->by_value && rec->verdict.action != SK_ACTION_ALLOW && !s->value_refused[0] &&
	    rec->ev.kind == SK_EVENT_FILE && rec->ev.file.file.path)
		snprintf(s->value_refused, sizeof(s->value_refused), "%s", rec->ev.file.file.path);
	return sk_run_record_attempt(s->req, s, &rec->ev, &rec->verdict, rec->op, rec->via, rec->content,
				     rec->size, SK_RECEIPT_EVENT, NULL, NULL, err);
}

void sk_run_supervise(const sk_request *req, run_state *s)
{
	s->req = req;
	sk_net_names_init(&s->net_names, s->profile);
	s->cfg.sup = (sk_supervisor){
		.enabled = !req->no_supervise, .decide = sup_decide, .note = sup_note, .decide_ctx = s,
		.record = sup_record, .record_ctx = s, .hidden = s->hidden, .n_hidden = s->n_hidden,
		.carriers = s->carriers, .n_carriers = s->n_carriers,
		.sizes = s->sizes, .n_sizes = s->n_sizes,
		.values_in = sk_secret_values_count(s->values) ? sk_run_values_in : NULL,
		.known_content = sk_run_known_content,
		.values_min = sk_secret_values_min_len(s->values),
		.clean = s->value_memo.v, .n_clean = s->value_memo.n,
		.clean_seen = sk_value_memo_seen, .clean_ctx = &s->value_memo,
	};
}

int sk_run_session_end(const sk_request *req, run_state *s, const sk_run_result *res, sk_error *err)
{
	(void)req;
	if (!s->session || !s->denied_this_turn || (!res->timed_out && res->exit_code == 0))
		return 0;
	char why[32];
	if (res->timed_out)
		snprintf(why, sizeof(why), "timeout");
	else
		snprintf(why, sizeof(why), "exit %d", res->exit_code);
	return sk_session_soft_block(s->session, s->turn, why, err);
}

void sk_run_session_free(run_state *s)
{
	sk_session_view_free(&s->view);
	sk_session_free(s->session);
	for (size_t i = 0; i < s->n_extra_files; i++)
		free(s->extra_files[i]);
	free(s->extra_files);
	for (size_t i = 0; i < s->n_history_blobs; i++)
		free(s->history_blobs[i].data);
	free(s->history_blobs);
	sk_value_memo_free(&s->value_memo);
	free(s->fps);
	free(s->sizes);
	free(s->hidden);
	free(s->carriers);
	sk_secret_values_free(s->values);
}
