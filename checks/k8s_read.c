/* k8s_read.c - the k8s module's read-only operations: get, rollout and
 * health of one object, list, can-i, events, logs, restarts and nodes.
 * Each fills the entry's facts with "ok" and "summary" (checks/k8s_ops.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_logs.h"
#include "k8s_ops.h"
#include "kube_rules.h"

#define K8S_LOG_TEXT_MAX (64 * 1024) /* log text kept in facts */
#define K8S_MATCHED_MAX 50           /* matching log lines kept in facts */

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
		k8s_fail(r, err);
		return NULL;
	}
	if (note)
		json_object_set_new(f, "health_note", json_string(note));
	return lua_health_of(lh, obj, msg, NULL);
}

void k8s_op_get(struct k8s_run *r, int mode)
{
	struct k8s_cfg *c = r->c;
	json_t *obj;
	if (k8s_target(r, c->type, c->api_version) != 0)
		return;
	if (!k8s_watch_cached(c->st->watches, &c->wsub, &obj) &&
	    k8s_get_object(r, r->res, r->ns, c->name, &obj) != 0)
		return;
	k8s_watch_note(&c->wsub, r->res, r->ns, c->name, NULL, obj);
	json_t *f = json_object();
	k8s_facts_ident(f, r->res, r->ns, c->name);
	char *label = k8s_label_of(r->res, r->ns, c->name);
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
		k8s_set_summary(f, obj != NULL,
		                obj ? xasprintf("%s exists", label)
		                    : xasprintf("%s does not exist", label));
	} else if (mode == OP_HEALTH) {
		char *hm = NULL;
		const char *h = obj ? health_of(r, obj, f, &hm) : "Missing";
		h = h ? h : "Unknown";
		json_object_set_new(f, "status", json_string(h));
		json_object_set_new(f, "message", json_string(hm ? hm : ""));
		k8s_set_summary(
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
		k8s_set_summary(f, done, xasprintf("rollout of %s: %s", label, msg ? msg : ""));
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

json_t *k8s_list_of(struct k8s_run *r, const struct k8s_res *res, const char *ns,
                    const char *labels, const char *fields)
{
	char *q = selector_query(labels, fields);
	char *path = k8s_path(res, ns, NULL, q);
	char *what = k8s_what("LIST", res, ns ? ns : "(all namespaces)", NULL);
	json_t *items = NULL;
	char *err = NULL;
	if (k8s_list_all(r->cl, r->ctx, what, path, r->c->limit, &items, &err) != 0)
		k8s_fail(r, err);
	free(what);
	free(path);
	free(q);
	return items;
}

void k8s_op_list(struct k8s_run *r)
{
	struct k8s_cfg *c = r->c;
	if (k8s_target(r, c->type, c->api_version) != 0)
		return;
	json_t *items = NULL;
	if (!k8s_watch_cached(c->st->watches, &c->wsub, &items))
		items = k8s_list_of(r, r->res, r->ns, c->selector, c->field_selector);
	if (!items)
		return;
	char *q = selector_query(c->selector, c->field_selector);
	k8s_watch_note(&c->wsub, r->res, r->ns, NULL, q, items);
	free(q);
	json_t *f = json_object();
	k8s_facts_ident(f, r->res, r->ns, NULL);
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
	k8s_set_summary(
	    f, n > 0,
	    n ? xasprintf("%zu %s found", n, r->res->plural)
	      : xasprintf("no %s found in %s%s%s", r->res->plural, r->ns ? r->ns : "any namespace",
	                  c->selector ? " matching " : "", c->selector ? c->selector : ""));
	r->out->facts = f;
}

void k8s_op_cani(struct k8s_run *r)
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
			k8s_fail(r, err);
			return;
		} else {
			free(err); /* an unknown type is asked about as written */
		}
	}
	const char *ns = c->all_ns || (res && !res->namespaced) ? NULL : k8s_default_ns(r);
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
	json_t *ans =
	    k8s_send_json(r, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
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
	k8s_set_summary(f, allowed,
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

void k8s_op_events(struct k8s_run *r)
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
			k8s_fail(r, err);
			buf_release(&fs);
			return;
		}
		buf_addf(&fs, "%sinvolvedObject.kind=%s", fs.len ? "," : "", res->kind);
		if (c->name)
			buf_addf(&fs, ",involvedObject.name=%s", c->name);
	}
	if (k8s_target(r, "events", "v1") != 0) {
		buf_release(&fs);
		return;
	}
	json_t *items = k8s_list_of(r, r->res, r->ns, c->selector, fs.len ? buf_str(&fs) : NULL);
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
	k8s_set_summary(
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
	if (k8s_target(r, type, c->api_version) != 0)
		return -1;
	const struct k8s_res *res = r->res;
	if (strcmp(res->kind, "Pod") == 0) {
		if (!c->name) {
			*items = k8s_list_of(r, res, r->ns, c->selector, c->field_selector);
			return *items ? 0 : -1;
		}
		json_t *pod;
		if (k8s_get_object(r, res, r->ns, c->name, &pod) != 0)
			return -1;
		if (!pod) {
			char *l = k8s_label_of(res, r->ns, c->name);
			k8s_fail(r, xasprintf("%s does not exist", l));
			free(l);
			return -1;
		}
		*items = json_array();
		json_array_append_new(*items, pod);
		return 0;
	}
	if (!c->name) {
		k8s_fail(r, xasprintf("name the %s whose pods to read (%s/NAME)", res->singular,
		                      res->singular));
		return -1;
	}
	json_t *w;
	if (k8s_get_object(r, res, r->ns, c->name, &w) != 0)
		return -1;
	if (!w) {
		char *l = k8s_label_of(res, r->ns, c->name);
		k8s_fail(r, xasprintf("%s does not exist", l));
		free(l);
		return -1;
	}
	char *sel = k8s_selector_string(json_object_get(json_object_get(w, "spec"), "selector"));
	json_decref(w);
	if (!sel) {
		k8s_fail(r, xasprintf("%s/%s has no pod selector", res->singular, c->name));
		return -1;
	}
	const struct k8s_res *pods;
	char *err;
	if (k8s_resolve(r->cl, r->ctx, "pods", "v1", &pods, &err) != 0) {
		free(sel);
		k8s_fail(r, err);
		return -1;
	}
	*items = k8s_list_of(r, pods, r->ns, sel, NULL);
	free(sel);
	return *items ? 0 : -1;
}

