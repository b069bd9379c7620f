/* The session journal on disk: open, fold, append under an exclusive
 * flock, fsync.  See include/stockade/session.h for the format. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "internal.h"

enum { MAX_LINE = 1 << 20 };

static int lock(sk_session *s, sk_error *err)
{
	while (flock(s->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return sk_fail_errno(err, errno, "cannot lock %s", s->journal);
	return 0;
}

static void unlock(sk_session *s)
{
	flock(s->fd, LOCK_UN);
}

/* Fold every complete line past s->offset.  A last line without its
 * newline is a torn append: left for the next append to cut off. */
static int sync_journal(sk_session *s, sk_error *err)
{
	struct stat st;
	if (fstat(s->fd, &st) < 0)
		return sk_fail_errno(err, errno, "cannot stat %s", s->journal);
	if ((uint64_t)st.st_size <= s->offset)
		return 0;
	size_t len = (size_t)((uint64_t)st.st_size - s->offset);
	_cleanup_free_ char *buf = malloc(len + 1);
	if (!buf)
		return sk_fail(err, ENOMEM, "out of memory");
	ssize_t got = pread(s->fd, buf, len, (off_t)s->offset);
	if (got < 0)
		return sk_fail_errno(err, errno, "cannot read %s", s->journal);
	buf[got] = '\0';
	char *p = buf, *end = buf + got;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		s->line++;
		json_error_t je;
		json_t *o = json_loads(p, JSON_REJECT_DUPLICATES, &je);
		sk_error e = { 0 };
		int r = o ? sk_session_fold(s, o, &e) : sk_fail(&e, EBADMSG, "%s", je.text);
		json_decref(o);
		if (r < 0)
			return sk_fail(err, EBADMSG, "%s:%llu: %s; the session journal is damaged — "
				       "start a new session or remove that line", s->journal,
				       (unsigned long long)s->line, e.msg);
		s->offset += (uint64_t)(nl + 1 - p);
		p = nl + 1;
	}
	return 0;
}

