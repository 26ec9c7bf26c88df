/* kubeconfig.c - kubeconfig loading and merging, credentials and exec
 * credential plugins, following kubectl's rules (see kubeconfig.h). */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "kube_proxy.h"
#include "mask.h"
#include "module.h"
#include "node.h"
#include "proc.h"
#include "vars.h"

#define KUBECONFIG_MAX (4 * 1024 * 1024)
#define DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One parsed kubeconfig file. */
struct kfile {
	char *path;
	char *dir;
	json_t *doc;
};


static char *resolve(const char *dir, const char *p)
{
	if (!p || !*p)
		return NULL;
	if (p[0] == '/')
		return xstrdup(p);
	if (p[0] == '~' && p[1] == '/') {
		const char *home = getenv("HOME");
		return xasprintf("%s/%s", home ? home : "", p + 2);
	}
	return xasprintf("%s/%s", dir, p);
}

/* Loads one file; a missing file is skipped (returns 1), as kubectl does. */
static int kfile_load(struct kfile *f, const char *path, int must_exist, struct pg_err *e)
{
	memset(f, 0, sizeof(*f));
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT && !must_exist)
			return 1;
		return pg_error(e, "kubeconfig '%s': %s", path, strerror(errno));
	}
	struct diags d;
	diags_init(&d);
	struct node_limits lim = node_limits_default();
	lim.max_file_bytes = KUBECONFIG_MAX;
	struct node *n = NULL;
	if (node_load_file(path, &lim, &n, &d) != 0) {
		const struct diag *g = d.n ? &d.v[0] : NULL;
		int rc = pg_error(e, "kubeconfig '%s' line %u: %s", path, g ? g->line : 0,
				  g ? g->msg : "cannot be parsed");
		diags_release(&d);
		return rc;
	}
	diags_release(&d);
	f->doc = node_to_json(n);
	node_free(n);
	if (!json_is_object(f->doc)) {
		json_decref(f->doc);
		f->doc = NULL;
		return pg_error(e, "kubeconfig '%s' is not a map of clusters, users and contexts", path);
	}
	f->path = xstrdup(path);
	f->dir = path_dir(path);
	return 0;
}

static void kfile_release(struct kfile *f)
{
	free(f->path);
	free(f->dir);
	if (f->doc)
		json_decref(f->doc);
}

/* Finds a named entry (cluster, user, context) in the first file that
 * defines it: a named entry is taken whole from that file. */
static json_t *find_named(struct kfile *files, size_t n, const char *list, const char *field,
			  const char *name, struct kfile **from)
{
	for (size_t i = 0; i < n; i++) {
		json_t *arr = json_object_get(files[i].doc, list);
		size_t k;
		json_t *it;
		json_array_foreach(arr, k, it)
		{
			const char *nm = jstr(it, "name");
			if (nm && strcmp(nm, name) == 0) {
				*from = &files[i];
				return json_object_get(it, field);
			}
		}
	}
	return NULL;
}


/* Registers every line of a multi-line secret (a PEM key) with the masker
 * besides the whole text, so no line printed alone shows. */
static void mask_lines(const char *secret)
{
	if (!secret)
		return;
	mask_add(secret);
	for (const char *p = secret; *p;) {
		size_t n = strcspn(p, "\r\n");
		if (n >= 8 && strncmp(p, "-----", 5) != 0) {
			char *line = xstrndup(p, n);
			mask_add(line);
			free(line);
		}
		p += n;
		p += strspn(p, "\r\n");
	}
}

static int set_pem(char **file_out, char **pem_out, json_t *obj, const char *file_key,
                   const char *data_key, const char *dir, const char *where, int secret,
                   struct pg_err *e)
{
	const char *file = jstr(obj, file_key);
	const char *data = jstr(obj, data_key);
	if (data && *data) {
		if (secret)
			mask_lines(data);
		size_t len;
		char *pem = base64_decode(data, &len); /* strict, as client-go */
		if (!pem)
			return pg_error(e,
			                "%s: %s is not valid base64 (standard alphabet with "
			                "padding)",
			                where, data_key);
		if (memchr(pem, 0, len)) {
			free(pem);
			return pg_error(e, "%s: %s decodes to binary data, not PEM text", where,
			                data_key);
		}
		if (secret)
			mask_lines(pem);
		*pem_out = pem;
		return 0; /* -data wins over the file */
	}
	if (file && *file)
		*file_out = resolve(dir, file);
	return 0;
}

