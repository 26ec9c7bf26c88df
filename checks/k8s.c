/* k8s.c - the native Kubernetes check module's glue: its settings, the
 * parsing and description of entries, dispatch to the operations and the
 * waits between attempts. Read-only checks (get, list, rollout, health,
 * can-i, events, logs, restarts, nodes) are checks/k8s_read.c; actions
 * (apply, patch, annotate, delete, export, restore, exec) are
 * checks/k8s_write.c; both are answered over the shared libcurl plumbing,
 * configured like kubectl (checks/kubeconfig.h), with kubectl's rollout
 * rules and Argo CD's health rules (checks/kube_rules.h). The API client
 * and discovery live in checks/k8s_api.c.
 *
 * Every operation's facts carry "ok" (the default expectation) and
 * "summary" (what the default expectation shows when ok is false). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s_ops.h"
#include "k8s_rbac.h"

static const struct key_spec k8s_settings_keys[] = {
    {"kubeconfig", KT_STR, 0, "kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)"},
    {"context", KT_STR, 0, "kubeconfig context (default: current-context)"},
    {"namespace", KT_STR, 0, "default namespace (default: the context's)"},
    {"service_account_dir", KT_STR, 0, "in-cluster service account files (tests)"},
    {"health_customizations", KT_STR, 0,
     "directory of Argo CD Lua health checks (<group>/<Kind>/health.lua)"},
    {"argocd_namespace", KT_STR, 0,
     "namespace of argocd-cm, whose health customizations apply (default argocd; \"\" = none)"},
    {"watch", KT_BOOL, 0,
     "eventually: waits on get, rollout, health and list watch the objects (default true; "
     "false polls)"},
    {NULL, KT_ANY, 0, NULL},
};

static char *dir_of_file(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	if (!slash)
		return NULL;
	return xstrndup(file, (size_t)(slash - file));
}

static int k8s_init(const struct node *settings, void **state, struct diags *d)
{
	if (settings && keys_validate(settings, k8s_settings_keys, "modules.k8s", d) > 0)
		return -1;
	struct k8s_state *st = xcalloc(1, sizeof(*st));
	const char *kcfg = cfg_str(settings, "kubeconfig", NULL);
	if (kcfg && *kcfg) {
		/* relative to the suite file that names it */
		const struct node *n = cfg_node(settings, "kubeconfig");
		char *dir = (kcfg[0] != '/' && n) ? dir_of_file(n->pos.file) : NULL;
		st->kubeconfig = dir ? xasprintf("%s/%s", dir, kcfg) : xstrdup(kcfg);
		free(dir);
	}
	/* an empty setting (an unset variable) means "as kubectl would" */
	const char *ctxname = cfg_str(settings, "context", NULL);
	const char *ns = cfg_str(settings, "namespace", NULL);
	const char *sa = cfg_str(settings, "service_account_dir", NULL);
	st->context = ctxname && *ctxname ? xstrdup(ctxname) : NULL;
	st->nspace = ns && *ns ? xstrdup(ns) : NULL;
	struct kube_config_opts o = {
	    .kubeconfig = st->kubeconfig,
	    .context = st->context,
	    .nspace = ns && *ns ? ns : NULL,
	    .sa_dir = sa && *sa ? sa : NULL,
	};
	/* A kubeconfig the suite names that is not even YAML is a suite
	 * error; any other problem (missing file, unknown context, no
	 * cluster at all) is reported by the checks that need the cluster,
	 * so suites still validate on machines without one. */
	if (st->kubeconfig && access(st->kubeconfig, F_OK) == 0) {
		struct diags pd;
		diags_init(&pd);
		struct node_limits lim = node_limits_default();
		struct node *tree = NULL;
		if (node_load_file(st->kubeconfig, &lim, &tree, &pd) != 0) {
			diag_at(d, cfg_node(settings, "kubeconfig"),
			        "kubeconfig '%s' is not valid YAML (line %u: %s)", st->kubeconfig,
			        pd.n ? pd.v[0].line : 0, pd.n ? pd.v[0].msg : "cannot be parsed");
			diags_release(&pd);
			free(st->kubeconfig);
			free(st->context);
			free(st);
			return -1;
		}
		node_free(tree);
		diags_release(&pd);
	}
	k8s_client_init(&st->client, &o);
	if (cfg_bool(settings, "watch", 1))
		st->watches = k8s_watches_new(&st->client);
	const char *hdir = cfg_str(settings, "health_customizations", NULL);
	const struct node *hn = cfg_node(settings, "health_customizations");
	char *hbase = hdir && *hdir && hdir[0] != '/' && hn ? dir_of_file(hn->pos.file) : NULL;
	char *hpath = hbase ? xasprintf("%s/%s", hbase, hdir) : NULL;
	k8s_health_src_init(&st->health, hpath ? hpath : hdir,
	                    cfg_str(settings, "argocd_namespace", "argocd"));
	free(hpath);
	free(hbase);
	*state = st;
	return 0;
}

