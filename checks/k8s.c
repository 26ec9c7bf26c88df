/* k8s.c - the native Kubernetes check module: read-only checks (get, list,
 * rollout, health, can-i, events, logs, restarts, nodes) and actions
 * (apply, patch, annotate, delete, export, exec) answered over the shared
 * libcurl plumbing, configured like kubectl (checks/kubeconfig.h), with
 * kubectl's rollout rules and Argo CD's health rules (checks/kube_rules.h).
 * The API client and discovery live in checks/k8s_api.c.
 *
 * Every operation's facts carry "ok" (the default expectation) and
 * "summary" (what the default expectation shows when ok is false). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pcre2.h>

#include "k8s_api.h"
#include "k8s_backup.h"
#include "k8s_logs.h"
#include "k8s_health.h"
#include "k8s_rbac.h"
#include "k8s_yaml.h"
#include "k8s_watch.h"
#include "kube_rules.h"
#include "module.h"
#include "proc.h"

#define K8S_LOG_TEXT_MAX (64 * 1024) /* log text kept in facts */
#define K8S_MATCHED_MAX 50           /* matching log lines kept in facts */

/* ---- module state: settings, configuration and discovery ------------- */

struct k8s_state {
	struct k8s_client client;
	char *kubeconfig; /* owned: the explicit file, or NULL (KUBECONFIG) */
	char *context;    /* owned, may be NULL */
	struct k8s_health_src health; /* Lua health scripts of the run */
	char *nspace;     /* owned: modules.k8s.namespace, or NULL */
	struct k8s_watches *watches; /* owned: what eventually: waits watch */
};

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

/* ---- config ----------------------------------------------------------- */

enum k8s_op {
	OP_GET,
	OP_LIST,
	OP_ROLLOUT,
	OP_HEALTH,
	OP_CANI,
	OP_EVENTS,
	OP_LOGS,
	OP_RESTARTS,
	OP_NODES,
	OP_COMPARE,
	OP_APPLY,
	OP_PATCH,
	OP_ANNOTATE,
	OP_DELETE,
	OP_EXPORT,
	OP_RESTORE,
	OP_EXEC,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "get",   "list",   "rollout",  "health", "can-i",  "events",  "logs", "restarts",
    "nodes", "compare", "apply", "patch", "annotate", "delete", "export", "restore", "exec",
};

struct k8s_cfg {
	enum k8s_op op;
	char *type;        /* owned: resource type as typed ("deploy", "Deployment") */
	char *name;        /* owned, may be NULL */
	char *api_version; /* owned, may be NULL */
	char *nspace;      /* owned, NULL = the configuration's namespace */
	int all_ns;
	char *selector, *field_selector; /* owned, may be NULL */
	long long limit;                 /* page size */
	long long since_ms;              /* window, 0 = none */
	long long tail;                  /* logs: last lines, -1 = all */
	char *container;                 /* owned, may be NULL */
	char *regex;                     /* owned, may be NULL */
	pcre2_code *re;                  /* owned; compiled regex */
	long long revision;
	char *verb, *group, *subresource; /* can-i, owned */
	char **files;                     /* owned, NULL-terminated (apply) */
	int dry_run, force, wait, ignore_missing;
	json_t *body;               /* owned: patch body */
	char *ptype;                /* owned: merge | json | strategic */
	char **kinds, **namespaces; /* owned, NULL-terminated (export) */
	char *dir;                  /* owned (export, restore, compare) */
	char *target_ns;            /* owned (restore, compare): isolated namespace */
	int scale_to_zero;          /* restore, compare */
	int missing_only;           /* restore */
	char **ignore;              /* owned, NULL-terminated (compare) */
	char **command;             /* owned, NULL-terminated (exec) */
	char *kubectl;              /* owned: kubectl binary (exec) */
	struct k8s_state *st;       /* borrowed */
	struct k8s_watch_sub wsub;  /* what the last attempt read, for waits */
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
	static const char *const names[] = {
	    "node", "nodes", "no", "namespace", "namespaces", "ns", "persistentvolume",
	    "persistentvolumes", "pv", "clusterrole", "clusterroles", "clusterrolebinding",
	    "clusterrolebindings", "customresourcedefinition", "customresourcedefinitions", "crd",
	    "crds", "apiservice", "apiservices", "storageclass", "storageclasses", "sc", NULL};
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
		return xasprintf("auth can-i %s %s%s%s%s", c->verb, t, c->name ? "/" : "", n,
		                 nf);
	case OP_EVENTS:
		return xasprintf("events in %s%s%s%s%s", ns, c->type ? " for " : "", t,
		                 c->field_selector ? " --field-selector " : "",
		                 c->field_selector ? c->field_selector : "");
	case OP_LOGS:
		return xasprintf("logs of %s/%s%s%s%s", t, n, nf, c->regex ? " matching " : "",
		                 c->regex ? c->regex : "");
	case OP_RESTARTS:
		return xasprintf("container restarts of %s%s%s%s", t, c->name ? "/" : "", n,
		                 nf);
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
		return xasprintf("compare every object of the backup %s with the live one%s%s", c->dir,
		                 c->target_ns ? " in " : "", c->target_ns ? c->target_ns : "");
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
	const char *ns = cluster       ? "the cluster"
	                 : c->all_ns   ? "(all namespaces)"
	                 : c->nspace   ? c->nspace
	                 : dns         ? dns
	                               : "(default namespace)";
	/* kubectl's " -n NS", left out for kinds outside namespaces */
	char *nf = cluster ? xstrdup("") : xasprintf(" -n %s", ns);
	char *d = k8s_describe_with(c, t, n, ns, nf);
	free(nf);
	return d;
}


/* ---- run helpers -------------------------------------------------------- */

/* Everything one run needs. */
struct k8s_run {
	struct k8s_cfg *c;
	struct k8s_client *cl;
	struct check_ctx *ctx;
	struct check_out *out;
	const struct k8s_res *res; /* the target's resource, when it has one */
	const char *ns;            /* effective namespace, NULL = all / cluster */
};

static void set_error(struct k8s_run *r, char *msg)
{
	r->out->forced = CHECK_ERROR;
	free(r->out->error);
	r->out->error = msg;
}

static const char *default_ns(struct k8s_run *r)
{
	if (r->c->nspace && *r->c->nspace)
		return r->c->nspace;
	return r->cl->kc.nspace ? r->cl->kc.nspace : "default";
}

/* Resolves type (with apiVersion) and the effective namespace. */
static int resolve_target(struct k8s_run *r, const char *type, const char *api_version)
{
	char *err = NULL;
	if (k8s_resolve(r->cl, r->ctx, type, api_version, &r->res, &err) != 0) {
		set_error(r, err);
		return -1;
	}
	r->ns = !r->res->namespaced || r->c->all_ns ? NULL : default_ns(r);
	return 0;
}

/* "GET deployments.apps argocd/argocd-server" */
static char *what_of(const char *verb, const struct k8s_res *res, const char *ns, const char *name)
{
	char *q = k8s_res_qualified(res);
	char *w = xasprintf("%s %s %s%s%s", verb, q, ns ? ns : "", ns && name ? "/" : "",
	                    name ? name : "");
	free(q);
	return w;
}