/* Reads a small credential file named by the user: opened non-blocking so
 * a FIFO or a device cannot hang the run, and refused unless it is a
 * regular file. The read itself goes through the descriptor already
 * checked (/proc/self/fd), so the file cannot be swapped in between. */
static int read_regular(const char *path, size_t max, char **out, struct pg_err *e)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pg_error(e, "cannot read '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pg_error(e, "cannot read '%s': not a regular file", path);
	}
	char *pinned = xasprintf("/proc/self/fd/%d", fd);
	size_t len;
	int rc = read_file_capped(pinned, max, out, &len, e);
	free(pinned);
	close(fd);
	if (rc != 0) {
		char *why = xstrdup(e->msg); /* it names /proc/self/fd: say the path */
		pg_error(e, "cannot read '%s' (%s)", path, why);
		free(why);
		return -1;
	}
	return 0;
}

static int read_small(const char *path, char **out, struct pg_err *e)
{
	if (read_regular(path, 1024 * 1024, out, e) != 0)
		return -1;
	size_t len = strlen(*out);
	/* tokens and namespaces are used without surrounding white space */
	while (len && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r' || (*out)[len - 1] == ' '))
		(*out)[--len] = 0;
	return 0;
}

/* as, as-uid, as-groups, as-user-extra of a kubeconfig user. */
static int read_impersonation(struct kube_config *kc, json_t *u, const char *where,
                              struct pg_err *e)
{
	kc->as_user = xstrdup(jstr(u, "as"));
	kc->as_uid = xstrdup(jstr(u, "as-uid"));
	json_t *groups = json_object_get(u, "as-groups");
	json_t *extra = json_object_get(u, "as-user-extra");
	if ((groups && !json_is_array(groups)) || (extra && !json_is_object(extra)))
		return pg_error(e, "%s: as-groups must be a list and as-user-extra a map of lists",
		                where);
	if (!kc->as_user && (json_array_size(groups) || json_object_size(extra) || kc->as_uid))
		return pg_error(e,
		                "%s: as-groups, as-uid and as-user-extra need as (the user to "
		                "impersonate)",
		                where);
	size_t n = json_array_size(groups);
	if (n) {
		kc->as_groups = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			const char *g = json_string_value(json_array_get(groups, i));
			if (!g)
				return pg_error(e, "%s: as-groups must hold strings", where);
			kc->as_groups[i] = xstrdup(g);
		}
	}
	const char *k;
	json_t *v;
	json_object_foreach(extra, k, v)
	{
		size_t i;
		json_t *x;
		if (!json_is_array(v))
			return pg_error(e, "%s: as-user-extra '%s' must be a list", where, k);
		json_array_foreach(v, i, x) if (!json_is_string(x)) return pg_error(
		    e, "%s: as-user-extra '%s' must hold strings", where, k);
	}
	if (json_object_size(extra))
		kc->as_extra = json_incref(extra);
	return 0;
}

/* The auth-provider of a user: oidc (kube_oidc.h), the one kubectl still
 * supports; the others (gcp, azure) were removed from kubectl and are
 * refused with the exec plugin hint. */
static int read_auth_provider(struct kube_config *kc, json_t *ap, const char *where,
                              struct pg_err *e)
{
	if (!json_is_object(ap))
		return 0;
	const char *name = jstr(ap, "name");
	if (!name || strcmp(name, "oidc") != 0)
		return pg_error(e,
		                "%s: the auth-provider '%s' is not supported (kubectl removed it); "
		                "use an exec credential plugin",
		                where, name ? name : "");
	if (kube_oidc_read(&kc->oidc, json_object_get(ap, "config"), kc->user_name, where, e) != 0)
		return -1;
	kc->oidc.proxy = kube_proxy_for(kc->oidc.issuer, NULL, NULL);
	return 0;
}

