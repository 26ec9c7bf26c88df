/* argocd_conn.c - how the argocd module reaches Argo CD: the connection
 * resolved from the suite's settings, the environment and the argocd CLI's
 * config file; session login (POST /api/v1/session); one API call and one
 * watch stream over the shared HTTP client; Argo CD's error bodies
 * ({error, code, message}) turned into messages a person can act on.
 * Every credential is registered with the masker as soon as it is read. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "argocd.h"
#include "vars.h"

#define ARGOCD_MAX_LINE (16u * 1024 * 1024) /* one stream event (an Application) */

const struct key_spec argocd_settings_keys[] = {
    {"server", KT_STR, 0, "host[:port] or URL of argocd-server (default: ARGOCD_SERVER, config)"},
    {"auth_token", KT_STR, 0, "bearer token (default: ARGOCD_AUTH_TOKEN, config user)"},
    {"username", KT_STR, 0, "log in with POST /api/v1/session (with password)"},
    {"password", KT_STR, 0, "password for username (use ${secrets.name})"},
    {"insecure", KT_BOOL, 0, "skip TLS verification (the reports say so)"},
    {"plaintext", KT_BOOL, 0, "plain HTTP instead of HTTPS"},
    {"ca_file", KT_STR, 0, "PEM bundle of the CA that signed argocd-server's certificate"},
    {"grpc_web_root_path", KT_STR, 0, "path prefix argocd-server is served under (/argocd)"},
    {"config", KT_STR, 0,
     "argocd CLI config file (default: ARGOCD_CONFIG, ~/.config/argocd/config)"},
    {"context", KT_STR, 0, "context of the config file (default: its current-context)"},
    {NULL, KT_ANY, 0, NULL},
};

/* ---- resolving the connection ------------------------------------------ */

static char *rel_to_suite(const struct node *settings, const char *key)
{
	const char *v = cfg_str(settings, key, NULL);
	if (!v || !*v)
		return NULL;
	const struct node *n = cfg_node(settings, key);
	if (v[0] == '/' || !n || !n->pos.file)
		return xstrdup(v);
	char *dir = path_dir(n->pos.file);
	char *out = xasprintf("%s/%s", dir, v);
	free(dir);
	return out;
}

static void set_str(char **dst, const char *v)
{
	if (*dst || !v || !*v)
		return;
	*dst = xstrdup(v);
}

/* ARGOCD_OPTS: the CLI's extra flags, split on white space. */
static void read_opts(struct argocd_conn *cn, char **root, int *plaintext)
{
	const char *p = getenv("ARGOCD_OPTS");
	char *prev = NULL;
	while (p && *p) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (!n)
			break;
		char *t = xstrndup(p, n);
		p += n;
		if (strcmp(t, "--insecure") == 0)
			cn->insecure = 1;
		else if (strcmp(t, "--plaintext") == 0)
			*plaintext = 1;
		else if (strncmp(t, "--grpc-web-root-path=", 21) == 0)
			set_str(root, t + 21);
		else if (prev && strcmp(prev, "--grpc-web-root-path") == 0)
			set_str(root, t);
		else if (strncmp(t, "--server=", 9) == 0)
			set_str(&cn->server, t + 9);
		else if (prev && strcmp(prev, "--server") == 0)
			set_str(&cn->server, t);
		free(prev);
		prev = t;
	}
	free(prev);
}

static const struct node *find_named(const struct node *seq, const char *key, const char *name)
{
	if (!seq || seq->kind != NODE_SEQ || !name)
		return NULL;
	for (size_t i = 0; i < seq->n; i++) {
		const struct node *v = node_get(seq->items[i], key);
		if (v && v->kind == NODE_SCALAR && strcmp(v->str, name) == 0)
			return seq->items[i];
	}
	return NULL;
}

static const char *scalar_of(const struct node *map, const char *key)
{
	const struct node *v = map ? node_get(map, key) : NULL;
	return v && v->kind == NODE_SCALAR ? v->str : NULL;
}

/* The argocd CLI's config file: contexts, servers, users. A missing file is
 * fine (nothing comes from it) unless the suite named it or a context. */
