/* k8s_watch.c - the watches behind eventually: waits on Kubernetes objects
 * (see k8s_watch.h): the watched collections, the thread keeping each one
 * (list, watch, resume, relist on 410, give up on 403 or repeated
 * failures), the reader of the event stream, and the waits of the checks.
 * The watcher threads' requests carry free-standing contexts (module.h):
 * their deadlines are the requests' own, and they stop on SIGINT/SIGTERM. */
#include "k8s_watch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LIST_TIMEOUT_MS 60000
#define BACKOFF_MAX_MS 5000
#define WAIT_SLICE_MS 500 /* a waiter looks at cancellation this often */

/* A check waiting on a collection: woken only by a change of the object it
 * reads (or, for a list, of any), a fresh list, or the watch failing, so a
 * thousand waiters are not all woken by every event. */
struct waiter {
	char *key; /* "namespace/name", NULL for a list */
	pthread_cond_t cv;
	struct waiter *next;
};

/* One watched collection. The stream reader's fields belong to the
 * watcher thread; everything else is guarded by the hub's lock. */
struct k8s_wcoll {
	struct k8s_watches *hub;
	char *path;        /* the collection's URL path with selectors: the key */
	char *av, *kind;   /* given to list items, which come without them */
	json_t *objects;   /* "namespace/name" -> object */
	char *rv;          /* where the next watch starts */
	int synced;        /* objects are a list plus every event after it */
	int failed;        /* watching is not possible: the waiters poll */
	char *why;         /* why it failed (kept for debugging) */
	unsigned failures; /* in a row */
	unsigned requests; /* lists and watches sent */
	int waiters;
	long long idle_since; /* monotonic ms when the last waiter left */
	int running, joinable;
	pthread_t thread;
	pthread_cond_t cv; /* the watcher's pauses end early: the run ends, the thread ended */
	struct waiter *waitlist; /* the checks waiting now */
	/* the stream (watcher thread only) */
	struct k8s_watch_reader rd;
	int expired;        /* the server said the version is too old (410) */
	int fatal;          /* the stream broke a bound: do not try again */
	char *stream_error; /* why the stream was stopped */
	unsigned events;    /* events applied from the current stream */
};

struct k8s_watches {
	struct k8s_client *cl;    /* borrowed */
	struct check_ctx *sigctx; /* owned: tells when the run is interrupted */
	pthread_mutex_t lock;
	struct k8s_wcoll *c[K8S_WATCH_MAX_COLLECTIONS];
	size_t n;
	int stopping;
};

enum outcome {
	O_OK,      /* listed, or a stream ended as streams do */
	O_EXPIRED, /* the version is gone: list again */
	O_ERROR,   /* try again after a pause */
	O_FATAL,   /* forbidden, or past a bound: the waiters poll */
};

/* ---- objects ------------------------------------------------------------- */

static const char *obj_rv(const json_t *obj)
{
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	return rv ? rv : "";
}

/* "namespace/name" ("/name" for cluster-scoped objects), NULL without a
 * name. */
static char *obj_key(const json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *ns = json_string_value(json_object_get(m, "namespace"));
	return name ? xasprintf("%s/%s", ns ? ns : "", name) : NULL;
}

static char *sub_key(const struct k8s_watch_sub *s)
{
	return xasprintf("%s/%s", s->res->namespaced && s->ns ? s->ns : "", s->name);
}