static int load_in_cluster(struct kube_config *kc, const struct kube_config_opts *o,
			   struct pg_err *e)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *dir = o->sa_dir ? o->sa_dir : DEFAULT_SA_DIR;
	char *token = xasprintf("%s/token", dir);
	if (!host || !*host || !port || !*port || access(token, R_OK) != 0) {
		free(token);
		return pg_error(e, "no kubeconfig found (KUBECONFIG is unset and ~/.kube/config does not "
				   "exist) and not running in a cluster (KUBERNETES_SERVICE_HOST/PORT "
				   "and a service account token are needed)");
	}
	if (strchr(host, ':'))
		kc->server = xasprintf("https://[%s]:%s", host, port);
	else
		kc->server = xasprintf("https://%s:%s", host, port);
	kc->token_file = token;
	kc->ca_file = xasprintf("%s/ca.crt", dir);
	const char *ns = getenv("POD_NAMESPACE");
	if (ns && *ns) {
		kc->nspace = xstrdup(ns);
	} else {
		char *nsfile = xasprintf("%s/namespace", dir);
		char *val = NULL;
		struct pg_err ignore;
		if (read_small(nsfile, &val, &ignore) == 0 && *val)
			kc->nspace = val;
		else
			free(val);
		free(nsfile);
	}
	if (o->nspace) {
		free(kc->nspace);
		kc->nspace = xstrdup(o->nspace);
	}
	if (!kc->nspace)
		kc->nspace = xstrdup("default");
	kc->origin = xstrdup("in-cluster service account");
	return 0; /* the proxy is chosen by the caller, as for a kubeconfig */
}

