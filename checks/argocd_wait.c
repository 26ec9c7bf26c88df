/* argocd_wait.c - waits with the rules of `argocd app wait`, over Argo CD's
 * watch stream (GET /api/v1/stream/applications): one list to learn the
 * applications and their state, then one stream connection for all of
 * them, reopened when it breaks, until every application is ready, one
 * fails fast, or the check deadline passes. The rules, from the CLI
 * (cmd/argocd/commands/app.go), are written down in docs/modules/argocd.md:
 *
 * - ready: the health flags are OR'ed (health = Healthy, suspended =
 *   Suspended, degraded = Degraded); sync needs Synced; operation needs no
 *   operation on the app (app.operation absent). With resources selected,
 *   every selected resource must be ready instead of the app as a whole.
 * - an operation is in progress while app.operation is set, while
 *   status.operationState has no finishedAt, and (not for dry runs) until
 *   the controller reconciled once after it finished (reconciledAt before
 *   finishedAt). Done = ready and (no operation in progress or the
 *   operation flag is off).
 * - with health, a resource turning Degraded from anything but Unknown or
 *   Degraded ends the wait at once as failed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "argocd.h"

#define WAIT_MAX_RECONNECTS 20
#define WAIT_MAX_APPS 100000

struct tracked {
	char *name;   /* owned */
	json_t *app;  /* owned: the latest state, NULL while unseen or deleted */
	json_t *prev; /* owned: resource key -> last health seen */
	int done;     /* meets the spec */
};

struct waiter {
	struct argocd_run *r;
	const struct argocd_wait_spec *w;
	struct tracked *apps;
	size_t n, alloc;
	int fixed; /* names were given: no others are tracked */
	size_t done;
	long long events;
	char *fail;         /* owned: why the wait failed at once */
	char *stream_error; /* owned: an error line of the stream */
};

static double rfc3339(const char *s)
{
	if (!s)
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return 0;
	return (double)timegm(&tm);
}

static int flag_health_ok(const struct argocd_wait_spec *w, const char *h)
{
	int any = w->health || w->suspended || w->degraded;
	if (!any)
		return 1;
	return (w->health && strcmp(h, "Healthy") == 0) ||
	       (w->suspended && strcmp(h, "Suspended") == 0) ||
	       (w->degraded && strcmp(h, "Degraded") == 0);
}

static int status_ok(const struct argocd_wait_spec *w, const char *health, const char *sync,
                     json_t *operation)
{
	return flag_health_ok(w, health) && (!w->sync || strcmp(sync, "Synced") == 0) &&
	       (!w->operation || !operation);
}

static int operation_in_progress(json_t *app)
{
	if (json_object_get(app, "operation"))
		return 1;
	json_t *st = json_object_get(json_object_get(app, "status"), "operationState");
	if (!st)
		return 0;
	const char *fin = argocd_str(st, "finishedAt", NULL);
	if (!fin)
		return 1;
	json_t *dry =
	    json_object_get(json_object_get(json_object_get(st, "operation"), "sync"), "dryRun");
	if (json_is_true(dry))
		return 0;
	const char *rec = argocd_str(app, "status.reconciledAt", NULL);
	return !rec || rfc3339(rec) < rfc3339(fin);
}

/* GROUP:KIND:NAME matching, "!" excluding (the CLI's --resource). */
static int resource_selected(const struct argocd_wait_spec *w, json_t *res)
{
	int includes = 0, hit = 0;
	for (size_t i = 0; w->resources && w->resources[i]; i++) {
		const char *s = w->resources[i];
		int ex = s[0] == '!';
		if (ex)
			s++;
		else
			includes++;
		char *want = xasprintf("%s:%s:%s", argocd_str(res, "group", ""),
		                       argocd_str(res, "kind", ""), argocd_str(res, "name", ""));
		int m = strcmp(want, s) == 0;
		free(want);
		if (m && ex)
			return 0;
		if (m)
			hit = 1;
	}
	return includes == 0 || hit;
}