static int read_config(struct argocd_conn *cn, const char *path, int named, char **root,
                       int *plaintext)
{
	if (access(path, F_OK) != 0) {
		if (named || cn->context)
			cn->error = xasprintf("argocd config file '%s' does not exist", path);
		return named || cn->context ? -1 : 0;
	}
	struct diags pd;
	diags_init(&pd);
	struct node_limits lim = node_limits_default();
	struct node *tree = NULL;
	int rc = -1;
	if (node_load_file(path, &lim, &tree, &pd) != 0) {
		cn->error =
		    xasprintf("argocd config file '%s' is not valid YAML (line %u: %s)", path,
		              pd.n ? pd.v[0].line : 0, pd.n ? pd.v[0].msg : "unreadable");
		goto out;
	}
	const char *ctxname = cn->context ? cn->context : scalar_of(tree, "current-context");
	if (!ctxname || !*ctxname) {
		rc = 0; /* logged in nowhere: nothing to take */
		goto out;
	}
	const struct node *ctx = find_named(node_get(tree, "contexts"), "name", ctxname);
	if (!ctx) {
		struct buf names;
		buf_init(&names, 4096);
		const struct node *all = node_get(tree, "contexts");
		for (size_t i = 0; all && all->kind == NODE_SEQ && i < all->n; i++) {
			const char *n = scalar_of(all->items[i], "name");
			if (n)
				buf_addf(&names, "%s%s", names.len ? ", " : "", n);
		}
		cn->error = xasprintf("argocd context '%s' is not in %s (its contexts: %s)",
		                      ctxname, path, names.len ? buf_str(&names) : "none");
		buf_release(&names);
		goto out;
	}
	if (!cn->context)
		cn->context = xstrdup(ctxname);
	const char *srv = scalar_of(ctx, "server");
	const struct node *server = find_named(node_get(tree, "servers"), "server", srv);
	const struct node *user =
	    find_named(node_get(tree, "users"), "name", scalar_of(ctx, "user"));
	set_str(&cn->server, srv);
	if (server) {
		int b = 0;
		const struct node *v = node_get(server, "insecure");
		if (v && node_as_bool(v, &b, NULL) == 0 && b)
			cn->insecure = 1;
		v = node_get(server, "plain-text");
		if (v && node_as_bool(v, &b, NULL) == 0 && b)
			*plaintext = 1;
		set_str(root, scalar_of(server, "grpc-web-root-path"));
	}
	const char *tok = scalar_of(user, "auth-token");
	if (!cn->token && tok && *tok) {
		cn->token = xstrdup(tok);
		cn->token_from = xasprintf("the argocd config context '%s'", ctxname);
	}
	rc = 0;
out:
	node_free(tree);
	diags_release(&pd);
	return rc;
}

/* Where the argocd CLI keeps its config: ARGOCD_CONFIG_DIR, else
 * $XDG_CONFIG_HOME/argocd, else ~/.config/argocd, else the legacy ~/.argocd
 * when only that exists; the file is "config" in it. NULL without HOME. */
static char *default_config_path(void)
{
	const char *dir = getenv("ARGOCD_CONFIG_DIR"), *xdg = getenv("XDG_CONFIG_HOME"),
	           *home = getenv("HOME");
	if (dir && *dir)
		return xasprintf("%s/config", dir);
	if (xdg && *xdg)
		return xasprintf("%s/argocd/config", xdg);
	if (!home || !*home)
		return NULL;
	char *path = xasprintf("%s/.config/argocd/config", home);
	char *legacy = xasprintf("%s/.argocd/config", home);
	if (access(path, F_OK) != 0 && access(legacy, F_OK) == 0) {
		free(path);
		return legacy;
	}
	free(legacy);
	return path;
}