int kube_config_load(struct kube_config *kc, const struct kube_config_opts *o, struct pg_err *e)
{
	memset(kc, 0, sizeof(*kc));
	pthread_mutex_init(&kc->lock, NULL);
	struct kfile files[16];
	size_t nfiles = 0;
	int rc = -1;

	/* Which files: --kubeconfig alone, else KUBECONFIG's list, else ~/.kube/config. */
	if (o->kubeconfig && *o->kubeconfig) {
		if (kfile_load(&files[0], o->kubeconfig, 1, e) != 0)
			return -1;
		nfiles = 1;
	} else {
		const char *env = getenv("KUBECONFIG");
		char *list = NULL;
		if (env && *env) {
			list = xstrdup(env);
		} else {
			const char *home = getenv("HOME");
			list = xasprintf("%s/.kube/config", home ? home : "");
		}
		char *save = list;
		for (char *p = list; p && *p && nfiles < 16;) {
			char *colon = strchr(p, ':');
			if (colon)
				*colon = 0;
			int dup = 0;
			for (size_t i = 0; i < nfiles; i++)
				dup |= strcmp(files[i].path, p) == 0;
			if (*p && !dup) {
				int r = kfile_load(&files[nfiles], p, 0, e);
				if (r < 0) {
					free(save);
					goto out;
				}
				if (r == 0)
					nfiles++;
			}
			p = colon ? colon + 1 : NULL;
		}
		free(save);
	}
	if (nfiles == 0) {
		rc = load_in_cluster(kc, o, e);
		goto out;
	}

	/* current-context: the first file that sets it wins. */
	const char *ctxname = o->context;
	for (size_t i = 0; !ctxname && i < nfiles; i++) {
		const char *c = jstr(files[i].doc, "current-context");
		if (c && *c)
			ctxname = c;
	}
	if (!ctxname) {
		pg_error(e, "kubeconfig %s: no current-context is set and no context was given "
			    "(set modules.k8s.context or --set k8s.context=NAME)", files[0].path);
		goto out;
	}
	struct kfile *cf = NULL, *clf = NULL, *uf = NULL;
	json_t *ctx = find_named(files, nfiles, "contexts", "context", ctxname, &cf);
	if (!json_is_object(ctx)) {
		pg_error(e, "kubeconfig %s: context '%s' is not defined", files[0].path, ctxname);
		goto out;
	}
	kc->context_name = xstrdup(ctxname);
	const char *cluster = jstr(ctx, "cluster");
	const char *user = jstr(ctx, "user");
	if (!cluster || !*cluster) {
		pg_error(e, "kubeconfig %s: context '%s' names no cluster", cf->path, ctxname);
		goto out;
	}
	json_t *cl = find_named(files, nfiles, "clusters", "cluster", cluster, &clf);
	if (!json_is_object(cl)) {
		pg_error(e, "kubeconfig %s: context '%s' uses cluster '%s', which is not defined", cf->path,
			 ctxname, cluster);
		goto out;
	}
	kc->cluster_name = xstrdup(cluster);
	const char *server = jstr(cl, "server");
	if (!server || !*server) {
		pg_error(e, "kubeconfig %s: cluster '%s' has no server", clf->path, cluster);
		goto out;
	}
	kc->server = xstrdup(server);
	size_t sl = strlen(kc->server);
	while (sl > 1 && kc->server[sl - 1] == '/')
		kc->server[--sl] = 0;
	kc->tls_server_name = xstrdup(jstr(cl, "tls-server-name"));
	kc->insecure = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
	kc->proxy_url = xstrdup(jstr(cl, "proxy-url"));
	char *where = xasprintf("kubeconfig %s: cluster '%s'", clf->path, cluster);
	if (kc->proxy_url && kube_proxy_url_check(kc->proxy_url, e) != 0) {
		char *why = xstrdup(e->msg);
		pg_error(e, "%s: %s", where, why);
		free(why);
		free(where);
		goto out;
	}
	if (jstr(cl, "certificate-authority") && jstr(cl, "certificate-authority-data")) {
		pg_error(e, "%s: certificate-authority and certificate-authority-data are both set; keep one",
			 where);
		free(where);
		goto out;
	}
	if (set_pem(&kc->ca_file, &kc->ca_pem, cl, "certificate-authority",
	            "certificate-authority-data", clf->dir, where, 0, e) != 0) {
		free(where);
		goto out;
	}
	if (kc->insecure && (kc->ca_file || kc->ca_pem)) {
		pg_error(e, "%s: specifying a root certificates file with the insecure flag is not allowed",
			 where);
		free(where);
		goto out;
	}
	free(where);

	if (user && *user) {
		json_t *u = find_named(files, nfiles, "users", "user", user, &uf);
		if (!json_is_object(u)) {
			pg_error(e, "kubeconfig %s: context '%s' uses user '%s', which is not defined",
				 cf->path, ctxname, user);
			goto out;
		}
		kc->user_name = xstrdup(user);
		where = xasprintf("kubeconfig %s: user '%s'", uf->path, user);
		if (set_pem(&kc->cert_file, &kc->cert_pem, u, "client-certificate",
		            "client-certificate-data", uf->dir, where, 0, e) != 0 ||
		    set_pem(&kc->key_file, &kc->key_pem, u, "client-key", "client-key-data",
		            uf->dir, where, 1, e) != 0) {
			free(where);
			goto out;
		}
		int has_cert = kc->cert_file || kc->cert_pem;
		int has_key = kc->key_file || kc->key_pem;
		if (has_cert != has_key) {
			pg_error(e, "%s: a client certificate needs its key (client-certificate and client-key "
				    "go together)", where);
			free(where);
			goto out;
		}
		const char *token = jstr(u, "token");
		const char *token_file = jstr(u, "tokenFile");
		if (token && *token)
			kc->token = xstrdup(token);
		else if (token_file && *token_file)
			kc->token_file = resolve(uf->dir, token_file);
		kc->username = xstrdup(jstr(u, "username"));
		kc->password = xstrdup(jstr(u, "password"));
		/* credentials are masked the moment they are read: a server that
		 * repeats the Authorization header in a message cannot show them */
		mask_add(kc->token);
		if (kc->password) {
			char *pair =
			    xasprintf("%s:%s", kc->username ? kc->username : "", kc->password);
			mask_add(kc->password);
			mask_add(pair); /* and its Base64, the Basic header */
			free(pair);
		}
		if (read_impersonation(kc, u, where, e) != 0 ||
		    read_auth_provider(kc, json_object_get(u, "auth-provider"), where, e) != 0) {
			free(where);
			goto out;
		}
		json_t *ex = json_object_get(u, "exec");
		int methods = (jstr(u, "token") || kc->token_file ? 1 : 0) +
		              (kc->username ? 1 : 0) + (json_is_object(ex) ? 1 : 0) +
		              (json_is_object(json_object_get(u, "auth-provider")) ? 1 : 0);
		if (methods > 1) {
			pg_error(e, "%s: more than one authentication method is set (token, basic auth, "
				    "exec, auth-provider); keep one", where);
			free(where);
			goto out;
		}
		if (json_is_object(ex)) {
			const char *cmd = jstr(ex, "command");
			const char *api = jstr(ex, "apiVersion");
			const char *mode = jstr(ex, "interactiveMode");
			if (!cmd || !*cmd) {
				pg_error(e, "%s: exec has no command", where);
				free(where);
				goto out;
			}
			if (!api || (strcmp(api, "client.authentication.k8s.io/v1") != 0 &&
				     strcmp(api, "client.authentication.k8s.io/v1beta1") != 0)) {
				pg_error(e, "%s: exec apiVersion must be client.authentication.k8s.io/v1 or "
					    "v1beta1, not '%s'", where, api ? api : "");
				free(where);
				goto out;
			}
			if (strcmp(api, "client.authentication.k8s.io/v1") == 0 && !mode) {
				pg_error(e, "%s: exec interactiveMode must be set for "
					    "client.authentication.k8s.io/v1 (Never, IfAvailable or Always)",
					 where);
				free(where);
				goto out;
			}
			if (mode && strcmp(mode, "Always") == 0) {
				pg_error(e, "%s: the exec plugin wants an interactive terminal "
					    "(interactiveMode: Always), which a verification run has not",
					 where);
				free(where);
				goto out;
			}
			kc->exec = json_incref(ex);
			kc->exec_dir = xstrdup(uf->dir);
			if (json_is_true(json_object_get(ex, "provideClusterInfo"))) {
				json_t *c = json_object();
				json_object_set_new(c, "server", json_string(kc->server));
				if (kc->tls_server_name)
					json_object_set_new(c, "tls-server-name",
							    json_string(kc->tls_server_name));
				json_object_set_new(c, "insecure-skip-tls-verify",
						    json_boolean(kc->insecure));
				const char *cad = jstr(cl, "certificate-authority-data");
				if (cad)
					json_object_set_new(c, "certificate-authority-data",
							    json_string(cad));
				json_t *exts = json_object_get(cl, "extensions");
				size_t k;
				json_t *x;
				json_array_foreach(exts, k, x)
				{
					const char *nm = jstr(x, "name");
					if (nm && strcmp(nm, "client.authentication.k8s.io/exec") == 0)
						json_object_set(c, "config", json_object_get(x, "extension"));
				}
				kc->exec_cluster = c;
			}
		}
		free(where);
	}

	const char *ns = o->nspace ? o->nspace : jstr(ctx, "namespace");
	kc->nspace = xstrdup(ns && *ns ? ns : "default");
	kc->origin = xasprintf("kubeconfig %s (context %s)", cf->path, ctxname);
	rc = 0;
out:
	if (rc == 0) {
		/* user:password of a proxy never shows, in any output */
		(void)http_url_secret(kc->proxy_url);
		kc->proxy = kube_proxy_for(kc->server, kc->proxy_url, NULL);
		(void)http_url_secret(kc->proxy);
	}
	for (size_t i = 0; i < nfiles; i++)
		kfile_release(&files[i]);
	if (rc != 0)
		kube_config_release(kc);
	return rc;
}

