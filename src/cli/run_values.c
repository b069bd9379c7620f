/* The secret values the supervisor looks for in the files a command reads
 * (src/sandbox/broker_values.c): the credential-like values of the
 * profile's secret files and of the session's denied files, each tagged
 * with its file's fingerprint, so that a file holding one is decided as
 * that secret's content (gathered as the file is fingerprinted:
 * run_session.c); and those of the environment variables withheld as
 * secret and of the credentials taken out of the configs the sandbox sees,
 * each under the fingerprint of the value itself (a file that is nothing
 * but the value is its copy).  The matcher is built at the first lookup:
 * the environment's, here, when there are values at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

static int add_variable(run_state *s, const sk_profile_secret *sec)
{
	const char *name = strncmp(sec->label, "env:", 4) ? sec->label : sec->label + 4;
	size_t len = strlen(sec->value);
	if (!sk_secret_value_like(name, strlen(name), sec->value, len))
		return 0;
	run_fingerprint fp = { .size = len };
	sk_fingerprint_bytes(sec->value, len, fp.key);
	long tag;
	int r = sk_run_push_fingerprint(s, &fp, &tag);
	if (r < 0 || tag < 0)
		return r;
	r = sk_secret_values_add_value(s->values, name, strlen(name), sec->value, len, (uint32_t)tag);
	return r < 0 ? r : 0;
}

/* A credential taken out of a git or package config the sandbox sees
 * (a remote URL's "user:token", an extraheader "AUTHORIZATION: basic
 * ..."): each of its words, and each part of a word around ':', that
 * counts, keyed like a variable's value. */
static int add_taken(run_state *s, const char *value)
{
	if (strchr(value, ':') && strchr(value, ':') != value) {
		_cleanup_free_ char *copy = strdup(value);
		if (!copy)
			return -ENOMEM;
		for (char *c = copy; *c; c++)
			if (*c == ':')
				*c = ' ';
		int r = add_taken(s, copy);
		if (r < 0)
			return r;
	}
	for (const char *p = value; *p;) {
		size_t len = strcspn(p, " \t");
		if (len) {
			sk_profile_secret sec = { .label = "token", .value = NULL };
			_cleanup_free_ char *word = strndup(p, len);
			if (!word)
				return -ENOMEM;
			sec.value = word;
			int r = add_variable(s, &sec);
			if (r < 0)
				return r;
		}
		p += len;
		p += strspn(p, " \t");
	}
	return 0;
}

int sk_run_values_prepare(run_state *s, sk_error *err)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < s->env.n_secrets; i++)
		r = add_variable(s, &s->env.secrets[i]);
	for (size_t i = 0; r == 0 && i < s->git_secrets.n; i++)
		r = add_taken(s, s->git_secrets.v[i]);
	return r < 0 ? sk_fail(err, -r, "cannot gather the secret values of the environment and configs") : 0;
}

int sk_run_values_in(void *ctx, const void *buf, size_t len, const char **content, uint64_t *size)
{
	run_state *s = ctx;
	uint32_t tag;
	int r = sk_secret_values_find(s->values, buf, len, &tag);
	if (r <= 0 || tag >= s->n_fps)
		return r < 0 ? r : 0;
	*content = s->fps[tag].key;
	*size = s->fps[tag].size;
	return 1;
}

bool sk_run_known_content(void *ctx, const char *content)
{
	const run_state *s = ctx;
	for (size_t i = 0; i < s->n_fps; i++)
		if (!strcmp(s->fps[i].key, content))
			return true;
	return false;
}

/* An environment variable that passed the profile's name rules but whose
 * value holds a secret value (a connection string with the .env's
 * password) is withheld as well: its value is that secret. */
int sk_run_values_filter_env(const sk_request *req, run_state *s, sk_error *err)
{
	if (!sk_secret_values_count(s->values) || !s->envp)
		return 0;
	size_t k = 0;
	for (size_t i = 0; s->envp[i]; i++) {
		const char *v = s->envp[i], *eq = strchr(v, '=');
		uint32_t tag;
		int r = eq && v != s->home_env ? sk_secret_values_find(s->values, eq + 1, strlen(eq + 1), &tag) : 0;
		if (r < 0)
			return sk_fail(err, -r, "cannot look for secret values in the environment");
		if (r == 0) {
			s->envp[k++] = s->envp[i];
			continue;
		}
		if (req->verbose)
			dprintf(req->stderr_fd, "stockade: withheld %.*s: its value holds a secret value\n",
				(int)(eq - v), v);
	}
	s->envp[k] = NULL;
	return 0;
}