int argocd_conn_init(const struct node *settings, struct argocd_conn *cn, struct diags *d)
{
	memset(cn, 0, sizeof(*cn));
	pthread_mutex_init(&cn->lock, NULL);
	if (settings && keys_validate(settings, argocd_settings_keys, "modules.argocd", d) > 0)
		return -1;
	char *root = NULL;
	int plaintext = cfg_bool(settings, "plaintext", 0);
	cn->insecure = cfg_bool(settings, "insecure", 0);
	set_str(&cn->server, cfg_str(settings, "server", NULL));
	set_str(&cn->token, cfg_str(settings, "auth_token", NULL));
	if (cn->token)
		cn->token_from = xstrdup("modules.argocd.auth_token");
	set_str(&cn->username, cfg_str(settings, "username", NULL));
	set_str(&cn->password, cfg_str(settings, "password", NULL));
	set_str(&root, cfg_str(settings, "grpc_web_root_path", NULL));
	set_str(&cn->context, cfg_str(settings, "context", NULL));
	cn->ca_file = rel_to_suite(settings, "ca_file");

	/* the environment, as the argocd CLI reads it */
	set_str(&cn->server, getenv("ARGOCD_SERVER"));
	if (!cn->token && !cn->username && getenv("ARGOCD_AUTH_TOKEN") &&
	    *getenv("ARGOCD_AUTH_TOKEN")) {
		cn->token = xstrdup(getenv("ARGOCD_AUTH_TOKEN"));
		cn->token_from = xstrdup("ARGOCD_AUTH_TOKEN");
	}
	read_opts(cn, &root, &plaintext);

	/* then the CLI's config file */
	char *cfgpath = rel_to_suite(settings, "config");
	int named = cfgpath != NULL;
	if (!cfgpath && getenv("ARGOCD_CONFIG") && *getenv("ARGOCD_CONFIG")) {
		cfgpath = xstrdup(getenv("ARGOCD_CONFIG"));
		named = 1;
	}
	if (!cfgpath)
		cfgpath = default_config_path();
	if (cfgpath && !cn->error && (!cn->server || (!cn->token && !cn->username) || cn->context))
		read_config(cn, cfgpath, named, &root, &plaintext);

	if (cn->token)
		mask_add(cn->token);
	if (cn->password)
		mask_add(cn->password);
	if (!cn->error && (!cn->server || !*cn->server))
		cn->error = xasprintf(
		    "no Argo CD server: set modules.argocd.server (or --set argocd.server=HOST), "
		    "ARGOCD_SERVER, or log in with the argocd CLI (config file %s)",
		    cfgpath ? cfgpath : "~/.config/argocd/config");
	if (!cn->error) {
		const char *s = cn->server;
		int has_scheme = strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
		size_t len = strlen(s);
		while (len && s[len - 1] == '/')
			len--;
		const char *r = root ? root : "";
		while (*r == '/')
			r++;
		size_t rlen = strlen(r);
		while (rlen && r[rlen - 1] == '/')
			rlen--;
		cn->base = xasprintf("%s%.*s%s%.*s",
		                     has_scheme  ? ""
		                     : plaintext ? "http://"
		                                 : "https://",
		                     (int)len, s, rlen ? "/" : "", (int)rlen, r);
	}
	if (cn->username && !cn->password && !cn->error)
		cn->error =
		    xstrdup("modules.argocd.username needs a password (use ${secrets.name})");
	free(root);
	free(cfgpath);
	return 0;
}

void argocd_conn_release(struct argocd_conn *cn)
{
	free(cn->base);
	free(cn->server);
	free(cn->token);
	free(cn->token_from);
	free(cn->username);
	free(cn->password);
	free(cn->ca_file);
	free(cn->ca_pem);
	free(cn->context);
	free(cn->error);
	free(cn->session_error);
	pthread_mutex_destroy(&cn->lock);
	memset(cn, 0, sizeof(*cn));
}

void argocd_reply_release(struct argocd_reply *rp)
{
	json_decref(rp->body);
	free(rp->error);
	free(rp->api_message);
	memset(rp, 0, sizeof(*rp));
}

