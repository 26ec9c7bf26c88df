/* argocd.c - the argocd check module: Argo CD's REST API, the way an
 * operator would use the argocd CLI. Reads (app, apps, resource_tree,
 * managed_resources, project, repos, clusters, version, settings, session,
 * can_i, events, logs), waits with `argocd app wait`'s rules over the watch
 * stream (argocd_wait.c), and actions (sync, rollback, refresh,
 * terminate_operation, resource_action); refresh of a set of applications
 * with concurrency and rounds is a load test (argocd_load.c). This file
 * holds the descriptor, the keys, parse and dispatch; the connection is in
 * argocd_conn.c and the facts are shaped in argocd_facts.c.
 *
 * Every operation's facts carry "ok" (the default expectation) and
 * "summary" (what the default expectation shows when ok is false). */
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "argocd.h"

#define LOG_TEXT_MAX (64 * 1024) /* log text kept in facts */
#define LOG_MATCHED_MAX 50       /* matching lines kept in facts */

enum argocd_op {
	OP_APP,
	OP_APPS,
	OP_TREE,
	OP_MANAGED,
	OP_PROJECT,
	OP_REPOS,
	OP_CLUSTERS,
	OP_VERSION,
	OP_SETTINGS,
	OP_SESSION,
	OP_CANI,
	OP_EVENTS,
	OP_LOGS,
	OP_WAIT,
	OP_SYNC, /* actions from here on */
	OP_ROLLBACK,
	OP_REFRESH,
	OP_TERMINATE,
	OP_RESOURCE_ACTION,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "app",
    "apps",
    "resource_tree",
    "managed_resources",
    "project",
    "repos",
    "clusters",
    "version",
    "settings",
    "session",
    "can_i",
    "events",
    "logs",
    "wait",
    "sync",
    "rollback",
    "refresh",
    "terminate_operation",
    "resource_action",
};

static const struct key_spec argocd_keys[] = {
    {"app", KT_STR, 0, "one application: health, sync, operation, resources, history"},
    {"apps", KT_ANY, 0, "applications: true or {selector, project, names}; counts"},
    {"resource_tree", KT_STR, 0, "the resource tree of an application"},
    {"managed_resources", KT_STR, 0, "which managed resources differ from git, and where"},
    {"project", KT_STR, 0, "an AppProject: repos, destinations, roles"},
    {"repos", KT_ANY, 0, "repositories' connection state: true or [URL or name...]"},
    {"clusters", KT_ANY, 0, "clusters' connection state: true or [server or name...]"},
    {"version", KT_BOOL, 0, "argocd-server's version"},
    {"settings", KT_BOOL, 0, "argocd-server's settings"},
    {"session", KT_BOOL, 0, "who the credentials log in as (userinfo)"},
    {"can_i", KT_MAP, 0, "RBAC: {resource, action, object} (account/can-i)"},
    {"events", KT_STR, 0, "events of an application"},
    {"logs", KT_STR, 0, "logs of an application's pods (regex counts lines)"},
    {"wait", KT_ANY, 0,
     "wait like argocd app wait: NAME, [NAMES] or {selector, project, names}; "
     "beside sync/rollback: true waits for the operation"},
    {"sync", KT_STR, 0, "sync an application (action)"},
    {"rollback", KT_STR, 0, "roll an application back to a history id (action)"},
    {"refresh", KT_ANY, 0,
     "refresh an application, mode normal or hard (action); [NAMES], true or {selector, "
     "project, names} with concurrency and rounds: a load test"},
    {"terminate_operation", KT_STR, 0, "terminate the running operation (action)"},
    {"resource_action", KT_STR, 0, "run a resource action (restart...) in an application (action)"},
    {"for", KT_STR_OR_SEQ, 0, "wait conditions: health, sync, operation, suspended, degraded"},
    {"selector", KT_STR, 0, "label selector of applications"},
    {"names", KT_STRSEQ, 0, "application names"},
    {"resources", KT_STRSEQ, 0, "GROUP:KIND:NAME (wait: '!' excludes; sync: only these)"},
    {"revision", KT_STR, 0, "sync: the revision to sync to"},
    {"prune", KT_BOOL, 0, "sync/rollback: delete resources no longer in git"},
    {"dry_run", KT_BOOL, 0, "sync/rollback: preview only"},
    {"sync_options", KT_STRSEQ, 0, "sync: ServerSideApply=true, CreateNamespace=true, ..."},
    {"strategy", KT_STR, 0, "sync: apply or hook (default: hook)"},
    {"force", KT_BOOL, 0, "sync: replace resources that cannot be patched"},
    {"retry_limit", KT_INT, 0, "sync: attempts the controller makes on failure"},
    {"id", KT_STR, 0, "rollback: a history id, or previous (default)"},
    {"mode", KT_STR, 0, "refresh: normal (default) or hard"},
    {"concurrency", KT_INT, 0, "refresh load: calls in flight at once (1-64, default 4)"},
    {"rounds", KT_INT, 0, "refresh load: refreshes of each application (1-1000, default 1)"},
    {"action", KT_STR, 0, "resource_action: restart, pause, resume, ..."},
    {"kind", KT_STR, 0, "resource_action/logs: the resource's kind"},
    {"group", KT_STR, 0, "resource_action: the resource's API group"},
    {"resource_name", KT_STR, 0, "resource_action/logs: the resource's name"},
    {"namespace", KT_STR, 0, "resource_action/logs: the resource's namespace"},
    {"pod", KT_STR, 0, "logs: one pod"},
    {"container", KT_STR, 0, "logs: one container"},
    {"tail", KT_INT, 0, "logs: last lines"},
    {"regex", KT_STR, 0, "logs: count matching lines (PCRE2)"},
    {"app_namespace", KT_STR, 0, "namespace of the Application objects (apps in any namespace)"},
    {NULL, KT_ANY, 0, NULL},
};