int sk_session_open(const char *state_dir, const char *id, bool create, sk_session **out, sk_error *err)
{
	if (!sk_session_id_valid(id))
		return sk_fail(err, EINVAL, "invalid session id '%s': use 1 to %d of A-Z a-z 0-9 . _ : -, "
			       "not starting with . or -", id ? id : "", SK_SESSION_ID_MAX);
	sk_session *s = calloc(1, sizeof(*s));
	if (!s)
		return sk_fail(err, ENOMEM, "out of memory");
	s->fd = -1;
	int r;
	char dir[PATH_MAX], journal[PATH_MAX + 16];
	if (snprintf(dir, sizeof(dir), "%s/sessions/%s", state_dir, id) >= (int)sizeof(dir)) {
		r = sk_fail(err, ENAMETOOLONG, "state directory path too long");
		goto fail;
	}
	snprintf(journal, sizeof(journal), "%s/journal.jsonl", dir);
	if (!(s->id = strdup(id)) || !(s->dir = strdup(dir)) || !(s->journal = strdup(journal))) {
		r = sk_fail(err, ENOMEM, "out of memory");
		goto fail;
	}
	if (create && (r = sk_mkdir_p(s->dir, 0700)) < 0) {
		r = sk_fail_errno(err, -r, "cannot create %s", s->dir);
		goto fail;
	}
	s->fd = open(s->journal, O_RDWR | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (s->fd < 0) {
		r = errno == ENOENT ? sk_fail(err, ENOENT, "no session '%s' in %s", id, state_dir)
				    : sk_fail_errno(err, errno, "cannot open %s", s->journal);
		goto fail;
	}
	if ((r = lock(s, err)) < 0)
		goto fail;
	r = sync_journal(s, err);
	unlock(s);
	if (r < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	sk_session_free(s);
	return r;
}

/* Under the lock: cut a torn tail, fold what others wrote, append, fsync. */
static int append(sk_session *s, json_t *rec, sk_error *err)
{
	_cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return sk_fail(err, ENOMEM, "cannot encode a session record");
	size_t len = strlen(text);
	if (len + 1 > MAX_LINE)
		return sk_fail(err, E2BIG, "session record too large");
	text[len] = '\n';
	int r = sync_journal(s, err);
	struct stat st;
	if (r == 0 && fstat(s->fd, &st) == 0 && (uint64_t)st.st_size > s->offset &&
	    ftruncate(s->fd, (off_t)s->offset) < 0)
		r = sk_fail_errno(err, errno, "cannot cut the torn end of %s", s->journal);
	if (r == 0 && (sk_write_all(s->fd, text, len + 1) < 0 || fdatasync(s->fd) < 0))
		r = sk_fail_errno(err, errno, "cannot write %s", s->journal);
	text[len] = '\0';
	if (r == 0)
		r = sync_journal(s, err);
	return r;
}

static int append_locked(sk_session *s, json_t *rec, sk_error *err)
{
	if (!rec)
		return sk_fail(err, ENOMEM, "out of memory");
	int r = lock(s, err);
	if (r == 0) {
		r = append(s, rec, err);
		unlock(s);
	}
	json_decref(rec);
	return r;
}

static json_t *argv_json(char *const *argv)
{
	json_t *a = json_array();
	for (size_t i = 0; a && argv && argv[i] && i < 64; i++)
		json_array_append_new(a, json_stringn_nocheck(argv[i], strnlen(argv[i], 4096)));
	return a;
}

int sk_session_begin_turn(sk_session *s, char *const *argv, uint32_t *turn, sk_error *err)
{
	int r = lock(s, err);
	if (r < 0)
		return r;
	if ((r = sync_journal(s, err)) == 0) {
		json_t *rec = json_pack("{s:s, s:I, s:o}", "t", "turn", "turn", (json_int_t)s->turns + 1,
					"argv", argv_json(argv));
		r = rec ? append(s, rec, err) : sk_fail(err, ENOMEM, "out of memory");
		json_decref(rec);
		*turn = s->turns;
	}
	unlock(s);
	return r;
}

static void put(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_stringn_nocheck(v, strnlen(v, PATH_MAX)));
}

int sk_session_record(sk_session *s, const sk_session_event *e, uint32_t *chain, uint32_t *attempt,
		      sk_error *err)
{
	json_t *o = json_pack("{s:s, s:I, s:s, s:s}", "t", "attempt", "turn", (json_int_t)e->turn,
			      "key", e->key, "verdict", sk_action_name(e->verdict));
	if (o) {
		put(o, "type", e->type);
		put(o, "content", e->content);
		put(o, "op", e->op);
		put(o, "via", e->via);
		put(o, "path", e->path);
		put(o, "reason", e->reason);
		put(o, "rule", e->rule);
		if (e->content)
			json_object_set_new(o, "size", json_integer((json_int_t)e->size));
		if (e->receipt)
			json_object_set_new(o, "receipt", json_integer((json_int_t)e->receipt));
	}
	int r = append_locked(s, o, err);
	if (r < 0)
		return r;
	uint32_t id = sk_session_chain_of(s, e->key, e->content);
	const sk_session_chain *c = sk_session_chain_get(s, id);
	if (chain)
		*chain = id;
	if (attempt)
		*attempt = c ? (uint32_t)c->n : 0;
	return 0;
}

int sk_session_soft_block(sk_session *s, uint32_t turn, const char *why, sk_error *err)
{
	return append_locked(s, json_pack("{s:s, s:I, s:s}", "t", "soft", "turn", (json_int_t)turn, "why", why), err);
}

int sk_session_decide(sk_session *s, uint32_t chain, bool approve, const char *reason, const char *by,
		      sk_error *err)
{
	int r = lock(s, err);
	if (r < 0)
		return r;
	if ((r = sync_journal(s, err)) == 0 && !sk_session_chain_get(s, chain))
		r = sk_fail(err, ENOENT, "session '%s' has no chain %u (see `stockade session show %s`)",
			    s->id, chain, s->id);
	if (r == 0) {
		json_t *o = json_pack("{s:s, s:I, s:s, s:I}", "t", "decision", "chain", (json_int_t)chain,
				      "decision", approve ? "approve" : "deny", "turn", (json_int_t)s->turns);
		if (o) {
			put(o, "reason", reason);
			put(o, "by", by);
		}
		r = o ? append(s, o, err) : sk_fail(err, ENOMEM, "out of memory");
		json_decref(o);
	}
	unlock(s);
	return r;
}
