/* k8s_health.h - where the k8s module's health verdicts get their Lua
 * scripts for one run: the health_customizations directory of the module
 * settings and the argocd-cm ConfigMap of the cluster, read once on first
 * use and kept for the rest of the run.
 *
 * Ownership: k8s_health_src_init() / k8s_health_src_release(); the struct
 * lua_health handed out lives as long as the source. Safe across threads. */
#ifndef PHASEGATE_K8S_HEALTH_H
#define PHASEGATE_K8S_HEALTH_H

#include <pthread.h>

#include "k8s_api.h"
#include "lua_health.h"
#include "module.h"

struct k8s_health_src {
	char *dir;            /* owned, may be NULL: no directory */
	char *argocd_ns;      /* owned, may be NULL: argocd-cm is not read */
	pthread_mutex_t lock; /* guards the fields below */
	int loaded;           /* the first lookup happened */
	struct lua_health *h; /* owned once loaded (NULL after an error) */
	char *error;          /* owned: why the scripts could not be loaded */
	char *note;           /* owned: argocd-cm could not be read, so its
	                         scripts are not used (the verdicts still are) */
};

void k8s_health_src_init(struct k8s_health_src *s, const char *dir, const char *argocd_ns);
void k8s_health_src_release(struct k8s_health_src *s);

/* The scripts for this run (loaded on the first call). Returns 0 with *out
 * (and *note: NULL, or why argocd-cm was not used), or -1 with *err
 * (malloc'd) when the directory is unusable, argocd-cm's customizations
 * cannot be read, or the cluster could not be asked. */
int k8s_health_src_get(struct k8s_health_src *s, struct k8s_client *c, struct check_ctx *ctx,
                       struct lua_health **out, const char **note, char **err);

#endif
