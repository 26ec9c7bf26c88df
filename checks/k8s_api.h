/* k8s_api.h - the Kubernetes API client under the k8s module: one
 * connection setup per run (kube_config), requests through the shared
 * libcurl plumbing with the kubeconfig's TLS material and credentials,
 * messages a person can act on for every failure, and the discovery cache
 * that maps what a user types (deploy, svc, app, deployments.apps,
 * Deployment) to a resource path, the way kubectl does.
 *
 * Ownership: a struct k8s_client is made by k8s_client_init and freed by
 * k8s_client_release; resources it hands out (struct k8s_res *) live as
 * long as the client. Every char * returned is malloc'd for the caller. */
#ifndef PHASEGATE_K8S_API_H
#define PHASEGATE_K8S_API_H

#include <jansson.h>
#include <pthread.h>

#include "http.h"
#include "kubeconfig.h"
#include "util.h"

/* One API resource from discovery. */
struct k8s_res {
	char *group;        /* "" for the core group */
	char *version;      /* "v1" */
	char *plural;       /* "deployments" */
	char *singular;     /* "deployment" */
	char *kind;         /* "Deployment" */
	char **short_names; /* NULL-terminated, may be empty */
	int namespaced;
};

struct k8s_client {
	struct kube_config kc; /* valid when kc_error is NULL */
	char *kc_error;        /* why the configuration could not be loaded */
	pthread_mutex_t lock;  /* guards the discovery cache */
	int discovered;        /* the preferred versions were read */
	struct k8s_res **res;  /* owned; discovery order (core first) */
	size_t nres, alloc;
	json_t *gv_seen; /* object: "group/version" -> true, lists read */
};

/* Loads the configuration; never fails: a bad kubeconfig is kept in
 * kc_error and reported by the first check that needs the cluster. */
void k8s_client_init(struct k8s_client *c, const struct kube_config_opts *o);
void k8s_client_release(struct k8s_client *c);

/* One request to the API server. path starts with "/"; ctype and body may
 * be NULL. Returns 0 when the server answered (any status: rs filled),
 * -1 with *err set when it did not (TLS, refused, timeout...). A 401 is
 * retried once with refreshed exec/tokenFile credentials. */
int k8s_call(struct k8s_client *c, struct check_ctx *ctx, const char *method, const char *path,
             const char *ctype, const char *body, struct http_response *rs, char **err);

/* A message for a non-2xx answer: what names the request ("GET
 * deployments.apps argocd/argocd-server"); 401, 403 (with the RBAC
 * reason), 404, 409 (with the force hint), 5xx each say what to do. */
char *k8s_status_error(struct k8s_client *c, const struct http_response *rs, const char *what);

/* Finds the resource for what the user typed (type = "deploy",
 * "deployments.apps", "Deployment", "app"...; api_version optional, e.g.
 * "apps/v1" with a Kind). Returns 0 and *out, or -1 with *err ("the server
 * has no resource type ..."). Discovery runs once per client. */
int k8s_resolve(struct k8s_client *c, struct check_ctx *ctx, const char *type,
                const char *api_version, const struct k8s_res **out, char **err);

/* "deployments.apps" or "pods": the name kubectl uses in messages. */
char *k8s_res_qualified(const struct k8s_res *r);
/* The URL path of a collection (name NULL) or an object; ns NULL or "" =
 * all namespaces (or cluster scope). query (may be NULL) is appended. */
char *k8s_path(const struct k8s_res *r, const char *ns, const char *name, const char *query);

/* URL-encodes a query value. */
char *k8s_qesc(const char *s);
/* RFC 3339 time to epoch seconds (0 when s is NULL or not a time). */
double k8s_time(const char *s);
/* A label selector string from a LabelSelector object (matchLabels and
 * matchExpressions); NULL when it has neither. */
char *k8s_selector_string(json_t *selector);

/* Reads a list with paging: GET path (which may carry a query) with
 * limit/continue until the server has no more; items appended to *items
 * (a new array). Returns 0, or -1 with *err. */
int k8s_list_all(struct k8s_client *c, struct check_ctx *ctx, const char *what, const char *path,
                 long long limit, json_t **items, char **err);

/* Appends obj as block-style YAML (strings double-quoted, which JSON's
 * escapes make valid YAML), ending in a newline. */
void k8s_yaml(struct buf *b, json_t *obj);

/* SHA-256 of data, as 64 hex digits into hex[65]. */
void k8s_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
