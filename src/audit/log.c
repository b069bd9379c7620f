/* The receipt log writer.  Each append runs under an exclusive flock on a
 * lock file beside the log (not the log itself: rotation renames it), reads
 * the tail to learn what to chain to, cuts a torn last line a crash left,
 * writes one whole canonical line with a single write(2) on an O_APPEND fd,
 * and fsyncs before returning. */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

struct sk_audit_log {
	char dir[4096];
	char path[4200];
	char host[256];
	int lock_fd;
	bool pending;           /* an sk_audit_append_nowait awaits its sync */
	int pending_fd;         /* the file to sync then, or -1 (synced already) */
	uint64_t checkpoint_every, rotate_bytes, torn_bytes;
	sk_audit_key key;
};

int sk_audit_open(const sk_audit_options *opt, sk_audit_log **out, sk_error *err)
{
	sk_audit_options none = { 0 };
	if (!opt)
		opt = &none;
	_cleanup_free_ sk_audit_log *log = calloc(1, sizeof(*log));
	if (!log)
		return sk_fail(err, ENOMEM, "out of memory");
	int r = sk_audit_state_dir(opt->state_dir, log->dir, sizeof(log->dir), err);
	if (r < 0)
		return r;
	r = sk_audit_key_load_or_create(log->dir, &log->key, err);
	if (r < 0)
		return r;
	snprintf(log->path, sizeof(log->path), "%s/%s", log->dir, SK_AUDIT_LOG_NAME);
	char lock[4200];
	snprintf(lock, sizeof(lock), "%s/receipts.lock", log->dir);
	log->pending_fd = -1;
	log->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (log->lock_fd < 0)
		return sk_fail_errno(err, errno, "cannot open the receipt lock %s", lock);
	if (opt->host)
		snprintf(log->host, sizeof(log->host), "%s", opt->host);
	else if (gethostname(log->host, sizeof(log->host) - 1) < 0)
		snprintf(log->host, sizeof(log->host), "unknown");
	log->checkpoint_every = opt->checkpoint_every ? opt->checkpoint_every : 1024;
	log->rotate_bytes = opt->rotate_bytes ? opt->rotate_bytes : 64ULL << 20;
	*out = sk_steal_ptr(log);
	return 0;
}

void sk_audit_close(sk_audit_log *log)
{
	if (!log)
		return;
	if (log->lock_fd >= 0)
		close(log->lock_fd);
	if (log->pending_fd >= 0)
		close(log->pending_fd);
	explicit_bzero(&log->key, sizeof(log->key));
	free(log);
}

uint64_t sk_audit_torn_bytes(const sk_audit_log *log) { return log->torn_bytes; }
const char *sk_audit_log_path(const sk_audit_log *log) { return log->path; }
const sk_audit_key *sk_audit_log_key(const sk_audit_log *log) { return &log->key; }

static void unlockp(int **fd)
{
	if (*fd)
		flock(**fd, LOCK_UN);
}

static int sync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -errno;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The open current file and its tail, under the lock. */
typedef struct session {
	sk_audit_log *log;
	int fd;
	sk_log_tail tail;
	bool nowait;            /* leave the fdatasync to sk_audit_sync_pending */
} session;

