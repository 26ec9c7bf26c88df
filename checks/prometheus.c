/* prometheus.c - the prometheus check module. One check does one of:
 *
 *   scrape: URL      read a /metrics endpoint (text exposition format, parsed
 *                    by promtext.c) into facts filterable by name and labels
 *   query: PROMQL    an instant query against server's HTTP API (time: optional)
 *   rules: true      the rule inventory of server: groups, alerting vs
 *                    recording rules, their health
 *   alerts: true     the active alerts of server, firing and pending
 *
 * All HTTP goes through runner/http.c (shared connections, deadlines, TLS
 * verified unless insecure: true). An API error (status "error", a 4xx/5xx,
 * a body that is not JSON) is a check error carrying the server's own
 * errorType and error text. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "module.h"
#include "promtext.h"
#include "vars.h"

enum prom_mode {
	PROM_SCRAPE,
	PROM_QUERY,
	PROM_RULES,
	PROM_ALERTS,
};

/* The parsed config of one check. */
struct prom_cfg {
	enum prom_mode mode;
	char *url;             /* owned: what is requested, query string included */
	char *target;          /* owned: the URL or PromQL as written, for describe */
	char *server;          /* owned: the server as written (query/rules/alerts), or NULL */
	char *query;           /* owned: PromQL (query mode) */
	char *time;            /* owned: evaluation time (query mode), or NULL */
	char **headers;        /* owned: "Name: value", NULL-terminated */
	char *ca, *cert, *key; /* owned, may be NULL: files, relative to the suite */
	char *server_name;     /* owned, may be NULL */
	int insecure;          /* TLS verification off */
};

static const struct key_spec prom_keys[] = {
    {"scrape", KT_STR, 0, "URL of a /metrics endpoint to read"},
    {"query", KT_STR, 0, "a PromQL instant query (needs server)"},
    {"rules", KT_BOOL, 0, "true: list the rule groups and rules of server"},
    {"alerts", KT_BOOL, 0, "true: list the active alerts of server"},
    {"server", KT_STR, 0, "base URL of the Prometheus server (http://host:9090)"},
    {"time", KT_STR, 0, "evaluation time of the query (RFC 3339 or Unix seconds); default now"},
    {"headers", KT_STRMAP, 0, "extra request headers"},
    {"auth", KT_MAP, 0, "{bearer: token} or {basic: {username, password}} (use ${secrets.name})"},
    {"tls", KT_MAP, 0, "{ca, cert, key, server_name, insecure} as for http"},
    {NULL, 0, 0, NULL},
};




/* Percent-encodes s for a query-string value. */
static void prom_urlenc(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_addc(b, (char)*p);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_add(b, e, 3);
		}
	}
}

static void prom_free(void *priv)
{
	struct prom_cfg *c = priv;
	if (!c)
		return;
	free(c->url);
	free(c->target);
	free(c->server);
	free(c->query);
	free(c->time);
	for (char **h = c->headers; h && *h; h++)
		free(*h);
	free(c->headers);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->server_name);
	free(c);
}