static void cred_release(struct kube_exec_cred *c)
{
	free(c->token);
	free(c->cert_pem);
	free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

void kube_config_release(struct kube_config *kc)
{
	free(kc->server);
	free(kc->tls_server_name);
	free(kc->ca_file);
	free(kc->ca_pem);
	free(kc->cert_file);
	free(kc->key_file);
	free(kc->cert_pem);
	free(kc->key_pem);
	free(kc->token);
	free(kc->token_file);
	free(kc->username);
	free(kc->password);
	free(kc->as_user);
	free(kc->as_uid);
	for (size_t i = 0; kc->as_groups && kc->as_groups[i]; i++)
		free(kc->as_groups[i]);
	free(kc->as_groups);
	if (kc->as_extra)
		json_decref(kc->as_extra);
	free(kc->proxy_url);
	free(kc->proxy);
	kube_oidc_release(&kc->oidc);
	free(kc->nspace);
	free(kc->context_name);
	free(kc->cluster_name);
	free(kc->user_name);
	free(kc->origin);
	free(kc->exec_dir);
	if (kc->exec)
		json_decref(kc->exec);
	if (kc->exec_cluster)
		json_decref(kc->exec_cluster);
	cred_release(&kc->cred);
	pthread_mutex_destroy(&kc->lock);
	memset(kc, 0, sizeof(*kc));
}

int kube_config_can_refresh(const struct kube_config *kc)
{
	return kc->exec != NULL || kc->token_file != NULL || kube_oidc_can_refresh(&kc->oidc);
}

/* RFC 3339 "2026-11-26T10:00:00Z" (fractions and offsets accepted). */
static double parse_rfc3339(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return 0;
	if (*p == '.')
		while (*++p >= '0' && *p <= '9')
			;
	long off = 0;
	if (*p == '+' || *p == '-') {
		int hh = 0, mm = 0;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) >= 1)
			off = (hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
	}
	return (double)timegm(&tm) - (double)off;
}