/* GETs one object: 0 with *obj (NULL when it does not exist), -1 on error. */
static int get_object(struct k8s_run *r, const struct k8s_res *res, const char *ns,
                      const char *name, json_t **obj)
{
	*obj = NULL;
	char *path = k8s_path(res, ns, name, NULL);
	struct http_response rs;
	char *err = NULL;
	int rc = -1;
	if (k8s_call(r->cl, r->ctx, "GET", path, NULL, NULL, &rs, &err) != 0) {
		set_error(r, err);
		goto out;
	}
	if (rs.status == 404) {
		rc = 0;
	} else if (rs.status / 100 != 2) {
		char *w = what_of("GET", res, ns, name);
		set_error(r, k8s_status_error(r->cl, &rs, w));
		free(w);
	} else if (!(*obj = http_body_json(&rs))) {
		char *w = what_of("GET", res, ns, name);
		set_error(r, k8s_not_json(&rs, w, "JSON"));
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
static json_t *send_json(struct k8s_run *r, const char *method, const char *path, const char *ctype,
                         json_t *body, const char *what)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct http_response rs;
	char *err = NULL;
	json_t *ans = NULL;
	if (k8s_call(r->cl, r->ctx, method, path, ctype, text, &rs, &err) != 0) {
		set_error(r, err);
		free(text);
		return NULL;
	}
	free(text);
	if (rs.status / 100 != 2) {
		set_error(r, k8s_status_error(r->cl, &rs, what));
	} else {
		ans = http_body_json(&rs);
		if (!ans && rs.body.len) /* a body that is not JSON: say what came */
			set_error(r, k8s_not_json(&rs, what, "JSON"));
		else if (!ans)
			ans = json_object();
	}
	http_response_release(&rs);
	return ans;
}

static void facts_ident(json_t *f, const struct k8s_res *res, const char *ns, const char *name)
{
	json_object_set_new(f, "kind", json_string(res->kind));
	json_object_set_new(f, "resource", json_string(res->plural));
	if (name)
		json_object_set_new(f, "name", json_string(name));
	json_object_set_new(f, "namespace", ns ? json_string(ns) : json_null());
}

/* Sets ok and summary (taking summary). Double quotes become single ones:
 * the summary is shown inside a JSON string in failure messages. */
static void set_summary(json_t *f, int ok, char *summary)
{
	for (char *p = summary; p && *p; p++)
		if (*p == '"')
			*p = '\'';
	json_object_set_new(f, "ok", json_boolean(ok));
	json_object_set_new(f, "summary", json_string(summary ? summary : ""));
	free(summary);
}

static char *label_of(const struct k8s_res *res, const char *ns, const char *name)
{
	char *low = xstrdup(res->kind);
	for (char *p = low; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	char *s = ns ? xasprintf("%s/%s in namespace %s", low, name ? name : "", ns)
	             : xasprintf("%s/%s", low, name ? name : "");
	free(low);
	return s;
}

/* ---- read-only operations --------------------------------------------- */

/* Secret values never reach facts (and so never a failure message): each
 * value becomes "(N bytes)"; the keys stay for expectations. export keeps
 * the real data, since a backup must restore it. */
static void redact_secret(json_t *obj)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (!kind || strcmp(kind, "Secret") != 0)
		return;
	const char *fields[] = {"data", "stringData"};
	for (size_t i = 0; i < 2; i++) {
		json_t *m = json_object_get(obj, fields[i]);
		const char *k;
		json_t *v;
		json_object_foreach(m, k, v)
		{
			size_t n = json_string_length(v);
			if (i == 0)
				n = n / 4 * 3; /* base64: about this many bytes */
			char *t = xasprintf("(redacted, about %zu bytes)", n);
			json_object_set_new(m, k, json_string(t));
			free(t);
		}
	}
	json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
}

/* Argo CD's verdict on obj. An Argo CD Application is judged by the health
 * Argo CD itself reports in its status (what "health: app/x" asks); other
 * kinds by their Lua health check (argocd-cm, health_customizations) or the
 * built-in rules. NULL when the scripts could not be loaded (error set). */
static const char *health_of(struct k8s_run *r, json_t *obj, json_t *f, char **msg)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (av && kind && strncmp(av, "argoproj.io/", 12) == 0 &&
	    strcmp(kind, "Application") == 0) {
		static const char *const known[] = {"Healthy",   "Progressing", "Degraded",
		                                    "Suspended", "Missing",     "Unknown"};
		json_t *h = json_object_get(json_object_get(obj, "status"), "health");
		const char *st = json_string_value(json_object_get(h, "status"));
		const char *m = json_string_value(json_object_get(h, "message"));
		*msg = xstrdup(m ? m : "");
		for (size_t i = 0; st && i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(st, known[i]) == 0)
				return known[i];
		return "Unknown";
	}
	struct k8s_state *st = ctx_module_state(r->ctx);
	struct lua_health *lh = NULL;
	const char *note = NULL;
	char *err = NULL;
	if (k8s_health_src_get(&st->health, r->cl, r->ctx, &lh, &note, &err) != 0) {
		set_error(r, err);
		return NULL;
	}
	if (note)
		json_object_set_new(f, "health_note", json_string(note));
	return lua_health_of(lh, obj, msg, NULL);
}

static void op_get(struct k8s_run *r, int mode)
{
	struct k8s_cfg *c = r->c;
	json_t *obj;
	if (resolve_target(r, c->type, c->api_version) != 0)
		return;
	if (!k8s_watch_cached(c->st->watches, &c->wsub, &obj) &&
	    get_object(r, r->res, r->ns, c->name, &obj) != 0)
		return;
	k8s_watch_note(&c->wsub, r->res, r->ns, c->name, NULL, obj);
	json_t *f = json_object();
	facts_ident(f, r->res, r->ns, c->name);
	char *label = label_of(r->res, r->ns, c->name);
	json_object_set_new(f, "exists", json_boolean(obj != NULL));
	if (mode == OP_GET) {
		char *hm = NULL;
		const char *h = obj ? health_of(r, obj, f, &hm) : "Missing";
		h = h ? h : "Unknown";
		json_object_set_new(f, "health", json_string(h));
		json_object_set_new(f, "health_message", json_string(hm ? hm : ""));
		free(hm);
		if (obj)
			redact_secret(obj);
		json_object_set_new(f, "object", obj ? json_incref(obj) : json_null());
		set_summary(f, obj != NULL,
		            obj ? xasprintf("%s exists", label)
		                : xasprintf("%s does not exist", label));
	} else if (mode == OP_HEALTH) {
		char *hm = NULL;
		const char *h = obj ? health_of(r, obj, f, &hm) : "Missing";
		h = h ? h : "Unknown";
		json_object_set_new(f, "status", json_string(h));
		json_object_set_new(f, "message", json_string(hm ? hm : ""));
		set_summary(
		    f, strcmp(h, "Healthy") == 0,
		    xasprintf("%s is %s%s%s", label, h, hm && *hm ? ": " : "", hm ? hm : ""));
		free(hm);
	} else { /* rollout */
		char *msg = NULL;
		enum kube_rollout st = KUBE_ROLLOUT_WAIT;
		if (obj)
			st = kube_rollout_status(obj, c->revision, &msg);
		else
			msg = xasprintf("%s not found", label);
		json_object_set_new(f, "status",
		                    json_string(obj ? kube_rollout_name(st) : "missing"));
		json_object_set_new(f, "message", json_string(msg ? msg : ""));
		json_object_set_new(f, "complete", json_boolean(obj && st == KUBE_ROLLOUT_DONE));
		json_t *meta = json_object_get(obj, "metadata");
		json_t *status = json_object_get(obj, "status");
		json_object_set(f, "generation", json_object_get(meta, "generation"));
		json_object_set(f, "observedGeneration",
		                json_object_get(status, "observedGeneration"));
		json_object_set(f, "replicas",
		                json_object_get(json_object_get(obj, "spec"), "replicas"));
		json_object_set(f, "status_replicas", status ? status : json_null());
		int done = obj && st == KUBE_ROLLOUT_DONE;
		set_summary(f, done, xasprintf("rollout of %s: %s", label, msg ? msg : ""));
		free(msg);
		if (obj && st == KUBE_ROLLOUT_FAILED) {
			r->out->final = 1; /* kubectl gives up at once too */
			free(r->out->evidence);
			r->out->evidence =
			    xstrdup(json_string_value(json_object_get(f, "message")));
		}
	}
	free(label);
	if (obj)
		json_decref(obj);
	r->out->facts = f;
}

