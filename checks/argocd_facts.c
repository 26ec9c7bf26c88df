/* argocd_facts.c - shapes what Argo CD answers into the argocd module's
 * facts (documented in docs/modules/argocd.md): an application, a list of
 * them with counts, a resource tree, the diff of managed resources,
 * repositories, clusters, a project and events. Each set of facts carries
 * "ok" (the default expectation) and, when not ok, "summary". Bounded:
 * lists from the server are walked once; diffs stop at a depth and count. */
#include <stdlib.h>
#include <string.h>

#include "argocd.h"

#define DIFF_MAX_PATHS 100 /* changed paths kept per resource */
#define DIFF_MAX_DEPTH 32
#define SUMMARY_MAX_NAMES 10

const char *argocd_str(json_t *o, const char *path, const char *def)
{
	const char *p = path;
	while (o && *p) {
		size_t n = strcspn(p, ".");
		char key[128];
		if (n >= sizeof(key))
			return def;
		memcpy(key, p, n);
		key[n] = 0;
		o = json_object_get(o, key);
		p += n;
		if (*p == '.')
			p++;
	}
	return json_is_string(o) ? json_string_value(o) : def;
}

void argocd_set_ok(json_t *f, int ok, char *summary)
{
	json_object_set_new(f, "ok", json_boolean(ok));
	if (summary)
		json_object_set_new(f, "summary", json_string(summary));
	free(summary);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A list of names for a summary: "a, b, c and 4 more". */
static void add_name(struct buf *b, size_t *n, char *text)
{
	if (*n < SUMMARY_MAX_NAMES) {
		if (*n)
			buf_adds(b, ", ");
		buf_adds(b, text);
	}
	free(text);
	(*n)++;
}

static void end_names(struct buf *b, size_t n)
{
	if (n > SUMMARY_MAX_NAMES)
		buf_addf(b, " and %zu more", n - SUMMARY_MAX_NAMES);
}

/* ---- one application ----------------------------------------------------------- */

static int op_running(json_t *app)
{
	const char *ph = argocd_str(app, "status.operationState.phase", "");
	return json_object_get(app, "operation") != NULL || strcmp(ph, "Running") == 0 ||
	       strcmp(ph, "Terminating") == 0;
}

int argocd_app_ok(json_t *app)
{
	const char *ph = argocd_str(app, "status.operationState.phase", "");
	return strcmp(argocd_str(app, "status.health.status", ""), "Healthy") == 0 &&
	       strcmp(argocd_str(app, "status.sync.status", ""), "Synced") == 0 &&
	       !op_running(app) && strcmp(ph, "Failed") != 0 && strcmp(ph, "Error") != 0;
}

char *argocd_app_line(json_t *app)
{
	const char *rev = argocd_str(app, "status.sync.revision", "");
	struct buf b;
	buf_init(&b, 4096);
	buf_addf(&b, "%s, %s", argocd_str(app, "status.health.status", "Unknown"),
	         argocd_str(app, "status.sync.status", "Unknown"));
	if (*rev)
		buf_addf(&b, " at %.7s", rev);
	const char *ph = argocd_str(app, "status.operationState.phase", NULL);
	if (ph && strcmp(ph, "Succeeded") != 0) {
		const char *m = argocd_str(app, "status.operationState.message", "");
		buf_addf(&b, "; operation %s%s%s", ph, *m ? ": " : "", m);
	}
	const char *hm = argocd_str(app, "status.health.message", NULL);
	if (hm)
		buf_addf(&b, "; %s", hm);
	return buf_detach(&b);
}

json_t *argocd_app_facts(json_t *app)
{
	json_t *f = json_object();
	const char *name = argocd_str(app, "metadata.name", "");
	json_object_set_new(f, "name", json_string(name));
	json_object_set_new(f, "namespace", json_string(argocd_str(app, "metadata.namespace", "")));
	json_object_set_new(f, "project", json_string(argocd_str(app, "spec.project", "default")));
	json_object_set_new(f, "health",
	                    json_string(argocd_str(app, "status.health.status", "Unknown")));
	json_object_set_new(f, "health_message",
	                    str_or_null(argocd_str(app, "status.health.message", NULL)));
	json_object_set_new(f, "sync",
	                    json_string(argocd_str(app, "status.sync.status", "Unknown")));
	json_object_set_new(f, "revision",
	                    str_or_null(argocd_str(app, "status.sync.revision", NULL)));
	json_object_set_new(f, "repo", str_or_null(argocd_str(app, "spec.source.repoURL", NULL)));
	json_object_set_new(f, "target_revision",
	                    str_or_null(argocd_str(app, "spec.source.targetRevision", NULL)));
	json_object_set_new(f, "path", str_or_null(argocd_str(app, "spec.source.path", NULL)));
	json_object_set_new(
	    f, "destination",
	    json_pack("{s:o,s:o}", "server",
	              str_or_null(argocd_str(app, "spec.destination.server", NULL)), "namespace",
	              str_or_null(argocd_str(app, "spec.destination.namespace", NULL))));
	json_t *auto_ = json_object_get(json_object_get(json_object_get(app, "spec"), "syncPolicy"),
	                                "automated");
	json_object_set_new(f, "automated", json_boolean(auto_ != NULL));
	json_object_set_new(f, "reconciled_at",
	                    str_or_null(argocd_str(app, "status.reconciledAt", NULL)));

	json_t *st = json_object_get(json_object_get(app, "status"), "operationState");
	if (st) {
		json_t *rc = json_object_get(st, "retryCount");
		json_object_set_new(
		    f, "operation",
		    json_pack("{s:s,s:o,s:I,s:o,s:o,s:o,s:o}", "phase",
		              argocd_str(st, "phase", "Unknown"), "message",
		              str_or_null(argocd_str(st, "message", NULL)), "retry_count",
		              (json_int_t)(json_is_integer(rc) ? json_integer_value(rc) : 0),
		              "started_at", str_or_null(argocd_str(st, "startedAt", NULL)),
		              "finished_at", str_or_null(argocd_str(st, "finishedAt", NULL)),
		              "revision", str_or_null(argocd_str(st, "syncResult.revision", NULL)),
		              "initiated_by",
		              str_or_null(argocd_str(st, "operation.initiatedBy.username", NULL))));
	} else {
		json_object_set_new(f, "operation", json_null());
	}
	json_object_set_new(f, "operation_running", json_boolean(op_running(app)));

	json_t *conds = json_array();
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(json_object_get(app, "status"), "conditions"), i, it)
	{
		json_array_append_new(conds,
		                      json_pack("{s:s,s:s}", "type", argocd_str(it, "type", ""),
		                                "message", argocd_str(it, "message", "")));
	}
	json_object_set_new(f, "conditions", conds);

	json_t *res = json_array(), *unhealthy = json_array(), *oos = json_array();
	json_array_foreach(json_object_get(json_object_get(app, "status"), "resources"), i, it)
	{
		const char *h = argocd_str(it, "health.status", NULL);
		const char *s = argocd_str(it, "status", "Unknown");
		char *label =
		    xasprintf("%s/%s", argocd_str(it, "kind", ""), argocd_str(it, "name", ""));
		json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "group",
		                                     argocd_str(it, "group", ""), "kind",
		                                     argocd_str(it, "kind", ""), "namespace",
		                                     argocd_str(it, "namespace", ""), "name",
		                                     argocd_str(it, "name", ""), "health",
		                                     str_or_null(h), "sync", s));
		if (h && strcmp(h, "Healthy") != 0)
			json_array_append_new(
			    unhealthy,
			    json_pack("{s:s,s:s,s:o}", "resource", label, "health", h, "message",
			              str_or_null(argocd_str(it, "health.message", NULL))));
		if (strcmp(s, "Synced") != 0)
			json_array_append_new(oos, json_string(label));
		free(label);
	}
	json_object_set_new(f, "resources", res);
	json_object_set_new(f, "unhealthy_resources", unhealthy);
	json_object_set_new(f, "out_of_sync_resources", oos);

	json_t *hist = json_array();
	json_array_foreach(json_object_get(json_object_get(app, "status"), "history"), i, it)
	{
		json_t *id = json_object_get(it, "id");
		json_array_append_new(
		    hist, json_pack("{s:I,s:o,s:o,s:o}", "id",
		                    (json_int_t)(json_is_integer(id) ? json_integer_value(id) : 0),
		                    "revision", str_or_null(argocd_str(it, "revision", NULL)),
		                    "deployed_at", str_or_null(argocd_str(it, "deployedAt", NULL)),
		                    "initiated_by",
		                    str_or_null(argocd_str(it, "initiatedBy.username", NULL))));
	}
	json_object_set_new(f, "history", hist);

	int ok = argocd_app_ok(app);
	char *summary = NULL;
	if (!ok) {
		char *line = argocd_app_line(app);
		summary = xasprintf("application %s is %s", name, line);
		free(line);
	}
	argocd_set_ok(f, ok, summary);
	return f;
}

