/* k8s.c - placeholder until the k8s module lands. */
#include "module.h"

const struct check_module check_k8s = {
	.name = "k8s",
	.summary = "not built yet",
	.api_version = CHECK_API_VERSION,
};
