/* http.c - the http check module: one HTTP exchange (any method, headers,
 * a body from text, a file or YAML as JSON, bearer or basic credentials,
 * TLS options, bounded redirects) through the shared client in
 * runner/http.c, reported as facts: status, headers, body, json, timings,
 * TLS certificate and the redirect chain. Credentials are sent, never
 * reported: no request header ever becomes a fact or evidence. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "module.h"
#include "vars.h"

#define HTTP_CHECK_MAX_BODY (1024u * 1024) /* default body kept: 1 MiB */
#define HTTP_CHECK_MAX_BODY_LIMIT (256u * 1024 * 1024)
#define HTTP_CHECK_MAX_BODY_FILE (64u * 1024 * 1024)
#define HTTP_CHECK_MAX_REDIRECTS 50
#define HTTP_EVIDENCE_BODY 4096

struct http_cfg {
	char *method;   /* owned; upper case; NULL = GET/POST */
	char *url;      /* owned; NULL while deferred */
	char **headers; /* owned, NULL-terminated "Name: value" (credentials included) */
	char *body;     /* owned: body: text, or json: as compact JSON */
	size_t body_len;
	char *body_file;       /* owned: read at run time, relative to the suite */
	char *ca, *cert, *key; /* owned: file paths, relative to the suite */
	char *server_name;     /* owned */
	int insecure;
	int http1_only;
	long follow; /* redirects to follow, 0 = none */
	long long connect_timeout_ms;
	size_t max_body;
};

static const struct key_spec http_keys[] = {
    {"url", KT_STR, KEY_REQUIRED, "http:// or https:// URL"},
    {"method", KT_STR, 0, "GET (default; POST when a body is given), HEAD, PUT, DELETE..."},
    {"headers", KT_STRMAP, 0, "request headers, name: value"},
    {"body", KT_STR, 0, "request body as text"},
    {"body_file", KT_STR, 0, "request body read from a file (relative to the suite)"},
    {"json", KT_ANY, 0, "request body given as YAML, sent as JSON with its content type"},
    {"auth", KT_MAP, 0, "credentials: {bearer: TOKEN} or {basic: {username, password}}"},
    {"tls", KT_MAP, 0, "TLS: {ca, cert, key, server_name, insecure}"},
    {"follow_redirects", KT_INT, 0, "redirects to follow (default 0: report the 3xx)"},
    {"connect_timeout", KT_DURATION, 0, "time to connect (default 10s, within the check timeout)"},
    {"max_body", KT_STR, 0, "bytes of body kept (default 1MiB; more sets body_truncated)"},
    {"http2", KT_BOOL, 0, "use HTTP/2 when the server offers it over TLS (default true)"},
    {NULL, KT_ANY, 0, NULL},
};




static void http_free(void *priv)
{
	struct http_cfg *c = priv;
	if (!c)
		return;
	for (size_t i = 0; c->headers && c->headers[i]; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->method);
	free(c->url);
	free(c->body);
	free(c->body_file);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->server_name);
	free(c);
}


/* "1048576", "64KiB", "64k", "10MB", "1MiB", "2m": bytes (k/M = 1024/1024^2). */
static int parse_size(const char *s, size_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	unsigned long long mul = 1;
	if (!*end || strcasecmp(end, "b") == 0)
		mul = 1;
	else if (strcasecmp(end, "k") == 0 || strcasecmp(end, "kb") == 0 ||
	         strcasecmp(end, "kib") == 0)
		mul = 1024;
	else if (strcasecmp(end, "m") == 0 || strcasecmp(end, "mb") == 0 ||
	         strcasecmp(end, "mib") == 0)
		mul = 1024 * 1024;
	else
		return -1;
	if (v == 0 || v > HTTP_CHECK_MAX_BODY_LIMIT / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return 1;
	return 0;
}

/* 1 when name is a valid header field name (RFC 9110 token). */
static int header_name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || strchr("\"(),/:;<=>?@[\\]{}", *s))
			return 0;
	return 1;
}

static int has_header(char **headers, size_t n, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(headers[i], name, len) == 0 && headers[i][len] == ':')
			return 1;
	return 0;
}

static void parse_tls(const struct node *tls, struct http_cfg *c, struct diags *d)
{
	struct http_tls_opts o;
	if (http_opts_tls(tls, "http", &o, d) != 0)
		return;
	c->ca = o.ca;
	c->cert = o.cert;
	c->key = o.key;
	c->server_name = o.server_name;
	c->insecure = o.insecure;
}

/* Adds the Authorization header for auth:. */
static void parse_auth(const struct node *auth, char **headers, size_t *n, struct diags *d)
{
	if (has_header(headers, *n, "Authorization")) {
		diag_at(d, auth, "http auth: an Authorization header is also given in headers:");
		return;
	}
	char *header = NULL;
	if (http_opts_auth(auth, "http", &header, d) == 0)
		headers[(*n)++] = header;
}

