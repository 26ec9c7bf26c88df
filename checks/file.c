/* file.c - placeholder until the file module lands. */
#include "module.h"

const struct check_module check_file = {
	.name = "file",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