/* FNV-1a of "key\0rv" */
static uint64_t pair_hash(const char *key, const char *rv)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)key;; p++) {
		h = (h ^ *p) * 1099511628211ULL;
		if (!*p)
			break;
	}
	for (const unsigned char *p = (const unsigned char *)rv; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

/* A list's digest: its size and the sum of its (key, resourceVersion)
 * hashes, the same whatever the order of the items. */
static char *digest(const json_t *items)
{
	uint64_t sum = 0;
	size_t n = 0, i;
	const char *k;
	json_t *it;
	if (json_is_array(items)) {
		json_array_foreach(items, i, it)
		{
			char *key = obj_key(it);
			sum += pair_hash(key ? key : "", obj_rv(it));
			free(key);
			n++;
		}
	} else {
		json_object_foreach((json_t *)items, k, it)
		{
			sum += pair_hash(k, obj_rv(it));
			n++;
		}
	}
	return xasprintf("%zu:%016llx", n, (unsigned long long)sum);
}

/* What the sub's attempt would read in the watch's copy, as a seen value. */
static char *current(struct k8s_wcoll *co, const struct k8s_watch_sub *s)
{
	if (!s->name)
		return digest(co->objects);
	char *key = sub_key(s);
	json_t *o = json_object_get(co->objects, key);
	free(key);
	return xstrdup(o ? obj_rv(o) : "");
}

/* ---- subs ------------------------------------------------------------------ */

void k8s_watch_note(struct k8s_watch_sub *s, const struct k8s_res *res, const char *ns,
                    const char *name, const char *query, const json_t *obj)
{
	s->res = res;
	s->ns = ns;
	s->name = name;
	free(s->query);
	s->query = query && *query ? xstrdup(query) : NULL;
	free(s->seen);
	s->seen = name ? xstrdup(obj ? obj_rv(obj) : "") : digest(obj);
}

void k8s_watch_forget(struct k8s_watch_sub *s)
{
	s->res = NULL;
	s->fresh = 0;
}

void k8s_watch_sub_release(struct k8s_watch_sub *s)
{
	free(s->query);
	free(s->seen);
	memset(s, 0, sizeof(*s));
}

/* ---- the hub ---------------------------------------------------------------- */

struct k8s_watches *k8s_watches_new(struct k8s_client *cl)
{
	struct k8s_watches *w = xcalloc(1, sizeof(*w));
	w->cl = cl;
	w->sigctx = ctx_new_for_test(NULL, 1, NULL, NULL);
	pthread_mutex_init(&w->lock, NULL);
	return w;
}

static void cond_init_mono(pthread_cond_t *cv)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

/* Under the hub's lock: waits on cv until until_ms (monotonic) at most. */
static void cv_wait_until(struct k8s_watches *w, pthread_cond_t *cv, long long until_ms)
{
	struct timespec ts = {.tv_sec = until_ms / 1000, .tv_nsec = (until_ms % 1000) * 1000000L};
	pthread_cond_timedwait(cv, &w->lock, &ts);
}

/* Under the lock: wakes the waiters on key (every one for NULL) and those
 * waiting on the whole list. */
static void wake(struct k8s_wcoll *co, const char *key)
{
	for (struct waiter *q = co->waitlist; q; q = q->next)
		if (!key || !q->key || strcmp(q->key, key) == 0)
			pthread_cond_signal(&q->cv);
}

/* The collection a sub reads, made on first use; NULL past the bound. */
static struct k8s_wcoll *coll_get(struct k8s_watches *w, const struct k8s_watch_sub *s)
{
	char *path = k8s_path(s->res, s->ns, NULL, s->query);
	for (size_t i = 0; i < w->n; i++) {
		if (strcmp(w->c[i]->path, path) == 0) {
			free(path);
			return w->c[i];
		}
	}
	if (w->n >= K8S_WATCH_MAX_COLLECTIONS) {
		free(path);
		return NULL;
	}
	struct k8s_wcoll *co = xcalloc(1, sizeof(*co));
	co->hub = w;
	co->path = path;
	co->av = *s->res->group ? xasprintf("%s/%s", s->res->group, s->res->version)
	                        : xstrdup(s->res->version);
	co->kind = xstrdup(s->res->kind);
	co->objects = json_object();
	co->idle_since = now_mono_ms();
	cond_init_mono(&co->cv);
	w->c[w->n++] = co;
	return co;
}

/* Under the lock: the watcher thread ends when the run ends or when nobody
 * has waited on the collection for a while. */
static int exit_due(const struct k8s_wcoll *co)
{
	return co->hub->stopping || ctx_cancelled(co->hub->sigctx) ||
	       (co->waiters == 0 && now_mono_ms() - co->idle_since > K8S_WATCH_LINGER_MS);
}

static void set_failed(struct k8s_wcoll *co, char *why)
{
	co->failed = 1;
	free(co->why);
	co->why = why;
	wake(co, NULL);
}

/* ---- the stream ---------------------------------------------------------- */

static void stream_stop(struct k8s_wcoll *co, int fatal, char *why)
{
	co->fatal = fatal;
	free(co->stream_error);
	co->stream_error = why;
}

/* Applies one event to the copy; under the lock. 1 stops the stream. */
static int apply(struct k8s_wcoll *co, const char *type, json_t *obj)
{
	const char *rv = obj_rv(obj);
	if (strcmp(type, "BOOKMARK") == 0) {
		if (*rv) {
			free(co->rv);
			co->rv = xstrdup(rv);
		}
		return 0;
	}
	char *key = obj_key(obj);
	if (!key) {
		stream_stop(co, 0, xstrdup("a watch event names no object"));
		return 1;
	}
	int rc = 0;
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		if (!json_object_get(co->objects, key) &&
		    json_object_size(co->objects) >= K8S_WATCH_MAX_OBJECTS) {
			stream_stop(co, 1,
			            xasprintf("the watch holds more than %d objects",
			                      K8S_WATCH_MAX_OBJECTS));
			rc = 1;
		} else {
			json_object_set(co->objects, key, obj);
		}
	} else if (strcmp(type, "DELETED") == 0) {
		json_object_del(co->objects, key);
	} else {
		stream_stop(co, 0, xasprintf("a watch event of unknown type '%.40s'", type));
		rc = 1;
	}
	if (!rc && *rv) {
		free(co->rv);
		co->rv = xstrdup(rv);
		co->events++;
	}
	if (!rc)
		wake(co, key);
	free(key);
	return rc;
}