static void k8s_fini(void *state)
{
	struct k8s_state *st = state;
	if (!st)
		return;
	k8s_watches_free(st->watches); /* its threads use the client */
	k8s_client_release(&st->client);
	k8s_health_src_release(&st->health);
	free(st->kubeconfig);
	free(st->context);
	free(st->nspace);
	free(st);
}

static const char *const op_names[OP_COUNT] = {
    "get",     "list",  "rollout", "health",   "can-i",  "events", "logs",    "restarts", "nodes",
    "compare", "apply", "patch",   "annotate", "delete", "export", "restore", "exec",
};

static const struct key_spec k8s_keys[] = {
    {"get", KT_STR, 0, "read one object: TYPE/NAME (deployment/argocd-server)"},
    {"list", KT_STR, 0, "list objects of a TYPE (pods), with selector/field_selector"},
    {"rollout", KT_STR, 0, "kubectl rollout status of TYPE/NAME"},
    {"health", KT_STR, 0, "Argo CD health of TYPE/NAME"},
    {"can-i", KT_STR, 0, "access review: \"VERB TYPE[/NAME]\" (create deployments)"},
    {"events", KT_ANY, 0, "events (true, or TYPE/NAME of the involved object)"},
    {"logs", KT_STR, 0, "logs of pod/NAME or of a workload's pods (deployment/NAME)"},
    {"restarts", KT_STR, 0, "container restarts of pod/NAME, a workload, or pods"},
    {"nodes", KT_ANY, 0, "node readiness (true, or a label selector)"},
    {"apply", KT_STR_OR_SEQ, 0, "server-side apply of manifest files (action)"},
    {"patch", KT_STR, 0, "patch TYPE/NAME with body: (action)"},
    {"annotate", KT_STR, 0, "set annotations: on TYPE/NAME (action)"},
    {"delete", KT_STR, 0, "delete TYPE/NAME (action)"},
    {"export", KT_ANY, 0, "back up kinds of namespaces as YAML + SHA256SUMS (true or DIR; action)"},
    {"restore", KT_STR, 0, "apply a backup in its manifest's order: DIR (action)"},
    {"compare", KT_STR, 0, "compare every object of a backup with the live one: DIR"},
    {"exec", KT_STR, 0, "run command: in pod/NAME through kubectl (action)"},
    {"name", KT_STR, 0, "object name (when the operation names only the type)"},
    {"kind", KT_STR, 0, "object kind, with apiVersion"},
    {"apiVersion", KT_STR, 0, "group/version of kind"},
    {"resource", KT_STR, 0, "resource type (can-i, or instead of TYPE)"},
    {"namespace", KT_STR, 0, "namespace (default: the context's)"},
    {"all_namespaces", KT_BOOL, 0, "every namespace"},
    {"selector", KT_STR, 0, "label selector (app=x,tier!=db)"},
    {"field_selector", KT_STR, 0, "field selector (reason=FailedSync)"},
    {"limit", KT_INT, 0, "page size of lists (pages are followed)"},
    {"since", KT_DURATION, 0, "time window (events, restarts, logs)"},
    {"tail", KT_INT, 0, "logs: last lines per container"},
    {"container", KT_STR, 0, "container (logs, exec)"},
    {"regex", KT_STR, 0, "logs: count matching lines (PCRE2)"},
    {"revision", KT_INT, 0, "rollout: the Deployment revision to wait for"},
    {"verb", KT_STR, 0, "can-i verb"},
    {"group", KT_STR, 0, "can-i API group"},
    {"subresource", KT_STR, 0, "can-i subresource"},
    {"files", KT_STR_OR_SEQ, 0, "apply: manifest files, relative to the suite"},
    {"dry_run", KT_BOOL, 0, "apply/patch/delete: server-side dry run"},
    {"force", KT_BOOL, 0, "apply: take ownership of conflicting fields"},
    {"body", KT_ANY, 0, "patch body (a map; a list for type json)"},
    {"type", KT_STR, 0, "patch type: merge (default), json or strategic"},
    {"annotations", KT_MAP, 0, "annotate: name -> value (null removes)"},
    {"wait", KT_BOOL, 0, "delete: wait until the object is gone"},
    {"ignore_not_found", KT_BOOL, 0, "delete: an absent object is fine"},
    {"kinds", KT_STRSEQ, 0, "export: resource types"},
    {"namespaces", KT_STRSEQ, 0, "export: namespaces"},
    {"dir", KT_STR, 0, "export: output directory, relative to the suite"},
    {"target_namespace", KT_STR, 0, "restore/compare: the isolated namespace of a copy"},
    {"scale_to_zero", KT_BOOL, 0, "restore/compare into target_namespace: workloads at 0"},
    {"ignore", KT_STRSEQ, 0, "compare: dotted paths left out (spec.replicas)"},
    {"missing_only", KT_BOOL, 0, "restore: only objects that are absent live"},
    {"command", KT_STRSEQ, 0, "exec: argv run in the container"},
    {"kubectl", KT_STR, 0, "exec: kubectl binary (default: kubectl on PATH)"},
    {NULL, KT_ANY, 0, NULL},
};

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_dup(const struct node *cfg, const char *key)
{
	size_t n = 0;
	const char **v = cfg_strv(cfg, key, &n);
	if (!v)
		return NULL;
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	free(v);
	return out;
}

