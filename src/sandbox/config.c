/* Defaults of a sandbox configuration. */
#include <string.h>

#include "stockade/sandbox.h"

void sk_sandbox_config_init(sk_sandbox_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->net = SK_NET_NONE;
	cfg->stdout_fd = 1;
	cfg->stderr_fd = 2;
}
