/* k8s_ops.h - what the k8s module's files share: its configuration of
 * one entry, its per-run state and the helpers every operation uses. The
 * module glue (settings, parsing, dispatch) is checks/k8s.c; read-only
 * operations are checks/k8s_read.c; actions are checks/k8s_write.c. */
#ifndef PG_K8S_OPS_H
#define PG_K8S_OPS_H

#include <jansson.h>
#include <pcre2.h>

#include "k8s_api.h"
#include "k8s_health.h"
#include "k8s_watch.h"
#include "module.h"

/* The module state of one run: settings, configuration and discovery. */
struct k8s_state {
	struct k8s_client client;
	char *kubeconfig;             /* owned: the explicit file, or NULL (KUBECONFIG) */
	char *context;                /* owned, may be NULL */
	struct k8s_health_src health; /* Lua health scripts of the run */
	char *nspace;                 /* owned: modules.k8s.namespace, or NULL */
	struct k8s_watches *watches;  /* owned: what eventually: waits watch */
};

/* One entry's operation and configuration. */
enum k8s_op {
	OP_GET,
	OP_LIST,
	OP_ROLLOUT,
	OP_HEALTH,
	OP_CANI,
	OP_EVENTS,
	OP_LOGS,
	OP_RESTARTS,
	OP_NODES,
	OP_COMPARE,
	OP_APPLY,
	OP_PATCH,
	OP_ANNOTATE,
	OP_DELETE,
	OP_EXPORT,
	OP_RESTORE,
	OP_EXEC,
	OP_COUNT
};

struct k8s_cfg {
	enum k8s_op op;
	char *type;        /* owned: resource type as typed ("deploy", "Deployment") */
	char *name;        /* owned, may be NULL */
	char *api_version; /* owned, may be NULL */
	char *nspace;      /* owned, NULL = the configuration's namespace */
	int all_ns;
	char *selector, *field_selector; /* owned, may be NULL */
	long long limit;                 /* page size */
	long long since_ms;              /* window, 0 = none */
	long long tail;                  /* logs: last lines, -1 = all */
	char *container;                 /* owned, may be NULL */
	char *regex;                     /* owned, may be NULL */
	pcre2_code *re;                  /* owned; compiled regex */
	long long revision;
	char *verb, *group, *subresource; /* can-i, owned */
	char **files;                     /* owned, NULL-terminated (apply) */
	int dry_run, force, wait, ignore_missing;
	json_t *body;               /* owned: patch body */
	char *ptype;                /* owned: merge | json | strategic */
	char **kinds, **namespaces; /* owned, NULL-terminated (export) */
	char *dir;                  /* owned (export, restore, compare) */
	char *target_ns;            /* owned (restore, compare): isolated namespace */
	int scale_to_zero;          /* restore, compare */
	int missing_only;           /* restore */
	char **ignore;              /* owned, NULL-terminated (compare) */
	char **command;             /* owned, NULL-terminated (exec) */
	char *kubectl;              /* owned: kubectl binary (exec) */
	struct k8s_state *st;       /* borrowed */
	struct k8s_watch_sub wsub;  /* what the last attempt read, for waits */
};

/* Everything one run needs. */
struct k8s_run {
	struct k8s_cfg *c;
	struct k8s_client *cl;
	struct check_ctx *ctx;
	struct check_out *out;
	const struct k8s_res *res; /* the target's resource, when it has one */
	const char *ns;            /* effective namespace, NULL = all / cluster */
};

/* Helpers every operation uses (checks/k8s.c). */
void k8s_fail(struct k8s_run *r, char *msg); /* takes msg: the check errs */
const char *k8s_default_ns(struct k8s_run *r);
/* Resolves type (with apiVersion) and the effective namespace. */
int k8s_target(struct k8s_run *r, const char *type, const char *api_version);
/* "GET deployments.apps argocd/argocd-server"; caller frees. */
char *k8s_what(const char *verb, const struct k8s_res *res, const char *ns, const char *name);
/* GETs one object: 0 with *obj (NULL when it does not exist), -1 on error. */
int k8s_get_object(struct k8s_run *r, const struct k8s_res *res, const char *ns, const char *name,
                   json_t **obj);
/* Sends a body to path; the answer object on 2xx, else NULL with the error set. */
json_t *k8s_send_json(struct k8s_run *r, const char *method, const char *path, const char *ctype,
                      json_t *body, const char *what);
void k8s_facts_ident(json_t *f, const struct k8s_res *res, const char *ns, const char *name);
/* Sets ok and summary (taking summary). */
void k8s_set_summary(json_t *f, int ok, char *summary);
/* "deployment/x in namespace y"; caller frees. */
char *k8s_label_of(const struct k8s_res *res, const char *ns, const char *name);

/* Every object of res in ns (all namespaces when NULL) matching the label
 * and field selectors, pages followed; NULL with the error set. */
json_t *k8s_list_of(struct k8s_run *r, const struct k8s_res *res, const char *ns,
                    const char *labels, const char *fields);
/* A pod object's metadata.name, or "". */
const char *k8s_pod_name(json_t *pod);

/* Read-only operations (checks/k8s_read.c); mode is OP_GET, OP_HEALTH or OP_ROLLOUT. */
void k8s_op_get(struct k8s_run *r, int mode);
void k8s_op_list(struct k8s_run *r);
void k8s_op_cani(struct k8s_run *r);
void k8s_op_events(struct k8s_run *r);
void k8s_op_logs(struct k8s_run *r);
void k8s_op_restarts(struct k8s_run *r);
void k8s_op_nodes(struct k8s_run *r);

/* Actions (checks/k8s_write.c). */
void k8s_op_apply(struct k8s_run *r);
void k8s_op_patch(struct k8s_run *r);
void k8s_op_delete(struct k8s_run *r);
void k8s_op_export(struct k8s_run *r);
void k8s_op_backup(struct k8s_run *r);
void k8s_op_exec(struct k8s_run *r);

#endif