static int http_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	(void)state;
	struct http_cfg *c = xcalloc(1, sizeof(*c));
	size_t before = d->n;
	const struct node *url = cfg_node(cfg, "url");
	const struct node *method = cfg_node(cfg, "method");
	const struct node *headers = cfg_node(cfg, "headers");
	const struct node *body = cfg_node(cfg, "body");
	const struct node *body_file = cfg_node(cfg, "body_file");
	const struct node *json = cfg_node(cfg, "json");
	const struct node *auth = cfg_node(cfg, "auth");
	const struct node *tls = cfg_node(cfg, "tls");
	const struct node *follow = cfg_node(cfg, "follow_redirects");
	const struct node *max_body = cfg_node(cfg, "max_body");

	c->url = xstrdup(cfg_str(cfg, "url", NULL));
	if (url && !node_is_deferred(url)) {
		if (!c->url || (strncasecmp(c->url, "http://", 7) != 0 &&
		                strncasecmp(c->url, "https://", 8) != 0))
			diag_at(d, url, "http url: '%s' is not an http:// or https:// URL",
			        c->url ? c->url : "");
		else if (http_url_secret(c->url) < 0)
			diag_at(d, url,
			        "http url: the password in the URL is shorter than %d characters",
			        MASK_MIN_LEN);
		else if (has_ctl(c->url) || strchr(c->url, ' '))
			diag_at(
			    d, url,
			    "http url: the URL holds spaces or line breaks (encode them as %%20)");
	}
	if (method && !node_is_deferred(method)) {
		const char *m = cfg_str(cfg, "method", "GET");
		if (!header_name_ok(m)) {
			diag_at(d, method, "http method: '%s' is not a method name", m);
		} else {
			c->method = xstrdup(m);
			for (char *p = c->method; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
		}
	}

	/* Headers, then the Authorization header from auth:. */
	size_t nh = 0, nmax = (headers && headers->kind == NODE_MAP ? headers->n : 0) + 2;
	c->headers = xcalloc(nmax + 1, sizeof(*c->headers));
	if (headers && headers->kind == NODE_MAP) {
		for (size_t i = 0; i < headers->n; i++) {
			const struct node *k = headers->pairs[i].key, *v = headers->pairs[i].value;
			const char *val = v->kind == NODE_SCALAR ? v->str : "";
			if (!header_name_ok(k->str))
				diag_at(d, k, "http headers: '%s' is not a header name", k->str);
			else if (has_ctl(val))
				diag_at(d, v, "http headers: the value of '%s' holds a line break",
				        k->str);
			else
				c->headers[nh++] = xasprintf("%s: %s", k->str, val);
		}
	}
	if (auth)
		parse_auth(auth, c->headers, &nh, d);

	/* The body: one source at most. */
	if (!!body + !!body_file + !!json > 1)
		diag_at(d, body ? body : body_file, "http: give one of body:, body_file: or json:");
	if (body) {
		const char *b = cfg_str(cfg, "body", "");
		c->body = xstrdup(b);
		c->body_len = strlen(b);
	} else if (body_file) {
		c->body_file = xstrdup(cfg_str(cfg, "body_file", NULL));
	} else if (json) {
		json_t *j = node_to_json(json);
		c->body = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		json_decref(j);
		if (!c->body) {
			diag_at(d, json, "http json: cannot be written as JSON");
		} else {
			c->body_len = strlen(c->body);
			if (!has_header(c->headers, nh, "Content-Type"))
				c->headers[nh++] = xstrdup("Content-Type: application/json");
		}
	}
	if (tls)
		parse_tls(tls, c, d);
	if (follow) {
		long long f = cfg_int(cfg, "follow_redirects", 0);
		if (f < 0 || f > HTTP_CHECK_MAX_REDIRECTS)
			diag_at(d, follow, "http follow_redirects: must be between 0 and %d",
			        HTTP_CHECK_MAX_REDIRECTS);
		c->follow = (long)f;
	}
	c->connect_timeout_ms = cfg_duration_ms(cfg, "connect_timeout", 0);
	c->max_body = HTTP_CHECK_MAX_BODY;
	if (max_body && !node_is_deferred(max_body) &&
	    parse_size(cfg_str(cfg, "max_body", ""), &c->max_body))
		diag_at(d, max_body,
		        "http max_body: '%s' is not a size between 1 byte and 256MiB "
		        "(e.g. 65536, 64KiB, 2MiB)",
		        cfg_str(cfg, "max_body", ""));
	c->http1_only = !cfg_bool(cfg, "http2", 1);

	if (d->n > before) {
		http_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}



/* Status line, response headers and the start of the body: what a person
 * wants to see when the check did not pass. */
static char *http_evidence(const char *method, const struct http_response *rs, json_t *facts)
{
	struct buf b;
	buf_init(&b, 0);
	const char *note = json_string_value(json_object_get(facts, "json_error"));
	if (note)
		buf_addf(&b, "note: %s\n", note);
	buf_addf(&b, "%s %s\nHTTP/%s %ld\n", method, rs->effective_url ? rs->effective_url : "",
	         rs->http_version ? rs->http_version : "?", rs->status);
	for (void *it = json_object_iter(rs->headers); it;
	     it = json_object_iter_next(rs->headers, it))
		buf_addf(&b, "%s: %s\n", json_object_iter_key(it),
		         json_string_value(json_object_iter_value(it)));
	if (rs->body.len) {
		/* masked before it is cut, NULs shown (a NUL must not hide the rest) */
		int shortened = 0;
		char *t = mask_shown(rs->body.data, rs->body.len, rs->body_truncated,
		                     HTTP_EVIDENCE_BODY, &shortened);
		buf_adds(&b, "\n");
		buf_adds(&b, t);
		free(t);
		if (shortened || rs->body_truncated)
			buf_addf(&b, "\n[... %zu%s bytes in all]", rs->body.len,
			         rs->body_truncated ? "+" : "");
	}
	return buf_detach(&b);
}

/* Resolves a suite-relative path and checks it can be read; NULL with
 * out->error set when it cannot. */
static char *http_file(struct check_ctx *ctx, const char *key, const char *path,
                       struct check_out *out)
{
	char *full = ctx_path(ctx, path);
	if (access(full, R_OK) != 0) {
		out->forced = CHECK_ERROR;
		out->error = xasprintf("http %s: cannot read '%s': %s", key, full, strerror(errno));
		free(full);
		return NULL;
	}
	return full;
}

static void http_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	struct http_cfg *c = priv;
	char *ca = NULL, *cert = NULL, *key = NULL, *file_body = NULL;
	struct http_response rs;
	int have_rs = 0;
	struct http_request rq = {
	    .method = c->method,
	    .url = c->url,
	    .headers = (const char *const *)c->headers,
	    .body = c->body,
	    .body_len = c->body_len,
	    .max_redirects = c->follow,
	    .connect_timeout_ms = c->connect_timeout_ms,
	    .max_body = c->max_body,
	    .want_tls_info = 1,
	    .want_timings = 1,
	    .http1_only = c->http1_only,
	};
	if (!c->url) {
		out->forced = CHECK_ERROR;
		out->error = xstrdup("http url: the URL is empty");
		goto out_files;
	}
	if ((c->ca && !(ca = http_file(ctx, "tls.ca", c->ca, out))) ||
	    (c->cert && !(cert = http_file(ctx, "tls.cert", c->cert, out))) ||
	    (c->key && !(key = http_file(ctx, "tls.key", c->key, out))))
		goto out_files;
	if (c->body_file) {
		char *path = ctx_path(ctx, c->body_file);
		struct pg_err e;
		size_t len = 0;
		int rc = read_file_capped(path, HTTP_CHECK_MAX_BODY_FILE, &file_body, &len, &e);
		free(path);
		if (rc) {
			out->forced = CHECK_ERROR;
			out->error = xasprintf("http body_file: %s", e.msg);
			goto out_files;
		}
		rq.body = file_body;
		rq.body_len = len;
	}
	rq.tls.ca_file = ca;
	rq.tls.cert_file = cert;
	rq.tls.key_file = key;
	rq.tls.server_name = c->server_name;
	rq.tls.insecure = c->insecure;
	out->insecure = c->insecure;

	const char *method = c->method ? c->method : rq.body ? "POST" : "GET";
	have_rs = 1;
	if (http_do(ctx, &rq, &rs) != 0) {
		out->forced = CHECK_ERROR;
		out->error = xstrdup(rs.error ? rs.error : "the request failed");
		if (rs.status) {
			out->evidence = http_evidence(method, &rs, NULL);
		}
		goto out_files;
	}

	json_t *f = json_object();
	json_object_set_new(f, "url", json_string(rs.effective_url ? rs.effective_url : c->url));
	json_object_set_new(f, "method", json_string(method));
	json_object_set_new(f, "status", json_integer(rs.status));
	json_object_set_new(f, "http_version", json_string(rs.http_version ? rs.http_version : ""));
	json_object_set(f, "headers", rs.headers);
	json_object_set_new(f, "body", json_from_bytes(rs.body.data, rs.body.len));
	json_object_set_new(f, "body_size", json_integer((json_int_t)rs.body.len));
	json_object_set_new(f, "body_truncated", json_boolean(rs.body_truncated));
	/* following stopped at the limit while the server still redirects:
	 * say so, rather than judging the last 3xx */
	if (c->follow > 0 && rs.status >= 300 && rs.status < 400 &&
	    json_array_size(rs.redirects) >= (size_t)c->follow) {
		json_t *last = json_array_get(rs.redirects, json_array_size(rs.redirects) - 1);
		const char *to = json_string_value(json_object_get(last, "url"));
		json_decref(f);
		out->forced = CHECK_ERROR;
		out->error = xasprintf("gave up after following %ld redirects (follow_redirects), "
		                       "the server still answers %ld%s%s: a redirect loop?",
		                       c->follow, rs.status, to ? " after " : "", to ? to : "");
		out->evidence = http_evidence(method, &rs, NULL);
		goto out_files;
	}
	/* the answer came within the deadline; what follows is bounded too */
	if (ctx_cancelled(ctx) || ctx_remaining_ms(ctx) <= 0) {
		json_decref(f);
		out->forced = CHECK_ERROR;
		out->error = xstrdup(ctx_cancelled(ctx)
		                         ? "the run was interrupted while the answer was read"
		                         : "the check's deadline passed while the answer was read");
		goto out_files;
	}
	if (rs.body.len && !rs.body_truncated) {
		json_error_t jerr;
		json_t *j = json_load_bounded(rs.body.data, rs.body.len, JSON_MAX_VALUES, &jerr);
		if (j) {
			json_object_set_new(f, "json", j);
		} else {
			/* Say why, when the body claims to be JSON or looks like it. */
			const char *ct =
			    json_string_value(json_object_get(rs.headers, "content-type"));
			char first = rs.body.data[0];
			if (jerr.line < 0)
				json_object_set_new(
				    f, "json_error",
				    json_sprintf("the body is not parsed as JSON: %s", jerr.text));
			else if ((ct && strstr(ct, "json")) || first == '{' || first == '[')
				json_object_set_new(
				    f, "json_error",
				    json_sprintf(
				        "the body is not valid JSON: %s (line %d, column %d)",
				        jerr.text, jerr.line, jerr.column));
		}
	} else if (rs.body_truncated) {
		json_object_set_new(
		    f, "json_error",
		    json_sprintf("the body was cut at max_body (%zu bytes), so it is "
		                 "not parsed as JSON",
		                 c->max_body));
	}
	if (rs.timings)
		json_object_set(f, "timings", rs.timings);
	if (rs.tls) {
		json_object_set(f, "tls", rs.tls);
		if (c->insecure)
			json_object_set_new(rs.tls, "insecure", json_true());
	}
	if (rs.redirects)
		json_object_set(f, "redirects", rs.redirects);
	out->facts = f;
	out->evidence = http_evidence(method, &rs, f);

out_files:
	if (have_rs)
		http_response_release(&rs);
	free(ca);
	free(cert);
	free(key);
	free(file_body);
}

