/* http.c - placeholder until the http module lands. */
#include "module.h"

const struct check_module check_http = {
	.name = "http",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
