/* tcp.c - placeholder until the tcp module lands. */
#include "module.h"

const struct check_module check_tcp = {
	.name = "tcp",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