static void k8s_free(void *priv)
{
	struct k8s_cfg *c = priv;
	if (!c)
		return;
	free(c->type);
	free(c->name);
	free(c->api_version);
	free(c->nspace);
	free(c->selector);
	free(c->field_selector);
	free(c->container);
	free(c->regex);
	if (c->re)
		pcre2_code_free(c->re);
	free(c->verb);
	free(c->group);
	free(c->subresource);
	strv_free(c->files);
	if (c->body)
		json_decref(c->body);
	free(c->ptype);
	strv_free(c->kinds);
	strv_free(c->ignore);
	free(c->target_ns);
	strv_free(c->namespaces);
	free(c->dir);
	strv_free(c->command);
	free(c->kubectl);
	k8s_watch_sub_release(&c->wsub);
	free(c);
}

/* "type/name" or "type name" or "type" into c->type / c->name. */
static void split_ref(struct k8s_cfg *c, const char *ref)
{
	const char *sep = strchr(ref, '/');
	if (!sep)
		sep = strchr(ref, ' ');
	if (sep) {
		c->type = xstrndup(ref, (size_t)(sep - ref));
		while (*++sep == ' ')
			;
		c->name = *sep ? xstrdup(sep) : NULL;
	} else {
		c->type = xstrdup(ref);
	}
}

static int op_needs_name(enum k8s_op op)
{
	return op == OP_GET || op == OP_ROLLOUT || op == OP_HEALTH || op == OP_PATCH ||
	       op == OP_ANNOTATE || op == OP_DELETE || op == OP_EXEC || op == OP_LOGS;
}