struct argocd_cfg {
	enum argocd_op op;
	char *name;                                      /* owned: the application (or project) */
	char **names;                                    /* owned, NULL-terminated; apps/wait */
	char *selector, *project;                        /* owned */
	char **want;                                     /* owned: repos/clusters filter */
	char *cani_resource, *cani_action, *cani_object; /* owned */
	int wait;                                        /* actions: wait for the operation */
	struct argocd_wait_spec ws; /* borrows names/selector/project/resources */
	char **resources;           /* owned */
	char *revision;             /* owned */
	int prune, dry_run, force;
	char **sync_options; /* owned */
	char *strategy;      /* owned */
	long long retry_limit;
	long long history_id;    /* rollback: -1 = previous */
	char *mode;              /* owned: refresh */
	int load;                /* refresh of a set: a load test (argocd_load.c) */
	int concurrency, rounds; /* refresh load */
	char *action, *kind, *group, *resource_name, *nspace; /* owned */
	char *pod, *container;                                /* owned */
	long long tail;
	char *regex;            /* owned */
	pcre2_code *re;         /* owned */
	char *app_namespace;    /* owned */
	struct argocd_conn *cn; /* borrowed: the module state */
};

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char **strv_of(const struct node *n)
{
	if (!n)
		return NULL;
	size_t count = n->kind == NODE_SEQ ? n->n : 1;
	char **out = xcalloc(count + 1, sizeof(char *));
	size_t k = 0;
	if (n->kind == NODE_SCALAR)
		out[k++] = xstrdup(n->str);
	for (size_t i = 0; n->kind == NODE_SEQ && i < n->n; i++)
		if (n->items[i]->kind == NODE_SCALAR)
			out[k++] = xstrdup(n->items[i]->str);
	return out;
}

static void argocd_free(void *priv)
{
	struct argocd_cfg *c = priv;
	if (!c)
		return;
	free(c->name);
	strv_free(c->names);
	free(c->selector);
	free(c->project);
	strv_free(c->want);
	free(c->cani_resource);
	free(c->cani_action);
	free(c->cani_object);
	strv_free(c->resources);
	free(c->revision);
	strv_free(c->sync_options);
	free(c->strategy);
	free(c->mode);
	free(c->action);
	free(c->kind);
	free(c->group);
	free(c->resource_name);
	free(c->nspace);
	free(c->pod);
	free(c->container);
	free(c->regex);
	if (c->re)
		pcre2_code_free(c->re);
	free(c->app_namespace);
	free(c);
}

static int argocd_init(const struct node *settings, void **state, struct diags *d)
{
	struct argocd_conn *cn = xcalloc(1, sizeof(*cn));
	if (argocd_conn_init(settings, cn, d) != 0) {
		argocd_conn_release(cn);
		free(cn);
		return -1;
	}
	*state = cn;
	return 0;
}

static void argocd_fini(void *state)
{
	if (!state)
		return;
	argocd_conn_release(state);
	free(state);
}

/* wait's conditions ("for:"): the CLI's flags. */
static int parse_for(struct argocd_cfg *c, const struct node *cfg, struct diags *d)
{
	size_t n = 0;
	const char **v = cfg_strv(cfg, "for", &n);
	struct argocd_wait_spec *w = &c->ws;
	if (!v) {
		/* no flags: the CLI waits for sync, health and operation; after
		 * sync and rollback it waits for the operation */
		if (c->op == OP_WAIT)
			w->sync = w->health = w->operation = 1;
		else
			w->operation = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i], "health") == 0)
			w->health = 1;
		else if (strcmp(v[i], "sync") == 0)
			w->sync = 1;
		else if (strcmp(v[i], "operation") == 0)
			w->operation = 1;
		else if (strcmp(v[i], "suspended") == 0)
			w->suspended = 1;
		else if (strcmp(v[i], "degraded") == 0)
			w->degraded = 1;
		else
			diag_at(
			    d, cfg_node(cfg, "for"),
			    "wait condition '%s' is not one of health, sync, operation, suspended, "
			    "degraded",
			    v[i]);
	}
	free((void *)v);
	return 0;
}

/* {selector, project, names} or a name or a list of names. */
static void parse_app_set(struct argocd_cfg *c, const struct node *opnode, const struct node *cfg,
                          struct diags *d)
{
	if (opnode->kind == NODE_MAP) {
		static const struct key_spec set_keys[] = {
		    {"selector", KT_STR, 0, "label selector"},
		    {"project", KT_STR, 0, "project"},
		    {"names", KT_STRSEQ, 0, "names"},
		    {NULL, KT_ANY, 0, NULL},
		};
		if (keys_validate(opnode, set_keys, "argocd application set", d))
			return;
		c->selector = xstrdup(cfg_str(opnode, "selector", NULL));
		c->project = xstrdup(cfg_str(opnode, "project", NULL));
		c->names = strv_of(cfg_node(opnode, "names"));
	} else if (opnode->kind == NODE_SEQ) {
		c->names = strv_of(opnode);
	} else if (strcmp(opnode->str, "true") != 0) {
		c->names = strv_of(opnode);
	}
	if (!c->selector)
		c->selector = xstrdup(cfg_str(cfg, "selector", NULL));
	if (!c->project)
		c->project = xstrdup(cfg_str(cfg, "project", NULL));
	if (!c->names)
		c->names = strv_of(cfg_node(cfg, "names"));
}

