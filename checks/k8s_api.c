/* k8s_api.c - the Kubernetes API client of the k8s module: requests with
 * the kubeconfig's TLS and credentials, actionable error messages, the
 * discovery cache and kubectl-style resource name resolution, paging, and
 * small helpers (times, selectors, SHA-256). See k8s_api.h. */
#include "k8s_api.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "module.h"

#define K8S_MAX_BODY (64u * 1024 * 1024)

void k8s_client_init(struct k8s_client *c, const struct kube_config_opts *o)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->gv_seen = json_object();
	struct pg_err e;
	if (kube_config_load(&c->kc, o, &e) != 0)
		c->kc_error = xstrdup(e.msg);
}

static void res_free(struct k8s_res *r)
{
	free(r->group);
	free(r->version);
	free(r->plural);
	free(r->singular);
	free(r->kind);
	for (size_t i = 0; r->short_names && r->short_names[i]; i++)
		free(r->short_names[i]);
	free(r->short_names);
	free(r);
}

void k8s_client_release(struct k8s_client *c)
{
	if (!c->kc_error)
		kube_config_release(&c->kc);
	free(c->kc_error);
	for (size_t i = 0; i < c->nres; i++)
		res_free(c->res[i]);
	free(c->res);
	json_decref(c->gv_seen);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

/* One attempt with the given credentials. */
static int call_once(struct k8s_client *c, struct check_ctx *ctx, const char *method,
                     const char *url, const char *ctype, const char *body, int refresh,
                     struct http_response *rs, char **err)
{
	struct kube_config *kc = &c->kc;
	char *bearer = NULL, *cert = NULL, *key = NULL, *auth = NULL, *ct = NULL;
	struct pg_err e;
	int rc = -1;
	if (kube_credentials(kc, ctx, refresh, &bearer, &cert, &key, &e) != 0) {
		*err = xasprintf("cannot get credentials for user '%s' from %s: %s",
		                 kc->user_name ? kc->user_name : "", kc->origin, e.msg);
		return -1;
	}
	const char *headers[4];
	size_t nh = 0;
	headers[nh++] = "Accept: application/json";
	if (bearer && *bearer) {
		auth = xasprintf("Authorization: Bearer %s", bearer);
	} else if (kc->username) {
		char *up = xasprintf("%s:%s", kc->username, kc->password ? kc->password : "");
		char *enc = base64_encode(up, strlen(up));
		auth = xasprintf("Authorization: Basic %s", enc);
		free(enc);
		free(up);
	}
	if (auth)
		headers[nh++] = auth;
	if (ctype) {
		ct = xasprintf("Content-Type: %s", ctype);
		headers[nh++] = ct;
	}
	headers[nh] = NULL;
	struct http_request rq = {
	    .method = method,
	    .url = url,
	    .headers = headers,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .max_body = K8S_MAX_BODY,
	    .proxy = kc->proxy_url,
	};
	rq.tls.ca_file = kc->ca_file;
	rq.tls.ca_pem = kc->ca_pem;
	rq.tls.server_name = kc->tls_server_name;
	rq.tls.insecure = kc->insecure;
	if (cert && key) {
		rq.tls.cert_pem = cert;
		rq.tls.key_pem = key;
	} else {
		rq.tls.cert_file = kc->cert_file;
		rq.tls.key_file = kc->key_file;
		rq.tls.cert_pem = kc->cert_pem;
		rq.tls.key_pem = kc->key_pem;
	}
	memset(rs, 0, sizeof(*rs));
	if (http_do(ctx, &rq, rs) != 0) {
		const char *ca = kc->ca_file  ? kc->ca_file
		                 : kc->ca_pem ? "certificate-authority-data"
		                              : "the system CAs";
		*err = xasprintf("cannot reach the API server %s of cluster '%s' (%s; CA: %s): %s",
		                 kc->server, kc->cluster_name ? kc->cluster_name : "in-cluster",
		                 kc->origin, ca, rs->error ? rs->error : "no response");
		http_response_release(rs); /* callers release only answers */
		goto out;
	}
	rc = 0;
out:
	free(auth);
	free(ct);
	if (bearer) {
		memset(bearer, 0, strlen(bearer));
		free(bearer);
	}
	free(cert);
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	return rc;
}

int k8s_call(struct k8s_client *c, struct check_ctx *ctx, const char *method, const char *path,
             const char *ctype, const char *body, struct http_response *rs, char **err)
{
	*err = NULL;
	if (c->kc_error) {
		memset(rs, 0, sizeof(*rs));
		*err = xstrdup(c->kc_error);
		return -1;
	}
	char *url = xasprintf("%s%s", c->kc.server, path);
	int rc = call_once(c, ctx, method, url, ctype, body, 0, rs, err);
	if (rc == 0 && rs->status == 401 && kube_config_can_refresh(&c->kc)) {
		http_response_release(rs);
		rc = call_once(c, ctx, method, url, ctype, body, 1, rs, err);
	}
	free(url);
	return rc;
}

/* The message of a Status answer, or a short piece of the body. */
static char *status_text(const struct http_response *rs)
{
	json_t *j = http_body_json(rs);
	const char *m = json_string_value(json_object_get(j, "message"));
	char *out;
	if (m && *m)
		out = xstrdup(m);
	else if (rs->body.len)
		out = xasprintf("%.200s", buf_str(&rs->body));
	else
		out = xstrdup("(no message)");
	if (j)
		json_decref(j);
	/* one line: server text goes into console lines and reports */
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return out;
}

char *k8s_status_error(struct k8s_client *c, const struct http_response *rs, const char *what)
{
	char *m = status_text(rs);
	char *out;
	const char *user = c->kc.user_name ? c->kc.user_name : "(service account)";
	switch (rs->status) {
	case 401:
		out = xasprintf(
		    "%s: the API server rejected the credentials (401 Unauthorized) of user "
		    "'%s' from %s; renew the token or certificate",
		    what, user, c->kc.origin);
		break;
	case 403:
		out = xasprintf("%s: forbidden (403): %s", what, m);
		break;
	case 404:
		out = xasprintf("%s: not found (404): %s", what, m);
		break;
	case 409:
		out = xasprintf("%s: conflict (409): %s; use force: true to take ownership of the "
		                "conflicting fields",
		                what, m);
		break;
	case 422:
		out = xasprintf("%s: the server refused the object as invalid (422): %s", what, m);
		break;
	case 429:
		out = xasprintf("%s: the API server is throttling requests (429): %s", what, m);
		break;
	default:
		if (rs->status >= 500)
			out = xasprintf(
			    "%s: the API server failed with %ld: %s; retry later or check "
			    "the control plane",
			    what, rs->status, m);
		else
			out = xasprintf("%s: the API server answered %ld: %s", what, rs->status, m);
		break;
	}
	free(m);
	return out;
}

/* ---- discovery ------------------------------------------------------- */

static void add_res(struct k8s_client *c, const char *group, const char *version, json_t *r)
{
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *kind = json_string_value(json_object_get(r, "kind"));
	if (!name || !kind || strchr(name, '/'))
		return; /* subresources are reached through their parent */
	for (size_t i = 0; i < c->nres; i++)
		if (strcmp(c->res[i]->group, group) == 0 && strcmp(c->res[i]->plural, name) == 0)
			return; /* another version of a resource already known */
	struct k8s_res *x = xcalloc(1, sizeof(*x));
	x->group = xstrdup(group);
	x->version = xstrdup(version);
	x->plural = xstrdup(name);
	const char *sing = json_string_value(json_object_get(r, "singularName"));
	if (sing && *sing) {
		x->singular = xstrdup(sing);
	} else {
		x->singular = xstrdup(kind);
		for (char *p = x->singular; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	x->kind = xstrdup(kind);
	x->namespaced = json_is_true(json_object_get(r, "namespaced"));
	json_t *sn = json_object_get(r, "shortNames");
	size_t n = json_array_size(sn);
	x->short_names = xcalloc(n + 1, sizeof(char *));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(sn, i));
		if (s)
			x->short_names[k++] = xstrdup(s);
	}
	if (c->nres == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 64;
		c->res = xrealloc(c->res, c->alloc * sizeof(*c->res));
	}
	c->res[c->nres++] = x;
}

/* GETs a discovery document; caller holds c->lock. */
static json_t *get_doc(struct k8s_client *c, struct check_ctx *ctx, const char *path, char **err)
{
	struct http_response rs;
	if (k8s_call(c, ctx, "GET", path, NULL, NULL, &rs, err) != 0)
		return NULL;
	json_t *j = NULL;
	if (rs.status / 100 != 2) {
		char *what = xasprintf("discovery GET %s", path);
		*err = k8s_status_error(c, &rs, what);
		free(what);
	} else if (!(j = http_body_json(&rs))) {
		*err = xasprintf("discovery GET %s: the API server's answer is not JSON", path);
	}
	http_response_release(&rs);
	return j;
}

/* Reads one group/version's resource list; caller holds c->lock. A 404
 * (the version is not served) is not an error: nothing is added. */
static int read_gv(struct k8s_client *c, struct check_ctx *ctx, const char *group,
                   const char *version, char **err)
{
	char *gv = *group ? xasprintf("%s/%s", group, version) : xstrdup(version);
	if (json_object_get(c->gv_seen, gv)) {
		free(gv);
		return 0;
	}
	char *path = *group ? xasprintf("/apis/%s", gv) : xasprintf("/api/%s", gv);
	struct http_response rs;
	int rc = -1;
	if (k8s_call(c, ctx, "GET", path, NULL, NULL, &rs, err) != 0)
		goto out;
	if (rs.status == 404) {
		rc = 0; /* not served: remembered as false */
	} else if (rs.status / 100 != 2) {
		char *what = xasprintf("discovery GET %s", path);
		*err = k8s_status_error(c, &rs, what);
		free(what);
	} else {
		json_t *j = http_body_json(&rs);
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(j, "resources"), i, r)
		    add_res(c, group, version, r);
		if (j)
			json_decref(j);
		rc = 0;
	}
	if (rc == 0)
		json_object_set_new(c->gv_seen, gv, json_boolean(rs.status != 404));
	http_response_release(&rs);
out:
	free(path);
	free(gv);
	return rc;
}

