/* k8s_api.c - the Kubernetes API client of the k8s module: requests with
 * the kubeconfig's TLS and credentials, actionable error messages, the
 * discovery cache and kubectl-style resource name resolution, paging, and
 * small helpers (times, selectors, SHA-256). See k8s_api.h. */
#include "k8s_api.h"

#include <ctype.h>
#include <curl/curl.h>
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
	c->gv_failed = json_object();
	c->groups = json_object();
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
	json_decref(c->gv_failed);
	json_decref(c->groups);
	pthread_mutex_destroy(&c->lock);
	memset(c, 0, sizeof(*c));
}

/* A NULL-terminated list of owned strings. */
struct strv {
	char **v;
	size_t n, alloc;
};

static void strv_add(struct strv *s, char *x)
{
	if (s->n + 2 > s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : 8;
		s->v = xrealloc(s->v, s->alloc * sizeof(char *));
	}
	s->v[s->n++] = x;
	s->v[s->n] = NULL;
}

/* client-go's header key escaping for Impersonate-Extra-: characters that
 * are not legal in a header name are percent-encoded. */
static char *extra_key(const char *k)
{
	struct buf b;
	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
		if (isalnum(*p) || strchr("!#$&'*+-.^_`|~", *p))
			buf_addc(&b, (char)*p);
		else
			buf_addf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

/* The kubeconfig's impersonation as client-go's ImpersonatingRoundTripper
 * sends it: Impersonate-User, -Uid, one Impersonate-Group per group, one
 * Impersonate-Extra-KEY per value. */
static void impersonation_headers(const struct kube_config *kc, struct strv *hv)
{
	if (!kc->as_user)
		return;
	strv_add(hv, xasprintf("Impersonate-User: %s", kc->as_user));
	if (kc->as_uid)
		strv_add(hv, xasprintf("Impersonate-Uid: %s", kc->as_uid));
	for (size_t i = 0; kc->as_groups && kc->as_groups[i]; i++)
		strv_add(hv, xasprintf("Impersonate-Group: %s", kc->as_groups[i]));
	const char *k;
	json_t *vals;
	json_object_foreach(kc->as_extra, k, vals)
	{
		char *ek = extra_key(k);
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v)
		    strv_add(hv, xasprintf("Impersonate-Extra-%s: %s", ek, json_string_value(v)));
		free(ek);
	}
}

/* One attempt with the given credentials. */
static int call_once(struct k8s_client *c, struct check_ctx *ctx, const char *method,
                     const char *url, const char *ctype, const char *body,
                     const struct k8s_stream *stream, unsigned rejected, unsigned *used,
                     struct http_response *rs, char **err)
{
	struct kube_config *kc = &c->kc;
	char *bearer = NULL, *cert = NULL, *key = NULL, *auth = NULL;
	struct pg_err e;
	int rc = -1;
	if (kube_credentials_gen(kc, ctx, rejected, &bearer, &cert, &key, used, &e) != 0) {
		*err = xasprintf("cannot get credentials for user '%s' from %s: %s",
		                 kc->user_name ? kc->user_name : "", kc->origin, e.msg);
		return -1;
	}
	struct strv hv = {0}; /* owned header lines */
	strv_add(&hv, xstrdup("Accept: application/json"));
	impersonation_headers(kc, &hv);
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
		strv_add(&hv, auth);
	auth = NULL;
	if (ctype)
		strv_add(&hv, xasprintf("Content-Type: %s", ctype));
	struct http_request rq = {
	    .method = method,
	    .url = url,
	    .headers = (const char *const *)hv.v,
	    .body = body,
	    .body_len = body ? strlen(body) : 0,
	    .max_body = K8S_MAX_BODY,
	    .proxy = kc->proxy,
	};
	if (stream) {
		rq.on_body = stream->on_body;
		rq.on_idle = stream->on_idle;
		rq.on_body_arg = stream->arg;
	}
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
		int code = rs->curl_code;
		long proxy_status = rs->proxy_status;
		http_response_release(rs); /* callers release only answers */
		rs->curl_code = code;      /* but k8s_call decides on retries by them */
		rs->proxy_status = proxy_status;
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < hv.n; i++) {
		/* header lines may hold the credential */
		memset(hv.v[i], 0, strlen(hv.v[i]));
		free(hv.v[i]);
	}
	free(hv.v);
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

/* Seconds the server asked to wait (Retry-After as delta-seconds, the
 * only form the API server sends), or -1 without one. */
static long long retry_after_s(const struct http_response *rs)
{
	const char *v = json_string_value(json_object_get(rs->headers, "retry-after"));
	long long n;
	if (!v || parse_ll(v, &n) != 0 || n < 0)
		return -1;
	return n > 3600 ? 3600 : n;
}