char *argocd_escape(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			buf_addc(&b, (char)*p);
		else
			buf_addf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

/* ---- one exchange ---------------------------------------------------------- */

/* Logs in once per run when a username is configured and no token is. */
static void ensure_session(struct argocd_run *r)
{
	struct argocd_conn *cn = r->cn;
	pthread_mutex_lock(&cn->lock);
	if (cn->token || !cn->username || cn->session_tried)
		goto out_unlock;
	cn->session_tried = 1;
	json_t *req = json_pack("{s:s,s:s}", "username", cn->username, "password", cn->password);
	char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *url = xasprintf("%s/api/v1/session", cn->base);
	const char *headers[4] = {"Accept: application/json", "Content-Type: application/json",
	                          NULL, NULL};
	struct http_request rq = {.method = "POST",
	                          .url = url,
	                          .headers = headers,
	                          .body = body,
	                          .body_len = strlen(body),
	                          .max_body = 1u << 20};
	rq.tls.ca_file = cn->ca_file;
	rq.tls.insecure = cn->insecure;
	struct http_response rs = {0};
	r->requests++;
	if (http_do(r->ctx, &rq, &rs) != 0) {
		cn->session_error = xasprintf("cannot reach Argo CD at %s to log in: %s", cn->base,
		                              rs.error ? rs.error : "no response");
	} else {
		json_t *j = http_body_json(&rs);
		const char *tok = json_string_value(json_object_get(j, "token"));
		if (rs.status == 200 && tok && *tok) {
			mask_add(tok);
			cn->token = xstrdup(tok);
			cn->token_from = xasprintf("the session of '%s'", cn->username);
		} else {
			const char *m = json_string_value(json_object_get(j, "message"));
			cn->session_error =
			    xasprintf("logging in to Argo CD as '%s' failed (%ld%s%s)",
			              cn->username, rs.status, m ? ": " : "", m ? m : "");
		}
		json_decref(j);
	}
	http_response_release(&rs);
	free(url);
	free(body);
out_unlock:
	pthread_mutex_unlock(&cn->lock);
}

/* "permission denied: applications, sync, shop/x, sub: ci, iat: ..." ->
 * the policy line that would allow it. */
static char *rbac_hint(const char *msg)
{
	const char *p = msg ? strstr(msg, "permission denied: ") : NULL;
	if (!p)
		return NULL;
	p += strlen("permission denied: ");
	const char *sub = strstr(p, ", sub: ");
	if (!sub)
		return NULL;
	const char *subv = sub + strlen(", sub: ");
	size_t sublen = strcspn(subv, ",");
	return xasprintf("the account needs an RBAC permission such as 'p, %.*s, %.*s, allow' "
	                 "(argocd-rbac-cm policy.csv or the project's roles)",
	                 (int)sublen, subv, (int)(sub - p), p);
}

static void set_reply_error(struct argocd_run *r, const char *what, struct argocd_reply *rp)
{
	struct argocd_conn *cn = r->cn;
	const char *m = rp->api_message ? rp->api_message : "";
	switch (rp->status) {
	case 401:
		if (!cn->token)
			rp->error = xasprintf("%s: Argo CD wants credentials (401 %s): set "
			                      "ARGOCD_AUTH_TOKEN, modules.argocd.auth_token, or "
			                      "username and password",
			                      what, m);
		else
			rp->error =
			    xasprintf("%s: Argo CD refused the token from %s (401 %s): it is "
			              "expired or wrong; log in again or give a fresh token",
			              what, cn->token_from ? cn->token_from : "the settings", m);
		break;
	case 403: {
		char *hint = rbac_hint(m);
		rp->error = xasprintf("%s: permission denied (403): %s%s%s", what, m,
		                      hint ? "; " : "", hint ? hint : "");
		free(hint);
		break;
	}
	case 404:
		rp->error = xasprintf("%s: not found (404): %s", what,
		                      *m ? m
		                         : "no such path on "
		                           "this server (is it "
		                           "argocd-server?)");
		break;
	default:
		rp->error =
		    xasprintf("%s: Argo CD answered %ld%s%s", what, rp->status, *m ? ": " : "", m);
		break;
	}
}

/* Runs one exchange; the body is kept unless rq carries on_body. */
static int exchange(struct argocd_run *r, const char *method, const char *path, json_t *body,
                    const char *what, struct argocd_reply *rp, struct http_request *rq,
                    struct http_response *rs)
{
	struct argocd_conn *cn = r->cn;
	memset(rp, 0, sizeof(*rp));
	ensure_session(r);
	if (!cn->token && cn->session_error) {
		rp->error = xasprintf("%s: %s", what, cn->session_error);
		return -1;
	}
	char *auth = cn->token ? xasprintf("Authorization: Bearer %s", cn->token) : NULL;
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	const char *headers[4];
	size_t k = 0;
	headers[k++] = "Accept: application/json";
	if (text)
		headers[k++] = "Content-Type: application/json";
	if (auth)
		headers[k++] = auth;
	headers[k] = NULL;
	rq->headers = headers;
	rq->tls.ca_file = cn->ca_file;
	rq->tls.insecure = cn->insecure;
	char *url = xasprintf("%s%s", cn->base, path);
	rq->method = method;
	rq->url = url;
	rq->body = text;
	rq->body_len = text ? strlen(text) : 0;
	r->requests++;
	int rc = -1;
	if (http_do(r->ctx, rq, rs) != 0) {
		rp->error = xasprintf("%s: cannot reach Argo CD at %s: %s", what, cn->base,
		                      rs->error ? rs->error : "no response");
		goto out;
	}
	rp->status = rs->status;
	if (rs->body.len)
		rp->body = http_body_json(rs);
	if (rs->status >= 200 && rs->status < 300) {
		rc = 0;
		goto out;
	}
	const char *m = json_string_value(json_object_get(rp->body, "message"));
	if (!m)
		m = json_string_value(json_object_get(rp->body, "error"));
	rp->api_message = xstrdup(m);
	set_reply_error(r, what, rp);
out:
	free(url);
	free(text);
	free(auth);
	return rc;
}

int argocd_call(struct argocd_run *r, const char *method, const char *path, json_t *body,
                const char *what, struct argocd_reply *rp)
{
	struct http_request rq = {.max_body = 64u << 20};
	struct http_response rs = {0};
	int rc = exchange(r, method, path, body, what, rp, &rq, &rs);
	if (rc == 0 && !rp->body && rs.body.len) {
		rp->error = xasprintf("%s: Argo CD's answer is not JSON", what);
		rc = -1;
	}
	http_response_release(&rs);
	return rc;
}

/* ---- streams ------------------------------------------------------------------- */

struct line_reader {
	struct buf line;
	int (*on_line)(void *arg, const char *line, size_t len);
	void *arg;
	int too_long;
};

static int feed(void *arg, const char *data, size_t len)
{
	struct line_reader *lr = arg;
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			if (lr->line.len >= ARGOCD_MAX_LINE) {
				lr->too_long = 1;
				return 1;
			}
			buf_addc(&lr->line, data[i]);
			continue;
		}
		int stop =
		    lr->line.len ? lr->on_line(lr->arg, buf_str(&lr->line), lr->line.len) : 0;
		lr->line.len = 0;
		if (lr->line.data)
			lr->line.data[0] = 0;
		if (stop)
			return 1;
	}
	return 0;
}