static int k8s_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct k8s_cfg *c = xcalloc(1, sizeof(*c));
	size_t before = d->n;
	const struct node *opnode = NULL;
	int nops = 0;
	c->st = state;
	for (int i = 0; i < OP_COUNT; i++) {
		const struct node *n = cfg_node(cfg, op_names[i]);
		if (n) {
			if (nops++ == 0) {
				c->op = (enum k8s_op)i;
				opnode = n;
			}
		}
	}
	if (nops != 1) {
		diag_at(
		    d, nops ? opnode : cfg,
		    "a k8s check takes exactly one operation (get, list, rollout, health, can-i, "
		    "events, logs, restarts, nodes, compare, apply, patch, annotate, delete, "
		    "export, restore, exec); "
		    "found %d",
		    nops);
		goto out;
	}
	const char *opval = opnode->kind == NODE_SCALAR ? opnode->str : NULL;
	c->api_version = xstrdup(cfg_str(cfg, "apiVersion", NULL));
	const char *kind = cfg_str(cfg, "kind", NULL);
	const char *resource = cfg_str(cfg, "resource", NULL);
	const char *name = cfg_str(cfg, "name", NULL);

	switch (c->op) {
	case OP_CANI: {
		/* "VERB TYPE[/NAME]" like kubectl auth can-i */
		const char *v = opval ? opval : "";
		while (*v == ' ')
			v++;
		const char *sp = strchr(v, ' ');
		c->verb = sp ? xstrndup(v, (size_t)(sp - v)) : xstrdup(v);
		if (sp) {
			while (*sp == ' ')
				sp++;
			if (*sp)
				split_ref(c, sp);
		}
		break;
	}
	case OP_APPLY:
		c->files = strv_dup(cfg, opnode->kind == NODE_SCALAR &&
		                                 (strcmp(opnode->str, "true") == 0 ||
		                                  strcmp(opnode->str, "files") == 0)
		                             ? "files"
		                             : "apply");
		if (!c->files || !c->files[0])
			diag_at(d, opnode,
			        "k8s apply needs manifest files (apply: [file.yaml] or files:)");
		break;
	case OP_EVENTS:
	case OP_NODES:
	case OP_EXPORT:
	case OP_RESTORE:
	case OP_COMPARE:
		if (opnode->kind != NODE_SCALAR) {
			diag_at(d, opnode, "k8s %s takes true or a text, not a %s", op_names[c->op],
			        node_kind_name(opnode));
			break;
		}
		if (c->op == OP_EVENTS && strcmp(opval, "true") != 0 && *opval)
			split_ref(c, opval);
		if (c->op == OP_NODES && strcmp(opval, "true") != 0 && *opval)
			c->selector = xstrdup(opval);
		if ((c->op == OP_EXPORT || c->op == OP_RESTORE || c->op == OP_COMPARE) &&
		    strcmp(opval, "true") != 0 && *opval)
			c->dir = xstrdup(opval);
		break;
	default:
		if (opval && *opval && strcmp(opval, "true") != 0)
			split_ref(c, opval);
		break;
	}
	if (kind) {
		if (c->type && c->op != OP_EVENTS && c->op != OP_CANI)
			diag_at(d, cfg_node(cfg, "kind"),
			        "give the type in '%s:' or kind:, not both", op_names[c->op]);
		free(c->type);
		c->type = xstrdup(kind);
		if (!c->api_version)
			diag_at(d, cfg_node(cfg, "kind"),
			        "kind: needs apiVersion: (apps/v1, v1, ...)");
	} else if (c->api_version) {
		diag_at(d, cfg_node(cfg, "apiVersion"), "apiVersion: goes with kind:");
	}
	if (resource) {
		free(c->type);
		c->type = xstrdup(resource);
	}
	if (name) {
		free(c->name);
		c->name = xstrdup(name);
	}
	if (c->op == OP_CANI) {
		const char *verb = cfg_str(cfg, "verb", NULL);
		if (verb) {
			free(c->verb);
			c->verb = xstrdup(verb);
		}
		if (!c->verb || !*c->verb)
			diag_at(d, opnode, "k8s can-i needs a verb: can-i: \"list pods\"");
		c->group = xstrdup(cfg_str(cfg, "group", NULL));
		c->subresource = xstrdup(cfg_str(cfg, "subresource", NULL));
	}
	if ((c->op == OP_LIST || c->op == OP_RESTARTS || op_needs_name(c->op)) &&
	    (!c->type || !*c->type) && !node_is_deferred(opnode))
		diag_at(d, opnode, "k8s %s needs a resource type: %s: TYPE/NAME", op_names[c->op],
		        op_names[c->op]);
	else if (op_needs_name(c->op) && (!c->name || !*c->name) && !node_is_deferred(opnode))
		diag_at(d, opnode, "k8s %s needs an object name: %s: %s/NAME", op_names[c->op],
		        op_names[c->op], c->type);

	c->nspace = xstrdup(cfg_str(cfg, "namespace", NULL));
	c->all_ns = cfg_bool(cfg, "all_namespaces", 0);
	c->selector = c->selector ? c->selector : xstrdup(cfg_str(cfg, "selector", NULL));
	c->field_selector = xstrdup(cfg_str(cfg, "field_selector", NULL));
	c->limit = cfg_int(cfg, "limit", 500);
	if (c->limit < 0)
		diag_at(d, cfg_node(cfg, "limit"), "limit must be 0 (no paging) or more");
	c->since_ms = cfg_duration_ms(cfg, "since", 0);
	c->tail = cfg_int(cfg, "tail", -1);
	c->container = xstrdup(cfg_str(cfg, "container", NULL));
	c->revision = cfg_int(cfg, "revision", 0);
	c->dry_run = cfg_bool(cfg, "dry_run", 0);
	c->force = cfg_bool(cfg, "force", 0);
	c->wait = cfg_bool(cfg, "wait", 0);
	c->ignore_missing = cfg_bool(cfg, "ignore_not_found", 0);
	c->kinds = strv_dup(cfg, "kinds");
	c->namespaces = strv_dup(cfg, "namespaces");
	if (!c->dir)
		c->dir = xstrdup(cfg_str(cfg, "dir", NULL));
	c->command = strv_dup(cfg, "command");
	c->target_ns = xstrdup(cfg_str(cfg, "target_namespace", NULL));
	c->scale_to_zero = cfg_bool(cfg, "scale_to_zero", 0);
	c->missing_only = cfg_bool(cfg, "missing_only", 0);
	c->ignore = strv_dup(cfg, "ignore");
	if ((c->op == OP_RESTORE || c->op == OP_COMPARE) && !c->dir && !node_is_deferred(opnode))
		diag_at(d, opnode, "k8s %s needs the backup's directory: %s: DIR", op_names[c->op],
		        op_names[c->op]);
	c->kubectl = xstrdup(cfg_str(cfg, "kubectl", "kubectl"));

	const char *re = cfg_str(cfg, "regex", NULL);
	if (re) {
		int err;
		PCRE2_SIZE off;
		c->regex = xstrdup(re);
		c->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
		if (!c->re) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof(msg));
			diag_at(d, cfg_node(cfg, "regex"), "bad regex at offset %zu: %s",
			        (size_t)off, (char *)msg);
		}
	}
	const struct node *body = cfg_node(cfg, "body");
	if (body)
		c->body = node_to_json(body);
	c->ptype = xstrdup(cfg_str(cfg, "type", "merge"));
	if (strcmp(c->ptype, "merge") != 0 && strcmp(c->ptype, "json") != 0 &&
	    strcmp(c->ptype, "strategic") != 0)
		diag_at(d, cfg_node(cfg, "type"),
		        "patch type must be merge, json or strategic, not '%s'", c->ptype);
	if (c->op == OP_PATCH) {
		if (!c->body)
			diag_at(d, opnode, "k8s patch needs body: (the patch)");
		else if (strcmp(c->ptype, "json") == 0 ? !json_is_array(c->body)
		                                       : !json_is_object(c->body))
			diag_at(d, body, "a %s patch body must be a %s", c->ptype,
			        strcmp(c->ptype, "json") == 0 ? "list of operations" : "map");
	}
	if (c->op == OP_ANNOTATE) {
		const struct node *an = cfg_node(cfg, "annotations");
		if (!an)
			diag_at(d, opnode, "k8s annotate needs annotations: {name: value}");
		else
			c->body =
			    json_pack("{s:{s:o}}", "metadata", "annotations", node_to_json(an));
	}
	if (c->op == OP_EXPORT) {
		if (!c->dir)
			diag_at(d, opnode, "k8s export needs a directory: export: DIR or dir:");
		if (!c->kinds || !c->kinds[0])
			diag_at(d, opnode,
			        "k8s export needs kinds: [applications, appprojects, ...]");
	}
	if (c->op == OP_EXEC && (!c->command || !c->command[0]))
		diag_at(d, opnode, "k8s exec needs command: [argv...]");
