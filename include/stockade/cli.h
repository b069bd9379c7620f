/* stockade — the command line (src/cli/): one file per subcommand, each an
 * entry `int sk_cmd_NAME(int argc, char **argv)` returning the exit code.
 * argv[0] is the subcommand's name.  Every subcommand answers --help. */
#ifndef STOCKADE_CLI_H
#define STOCKADE_CLI_H

int sk_cmd_run(int argc, char **argv);

/* Print "stockade: <msg>" on stderr; returns SK_EXIT_INTERNAL (125). */
int sk_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
