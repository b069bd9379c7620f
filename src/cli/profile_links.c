/* Other names of hidden files.  A mount hides a path; a hard link to the
 * same inode elsewhere in the workspace would still reach the content.
 * After the profile's rules are applied, the workspace is walked (bounded)
 * and every other name of a hidden regular file is hidden as well, and is
 * a secret when the original was one. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/cli.h"

enum { LINKS_MAX_DEPTH = 8, LINKS_MAX_ENTRIES = 50000, LINKS_MAX_IDS = 1024 };

typedef struct hidden_id {
	dev_t dev;
	ino_t ino;
	bool secret;
} hidden_id;

typedef struct link_walk {
	hidden_id ids[LINKS_MAX_IDS];
	size_t n_ids;
	unsigned entries;
	sk_profile_link_fn add;
	void *ctx;
} link_walk;

static const hidden_id *find_id(const link_walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->n_ids; i++)
		if (w->ids[i].dev == st->st_dev && w->ids[i].ino == st->st_ino)
			return &w->ids[i];
	return NULL;
}

static bool already_hidden(const sk_profile_env *env, const char *path)
{
	for (size_t i = 0; i < env->n_fs; i++)
		if (env->fs[i].access == SK_FS_HIDE && !strcmp(env->fs[i].path, path))
			return true;
	return false;
}

static int walk(link_walk *w, const sk_profile_env *env, const char *dir, int depth)
{
	if (depth > LINKS_MAX_DEPTH)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int r = 0;
	struct dirent *de;
	while (r == 0 && w->entries < LINKS_MAX_ENTRIES && (de = readdir(d))) {
		w->entries++;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char path[PATH_MAX];
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (de->d_type == DT_DIR) {
			r = walk(w, env, path, depth + 1);
			continue;
		}
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_nlink < 2)
			continue;
		const hidden_id *id = find_id(w, &st);
		if (id && !already_hidden(env, path))
			r = w->add(w->ctx, path, id->secret);
	}
	closedir(d);
	return r;
}

int sk_profile_hide_links(const sk_profile_env *env, const char *workspace, sk_profile_link_fn add, void *ctx)
{
	link_walk *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->add = add;
	w->ctx = ctx;
	for (size_t i = 0; i < env->n_fs && w->n_ids < LINKS_MAX_IDS; i++) {
		struct stat st;
		if (env->fs[i].access != SK_FS_HIDE || stat(env->fs[i].path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_nlink < 2)
			continue;
		bool secret = false;
		for (size_t j = 0; j < env->n_secret_files; j++)
			secret |= !strcmp(env->secret_files[j], env->fs[i].path);
		w->ids[w->n_ids++] = (hidden_id){ st.st_dev, st.st_ino, secret };
	}
	int r = w->n_ids && workspace ? walk(w, env, workspace, 0) : 0;
	free(w);
	return r;
}
