/* What a profile gives the redactor: its secret values and secret files as
 * literals, and its own pattern rules in the rules-file format.  Shared by
 * `stockade run` and `stockade redact --profile`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stockade/cli.h"
#include "stockade/redact.h"

static int add_rules_text(const sk_profile_env *env, char **out, sk_error *err)
{
	size_t len = 0;
	char *text = NULL;
	for (size_t i = 0; i < env->n_patterns; i++) {
		if (!env->pattern_exprs[i])
			continue;   /* a bare name refers to a shipped rule */
		size_t add = strlen(env->pattern_rules[i]) + strlen(env->pattern_exprs[i]) + 11;
		char *x = realloc(text, len + add);
		if (!x) {
			free(text);
			return sk_fail(err, ENOMEM, "out of memory");
		}
		text = x;
		len += (size_t)snprintf(text + len, add, "pattern %s %s\n", env->pattern_rules[i],
					env->pattern_exprs[i]);
	}
	*out = text;
	return 0;
}

int sk_profile_redact_inputs(const sk_profile_env *env, sk_redact_literals *lits, char **extra_rules,
			     sk_error *err)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < env->n_secrets; i++)
		r = sk_redact_literals_add(lits, env->secrets[i].label, env->secrets[i].value,
					   strlen(env->secrets[i].value));
	if (r < 0)
		return sk_fail_errno(err, -r, "cannot register a secret for redaction");
	for (size_t i = 0; r >= 0 && i < env->n_secret_files; i++)
		r = sk_redact_literals_add_file(lits, "secret-file", env->secret_files[i], err);
	if (r < 0)
		return r;
	return add_rules_text(env, extra_rules, err);
}