out:
	if (d->n > before) {
		k8s_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

static int k8s_changes_world(const void *priv)
{
	const struct k8s_cfg *c = priv;
	return c->op >= OP_APPLY;
}

/* Deletions (a namespace deletion takes everything in it), forced applies,
 * which take fields other managers own, and a restore over live objects
 * cannot be undone by the next step: they run only with
 * --allow-destructive. A restore into an isolated namespace, or of only
 * the objects that are absent, replaces nothing. */
static int k8s_destructive(const void *priv)
{
	const struct k8s_cfg *c = priv;
	return c->op == OP_DELETE || (c->op == OP_APPLY && c->force) ||
	       (c->op == OP_RESTORE && !c->target_ns && !c->dry_run && !c->missing_only);
}

/* Well-known kinds that live outside namespaces, so that the one-line
 * description (made before discovery) does not place them in one. */
static int cluster_scoped_name(const char *t)
{
	static const char *const names[] = {"node",
	                                    "nodes",
	                                    "no",
	                                    "namespace",
	                                    "namespaces",
	                                    "ns",
	                                    "persistentvolume",
	                                    "persistentvolumes",
	                                    "pv",
	                                    "clusterrole",
	                                    "clusterroles",
	                                    "clusterrolebinding",
	                                    "clusterrolebindings",
	                                    "customresourcedefinition",
	                                    "customresourcedefinitions",
	                                    "crd",
	                                    "crds",
	                                    "apiservice",
	                                    "apiservices",
	                                    "storageclass",
	                                    "storageclasses",
	                                    "sc",
	                                    NULL};
	for (size_t i = 0; names[i]; i++)
		if (strcasecmp(t, names[i]) == 0)
			return 1;
	return 0;
}

static char *k8s_describe_with(const struct k8s_cfg *c, const char *t, const char *n,
                               const char *ns, const char *nf)
{
	switch (c->op) {
	case OP_GET:
		return xasprintf("GET %s/%s%s", t, n, nf);
	case OP_LIST:
		return xasprintf("LIST %s in %s%s%s%s%s", t, ns, c->selector ? " -l " : "",
		                 c->selector ? c->selector : "",
		                 c->field_selector ? " --field-selector " : "",
		                 c->field_selector ? c->field_selector : "");
	case OP_ROLLOUT:
		return xasprintf("rollout status %s/%s%s", t, n, nf);
	case OP_HEALTH:
		return xasprintf("Argo CD health of %s/%s%s", t, n, nf);
	case OP_CANI:
		return xasprintf("auth can-i %s %s%s%s%s", c->verb, t, c->name ? "/" : "", n, nf);
	case OP_EVENTS:
		return xasprintf("events in %s%s%s%s%s", ns, c->type ? " for " : "", t,
		                 c->field_selector ? " --field-selector " : "",
		                 c->field_selector ? c->field_selector : "");
	case OP_LOGS:
		return xasprintf("logs of %s/%s%s%s%s", t, n, nf, c->regex ? " matching " : "",
		                 c->regex ? c->regex : "");
	case OP_RESTARTS:
		return xasprintf("container restarts of %s%s%s%s", t, c->name ? "/" : "", n, nf);
	case OP_NODES:
		return xasprintf("node readiness%s%s", c->selector ? " -l " : "",
		                 c->selector ? c->selector : "");
	case OP_APPLY: {
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "server-side apply%s%s of", c->dry_run ? " (server dry run)" : "",
		         c->force ? " --force-conflicts" : "");
		for (size_t i = 0; c->files && c->files[i]; i++)
			buf_addf(&b, " %s", c->files[i]);
		return buf_detach(&b);
	}
	case OP_PATCH:
		return xasprintf("%s patch %s/%s%s", c->ptype, t, n, nf);
	case OP_ANNOTATE: {
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "annotate %s/%s%s", t, n, nf);
		const char *k;
		json_t *v;
		json_object_foreach(
		    json_object_get(json_object_get(c->body, "metadata"), "annotations"), k, v)
		{
			if (json_is_string(v))
				buf_addf(&b, " %s=%s", k, json_string_value(v));
			else
				buf_addf(&b, " %s-", k);
		}
		return buf_detach(&b);
	}
	case OP_DELETE:
		return xasprintf("delete %s/%s%s%s", t, n, nf,
		                 c->wait ? " and wait until gone" : "");
	case OP_EXPORT: {
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "export");
		for (size_t i = 0; c->kinds && c->kinds[i]; i++)
			buf_addf(&b, "%s%s", i ? "," : " ", c->kinds[i]);
		buf_addf(&b, " of");
		if (!c->namespaces)
			buf_addf(&b, " %s", ns);
		for (size_t i = 0; c->namespaces && c->namespaces[i]; i++)
			buf_addf(&b, "%s%s", i ? "," : " ", c->namespaces[i]);
		buf_addf(&b, " to %s with SHA256SUMS", c->dir);
		return buf_detach(&b);
	}
	case OP_RESTORE:
		return xasprintf("restore the backup %s in its manifest's order%s%s%s", c->dir,
		                 c->target_ns      ? " into the isolated namespace "
		                 : c->missing_only ? ", only objects absent live"
		                                   : " over live objects",
		                 c->target_ns ? c->target_ns : "",
		                 c->dry_run ? " (server dry run)" : "");
	case OP_COMPARE:
		return xasprintf("compare every object of the backup %s with the live one%s%s",
		                 c->dir, c->target_ns ? " in " : "",
		                 c->target_ns ? c->target_ns : "");
	case OP_EXEC: {
		struct buf b;
		buf_init(&b, 0);
		buf_addf(&b, "kubectl exec %s/%s%s --", t, n, nf);
		for (size_t i = 0; c->command && c->command[i]; i++)
			buf_addf(&b, " %s", c->command[i]);
		return buf_detach(&b);
	}
	default:
		return xstrdup("k8s");
	}
}