/* One complete JSON value of the stream. 1 stops the stream. */
static int on_event(void *arg, const char *text, size_t len)
{
	struct k8s_wcoll *co = arg;
	json_error_t je;
	json_t *ev = json_loadb(text, len, 0, &je);
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");
	int stop = 1;
	if (!type || !json_is_object(obj)) {
		stream_stop(co, 0,
		            ev ? xstrdup("a watch event without type or object")
		               : xasprintf("a watch event is not JSON: %s", je.text));
	} else if (strcmp(type, "ERROR") == 0) {
		json_int_t code = json_integer_value(json_object_get(obj, "code"));
		const char *msg = json_string_value(json_object_get(obj, "message"));
		if (code == 410)
			co->expired = 1; /* "too old resource version": list again */
		else
			stream_stop(co, 0,
			            xasprintf("the watch ended with an error (code %lld): %.200s",
			                      (long long)code, msg ? msg : "(no message)"));
	} else {
		pthread_mutex_lock(&co->hub->lock);
		stop = apply(co, type, obj);
		pthread_mutex_unlock(&co->hub->lock);
	}
	if (ev)
		json_decref(ev);
	return stop;
}

void k8s_watch_reader_init(struct k8s_watch_reader *r, size_t max,
                           int (*on_value)(void *arg, const char *text, size_t len), void *arg)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->value, 0);
	r->max = max;
	r->on_value = on_value;
	r->arg = arg;
}

