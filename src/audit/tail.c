/* Reading the end of a receipt log: the torn line a crash may leave, the
 * last record (what the next one chains to), and the Merkle frontier as of
 * the last checkpoint.  Callers hold the log's lock. */
#include <dirent.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static int pread_all(int fd, char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

static int file_size(int fd, off_t *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*size = st.st_size;
	return 0;
}

int sk_log_cut_torn(int fd, uint64_t *cut, sk_error *err)
{
	off_t size = 0;
	*cut = 0;
	int r = file_size(fd, &size);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot stat the receipt log");
	off_t end = size;
	char buf[4096];
	while (end > 0) {
		size_t chunk = end < (off_t)sizeof(buf) ? (size_t)end : sizeof(buf);
		r = pread_all(fd, buf, chunk, end - (off_t)chunk);
		if (r < 0)
			return sk_fail_errno(err, -r, "cannot read the receipt log");
		if (end == size && buf[chunk - 1] == '\n')
			return 0;   /* intact */
		char *nl = memrchr(buf, '\n', chunk);
		if (nl) {
			end = end - (off_t)chunk + (nl - buf) + 1;
			break;
		}
		end -= (off_t)chunk;
	}
	if (end == size)
		return 0;
	if (ftruncate(fd, end) < 0 || fsync(fd) < 0)
		return sk_fail_errno(err, errno, "cannot cut the torn last line of the receipt log");
	*cut = (uint64_t)(size - end);
	return 0;
}

json_t *sk_log_parse_line(const char *line, size_t len, sk_error *err)
{
	json_error_t jerr;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!rec) {
		sk_fail(err, EBADMSG, "not JSON: %s (column %d)", jerr.text, jerr.column);
		return NULL;
	}
	if (!json_is_object(rec)) {
		json_decref(rec);
		sk_fail(err, EBADMSG, "not a JSON object");
		return NULL;
	}
	return rec;
}

bool sk_log_is(const json_t *rec, const char *type)
{
	const char *t = json_string_value(json_object_get(rec, "type"));
	return t && !strcmp(t, type);
}

/* Read [off, size) into a NUL-terminated malloc'd buffer. */
static int read_region(int fd, off_t off, off_t size, char **out)
{
	char *buf = malloc((size_t)(size - off) + 1);
	if (!buf)
		return -ENOMEM;
	int r = pread_all(fd, buf, (size_t)(size - off), off);
	if (r < 0) {
		free(buf);
		return r;
	}
	buf[size - off] = '\0';
	*out = buf;
	return 0;
}

int sk_log_read_tail(int fd, const char *path, sk_log_tail *t, sk_error *err)
{
	off_t size = 0;
	memset(t, 0, sizeof(*t));
	int r = file_size(fd, &size);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot stat %s", path);
	if (size == 0)
		return 0;
	/* Grow the window until it holds the whole last line. */
	for (off_t win = 8192;; win *= 2) {
		off_t off = size > win ? size - win : 0;
		_cleanup_free_ char *buf = NULL;
		r = read_region(fd, off, size, &buf);
		if (r < 0)
			return sk_fail_errno(err, -r, "cannot read %s", path);
		size_t len = (size_t)(size - off) - 1;   /* drop the final '\n' */
		char *nl = memrchr(buf, '\n', len);
		if (!nl && off > 0)
			continue;
		const char *line = nl ? nl + 1 : buf;
		_cleanup_(json_decrefp) json_t *rec = sk_log_parse_line(line, (size_t)(buf + len - line), err);
		if (!rec)
			return sk_fail(err, EBADMSG, "%s: the last record is damaged (%s); "
				       "run 'stockade verify' and move the log aside", path, err ? err->msg : "");
		json_t *seq = json_object_get(rec, "seq");
		const char *hash = json_string_value(json_object_get(rec, "hash"));
		if (!json_is_integer(seq) || !hash || strlen(hash) != SK_HASH_HEX_LEN)
			return sk_fail(err, EBADMSG, "%s: the last record has no seq or hash", path);
		t->have = true;
		t->seq = (uint64_t)json_integer_value(seq);
		sk_line_hash(line, (size_t)(buf + len - line), t->hash);
		t->last_is_checkpoint = sk_log_is(rec, "checkpoint");
		json_t *n = json_object_get(rec, t->last_is_checkpoint ? "tree_size" : "leaf");
		t->leaves = (uint64_t)json_integer_value(n) + (t->last_is_checkpoint ? 0 : 1);
		return 0;
	}
}