/* ---- lists --------------------------------------------------------------------- */

static void count_in(json_t *counts, const char *key)
{
	json_t *v = json_object_get(counts, key);
	json_object_set_new(counts, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

json_t *argocd_apps_facts(json_t *items)
{
	json_t *f = json_object(), *list = json_array(), *by_h = json_object(),
	       *by_s = json_object(), *not_ready = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t i, bad = 0;
	json_t *app;
	json_array_foreach(items, i, app)
	{
		const char *name = argocd_str(app, "metadata.name", "");
		const char *h = argocd_str(app, "status.health.status", "Unknown");
		const char *s = argocd_str(app, "status.sync.status", "Unknown");
		json_array_append_new(
		    list,
		    json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "name", name, "project",
		              argocd_str(app, "spec.project", "default"), "health", h, "sync", s,
		              "revision",
		              str_or_null(argocd_str(app, "status.sync.revision", NULL)),
		              "operation",
		              str_or_null(argocd_str(app, "status.operationState.phase", NULL))));
		count_in(by_h, h);
		count_in(by_s, s);
		if (!argocd_app_ok(app)) {
			char *line = argocd_app_line(app);
			json_array_append_new(not_ready,
			                      json_pack("{s:s,s:s}", "name", name, "state", line));
			add_name(&b, &bad, xasprintf("%s (%s)", name, line));
			free(line);
		}
	}
	end_names(&b, bad);
	json_object_set_new(f, "count", json_integer((json_int_t)json_array_size(items)));
	json_object_set_new(f, "items", list);
	json_object_set_new(f, "by_health", by_h);
	json_object_set_new(f, "by_sync", by_s);
	json_object_set_new(f, "not_ready", not_ready);
	char *summary = NULL;
	if (!json_array_size(items))
		summary = xstrdup("no application matches");
	else if (bad)
		summary = xasprintf("%zu of %zu applications are not Healthy and Synced: %s", bad,
		                    json_array_size(items), buf_str(&b));
	argocd_set_ok(f, json_array_size(items) && !bad, summary);
	buf_release(&b);
	return f;
}

json_t *argocd_tree_facts(json_t *tree)
{
	json_t *f = json_object(), *nodes = json_array(), *by_kind = json_object(),
	       *unhealthy = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t i, bad = 0;
	json_t *n;
	json_array_foreach(json_object_get(tree, "nodes"), i, n)
	{
		const char *kind = argocd_str(n, "kind", "");
		const char *h = argocd_str(n, "health.status", NULL);
		json_t *parents = json_object_get(n, "parentRefs");
		json_t *p0 = json_array_get(parents, 0);
		char *parent =
		    p0 ? xasprintf("%s/%s", argocd_str(p0, "kind", ""), argocd_str(p0, "name", ""))
		       : NULL;
		json_array_append_new(nodes,
		                      json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "group",
		                                argocd_str(n, "group", ""), "kind", kind,
		                                "namespace", argocd_str(n, "namespace", ""), "name",
		                                argocd_str(n, "name", ""), "health", str_or_null(h),
		                                "parent", str_or_null(parent)));
		free(parent);
		count_in(by_kind, kind);
		if (h && strcmp(h, "Healthy") != 0 && strcmp(h, "Suspended") != 0 &&
		    strcmp(h, "Progressing") != 0) {
			char *label = xasprintf("%s/%s", kind, argocd_str(n, "name", ""));
			json_array_append_new(
			    unhealthy,
			    json_pack("{s:s,s:s,s:o}", "resource", label, "health", h, "message",
			              str_or_null(argocd_str(n, "health.message", NULL))));
			add_name(&b, &bad, xasprintf("%s %s", label, h));
			free(label);
		}
	}
	end_names(&b, bad);
	json_object_set_new(f, "count", json_integer((json_int_t)json_array_size(nodes)));
	json_object_set_new(f, "nodes", nodes);
	json_object_set_new(f, "by_kind", by_kind);
	json_object_set_new(f, "unhealthy", unhealthy);
	json_object_set_new(
	    f, "orphaned",
	    json_integer((json_int_t)json_array_size(json_object_get(tree, "orphanedNodes"))));
	argocd_set_ok(f, bad == 0,
	              bad ? xasprintf("%zu unhealthy resources: %s", bad, buf_str(&b)) : NULL);
	buf_release(&b);
	return f;
}