static char *http_describe(void *priv)
{
	struct http_cfg *c = priv;
	const char *method = c->method ? c->method : (c->body || c->body_file) ? "POST" : "GET";
	const char *url = c->url ? c->url : "(URL known at run time)";
	/* Leave out user:password@ from the URL. */
	const char *scheme_end = strstr(url, "://");
	const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
	const char *slash = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
	if (at && (!slash || at < slash))
		return xasprintf("%s %.*s%s%s", method, (int)(scheme_end + 3 - url), url, at + 1,
		                 c->insecure ? " (TLS not verified)" : "");
	return xasprintf("%s %s%s", method, url, c->insecure ? " (TLS not verified)" : "");
}

/* "HTTP 503 from GET https://..." (module.h, summarize). */
static char *http_summarize(const json_t *f)
{
	json_t *st = json_object_get(f, "status");
	const char *url = json_string_value(json_object_get(f, "url"));
	const char *method = json_string_value(json_object_get(f, "method"));
	if (!json_is_integer(st) || !url)
		return NULL;
	return xasprintf("HTTP %lld from %s %s", (long long)json_integer_value(st),
			 method ? method : "GET", url);
}

const struct check_module check_http = {
    .name = "http",
    .summary = "an HTTP request: status, headers, body, JSON, timings, TLS certificate, redirects",
    .api_version = CHECK_API_VERSION,
    .flags = CHECK_F_READONLY,
    .keys = http_keys,
    /* A 2xx status; otherwise the jq output (and so the message) is the status. */
    .default_expect = ".status | (. >= 200 and . < 300) // .",
    .parse = http_parse,
    .run = http_run,
    .summarize = http_summarize,
    .describe = http_describe,
    .free = http_free,
};