/* Reads /api and /apis with every group's preferred version, once. */
static int discover(struct k8s_client *c, struct check_ctx *ctx, char **err)
{
	if (c->discovered)
		return 0;
	json_t *core = get_doc(c, ctx, "/api", err);
	if (!core)
		return -1;
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(json_object_get(core, "versions"), i, v)
	{
		if (json_is_string(v) && read_gv(c, ctx, "", json_string_value(v), err) != 0) {
			rc = -1;
			break;
		}
	}
	json_decref(core);
	if (rc != 0)
		return -1;
	json_t *apis = get_doc(c, ctx, "/apis", err);
	if (!apis)
		return -1;
	json_t *g;
	json_array_foreach(json_object_get(apis, "groups"), i, g)
	{
		const char *name = json_string_value(json_object_get(g, "name"));
		json_t *pv = json_object_get(g, "preferredVersion");
		const char *ver = json_string_value(json_object_get(pv, "version"));
		if (!ver)
			ver = json_string_value(json_object_get(
			    json_array_get(json_object_get(g, "versions"), 0), "version"));
		if (name && ver && read_gv(c, ctx, name, ver, err) != 0) {
			rc = -1;
			break;
		}
	}
	json_decref(apis);
	if (rc == 0)
		c->discovered = 1;
	return rc;
}