static char *k8s_describe(void *priv)
{
	struct k8s_cfg *c = priv;
	const char *t = c->type ? c->type : "";
	const char *n = c->name ? c->name : "";
	const char *dns = c->st && !c->st->client.kc_error ? c->st->client.kc.nspace : NULL;
	int cluster = cluster_scoped_name(t);
	const char *ns = cluster     ? "the cluster"
	                 : c->all_ns ? "(all namespaces)"
	                 : c->nspace ? c->nspace
	                 : dns       ? dns
	                             : "(default namespace)";
	/* kubectl's " -n NS", left out for kinds outside namespaces */
	char *nf = cluster ? xstrdup("") : xasprintf(" -n %s", ns);
	char *d = k8s_describe_with(c, t, n, ns, nf);
	free(nf);
	return d;
}

/* ---- helpers the operations share (checks/k8s_ops.h) --------------------- */

void k8s_fail(struct k8s_run *r, char *msg)
{
	r->out->forced = CHECK_ERROR;
	free(r->out->error);
	r->out->error = msg;
}

const char *k8s_default_ns(struct k8s_run *r)
{
	if (r->c->nspace && *r->c->nspace)
		return r->c->nspace;
	return r->cl->kc.nspace ? r->cl->kc.nspace : "default";
}

/* Resolves type (with apiVersion) and the effective namespace. */
int k8s_target(struct k8s_run *r, const char *type, const char *api_version)
{
	char *err = NULL;
	if (k8s_resolve(r->cl, r->ctx, type, api_version, &r->res, &err) != 0) {
		k8s_fail(r, err);
		return -1;
	}
	r->ns = !r->res->namespaced || r->c->all_ns ? NULL : k8s_default_ns(r);
	return 0;
}

