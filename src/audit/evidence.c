/* The evidence store: every profile a receipt names, kept by digest beside
 * the log (<state>/evidence/profiles/<digest>.profile) so that replay needs
 * nothing else.  Files are written once, atomically, and never changed. */
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/audit.h"

/* Digests name files: allow only [A-Za-z0-9:_.-], ':' becoming '-'. */
static int profile_path(const char *state_dir, const char *digest, char *out, size_t n,
			sk_error *err)
{
	char name[160];
	size_t len = strlen(digest);
	if (len == 0 || len >= sizeof(name) || digest[0] == '.')
		return sk_fail(err, EINVAL, "bad profile digest '%s'", digest);
	for (size_t i = 0; i <= len; i++) {
		char c = digest[i];
		if (c == ':')
			c = '-';
		else if (c && !(c == '_' || c == '-' || c == '.' || (c >= '0' && c <= '9') ||
				(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return sk_fail(err, EINVAL, "bad character in profile digest '%s'", digest);
		name[i] = c;
	}
	if (snprintf(out, n, "%s/evidence/profiles/%s.profile", state_dir, name) >= (int)n)
		return sk_fail(err, ENAMETOOLONG, "state directory path too long");
	return 0;
}

/* A "sha256:<hex>" digest must be the SHA-256 of the text; others are opaque. */
static int check_digest(const char *digest, const char *text, size_t len, sk_error *err)
{
	if (strncmp(digest, "sha256:", 7))
		return 0;
	unsigned char h[32];
	char hex[65];
	crypto_hash_sha256(h, (const unsigned char *)text, len);
	sk_hex(h, 32, hex);
	if (strcmp(hex, digest + 7))
		return sk_fail(err, EBADMSG, "profile text does not match its digest %s (it hashes to sha256:%s)",
			       digest, hex);
	return 0;
}

int sk_evidence_put_profile(const char *state_dir, const char *digest, const char *text,
			    sk_error *err)
{
	char path[4400];
	int r = profile_path(state_dir, digest, path, sizeof(path), err);
	if (r < 0)
		return r;
	size_t len = strlen(text);
	r = check_digest(digest, text, len, err);
	if (r < 0)
		return r;
	if (access(path, F_OK) == 0)
		return 0;   /* content-addressed: already there */
	char dir[4400];
	snprintf(dir, sizeof(dir), "%s/evidence/profiles", state_dir);
	r = sk_mkdir_p(dir, 0700);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot create %s", dir);
	char tmp[4500];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_fail_errno(err, errno, "cannot create %s", tmp);
	r = sk_write_all(fd, text, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return sk_fail_errno(err, -r, "cannot store the profile %s", path);
	}
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0)
		return sk_fail_errno(err, errno, "cannot sync %s", dir);
	return 0;
}

int sk_evidence_get_profile(const char *state_dir, const char *digest, char **text,
			    sk_error *err)
{
	char path[4400];
	int r = profile_path(state_dir, digest, path, sizeof(path), err);
	if (r < 0)
		return r;
	size_t len = 0;
	r = sk_read_file(path, 16 << 20, text, &len);
	if (r == -ENOENT)
		return sk_fail(err, ENOENT, "profile %s is not in the evidence store %s/evidence", digest,
			       state_dir);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot read %s", path);
	r = check_digest(digest, *text, len, err);
	if (r < 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}