static int name_matches(const struct k8s_res *r, const char *n)
{
	if (strcasecmp(r->plural, n) == 0 || strcasecmp(r->singular, n) == 0 ||
	    strcasecmp(r->kind, n) == 0)
		return 1;
	for (size_t i = 0; r->short_names[i]; i++)
		if (strcasecmp(r->short_names[i], n) == 0)
			return 1;
	return 0;
}

static const struct k8s_res *find_res(struct k8s_client *c, const char *name, const char *group,
                                      const char *version)
{
	for (size_t i = 0; i < c->nres; i++) {
		const struct k8s_res *r = c->res[i];
		if (group && strcasecmp(r->group, group) != 0)
			continue;
		if (version && strcmp(r->version, version) != 0)
			continue;
		if (name_matches(r, name))
			return r;
	}
	return NULL;
}

static int looks_like_version(const char *s, size_t n)
{
	return n >= 2 && s[0] == 'v' && isdigit((unsigned char)s[1]);
}

int k8s_resolve(struct k8s_client *c, struct check_ctx *ctx, const char *type,
                const char *api_version, const struct k8s_res **out, char **err)
{
	*out = NULL;
	*err = NULL;
	pthread_mutex_lock(&c->lock);
	int rc = -1;
	const struct k8s_res *r = NULL;
	if (discover(c, ctx, err) != 0)
		goto out;
	if (api_version && *api_version) {
		/* Kind + apiVersion: that exact group/version, read on demand. */
		const char *slash = strchr(api_version, '/');
		char *group =
		    slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
		const char *version = slash ? slash + 1 : api_version;
		r = find_res(c, type, group, version);
		if (!r) {
			/* not the preferred version: read that version's list (it
			 * is added only when the group has no such plural yet, so
			 * look it up by kind in a private pass) */
			if (read_gv(c, ctx, group, version, err) != 0) {
				free(group);
				goto out;
			}
			r = find_res(c, type, group, version);
			char *gv = *group ? xstrdup(api_version) : xstrdup(version);
			if (!r && json_is_true(json_object_get(c->gv_seen, gv))) {
				/* the version is served, but the resource was
				 * recorded under the group's preferred version */
				r = find_res(c, type, group, NULL);
			}
			free(gv);
		}
		if (!r)
			*err = xasprintf("the server has no resource type '%s' in %s (kubectl "
			                 "api-resources lists the known ones)",
			                 type, api_version);
		free(group);
	} else {
		r = find_res(c, type, NULL, NULL);
		const char *dot = strchr(type, '.');
		if (!r && dot) {
			/* "deployments.apps" or "deployment.v1.apps" */
			char *name = xstrndup(type, (size_t)(dot - type));
			const char *rest = dot + 1;
			const char *dot2 = strchr(rest, '.');
			if (dot2 && looks_like_version(rest, (size_t)(dot2 - rest))) {
				char *ver = xstrndup(rest, (size_t)(dot2 - rest));
				r = find_res(c, name, dot2 + 1, ver);
				if (!r)
					r = find_res(c, name, dot2 + 1, NULL);
				free(ver);
			}
			if (!r)
				r = find_res(c, name, rest, NULL);
			free(name);
		}
		if (!r)
			*err =
			    xasprintf("the server has no resource type '%s' (kubectl api-resources "
			              "lists the known ones)",
			              type);
	}
	if (r) {
		*out = r;
		rc = 0;
	}
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

char *k8s_res_qualified(const struct k8s_res *r)
{
	return *r->group ? xasprintf("%s.%s", r->plural, r->group) : xstrdup(r->plural);
}

char *k8s_qesc(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			buf_addc(&b, (char)*p);
		else
			buf_addf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

char *k8s_path(const struct k8s_res *r, const char *ns, const char *name, const char *query)
{
	struct buf b;
	buf_init(&b, 0);
	if (*r->group)
		buf_addf(&b, "/apis/%s/%s", r->group, r->version);
	else
		buf_addf(&b, "/api/%s", r->version);
	if (r->namespaced && ns && *ns) {
		char *e = k8s_qesc(ns);
		buf_addf(&b, "/namespaces/%s", e);
		free(e);
	}
	buf_addf(&b, "/%s", r->plural);
	if (name && *name) {
		char *e = k8s_qesc(name);
		buf_addf(&b, "/%s", e);
		free(e);
	}
	if (query && *query)
		buf_addf(&b, "?%s", query);
	return buf_detach(&b);
}

double k8s_time(const char *s)
{
	if (!s || !*s)
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	double frac = 0;
	if (*p == '.') {
		double scale = 0.1;
		while (isdigit((unsigned char)*++p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	long off = 0;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) >= 1)
			off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
	}
	return (double)timegm(&tm) + frac - (double)off;
}

char *k8s_selector_string(json_t *sel)
{
	struct buf b;
	buf_init(&b, 0);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(sel, "matchLabels"), k, v)
	{
		if (b.len)
			buf_addc(&b, ',');
		buf_addf(&b, "%s=%s", k, json_string_value(v) ? json_string_value(v) : "");
	}
	size_t i;
	json_t *ex;
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, ex)
	{
		const char *key = json_string_value(json_object_get(ex, "key"));
		const char *op = json_string_value(json_object_get(ex, "operator"));
		if (!key || !op)
			continue;
		if (b.len)
			buf_addc(&b, ',');
		if (strcmp(op, "Exists") == 0) {
			buf_adds(&b, key);
		} else if (strcmp(op, "DoesNotExist") == 0) {
			buf_addf(&b, "!%s", key);
		} else {
			buf_addf(&b, "%s %s (", key, strcmp(op, "NotIn") == 0 ? "notin" : "in");
			size_t j;
			json_t *val;
			json_array_foreach(json_object_get(ex, "values"), j, val)
			    buf_addf(&b, "%s%s", j ? "," : "",
			             json_string_value(val) ? json_string_value(val) : "");
			buf_addc(&b, ')');
		}
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

int k8s_list_all(struct k8s_client *c, struct check_ctx *ctx, const char *what, const char *path,
                 long long limit, json_t **items, char **err)
{
	*items = json_array();
	*err = NULL;
	char *cont = NULL;
	int rc = -1;
	for (int page = 0; page < 100000; page++) {
		struct buf url;
		buf_init(&url, 0);
		buf_adds(&url, path);
		char sep = strchr(path, '?') ? '&' : '?';
		if (limit > 0) {
			buf_addf(&url, "%climit=%lld", sep, limit);
			sep = '&';
		}
		if (cont) {
			char *e = k8s_qesc(cont);
			buf_addf(&url, "%ccontinue=%s", sep, e);
			free(e);
		}
		struct http_response rs;
		int r = k8s_call(c, ctx, "GET", buf_str(&url), NULL, NULL, &rs, err);
		buf_release(&url);
		if (r != 0)
			goto out;
		if (rs.status / 100 != 2) {
			*err = k8s_status_error(c, &rs, what);
			http_response_release(&rs);
			goto out;
		}
		json_t *j = http_body_json(&rs);
		http_response_release(&rs);
		if (!json_is_object(j)) {
			*err = xasprintf("%s: the API server's answer is not a JSON list", what);
			if (j)
				json_decref(j);
			goto out;
		}
		json_array_extend(*items, json_object_get(j, "items"));
		const char *next =
		    json_string_value(json_object_get(json_object_get(j, "metadata"), "continue"));
		free(cont);
		cont = next && *next ? xstrdup(next) : NULL;
		json_decref(j);
		if (!cont) {
			rc = 0;
			goto out;
		}
		if (ctx && ctx_cancelled(ctx)) {
			*err = xasprintf("%s: interrupted", what);
			goto out;
		}
	}
	*err = xasprintf("%s: the server kept returning more pages", what);
out:
	free(cont);
	if (rc != 0) {
		json_decref(*items);
		*items = NULL;
	}
	return rc;
}

/* ---- YAML output ----------------------------------------------------- */

/* YAML scalar text: JSON's double-quoted strings are valid YAML. */
static void yaml_scalar(struct buf *b, json_t *v)
{
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	buf_adds(b, t ? t : "null");
	free(t);
}

static int yaml_simple_key(const char *k)
{
	if (!*k)
		return 0;
	for (const char *p = k; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '/'))
			return 0;
	return !(strcmp(k, "true") == 0 || strcmp(k, "false") == 0 || strcmp(k, "null") == 0 ||
	         strcmp(k, "yes") == 0 || strcmp(k, "no") == 0 || strcmp(k, "on") == 0 ||
	         strcmp(k, "off") == 0 || (*k >= '0' && *k <= '9') || *k == '-' || *k == '.');
}

static void yaml_key(struct buf *b, const char *k)
{
	if (yaml_simple_key(k)) {
		buf_adds(b, k);
	} else {
		json_t *s = json_string(k);
		yaml_scalar(b, s);
		json_decref(s);
	}
}

static int yaml_is_block(json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) ||
	       (json_is_array(v) && json_array_size(v) > 0);
}