void k8s_watch_reader_release(struct k8s_watch_reader *r)
{
	buf_release(&r->value);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

int k8s_watch_reader_feed(struct k8s_watch_reader *r, const char *data, size_t len)
{
	if (r->error)
		return 1;
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (r->depth == 0) {
			if (isspace((unsigned char)ch))
				continue;
			if (ch != '{') {
				r->error =
				    xstrdup("the watch stream is not a sequence of JSON objects");
				return 1;
			}
		}
		if (r->value.len >= r->max) {
			r->too_long = 1;
			r->error = xasprintf("a watch event is longer than %zu bytes", r->max);
			return 1;
		}
		buf_addc(&r->value, ch);
		if (r->in_str) {
			if (r->esc)
				r->esc = 0;
			else if (ch == '\\')
				r->esc = 1;
			else if (ch == '"')
				r->in_str = 0;
		} else if (ch == '"') {
			r->in_str = 1;
		} else if (ch == '{' || ch == '[') {
			r->depth++;
		} else if ((ch == '}' || ch == ']') && --r->depth == 0) {
			int stop = r->on_value(r->arg, r->value.data, r->value.len);
			r->value.len = 0;
			if (stop)
				return 1;
		}
	}
	return 0;
}

static int on_body(void *arg, const char *data, size_t len)
{
	struct k8s_wcoll *co = arg;
	if (!k8s_watch_reader_feed(&co->rd, data, len))
		return 0;
	if (co->rd.error) {
		stream_stop(co, co->rd.too_long, co->rd.error);
		co->rd.error = NULL;
	}
	return 1;
}

static int on_idle(void *arg)
{
	struct k8s_wcoll *co = arg;
	pthread_mutex_lock(&co->hub->lock);
	int stop = exit_due(co);
	pthread_mutex_unlock(&co->hub->lock);
	return stop;
}

/* ---- list and watch ------------------------------------------------------- */

static enum outcome status_outcome(struct k8s_wcoll *co, const struct http_response *rs,
                                   const char *verb, char **why)
{
	char *what = xasprintf("%s %s", verb, co->path);
	*why = k8s_status_error(co->hub->cl, rs, what);
	free(what);
	if (rs->status == 410)
		return O_EXPIRED;
	return rs->status == 403 ? O_FATAL : O_ERROR;
}

/* A fresh list: the copy and the version the watch starts from. */
static enum outcome list_once(struct k8s_wcoll *co, char **why)
{
	struct check_ctx *ctx = ctx_new_for_test(NULL, LIST_TIMEOUT_MS, NULL, NULL);
	struct http_response rs;
	enum outcome o = O_ERROR;
	if (k8s_call(co->hub->cl, ctx, "GET", co->path, NULL, NULL, &rs, why) != 0)
		goto out;
	if (rs.status / 100 != 2) {
		o = status_outcome(co, &rs, "LIST", why);
		goto out_rs;
	}
	json_t *j = http_body_json(&rs);
	json_t *items = json_object_get(j, "items");
	const char *rv =
	    json_string_value(json_object_get(json_object_get(j, "metadata"), "resourceVersion"));
	if (!json_is_array(items) || !rv || !*rv) {
		*why = k8s_not_json(&rs, co->path, "a JSON list with a resourceVersion");
		o = O_FATAL;
	} else if (json_array_size(items) > K8S_WATCH_MAX_OBJECTS) {
		*why =
		    xasprintf("%s: more than %d objects to watch", co->path, K8S_WATCH_MAX_OBJECTS);
		o = O_FATAL;
	} else {
		json_t *objects = json_object();
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
		{
			char *key = obj_key(it);
			if (!key)
				continue;
			if (!json_object_get(it, "kind")) {
				json_object_set_new(it, "apiVersion", json_string(co->av));
				json_object_set_new(it, "kind", json_string(co->kind));
			}
			json_object_set(objects, key, it);
			free(key);
		}
		pthread_mutex_lock(&co->hub->lock);
		json_decref(co->objects);
		co->objects = objects;
		free(co->rv);
		co->rv = xstrdup(rv);
		co->synced = 1;
		wake(co, NULL);
		pthread_mutex_unlock(&co->hub->lock);
		o = O_OK;
	}
	if (j)
		json_decref(j);
out_rs:
	http_response_release(&rs);
out:
	ctx_free_for_test(ctx);
	return o;
}

/* One watch request from rv, until the server ends it, it breaks, the
 * version expires or nobody needs it any more. */
