/* rbac.h - "phasegate rbac SUITE": the least-privilege Role(s) and
 * ClusterRole a suite's checks and actions need, derived from the plan
 * through each module's permissions hook (verbs x resources x namespaces),
 * with their bindings to the ServiceAccount the in-cluster Job runs as. */
#ifndef PHASEGATE_RBAC_H
#define PHASEGATE_RBAC_H

#include "suite.h"

struct rbac_opts {
	const char *sa_namespace; /* the ServiceAccount's namespace; also the run's default */
	const char *sa_name;
	const char *publish_ns, *publish_name; /* --publish configmap/NS/NAME, or NULL */
};

/* The manifests as YAML (a stream of documents); malloc'd. */
char *rbac_render(const struct plan *p, const struct rbac_opts *o);

#endif