static int session_open(sk_audit_log *log, session *s, sk_error *err)
{
	s->log = log;
	s->fd = open(log->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (s->fd < 0)
		return sk_fail_errno(err, errno, "cannot open the receipt log %s", log->path);
	uint64_t cut = 0;
	int r = sk_log_cut_torn(s->fd, &cut, err);
	if (r < 0)
		return r;
	r = sk_log_read_tail(s->fd, log->path, &s->tail, err);
	if (r < 0)
		return r;
	if (!s->tail.have) {
		/* A fresh file: chain to the newest rotated one, if any. */
		char prev[4300];
		if (sk_log_newest_rotated(log->dir, prev, sizeof(prev)) == 0 && prev[0]) {
			_cleanup_close_ int pfd = open(prev, O_RDONLY | O_CLOEXEC);
			if (pfd < 0)
				return sk_fail_errno(err, errno, "cannot open %s", prev);
			r = sk_log_read_tail(pfd, prev, &s->tail, err);
			if (r < 0)
				return r;
			s->tail.leaves = 0;
			s->tail.last_is_checkpoint = false;
		}
		if (sync_dir(log->dir) < 0)
			return sk_fail_errno(err, errno, "cannot sync %s", log->dir);
	}
	log->torn_bytes += cut;   /* reported by a "recovery" record, see begin() */
	return (int)(cut > 0);
}

/* Seal rec as the next record and write it as one line; fsync. */
static int session_write(session *s, json_t *rec, bool is_leaf, sk_receipt_id *id, sk_error *err)
{
	sk_log_tail *t = &s->tail;
	uint64_t seq = t->have ? t->seq + 1 : 1;
	char zero[SK_HASH_HEX_LEN + 1];
	memset(zero, '0', SK_HASH_HEX_LEN);
	zero[SK_HASH_HEX_LEN] = '\0';
	int r = 0;
	r |= json_object_set_new(rec, "v", json_integer(SK_AUDIT_FORMAT));
	r |= json_object_set_new(rec, "seq", json_integer((json_int_t)seq));
	r |= json_object_set_new(rec, "time_ms", json_integer(now_ms()));
	r |= json_object_set_new(rec, "host", json_string(s->log->host));
	r |= json_object_set_new(rec, "prev", json_string(t->have ? t->hash : zero));
	if (is_leaf)
		r |= json_object_set_new(rec, "leaf", json_integer((json_int_t)t->leaves));
	if (r)
		return sk_fail(err, ENOMEM, "out of memory");
	r = sk_audit_seal(rec, &s->log->key, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	r = sk_jcs_serialize(rec, &line, &len, err);
	if (r < 0)
		return r;
	line[len] = '\n';   /* the NUL's place: one write(2) holds the whole line */
	r = sk_write_all(s->fd, line, len + 1);
	if (r == 0 && !s->nowait && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0) {
		/* Leave no partial line behind for the next writer to chain past. */
		uint64_t cut;
		sk_log_cut_torn(s->fd, &cut, NULL);
		return sk_fail_errno(err, -r, "cannot write the receipt to %s", s->log->path);
	}
	const char *hash = json_string_value(json_object_get(rec, "hash"));
	t->have = true;
	t->seq = seq;
	sk_line_hash(line, len, t->hash);
	t->last_is_checkpoint = !is_leaf;
	if (is_leaf)
		t->leaves++;
	if (id) {
		id->seq = seq;
		memcpy(id->hash, hash, sizeof(id->hash));
	}
	return 0;
}

static int write_checkpoint(session *s, const char *why, sk_error *err)
{
	sk_merkle m;
	int r = sk_log_load_tree(s->fd, s->log->path, &m, err);
	if (r < 0)
		return r;
	if (m.size != s->tail.leaves) {
		sk_merkle_free(&m);
		return sk_fail(err, EBADMSG, "%s: the tree holds %" PRIu64 " receipts, the tail says %" PRIu64
			       "; run 'stockade verify'", s->log->path, m.size, s->tail.leaves);
	}
	unsigned char root[32];
	char hex[65];
	sk_merkle_root(&m, root);
	sk_hex(root, 32, hex);
	json_t *rec = json_object();
	json_object_set_new(rec, "type", json_string("checkpoint"));
	json_object_set_new(rec, "reason", json_string(why));
	json_object_set_new(rec, "tree_size", json_integer((json_int_t)m.size));
	json_object_set_new(rec, "root", json_string(hex));
	json_object_set_new(rec, "frontier", sk_merkle_frontier_json(&m));
	sk_merkle_free(&m);
	r = session_write(s, rec, false, NULL, err);
	json_decref(rec);
	return r;
}

static int rotate(session *s, sk_error *err)
{
	if (!s->tail.last_is_checkpoint) {
		int r = write_checkpoint(s, "rotation", err);
		if (r < 0)
			return r;
	}
	char dest[4300];
	snprintf(dest, sizeof(dest), "%s/receipts-%020" PRIu64 ".jsonl", s->log->dir, s->tail.seq);
	if (rename(s->log->path, dest) < 0 || sync_dir(s->log->dir) < 0)
		return sk_fail_errno(err, errno, "cannot rotate %s to %s", s->log->path, dest);
	return 0;
}

static int recovery_record(session *s, uint64_t cut, sk_error *err)
{
	json_t *rec = json_object();
	json_object_set_new(rec, "type", json_string("recovery"));
	json_object_set_new(rec, "cut_bytes", json_integer((json_int_t)cut));
	int r = session_write(s, rec, true, NULL, err);
	json_decref(rec);
	return r;
}

/* Open, lock and recover: the common start of every write. */
static int begin(sk_audit_log *log, session *s, sk_error *err)
{
	uint64_t before = log->torn_bytes;
	int r = session_open(log, s, err);
	if (r < 0)
		return r;
	if (r > 0)
		r = recovery_record(s, log->torn_bytes - before, err);
	return r;
}

static int append(sk_audit_log *log, const sk_receipt *receipt, bool nowait, sk_receipt_id *out_id, sk_error *err)
{
	_cleanup_(json_decrefp) json_t *rec = sk_receipt_to_json(receipt, err);
	if (!rec)
		return -EINVAL;
	if (log->pending)
		return sk_fail(err, EBUSY, "a receipt is still waiting for sk_audit_sync_pending");
	if (receipt->profile_digest && receipt->profile_text) {
		int r = sk_evidence_put_profile(log->dir, receipt->profile_digest, receipt->profile_text, err);
		if (r < 0)
			return r;
	}
	if (flock(log->lock_fd, LOCK_EX) < 0)
		return sk_fail_errno(err, errno, "cannot lock the receipt log");
	_cleanup_(unlockp) int *locked = &log->lock_fd;
	session s = { .fd = -1 };
	int r = begin(log, &s, err);
	_cleanup_close_ int fd = s.fd;
	if (r < 0)
		return r;
	s.nowait = nowait && s.tail.leaves % log->checkpoint_every != log->checkpoint_every - 1;
	r = session_write(&s, rec, true, out_id, err);
	if (r < 0)
		return r;
	if (s.tail.leaves % log->checkpoint_every == 0)
		r = write_checkpoint(&s, "interval", err);
	struct stat st;
	if (r == 0 && fstat(fd, &st) == 0 && (uint64_t)st.st_size >= log->rotate_bytes) {
		s.nowait = false;
		if ((r = fdatasync(fd) < 0 ? sk_fail_errno(err, errno, "cannot sync %s", log->path) : 0) == 0)
			r = rotate(&s, err);
	} else if (r == 0 && s.nowait) {
		log->pending_fd = sk_steal_fd(&fd);   /* sk_audit_sync_pending syncs it */
	}
	log->pending = r == 0 && nowait;
	(void)locked;
	return r;
}

int sk_audit_append(sk_audit_log *log, const sk_receipt *receipt, sk_receipt_id *out_id,
		    sk_error *err)
{
	return append(log, receipt, false, out_id, err);
}

int sk_audit_append_nowait(sk_audit_log *log, const sk_receipt *receipt, sk_receipt_id *out_id, sk_error *err)
{
	return append(log, receipt, true, out_id, err);
}

int sk_audit_sync_pending(sk_audit_log *log, sk_error *err)
{
	log->pending = false;
	if (log->pending_fd < 0)
		return 0;
	int r = fdatasync(log->pending_fd) < 0 ? -errno : 0;
	close(log->pending_fd);
	log->pending_fd = -1;
	return r < 0 ? sk_fail_errno(err, -r, "cannot sync the receipt to %s", log->path) : 0;
}

int sk_audit_checkpoint(sk_audit_log *log, sk_error *err)
{
	if (flock(log->lock_fd, LOCK_EX) < 0)
		return sk_fail_errno(err, errno, "cannot lock the receipt log");
	_cleanup_(unlockp) int *locked = &log->lock_fd;
	session s = { .fd = -1 };
	int r = begin(log, &s, err);
	_cleanup_close_ int fd = s.fd;
	(void)locked;
	if (r < 0)
		return r;
	return write_checkpoint(&s, "request", err);
}

int sk_audit_rotate(sk_audit_log *log, sk_error *err)
{
	if (flock(log->lock_fd, LOCK_EX) < 0)
		return sk_fail_errno(err, errno, "cannot lock the receipt log");
	_cleanup_(unlockp) int *locked = &log->lock_fd;
	session s = { .fd = -1 };
	int r = begin(log, &s, err);
	_cleanup_close_ int fd = s.fd;
	(void)locked;
	if (r < 0)
		return r;
	if (!s.tail.have || s.tail.leaves == 0)
		return 0;   /* nothing to rotate */
	return rotate(&s, err);
}