/* ---- diffs of managed resources --------------------------------------------------- */

static void diff_paths(json_t *live, json_t *target, const char *prefix, int depth, json_t *out)
{
	if (json_array_size(out) >= DIFF_MAX_PATHS)
		return;
	if (json_equal(live, target))
		return;
	if (depth < DIFF_MAX_DEPTH && json_is_object(live) && json_is_object(target)) {
		const char *k;
		json_t *v;
		json_object_foreach(target, k, v)
		{
			char *p = xasprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			diff_paths(json_object_get(live, k), v, p, depth + 1, out);
			free(p);
		}
		json_object_foreach(live, k, v)
		{
			if (json_object_get(target, k) || json_array_size(out) >= DIFF_MAX_PATHS)
				continue;
			/* fields the server fills in are not drift */
			if (depth == 0 && (strcmp(k, "status") == 0 || strcmp(k, "metadata") == 0))
				continue;
			json_array_append_new(
			    out, json_sprintf("%s%s%s", prefix, *prefix ? "." : "", k));
		}
		return;
	}
	json_array_append_new(out, json_string(*prefix ? prefix : "."));
}

static json_t *state_of(json_t *item, const char *key)
{
	const char *s = json_string_value(json_object_get(item, key));
	if (!s)
		return NULL;
	json_error_t err;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
	if (json_is_null(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *argocd_managed_facts(json_t *managed)
{
	json_t *f = json_object(), *items = json_array(), *oos = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t i, bad = 0;
	json_t *it;
	json_array_foreach(json_object_get(managed, "items"), i, it)
	{
		json_t *live = state_of(it, "normalizedLiveState");
		if (!live)
			live = state_of(it, "liveState");
		json_t *target = state_of(it, "predictedLiveState");
		if (!target)
			target = state_of(it, "targetState");
		int modified = json_is_true(json_object_get(it, "modified"));
		json_t *changed = json_array();
		if (modified && live && target)
			diff_paths(live, target, "", 0, changed);
		const char *state = !live && target   ? "missing"
		                    : live && !target ? "extra"
		                                      : "present";
		char *label =
		    xasprintf("%s/%s", argocd_str(it, "kind", ""), argocd_str(it, "name", ""));
		json_t *row =
		    json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:O}", "group", argocd_str(it, "group", ""),
		              "kind", argocd_str(it, "kind", ""), "namespace",
		              argocd_str(it, "namespace", ""), "name", argocd_str(it, "name", ""),
		              "modified", modified, "state", state, "changed", changed);
		json_array_append_new(items, row);
		if (modified) {
			json_array_append(oos, row);
			char *paths = json_dumps(changed, JSON_COMPACT);
			add_name(&b, &bad,
			         xasprintf("%s %s", label, json_array_size(changed) ? paths : ""));
			free(paths);
		}
		free(label);
		json_decref(changed);
		json_decref(live);
		json_decref(target);
	}
	end_names(&b, bad);
	json_object_set_new(f, "count", json_integer((json_int_t)json_array_size(items)));
	json_object_set_new(f, "items", items);
	json_object_set_new(f, "out_of_sync", oos);
	argocd_set_ok(f, bad == 0,
	              bad ? xasprintf("%zu resources differ from git: %s", bad, buf_str(&b))
	                  : NULL);
	buf_release(&b);
	return f;
}

/* ---- repositories and clusters ------------------------------------------------------ */

static int wanted(const char *const *want, const char *a, const char *b)
{
	if (!want)
		return 1;
	for (size_t i = 0; want[i]; i++)
		if ((a && strcmp(want[i], a) == 0) || (b && strcmp(want[i], b) == 0))
			return 1;
	return 0;
}

/* Names in want that no item matched, as "a, b" (NULL when none). */
static char *missing_of(const char *const *want, json_t *rows, const char *ka, const char *kb)
{
	struct buf b;
	buf_init(&b, 4096);
	for (size_t i = 0; want && want[i]; i++) {
		int found = 0;
		size_t j;
		json_t *r;
		json_array_foreach(rows, j, r)
		{
			const char *a = argocd_str(r, ka, NULL), *c = argocd_str(r, kb, NULL);
			if ((a && strcmp(a, want[i]) == 0) || (c && strcmp(c, want[i]) == 0))
				found = 1;
		}
		if (!found)
			buf_addf(&b, "%s%s", b.len ? ", " : "", want[i]);
	}
	return b.len ? buf_detach(&b) : (buf_release(&b), NULL);
}

/* One repository as a row: {repo, name, type, project, status, message}. */
static json_t *repo_row(json_t *it)
{
	return json_pack("{s:s,s:o,s:s,s:s,s:s,s:s}", "repo", argocd_str(it, "repo", ""), "name",
	                 str_or_null(argocd_str(it, "name", NULL)), "type",
	                 argocd_str(it, "type", "git"), "project", argocd_str(it, "project", ""),
	                 "status", argocd_str(it, "connectionState.status", "Unknown"), "message",
	                 argocd_str(it, "connectionState.message", ""));
}

/* One cluster as a row; info.connectionState is current, the top-level
 * connectionState and serverVersion are deprecated fallbacks. */
static json_t *cluster_row(json_t *it)
{
	json_t *info = json_object_get(it, "info");
	json_t *count = json_object_get(info, "applicationsCount");
	return json_pack(
	    "{s:s,s:o,s:s,s:s,s:o,s:I}", "server", argocd_str(it, "server", ""), "name",
	    str_or_null(argocd_str(it, "name", NULL)), "status",
	    argocd_str(info, "connectionState.status",
	               argocd_str(it, "connectionState.status", "Unknown")),
	    "message", argocd_str(info, "connectionState.message", ""), "server_version",
	    str_or_null(argocd_str(info, "serverVersion", argocd_str(it, "serverVersion", NULL))),
	    "applications_count",
	    (json_int_t)(json_is_integer(count) ? json_integer_value(count) : 0));
}

/* What repositories and clusters share: rows by a key (and name), the
 * wanted ones, those not Successful. */
struct conn_kind {
	json_t *(*row)(json_t *it);
	const char *key;    /* "repo" or "server": what failed lists */
	const char *plural; /* for messages */
	const char *bad;    /* "cannot be reached" */
};

static json_t *connection_facts(json_t *items, const char *const *want, char **missing,
                                const struct conn_kind *k)
{
	json_t *f = json_object(), *rows = json_array(), *failed = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t i, bad = 0;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		json_t *row = k->row(it);
		const char *id = argocd_str(row, k->key, ""), *name = argocd_str(row, "name", NULL);
		if (!wanted(want, id, name)) {
			json_decref(row);
			continue;
		}
		const char *st = argocd_str(row, "status", "Unknown");
		const char *msg = argocd_str(row, "message", "");
		if (strcmp(st, "Successful") != 0) {
			json_array_append_new(failed, json_string(id));
			add_name(&b, &bad,
			         xasprintf("%s%s%s (%s)", name ? name : "", name ? " " : "", id,
			                   *msg ? msg : st));
		}
		json_array_append_new(rows, row);
	}
	end_names(&b, bad);
	*missing = missing_of(want, rows, k->key, "name");
	size_t n = json_array_size(rows);
	json_object_set_new(f, "count", json_integer((json_int_t)n));
	json_object_set_new(f, "items", rows);
	json_object_set_new(f, "failed", failed);
	argocd_set_ok(f, bad == 0 && n,
	              bad  ? xasprintf("%zu %s %s: %s", bad, k->plural, k->bad, buf_str(&b))
	              : !n ? xasprintf("no %s configured", k->plural)
	                   : NULL);
	buf_release(&b);
	return f;
}