const char *k8s_pod_name(json_t *pod)
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

void k8s_op_logs(struct k8s_run *r)
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
			k8s_fail(r, err);
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
		const char *pn = k8s_pod_name(pod);
		const char *cn = c->container ? c->container : default_container(pod);
		const char *ns = r->ns ? r->ns
		                       : json_string_value(json_object_get(
		                             json_object_get(pod, "metadata"), "namespace"));
		struct k8s_log lg;
		char *err = NULL;
		if (k8s_pod_log(r->cl, r->ctx, pres, ns, pn, cn, c->tail,
		                c->since_ms > 0 ? (c->since_ms + 999) / 1000 : 0, &lg, &err) != 0) {
			k8s_fail(r, err);
			goto out;
		}
		if (lg.waiting) {
			/* a pod of a workload that has not started yet is reported,
			 * not an error; a single pod named by the check is */
			if (one_pod) {
				k8s_fail(r, xstrdup(lg.waiting));
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
	k8s_set_summary(f, 1,
	                c->re ? xasprintf("%lld of %lld log lines match %s%s", matches, lines,
	                                  c->regex, note ? note : "")
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

void k8s_op_restarts(struct k8s_run *r)
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
					    "{s:s, s:s, s:I, s:b}", "pod", k8s_pod_name(pod),
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
	k8s_set_summary(
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

void k8s_op_nodes(struct k8s_run *r)
{
	if (k8s_target(r, "nodes", "v1") != 0)
		return;
	json_t *items = k8s_list_of(r, r->res, NULL, r->c->selector, r->c->field_selector);
	if (!items)
		return;
	json_t *nodes = json_array(), *not_ready = json_array();
	size_t i, ready = 0;
	json_t *n;
	json_array_foreach(items, i, n)
	{
		const char *name = k8s_pod_name(n);
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
	k8s_set_summary(
	    f, count > 0 && ready == count,
	    count == 0
	        ? xstrdup("no nodes found")
	        : xasprintf("%zu of %zu nodes ready%s%s", ready, count,
	                    ready < count ? ", not ready: " : "",
	                    ready < count ? json_string_value(json_array_get(not_ready, 0)) : ""));
	r->out->facts = f;
}