static enum outcome watch_once(struct k8s_wcoll *co, const char *rv, char **why)
{
	k8s_watch_reader_release(&co->rd);
	k8s_watch_reader_init(&co->rd, K8S_WATCH_MAX_EVENT, on_event, co);
	co->expired = co->fatal = 0;
	co->events = 0;
	char *erv = k8s_qesc(rv);
	char *url =
	    xasprintf("%s%cwatch=1&resourceVersion=%s&allowWatchBookmarks=true"
	              "&timeoutSeconds=%d",
	              co->path, strchr(co->path, '?') ? '&' : '?', erv, K8S_WATCH_TIMEOUT_S);
	free(erv);
	struct check_ctx *ctx =
	    ctx_new_for_test(NULL, (K8S_WATCH_TIMEOUT_S + 30) * 1000LL, NULL, NULL);
	struct k8s_stream st = {.on_body = on_body, .on_idle = on_idle, .arg = co};
	struct http_response rs;
	long long t0 = now_mono_ms();
	enum outcome o = O_ERROR;
	if (k8s_call_stream(co->hub->cl, ctx, url, &st, &rs, why) != 0)
		goto out;
	if (rs.status / 100 != 2) {
		o = status_outcome(co, &rs, "WATCH", why);
	} else if (co->expired) {
		o = O_EXPIRED;
	} else if (co->stream_error) {
		*why = co->stream_error;
		co->stream_error = NULL;
		o = co->fatal ? O_FATAL : O_ERROR;
	} else if (!co->events && !rs.stopped && now_mono_ms() - t0 < 1000) {
		*why = xasprintf("WATCH %s: the server ended the stream at once", co->path);
	} else {
		o = O_OK;
	}
	http_response_release(&rs);
out:
	ctx_free_for_test(ctx);
	free(url);
	return o;
}

