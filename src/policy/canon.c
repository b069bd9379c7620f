/* The canonical form of a resolved profile and its SHA-256 digest.
 *
 * Format (docs/profiles.md, "Canonical form"): the line "stockade-profile 1";
 * then every setting, builtin or not, in a fixed order; then the rules by
 * class (file, env, net, syscall, command, redact), each class in resolution
 * order.  One rule per line, words separated by one space, each line ending
 * in id=NAME:LINE and '\n'.  Words are quoted only when needed; '$' is
 * written "$$".  The result parses back to the same profile and the same
 * canonical text. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static void put_word(FILE *f, const char *s)
{
	bool q = sk_word_needs_quotes(s);
	fputc(' ', f);
	if (q)
		fputc('"', f);
	for (; *s; s++) {
		if (*s == '$')
			fputc('$', f);
		else if (q && (*s == '"' || *s == '\\'))
			fputc('\\', f);
		fputc(*s, f);
	}
	if (q)
		fputc('"', f);
}

static void put_id(FILE *f, const char *id)
{
	char buf[600];
	snprintf(buf, sizeof(buf), "id=%s", id);
	put_word(f, buf);
	fputc('\n', f);
}

static void put_setting(FILE *f, const char *key, const char *value, const char *id)
{
	fputs(key, f);
	put_word(f, value);
	put_id(f, id);
}

static void put_settings(FILE *f, const sk_profile *p)
{
	char num[32];
	put_setting(f, "net", sk_net_policy_name((sk_net_policy)p->net.value), p->net.id);
	put_setting(f, "file default", sk_file_action_name((sk_file_action)p->file_default.value), p->file_default.id);
	put_setting(f, "env default", sk_env_action_name((sk_env_action)p->env_default.value), p->env_default.id);
	put_setting(f, "command default", sk_action_name((sk_action)p->command_default.value), p->command_default.id);
	snprintf(num, sizeof(num), "%d", p->chain.value);
	put_setting(f, "escalation chain", num, p->chain.id);
	for (int c = 0; c < SK_CLASS_N_DECIDING; c++)
		if (p->escalate_class[c])
			put_setting(f, "escalation class", sk_class_name((sk_class)c), p->escalate_class_id[c]);
	for (int k = 0; k < SK_LIMIT_N; k++) {
		if (!p->limits[k])
			continue;
		snprintf(num, sizeof(num), "%llu%s", (unsigned long long)p->limits[k],
			 k == SK_LIMIT_TIMEOUT ? "ms" : "");
		fprintf(f, "limit %s", sk_limit_name((sk_limit_kind)k));
		put_word(f, num);
		put_id(f, p->limit_id[k]);
	}
}

static const char *rule_action(const sk_rule *r)
{
	switch (r->cls) {
	case SK_CLASS_FILE: return sk_file_action_name((sk_file_action)r->action);
	case SK_CLASS_ENV: return sk_env_action_name((sk_env_action)r->action);
	case SK_CLASS_REDACT:
		return r->action == SK_REDACT_PATTERN ? "pattern"
		     : r->action == SK_REDACT_DISABLE ? "disable" : "literal-file";
	default: return sk_action_name((sk_action)r->action);
	}
}

static void put_rule(FILE *f, const sk_rule *r)
{
	fprintf(f, "%s %s", sk_class_name(r->cls), rule_action(r));
	put_word(f, r->arg);
	if (r->arg2) {   /* always quoted, so it cannot be read as an option */
		fputs(" \"", f);
		for (const char *s = r->arg2; *s; s++) {
			if (*s == '$')
				fputc('$', f);
			else if (*s == '"' || *s == '\\')
				fputc('\\', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	if (r->escalate)
		fputs(" escalate", f);
	if (r->required)
		fputs(" required", f);
	put_id(f, r->id);
}

int sk_profile_canonical(const sk_profile *p, char **out, size_t *out_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fputs("stockade-profile 1\n", f);
	put_settings(f, p);
	static const sk_class order[] = { SK_CLASS_FILE, SK_CLASS_ENV, SK_CLASS_NET,
					  SK_CLASS_SYSCALL, SK_CLASS_COMMAND, SK_CLASS_REDACT };
	for (size_t c = 0; c < SK_ARRAY_LEN(order); c++)
		for (size_t i = 0; i < p->n_rules; i++)
			if (p->rules[i].cls == order[c])
				put_rule(f, &p->rules[i]);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	if (out_len)
		*out_len = len;
	return 0;
}

void sk_profile_digest_of(const char *canonical, size_t len, char out[SK_PROFILE_DIGEST_LEN + 1])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)canonical, len);
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, 65, h, sizeof(h));
}

int sk_profile_digest(const sk_profile *p, char out[SK_PROFILE_DIGEST_LEN + 1])
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = sk_profile_canonical(p, &text, &len);
	if (r < 0)
		return r;
	sk_profile_digest_of(text, len, out);
	return 0;
}