static void yaml_emit(struct buf *b, json_t *v, int indent);

static void yaml_value_after_key(struct buf *b, json_t *v, int indent)
{
	if (yaml_is_block(v)) {
		buf_addc(b, '\n');
		yaml_emit(b, v, json_is_array(v) ? indent : indent + 2);
	} else {
		buf_addc(b, ' ');
		if (json_is_object(v))
			buf_adds(b, "{}");
		else if (json_is_array(v))
			buf_adds(b, "[]");
		else
			yaml_scalar(b, v);
		buf_addc(b, '\n');
	}
}

/* Block-style YAML of v at indent (v is a non-empty map or list). */
static void yaml_emit(struct buf *b, json_t *v, int indent)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			buf_addf(b, "%*s", indent, "");
			yaml_key(b, k);
			buf_addc(b, ':');
			yaml_value_after_key(b, x, indent);
		}
	} else {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
		{
			buf_addf(b, "%*s-", indent, "");
			if (json_is_object(x) && json_object_size(x) > 0) {
				/* first key on the dash line, the rest aligned under it */
				struct buf inner;
				buf_init(&inner, 0);
				yaml_emit(&inner, x, indent + 2);
				buf_adds(b, buf_str(&inner) + indent + 1);
				buf_release(&inner);
			} else if (yaml_is_block(x)) {
				buf_addc(b, '\n');
				yaml_emit(b, x, indent + 2);
			} else {
				yaml_value_after_key(b, x, indent);
			}
		}
	}
}

void k8s_yaml(struct buf *b, json_t *obj)
{
	if (yaml_is_block(obj))
		yaml_emit(b, obj, 0);
	else
		yaml_value_after_key(b, obj, 0);
}

/* ---- SHA-256 (FIPS 180-4) -------------------------------------------- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
		              sha_k[i] + w[i];
		uint32_t t2 =
		    (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void k8s_sha256_hex(const void *data, size_t len, char hex[65])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const unsigned char *p = data;
	size_t full = len / 64 * 64;
	for (size_t i = 0; i < full; i += 64)
		sha_block(h, p + i);
	unsigned char tail[128];
	size_t rest = len - full;
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	size_t tl = rest + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tl - 1 - i] = (unsigned char)(bits >> (8 * i));
	sha_block(h, tail);
	if (tl == 128)
		sha_block(h, tail + 64);
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 4; j++) {
			unsigned char byte = (unsigned char)(h[i] >> (24 - 8 * j));
			hex[i * 8 + j * 2] = digits[byte >> 4];
			hex[i * 8 + j * 2 + 1] = digits[byte & 15];
		}
	hex[64] = 0;
}