static int prom_is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static int prom_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	static const char *const modes[] = {"scrape", "query", "rules", "alerts"};
	struct prom_cfg *c = xcalloc(1, sizeof(*c));
	int nmodes = 0, rc = 0;

	for (int i = 0; i < 4; i++) {
		if (cfg_node(cfg, modes[i])) {
			nmodes++;
			c->mode = (enum prom_mode)i;
		}
	}
	if (nmodes != 1) {
		rc = diag_at(d, cfg,
		             "a prometheus check needs exactly one of scrape, query, rules or "
		             "alerts (found %d)",
		             nmodes);
		goto out;
	}
	if ((c->mode == PROM_RULES && !cfg_bool(cfg, "rules", 1) &&
	     !node_is_deferred(cfg_node(cfg, "rules"))) ||
	    (c->mode == PROM_ALERTS && !cfg_bool(cfg, "alerts", 1) &&
	     !node_is_deferred(cfg_node(cfg, "alerts")))) {
		rc = diag_at(d, cfg_node(cfg, modes[c->mode]),
		             "write '%s: true' (false asks for nothing)", modes[c->mode]);
		goto out;
	}

	const char *server = cfg_str(cfg, "server", NULL);
	const struct node *server_node = cfg_node(cfg, "server");
	if (c->mode == PROM_SCRAPE) {
		const char *url = cfg_str(cfg, "scrape", "");
		if (server_node)
			rc = diag_at(d, server_node,
			             "server is not used by scrape: give the whole "
			             "metrics URL in scrape");
		if (!node_is_deferred(cfg_node(cfg, "scrape")) && !prom_is_url(url))
			rc = diag_at(d, cfg_node(cfg, "scrape"),
			             "scrape needs an http:// or https:// URL, not '%s'", url);
		if (cfg_node(cfg, "time"))
			rc = diag_at(d, cfg_node(cfg, "time"), "time is only used by query");
		c->url = xstrdup(url);
		c->target = xstrdup(url);
	} else {
		if (!server_node) {
			rc = diag_at(d, cfg,
			             "%s needs server: the base URL of the Prometheus server "
			             "(http://host:9090)",
			             modes[c->mode]);
			goto out;
		}
		if (!node_is_deferred(server_node) && (!server || !prom_is_url(server)))
			rc = diag_at(d, server_node,
			             "server needs an http:// or https:// URL, not '%s'",
			             server ? server : "");
		if (c->mode != PROM_QUERY && cfg_node(cfg, "time"))
			rc = diag_at(d, cfg_node(cfg, "time"), "time is only used by query");
		c->server = xstrdup(server ? server : "");
		size_t n = strlen(c->server);
		while (n > 0 && c->server[n - 1] == '/')
			c->server[--n] = 0;
		struct buf u;
		buf_init(&u, 0);
		buf_adds(&u, c->server);
		if (c->mode == PROM_QUERY) {
			const char *q = cfg_str(cfg, "query", "");
			if (!q[0] && !node_is_deferred(cfg_node(cfg, "query")))
				rc = diag_at(d, cfg_node(cfg, "query"), "the query is empty");
			c->query = xstrdup(q);
			const char *t = cfg_str(cfg, "time", NULL);
			c->time = t && t[0] ? xstrdup(t) : NULL; /* "" = now */
			buf_adds(&u, "/api/v1/query?query=");
			prom_urlenc(&u, q);
			if (c->time) {
				buf_adds(&u, "&time=");
				prom_urlenc(&u, c->time);
			}
			c->target = xstrdup(q);
		} else {
			buf_adds(&u, c->mode == PROM_RULES ? "/api/v1/rules" : "/api/v1/alerts");
			c->target = xstrdup(modes[c->mode]);
		}
		c->url = buf_detach(&u);
	}

	/* Headers: the map, then auth's Authorization header. */
	const struct node *h = cfg_node(cfg, "headers");
	size_t nh = (h && h->kind == NODE_MAP ? h->n : 0) + 1;
	size_t k = 0;
	c->headers = xcalloc(nh + 1, sizeof(char *));
	for (size_t i = 0; h && h->kind == NODE_MAP && i < h->n; i++) {
		const char *name = h->pairs[i].key->str;
		const char *value =
		    h->pairs[i].value->kind == NODE_SCALAR ? h->pairs[i].value->str : "";
		if (!name[0] || strpbrk(name, ": \t\r\n") || strpbrk(value, "\r\n")) {
			rc = diag_at(d, h->pairs[i].key,
			             "header '%s': a name holds no ':', blank or line "
			             "break, and a value no line break",
			             name);
			continue;
		}
		if (strcasecmp(name, "Authorization") == 0 && cfg_node(cfg, "auth")) {
			rc = diag_at(d, h->pairs[i].key,
			             "an Authorization header and auth: are both given");
			continue;
		}
		c->headers[k++] = xasprintf("%s: %s", name, value);
	}
	const struct node *auth = cfg_node(cfg, "auth");
	if (auth && http_opts_auth(auth, "prometheus", &c->headers[k], d) < 0)
		rc = -1;
	const struct node *tls = cfg_node(cfg, "tls");
	struct http_tls_opts o;
	if (tls && http_opts_tls(tls, "prometheus", &o, d) < 0)
		rc = -1;
	else if (tls) {
		c->ca = o.ca;
		c->cert = o.cert;
		c->key = o.key;
		c->server_name = o.server_name;
		c->insecure = o.insecure;
	}