json_t *argocd_repos_facts(json_t *items, const char *const *want, char **missing)
{
	static const struct conn_kind k = {repo_row, "repo", "repositories", "cannot be reached"};
	return connection_facts(items, want, missing, &k);
}

json_t *argocd_clusters_facts(json_t *items, const char *const *want, char **missing)
{
	static const struct conn_kind k = {cluster_row, "server", "clusters", "are not connected"};
	return connection_facts(items, want, missing, &k);
}

json_t *argocd_project_facts(json_t *proj)
{
	json_t *f = json_object(), *repos = json_array(), *dests = json_array(),
	       *roles = json_array();
	json_t *spec = json_object_get(proj, "spec");
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(spec, "sourceRepos"), i, it)
	    json_array_append(repos, it);
	json_array_foreach(json_object_get(spec, "destinations"), i, it) json_array_append_new(
	    dests, json_pack("{s:s,s:s}", "server", argocd_str(it, "server", ""), "namespace",
	                     argocd_str(it, "namespace", "")));
	json_array_foreach(json_object_get(spec, "roles"), i, it)
	    json_array_append_new(roles, json_string(argocd_str(it, "name", "")));
	json_object_set_new(f, "name", json_string(argocd_str(proj, "metadata.name", "")));
	json_object_set_new(f, "description", str_or_null(argocd_str(spec, "description", NULL)));
	json_object_set_new(f, "source_repos", repos);
	json_object_set_new(f, "destinations", dests);
	json_object_set_new(f, "roles", roles);
	argocd_set_ok(f, 1, NULL);
	return f;
}