static int argocd_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct argocd_cfg *c = xcalloc(1, sizeof(*c));
	size_t before = d->n;
	c->cn = state;
	const struct node *opnode = NULL;
	int nops = 0;
	/* wait: stands alone as an operation; beside sync or rollback it is
	 * their option (wait for the operation they start). */
	for (int i = 0; i < OP_COUNT; i++) {
		const struct node *n = cfg_node(cfg, op_names[i]);
		if (!n || (i == OP_WAIT && (cfg_node(cfg, "sync") || cfg_node(cfg, "rollback"))))
			continue;
		if (nops++ == 0) {
			c->op = (enum argocd_op)i;
			opnode = n;
		}
	}
	if (nops != 1) {
		diag_at(d, nops ? opnode : cfg,
		        "an argocd check takes exactly one operation (app, apps, resource_tree, "
		        "managed_resources, project, repos, clusters, version, settings, session, "
		        "can_i, "
		        "events, logs, wait, sync, rollback, refresh, terminate_operation, "
		        "resource_action); found %d",
		        nops);
		goto out;
	}
	const char *opval = opnode->kind == NODE_SCALAR ? opnode->str : NULL;
	switch (c->op) {
	case OP_APPS:
	case OP_WAIT:
		parse_app_set(c, opnode, cfg, d);
		break;
	case OP_REFRESH:
		/* one name alone: one refresh; a set, or concurrency/rounds: load */
		c->load = !opval || strcmp(opval, "true") == 0 || cfg_node(cfg, "concurrency") ||
		          cfg_node(cfg, "rounds");
		if (c->load)
			parse_app_set(c, opnode, cfg, d);
		else if (!*opval)
			diag_at(d, opnode, "argocd refresh needs a name: refresh: NAME");
		else
			c->name = xstrdup(opval);
		break;
	case OP_REPOS:
	case OP_CLUSTERS:
		if (!(opval && strcmp(opval, "true") == 0))
			c->want = strv_of(opnode);
		break;
	case OP_VERSION:
	case OP_SETTINGS:
	case OP_SESSION:
		break;
	case OP_CANI:
		c->cani_resource = xstrdup(cfg_str(opnode, "resource", NULL));
		c->cani_action = xstrdup(cfg_str(opnode, "action", NULL));
		c->cani_object = xstrdup(cfg_str(opnode, "object", "*"));
		if (!c->cani_resource || !c->cani_action)
			diag_at(d, opnode,
			        "argocd can_i needs {resource, action, object}: "
			        "{resource: applications, action: sync, object: 'shop/*'}");
		break;
	default:
		if (!opval || !*opval)
			diag_at(d, opnode, "argocd %s needs a name: %s: NAME", op_names[c->op],
			        op_names[c->op]);
		else
			c->name = xstrdup(opval);
		break;
	}
	const struct node *waitn = cfg_node(cfg, "wait");
	if ((c->op == OP_SYNC || c->op == OP_ROLLBACK) && waitn) {
		int b = 0;
		if (node_as_bool(waitn, &b, d) == 0)
			c->wait = b;
	}
	parse_for(c, cfg, d);
	c->resources = strv_of(cfg_node(cfg, "resources"));
	c->revision = xstrdup(cfg_str(cfg, "revision", NULL));
	c->prune = cfg_bool(cfg, "prune", 0);
	c->dry_run = cfg_bool(cfg, "dry_run", 0);
	c->force = cfg_bool(cfg, "force", 0);
	c->sync_options = strv_of(cfg_node(cfg, "sync_options"));
	c->strategy = xstrdup(cfg_str(cfg, "strategy", NULL));
	if (c->strategy && strcmp(c->strategy, "apply") != 0 && strcmp(c->strategy, "hook") != 0)
		diag_at(d, cfg_node(cfg, "strategy"), "strategy must be apply or hook, not '%s'",
		        c->strategy);
	c->retry_limit = cfg_int(cfg, "retry_limit", 0);
	const char *id = cfg_str(cfg, "id", "previous");
	c->history_id = -1;
	if (strcmp(id, "previous") != 0 && (parse_ll(id, &c->history_id) != 0 || c->history_id < 0))
		diag_at(d, cfg_node(cfg, "id"),
		        "rollback id must be a history id (0, 1, ...) or "
		        "previous, not '%s'",
		        id);
	argocd_load_parse(cfg, c->op == OP_REFRESH, &c->concurrency, &c->rounds, d);
	c->mode = xstrdup(cfg_str(cfg, "mode", "normal"));
	if (strcmp(c->mode, "normal") != 0 && strcmp(c->mode, "hard") != 0)
		diag_at(d, cfg_node(cfg, "mode"), "refresh mode must be normal or hard, not '%s'",
		        c->mode);
	c->action = xstrdup(cfg_str(cfg, "action", NULL));
	c->kind = xstrdup(cfg_str(cfg, "kind", NULL));
	c->group = xstrdup(cfg_str(cfg, "group", NULL));
	c->resource_name = xstrdup(cfg_str(cfg, "resource_name", NULL));
	c->nspace = xstrdup(cfg_str(cfg, "namespace", NULL));
	if (c->op == OP_RESOURCE_ACTION && (!c->action || !c->kind || !c->resource_name))
		diag_at(d, opnode,
		        "argocd resource_action needs action:, kind: and resource_name: "
		        "(action: restart, kind: Deployment, resource_name: web)");
	c->pod = xstrdup(cfg_str(cfg, "pod", NULL));
	c->container = xstrdup(cfg_str(cfg, "container", NULL));
	c->tail = cfg_int(cfg, "tail", -1);
	c->app_namespace = xstrdup(cfg_str(cfg, "app_namespace", NULL));
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
	if (c->op == OP_SYNC && c->wait && !c->ws.operation && !c->ws.health && !c->ws.sync)
		c->ws.operation = 1;
	c->ws.names = c->names;
	c->ws.selector = c->selector;
	c->ws.project = c->project;
	c->ws.resources = c->op == OP_WAIT ? c->resources : NULL;