int argocd_stream(struct argocd_run *r, const char *path, const char *what,
                  int (*on_line)(void *arg, const char *line, size_t len), void *arg,
                  struct argocd_reply *rp)
{
	struct line_reader lr = {.on_line = on_line, .arg = arg};
	buf_init(&lr.line, 0);
	struct http_request rq = {.max_body = 1u << 20, .on_body = feed, .on_body_arg = &lr};
	struct http_response rs = {0};
	int rc = exchange(r, "GET", path, NULL, what, rp, &rq, &rs);
	if (rc == 0 && lr.too_long) {
		rp->error = xasprintf("%s: a stream event is longer than %u MiB", what,
		                      ARGOCD_MAX_LINE >> 20);
		rc = -1;
	}
	buf_release(&lr.line);
	http_response_release(&rs);
	return rc;
}

char *argocd_suggest_app(struct argocd_run *r, const char *name)
{
	struct argocd_reply rp;
	char *best = NULL;
	size_t best_d = (size_t)-1;
	if (argocd_call(r, "GET", "/api/v1/applications", NULL, "list applications", &rp) == 0) {
		json_t *items = json_object_get(rp.body, "items");
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
		{
			const char *n = argocd_str(it, "metadata.name", NULL);
			if (!n)
				continue;
			size_t dist = edit_distance(name, n);
			size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
			if (dist <= limit && dist < best_d) {
				best_d = dist;
				free(best);
				best = xstrdup(n);
			}
		}
	}
	argocd_reply_release(&rp);
	return best;
}
