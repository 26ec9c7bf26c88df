/* kube_oidc.c - the kubeconfig oidc auth-provider: id-token expiry, and its
 * refresh through the identity provider's discovery document and token
 * endpoint, following client-go's plugin (see kube_oidc.h). */
#include "kube_oidc.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "k8s_api.h"
#include "mask.h"
#include "module.h"

/* client-go's expiryDelta: a token this close to its exp is refreshed. */
#define OIDC_EXPIRY_DELTA_S 10
#define OIDC_MAX_BODY (1024 * 1024)

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

double kube_jwt_exp(const char *jwt)
{
	const char *a = jwt ? strchr(jwt, '.') : NULL;
	const char *b = a ? strchr(a + 1, '.') : NULL;
	if (!b || strchr(b + 1, '.'))
		return -1;
	/* base64url without padding, as JWTs carry it: turned into the
	 * standard alphabet with its padding for the one decoder */
	size_t plen = (size_t)(b - a - 1);
	char *part = xmalloc(plen + 4);
	for (size_t i = 0; i < plen; i++)
		part[i] = a[1 + i] == '-' ? '+' : a[1 + i] == '_' ? '/' : a[1 + i];
	while (plen % 4)
		part[plen++] = '=';
	part[plen] = 0;
	size_t len;
	char *claims = base64_decode(part, &len);
	free(part);
	if (!claims)
		return -1;
	json_t *j = json_loadb(claims, len, 0, NULL);
	free(claims);
	if (!json_is_object(j)) {
		if (j)
			json_decref(j);
		return -1;
	}
	double exp = json_number_value(json_object_get(j, "exp"));
	json_decref(j);
	return exp > 0 ? exp : 0;
}

int kube_oidc_read(struct kube_oidc *o, json_t *cfg, const char *user, const char *where,
                   struct pg_err *e)
{
	memset(o, 0, sizeof(*o));
	const char *secrets[] = {"id-token", "refresh-token", "client-secret"};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		mask_add(jstr(cfg, secrets[i]));
	o->user = xstrdup(user ? user : "");
	const char *issuer = jstr(cfg, "idp-issuer-url");
	const char *client = jstr(cfg, "client-id");
	if (!issuer || !*issuer)
		return pg_error(e, "%s: the oidc auth-provider must provide idp-issuer-url", where);
	if (!client || !*client)
		return pg_error(e, "%s: the oidc auth-provider must provide client-id", where);
	o->issuer = xstrdup(issuer);
	o->client_id = xstrdup(client);
	const char *v = jstr(cfg, "client-secret");
	o->client_secret = v && *v ? xstrdup(v) : NULL;
	v = jstr(cfg, "id-token");
	o->id_token = v && *v ? xstrdup(v) : NULL;
	v = jstr(cfg, "refresh-token");
	o->refresh_token = v && *v ? xstrdup(v) : NULL;
	v = jstr(cfg, "idp-certificate-authority");
	o->ca_file = v && *v ? xstrdup(v) : NULL;
	v = jstr(cfg, "idp-certificate-authority-data");
	if (v && *v) {
		size_t len;
		char *pem = base64_decode(v, &len);
		if (!pem || memchr(pem, 0, len)) {
			free(pem);
			return pg_error(
			    e, "%s: idp-certificate-authority-data is not Base64 of PEM text",
			    where);
		}
		o->ca_pem = pem;
	}
	o->gen = 1;
	return 0;
}

void kube_oidc_release(struct kube_oidc *o)
{
	free(o->issuer);
	free(o->client_id);
	free(o->client_secret);
	free(o->ca_file);
	free(o->ca_pem);
	free(o->id_token);
	free(o->refresh_token);
	free(o->user);
	free(o->proxy);
	memset(o, 0, sizeof(*o));
}

int kube_oidc_can_refresh(const struct kube_oidc *o)
{
	return o->issuer && o->refresh_token;
}