/* Add the receipts of buf (lines from a line start) to m; stop at none. */
static int add_lines(sk_merkle *m, char *buf, const char *path, sk_error *err)
{
	for (char *line = buf; *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		_cleanup_(json_decrefp) json_t *rec = sk_log_parse_line(line, len, err);
		if (!rec)
			return -EBADMSG;
		if (!sk_log_is(rec, "checkpoint")) {
			unsigned char h[32];
			sk_sha256((const unsigned char *)line, len, h);
			if (sk_merkle_add(m, h) < 0)
				return sk_fail(err, ENOMEM, "out of memory");
		}
		line = nl ? nl + 1 : line + len;
	}
	return 0;
}

/* The start of the last checkpoint line in buf (from a line start), or NULL. */
static char *last_checkpoint(char *buf, size_t len, json_t **rec)
{
	const char marker[] = "\"type\":\"checkpoint\"";
	char *end = buf + len;
	while (end > buf) {
		char *nl = memrchr(buf, '\n', (size_t)(end - buf - 1 > 0 ? end - buf - 1 : 0));
		char *line = nl ? nl + 1 : buf;
		if (memmem(line, (size_t)(end - line), marker, sizeof(marker) - 1)) {
			json_t *r = sk_log_parse_line(line, (size_t)(end - line), NULL);
			if (r && sk_log_is(r, "checkpoint")) {
				*rec = r;
				return line;
			}
			json_decref(r);
		}
		end = line;
		if (line == buf)
			break;
	}
	return NULL;
}

int sk_log_load_tree(int fd, const char *path, sk_merkle *m, sk_error *err)
{
	off_t size = 0;
	sk_merkle_init(m);
	int r = file_size(fd, &size);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot stat %s", path);
	for (off_t win = 1 << 20;; win *= 2) {
		off_t off = size > win ? size - win : 0;
		_cleanup_free_ char *buf = NULL;
		r = read_region(fd, off, size, &buf);
		if (r < 0)
			return sk_fail_errno(err, -r, "cannot read %s", path);
		char *start = buf;
		if (off > 0) {   /* skip the partial first line */
			start = strchr(buf, '\n');
			if (!start)
				continue;
			start++;
		}
		json_t *cp = NULL;
		char *line = last_checkpoint(start, strlen(start), &cp);
		if (!line && off > 0)
			continue;
		if (line) {
			json_t *size_v = json_object_get(cp, "tree_size");
			r = sk_merkle_from_frontier(m, (uint64_t)json_integer_value(size_v),
						    json_object_get(cp, "frontier"));
			json_decref(cp);
			if (r < 0)
				return sk_fail(err, EBADMSG, "%s: the last checkpoint has a bad frontier", path);
			start = strchr(line, '\n');
			start = start ? start + 1 : line + strlen(line);
		}
		return add_lines(m, start, path, err);
	}
}

void sk_line_hash(const char *line, size_t len, char hex[SK_HASH_HEX_LEN + 1])
{
	unsigned char h[32];
	sk_sha256((const unsigned char *)line, len, h);
	sk_hex(h, 32, hex);
}

int sk_log_newest_rotated(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	char best[256] = "";
	out[0] = '\0';
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len == strlen("receipts-") + 20 + strlen(".jsonl") && !strncmp(e->d_name, "receipts-", 9) &&
		    !strcmp(e->d_name + len - 6, ".jsonl") && strcmp(e->d_name, best) > 0)
			snprintf(best, sizeof(best), "%s", e->d_name);
	}
	closedir(d);
	if (best[0] && snprintf(out, n, "%s/%s", dir, best) >= (int)n)
		return -ENAMETOOLONG;
	return 0;
}
