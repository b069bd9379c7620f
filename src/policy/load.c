/* Profiles from files: the search path, the file loader for includes, and
 * sk_profile_load.  This file does I/O; the parser itself does not. */
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#ifndef STOCKADE_SYSCONFDIR
#define STOCKADE_SYSCONFDIR "/etc"
#endif

void sk_strv_free(char **v)
{
	if (!v)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

char **sk_profile_search_dirs(void)
{
	char **v = calloc(1, sizeof(char *));
	size_t n = 0;
	char buf[PATH_MAX + 64];
	int r = 0;
	if (!v)
		return NULL;
	const char *env = getenv("STOCKADE_PROFILE_PATH");
	if (env) {
		_cleanup_free_ char *copy = strdup(env);
		char *save = NULL;
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && r == 0; d = strtok_r(NULL, ":", &save))
			r = strv_push(&v, &n, d);
	}
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (r == 0 && xdg && xdg[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/stockade/profiles", xdg);
		r = strv_push(&v, &n, buf);
	} else if (r == 0 && home && home[0] == '/') {
		snprintf(buf, sizeof(buf), "%s/.config/stockade/profiles", home);
		r = strv_push(&v, &n, buf);
	}
	if (r == 0)
		r = strv_push(&v, &n, "/etc/stockade/profiles");
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (r == 0 && len > 0) {
		exe[len] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, sizeof(buf), "%s/../profiles", exe);
			char real[PATH_MAX];
			r = strv_push(&v, &n, realpath(buf, real) ? real : buf);
		}
	}
	if (r == 0 && strcmp(STOCKADE_SYSCONFDIR, "/etc"))
		r = strv_push(&v, &n, STOCKADE_SYSCONFDIR "/stockade/profiles");
	if (r < 0) {
		sk_strv_free(v);
		return NULL;
	}
	return v;
}

static bool valid_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/') && strlen(name) < NAME_MAX;
}

int sk_profile_find(const char *name, char *out, size_t out_len)
{
	if (!valid_name(name))
		return -EINVAL;
	char **dirs = sk_profile_search_dirs();
	if (!dirs)
		return -ENOMEM;
	int r = -ENOENT;
	for (char **d = dirs; *d; d++) {
		char path[PATH_MAX + NAME_MAX + 2];
		snprintf(path, sizeof(path), "%s/%s", *d, name);
		struct stat st;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			r = snprintf(out, out_len, "%s", path) < (int)out_len ? 0 : -ENAMETOOLONG;
			break;
		}
	}
	sk_strv_free(dirs);
	return r;
}

/* Read one profile file: its text, a display path and its identity. */
static int read_profile(const char *path, sk_profile_text *out, sk_error *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sk_fail_errno(err, errno, "cannot open profile %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return sk_fail_errno(err, errno, "cannot stat profile %s", path);
	if (!S_ISREG(st.st_mode))
		return sk_fail(err, EINVAL, "profile %s is not a regular file", path);
	if (st.st_size > SK_PROFILE_MAX_BYTES)
		return sk_fail(err, EFBIG, "profile %s is larger than %d bytes", path, SK_PROFILE_MAX_BYTES);
	char key[64];
	snprintf(key, sizeof(key), "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	int r = sk_read_file(fdpath, SK_PROFILE_MAX_BYTES, &out->text, &out->len);
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot read profile %s", path);
	char real[PATH_MAX];
	out->path = strdup(path[0] == '/' && realpath(path, real) ? real : path);
	out->key = strdup(key);
	if (!out->path || !out->key)
		return sk_fail(err, ENOMEM, "out of memory");
	return 0;
}

int sk_profile_file_loader(void *ctx, const char *from_path, const char *ref,
			   sk_profile_text *out, sk_error *err)
{
	(void)ctx;
	char path[PATH_MAX + NAME_MAX + 2];
	const char *slash = from_path ? strrchr(from_path, '/') : NULL;
	int dirlen = slash ? (int)(slash - from_path) : 1;
	const char *dir = slash ? from_path : ".";
	if (ref[0] == '/') {
		snprintf(path, sizeof(path), "%s", ref);
	} else {
		snprintf(path, sizeof(path), "%.*s/%s", dirlen, dir, ref);
		struct stat st;
		if (!strchr(ref, '/') && stat(path, &st) < 0) {
			if (sk_profile_find(ref, path, sizeof(path)) < 0)
				return sk_fail(err, ENOENT, "no profile named '%s' next to %s or on the search path",
					       ref, from_path ? from_path : ".");
		}
	}
	int r = read_profile(path, out, err);
	if (r < 0)
		sk_profile_text_clear(out);
	return r;
}

static void default_vars(sk_profile_vars *v, char *cwd, size_t cwd_len, char *uid, size_t uid_len)
{
	v->home = getenv("HOME");
	if (!v->home || v->home[0] != '/') {
		struct passwd *pw = getpwuid(getuid());
		v->home = pw ? pw->pw_dir : NULL;
	}
	v->workspace = getcwd(cwd, cwd_len);
	snprintf(uid, uid_len, "%u", (unsigned)getuid());
	v->uid = uid;
}

int sk_profile_load(const char *name_or_file, const sk_profile_vars *vars,
		    sk_profile **out, sk_error *err)
{
	char path[PATH_MAX + NAME_MAX + 2];
	*out = NULL;
	if (strchr(name_or_file, '/')) {
		snprintf(path, sizeof(path), "%s", name_or_file);
	} else {
		int r = sk_profile_find(name_or_file, path, sizeof(path));
		if (r == -EINVAL)
			return sk_fail(err, EINVAL, "'%s' is not a profile name (a FILE needs a '/', e.g. ./%s)",
				       name_or_file, name_or_file);
		if (r < 0)
			return sk_fail(err, ENOENT, "no profile named '%s' ('stockade profile list' shows the search path)",
				       name_or_file);
	}
	sk_profile_text t = { 0 };
	int r = read_profile(path, &t, err);
	if (r == 0) {
		sk_profile_vars dv;
		char cwd[PATH_MAX], uid[16];
		if (!vars) {
			default_vars(&dv, cwd, sizeof(cwd), uid, sizeof(uid));
			vars = &dv;
		}
		/* Messages name the file as the user spelled it, when given. */
		const char *shown = strchr(name_or_file, '/') ? name_or_file : t.path;
		r = sk_profile_parse_keyed(shown, t.key, t.text, t.len, vars,
					   sk_profile_file_loader, NULL, out, err);
	}
	sk_profile_text_clear(&t);
	return r;
}
