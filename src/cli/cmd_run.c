/* stockade run — placeholder while the run path is being written. */
#include "stockade/cli.h"
#include "stockade/sandbox.h"

int sk_cmd_run(int argc, char **argv)
{
	(void)argc; (void)argv;
	return sk_cli_error("run: not built yet");
}