out:
	if (rc < 0) {
		prom_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

static char *prom_describe(void *priv)
{
	const struct prom_cfg *c = priv;
	switch (c->mode) {
	case PROM_SCRAPE:
		return xasprintf("prometheus scrape %s", c->url);
	case PROM_QUERY:
		return xasprintf("prometheus query '%s' at %s%s%s", c->query, c->server,
		                 c->time ? " for time " : "", c->time ? c->time : "");
	case PROM_RULES:
		return xasprintf("prometheus rules of %s", c->server);
	default:
		return xasprintf("prometheus alerts of %s", c->server);
	}
}

/* A short excerpt of a response body for messages: the first line, at most
 * 120 bytes, anything but printable ASCII as '?'. */
/* The first line of s, at most 120 bytes, printable ASCII only: outside
 * text in a one-line message. */
static char *prom_line(const char *s)
{
	size_t n = 0;
	char *out = xmalloc(124);
	while (s[n] && s[n] != '\n' && n < 120) {
		out[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
		n++;
	}
	if (s[n] && s[n] != '\n')
		out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n] = 0;
	return out;
}

static char *prom_excerpt(const struct buf *b)
{
	return prom_line(buf_str(b));
}

/* A Prometheus sample value ("1", "NaN", "+Inf") as facts hold it. */
static json_t *prom_value(json_t *v)
{
	double d;
	const char *s = json_string_value(v);
	if (s && parse_double(s, &d) == 0)
		return promtext_value_json(d);
	if (s && (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0))
		return json_string(s);
	return v ? json_incref(v) : json_null();
}

/* [timestamp, "value"] -> value, with the timestamp stored in *ts. */
static json_t *prom_pair(json_t *pair, json_t **ts)
{
	*ts = json_incref(json_array_get(pair, 0));
	return prom_value(json_array_get(pair, 1));
}

static json_t *prom_query_facts(const struct prom_cfg *c, json_t *data)
{
	json_t *facts = json_object();
	const char *rt = json_string_value(json_object_get(data, "resultType"));
	json_t *res = json_object_get(data, "result");
	json_t *out = json_array();
	json_t *ts = NULL;

	json_object_set_new(facts, "query", json_string(c->query));
	json_object_set_new(facts, "server", json_string(c->server));
	json_object_set_new(facts, "result_type", json_string(rt ? rt : "unknown"));
	if (rt && (strcmp(rt, "scalar") == 0 || strcmp(rt, "string") == 0) &&
	    !(json_is_array(res) && json_array_size(res) == 2 &&
	      json_is_string(json_array_get(res, 1)))) {
		json_decref(facts);
		json_decref(out);
		return NULL; /* not [time, "value"] */
	}
	if (rt && (strcmp(rt, "scalar") == 0 || strcmp(rt, "string") == 0)) {
		json_t *v = prom_pair(res, &ts);
		json_object_set_new(facts, "value", v);
		if (ts)
			json_object_set_new(facts, "timestamp", ts);
		json_object_set_new(facts, "count", json_integer(1));
		json_object_set_new(facts, "result", out);
		return facts;
	}
	size_t i;
	json_t *r;
	if (!rt || (strcmp(rt, "vector") != 0 && strcmp(rt, "matrix") != 0) ||
	    !json_is_array(res)) {
		json_decref(facts);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(res, i, r)
	{
		json_t *item = json_object();
		json_t *metric = json_object_get(r, "metric");
		if (!json_is_object(r)) {
			json_decref(item);
			json_decref(facts);
			json_decref(out);
			return NULL;
		}
		json_object_set_new(item, "metric", metric ? json_incref(metric) : json_object());
		if (json_object_get(r, "value")) {
			json_object_set_new(item, "value",
			                    prom_pair(json_object_get(r, "value"), &ts));
			if (ts)
				json_object_set_new(item, "timestamp", ts);
		}
		json_t *vals = json_object_get(r, "values");
		if (vals) {
			json_t *list = json_array();
			size_t j;
			json_t *pair;
			json_array_foreach(vals, j, pair)
			{
				json_t *one = json_object();
				json_object_set_new(one, "value", prom_pair(pair, &ts));
				if (ts)
					json_object_set_new(one, "timestamp", ts);
				json_array_append_new(list, one);
			}
			json_object_set_new(item, "values", list);
		}
		json_array_append_new(out, item);
	}
	json_object_set_new(facts, "count", json_integer((json_int_t)json_array_size(out)));
	if (json_array_size(out) == 1 && json_object_get(json_array_get(out, 0), "value"))
		json_object_set(facts, "value", json_object_get(json_array_get(out, 0), "value"));
	json_object_set_new(facts, "result", out);
	return facts;
}

static json_t *prom_rules_facts(const struct prom_cfg *c, json_t *data)
{
	json_t *facts = json_object();
	json_t *rules = json_array();
	json_t *groups = json_object_get(data, "groups");
	long long alerting = 0, recording = 0, unhealthy = 0, unevaluated = 0, firing = 0;
	size_t i, j;
	json_t *g, *r;

	if (!json_is_array(groups))
		goto malformed;
	json_array_foreach(groups, i, g)
	{
		const char *gname = json_string_value(json_object_get(g, "name"));
		if (!json_is_object(g) || !gname || !json_is_array(json_object_get(g, "rules")))
			goto malformed;
		json_array_foreach(json_object_get(g, "rules"), j, r)
		{
			const char *type = json_string_value(json_object_get(r, "type"));
			const char *health = json_string_value(json_object_get(r, "health"));
			/* a rule the answer does not describe is no healthy rule */
			if (!json_is_object(r) || !json_is_string(json_object_get(r, "name")) ||
			    !health ||
			    (strcmp(health, "ok") != 0 && strcmp(health, "err") != 0 &&
			     strcmp(health, "unknown") != 0))
				goto malformed;
			json_t *one = json_object();
			const char *st = json_string_value(json_object_get(r, "state"));
			const char *err = json_string_value(json_object_get(r, "lastError"));
			json_object_set_new(one, "group", json_string(gname ? gname : ""));
			json_object_set(one, "name", json_object_get(r, "name"));
			json_object_set_new(one, "type", json_string(type ? type : "unknown"));
			json_object_set_new(one, "health",
			                    json_string(health ? health : "unknown"));
			if (st)
				json_object_set_new(one, "state", json_string(st));
			if (err && err[0])
				json_object_set_new(one, "error", json_string(err));
			if (json_object_get(r, "labels"))
				json_object_set(one, "labels", json_object_get(r, "labels"));
			if (type && strcmp(type, "alerting") == 0)
				alerting++;
			else if (type && strcmp(type, "recording") == 0)
				recording++;
			/* "unknown" only means not evaluated yet (a server that just
			 * started): not the same as a rule that fails ("err") */
			if (health && strcmp(health, "err") == 0)
				unhealthy++;
			else if (!health || strcmp(health, "ok") != 0)
				unevaluated++;
			if (st && strcmp(st, "firing") == 0)
				firing++;
			json_array_append_new(rules, one);
		}
	}
	json_object_set_new(facts, "server", json_string(c->server));
	json_object_set_new(facts, "groups", json_integer((json_int_t)json_array_size(groups)));
	json_object_set_new(facts, "rules_total", json_integer((json_int_t)json_array_size(rules)));
	json_object_set_new(facts, "alerting", json_integer(alerting));
	json_object_set_new(facts, "recording", json_integer(recording));
	json_object_set_new(facts, "unhealthy", json_integer(unhealthy));
	json_object_set_new(facts, "unevaluated", json_integer(unevaluated));
	json_object_set_new(facts, "firing", json_integer(firing));
	json_object_set_new(facts, "rules", rules);
	return facts;
malformed:
	json_decref(facts);
	json_decref(rules);
	return NULL;
}

static json_t *prom_alerts_facts(const struct prom_cfg *c, json_t *data)
{
	json_t *facts = json_object();
	json_t *alerts = json_array();
	long long firing = 0, pending = 0;
	size_t i;
	json_t *a;

	if (!json_is_array(json_object_get(data, "alerts"))) {
		json_decref(facts);
		json_decref(alerts);
		return NULL;
	}
	json_array_foreach(json_object_get(data, "alerts"), i, a)
	{
		json_t *one = json_object();
		json_t *labels = json_object_get(a, "labels");
		const char *st = json_string_value(json_object_get(a, "state"));
		json_object_set(one, "name",
		                json_object_get(labels, "alertname")
		                    ? json_object_get(labels, "alertname")
		                    : json_null());
		json_object_set_new(one, "state", json_string(st ? st : "unknown"));
		if (!json_is_object(a)) {
			json_decref(one);
			json_decref(facts);
			json_decref(alerts);
			return NULL;
		}
		json_object_set_new(one, "labels", labels ? json_incref(labels) : json_object());
		if (json_object_get(a, "annotations"))
			json_object_set(one, "annotations", json_object_get(a, "annotations"));
		if (json_object_get(a, "activeAt"))
			json_object_set(one, "active_at", json_object_get(a, "activeAt"));
		if (json_object_get(a, "value"))
			json_object_set_new(one, "value", prom_value(json_object_get(a, "value")));
		if (st && strcmp(st, "firing") == 0)
			firing++;
		else if (st && strcmp(st, "pending") == 0)
			pending++;
		json_array_append_new(alerts, one);
	}
	json_object_set_new(facts, "server", json_string(c->server));
	json_object_set_new(facts, "count", json_integer((json_int_t)json_array_size(alerts)));
	json_object_set_new(facts, "firing", json_integer(firing));
	json_object_set_new(facts, "pending", json_integer(pending));
	json_object_set_new(facts, "alerts", alerts);
	return facts;
}

/* Evidence kept when the check does not pass: the active alerts, or the
 * rules that are not healthy, one per line (NULL when there are none). */
static char *prom_evidence(enum prom_mode mode, json_t *facts)
{
	struct buf b;
	size_t i;
	json_t *x;

	buf_init(&b, 64 * 1024);
	if (mode == PROM_ALERTS) {
		json_array_foreach(json_object_get(facts, "alerts"), i, x)
		{
			const char *name = json_string_value(json_object_get(x, "name"));
			const char *since = json_string_value(json_object_get(x, "active_at"));
			const char *summary = json_string_value(
			    json_object_get(json_object_get(x, "annotations"), "summary"));
			buf_addf(&b, "%s %s%s%s%s%s\n",
			         json_string_value(json_object_get(x, "state")),
			         name ? name : "(no alertname)", since ? " since " : "",
			         since ? since : "", summary ? ": " : "", summary ? summary : "");
		}
	} else if (mode == PROM_RULES) {
		json_array_foreach(json_object_get(facts, "rules"), i, x)
		{
			const char *health = json_string_value(json_object_get(x, "health"));
			const char *err = json_string_value(json_object_get(x, "error"));
			if (health && strcmp(health, "ok") == 0)
				continue;
			buf_addf(&b, "%s/%s: %s%s%s\n",
			         json_string_value(json_object_get(x, "group")),
			         json_string_value(json_object_get(x, "name")),
			         health ? health : "unknown", err ? ": " : "", err ? err : "");
		}
	}
	if (b.len == 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Judges an API response: returns data (a borrowed reference into *doc),
 * or NULL with out->error set. */
static json_t *prom_api_data(const struct prom_cfg *c, const struct http_response *rs, json_t **doc,
                             struct check_out *out)
{
	json_t *j = http_body_json(rs);
	const char *status = json_string_value(json_object_get(j, "status"));
	*doc = j;
	if (j && status && strcmp(status, "error") == 0) {
		const char *et = json_string_value(json_object_get(j, "errorType"));
		const char *er = json_string_value(json_object_get(j, "error"));
		/* the server's own words, one line and short (the whole text
		 * stays in the evidence) */
		char *etl = prom_line(et ? et : "no errorType");
		char *erl = prom_line(er ? er : "no error text");
		out->error = xasprintf("Prometheus at %s answered %ld with an error (%s): %s",
		                       c->server, rs->status, etl, erl);
		if (er && strcmp(er, erl) != 0)
			out->evidence = xasprintf("error text (%zu bytes):\n%s", strlen(er), er);
		free(etl);
		free(erl);
		return NULL;
	}
	if (rs->status < 200 || rs->status > 299) {
		char *ex = prom_excerpt(&rs->body);
		out->error =
		    xasprintf("Prometheus at %s answered HTTP %ld to %s: %s", c->server, rs->status,
		              c->url + strlen(c->server), ex[0] ? ex : "(empty body)");
		free(ex);
		return NULL;
	}
	if (!j) {
		char *ex = prom_excerpt(&rs->body);
		out->error =
		    xasprintf("Prometheus at %s did not answer with JSON (HTTP %ld): %s%s",
		              c->server, rs->status, ex[0] ? ex : "(empty body)",
		              rs->body_truncated ? " (the body was cut at the size limit)" : "");
		free(ex);
		return NULL;
	}
	json_t *data = json_object_get(j, "data");
	if (!status || strcmp(status, "success") != 0 || !json_is_object(data)) {
		out->error =
		    xasprintf("Prometheus at %s answered JSON that is not an API response "
		              "(no status \"success\" with data): is %s a Prometheus server?",
		              c->server, c->server);
		return NULL;
	}
	return data;
}

static void prom_scrape(const struct prom_cfg *c, struct check_ctx *ctx,
                        const struct http_response *rs, struct check_out *out)
{
	struct promtext_limits lim = {.keep_going = ctx_keep_going, .arg = ctx};
	json_t *facts = NULL;
	unsigned line = 0;
	struct pg_err e;

	if (rs->status != 200) {
		char *ex = prom_excerpt(&rs->body);
		out->error = xasprintf("%s answered HTTP %ld, not 200: %s", c->url, rs->status,
		                       ex[0] ? ex : "(empty body)");
		free(ex);
		return;
	}
	if (rs->body_truncated) {
		out->error = xasprintf("%s sent more metrics than the size limit (%zu bytes read)",
		                       c->url, rs->body.len);
		return;
	}
	if (promtext_parse(buf_str(&rs->body), rs->body.len, &lim, &facts, &line, &e) < 0) {
		out->error = xasprintf("metrics line %u: %s (from %s)", line, e.msg, c->url);
		return;
	}
	json_object_set_new(facts, "url", json_string(c->url));
	json_object_set_new(facts, "status", json_integer(rs->status));
	json_t *ct = json_object_get(rs->headers, "content-type");
	if (json_is_string(ct))
		json_object_set(facts, "content_type", ct);
	out->facts = facts;
	out->forced = CHECK_JUDGE;
}

static void prom_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct prom_cfg *c = priv;
	struct http_request rq;
	struct http_response rs;
	json_t *doc = NULL;

	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = "GET";
	rq.url = c->url;
	/* Files are relative to the suite directory. */
	char *ca = c->ca ? ctx_path(ctx, c->ca) : NULL;
	char *cert = c->cert ? ctx_path(ctx, c->cert) : NULL;
	char *key = c->key ? ctx_path(ctx, c->key) : NULL;
	rq.tls.ca_file = ca;
	rq.tls.cert_file = cert;
	rq.tls.key_file = key;
	rq.tls.server_name = c->server_name;
	rq.tls.insecure = c->insecure;
	out->insecure = c->insecure;

	/* Ask for the text format: OpenMetrics adds exemplars and # EOF. */
	const char *accept = c->mode == PROM_SCRAPE
	                         ? "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1"
	                         : "Accept: application/json";
	size_t nh = 0;
	while (c->headers[nh])
		nh++;
	const char **hv = xcalloc(nh + 2, sizeof(char *));
	hv[0] = accept;
	for (size_t i = 0; i < nh; i++)
		hv[i + 1] = c->headers[i];
	rq.headers = hv;

	out->forced = CHECK_ERROR;
	if (http_do(ctx, &rq, &rs) < 0) {
		out->error = xasprintf("%s: %s", c->mode == PROM_SCRAPE ? c->url : c->server,
		                       rs.error ? rs.error : "no response");
		goto out;
	}
	if (c->mode == PROM_SCRAPE) {
		prom_scrape(c, ctx, &rs, out);
		goto out;
	}
	json_t *data = prom_api_data(c, &rs, &doc, out);
	if (!data)
		goto out;
	switch (c->mode) {
	case PROM_QUERY:
		out->facts = prom_query_facts(c, data);
		break;
	case PROM_RULES:
		out->facts = prom_rules_facts(c, data);
		break;
	default:
		out->facts = prom_alerts_facts(c, data);
		break;
	}
	if (!out->facts) {
		static const char *const what[] = {"", "query result", "rule groups", "alerts"};
		out->error = xasprintf("Prometheus at %s answered %s that do not have the shape of "
		                       "its API (a malformed answer: is it a Prometheus server?)",
		                       c->server, what[c->mode]);
		goto out;
	}
	out->evidence = prom_evidence(c->mode, out->facts);
	json_t *warnings = json_object_get(doc, "warnings");
	if (json_array_size(warnings) > 0)
		json_object_set(out->facts, "warnings", warnings);
	out->forced = CHECK_JUDGE;
out:
	json_decref(doc);
	free(hv);
	free(ca);
	free(cert);
	free(key);
	http_response_release(&rs);
}

/* What a scrape, a query, the rules or the alerts showed (module.h,
 * summarize). */
static char *prom_summarize(const json_t *f)
{
	const char *url = json_string_value(json_object_get(f, "url"));
	if (json_object_get(f, "samples"))
		return xasprintf("%lld samples scraped from %s",
				 (long long)json_integer_value(json_object_get(f, "samples")),
				 url ? url : "the target");
	if (json_object_get(f, "result_type")) {
		json_t *v = json_object_get(f, "value");
		if (json_is_number(v))
			return xasprintf("the query gave %g", json_number_value(v));
		return xasprintf("the query gave %lld result(s)",
				 (long long)json_integer_value(json_object_get(f, "count")));
	}
	if (json_object_get(f, "rules_total"))
		return xasprintf("%lld rules, %lld unhealthy",
				 (long long)json_integer_value(json_object_get(f, "rules_total")),
				 (long long)json_integer_value(json_object_get(f, "unhealthy")));
	if (json_object_get(f, "firing"))
		return xasprintf("%lld alert(s) firing",
				 (long long)json_integer_value(json_object_get(f, "firing")));
	return NULL;
}

const struct check_module check_prometheus = {
    .name = "prometheus",
    .summary = "scrape a /metrics endpoint, or query a Prometheus server: PromQL, rules, alerts",
    .api_version = CHECK_API_VERSION,
    .flags = CHECK_F_READONLY,
    .keys = prom_keys,
    /* Without expect: a scrape must give samples, a query a result, the
     * rules must all be healthy, and no alert may fire. */
    .default_expect = "if has(\"samples\") then .samples > 0 "
                      "elif has(\"result_type\") then .count > 0 "
                      "elif has(\"rules_total\") then .rules_total > 0 and .unhealthy == 0 "
                      "else .firing == 0 end",
    .parse = prom_parse,
    .run = prom_run,
    .summarize = prom_summarize,
    .describe = prom_describe,
    .free = prom_free,
};
