/* kube_oidc.h - the oidc auth-provider of a kubeconfig user, as client-go's
 * plugin (plugin/pkg/client/auth/oidc) handles it: the id-token is the
 * bearer token while its exp claim is more than 10 s away; otherwise the
 * refresh-token is traded for a new one at the token endpoint that
 * {idp-issuer-url}/.well-known/openid-configuration names (grant_type
 * refresh_token, client-id and client-secret as HTTP Basic, then as form
 * fields when that is refused, as golang.org/x/oauth2 auto-detects). The
 * identity provider is verified with idp-certificate-authority(-data) when
 * given (only that CA), the system CAs otherwise. Beyond client-go, a 401
 * from the API server also triggers one refresh.
 *
 * The refreshed tokens live only for the run: the kubeconfig file is not
 * rewritten. Every token and the client secret are registered with the
 * masker when read or received. */
#ifndef PHASEGATE_KUBE_OIDC_H
#define PHASEGATE_KUBE_OIDC_H

#include <jansson.h>

#include "util.h"

struct check_ctx;

struct kube_oidc {
	char *issuer;        /* idp-issuer-url; NULL = the user has no oidc provider */
	char *client_id;     /* client-id */
	char *client_secret; /* client-secret, may be NULL */
	char *ca_file;       /* idp-certificate-authority, as written (client-go does not
	                        resolve it against the kubeconfig's directory) */
	char *ca_pem;        /* idp-certificate-authority-data, decoded */
	char *id_token;      /* the current id-token, may be NULL */
	char *refresh_token; /* the current refresh-token, may be NULL */
	char *user;          /* the kubeconfig user's name, for messages */
	char *proxy;         /* proxy for the issuer ("" = none), as kube_proxy_for chose */
	unsigned gen;        /* which id-token: 1 = the kubeconfig's, +1 per refresh */
	unsigned refreshes;  /* refreshes that gave a new id-token */
};

/* Reads the auth-provider's config map. where names the user in messages
 * ("kubeconfig FILE: user 'x'"). Returns 0, or -1 when idp-issuer-url or
 * client-id is missing (client-go's "Must provide ...") or the CA data is
 * not Base64 PEM. o is released with kube_oidc_release either way. */
int kube_oidc_read(struct kube_oidc *o, json_t *config, const char *user, const char *where,
                   struct pg_err *e);
void kube_oidc_release(struct kube_oidc *o);

/* 1 when a rejected id-token can be replaced (a refresh-token is set). */
int kube_oidc_can_refresh(const struct kube_oidc *o);

/* The id-token to send as *bearer (malloc'd) and its generation in *gen.
 * A token that expires within 10 s, has no exp claim, or is the rejected
 * generation (after a 401; 0 = none) is refreshed first. Not thread-safe:
 * the caller holds the lock that makes a refresh single-flight. Returns 0,
 * or -1 with a message naming the issuer and what to do (never a token). */
int kube_oidc_token(struct kube_oidc *o, struct check_ctx *ctx, unsigned rejected, char **bearer,
                    unsigned *gen, struct pg_err *e);

/* The exp claim of a JWT in seconds since the epoch: 0 when the token has
 * no exp claim, -1 when it is not a JWT (three base64url parts, the second
 * a JSON object). */
double kube_jwt_exp(const char *jwt);

#endif
