/* dns.c - placeholder until the dns module lands. */
#include "module.h"

const struct check_module check_dns = {
	.name = "dns",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
