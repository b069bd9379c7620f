/* Git (and package-manager) configuration, and URLs in the environment,
 * shown to the sandbox without their credentials (git_config.c). */
#ifndef STOCKADE_CLI_GIT_CONFIG_H
#define STOCKADE_CLI_GIT_CONFIG_H

#include <stddef.h>

enum { SK_GIT_SECRETS_MAX = 32 };

/* The credentials taken out of one or more config files: redaction
 * literals.  Owned; sk_git_secrets_free. */
typedef struct sk_git_secrets {
	char *v[SK_GIT_SECRETS_MAX];
	size_t n;
} sk_git_secrets;

/* text (len bytes of a git config file) with every credential taken out:
 * the values of extraheader and of keys named like a password, token or
 * secret (the key stays, empty), and the userinfo of URLs (all of it for
 * http(s), a user:password pair otherwise), in values and section headers
 * alike.  The values go to out (a basic-auth header's decoded credential
 * too).  Returns the new text (malloc'd), or NULL when there was nothing
 * to take out (*err 0) or memory ran out (*err -ENOMEM). */
char *sk_git_config_sanitize(const char *text, size_t len, sk_git_secrets *out, int *err);
/* The same for other configuration files whose lines are KEY SEP VALUE,
 * SEP one of seps: "=" for .npmrc, ":" for .yarnrc.yml, "=:" for .pypirc. */
char *sk_config_sanitize(const char *text, size_t len, const char *seps, sk_git_secrets *out, int *err);
/* s (a string: an environment variable's value) with the user information
 * of every URL in it taken out the same way; NULL when there was none
 * (*err 0) or memory ran out (*err -ENOMEM). */
char *sk_url_userinfo_strip(const char *s, sk_git_secrets *out, int *err);
void sk_git_secrets_free(sk_git_secrets *s);

#endif
