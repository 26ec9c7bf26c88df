/* kubeconfig.h - how to reach and authenticate to a Kubernetes API server,
 * resolved exactly like kubectl (client-go clientcmd): KUBECONFIG as a list
 * with the first-wins merge rules, current-context, context and namespace
 * overrides, certificate authority and client certificates as files or
 * data, token and tokenFile, exec credential plugins
 * (client.authentication.k8s.io/v1 and v1beta1, cached until expiry, run
 * again once on 401), the oidc auth-provider's id-token
 * and its refresh (kube_oidc.h), impersonation,
 * insecure-skip-tls-verify, proxy-url or the proxy environment
 * (kube_proxy.h), and the in-cluster service account
 * when no kubeconfig exists. Every credential read is registered with the
 * masker at once. */
#ifndef PHASEGATE_KUBECONFIG_H
#define PHASEGATE_KUBECONFIG_H

#include <jansson.h>
#include <pthread.h>

#include "kube_oidc.h"
#include "util.h"

struct check_ctx;

struct kube_config_opts {
	const char *kubeconfig; /* explicit file (not merged); NULL = KUBECONFIG / ~/.kube/config */
	const char *context;    /* --context */
	const char *nspace;     /* --namespace */
	/* Where the in-cluster service account lives; NULL =
	 * /var/run/secrets/kubernetes.io/serviceaccount (tests point it elsewhere). */
	const char *sa_dir;
};

/* What an exec credential plugin produced, cached until it expires. */
struct kube_exec_cred {
	char *token;
	char *cert_pem, *key_pem;
	double expires_at;      /* epoch seconds, 0 = never */
	int valid;
	unsigned gen; /* counts plugin runs: which credential a request used */
};

struct kube_config {
	char *server;           /* https://host:port, no trailing slash */
	char *tls_server_name;
	int insecure;
	char *ca_file, *ca_pem;
	char *cert_file, *key_file;
	char *cert_pem, *key_pem;
	char *token;            /* static bearer token */
	char *token_file;       /* read on every use (rotation) */
	char *username, *password; /* basic auth */
	/* impersonation (as, as-uid, as-groups, as-user-extra), sent as
	 * Impersonate-* headers as client-go does */
	char *as_user, *as_uid;
	char **as_groups;     /* NULL-terminated, NULL when none */
	json_t *as_extra;     /* object: key -> array of strings, or NULL */
	struct kube_oidc oidc;  /* the oidc auth-provider; oidc.issuer NULL when not used */
	char *proxy_url;        /* the cluster's proxy-url as written, or NULL */
	char *proxy;            /* the proxy for the server as kube_proxy_for chose ("" = none) */
	char *nspace;           /* effective default namespace */
	char *context_name, *cluster_name, *user_name;
	char *origin;           /* "kubeconfig /path (context x)" or "in-cluster service account" */
	/* exec plugin */
	json_t *exec;           /* the user's exec map, or NULL */
	char *exec_dir;         /* directory relative commands resolve against */
	json_t *exec_cluster;   /* spec.cluster when provideClusterInfo */
	struct kube_exec_cred cred;
	pthread_mutex_t lock; /* guards cred, cred_runs and oidc */
	unsigned cred_runs;   /* exec plugin runs that gave a credential */
};

/* Resolves the configuration. Returns 0, or -1 with a message that names
 * the file and key at fault. */
int kube_config_load(struct kube_config *kc, const struct kube_config_opts *o, struct pg_err *e);
void kube_config_release(struct kube_config *kc);

/* Credentials for one request. *bearer (malloc'd or NULL) is the token to
 * send; *cert_pem and *key_pem (malloc'd, or NULL) a client certificate from an
 * exec plugin; the caller frees all three. refresh forces the exec
 * plugin to run again (after a 401). Returns 0 or -1 with e filled. */
int kube_credentials(struct kube_config *kc, struct check_ctx *ctx, int refresh, char **bearer,
		     char **cert_pem, char **key_pem, struct pg_err *e);
/* The same, single-flight: *gen tells which exec credential was handed
 * out; after a 401, pass it back as rejected (0 = none): the plugin runs
 * again only when no other request has replaced that credential in the
 * meantime, so 20 checks meeting a 401 at once run it once, not 20 times.
 * A plugin stopped at the check's deadline is reported as that. */
int kube_credentials_gen(struct kube_config *kc, struct check_ctx *ctx, unsigned rejected,
                         char **bearer, char **cert_pem, char **key_pem, unsigned *gen,
                         struct pg_err *e);

/* 1 when a 401 should be retried once with refreshed credentials. */
int kube_config_can_refresh(const struct kube_config *kc);

#endif