/* Waits ms unless the check is cancelled first; 0 when it waited. */
static int wait_ms(struct check_ctx *ctx, long long ms)
{
	long long until = now_mono_ms() + ms;
	for (;;) {
		if (ctx && ctx_cancelled(ctx))
			return -1;
		long long left = until - now_mono_ms();
		if (left <= 0)
			return 0;
		struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* client-go retries a GET whose connection was reset or closed early; a
 * proxy that refused the tunnel will refuse it again. */
static int transport_retryable(const struct http_response *rs)
{
	return rs->proxy_status == 0 &&
	       (rs->curl_code == CURLE_RECV_ERROR || rs->curl_code == CURLE_SEND_ERROR ||
	        rs->curl_code == CURLE_GOT_NOTHING || rs->curl_code == CURLE_PARTIAL_FILE ||
	        rs->curl_code == CURLE_HTTP2 || rs->curl_code == CURLE_HTTP2_STREAM);
}

static int call(struct k8s_client *c, struct check_ctx *ctx, const char *method, const char *path,
                const char *ctype, const char *body, const struct k8s_stream *stream,
                struct http_response *rs, char **err)
{
	*err = NULL;
	if (c->kc_error) {
		memset(rs, 0, sizeof(*rs));
		*err = xstrdup(c->kc_error);
		return -1;
	}
	char *url = xasprintf("%s%s", c->kc.server, path);
	/* a stream resumes where it broke, which only its reader knows */
	int is_get = strcmp(method, "GET") == 0 && !stream;
	long long backoff = 200;
	int rc = -1, refreshed = 0;
	for (int attempt = 1;; attempt++) {
		unsigned used = 0;
		rc = call_once(c, ctx, method, url, ctype, body, stream, 0, &used, rs, err);
		if (rc == 0 && rs->status == 401 && !refreshed && kube_config_can_refresh(&c->kc)) {
			/* the credential used was rejected: fetch a new one, unless
			 * a concurrent request already has (single-flight) */
			http_response_release(rs);
			refreshed = 1;
			rc = call_once(c, ctx, method, url, ctype, body, stream, used ? used : 1,
			               &used, rs, err);
		}
		if (attempt >= K8S_MAX_TRIES)
			break;
		long long wait;
		if (rc == 0) {
			long long ra = retry_after_s(rs);
			if (!(rs->status == 429 || rs->status >= 500) || ra < 0)
				break;
			wait = ra * 1000;
		} else {
			if (!is_get || !transport_retryable(rs))
				break;
			wait = backoff;
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
		}
		/* not past the deadline: the last answer stands instead */
		if (ctx && wait + 100 >= ctx_remaining_ms(ctx))
			break;
		if (wait_ms(ctx, wait) != 0)
			break;
		if (rc == 0)
			http_response_release(rs);
		else
			free(*err);
		*err = NULL;
	}
	free(url);
	return rc;
}

int k8s_call(struct k8s_client *c, struct check_ctx *ctx, const char *method, const char *path,
             const char *ctype, const char *body, struct http_response *rs, char **err)
{
	return call(c, ctx, method, path, ctype, body, NULL, rs, err);
}

int k8s_call_stream(struct k8s_client *c, struct check_ctx *ctx, const char *path,
                    const struct k8s_stream *stream, struct http_response *rs, char **err)
{
	return call(c, ctx, "GET", path, NULL, NULL, stream, rs, err);
}

/* An excerpt of a body for a message: at most max bytes, one line,
 * control bytes shown as '.', so a binary or HTML answer can be told
 * apart. */
char *k8s_body_excerpt(const struct http_response *rs, size_t max)
{
	struct buf b;
	buf_init(&b, 0);
	const unsigned char *p = (const unsigned char *)buf_str(&rs->body);
	size_t n = rs->body.len < max ? rs->body.len : max;
	for (size_t i = 0; i < n; i++)
		buf_addc(&b, p[i] < 0x20 || p[i] == 0x7f ? '.' : (char)p[i]);
	if (rs->body.len > n)
		buf_adds(&b, "...");
	return buf_detach(&b);
}

char *k8s_not_json(const struct http_response *rs, const char *what, const char *expected)
{
	const char *ct = json_string_value(json_object_get(rs->headers, "content-type"));
	char *ex = k8s_body_excerpt(rs, 120);
	char *out = xasprintf("%s: the API server's answer is not %s (HTTP %ld, Content-Type %s, "
	                      "%zu bytes%s: '%s')",
	                      what, expected, rs->status, ct && *ct ? ct : "(none)", rs->body.len,
	                      rs->body_truncated ? ", cut at the size limit" : "", ex);
	free(ex);
	return out;
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
	size_t n = strlen(out); /* http.Error's text ends in a newline */
	while (n && out[n - 1] == ' ')
		out[--n] = 0;
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

static void add_res(struct k8s_client *c, const char *group, const char *version, int preferred,
                    json_t *r)
{
	const char *name = json_string_value(json_object_get(r, "name"));
	const char *kind = json_string_value(json_object_get(r, "kind"));
	if (!name || !kind || strchr(name, '/'))
		return; /* subresources are reached through their parent */
	for (size_t i = 0; i < c->nres; i++)
		if (strcmp(c->res[i]->group, group) == 0 &&
		    strcmp(c->res[i]->version, version) == 0 &&
		    strcmp(c->res[i]->plural, name) == 0)
			return; /* read before a refresh: handed-out pointers stay valid */
	struct k8s_res *x = xcalloc(1, sizeof(*x));
	x->group = xstrdup(group);
	x->version = xstrdup(version);
	x->plural = xstrdup(name);
	x->preferred = preferred;
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
	int can_get = 0, can_list = 0;
	size_t vi;
	json_t *vv;
	json_array_foreach(json_object_get(r, "verbs"), vi, vv)
	{
		const char *verb = json_string_value(vv);
		can_get |= verb && strcmp(verb, "get") == 0;
		can_list |= verb && strcmp(verb, "list") == 0;
	}
	x->listable = can_get && can_list;
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
	} else if (!(j = http_body_json(&rs)) || !json_is_object(j)) {
		char *what = xasprintf("discovery GET %s", path);
		*err = k8s_not_json(&rs, what, "an object");
		free(what);
		if (j)
			json_decref(j);
		j = NULL;
	}
	http_response_release(&rs);
	return j;
}

static int is_preferred(struct k8s_client *c, const char *group, const char *version)
{
	json_t *vs = json_object_get(c->groups, group);
	const char *pref = json_string_value(json_array_get(vs, 0));
	return !vs || (pref && strcmp(pref, version) == 0);
}

/* Reads one group/version's resource list; caller holds c->lock. A 404
 * (the version is not served) is remembered as false; any other failure
 * (an aggregated API answering 503, no answer) is remembered in gv_failed
 * and left out, as client-go's partial discovery does. */
static void read_gv(struct k8s_client *c, struct check_ctx *ctx, const char *group,
                    const char *version)
{
	char *gv = *group ? xasprintf("%s/%s", group, version) : xstrdup(version);
	if (json_object_get(c->gv_seen, gv)) {
		free(gv);
		return;
	}
	char *path = *group ? xasprintf("/apis/%s", gv) : xasprintf("/api/%s", gv);
	char *what = xasprintf("discovery GET %s", path);
	struct http_response rs;
	char *err = NULL;
	json_t *j = NULL;
	if (k8s_call(c, ctx, "GET", path, NULL, NULL, &rs, &err) != 0) {
		json_object_set_new(c->gv_failed, gv, json_string(err));
		free(err);
		goto out;
	}
	if (rs.status / 100 == 2)
		j = http_body_json(&rs); /* not inside json_is_object: a macro */
	if (rs.status == 404) {
		json_object_set_new(c->gv_seen, gv, json_false());
	} else if (rs.status / 100 != 2) {
		err = k8s_status_error(c, &rs, what);
		json_object_set_new(c->gv_failed, gv, json_string(err));
		free(err);
	} else if (!json_is_object(j)) {
		err = k8s_not_json(&rs, what, "an APIResourceList");
		json_object_set_new(c->gv_failed, gv, json_string(err));
		free(err);
	} else {
		int pref = is_preferred(c, group, version);
		size_t i;
		json_t *r;
		json_array_foreach(json_object_get(j, "resources"), i, r)
		    add_res(c, group, version, pref, r);
		json_object_set_new(c->gv_seen, gv, json_true());
		json_object_del(c->gv_failed, gv);
	}
	http_response_release(&rs);
out:
	if (j)
		json_decref(j);
	free(what);
	free(path);
	free(gv);
}

/* Reads /api and /apis, then every group's preferred version; caller
 * holds c->lock. Only /api and /apis failing is an error. */
static int discover(struct k8s_client *c, struct check_ctx *ctx, char **err)
{
	if (c->discovered)
		return 0;
	json_t *core = get_doc(c, ctx, "/api", err);
	if (!core)
		return -1;
	json_t *apis = get_doc(c, ctx, "/apis", err);
	if (!apis) {
		json_decref(core);
		return -1;
	}
	json_object_clear(c->groups);
	json_t *cv = json_array();
	size_t i;
	json_t *v, *g;
	json_array_foreach(json_object_get(core, "versions"), i, v)
	{
		if (json_is_string(v))
			json_array_append(cv, v);
	}
	json_object_set_new(c->groups, "", cv);
	json_array_foreach(json_object_get(apis, "groups"), i, g)
	{
		const char *name = json_string_value(json_object_get(g, "name"));
		if (!name || !*name)
			continue;
		const char *pref = json_string_value(
		    json_object_get(json_object_get(g, "preferredVersion"), "version"));
		json_t *vs = json_array();
		if (pref)
			json_array_append_new(vs, json_string(pref));
		size_t k;
		json_t *gv;
		json_array_foreach(json_object_get(g, "versions"), k, gv)
		{
			const char *ver = json_string_value(json_object_get(gv, "version"));
			if (ver && (!pref || strcmp(ver, pref) != 0))
				json_array_append_new(vs, json_string(ver));
		}
		json_object_set_new(c->groups, name, vs);
	}
	json_decref(core);
	json_decref(apis);
	const char *name;
	json_object_foreach(c->groups, name, v)
	{
		const char *ver = json_string_value(json_array_get(v, 0));
		if (ver)
			read_gv(c, ctx, name, ver);
	}
	c->discovered = 1;
	c->all_versions = 0;
	c->discovered_at = now_mono_ms();
	return 0;
}

/* The versions that are not preferred, read when a kind is not found in
 * any preferred version; caller holds c->lock. */
static void discover_all_versions(struct k8s_client *c, struct check_ctx *ctx)
{
	if (c->all_versions)
		return;
	const char *name;
	json_t *vs;
	json_object_foreach(c->groups, name, vs)
	{
		for (size_t i = 1; i < json_array_size(vs); i++)
			read_gv(c, ctx, name, json_string_value(json_array_get(vs, i)));
	}
	c->all_versions = 1;
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

/* The group's preferred version first, then the others in discovery
 * order, as kubectl's REST mapper orders its candidates. */
static const struct k8s_res *find_res(struct k8s_client *c, const char *name, const char *group,
                                      const char *version)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->nres; i++) {
			const struct k8s_res *r = c->res[i];
			if (r->preferred != !pass)
				continue;
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

/* One lookup in what has been read; caller holds c->lock. */
static const struct k8s_res *lookup(struct k8s_client *c, struct check_ctx *ctx, const char *type,
                                    const char *api_version)
{
	const struct k8s_res *r = NULL;
	if (api_version && *api_version) {
		/* Kind + apiVersion: that exact group/version, read on demand */
		const char *slash = strchr(api_version, '/');
		char *group =
		    slash ? xstrndup(api_version, (size_t)(slash - api_version)) : xstrdup("");
		const char *version = slash ? slash + 1 : api_version;
		read_gv(c, ctx, group, version);
		r = find_res(c, type, group, version);
		free(group);
		return r;
	}
	r = find_res(c, type, NULL, NULL);
	const char *dot = strchr(type, '.');
	if (!r && dot) {
		/* "deployments.apps" or "deployment.v1.apps" */
		char *name = xstrndup(type, (size_t)(dot - type));
		const char *rest = dot + 1;
		const char *dot2 = strchr(rest, '.');
		if (dot2 && looks_like_version(rest, (size_t)(dot2 - rest))) {
			char *ver = xstrndup(rest, (size_t)(dot2 - rest));
			char *grp = xstrdup(dot2 + 1);
			read_gv(c, ctx, grp, ver);
			r = find_res(c, name, grp, ver);
			free(grp);
			free(ver);
		}
		if (!r)
			r = find_res(c, name, rest, NULL);
		free(name);
	}
	return r;
}

/* "; discovery failed for metrics.k8s.io/v1beta1 (...)" when some group
 * versions could not be read, else "". */
static char *failed_note(struct k8s_client *c)
{
	if (json_object_size(c->gv_failed) == 0)
		return xstrdup("");
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "; discovery failed for ");
	const char *gv;
	json_t *why;
	size_t n = 0;
	json_object_foreach(c->gv_failed, gv, why)
	{
		if (n++ == 3) {
			buf_addf(&b, " and %zu more", json_object_size(c->gv_failed) - 3);
			break;
		}
		buf_addf(&b, "%s%s (%s)", n > 1 ? ", " : "", gv, json_string_value(why));
	}
	return buf_detach(&b);
}

int k8s_resolve(struct k8s_client *c, struct check_ctx *ctx, const char *type,
                const char *api_version, const struct k8s_res **out, char **err)
{
	*out = NULL;
	*err = NULL;
	long long asked_at = now_mono_ms();
	pthread_mutex_lock(&c->lock);
	int rc = -2;
	const struct k8s_res *r = NULL;
	for (int round = 0; round < 2 && !r; round++) {
		if (discover(c, ctx, err) != 0)
			goto out;
		r = lookup(c, ctx, type, api_version);
		if (!r && !(api_version && *api_version)) {
			discover_all_versions(c, ctx);
			r = lookup(c, ctx, type, api_version);
		}
		/* A miss on a cache read before this lookup began: read again once
		 * (a CRD installed by an action). Concurrent misses share one. */
		if (r || c->discovered_at >= asked_at)
			break;
		c->discovered = 0;
		c->refreshes++;
		json_object_clear(c->gv_seen);
		json_object_clear(c->gv_failed);
	}
	if (r) {
		*out = r;
		rc = 0;
		goto out;
	}
	char *note = failed_note(c);
	if (api_version && *api_version)
		*err = xasprintf("the server has no resource type '%s' in %s (kubectl "
		                 "api-resources lists the known ones)%s",
		                 type, api_version, note);
	else
		*err = xasprintf("the server has no resource type '%s' (kubectl api-resources "
		                 "lists the known ones)%s",
		                 type, note);
	free(note);
	rc = -1;
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
	size_t pages = 0, bytes = 0;
	int restarted = 0;
	for (;;) {
		/* bounded in pages, items, bytes and time: a server that keeps
		 * handing out continue tokens cannot grow the run without end */
		if (pages >= K8S_LIST_MAX_PAGES || json_array_size(*items) >= K8S_LIST_MAX_ITEMS ||
		    bytes >= K8S_LIST_MAX_BYTES) {
			*err = xasprintf("%s: the server kept returning more pages (%zu pages, %zu "
			                 "items, %zu MiB read; at most %d pages, %d items, %d MiB)",
			                 what, pages, json_array_size(*items), bytes >> 20,
			                 K8S_LIST_MAX_PAGES, K8S_LIST_MAX_ITEMS,
			                 K8S_LIST_MAX_BYTES >> 20);
			goto out;
		}
		if (ctx && ctx_cancelled(ctx)) {
			*err = xasprintf("%s: interrupted after %zu pages", what, pages);
			goto out;
		}
		if (ctx && pages > 0 && ctx_remaining_ms(ctx) <= 0) {
			*err = xasprintf("%s: the check's timeout ran out while the server kept "
			                 "returning more pages (%zu pages, %zu items read)",
			                 what, pages, json_array_size(*items));
			goto out;
		}
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
		if (r != 0 && pages > 0 && ctx && ctx_remaining_ms(ctx) <= 200) {
			/* the page in flight met the deadline: say why it came */
			free(*err);
			*err = xasprintf("%s: the check's timeout ran out while the server kept "
			                 "returning more pages (%zu pages, %zu items read)",
			                 what, pages, json_array_size(*items));
		}
		if (r != 0)
			goto out;
		pages++;
		bytes += rs.body.len;
		if (rs.status == 410 && cont && !restarted) {
			/* the continue token expired (etcd compacted): as
			 * client-go's pager does (FullListIfExpired), start again
			 * with one full list rather than mix two snapshots */
			http_response_release(&rs);
			json_array_clear(*items);
			free(cont);
			cont = NULL;
			limit = 0;
			restarted = 1;
			continue;
		}
		if (rs.status / 100 != 2) {
			*err = k8s_status_error(c, &rs, what);
			http_response_release(&rs);
			goto out;
		}
		json_t *j = http_body_json(&rs);
		if (!json_is_object(j) || !json_is_array(json_object_get(j, "items"))) {
			*err = k8s_not_json(&rs, what, "a JSON list");
			http_response_release(&rs);
			if (j)
				json_decref(j);
			goto out;
		}
		http_response_release(&rs);
		json_array_extend(*items, json_object_get(j, "items"));
		const char *next =
		    json_string_value(json_object_get(json_object_get(j, "metadata"), "continue"));
		int same = next && cont && strcmp(next, cont) == 0;
		free(cont);
		cont = next && *next ? xstrdup(next) : NULL;
		json_decref(j);
		if (same) {
			*err =
			    xasprintf("%s: the server answered page %zu with the continue token it "
			              "was given (a paging loop)",
			              what, pages);
			goto out;
		}
		if (!cont) {
			rc = 0;
			goto out;
		}
	}
out:
	free(cont);
	if (rc != 0) {
		json_decref(*items);
		*items = NULL;
	}
	return rc;
}

