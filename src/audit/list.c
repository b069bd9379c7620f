/* Finding the log files of a state directory, in chain order. */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "stockade/audit.h"

void sk_audit_files_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push(char ***v, size_t *n, char *s)
{
	if (!s)
		return -ENOMEM;
	char **nv = realloc(*v, (*n + 1) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

static bool is_rotated(const char *name)
{
	size_t len = strlen(name);
	return len == 9 + 20 + 6 && !strncmp(name, "receipts-", 9) && !strcmp(name + len - 6, ".jsonl") &&
	       strspn(name + 9, "0123456789") == 20;
}

static int list_into(const char *dir, char ***v, size_t *n, sk_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return sk_fail_errno(err, errno, "cannot open the log directory %s", dir);
	size_t first = *n;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (!is_rotated(e->d_name))
			continue;
		char *p = NULL;
		r = asprintf(&p, "%s/%s", dir, e->d_name) < 0 ? -ENOMEM : push(v, n, p);
	}
	closedir(d);
	if (r < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	sk_sort(*v + first, *n - first, sizeof(char *), cmp_str);   /* zero-padded: by seq */
	char *cur = NULL;
	if (asprintf(&cur, "%s/%s", dir, SK_AUDIT_LOG_NAME) < 0)
		return sk_fail(err, ENOMEM, "out of memory");
	struct stat st;
	if (stat(cur, &st) == 0 && st.st_size > 0)
		return push(v, n, cur) < 0 ? sk_fail(err, ENOMEM, "out of memory") : 0;
	free(cur);
	if (*n == first)
		return sk_fail(err, ENOENT, "no receipt log in %s", dir);
	return 0;
}

int sk_audit_list_logs(const char *dir, char ***files, size_t *n, sk_error *err)
{
	*files = NULL;
	*n = 0;
	int r = list_into(dir, files, n, err);
	if (r < 0) {
		sk_audit_files_free(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return r;
}

int sk_audit_expand_logs(const char *const *args, size_t n_args, char ***files, size_t *n,
			 sk_error *err)
{
	*files = NULL;
	*n = 0;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n_args; i++) {
		struct stat st;
		if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
			r = list_into(args[i], files, n, err);
		else if (push(files, n, strdup(args[i])) < 0)
			r = sk_fail(err, ENOMEM, "out of memory");
	}
	if (r < 0) {
		sk_audit_files_free(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return r;
}
