/* k8s_rbac.c - the Kubernetes permissions of k8s operations (see
 * k8s_rbac.h). Resolution is offline (no discovery): the kinds Argo CD
 * installations use are known here; any other type is emitted as typed
 * with a remark to check its API group. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_rbac.h"

struct known_res {
	const char *group, *plural, *kind;
	int namespaced;
	const char *shorts; /* space-separated short names */
};

static const struct known_res known[] = {
    {"", "pods", "Pod", 1, "po"},
    {"", "services", "Service", 1, "svc"},
    {"", "configmaps", "ConfigMap", 1, "cm"},
    {"", "secrets", "Secret", 1, ""},
    {"", "events", "Event", 1, "ev"},
    {"", "serviceaccounts", "ServiceAccount", 1, "sa"},
    {"", "persistentvolumeclaims", "PersistentVolumeClaim", 1, "pvc"},
    {"", "endpoints", "Endpoints", 1, "ep"},
    {"", "namespaces", "Namespace", 0, "ns"},
    {"", "nodes", "Node", 0, "no"},
    {"apps", "deployments", "Deployment", 1, "deploy"},
    {"apps", "statefulsets", "StatefulSet", 1, "sts"},
    {"apps", "daemonsets", "DaemonSet", 1, "ds"},
    {"apps", "replicasets", "ReplicaSet", 1, "rs"},
    {"batch", "jobs", "Job", 1, ""},
    {"batch", "cronjobs", "CronJob", 1, "cj"},
    {"networking.k8s.io", "ingresses", "Ingress", 1, "ing"},
    {"networking.k8s.io", "networkpolicies", "NetworkPolicy", 1, "netpol"},
    {"autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler", 1, "hpa"},
    {"policy", "poddisruptionbudgets", "PodDisruptionBudget", 1, "pdb"},
    {"argoproj.io", "applications", "Application", 1, "app apps"},
    {"argoproj.io", "appprojects", "AppProject", 1, "appproj appprojs"},
    {"argoproj.io", "applicationsets", "ApplicationSet", 1, "appset appsets"},
    {"monitoring.coreos.com", "servicemonitors", "ServiceMonitor", 1, "smon"},
    {"monitoring.coreos.com", "prometheusrules", "PrometheusRule", 1, "promrule"},
    {"apiregistration.k8s.io", "apiservices", "APIService", 0, ""},
};

static int word_in(const char *word, const char *list)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncasecmp(p, word, n) == 0)
			return 1;
		p += len + (end ? 1 : 0);
	}
	return 0;
}

/* TYPE as kubectl takes it: plural, singular, short name, Kind, or
 * plural.group. NULL when unknown. */
static const struct known_res *resolve(const char *type)
{
	if (!type || !*type)
		return NULL;
	char *t = xstrdup(type);
	char *dot = strchr(t, '.');
	const char *group = NULL;
	if (dot) {
		*dot = 0;
		group = dot + 1;
	}
	const struct known_res *found = NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !found; i++) {
		const struct known_res *k = &known[i];
		size_t pl = strlen(k->plural);
		int singular = strlen(t) + 1 == pl && strncasecmp(t, k->plural, pl - 1) == 0;
		if (group && strcmp(group, k->group) != 0)
			continue;
		if (strcasecmp(t, k->plural) == 0 || strcasecmp(t, k->kind) == 0 || singular ||
		    (strcmp(k->plural, "endpoints") == 0 && strcasecmp(t, "endpoint") == 0) ||
		    word_in(t, k->shorts))
			found = k;
	}
	free(t);
	return found;
}

struct perm_ctx {
	void (*emit)(void *arg, const struct check_perm *p);
	void *arg;
	const char *nspace; /* NULL = cluster scope / all namespaces */
};

static void perm(const struct perm_ctx *c, const char *group, const char *resource,
                 const char *verb, const char *name, int namespaced)
{
	struct check_perm p = {group, resource, verb, namespaced ? c->nspace : NULL, name, NULL};
	c->emit(c->arg, &p);
}