out:
	if (d->n > before) {
		argocd_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

static int argocd_changes_world(const void *priv)
{
	const struct argocd_cfg *c = priv;
	return c->op >= OP_SYNC;
}

/* A sync or rollback that deletes (prune) or replaces (force, the
 * Replace=true sync option) what lives in the cluster, unless it is a dry
 * run: such an action runs only with --allow-destructive. */
static int argocd_destructive(const void *priv)
{
	const struct argocd_cfg *c = priv;
	if (c->op < OP_SYNC || c->dry_run)
		return 0;
	if (c->prune || c->force)
		return 1;
	for (size_t i = 0; c->sync_options && c->sync_options[i]; i++)
		if (strcmp(c->sync_options[i], "Replace=true") == 0)
			return 1;
	return 0;
}

static char *argocd_describe(void *priv)
{
	struct argocd_cfg *c = priv;
	struct buf b;
	buf_init(&b, 4096);
	buf_addf(&b, "argocd %s", op_names[c->op]);
	if (c->name)
		buf_addf(&b, " %s", c->name);
	for (size_t i = 0; c->names && c->names[i]; i++)
		buf_addf(&b, "%s%s", i ? ", " : " ", c->names[i]);
	if (c->selector)
		buf_addf(&b, " -l %s", c->selector);
	if (c->project)
		buf_addf(&b, " in project %s", c->project);
	if (c->op == OP_CANI)
		buf_addf(&b, " %s %s %s", c->cani_action, c->cani_resource, c->cani_object);
	if (c->op == OP_SYNC) {
		if (c->revision)
			buf_addf(&b, " to %s", c->revision);
		if (c->prune)
			buf_adds(&b, " with prune");
		if (c->dry_run)
			buf_adds(&b, " (dry run)");
	}
	if (c->op == OP_ROLLBACK) {
		if (c->history_id >= 0)
			buf_addf(&b, " to history id %lld", c->history_id);
		else
			buf_adds(&b, " to the previous deployment");
	}
	if (c->op == OP_REFRESH && c->load && !c->names && !c->selector && !c->project)
		buf_adds(&b, " of every application");
	if (c->op == OP_REFRESH)
		buf_addf(&b, " (%s)", c->mode);
	if (c->op == OP_REFRESH && c->load)
		buf_addf(&b, ", %d round%s, %d at once", c->rounds, c->rounds == 1 ? "" : "s",
		         c->concurrency);
	if (c->op == OP_RESOURCE_ACTION)
		buf_addf(&b, ": %s %s/%s", c->action, c->kind, c->resource_name);
	if (c->op == OP_WAIT || c->wait) {
		const struct argocd_wait_spec *w = &c->ws;
		buf_addf(&b, "%s%s%s%s%s%s", c->op == OP_WAIT ? " for" : ", then wait for",
		         w->health ? " health" : "", w->sync ? " sync" : "",
		         w->operation ? " operation" : "", w->suspended ? " suspended" : "",
		         w->degraded ? " degraded" : "");
	}
	return buf_detach(&b);
}

/* ---- running ------------------------------------------------------------------ */

static void fail_with(struct argocd_run *r, char *msg)
{
	r->out->forced = CHECK_ERROR;
	free(r->out->error);
	r->out->error = msg;
}

/* "/api/v1/applications/NAME" + tail, with appNamespace. */
static char *app_path(const struct argocd_cfg *c, const char *name, const char *tail,
                      const char *query)
{
	char *e = argocd_escape(name);
	char *ns = c->app_namespace ? argocd_escape(c->app_namespace) : NULL;
	char *p = xasprintf("/api/v1/applications/%s%s%s%s%s%s", e, tail ? tail : "",
	                    query || ns ? "?" : "", query ? query : "", query && ns ? "&" : "",
	                    ns ? "appNamespace=" : "");
	if (ns) {
		char *q = xasprintf("%s%s", p, ns);
		free(p);
		p = q;
	}
	free(e);
	free(ns);
	return p;
}

/* A call about one application; a 404 gets "did you mean". */
static int app_call(struct argocd_run *r, const struct argocd_cfg *c, const char *method,
                    const char *tail, const char *query, json_t *body, const char *what,
                    struct argocd_reply *rp)
{
	char *path = app_path(c, c->name, tail, query);
	char *label = xasprintf("%s %s", what, c->name);
	int rc = argocd_call(r, method, path, body, label, rp);
	if (rc != 0 && rp->status == 404 && rp->api_message &&
	    strstr(rp->api_message, "not found")) {
		char *near = argocd_suggest_app(r, c->name);
		if (near) {
			char *m = xasprintf("%s (did you mean '%s'?)", rp->error, near);
			free(rp->error);
			rp->error = m;
		}
		free(near);
	}
	free(label);
	free(path);
	return rc;
}

static void op_app(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct argocd_reply rp;
	if (app_call(r, c, "GET", NULL, NULL, NULL, "get application", &rp) == 0)
		r->out->facts = argocd_app_facts(rp.body);
	else
		fail_with(r, xstrdup(rp.error));
	argocd_reply_release(&rp);
}

static char *list_query(const struct argocd_cfg *c)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "/api/v1/applications");
	char sep = '?';
	if (c->selector) {
		char *e = argocd_escape(c->selector);
		buf_addf(&b, "%cselector=%s", sep, e);
		free(e);
		sep = '&';
	}
	if (c->project) {
		char *e = argocd_escape(c->project);
		buf_addf(&b, "%cprojects=%s", sep, e);
		free(e);
		sep = '&';
	}
	if (c->app_namespace) {
		char *e = argocd_escape(c->app_namespace);
		buf_addf(&b, "%cappNamespace=%s", sep, e);
		free(e);
	}
	return buf_detach(&b);
}