/* "GET deployments.apps argocd/argocd-server" */
char *k8s_what(const char *verb, const struct k8s_res *res, const char *ns, const char *name)
{
	char *q = k8s_res_qualified(res);
	char *w = xasprintf("%s %s %s%s%s", verb, q, ns ? ns : "", ns && name ? "/" : "",
	                    name ? name : "");
	free(q);
	return w;
}

/* GETs one object: 0 with *obj (NULL when it does not exist), -1 on error. */
int k8s_get_object(struct k8s_run *r, const struct k8s_res *res, const char *ns, const char *name,
                   json_t **obj)
{
	*obj = NULL;
	char *path = k8s_path(res, ns, name, NULL);
	struct http_response rs;
	char *err = NULL;
	int rc = -1;
	if (k8s_call(r->cl, r->ctx, "GET", path, NULL, NULL, &rs, &err) != 0) {
		k8s_fail(r, err);
		goto out;
	}
	if (rs.status == 404) {
		rc = 0;
	} else if (rs.status / 100 != 2) {
		char *w = k8s_what("GET", res, ns, name);
		k8s_fail(r, k8s_status_error(r->cl, &rs, w));
		free(w);
	} else if (!(*obj = http_body_json(&rs))) {
		char *w = k8s_what("GET", res, ns, name);
		k8s_fail(r, k8s_not_json(&rs, w, "JSON"));
		free(w);
	} else {
		rc = 0;
	}
	http_response_release(&rs);
out:
	free(path);
	return rc;
}

/* Sends a body to path; on 2xx returns the answer object (may be an empty
 * object). NULL with the error set otherwise. */
json_t *k8s_send_json(struct k8s_run *r, const char *method, const char *path, const char *ctype,
                      json_t *body, const char *what)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct http_response rs;
	char *err = NULL;
	json_t *ans = NULL;
	if (k8s_call(r->cl, r->ctx, method, path, ctype, text, &rs, &err) != 0) {
		k8s_fail(r, err);
		free(text);
		return NULL;
	}
	free(text);
	if (rs.status / 100 != 2) {
		k8s_fail(r, k8s_status_error(r->cl, &rs, what));
	} else {
		ans = http_body_json(&rs);
		if (!ans && rs.body.len) /* a body that is not JSON: say what came */
			k8s_fail(r, k8s_not_json(&rs, what, "JSON"));
		else if (!ans)
			ans = json_object();
	}
	http_response_release(&rs);
	return ans;
}

void k8s_facts_ident(json_t *f, const struct k8s_res *res, const char *ns, const char *name)
{
	json_object_set_new(f, "kind", json_string(res->kind));
	json_object_set_new(f, "resource", json_string(res->plural));
	if (name)
		json_object_set_new(f, "name", json_string(name));
	json_object_set_new(f, "namespace", ns ? json_string(ns) : json_null());
}

/* Sets ok and summary (taking summary). Double quotes become single ones:
 * the summary is shown inside a JSON string in failure messages. */
void k8s_set_summary(json_t *f, int ok, char *summary)
{
	for (char *p = summary; p && *p; p++)
		if (*p == '"')
			*p = '\'';
	json_object_set_new(f, "ok", json_boolean(ok));
	json_object_set_new(f, "summary", json_string(summary ? summary : ""));
	free(summary);
}

