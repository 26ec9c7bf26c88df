/* k8s_rbac.h - the permissions each k8s operation needs, for the module's
 * permissions hook ("phasegate rbac"): kubectl's names for resource types
 * (deploy, sts, app, deployments.apps, Deployment) mapped offline to API
 * group and plural, and each operation mapped to the requests it makes. */
#ifndef PHASEGATE_K8S_RBAC_H
#define PHASEGATE_K8S_RBAC_H

#include "module.h"

/* What one parsed k8s entry is about (all borrowed; NULL when absent). */
struct k8s_rbac_entry {
	const char *op;     /* "get", "rollout", "logs", ... (the module's operation key) */
	const char *type;   /* the resource type as typed */
	const char *name;   /* the object name, or NULL */
	const char *nspace; /* the namespace, or NULL for the run's default */
	int all_ns;
	const char *verb;                             /* can-i */
	int wait;                                     /* delete: waits until gone */
	const char *const *kinds, *const *namespaces; /* export */
	const char *const *files;                     /* apply */
};

void k8s_rbac_emit(const struct k8s_rbac_entry *e,
                   void (*emit)(void *arg, const struct check_perm *p), void *arg);

#endif