json_t *argocd_events_facts(json_t *list)
{
	json_t *f = json_object(), *rows = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t i, warn = 0;
	json_t *ev;
	json_array_foreach(json_object_get(list, "items"), i, ev)
	{
		const char *type = argocd_str(ev, "type", "Normal");
		const char *reason = argocd_str(ev, "reason", "");
		const char *msg = argocd_str(ev, "message", "");
		json_t *count = json_object_get(ev, "count");
		json_array_append_new(
		    rows,
		    json_pack("{s:s,s:s,s:s,s:I,s:o}", "type", type, "reason", reason, "message",
		              msg, "count",
		              (json_int_t)(json_is_integer(count) ? json_integer_value(count) : 1),
		              "last_seen", str_or_null(argocd_str(ev, "lastTimestamp", NULL))));
		if (strcmp(type, "Warning") == 0)
			add_name(&b, &warn, xasprintf("%s: %s", reason, msg));
	}
	end_names(&b, warn);
	json_object_set_new(f, "count", json_integer((json_int_t)json_array_size(rows)));
	json_object_set_new(f, "warnings", json_integer((json_int_t)warn));
	json_object_set_new(f, "items", rows);
	argocd_set_ok(f, warn == 0,
	              warn ? xasprintf("%zu warning events: %s", warn, buf_str(&b)) : NULL);
	buf_release(&b);
	return f;
}
