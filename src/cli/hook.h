/* The agent hooks' pure parts (src/cli/hook_shell.c), private to the cli. */
#ifndef STOCKADE_CLI_HOOK_H
#define STOCKADE_CLI_HOOK_H

#include <stddef.h>

/* s as one POSIX shell word: '...' with each ' written '\''.  malloc'd. */
char *sk_shell_quote(const char *s);

/* When cmd is one plain simple command — words of ordinary characters,
 * '...' or "..." (no $, `, \ inside), separated by blanks; no operators,
 * redirections, expansions, globs, comments or assignments — its words as
 * a malloc'd NULL-terminated vector (free with sk_strv_free) and 0.
 * -EINVAL when it is anything else (only the sandbox can decide on that),
 * -ENOMEM. */
int sk_shell_simple_words(const char *cmd, char ***words);

#endif