/* One exchange with the identity provider, verified with its CA. */
static int idp_do(struct kube_oidc *o, struct check_ctx *ctx, const char *method, const char *url,
                  const char *const *headers, const char *body, struct http_response *rs,
                  struct pg_err *e)
{
	struct http_request rq = {
	    .method = method,
	    .url = url,
	    .headers = headers,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .max_body = OIDC_MAX_BODY,
	    .proxy = o->proxy,
	};
	rq.tls.ca_file = o->ca_file;
	rq.tls.ca_pem = o->ca_pem;
	if (http_do(ctx, &rq, rs) != 0) {
		pg_error(e, "%s %s: %s", method, url, rs->error ? rs->error : "no response");
		http_response_release(rs);
		return -1;
	}
	return 0;
}

/* The token endpoint from the issuer's discovery document (*out malloc'd). */
static int token_endpoint(struct kube_oidc *o, struct check_ctx *ctx, char **out, struct pg_err *e)
{
	size_t n = strlen(o->issuer);
	while (n && o->issuer[n - 1] == '/')
		n--;
	char *url = xasprintf("%.*s/.well-known/openid-configuration", (int)n, o->issuer);
	const char *hdr[] = {"Accept: application/json", NULL};
	struct http_response rs;
	int rc = -1;
	if (idp_do(o, ctx, "GET", url, hdr, NULL, &rs, e) != 0)
		goto out_url;
	json_t *j = rs.status == 200 ? http_body_json(&rs) : NULL;
	const char *te = jstr(j, "token_endpoint");
	if (rs.status != 200) {
		char *sb = k8s_body_excerpt(&rs, 80);
		pg_error(e, "discovery GET %s answered %ld: '%s'", url, rs.status, sb);
		free(sb);
	} else if (!json_is_object(j)) {
		pg_error(e, "discovery GET %s: the answer is not a JSON object", url);
	} else if (!te || !*te) {
		pg_error(e, "discovery GET %s: the document names no token_endpoint", url);
	} else if (strncmp(te, "https://", 8) != 0 && strncmp(o->issuer, "https://", 8) == 0) {
		/* the refresh token and client secret never leave TLS */
		pg_error(e, "discovery GET %s: the token_endpoint '%s' is not https", url, te);
	} else {
		*out = xstrdup(te);
		rc = 0;
	}
	if (j)
		json_decref(j);
	http_response_release(&rs);
out_url:
	free(url);
	return rc;
}

static char *form_esc(const char *s)
{
	char *c = curl_easy_escape(NULL, s ? s : "", 0);
	char *out = xstrdup(c ? c : "");
	curl_free(c);
	return out;
}