static int app_ready(const struct argocd_wait_spec *w, json_t *app)
{
	json_t *op = json_object_get(app, "operation");
	int ready;
	if (w->resources) {
		ready = 1;
		size_t i;
		json_t *res;
		json_array_foreach(json_object_get(json_object_get(app, "status"), "resources"), i,
		                   res)
		{
			if (!resource_selected(w, res))
				continue;
			if (!status_ok(w, argocd_str(res, "health.status", ""),
			               argocd_str(res, "status", ""), op)) {
				ready = 0;
				break;
			}
		}
	} else {
		ready = status_ok(w, argocd_str(app, "status.health.status", ""),
		                  argocd_str(app, "status.sync.status", ""), op);
	}
	return ready && (!operation_in_progress(app) || !w->operation);
}

static struct tracked *find(struct waiter *wt, const char *name)
{
	for (size_t i = 0; i < wt->n; i++)
		if (strcmp(wt->apps[i].name, name) == 0)
			return &wt->apps[i];
	return NULL;
}

static struct tracked *add(struct waiter *wt, const char *name)
{
	if (wt->n == wt->alloc) {
		wt->alloc = wt->alloc ? wt->alloc * 2 : 16;
		wt->apps = xrealloc(wt->apps, wt->alloc * sizeof(*wt->apps));
	}
	struct tracked *t = &wt->apps[wt->n++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(name);
	t->prev = json_object();
	return t;
}

static int in_scope(struct waiter *wt, json_t *app)
{
	const char *proj = wt->w->project;
	return !proj || strcmp(argocd_str(app, "spec.project", "default"), proj) == 0;
}

/* A new state of one application: readiness and the fast-fail rule. */
static void observe(struct waiter *wt, json_t *app, const char *type)
{
	const char *name = argocd_str(app, "metadata.name", NULL);
	if (!name)
		return;
	struct tracked *t = find(wt, name);
	if (!t) {
		if (wt->fixed || !in_scope(wt, app) || wt->n >= WAIT_MAX_APPS)
			return;
		t = add(wt, name);
	}
	if (t->done)
		wt->done--;
	t->done = 0;
	json_decref(t->app);
	t->app = NULL;
	if (type && strcmp(type, "DELETED") == 0)
		return;
	t->app = json_incref(app);

	if (wt->w->health) {
		size_t i;
		json_t *res;
		json_array_foreach(json_object_get(json_object_get(app, "status"), "resources"), i,
		                   res)
		{
			if (wt->w->resources && !resource_selected(wt->w, res))
				continue;
			const char *h = argocd_str(res, "health.status", NULL);
			if (!h)
				continue;
			char *key =
			    xasprintf("%s/%s/%s/%s", argocd_str(res, "group", ""),
			              argocd_str(res, "kind", ""), argocd_str(res, "namespace", ""),
			              argocd_str(res, "name", ""));
			const char *was = json_string_value(json_object_get(t->prev, key));
			if (was && strcmp(was, "Unknown") != 0 && strcmp(was, "Degraded") != 0 &&
			    strcmp(h, "Degraded") == 0 && !wt->fail)
				wt->fail =
				    xasprintf("application '%s' health state has transitioned from "
				              "%s to %s (%s/%s%s%s)",
				              name, was, h, argocd_str(res, "kind", ""),
				              argocd_str(res, "name", ""),
				              argocd_str(res, "health.message", NULL) ? ": " : "",
				              argocd_str(res, "health.message", ""));
			json_object_set_new(t->prev, key, json_string(h));
			free(key);
		}
	}
	if (wt->w->op_must_succeed && !operation_in_progress(app)) {
		const char *ph = argocd_str(app, "status.operationState.phase", "");
		if ((strcmp(ph, "Failed") == 0 || strcmp(ph, "Error") == 0) && !wt->fail)
			wt->fail =
			    xasprintf("the operation on '%s' completed with phase %s: %s", name, ph,
			              argocd_str(app, "status.operationState.message", ""));
	}
	if (app_ready(wt->w, app)) {
		t->done = 1;
		wt->done++;
	}
}

static int all_done(struct waiter *wt)
{
	return wt->fail || (wt->n > 0 && wt->done == wt->n);
}

static int on_line(void *arg, const char *line, size_t len)
{
	struct waiter *wt = arg;
	json_error_t err;
	json_t *j = json_loadb(line, len, 0, &err);
	if (!j)
		return 0; /* not an event: ignore, as a line-oriented reader does */
	json_t *res = json_object_get(j, "result");
	json_t *e = json_object_get(j, "error");
	if (e && !res) {
		free(wt->stream_error);
		wt->stream_error = xasprintf("the watch stream reported an error: %s",
		                             argocd_str(e, "message", "(no message)"));
		json_decref(j);
		return 1;
	}
	json_t *app = json_object_get(res, "application");
	if (app) {
		wt->events++;
		observe(wt, app, argocd_str(res, "type", NULL));
	}
	json_decref(j);
	return all_done(wt);
}

static char *stream_path(const struct argocd_wait_spec *w)
{
	struct buf b;
	buf_init(&b, 0);
	buf_adds(&b, "/api/v1/stream/applications");
	char sep = '?';
	if (w->names && w->names[0] && !w->names[1]) {
		char *e = argocd_escape(w->names[0]);
		buf_addf(&b, "%cname=%s", sep, e);
		free(e);
		sep = '&';
	}
	if (w->selector) {
		char *e = argocd_escape(w->selector);
		buf_addf(&b, "%cselector=%s", sep, e);
		free(e);
		sep = '&';
	}
	if (w->project) {
		char *e = argocd_escape(w->project);
		buf_addf(&b, "%cprojects=%s", sep, e);
		free(e);
	}
	return buf_detach(&b);
}

static json_t *wait_facts(struct waiter *wt, long long connections, long long reconnects,
                          long long requests, long long started)
{
	json_t *f = json_object(), *apps = json_array(), *waiting = json_array();
	struct buf b;
	buf_init(&b, 4096);
	size_t shown = 0;
	for (size_t i = 0; i < wt->n; i++) {
		struct tracked *t = &wt->apps[i];
		json_t *a = t->app;
		json_array_append_new(
		    apps,
		    json_pack("{s:s,s:s,s:s,s:o,s:b,s:b}", "name", t->name, "health",
		              argocd_str(a, "status.health.status", a ? "Unknown" : "Missing"),
		              "sync", argocd_str(a, "status.sync.status", "Unknown"), "operation",
		              argocd_str(a, "status.operationState.phase", NULL)
		                  ? json_string(argocd_str(a, "status.operationState.phase", ""))
		                  : json_null(),
		              "operation_in_progress", a && operation_in_progress(a), "ready",
		              t->done));
		if (!t->done) {
			json_array_append_new(waiting, json_string(t->name));
			if (shown++ < 10) {
				char *line = a ? argocd_app_line(a) : xstrdup("deleted");
				buf_addf(&b, "%s%s (%s%s)", shown > 1 ? ", " : "", t->name, line,
				         a && operation_in_progress(a) ? "; operation in progress"
				                                       : "");
				free(line);
			}
		}
	}
	if (shown > 10)
		buf_addf(&b, " and %zu more", shown - 10);
	json_object_set_new(f, "apps", apps);
	json_object_set_new(f, "count", json_integer((json_int_t)wt->n));
	json_object_set_new(f, "ready", json_integer((json_int_t)wt->done));
	json_object_set_new(f, "waiting", waiting);
	json_object_set_new(f, "events", json_integer(wt->events));
	json_object_set_new(f, "connections", json_integer(connections));
	json_object_set_new(f, "reconnects", json_integer(reconnects));
	json_object_set_new(f, "requests", json_integer(requests));
	json_object_set_new(f, "elapsed_ms", json_integer(now_mono_ms() - started));
	json_object_set_new(f, "failed_fast", wt->fail ? json_string(wt->fail) : json_null());
	char *summary = NULL;
	if (wt->fail)
		summary = xstrdup(wt->fail);
	else if (!wt->n)
		summary = xstrdup("no application matches");
	else if (wt->done < wt->n)
		summary = xasprintf("%zu of %zu applications not ready when the wait ended: %s",
		                    wt->n - wt->done, wt->n, buf_str(&b));
	argocd_set_ok(f, !wt->fail && wt->n && wt->done == wt->n, summary);
	buf_release(&b);
	return f;
}

void argocd_wait(struct argocd_run *r, const struct argocd_wait_spec *w)
{
	struct waiter wt = {.r = r, .w = w, .fixed = w->names != NULL};
	long long started = now_mono_ms(), requests0 = r->requests;
	long long connections = 0, reconnects = 0;
	for (size_t i = 0; w->names && w->names[i]; i++)
		if (!find(&wt, w->names[i]))
			add(&wt, w->names[i]);

	/* One list: which applications, and where each stands now (the CLI
	 * exits at once when they already match). */
	struct buf q;
	buf_init(&q, 0);
	buf_adds(&q, "/api/v1/applications");
	char *sp = stream_path(w);
	const char *qs = strchr(sp, '?');
	buf_adds(&q, qs ? qs : "");
	struct argocd_reply rp;
	int rc = argocd_call(r, "GET", buf_str(&q), NULL, "list applications", &rp);
	buf_release(&q);
	if (rc != 0) {
		r->out->forced = CHECK_ERROR;
		r->out->error = xstrdup(rp.error);
		argocd_reply_release(&rp);
		goto out;
	}
	size_t i;
	json_t *app;
	json_array_foreach(json_object_get(rp.body, "items"), i, app) observe(&wt, app, "ADDED");
	argocd_reply_release(&rp);
	for (i = 0; i < wt.n; i++) {
		if (wt.apps[i].app)
			continue;
		char *near = argocd_suggest_app(r, wt.apps[i].name);
		r->out->forced = CHECK_ERROR;
		r->out->error =
		    xasprintf("application '%s' not found%s%s%s", wt.apps[i].name,
		              near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		free(near);
		goto out;
	}

	while (!all_done(&wt) && wt.n > 0 && !ctx_cancelled(r->ctx) &&
	       ctx_remaining_ms(r->ctx) > 0) {
		if (connections > 0) {
			if (reconnects >= WAIT_MAX_RECONNECTS)
				break;
			reconnects++;
			usleep(200 * 1000); /* the CLI's watch retries after a pause too */
		}
		connections++;
		rc = argocd_stream(r, sp, "watch applications", on_line, &wt, &rp);
		if (wt.stream_error) {
			r->out->forced = CHECK_ERROR;
			r->out->error = xstrdup(wt.stream_error);
			argocd_reply_release(&rp);
			goto out;
		}
		if (rc != 0 && rp.status >= 400) {
			/* refused (401/403/404): waiting longer cannot help */
			r->out->forced = CHECK_ERROR;
			r->out->error = xstrdup(rp.error);
			argocd_reply_release(&rp);
			goto out;
		}
		argocd_reply_release(&rp);
	}
	r->out->facts = wait_facts(&wt, connections, reconnects, r->requests - requests0, started);
	if (wt.fail)
		r->out->final = 1;
out:
	free(sp);
	for (i = 0; i < wt.n; i++) {
		free(wt.apps[i].name);
		json_decref(wt.apps[i].app);
		json_decref(wt.apps[i].prev);
	}
	free(wt.apps);
	free(wt.fail);
	free(wt.stream_error);
}