char *k8s_label_of(const struct k8s_res *res, const char *ns, const char *name)
{
	char *low = xstrdup(res->kind);
	for (char *p = low; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	char *s = ns ? xasprintf("%s/%s in namespace %s", low, name ? name : "", ns)
	             : xasprintf("%s/%s", low, name ? name : "");
	free(low);
	return s;
}

static void k8s_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	struct k8s_cfg *c = priv;
	struct k8s_state *st = ctx_module_state(ctx);
	if (!st)
		st = c->st;
	c->st = st;
	struct k8s_run r = {.c = c, .cl = &st->client, .ctx = ctx, .out = out};
	if (st->client.kc_error && c->op != OP_EXEC) {
		k8s_fail(&r, xstrdup(st->client.kc_error));
		return;
	}
	if (st->client.kc.insecure)
		out->insecure = 1;
	switch (c->op) {
	case OP_GET:
	case OP_HEALTH:
	case OP_ROLLOUT:
		k8s_op_get(&r, (int)c->op);
		break;
	case OP_LIST:
		k8s_op_list(&r);
		break;
	case OP_CANI:
		k8s_op_cani(&r);
		break;
	case OP_EVENTS:
		k8s_op_events(&r);
		break;
	case OP_LOGS:
		k8s_op_logs(&r);
		break;
	case OP_RESTARTS:
		k8s_op_restarts(&r);
		break;
	case OP_NODES:
		k8s_op_nodes(&r);
		break;
	case OP_APPLY:
		k8s_op_apply(&r);
		break;
	case OP_PATCH:
	case OP_ANNOTATE:
		k8s_op_patch(&r);
		break;
	case OP_DELETE:
		k8s_op_delete(&r);
		break;
	case OP_EXPORT:
		k8s_op_export(&r);
		break;
	case OP_RESTORE:
	case OP_COMPARE:
		k8s_op_backup(&r);
		break;
	case OP_EXEC:
		k8s_op_exec(&r);
		break;
	default:
		k8s_fail(&r, xstrdup("unknown k8s operation"));
		break;
	}
	if (out->forced == CHECK_ERROR) {
		k8s_watch_forget(&c->wsub); /* the next wait polls */
		if (out->facts) {
			json_decref(out->facts);
			out->facts = NULL;
		}
	}
}

/* Between the attempts of an eventually: wait: get, rollout, health and
 * list wait on the run's watch of what they read (checks/k8s_watch.c);
 * other operations note nothing and are polled. */
static int k8s_wait_change(void *priv, struct check_ctx *ctx, long long deadline_ms)
{
	struct k8s_cfg *c = priv;
	return c->st ? k8s_watch_wait(c->st->watches, ctx, &c->wsub, deadline_ms) : -1;
}

/* "phasegate rbac": the permissions this entry needs (checks/k8s_rbac.c). */
static void k8s_permissions(const void *priv, void (*emit)(void *, const struct check_perm *),
                            void *arg)
{
	const struct k8s_cfg *c = priv;
	/* the suite's namespace setting; else the kubeconfig's, when it loaded */
	const char *dns = !c->st                    ? NULL
	                  : c->st->nspace           ? c->st->nspace
	                  : !c->st->client.kc_error ? c->st->client.kc.nspace
	                                            : NULL;
	struct k8s_rbac_entry e = {
	    .op = op_names[c->op],
	    .type = c->type,
	    .name = c->name,
	    .nspace = c->nspace && *c->nspace ? c->nspace : dns,
	    .all_ns = c->all_ns,
	    .verb = c->verb,
	    .wait = c->wait,
	    .kinds = (const char *const *)c->kinds,
	    .namespaces = (const char *const *)c->namespaces,
	    .files = (const char *const *)c->files,
	};
	k8s_rbac_emit(&e, emit, arg);
}

const struct check_module check_k8s = {
    .name = "k8s",
    .summary = "Kubernetes API: get, list, rollout, health, can-i, events, logs, restarts, "
               "nodes; apply, patch, annotate, delete, export, exec",
    .api_version = CHECK_API_VERSION,
    .flags = CHECK_F_READONLY,
    .keys = k8s_keys,
    .default_expect = ".ok // .summary",
    .init = k8s_init,
    .fini = k8s_fini,
    .parse = k8s_parse,
    .run = k8s_run,
    .describe = k8s_describe,
    .changes_world = k8s_changes_world,
    .destructive = k8s_destructive,
    .free = k8s_free,
    .permissions = k8s_permissions,
    .wait_change = k8s_wait_change,
};