/* The list query for selectors. */
static char *selector_query(const char *labels, const char *fields)
{
	struct buf b;
	buf_init(&b, 0);
	if (labels && *labels) {
		char *e = k8s_qesc(labels);
		buf_addf(&b, "labelSelector=%s", e);
		free(e);
	}
	if (fields && *fields) {
		char *e = k8s_qesc(fields);
		buf_addf(&b, "%sfieldSelector=%s", b.len ? "&" : "", e);
		free(e);
	}
	return buf_detach(&b);
}

static json_t *list_of(struct k8s_run *r, const struct k8s_res *res, const char *ns,
                       const char *labels, const char *fields)
{
	char *q = selector_query(labels, fields);
	char *path = k8s_path(res, ns, NULL, q);
	char *what = what_of("LIST", res, ns ? ns : "(all namespaces)", NULL);
	json_t *items = NULL;
	char *err = NULL;
	if (k8s_list_all(r->cl, r->ctx, what, path, r->c->limit, &items, &err) != 0)
		set_error(r, err);
	free(what);
	free(path);
	free(q);
	return items;
}

static void op_list(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (resolve_target(r, c->type, c->api_version) != 0)
		return;
	json_t *items = NULL;
	if (!k8s_watch_cached(c->st->watches, &c->wsub, &items))
		items = list_of(r, r->res, r->ns, c->selector, c->field_selector);
	if (!items)
		return;
	char *q = selector_query(c->selector, c->field_selector);
	k8s_watch_note(&c->wsub, r->res, r->ns, NULL, q, items);
	free(q);
	json_t *f = json_object();
	facts_ident(f, r->res, r->ns, NULL);
	json_t *names = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (!json_object_get(it, "kind")) {
			/* list items come without them; facts name them */
			char *av = *r->res->group
			               ? xasprintf("%s/%s", r->res->group, r->res->version)
			               : xstrdup(r->res->version);
			json_object_set_new(it, "apiVersion", json_string(av));
			json_object_set_new(it, "kind", json_string(r->res->kind));
			free(av);
		}
		redact_secret(it);
		json_t *nm = json_object_get(json_object_get(it, "metadata"), "name");
		json_array_append(names, nm ? nm : json_null());
	}
	size_t n = json_array_size(items);
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "names", names);
	json_object_set_new(f, "items", items);
	set_summary(f, n > 0,
	            n ? xasprintf("%zu %s found", n, r->res->plural)
	              : xasprintf("no %s found in %s%s%s", r->res->plural,
	                          r->ns ? r->ns : "any namespace", c->selector ? " matching " : "",
	                          c->selector ? c->selector : ""));
	r->out->facts = f;
}

