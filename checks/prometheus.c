/* prometheus.c - placeholder until the prometheus module lands. */
#include "module.h"

const struct check_module check_prometheus = {
	.name = "prometheus",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
