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
	int preferred; /* version is the group's preferred one */
	int listable;  /* discovery's verbs include get and list */
};

struct k8s_client {
	struct kube_config kc; /* valid when kc_error is NULL */
	char *kc_error;        /* why the configuration could not be loaded */
	pthread_mutex_t lock;  /* guards the discovery cache */
	int discovered;        /* /api, /apis and the preferred versions were read */
	int all_versions;      /* the other served versions were read too */
	long long discovered_at; /* monotonic ms of the last full discovery */
	unsigned refreshes;      /* discoveries run again after a miss */
	struct k8s_res **res;    /* owned; every version read, discovery order (core first) */
	size_t nres, alloc;
	json_t *gv_seen;   /* object: "group/version" -> true (read) or false (not served) */
	json_t *gv_failed; /* object: "group/version" -> why its list could not be read */
	json_t *groups;    /* object: group -> array of served versions, preferred first */
};

/* Loads the configuration; never fails: a bad kubeconfig is kept in
 * kc_error and reported by the first check that needs the cluster. */
void k8s_client_init(struct k8s_client *c, const struct kube_config_opts *o);
void k8s_client_release(struct k8s_client *c);

/* One request to the API server. path starts with "/"; ctype and body may
 * be NULL. Returns 0 when the server answered (any status: rs filled),
 * -1 with *err set when it did not (TLS, refused, timeout...). A 401 is
 * retried once with refreshed exec/tokenFile credentials. As client-go's
 * rest client does, a 429 or 5xx that carries Retry-After is sent again
 * after that wait (any method: the server did not act on it), and a GET
 * that met a reset or dropped connection is sent again with backoff; at
 * most K8S_MAX_TRIES attempts, never past the check's deadline. */
#define K8S_MAX_TRIES 10
int k8s_call(struct k8s_client *c, struct check_ctx *ctx, const char *method, const char *path,
             const char *ctype, const char *body, struct http_response *rs, char **err);

/* A streamed GET (a watch): the pieces of a 2xx body go to on_body as they
 * come, and on_idle is asked about once a second whether to stop (see
 * struct http_request); another status is kept in rs for the message. As
 * k8s_call, except that a broken stream is not sent again: its reader
 * resumes it from the last resourceVersion it saw. */
struct k8s_stream {
	int (*on_body)(void *arg, const char *data, size_t len);
	int (*on_idle)(void *arg);
	void *arg;
};
int k8s_call_stream(struct k8s_client *c, struct check_ctx *ctx, const char *path,
                    const struct k8s_stream *stream, struct http_response *rs, char **err);

/* A message for a non-2xx answer: what names the request ("GET
 * deployments.apps argocd/argocd-server"); 401, 403 (with the RBAC
 * reason), 404, 409 (with the force hint), 5xx each say what to do. */
char *k8s_status_error(struct k8s_client *c, const struct http_response *rs, const char *what);

/* An excerpt of a body for a message: at most max bytes, one line,
 * control bytes shown as '.', "..." when cut, so a binary or HTML answer
 * can be told apart. */
char *k8s_body_excerpt(const struct http_response *rs, size_t max);

/* A message for an answer that is not the JSON expected ("a JSON list"):
 * names the status, the Content-Type, the size and a printable excerpt, so
 * an HTML error page, a protobuf body or a cut-off answer can be told
 * apart. */
char *k8s_not_json(const struct http_response *rs, const char *what, const char *expected);

/* Finds the resource for what the user typed (type = "deploy",
 * "deployments.apps", "Deployment", "app"...; api_version optional, e.g.
 * "apps/v1" with a Kind: that exact version, preferred or not). Without a
 * version the group's preferred version wins, then any other served
 * version (a kind served only in v1alpha1). Discovery runs once per
 * client and again, once, when a lookup misses and the cache is older than
 * the lookup (a CRD installed meanwhile), as client-go's deferred REST
 * mapper does. A group version whose list cannot be read (an unavailable
 * aggregated API answering 503) is left out and named in the error of a
 * lookup that misses. Returns 0 and *out; -1 with *err ("the server has
 * no resource type ..."); -2 with *err when discovery itself failed
 * (/api or /apis unreadable), so nothing can be said about the type. */
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
 * (a new array). Bounded: at most K8S_LIST_MAX_PAGES pages,
 * K8S_LIST_MAX_ITEMS items and K8S_LIST_MAX_BYTES of answers, never past
 * the check's deadline; a server repeating a continue token is a loop. An
 * expired continue token (410 Gone) is an error saying a fresh list is
 * needed, as kubectl does not mix two snapshots. Returns 0, or -1 with
 * *err. */
#define K8S_LIST_MAX_PAGES 10000
#define K8S_LIST_MAX_ITEMS 1000000
#define K8S_LIST_MAX_BYTES (256 * 1024 * 1024)
int k8s_list_all(struct k8s_client *c, struct check_ctx *ctx, const char *what, const char *path,
                 long long limit, json_t **items, char **err);

/* SHA-256 of data, as 64 hex digits into hex[65]. */

#endif