/* The applications a set names (or every one its selector and project
 * list), checked to exist; NULL after fail_with. */
static json_t *select_apps(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct argocd_reply rp;
	json_t *keep = NULL;
	char *path = list_query(c);
	if (argocd_call(r, "GET", path, NULL, "list applications", &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
		goto out;
	}
	json_t *items = json_object_get(rp.body, "items");
	keep = json_array();
	size_t i;
	json_t *app;
	json_array_foreach(items, i, app)
	{
		const char *n = argocd_str(app, "metadata.name", "");
		int want = !c->names;
		for (size_t k = 0; c->names && c->names[k]; k++)
			if (strcmp(c->names[k], n) == 0)
				want = 1;
		if (want)
			json_array_append(keep, app);
	}
	for (size_t k = 0; c->names && c->names[k]; k++) {
		int found = 0;
		json_array_foreach(keep, i, app) if (strcmp(argocd_str(app, "metadata.name", ""),
		                                            c->names[k]) == 0) found = 1;
		if (!found) {
			char *near = argocd_suggest_app(r, c->names[k]);
			fail_with(r, xasprintf("application '%s' not found%s%s%s", c->names[k],
			                       near ? " (did you mean '" : "", near ? near : "",
			                       near ? "'?)" : ""));
			free(near);
			json_decref(keep);
			keep = NULL;
			goto out;
		}
	}
out:
	free(path);
	argocd_reply_release(&rp);
	return keep;
}

static void op_apps(struct argocd_run *r, const struct argocd_cfg *c)
{
	json_t *keep = select_apps(r, c);
	if (keep)
		r->out->facts = argocd_apps_facts(keep);
	json_decref(keep);
}

static void op_refresh_load(struct argocd_run *r, const struct argocd_cfg *c)
{
	json_t *apps = select_apps(r, c);
	if (!apps)
		return;
	size_t n = json_array_size(apps);
	char **names = xcalloc(n + 1, sizeof(char *));
	char **nss = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_t *app = json_array_get(apps, i);
		names[i] = xstrdup(argocd_str(app, "metadata.name", ""));
		/* apps in any namespace: each call names its application's */
		nss[i] = xstrdup(c->app_namespace ? c->app_namespace
		                                  : argocd_str(app, "metadata.namespace", NULL));
	}
	struct argocd_load_spec s = {.names = names,
	                             .namespaces = nss,
	                             .mode = c->mode,
	                             .concurrency = c->concurrency,
	                             .rounds = c->rounds};
	argocd_refresh_load(r, &s);
	for (size_t i = 0; i < n; i++)
		free(nss[i]);
	free(nss);
	strv_free(names);
	json_decref(apps);
}

static void op_simple(struct argocd_run *r, const struct argocd_cfg *c, const char *tail,
                      const char *what, json_t *(*shape)(json_t *))
{
	struct argocd_reply rp;
	if (app_call(r, c, "GET", tail, NULL, NULL, what, &rp) == 0)
		r->out->facts = shape(rp.body);
	else
		fail_with(r, xstrdup(rp.error));
	argocd_reply_release(&rp);
}

static void op_project(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct argocd_reply rp;
	char *e = argocd_escape(c->name);
	char *path = xasprintf("/api/v1/projects/%s", e);
	char *what = xasprintf("get project %s", c->name);
	if (argocd_call(r, "GET", path, NULL, what, &rp) == 0)
		r->out->facts = argocd_project_facts(rp.body);
	else
		fail_with(r, xstrdup(rp.error));
	argocd_reply_release(&rp);
	free(what);
	free(path);
	free(e);
}