static void op_cani(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	const char *group = c->group;
	const char *resource = c->type;
	const struct k8s_res *res = NULL;
	char *err = NULL;
	if (c->type && *c->type && strcmp(c->type, "*") != 0) {
		/* like kubectl: a known type resolves to its group and plural */
		int rr = k8s_resolve(r->cl, r->ctx, c->type, c->api_version, &res, &err);
		if (rr == 0) {
			resource = res->plural;
			if (!group)
				group = res->group;
		} else if (r->cl->kc_error || rr == -2) {
			/* without discovery the group cannot be known: asking
			 * about the core group would answer the wrong question */
			set_error(r, err);
			return;
		} else {
			free(err); /* an unknown type is asked about as written */
		}
	}
	const char *ns = c->all_ns || (res && !res->namespaced) ? NULL : default_ns(r);
	json_t *ra = json_object();
	if (ns)
		json_object_set_new(ra, "namespace", json_string(ns));
	json_object_set_new(ra, "verb", json_string(c->verb));
	if (group)
		json_object_set_new(ra, "group", json_string(group));
	if (resource)
		json_object_set_new(ra, "resource", json_string(resource));
	if (c->subresource)
		json_object_set_new(ra, "subresource", json_string(c->subresource));
	if (c->name)
		json_object_set_new(ra, "name", json_string(c->name));
	json_t *body =
	    json_pack("{s:s, s:s, s:{s:o}}", "apiVersion", "authorization.k8s.io/v1", "kind",
	              "SelfSubjectAccessReview", "spec", "resourceAttributes", ra);
	json_t *ans = send_json(r, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
	                        "application/json", body, "POST selfsubjectaccessreviews");
	json_decref(body);
	if (!ans)
		return;
	json_t *st = json_object_get(ans, "status");
	int allowed = json_is_true(json_object_get(st, "allowed"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	json_t *f = json_object();
	json_object_set_new(f, "allowed", json_boolean(allowed));
	json_object_set_new(f, "denied", json_boolean(json_is_true(json_object_get(st, "denied"))));
	json_object_set_new(f, "reason", json_string(reason ? reason : ""));
	json_object_set_new(f, "verb", json_string(c->verb));
	json_object_set_new(f, "resource", resource ? json_string(resource) : json_null());
	json_object_set_new(f, "group", group ? json_string(group) : json_null());
	json_object_set_new(f, "namespace", ns ? json_string(ns) : json_null());
	json_object_set_new(f, "user", json_string(r->cl->kc.user_name ? r->cl->kc.user_name : ""));
	set_summary(f, allowed,
	            xasprintf("user '%s' %s %s %s%s%s%s%s",
	                      r->cl->kc.user_name ? r->cl->kc.user_name : "",
	                      allowed ? "may" : "may not", c->verb, resource ? resource : "*",
	                      ns ? " in namespace " : "", ns ? ns : "",
	                      reason && *reason ? ": " : "", reason ? reason : ""));
	json_decref(ans);
	r->out->facts = f;
}

static double now_epoch(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double event_time(json_t *ev)
{
	const char *keys[] = {"lastTimestamp", "eventTime", "firstTimestamp"};
	for (size_t i = 0; i < 3; i++) {
		double t = k8s_time(json_string_value(json_object_get(ev, keys[i])));
		if (t > 0)
			return t;
	}
	json_t *series = json_object_get(ev, "series");
	double t = k8s_time(json_string_value(json_object_get(series, "lastObservedTime")));
	if (t > 0)
		return t;
	return k8s_time(json_string_value(
	    json_object_get(json_object_get(ev, "metadata"), "creationTimestamp")));
}

static void op_events(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	struct buf fs;
	buf_init(&fs, 0);
	if (c->field_selector)
		buf_adds(&fs, c->field_selector);
	if (c->type) {
		const struct k8s_res *res;
		char *err;
		if (k8s_resolve(r->cl, r->ctx, c->type, c->api_version, &res, &err) != 0) {
			set_error(r, err);
			buf_release(&fs);
			return;
		}
		buf_addf(&fs, "%sinvolvedObject.kind=%s", fs.len ? "," : "", res->kind);
		if (c->name)
			buf_addf(&fs, ",involvedObject.name=%s", c->name);
	}
	if (resolve_target(r, "events", "v1") != 0) {
		buf_release(&fs);
		return;
	}
	json_t *items = list_of(r, r->res, r->ns, c->selector, fs.len ? buf_str(&fs) : NULL);
	buf_release(&fs);
	if (!items)
		return;
	double cut = c->since_ms > 0 ? now_epoch() - (double)c->since_ms / 1000.0 : 0;
	json_t *kept = json_array();
	size_t i;
	json_t *ev;
	json_array_foreach(items, i, ev)
	{
		double t = event_time(ev);
		if (cut > 0 && t > 0 && t < cut)
			continue;
		json_t *io = json_object_get(ev, "involvedObject");
		json_t *e = json_object();
		json_object_set(e, "type", json_object_get(ev, "type"));
		json_object_set(e, "reason", json_object_get(ev, "reason"));
		json_object_set(e, "message", json_object_get(ev, "message"));
		json_object_set(e, "count", json_object_get(ev, "count"));
		char *obj = xasprintf("%s/%s",
		                      json_string_value(json_object_get(io, "kind"))
		                          ? json_string_value(json_object_get(io, "kind"))
		                          : "",
		                      json_string_value(json_object_get(io, "name"))
		                          ? json_string_value(json_object_get(io, "name"))
		                          : "");
		json_object_set_new(e, "object", json_string(obj));
		free(obj);
		json_object_set(e, "namespace",
		                json_object_get(json_object_get(ev, "metadata"), "namespace"));
		json_object_set_new(e, "age_seconds",
		                    t > 0 ? json_real(now_epoch() - t) : json_null());
		json_array_append_new(kept, e);
	}
	json_decref(items);
	size_t n = json_array_size(kept);
	json_t *f = json_object();
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "namespace", r->ns ? json_string(r->ns) : json_null());
	json_object_set_new(f, "items", kept);
	const char *first =
	    n ? json_string_value(json_object_get(json_array_get(kept, 0), "message")) : NULL;
	set_summary(
	    f, n == 0,
	    n ? xasprintf("%zu matching event%s, e.g. %s: %s", n, n == 1 ? "" : "s",
	                  json_string_value(json_object_get(json_array_get(kept, 0), "object")),
	                  first ? first : "")
	      : xstrdup("no matching events"));
	r->out->facts = f;
}

/* The pods a target stands for: pod/NAME itself, a workload's pods (by
 * its selector), or pods matching c->selector. *items is a new array. */
static int target_pods(struct k8s_run *r, json_t **items)
{
	struct k8s_cfg *c = r->c;
	*items = NULL;
	const char *type = c->type && *c->type ? c->type : "pods";
	if (resolve_target(r, type, c->api_version) != 0)
		return -1;
	const struct k8s_res *res = r->res;
	if (strcmp(res->kind, "Pod") == 0) {
		if (!c->name) {
			*items = list_of(r, res, r->ns, c->selector, c->field_selector);
			return *items ? 0 : -1;
		}
		json_t *pod;
		if (get_object(r, res, r->ns, c->name, &pod) != 0)
			return -1;
		if (!pod) {
			char *l = label_of(res, r->ns, c->name);
			set_error(r, xasprintf("%s does not exist", l));
			free(l);
			return -1;
		}
		*items = json_array();
		json_array_append_new(*items, pod);
		return 0;
	}
	if (!c->name) {
		set_error(r, xasprintf("name the %s whose pods to read (%s/NAME)", res->singular,
		                       res->singular));
		return -1;
	}
	json_t *w;
	if (get_object(r, res, r->ns, c->name, &w) != 0)
		return -1;
	if (!w) {
		char *l = label_of(res, r->ns, c->name);
		set_error(r, xasprintf("%s does not exist", l));
		free(l);
		return -1;
	}
	char *sel = k8s_selector_string(json_object_get(json_object_get(w, "spec"), "selector"));
	json_decref(w);
	if (!sel) {
		set_error(r, xasprintf("%s/%s has no pod selector", res->singular, c->name));
		return -1;
	}
	const struct k8s_res *pods;
	char *err;
	if (k8s_resolve(r->cl, r->ctx, "pods", "v1", &pods, &err) != 0) {
		free(sel);
		set_error(r, err);
		return -1;
	}
	*items = list_of(r, pods, r->ns, sel, NULL);
	free(sel);
	return *items ? 0 : -1;
}

static const char *pod_name(json_t *pod)
{
	const char *n =
	    json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
	return n ? n : "";
}

/* kubectl's default container: the annotation, else the first one. */
static const char *default_container(json_t *pod)
{
	json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
	const char *a =
	    json_string_value(json_object_get(ann, "kubectl.kubernetes.io/default-container"));
	if (a && *a)
		return a;
	json_t *c0 = json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
	return json_string_value(json_object_get(c0, "name"));
}

static void op_logs(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	json_t *pods;
	if (target_pods(r, &pods) != 0)
		return;
	int one_pod = strcmp(r->res->kind, "Pod") == 0 && c->name;
	const struct k8s_res *pres = r->res;
	if (strcmp(pres->kind, "Pod") != 0) {
		char *err;
		if (k8s_resolve(r->cl, r->ctx, "pods", "v1", &pres, &err) != 0) {
			set_error(r, err);
			json_decref(pods);
			return;
		}
	}
	struct buf text;
	buf_init(&text, K8S_LOG_TEXT_MAX);
	json_t *matched = json_array();
	json_t *names = json_array();
	json_t *waiting = json_array();
	json_t *partial = json_array();
	long long lines = 0, matches = 0;
	pcre2_match_data *md = c->re ? pcre2_match_data_create_from_pattern(c->re, NULL) : NULL;
	size_t i;
	json_t *pod;
	json_array_foreach(pods, i, pod)
	{
		const char *pn = pod_name(pod);
		const char *cn = c->container ? c->container : default_container(pod);
		const char *ns = r->ns ? r->ns
		                       : json_string_value(json_object_get(
		                             json_object_get(pod, "metadata"), "namespace"));
		struct k8s_log lg;
		char *err = NULL;
		if (k8s_pod_log(r->cl, r->ctx, pres, ns, pn, cn, c->tail,
		                c->since_ms > 0 ? (c->since_ms + 999) / 1000 : 0, &lg, &err) != 0) {
			set_error(r, err);
			goto out;
		}
		if (lg.waiting) {
			/* a pod of a workload that has not started yet is reported,
			 * not an error; a single pod named by the check is */
			if (one_pod) {
				set_error(r, xstrdup(lg.waiting));
				k8s_log_release(&lg);
				goto out;
			}
			json_array_append_new(
			    waiting, json_pack("{s:s, s:s}", "pod", pn, "message", lg.waiting));
			k8s_log_release(&lg);
			continue;
		}
		json_array_append_new(names, json_string(pn));
		if (lg.partial)
			json_array_append_new(partial, json_string(pn));
		const char *p = buf_str(&lg.text);
		const char *end = p + lg.text.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			lines++;
			if (md && pcre2_match(c->re, (PCRE2_SPTR)p, len, 0, 0, md, NULL) >= 0) {
				matches++;
				if (json_array_size(matched) < K8S_MATCHED_MAX) {
					char *l = xasprintf("%s: %.*s", pn,
					                    (int)(len > 500 ? 500 : len), p);
					json_array_append_new(matched, json_string(l));
					free(l);
				}
			}
			p = nl ? nl + 1 : end;
		}
		if (json_array_size(pods) > 1)
			buf_addf(&text, "==> %s <==\n", pn);
		buf_add(&text, buf_str(&lg.text), lg.text.len);
		k8s_log_release(&lg);
	}
	json_t *f = json_object();
	size_t nwait = json_array_size(waiting), npart = json_array_size(partial);
	json_object_set_new(f, "pods", names);
	names = NULL;
	json_object_set_new(f, "lines", json_integer(lines));
	json_object_set_new(f, "matches", json_integer(matches));
	json_object_set_new(f, "matched", matched);
	matched = NULL;
	json_object_set_new(f, "text", json_string(buf_str(&text)));
	json_object_set_new(f, "truncated", json_boolean(text.truncated));
	json_object_set_new(f, "partial", json_boolean(npart > 0));
	json_object_set_new(f, "partial_pods", partial);
	partial = NULL;
	json_object_set_new(f, "waiting", waiting);
	waiting = NULL;
	char *note = NULL;
	if (npart || nwait)
		note = xasprintf(" (%s%s%s)",
		                 npart ? "only the newest lines of some pods were read: the logs "
		                         "are longer than the limit"
		                       : "",
		                 npart && nwait ? "; " : "",
		                 nwait ? "some pods are waiting to start and have no log yet" : "");
	set_summary(f, 1,
	            c->re ? xasprintf("%lld of %lld log lines match %s%s", matches, lines, c->regex,
	                              note ? note : "")
	                  : xasprintf("%lld log lines read%s", lines, note ? note : ""));
	free(note);
	r->out->facts = f;
out:
	if (md)
		pcre2_match_data_free(md);
	if (names)
		json_decref(names);
	if (matched)
		json_decref(matched);
	if (waiting)
		json_decref(waiting);
	if (partial)
		json_decref(partial);
	buf_release(&text);
	json_decref(pods);
}

static void op_restarts(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	json_t *pods;
	if (target_pods(r, &pods) != 0)
		return;
	double now = now_epoch();
	double cut = c->since_ms > 0 ? now - (double)c->since_ms / 1000.0 : 0;
	long long total = 0, recent = 0;
	json_t *list = json_array();
	size_t i;
	json_t *pod;
	json_array_foreach(pods, i, pod)
	{
		json_t *st = json_object_get(pod, "status");
		const char *groups[] = {"initContainerStatuses", "containerStatuses"};
		for (size_t g = 0; g < 2; g++) {
			size_t k;
			json_t *cs;
			json_array_foreach(json_object_get(st, groups[g]), k, cs)
			{
				const char *cname = json_string_value(json_object_get(cs, "name"));
				if (c->container && (!cname || strcmp(cname, c->container) != 0))
					continue;
				long long n =
				    json_integer_value(json_object_get(cs, "restartCount"));
				json_t *term =
				    json_object_get(json_object_get(cs, "lastState"), "terminated");
				const char *fin =
				    json_string_value(json_object_get(term, "finishedAt"));
				double t = k8s_time(fin);
				int in_window = n > 0 && (cut == 0 || (t > 0 && t >= cut));
				total += n;
				if (in_window)
					recent += cut == 0 ? n : 1;
				if (n > 0) {
					json_t *e = json_pack(
					    "{s:s, s:s, s:I, s:b}", "pod", pod_name(pod),
					    "container", cname ? cname : "", "restartCount",
					    (json_int_t)n, "in_window", in_window);
					json_object_set_new(e, "last_finished",
					                    fin ? json_string(fin) : json_null());
					json_object_set(e, "last_reason",
					                json_object_get(term, "reason"));
					json_array_append_new(list, e);
				}
			}
		}
	}
	json_t *f = json_object();
	json_object_set_new(f, "pods", json_integer((json_int_t)json_array_size(pods)));
	json_object_set_new(f, "restarts", json_integer(recent));
	json_object_set_new(f, "total_restarts", json_integer(total));
	json_object_set_new(f, "containers", list);
	char *win = c->since_ms > 0 ? format_duration(c->since_ms) : NULL;
	json_t *first = json_array_get(list, 0);
	set_summary(
	    f, recent == 0,
	    recent == 0
	        ? xasprintf("no container restarts%s%s", win ? " in the last " : "", win ? win : "")
	        : xasprintf("%lld container restart%s%s%s, e.g. %s/%s (%s)", recent,
	                    recent == 1 ? "" : "s", win ? " in the last " : "", win ? win : "",
	                    json_string_value(json_object_get(first, "pod")),
	                    json_string_value(json_object_get(first, "container")),
	                    json_string_value(json_object_get(first, "last_reason"))
	                        ? json_string_value(json_object_get(first, "last_reason"))
	                        : "restarted"));
	free(win);
	json_decref(pods);
	r->out->facts = f;
}

static void op_nodes(struct k8s_run *r)
{
	if (resolve_target(r, "nodes", "v1") != 0)
		return;
	json_t *items = list_of(r, r->res, NULL, r->c->selector, r->c->field_selector);
	if (!items)
		return;
	json_t *nodes = json_array(), *not_ready = json_array();
	size_t i, ready = 0;
	json_t *n;
	json_array_foreach(items, i, n)
	{
		const char *name = pod_name(n);
		int ok = 0;
		const char *reason = "no Ready condition";
		size_t k;
		json_t *cond;
		json_array_foreach(json_object_get(json_object_get(n, "status"), "conditions"), k,
		                   cond)
		{
			const char *t = json_string_value(json_object_get(cond, "type"));
			if (t && strcmp(t, "Ready") == 0) {
				const char *s = json_string_value(json_object_get(cond, "status"));
				ok = s && strcmp(s, "True") == 0;
				reason = json_string_value(json_object_get(cond, "reason"));
			}
		}
		int unsched =
		    json_is_true(json_object_get(json_object_get(n, "spec"), "unschedulable"));
		json_array_append_new(nodes, json_pack("{s:s, s:b, s:s, s:b}", "name", name,
		                                       "ready", ok, "reason", reason ? reason : "",
		                                       "unschedulable", unsched));
		if (ok)
			ready++;
		else
			json_array_append_new(not_ready, json_string(name));
	}
	size_t count = json_array_size(items);
	json_decref(items);
	json_t *f = json_object();
	json_object_set_new(f, "count", json_integer((json_int_t)count));
	json_object_set_new(f, "ready", json_integer((json_int_t)ready));
	json_object_set_new(f, "not_ready", not_ready);
	json_object_set_new(f, "nodes", nodes);
	set_summary(
	    f, count > 0 && ready == count,
	    count == 0
	        ? xstrdup("no nodes found")
	        : xasprintf("%zu of %zu nodes ready%s%s", ready, count,
	                    ready < count ? ", not ready: " : "",
	                    ready < count ? json_string_value(json_array_get(not_ready, 0)) : ""));
	r->out->facts = f;
}

/* ---- actions ------------------------------------------------------------ */

/* Splits a multi-document YAML text at "---" lines into JSON objects
 * (List kinds are expanded). Returns 0 or -1 with *err. */

static void op_apply(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	json_t *objs = json_array();
	json_t *done = json_array();
	char *err = NULL;
	for (size_t i = 0; c->files[i]; i++) {
		char *p = ctx_path(r->ctx, c->files[i]);
		int rc = k8s_load_manifests(p, objs, &err);
		free(p);
		if (rc != 0) {
			set_error(r, err);
			goto out;
		}
	}
	size_t i;
	json_t *o;
	json_array_foreach(objs, i, o)
	{
		const char *av = json_string_value(json_object_get(o, "apiVersion"));
		const char *kind = json_string_value(json_object_get(o, "kind"));
		json_t *meta = json_object_get(o, "metadata");
		const char *name = json_string_value(json_object_get(meta, "name"));
		const char *ons = json_string_value(json_object_get(meta, "namespace"));
		if (!av || !kind || !name) {
			set_error(r, xasprintf("manifest object %zu has no apiVersion, kind or "
			                       "metadata.name",
			                       i + 1));
			goto out;
		}
		if (resolve_target(r, kind, av) != 0)
			goto out;
		const char *ns = r->res->namespaced ? (ons && *ons ? ons : default_ns(r)) : NULL;
		char *q = xasprintf("fieldManager=phasegate%s%s", c->force ? "&force=true" : "",
		                    c->dry_run ? "&dryRun=All" : "");
		char *path = k8s_path(r->res, ns, name, q);
		free(q);
		char *what = what_of("APPLY", r->res, ns, name);
		json_t *ans = send_json(r, "PATCH", path, "application/apply-patch+yaml", o, what);
		free(what);
		free(path);
		if (!ans)
			goto out;
		json_decref(ans);
		json_array_append_new(done, json_pack("{s:s, s:s, s:s?}", "kind", kind, "name",
		                                      name, "namespace", ns));
	}
	json_t *f = json_object();
	size_t n = json_array_size(done);
	json_object_set_new(f, "applied", done);
	done = NULL;
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "dry_run", json_boolean(c->dry_run));
	set_summary(f, 1,
	            xasprintf("%zu object%s applied%s", n, n == 1 ? "" : "s",
	                      c->dry_run ? " (server dry run)" : ""));
	r->out->facts = f;
out:
	json_decref(objs);
	if (done)
		json_decref(done);
}