static int run_exec_plugin(struct kube_config *kc, struct check_ctx *ctx, struct pg_err *e)
{
	json_t *ex = kc->exec;
	const char *api = jstr(ex, "apiVersion");
	const char *cmd = jstr(ex, "command");
	char *path = (strchr(cmd, '/') && cmd[0] != '/') ? resolve(kc->exec_dir, cmd) : xstrdup(cmd);
	json_t *args = json_object_get(ex, "args");
	size_t nargs = json_array_size(args);
	const char **argv = xcalloc(nargs + 2, sizeof(char *));
	argv[0] = path;
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = json_string_value(json_array_get(args, i)) ? json_string_value(json_array_get(args, i)) : "";
	json_t *info = json_pack("{s:s, s:s, s:{s:b}}", "apiVersion", api, "kind", "ExecCredential",
				 "spec", "interactive", 0);
	if (kc->exec_cluster)
		json_object_set(json_object_get(info, "spec"), "cluster", kc->exec_cluster);
	char *infotext = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	json_t *envs = json_object_get(ex, "env");
	size_t nenv = json_array_size(envs);
	char **env = xcalloc(nenv + 2, sizeof(char *));
	env[0] = xasprintf("KUBERNETES_EXEC_INFO=%s", infotext);
	for (size_t i = 0; i < nenv; i++) {
		json_t *ev = json_array_get(envs, i);
		env[i + 1] = xasprintf("%s=%s", jstr(ev, "name") ? jstr(ev, "name") : "",
				       jstr(ev, "value") ? jstr(ev, "value") : "");
	}
	free(infotext);
	/* client-go gives a plugin no time limit of its own; here it gets
	 * 30s, or what is left of the check when that is less */
	long long budget = 30000;
	int by_check = 0;
	if (ctx && ctx_remaining_ms(ctx) < budget) {
		budget = ctx_remaining_ms(ctx) > 0 ? ctx_remaining_ms(ctx) : 1;
		by_check = 1;
	}
	struct proc_spec spec = {
	    .argv = argv,
	    .env_add = (const char *const *)env,
	    .max_output = 1024 * 1024,
	    .timeout_ms = budget,
	};
	struct proc_result r;
	memset(&r, 0, sizeof(r));
	int rc = -1;
	struct pg_err pe;
	if (proc_run(&spec, ctx, &r, &pe) != 0) {
		const char *hint = jstr(ex, "installHint");
		pg_error(e, "exec credential plugin '%s' cannot run: %s%s%s", cmd, pe.msg,
			 hint ? "; " : "", hint ? hint : "");
		goto out;
	}
	if (r.timed_out || r.cancelled) {
		/* the budget came from a deadline set a moment earlier: 1999ms
		 * reads better as the 2s the suite wrote */
		char *t = format_duration(budget >= 500 ? (budget + 50) / 100 * 100 : budget);
		pg_error(e, "exec credential plugin '%s' was stopped %s (after %s)%s%.300s", cmd,
		         r.cancelled ? "because the run was interrupted"
		         : by_check  ? "at the check's deadline"
		                     : "at its own 30s limit",
		         t, r.err.len ? ": " : "", buf_str(&r.err));
		free(t);
		goto out;
	}
	if (r.exit_code != 0) {
		pg_error(e, "exec credential plugin '%s' failed: %.300s", cmd, buf_str(&r.err));
		goto out;
	}
	json_error_t je;
	json_t *cred = json_loads(buf_str(&r.out), 0, &je);
	json_t *status = json_object_get(cred, "status");
	if (!json_is_object(status)) {
		pg_error(e, "exec credential plugin '%s' printed no ExecCredential with a status", cmd);
		if (cred)
			json_decref(cred);
		goto out;
	}
	const char *kind = jstr(cred, "kind"), *oapi = jstr(cred, "apiVersion");
	if (!kind || strcmp(kind, "ExecCredential") != 0 || !oapi || strcmp(oapi, api) != 0) {
		pg_error(e, "exec credential plugin '%s' answered kind '%s' apiVersion '%s', expected "
			    "ExecCredential %s", cmd, kind ? kind : "", oapi ? oapi : "", api);
		json_decref(cred);
		goto out;
	}
	const char *tok = jstr(status, "token");
	const char *cert = jstr(status, "clientCertificateData");
	const char *key = jstr(status, "clientKeyData");
	if ((cert && !key) || (key && !cert)) {
		pg_error(e, "exec credential plugin '%s' gave a client certificate without its key", cmd);
		json_decref(cred);
		goto out;
	}
	if (!tok && !cert) {
		pg_error(e, "exec credential plugin '%s' gave neither a token nor a client certificate", cmd);
		json_decref(cred);
		goto out;
	}
	mask_add(tok);
	mask_lines(key);
	cred_release(&kc->cred);
	kc->cred.token = xstrdup(tok);
	kc->cred.cert_pem = xstrdup(cert);
	kc->cred.key_pem = xstrdup(key);
	const char *exp = jstr(status, "expirationTimestamp");
	kc->cred.expires_at = exp ? parse_rfc3339(exp) : 0;
	kc->cred.valid = 1;
	kc->cred.gen = ++kc->cred_runs;
	json_decref(cred);
	rc = 0;
out:
	proc_result_release(&r);
	for (size_t i = 0; i < nenv + 1; i++)
		free(env[i]);
	free(env);
	free(argv);
	free(path);
	return rc;
}