static void op_list_of(struct argocd_run *r, const struct argocd_cfg *c, const char *path,
                       const char *what, json_t *(*shape)(json_t *, const char *const *, char **))
{
	struct argocd_reply rp;
	if (argocd_call(r, "GET", path, NULL, what, &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
		argocd_reply_release(&rp);
		return;
	}
	char *missing = NULL;
	json_t *f =
	    shape(json_object_get(rp.body, "items"), (const char *const *)c->want, &missing);
	if (missing) {
		json_decref(f);
		fail_with(r, xasprintf("%s: Argo CD does not know %s", what, missing));
		free(missing);
	} else {
		r->out->facts = f;
	}
	argocd_reply_release(&rp);
}

static void op_version(struct argocd_run *r)
{
	struct argocd_reply rp;
	if (argocd_call(r, "GET", "/api/version", NULL, "get version", &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
		argocd_reply_release(&rp);
		return;
	}
	json_t *f = json_object();
	const char *v = argocd_str(rp.body, "Version", NULL);
	json_object_set_new(f, "version", v ? json_string(v) : json_null());
	static const char *const keys[][2] = {
	    {"BuildDate", "build_date"},
	    {"GitCommit", "git_commit"},
	    {"GoVersion", "go_version"},
	    {"Platform", "platform"},
	    {"KustomizeVersion", "kustomize_version"},
	    {"HelmVersion", "helm_version"},
	    {"KubectlVersion", "kubectl_version"},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *s = argocd_str(rp.body, keys[i][0], NULL);
		json_object_set_new(f, keys[i][1], s ? json_string(s) : json_null());
	}
	/* anonymous callers are told only the version */
	json_object_set_new(f, "authenticated",
	                    json_boolean(argocd_str(rp.body, "BuildDate", NULL) != NULL));
	argocd_set_ok(f, v && *v,
	              v && *v ? NULL : xstrdup("argocd-server did not say its version"));
	r->out->facts = f;
	argocd_reply_release(&rp);
}

static void op_settings(struct argocd_run *r)
{
	struct argocd_reply rp;
	if (argocd_call(r, "GET", "/api/v1/settings", NULL, "get settings", &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
	} else {
		json_t *f = json_deep_copy(rp.body);
		argocd_set_ok(f, 1, NULL);
		r->out->facts = f;
	}
	argocd_reply_release(&rp);
}

static void op_session(struct argocd_run *r)
{
	struct argocd_reply rp;
	if (argocd_call(r, "GET", "/api/v1/session/userinfo", NULL, "get session", &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
		argocd_reply_release(&rp);
		return;
	}
	json_t *f = json_object();
	int in = json_is_true(json_object_get(rp.body, "loggedIn"));
	json_object_set_new(f, "logged_in", json_boolean(in));
	const char *u = argocd_str(rp.body, "username", NULL);
	json_object_set_new(f, "username", u ? json_string(u) : json_null());
	json_t *g = json_object_get(rp.body, "groups");
	json_object_set_new(f, "groups", g ? json_incref(g) : json_array());
	argocd_set_ok(f, in, in ? NULL : xstrdup("the credentials do not log in to Argo CD"));
	r->out->facts = f;
	argocd_reply_release(&rp);
}

static void op_cani(struct argocd_run *r, const struct argocd_cfg *c)
{
	char *a = argocd_escape(c->cani_resource), *b = argocd_escape(c->cani_action),
	     *o = argocd_escape(c->cani_object);
	char *path = xasprintf("/api/v1/account/can-i/%s/%s/%s", a, b, o);
	struct argocd_reply rp;
	if (argocd_call(r, "GET", path, NULL, "can-i", &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
	} else {
		int yes = strcmp(argocd_str(rp.body, "value", ""), "yes") == 0;
		json_t *f = json_pack("{s:s,s:s,s:s,s:b}", "resource", c->cani_resource, "action",
		                      c->cani_action, "object", c->cani_object, "allowed", yes);
		argocd_set_ok(f, yes,
		              yes ? NULL
		                  : xasprintf("the account may not %s %s %s", c->cani_action,
		                              c->cani_resource, c->cani_object));
		r->out->facts = f;
	}
	argocd_reply_release(&rp);
	free(path);
	free(a);
	free(b);
	free(o);
}

/* ---- logs: a stream of {"result": {content, podName, ...}} ------------------------ */

struct log_state {
	const struct argocd_cfg *c;
	pcre2_match_data *md;
	struct buf text;
	json_t *matched;
	long long lines, nmatched;
};

static int log_line(void *arg, const char *line, size_t len)
{
	struct log_state *ls = arg;
	json_error_t err;
	json_t *j = json_loadb(line, len, 0, &err);
	json_t *res = json_object_get(j, "result");
	if (!res || json_is_true(json_object_get(res, "last"))) {
		json_decref(j);
		return 0;
	}
	const char *content = argocd_str(res, "content", "");
	const char *pod = argocd_str(res, "podName", "");
	ls->lines++;
	buf_addf(&ls->text, "%s %s\n", pod, content);
	if (ls->c->re &&
	    pcre2_match(ls->c->re, (PCRE2_SPTR)content, strlen(content), 0, 0, ls->md, NULL) >= 0) {
		ls->nmatched++;
		if (json_array_size(ls->matched) < LOG_MATCHED_MAX)
			json_array_append_new(ls->matched,
			                      json_pack("{s:s,s:s}", "pod", pod, "line", content));
	}
	json_decref(j);
	return 0;
}

static void op_logs(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct buf q;
	buf_init(&q, 0);
	buf_adds(&q, "follow=false");
	const char *keys[][2] = {{"podName", c->pod},      {"container", c->container},
	                         {"kind", c->kind},        {"resourceName", c->resource_name},
	                         {"namespace", c->nspace}, {"group", c->group}};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!keys[i][1])
			continue;
		char *e = argocd_escape(keys[i][1]);
		buf_addf(&q, "&%s=%s", keys[i][0], e);
		free(e);
	}
	if (c->tail >= 0)
		buf_addf(&q, "&tailLines=%lld", c->tail);
	char *path = app_path(c, c->name, "/logs", buf_str(&q));
	char *what = xasprintf("logs of %s", c->name);
	struct log_state ls = {.c = c, .matched = json_array()};
	buf_init(&ls.text, LOG_TEXT_MAX);
	if (c->re)
		ls.md = pcre2_match_data_create_from_pattern(c->re, NULL);
	struct argocd_reply rp;
	if (argocd_stream(r, path, what, log_line, &ls, &rp) != 0) {
		fail_with(r, xstrdup(rp.error));
	} else {
		json_t *f = json_object();
		json_object_set_new(f, "lines", json_integer(ls.lines));
		json_object_set_new(f, "text", json_string(buf_str(&ls.text)));
		json_object_set_new(f, "text_truncated", json_boolean(ls.text.truncated));
		if (c->re) {
			json_object_set_new(f, "matched", json_integer(ls.nmatched));
			json_object_set_new(f, "matches", json_incref(ls.matched));
		}
		int ok = c->re ? ls.nmatched > 0 : ls.lines > 0;
		argocd_set_ok(f, ok,
		              ok ? NULL
		              : c->re
		                  ? xasprintf("no log line of %s matches /%s/ (%lld lines read)",
		                              c->name, c->regex, ls.lines)
		                  : xasprintf("no log line from %s", c->name));
		r->out->facts = f;
	}
	argocd_reply_release(&rp);
	if (ls.md)
		pcre2_match_data_free(ls.md);
	json_decref(ls.matched);
	buf_release(&ls.text);
	free(what);
	free(path);
	buf_release(&q);
}

/* ---- actions ------------------------------------------------------------------------ */

/* After sync or rollback: the operation's facts, or a wait for it. */
static void after_operation(struct argocd_run *r, const struct argocd_cfg *c, json_t *app)
{
	if (!c->wait) {
		json_t *f = argocd_app_facts(app);
		argocd_set_ok(f, 1, NULL); /* the operation was accepted */
		json_object_set_new(f, "accepted", json_true());
		r->out->facts = f;
		return;
	}
	struct argocd_wait_spec w = c->ws;
	char *names[2] = {c->name, NULL};
	w.names = names;
	w.selector = NULL;
	w.project = NULL;
	w.op_must_succeed = 1;
	argocd_wait(r, &w);
	if (!r->out->facts)
		return;
	/* the final state of the operation, for expectations */
	struct argocd_reply rp;
	if (app_call(r, c, "GET", NULL, NULL, NULL, "get application", &rp) == 0) {
		json_t *af = argocd_app_facts(rp.body);
		json_object_set(r->out->facts, "operation", json_object_get(af, "operation"));
		json_object_set(r->out->facts, "revision", json_object_get(af, "revision"));
		json_object_set(r->out->facts, "history", json_object_get(af, "history"));
		json_decref(af);
	}
	argocd_reply_release(&rp);
}

static json_t *resource_refs(char **specs)
{
	json_t *out = json_array();
	for (size_t i = 0; specs && specs[i]; i++) {
		/* GROUP:KIND:NAME or GROUP:KIND:NAMESPACE/NAME */
		const char *s = specs[i];
		const char *c1 = strchr(s, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		const char *name = c2 + 1, *slash = strchr(name, '/');
		json_t *ref = json_pack("{s:s%,s:s%}", "group", s, (size_t)(c1 - s), "kind", c1 + 1,
		                        (size_t)(c2 - c1 - 1));
		if (slash) {
			json_object_set_new(ref, "namespace",
			                    json_stringn(name, (size_t)(slash - name)));
			name = slash + 1;
		}
		json_object_set_new(ref, "name", json_string(name));
		json_array_append_new(out, ref);
	}
	return out;
}

static void op_sync(struct argocd_run *r, const struct argocd_cfg *c)
{
	json_t *body =
	    json_pack("{s:s,s:b,s:b}", "name", c->name, "prune", c->prune, "dryRun", c->dry_run);
	if (c->revision)
		json_object_set_new(body, "revision", json_string(c->revision));
	if (c->resources)
		json_object_set_new(body, "resources", resource_refs(c->resources));
	if (c->sync_options) {
		json_t *items = json_array();
		for (size_t i = 0; c->sync_options[i]; i++)
			json_array_append_new(items, json_string(c->sync_options[i]));
		json_object_set_new(body, "syncOptions", json_pack("{s:o}", "items", items));
	}
	if (c->strategy || c->force)
		json_object_set_new(
		    body, "strategy",
		    json_pack("{s:{s:b}}", c->strategy ? c->strategy : "hook", "force", c->force));
	if (c->retry_limit > 0)
		json_object_set_new(body, "retryStrategy",
		                    json_pack("{s:I}", "limit", (json_int_t)c->retry_limit));
	if (c->app_namespace)
		json_object_set_new(body, "appNamespace", json_string(c->app_namespace));
	struct argocd_reply rp;
	if (app_call(r, c, "POST", "/sync", NULL, body, "sync", &rp) == 0)
		after_operation(r, c, rp.body);
	else
		fail_with(r, xstrdup(rp.error));
	argocd_reply_release(&rp);
	json_decref(body);
}

static void op_rollback(struct argocd_run *r, const struct argocd_cfg *c)
{
	long long id = c->history_id;
	struct argocd_reply rp;
	if (id < 0) {
		/* "previous": the deployment before the last, as the CLI picks it */
		if (app_call(r, c, "GET", NULL, NULL, NULL, "get application", &rp) != 0) {
			fail_with(r, xstrdup(rp.error));
			argocd_reply_release(&rp);
			return;
		}
		json_t *hist = json_object_get(json_object_get(rp.body, "status"), "history");
		size_t n = json_array_size(hist);
		if (n < 2) {
			fail_with(
			    r, xasprintf("rollback %s: the application needs at least two "
			                 "deployments in its history to roll back to the previous "
			                 "one (it has %zu)",
			                 c->name, n));
			argocd_reply_release(&rp);
			return;
		}
		id = (long long)json_integer_value(
		    json_object_get(json_array_get(hist, n - 2), "id"));
		argocd_reply_release(&rp);
	}
	json_t *body = json_pack("{s:s,s:I,s:b,s:b}", "name", c->name, "id", (json_int_t)id,
	                         "prune", c->prune, "dryRun", c->dry_run);
	if (app_call(r, c, "POST", "/rollback", NULL, body, "rollback", &rp) == 0) {
		after_operation(r, c, rp.body);
		if (r->out->facts)
			json_object_set_new(r->out->facts, "rollback_id", json_integer(id));
	} else {
		fail_with(r, xstrdup(rp.error));
	}
	argocd_reply_release(&rp);
	json_decref(body);
}

static void op_refresh(struct argocd_run *r, const struct argocd_cfg *c)
{
	char *q = xasprintf("refresh=%s", c->mode);
	struct argocd_reply rp;
	if (app_call(r, c, "GET", NULL, q, NULL, "refresh", &rp) == 0) {
		json_t *f = argocd_app_facts(rp.body);
		json_object_set_new(f, "refreshed", json_string(c->mode));
		argocd_set_ok(f, 1, NULL); /* refreshed; judge the state with expect: */
		json_object_del(f, "summary");
		r->out->facts = f;
	} else {
		fail_with(r, xstrdup(rp.error));
	}
	argocd_reply_release(&rp);
	free(q);
}

static void op_terminate(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct argocd_reply rp;
	if (app_call(r, c, "DELETE", "/operation", NULL, NULL, "terminate the operation of", &rp) ==
	    0) {
		json_t *f = json_pack("{s:s,s:b}", "name", c->name, "terminated", 1);
		argocd_set_ok(f, 1, NULL);
		r->out->facts = f;
	} else {
		fail_with(r, xstrdup(rp.error));
	}
	argocd_reply_release(&rp);
}

static void op_resource_action(struct argocd_run *r, const struct argocd_cfg *c)
{
	struct buf q;
	buf_init(&q, 0);
	const char *keys[][2] = {{"kind", c->kind},
	                         {"resourceName", c->resource_name},
	                         {"namespace", c->nspace},
	                         {"group", c->group}};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!keys[i][1])
			continue;
		char *e = argocd_escape(keys[i][1]);
		buf_addf(&q, "%s%s=%s", q.len ? "&" : "", keys[i][0], e);
		free(e);
	}
	json_t *body = json_string(c->action);
	struct argocd_reply rp;
	char *what = xasprintf("%s %s/%s in", c->action, c->kind, c->resource_name);
	if (app_call(r, c, "POST", "/resource/actions", buf_str(&q), body, what, &rp) == 0) {
		json_t *f =
		    json_pack("{s:s,s:s,s:s,s:s,s:b}", "name", c->name, "action", c->action, "kind",
		              c->kind, "resource_name", c->resource_name, "done", 1);
		argocd_set_ok(f, 1, NULL);
		r->out->facts = f;
	} else {
		fail_with(r, xstrdup(rp.error));
	}
	argocd_reply_release(&rp);
	json_decref(body);
	free(what);
	buf_release(&q);
}

static void argocd_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	struct argocd_cfg *c = priv;
	struct argocd_conn *cn = ctx_module_state(ctx);
	if (!cn)
		cn = c->cn;
	struct argocd_run r = {.cn = cn, .ctx = ctx, .out = out};
	if (!cn || cn->error) {
		fail_with(&r, xstrdup(cn ? cn->error : "the argocd module has no connection"));
		return;
	}
	if (cn->insecure)
		out->insecure = 1;
	switch (c->op) {
	case OP_APP:
		op_app(&r, c);
		break;
	case OP_APPS:
		op_apps(&r, c);
		break;
	case OP_TREE:
		op_simple(&r, c, "/resource-tree", "resource tree of", argocd_tree_facts);
		break;
	case OP_MANAGED:
		op_simple(&r, c, "/managed-resources", "managed resources of",
		          argocd_managed_facts);
		break;
	case OP_EVENTS:
		op_simple(&r, c, "/events", "events of", argocd_events_facts);
		break;
	case OP_PROJECT:
		op_project(&r, c);
		break;
	case OP_REPOS:
		op_list_of(&r, c, "/api/v1/repositories", "list repositories", argocd_repos_facts);
		break;
	case OP_CLUSTERS:
		op_list_of(&r, c, "/api/v1/clusters", "list clusters", argocd_clusters_facts);
		break;
	case OP_VERSION:
		op_version(&r);
		break;
	case OP_SETTINGS:
		op_settings(&r);
		break;
	case OP_SESSION:
		op_session(&r);
		break;
	case OP_CANI:
		op_cani(&r, c);
		break;
	case OP_LOGS:
		op_logs(&r, c);
		break;
	case OP_WAIT:
		argocd_wait(&r, &c->ws);
		break;
	case OP_SYNC:
		op_sync(&r, c);
		break;
	case OP_ROLLBACK:
		op_rollback(&r, c);
		break;
	case OP_REFRESH:
		if (c->load)
			op_refresh_load(&r, c);
		else
			op_refresh(&r, c);
		break;
	case OP_TERMINATE:
		op_terminate(&r, c);
		break;
	case OP_RESOURCE_ACTION:
		op_resource_action(&r, c);
		break;
	default:
		fail_with(&r, xstrdup("unknown argocd operation"));
		break;
	}
	if (out->forced == CHECK_ERROR && out->facts) {
		json_decref(out->facts);
		out->facts = NULL;
	}
}

const struct check_module check_argocd = {
    .name = "argocd",
    .summary = "Argo CD API: app, apps, resource_tree, managed_resources, project, repos, "
               "clusters, version, settings, session, can_i, events, logs, wait; sync, "
               "rollback, refresh, terminate_operation, resource_action",
    .api_version = CHECK_API_VERSION,
    .flags = CHECK_F_READONLY,
    .keys = argocd_keys,
    .default_expect = ".ok // .summary",
    .init = argocd_init,
    .fini = argocd_fini,
    .parse = argocd_parse,
    .run = argocd_run,
    .describe = argocd_describe,
    .changes_world = argocd_changes_world,
    .destructive = argocd_destructive,
    .free = argocd_free,
};