static void op_patch(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (resolve_target(r, c->type, c->api_version) != 0)
		return;
	const char *ctype = "application/merge-patch+json";
	if (c->op == OP_PATCH && strcmp(c->ptype, "json") == 0)
		ctype = "application/json-patch+json";
	else if (c->op == OP_PATCH && strcmp(c->ptype, "strategic") == 0)
		ctype = "application/strategic-merge-patch+json";
	char *q = xasprintf("fieldManager=phasegate%s", c->dry_run ? "&dryRun=All" : "");
	char *path = k8s_path(r->res, r->ns, c->name, q);
	free(q);
	char *what = what_of("PATCH", r->res, r->ns, c->name);
	json_t *ans = send_json(r, "PATCH", path, ctype, c->body, what);
	free(what);
	free(path);
	if (!ans)
		return;
	json_t *f = json_object();
	facts_ident(f, r->res, r->ns, c->name);
	json_object_set_new(f, "object", ans);
	char *l = label_of(r->res, r->ns, c->name);
	set_summary(f, 1, xasprintf("%s %s", l, c->op == OP_PATCH ? "patched" : "annotated"));
	free(l);
	r->out->facts = f;
}

static void op_delete(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (resolve_target(r, c->type, c->api_version) != 0)
		return;
	char *path = k8s_path(r->res, r->ns, c->name, c->dry_run ? "dryRun=All" : NULL);
	char *what = what_of("DELETE", r->res, r->ns, c->name);
	char *label = label_of(r->res, r->ns, c->name);
	json_t *body = json_pack("{s:s, s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions",
	                         "propagationPolicy", "Background");
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct http_response rs;
	char *err = NULL, *uid = NULL;
	int existed = 1;
	if (k8s_call(r->cl, r->ctx, "DELETE", path, "application/json", text, &rs, &err) != 0) {
		set_error(r, err);
		goto out;
	}
	if (rs.status == 404 && c->ignore_missing) {
		existed = 0;
	} else if (rs.status / 100 != 2) {
		set_error(r, k8s_status_error(r->cl, &rs, what));
		http_response_release(&rs);
		goto out;
	} else {
		/* the uid of what was deleted: the object, or a Status's details */
		json_t *ans = http_body_json(&rs);
		const char *u =
		    json_string_value(json_object_get(json_object_get(ans, "metadata"), "uid"));
		if (!u)
			u = json_string_value(
			    json_object_get(json_object_get(ans, "details"), "uid"));
		uid = u ? xstrdup(u) : NULL;
		if (ans)
			json_decref(ans);
	}
	http_response_release(&rs);
	int gone = !existed, recreated = 0;
	if (existed && c->wait && !c->dry_run) {
		long long pause = 100;
		for (;;) {
			json_t *obj;
			if (get_object(r, r->res, r->ns, c->name, &obj) != 0)
				goto out;
			/* as kubectl delete --wait: an object of the same name with
			 * another uid (a StatefulSet pod, Argo CD's self-heal) means
			 * the deleted one is gone */
			const char *now_uid = json_string_value(
			    json_object_get(json_object_get(obj, "metadata"), "uid"));
			if (obj && uid && now_uid && strcmp(uid, now_uid) != 0)
				recreated = 1;
			if (obj)
				json_decref(obj);
			if (!obj || recreated) {
				gone = 1;
				break;
			}
			if (ctx_cancelled(r->ctx) || ctx_remaining_ms(r->ctx) < pause + 50) {
				set_error(
				    r, xasprintf("%s was deleted but is still there at the check's "
				                 "deadline (finalizers? raise timeout:)",
				                 label));
				goto out;
			}
			struct timespec ts = {pause / 1000, (pause % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			if (pause < 1000)
				pause *= 2;
		}
	}
	json_t *f = json_object();
	facts_ident(f, r->res, r->ns, c->name);
	json_object_set_new(f, "existed", json_boolean(existed));
	json_object_set_new(f, "gone", json_boolean(gone));
	json_object_set_new(f, "recreated", json_boolean(recreated));
	json_object_set_new(f, "dry_run", json_boolean(c->dry_run));
	set_summary(f, 1,
	            existed ? xasprintf("%s deleted%s", label,
	                                recreated ? " and gone (recreated with a new uid)"
	                                : gone    ? " and gone"
	                                          : "")
	                    : xasprintf("%s was already absent", label));
	r->out->facts = f;
out:
	free(uid);
	free(text);
	free(label);
	free(what);
	free(path);
}

/* ---- export ---------------------------------------------------------- */

/* Creates path and its parents, new ones with mode 0700: a backup holds
 * Secrets. */
static int mkdirs(const char *path, char **err)
{
	char *p = xstrdup(path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == 0) {
			char save = *s;
			*s = 0;
			if (mkdir(p, 0700) != 0 && errno != EEXIST) {
				*err = xasprintf("cannot create directory '%s': %s", p,
				                 strerror(errno));
				rc = -1;
				break;
			}
			*s = save;
			if (!save)
				break;
		}
	}
	free(p);
	return rc;
}

static int str_in(const char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (s && strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int safe_component(const char *s)
{
	return s && *s && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 && !strchr(s, '/');
}

static void op_export(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	char *dir = ctx_path(r->ctx, c->dir);
	struct buf sums;
	buf_init(&sums, 0);
	json_t *files = json_array();
	json_t *entries = json_array(); /* the manifest's lines */
	size_t nk = 0, nall = 0;
	const struct k8s_res **kinds = NULL, **all = NULL;
	json_t *counts = json_object();
	char *err = NULL;
	const char *def_ns[2] = {NULL, NULL};
	if (!c->namespaces)
		def_ns[0] = default_ns(r);
	const char *const *nsl_all =
	    c->namespaces ? (const char *const *)c->namespaces : def_ns;
	if (mkdirs(dir, &err) != 0) {
		set_error(r, err);
		goto out;
	}
	/* the kinds named, "*" standing for every kind discovery finds in a
	 * namespace (and the namespaces themselves, so a restore makes them) */
	for (size_t k = 0; c->kinds[k]; k++) {
		const struct k8s_res *res;
		if (strcmp(c->kinds[k], "*") == 0) {
			if (!all && k8s_backup_kinds(r->cl, r->ctx, &all, &nall, &err) != 0) {
				set_error(r, err);
				goto out;
			}
			kinds = xrealloc(kinds, (nk + nall + 2) * sizeof(*kinds));
			for (size_t i = 0; i < nall; i++)
				kinds[nk++] = all[i];
			if (k8s_resolve(r->cl, r->ctx, "namespaces", NULL, &res, &err) != 0) {
				set_error(r, err);
				goto out;
			}
			kinds[nk++] = res;
			continue;
		}
		if (k8s_resolve(r->cl, r->ctx, c->kinds[k], NULL, &res, &err) != 0) {
			set_error(r, err);
			goto out;
		}
		kinds = xrealloc(kinds, (nk + 1) * sizeof(*kinds));
		kinds[nk++] = res;
	}
	for (size_t k = 0; k < nk; k++) {
		const struct k8s_res *res = kinds[k];
		int discovered = 0;
		for (size_t i = 0; i < nall && !discovered; i++)
			discovered = all[i] == res;
		int dup = 0; /* named twice, or named and discovered */
		for (size_t i = 0; i < k && !dup; i++)
			dup = kinds[i] == res;
		if (dup)
			continue;
		char *kdir = xstrdup(res->kind);
		for (char *p = kdir; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		size_t nns = 0;
		const char *const *nsl =
		    c->namespaces ? (const char *const *)c->namespaces : def_ns;
		while (nsl[nns])
			nns++;
		json_int_t kcount = 0;
		for (size_t n = 0; n < (res->namespaced ? nns : 1); n++) {
			const char *ns = res->namespaced ? nsl[n] : NULL;
			json_t *items = list_of(r, res, ns, c->selector, NULL);
			if (!items) {
				free(kdir);
				goto out;
			}
			size_t i;
			json_t *o;
			json_array_foreach(items, i, o)
			{
				const char *name = pod_name(o);
				const char *dns = ns ? ns : "_cluster";
				if (discovered && k8s_backup_derived(res, o))
					continue; /* its controller makes it again */
				if (!*res->group && strcmp(res->plural, "namespaces") == 0 &&
				    !str_in(nsl, name))
					continue; /* only the namespaces exported */
				if (!safe_component(name) || !safe_component(dns)) {
					set_error(
					    r, xasprintf("refusing to export an object named '%s'",
					                 name));
					json_decref(items);
					free(kdir);
					goto out;
				}
				if (!json_object_get(o, "apiVersion")) {
					char *av = *res->group ? xasprintf("%s/%s", res->group,
					                                   res->version)
					                       : xstrdup(res->version);
					json_object_set_new(o, "apiVersion", json_string(av));
					free(av);
				}
				if (!json_object_get(o, "kind"))
					json_object_set_new(o, "kind", json_string(res->kind));
				k8s_backup_strip(o);
				struct buf y;
				buf_init(&y, 0);
				k8s_yaml(&y, o);
				char *rel = xasprintf("%s/%s/%s.yaml", dns, kdir, name);
				char *sub = xasprintf("%s/%s/%s", dir, dns, kdir);
				char *full = xasprintf("%s/%s", dir, rel);
				struct pg_err pe;
				int rc = mkdirs(sub, &err);
				/* the namespace and kind directories are the backup's
				 * own: 0700 even when an earlier export made them */
				char *nsdir = xasprintf("%s/%s", dir, dns);
				if (rc == 0 && (chmod(nsdir, 0700) != 0 || chmod(sub, 0700) != 0)) {
					err = xasprintf("cannot restrict '%s': %s", sub,
					                strerror(errno));
					rc = -1;
				}
				free(nsdir);
				if (rc == 0 &&
				    write_file_atomic(full, buf_str(&y), y.len, &pe) != 0) {
					err = xstrdup(pe.msg);
					rc = -1;
				}
				if (rc == 0 && strcmp(res->kind, "Secret") == 0 && !*res->group &&
				    chmod(full, 0600) != 0) {
					err = xasprintf("cannot restrict '%s': %s", full,
					                strerror(errno));
					rc = -1;
				}
				if (rc == 0) {
					char hex[65];
					sha256_hex(buf_str(&y), y.len, hex);
					buf_addf(&sums, "%s  %s\n", hex, rel);
					json_array_append_new(files, json_string(rel));
					json_array_append_new(
					    entries,
					    json_pack("{s:s, s:O, s:s, s:s?, s:s, s:s}", "file", rel,
					              "apiVersion", json_object_get(o, "apiVersion"),
					              "kind", res->kind, "namespace", ns, "name", name,
					              "sha256", hex));
					kcount++;
				}
				free(full);
				free(sub);
				free(rel);
				buf_release(&y);
				if (rc != 0) {
					set_error(r, err);
					json_decref(items);
					free(kdir);
					goto out;
				}
			}
			json_decref(items);
		}
		json_object_set_new(counts, res->plural, json_integer(kcount));
		free(kdir);
	}
	json_t *nsj = json_array();
	for (size_t n = 0; nsl_all[n]; n++)
		json_array_append_new(nsj, json_string(nsl_all[n]));
	int mrc = k8s_backup_write_manifest(dir, entries, nsj, &sums, &err);
	json_decref(nsj);
	if (mrc != 0) {
		set_error(r, err);
		goto out;
	}
	char *mpath = xasprintf("%s/SHA256SUMS", dir);
	struct pg_err pe;
	if (write_file_atomic(mpath, buf_str(&sums), sums.len, &pe) != 0) {
		set_error(r, xstrdup(pe.msg));
		free(mpath);
		goto out;
	}
	json_t *f = json_object();
	size_t n = json_array_size(files);
	json_object_set_new(f, "dir", json_string(dir));
	json_object_set_new(f, "manifest", json_string(mpath));
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "kinds", counts);
	counts = NULL;
	json_object_set_new(f, "files", files);
	files = NULL;
	set_summary(f, n > 0,
	            n ? xasprintf("%zu objects exported to %s", n, dir)
	              : xasprintf("nothing to export: no objects of the listed kinds"));
	free(mpath);
	r->out->facts = f;
out:
	if (files)
		json_decref(files);
	if (counts)
		json_decref(counts);
	json_decref(entries);
	free(kinds);
	free(all);
	buf_release(&sums);
	free(dir);
}

/* restore and compare (checks/k8s_backup.c) */
static void op_backup(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	char *dir = ctx_path(r->ctx, c->dir), *err = NULL;
	struct k8s_backup_opts o = {.dir = dir,
	                            .target_ns =
	                                c->target_ns && *c->target_ns ? c->target_ns : NULL,
	                            .dry_run = c->dry_run,
	                            .scale_to_zero = c->scale_to_zero,
	                            .missing_only = c->missing_only,
	                            .ignore = c->ignore};
	json_t *f = c->op == OP_RESTORE ? k8s_backup_restore(r->cl, r->ctx, &o, &err)
	                                : k8s_backup_compare(r->cl, r->ctx, &o, &err);
	if (f)
		r->out->facts = f;
	else
		set_error(r, err);
	free(dir);
}

static void op_exec(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	struct k8s_state *st = c->st;
	const char *argv[64 + 16];
	size_t n = 0;
	char *target = xasprintf("%s/%s", c->type, c->name);
	/* a path names a binary relative to the suite; a bare name is looked up in PATH */
	char *kubectl =
	    strchr(c->kubectl, '/') ? ctx_path(r->ctx, c->kubectl) : xstrdup(c->kubectl);
	argv[n++] = kubectl;
	if (st && st->kubeconfig) {
		argv[n++] = "--kubeconfig";
		argv[n++] = st->kubeconfig;
	}
	if (st && st->context) {
		argv[n++] = "--context";
		argv[n++] = st->context;
	}
	argv[n++] = "-n";
	argv[n++] = default_ns(r);
	argv[n++] = "exec";
	argv[n++] = target;
	if (c->container) {
		argv[n++] = "-c";
		argv[n++] = c->container;
	}
	argv[n++] = "--";
	for (size_t i = 0; c->command[i] && n < 64 + 14; i++)
		argv[n++] = c->command[i];
	argv[n] = NULL;
	struct proc_spec spec = {.argv = argv};
	struct proc_result pr;
	memset(&pr, 0, sizeof(pr));
	struct pg_err e;
	if (proc_run(&spec, r->ctx, &pr, &e) != 0) {
		if (pr.spawn_errno == ENOENT || strstr(e.msg, "not found") ||
		    strstr(e.msg, "No such file"))
			set_error(
			    r,
			    xasprintf("k8s exec needs the kubectl binary on PATH (%s: not found)",
			              c->kubectl));
		else
			set_error(r, xasprintf("k8s exec cannot run %s: %s", c->kubectl, e.msg));
		goto out;
	}
	if (pr.spawn_errno == ENOENT) {
		set_error(r, xasprintf("k8s exec needs the kubectl binary on PATH (%s: not found)",
		                       c->kubectl));
		goto out;
	}
	if (pr.timed_out) {
		set_error(r,
		          xasprintf("kubectl exec in %s did not finish before the check's deadline",
		                    target));
		goto out;
	}
	json_t *f = json_object();
	json_object_set_new(f, "exit_code", json_integer(pr.exit_code));
	json_object_set_new(f, "stdout", json_string(buf_str(&pr.out)));
	json_object_set_new(f, "stderr", json_string(buf_str(&pr.err)));
	set_summary(f, pr.exit_code == 0,
	            pr.exit_code == 0 ? xasprintf("command ran in %s", target)
	                              : xasprintf("command in %s exited with %d: %.200s", target,
	                                          pr.exit_code, buf_str(&pr.err)));
	if (pr.exit_code != 0)
		r->out->evidence = xasprintf("%s%s", buf_str(&pr.out), buf_str(&pr.err));
	r->out->facts = f;
out:
	proc_result_release(&pr);
	free(kubectl);
	free(target);
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
		set_error(&r, xstrdup(st->client.kc_error));
		return;
	}
	if (st->client.kc.insecure)
		out->insecure = 1;
	switch (c->op) {
	case OP_GET:
	case OP_HEALTH:
	case OP_ROLLOUT:
		op_get(&r, (int)c->op);
		break;
	case OP_LIST:
		op_list(&r);
		break;
	case OP_CANI:
		op_cani(&r);
		break;
	case OP_EVENTS:
		op_events(&r);
		break;
	case OP_LOGS:
		op_logs(&r);
		break;
	case OP_RESTARTS:
		op_restarts(&r);
		break;
	case OP_NODES:
		op_nodes(&r);
		break;
	case OP_APPLY:
		op_apply(&r);
		break;
	case OP_PATCH:
	case OP_ANNOTATE:
		op_patch(&r);
		break;
	case OP_DELETE:
		op_delete(&r);
		break;
	case OP_EXPORT:
		op_export(&r);
		break;
	case OP_RESTORE:
	case OP_COMPARE:
		op_backup(&r);
		break;
	case OP_EXEC:
		op_exec(&r);
		break;
	default:
		set_error(&r, xstrdup("unknown k8s operation"));
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
	const char *dns = !c->st                        ? NULL
	                  : c->st->nspace               ? c->st->nspace
	                  : !c->st->client.kc_error     ? c->st->client.kc.nspace
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