/* Forgets a string holding a secret. */
static void free_secret(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

/* POSTs the refresh grant; in_header: client credentials as HTTP Basic
 * (URL-escaped, RFC 6749 2.3.1), else as form fields. */
static int token_post(struct kube_oidc *o, struct check_ctx *ctx, const char *url, int in_header,
                      struct http_response *rs, struct pg_err *e)
{
	char *rt = form_esc(o->refresh_token);
	char *id = form_esc(o->client_id);
	char *sec = form_esc(o->client_secret);
	char *body, *auth = NULL;
	if (in_header) {
		body = xasprintf("grant_type=refresh_token&refresh_token=%s", rt);
		char *pair = xasprintf("%s:%s", id, sec);
		char *b64 = base64_encode(pair, strlen(pair));
		mask_add(b64);
		auth = xasprintf("Authorization: Basic %s", b64);
		free_secret(pair);
		free_secret(b64);
	} else {
		body = xasprintf("client_id=%s%s%s&grant_type=refresh_token&refresh_token=%s", id,
		                 o->client_secret ? "&client_secret=" : "",
		                 o->client_secret ? sec : "", rt);
	}
	const char *hdr[] = {"Accept: application/json",
	                     "Content-Type: application/x-www-form-urlencoded", auth, NULL};
	int rc = idp_do(o, ctx, "POST", url, hdr, body, rs, e);
	free_secret(body);
	free_secret(auth);
	free_secret(rt);
	free(id);
	free_secret(sec);
	return rc;
}

/* The refused answer as "400 invalid_grant: description". */
static char *refusal(const struct http_response *rs)
{
	json_t *j = http_body_json(rs);
	const char *err = jstr(j, "error");
	const char *desc = jstr(j, "error_description");
	char *out;
	if (err && desc)
		out = xasprintf("%ld %.100s: %.200s", rs->status, err, desc);
	else if (err)
		out = xasprintf("%ld %.100s", rs->status, err);
	else {
		char *sb = k8s_body_excerpt(rs, 80);
		out = xasprintf("%ld '%s'", rs->status, sb);
		free(sb);
	}
	if (j)
		json_decref(j);
	for (char *p = out; *p; p++) /* one line in every report */
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return out;
}

static int refresh(struct kube_oidc *o, struct check_ctx *ctx, struct pg_err *e)
{
	char *url = NULL;
	struct pg_err de;
	if (token_endpoint(o, ctx, &url, &de) != 0)
		return pg_error(e, "cannot refresh the oidc id-token through %s: %s", o->issuer,
		                de.msg);
	struct http_response rs;
	int rc = -1;
	if (token_post(o, ctx, url, 1, &rs, &de) != 0)
		goto fail_transport;
	if (rs.status / 100 != 2) {
		/* oauth2's auto-detection: a provider refusing Basic
		 * credentials may take them as form fields */
		http_response_release(&rs);
		if (token_post(o, ctx, url, 0, &rs, &de) != 0)
			goto fail_transport;
	}
	if (rs.status / 100 != 2) {
		char *why = refusal(&rs);
		pg_error(e,
		         "the identity provider %s refused to refresh the oidc id-token (%s); log "
		         "in again (kubectl oidc-login, kubelogin) to get a new refresh-token",
		         o->issuer, why);
		free(why);
		goto out;
	}
	json_t *j = http_body_json(&rs);
	const char *idt = jstr(j, "id_token");
	const char *nrt = jstr(j, "refresh_token");
	/* registered before anything can print them */
	mask_add(idt);
	mask_add(nrt);
	mask_add(jstr(j, "access_token"));
	if (!json_is_object(j)) {
		pg_error(e, "the token endpoint %s of %s answered %ld with no JSON object", url,
		         o->issuer, rs.status);
	} else if (!jstr(j, "access_token")) {
		pg_error(e, "the token endpoint %s of %s answered without an access_token", url,
		         o->issuer);
	} else if (!idt || !*idt) {
		pg_error(e,
		         "the token answer of %s contained no id_token (the scope \"openid\" was "
		         "not requested at login, or the provider does not return id_tokens on "
		         "refresh)",
		         o->issuer);
	} else {
		free_secret(o->id_token);
		o->id_token = xstrdup(idt);
		if (nrt && *nrt && strcmp(nrt, o->refresh_token) != 0) {
			free_secret(o->refresh_token);
			o->refresh_token = xstrdup(nrt);
		}
		o->gen++;
		o->refreshes++;
		rc = 0;
	}
	if (j)
		json_decref(j);
out:
	http_response_release(&rs);
	free(url);
	return rc;
fail_transport:
	pg_error(e, "cannot refresh the oidc id-token through %s: %s", o->issuer, de.msg);
	free(url);
	return -1;
}

int kube_oidc_token(struct kube_oidc *o, struct check_ctx *ctx, unsigned rejected, char **bearer,
                    unsigned *gen, struct pg_err *e)
{
	*bearer = NULL;
	*gen = 0;
	const char *why = NULL;
	char *at = NULL;
	if (o->id_token && rejected != o->gen) {
		double exp = kube_jwt_exp(o->id_token);
		if (exp < 0)
			return pg_error(e, "the oidc id-token of user '%s' is not a valid JWT",
			                o->user);
		if ((double)time(NULL) + OIDC_EXPIRY_DELTA_S < exp) {
			*bearer = xstrdup(o->id_token);
			*gen = o->gen;
			return 0;
		}
		if (exp > 0) {
			at = iso8601_at(exp);
			why = "expired";
		} else {
			why = "has no exp claim";
		}
	} else {
		why = o->id_token ? "was rejected by the API server (401)" : "is not set";
	}
	if (!o->refresh_token) {
		pg_error(e,
		         "the oidc id-token of user '%s' %s%s%s and no refresh-token is configured "
		         "to renew it; log in again (kubectl oidc-login, kubelogin) or use an exec "
		         "credential plugin",
		         o->user, why, at ? " at " : "", at ? at : "");
		free(at);
		return -1;
	}
	free(at);
	if (refresh(o, ctx, e) != 0)
		return -1;
	*bearer = xstrdup(o->id_token);
	*gen = o->gen;
	return 0;
}