static void *watcher(void *arg)
{
	struct k8s_wcoll *co = arg;
	struct k8s_watches *w = co->hub;
	long long backoff = 0;
	pthread_mutex_lock(&w->lock);
	while (!co->failed && !exit_due(co)) {
		if (backoff > 0) {
			long long until = now_mono_ms() + backoff;
			backoff = 0;
			while (!exit_due(co) && now_mono_ms() < until)
				cv_wait_until(w, &co->cv, until);
			continue;
		}
		if (co->requests >= K8S_WATCH_MAX_STREAMS) {
			set_failed(
			    co, xasprintf("%s: %d requests made", co->path, K8S_WATCH_MAX_STREAMS));
			break;
		}
		co->requests++;
		char *why = NULL;
		enum outcome o;
		if (!co->synced) {
			pthread_mutex_unlock(&w->lock);
			o = list_once(co, &why);
			pthread_mutex_lock(&w->lock);
		} else {
			char *rv = xstrdup(co->rv);
			pthread_mutex_unlock(&w->lock);
			o = watch_once(co, rv, &why);
			free(rv);
			pthread_mutex_lock(&w->lock);
		}
		if (o == O_EXPIRED) {
			co->synced = 0; /* a fresh list, then a new watch */
			if (co->events)
				co->failures = 0;
			else /* expired before anything came: not progress */
				o = O_ERROR;
		}
		if (o == O_OK) {
			co->failures = 0;
		} else if (o == O_FATAL) {
			set_failed(co, why);
			why = NULL;
		} else if (o == O_ERROR) {
			if (++co->failures >= K8S_WATCH_MAX_FAILURES) {
				set_failed(co, why ? why : xstrdup("the watch kept failing"));
				why = NULL;
			} else {
				backoff = 250LL << co->failures;
				if (backoff > BACKOFF_MAX_MS)
					backoff = BACKOFF_MAX_MS;
			}
		}
		free(why);
	}
	/* a watch that is not kept is not a copy of anything */
	co->running = 0;
	co->synced = 0;
	json_object_clear(co->objects);
	wake(co, NULL);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Under the lock: the collection's thread runs. */
static int start(struct k8s_wcoll *co)
{
	if (co->running)
		return 0;
	if (co->joinable) { /* it ended (linger): it takes the lock no more */
		pthread_join(co->thread, NULL);
		co->joinable = 0;
	}
	co->running = 1;
	if (pthread_create(&co->thread, NULL, watcher, co) != 0) {
		co->running = 0;
		return -1;
	}
	co->joinable = 1;
	return 0;
}

/* ---- waits ------------------------------------------------------------------ */

int k8s_watch_wait(struct k8s_watches *w, struct check_ctx *ctx, struct k8s_watch_sub *s,
                   long long deadline_ms)
{
	s->fresh = 0;
	if (!w || !s->res || !s->seen)
		return -1;
	pthread_mutex_lock(&w->lock);
	struct k8s_wcoll *co = coll_get(w, s);
	if (!co || co->failed || w->stopping || start(co) != 0) {
		pthread_mutex_unlock(&w->lock);
		return -1;
	}
	co->waiters++;
	struct waiter me = {.key = s->name ? sub_key(s) : NULL, .next = co->waitlist};
	cond_init_mono(&me.cv);
	co->waitlist = &me;
	int rc;
	for (;;) {
		if (co->failed) {
			rc = -1;
			break;
		}
		if (co->synced) {
			char *cur = current(co, s);
			int changed = strcmp(cur, s->seen) != 0;
			free(cur);
			if (changed) {
				rc = 1;
				break;
			}
		}
		long long now = now_mono_ms();
		if (now >= deadline_ms || ctx_cancelled(ctx) || w->stopping) {
			rc = 0;
			break;
		}
		cv_wait_until(w, &me.cv,
		              deadline_ms < now + WAIT_SLICE_MS ? deadline_ms
		                                                : now + WAIT_SLICE_MS);
	}
	for (struct waiter **q = &co->waitlist; *q; q = &(*q)->next) {
		if (*q == &me) {
			*q = me.next;
			break;
		}
	}
	pthread_cond_destroy(&me.cv);
	free(me.key);
	if (--co->waiters == 0)
		co->idle_since = now_mono_ms();
	s->coll = co;
	s->fresh = rc == 1;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int k8s_watch_cached(struct k8s_watches *w, struct k8s_watch_sub *s, json_t **out)
{
	*out = NULL;
	int fresh = s->fresh;
	s->fresh = 0;
	if (!w || !fresh || !s->coll || !s->res)
		return 0;
	pthread_mutex_lock(&w->lock);
	struct k8s_wcoll *co = s->coll;
	int ok = co->synced && !co->failed;
	if (ok && s->name) {
		char *key = sub_key(s);
		json_t *o = json_object_get(co->objects, key);
		free(key);
		*out = o ? json_deep_copy(o) : NULL;
	} else if (ok) {
		/* in the server's order: by namespace, then name */
		size_t n = json_object_size(co->objects), i = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *v;
		json_object_foreach(co->objects, k, v) keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		*out = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(
			    *out, json_deep_copy(json_object_get(co->objects, keys[i])));
		free(keys);
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

void k8s_watches_free(struct k8s_watches *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	for (size_t i = 0; i < w->n; i++) {
		pthread_cond_broadcast(&w->c[i]->cv);
		wake(w->c[i], NULL);
	}
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < w->n; i++) {
		struct k8s_wcoll *co = w->c[i];
		if (co->joinable)
			pthread_join(co->thread, NULL); /* a stream stops within a second */
		json_decref(co->objects);
		free(co->path);
		free(co->av);
		free(co->kind);
		free(co->rv);
		free(co->why);
		free(co->stream_error);
		k8s_watch_reader_release(&co->rd);
		pthread_cond_destroy(&co->cv);
		free(co);
	}
	pthread_mutex_destroy(&w->lock);
	ctx_free_for_test(w->sigctx);
	free(w);
}