int kube_credentials_gen(struct kube_config *kc, struct check_ctx *ctx, unsigned rejected,
                         char **bearer, char **cert_pem, char **key_pem, unsigned *gen,
                         struct pg_err *e)
{
	*bearer = NULL;
	*cert_pem = *key_pem = NULL;
	*gen = 0;
	if (kc->oidc.issuer) {
		/* single-flight: one refresh, the others then find its token */
		pthread_mutex_lock(&kc->lock);
		int rc = kube_oidc_token(&kc->oidc, ctx, rejected, bearer, gen, e);
		pthread_mutex_unlock(&kc->lock);
		return rc;
	}
	if (kc->token) {
		*bearer = xstrdup(kc->token);
		return 0;
	}
	if (kc->token_file) {
		char *tok = NULL;
		if (read_small(kc->token_file, &tok, e) != 0)
			return -1;
		mask_add(tok);
		*bearer = tok;
		return 0;
	}
	if (!kc->exec)
		return 0;
	/* one holder at a time: the others wait here and then find the
	 * credential the first one fetched */
	pthread_mutex_lock(&kc->lock);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int stale = !kc->cred.valid || (rejected && rejected == kc->cred.gen) ||
	            (kc->cred.expires_at > 0 && (double)now.tv_sec >= kc->cred.expires_at - 5);
	int rc = 0;
	if (stale)
		rc = run_exec_plugin(kc, ctx, e);
	if (rc == 0) {
		*bearer = xstrdup(kc->cred.token);
		*cert_pem = xstrdup(kc->cred.cert_pem);
		*key_pem = xstrdup(kc->cred.key_pem);
		*gen = kc->cred.gen;
	}
	pthread_mutex_unlock(&kc->lock);
	return rc;
}

int kube_credentials(struct kube_config *kc, struct check_ctx *ctx, int refresh, char **bearer,
                     char **cert_pem, char **key_pem, struct pg_err *e)
{
	unsigned gen, rejected = 0;
	if (refresh) {
		pthread_mutex_lock(&kc->lock);
		rejected = kc->oidc.issuer ? kc->oidc.gen : kc->cred.valid ? kc->cred.gen : 0;
		pthread_mutex_unlock(&kc->lock);
	}
	return kube_credentials_gen(kc, ctx, rejected, bearer, cert_pem, key_pem, &gen, e);
}