/* Permissions on TYPE (as typed); an unknown type gets a remark. */
static void on_type(const struct perm_ctx *c, const char *type, const char *sub,
                    const char *const *verbs, const char *name)
{
	const struct known_res *k = resolve(type);
	if (!k) {
		char *note = xasprintf("resource type '%s' is not known offline: grant %s on it "
		                       "(find its API group with kubectl api-resources)",
		                       type ? type : "?", verbs[0]);
		struct check_perm p = {.note = note};
		c->emit(c->arg, &p);
		free(note);
		return;
	}
	char *res = sub ? xasprintf("%s/%s", k->plural, sub) : xstrdup(k->plural);
	for (const char *const *v = verbs; *v; v++)
		perm(c, k->group, res, *v, name, k->namespaced);
	free(res);
}

void k8s_rbac_emit(const struct k8s_rbac_entry *e,
                   void (*emit)(void *arg, const struct check_perm *p), void *arg)
{
	struct perm_ctx c = {emit, arg, e->all_ns ? NULL : (e->nspace ? e->nspace : "")};
	static const char *const get[] = {"get", NULL}, *const list[] = {"list", NULL},

	                         *const patch[] = {"get", "patch", NULL},
	                         *const del[] = {"get", "delete", NULL},
	                         *const del_wait[] = {"get", "delete", "list", "watch", NULL};
	const char *op = e->op;
	if (!strcmp(op, "get") || !strcmp(op, "health")) {
		on_type(&c, e->type, NULL, get, e->name);
	} else if (!strcmp(op, "list")) {
		on_type(&c, e->type, NULL, list, NULL);
	} else if (!strcmp(op, "rollout")) {
		/* the workload, and for a Deployment its ReplicaSets and pods */
		on_type(&c, e->type, NULL, get, e->name);
		const struct known_res *k = resolve(e->type);
		if (k && !strcmp(k->plural, "deployments"))
			perm(&c, "apps", "replicasets", "list", NULL, 1);
		perm(&c, "", "pods", "list", NULL, 1);
	} else if (!strcmp(op, "can-i")) {
		perm(&c, "authorization.k8s.io", "selfsubjectaccessreviews", "create", NULL, 0);
	} else if (!strcmp(op, "events")) {
		perm(&c, "", "events", "list", NULL, 1);
	} else if (!strcmp(op, "logs") || !strcmp(op, "restarts")) {
		const struct known_res *k = resolve(e->type && *e->type ? e->type : "pods");
		if (k && strcmp(k->plural, "pods") != 0) /* a workload: find its pods */
			on_type(&c, e->type, NULL, get, e->name);
		perm(&c, "", "pods", e->name && k && !strcmp(k->plural, "pods") ? "get" : "list",
		     k && !strcmp(k->plural, "pods") ? e->name : NULL, 1);
		if (!strcmp(op, "logs"))
			perm(&c, "", "pods/log", "get", NULL, 1);
	} else if (!strcmp(op, "nodes")) {
		perm(&c, "", "nodes", "list", NULL, 0);
	} else if (!strcmp(op, "patch") || !strcmp(op, "annotate")) {
		on_type(&c, e->type, NULL, patch, e->name);
	} else if (!strcmp(op, "delete")) {
		on_type(&c, e->type, NULL, e->wait ? del_wait : del, e->name);
	} else if (!strcmp(op, "exec")) {
		perm(&c, "", "pods", "get", e->name, 1);
		perm(&c, "", "pods/exec", "create", e->name, 1);
	} else if (!strcmp(op, "export")) {
		for (const char *const *ns = e->namespaces; ns && *ns; ns++) {
			struct perm_ctx nc = {emit, arg, *ns};
			for (const char *const *k = e->kinds; k && *k; k++)
				on_type(&nc, *k, NULL, list, NULL);
		}
	} else if (!strcmp(op, "apply")) {
		for (const char *const *f = e->files; f && *f; f++) {
			char *note = xasprintf("apply %s: grant get, create and patch on each kind "
			                       "the file holds",
			                       *f);
			struct check_perm p = {.note = note};
			emit(arg, &p);
			free(note);
		}
	}
}
