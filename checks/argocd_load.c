/* argocd_load.c - the argocd module's load generator: refreshes of a set of
 * applications, `rounds` of each, with up to `concurrency` calls in flight
 * at once (what many users and CI jobs running `argocd app get --refresh`
 * together do to the API server, the application controller's
 * reconciliation queue and the repo server). Each worker thread sends its
 * calls through the shared HTTP client, so they all travel on the run's one
 * transport (one HTTP/2 connection where argocd-server offers it).
 *
 * The facts are the load as measured from the client: calls, errors by
 * status, latency percentiles, the most calls seen in flight at once, and
 * the window (start, end, duration) so later checks can read the servers'
 * own metrics over exactly that time. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "argocd.h"

#define LOAD_ERROR_SAMPLES 5 /* distinct error messages kept in the facts */

struct load_state {
	const struct argocd_load_spec *s;
	struct argocd_run *parent;
	size_t napps, total;
	pthread_mutex_t lock; /* guards everything below */
	size_t next;          /* the next call to start */
	size_t done, errors, not_started;
	int in_flight, max_in_flight;
	double *latency; /* seconds, per completed call (total slots) */
	json_t *by_status;
	json_t *samples;
	long long requests;
};

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Takes the next call, or SIZE_MAX when none is left or the check must
 * end (the calls not started are counted). */
static size_t take_call(struct load_state *ls)
{
	size_t i = SIZE_MAX;
	pthread_mutex_lock(&ls->lock);
	if (ls->next < ls->total) {
		if (ctx_cancelled(ls->parent->ctx) || ctx_remaining_ms(ls->parent->ctx) <= 0) {
			ls->not_started += ls->total - ls->next;
			ls->next = ls->total;
		} else {
			i = ls->next++;
			if (++ls->in_flight > ls->max_in_flight)
				ls->max_in_flight = ls->in_flight;
		}
	}
	pthread_mutex_unlock(&ls->lock);
	return i;
}

static void record(struct load_state *ls, double seconds, long status, const char *error)
{
	char key[24];
	snprintf(key, sizeof(key), "%ld", status);
	pthread_mutex_lock(&ls->lock);
	ls->in_flight--;
	ls->latency[ls->done++] = seconds;
	json_t *n = json_object_get(ls->by_status, key);
	json_object_set_new(ls->by_status, key, json_integer((n ? json_integer_value(n) : 0) + 1));
	if (error) {
		ls->errors++;
		int seen = 0;
		size_t k;
		json_t *v;
		json_array_foreach(ls->samples, k, v) if (strcmp(json_string_value(v), error) == 0)
		    seen = 1;
		if (!seen && json_array_size(ls->samples) < LOAD_ERROR_SAMPLES)
			json_array_append_new(ls->samples, json_string(error));
	}
	pthread_mutex_unlock(&ls->lock);
}

static void *worker(void *arg)
{
	struct load_state *ls = arg;
	const struct argocd_load_spec *s = ls->s;
	struct argocd_run r = {.cn = ls->parent->cn, .ctx = ls->parent->ctx};
	for (size_t i; (i = take_call(ls)) != SIZE_MAX;) {
		const char *name = s->names[i % ls->napps];
		const char *app_ns = s->namespaces ? s->namespaces[i % ls->napps] : NULL;
		char *ns = app_ns ? argocd_escape(app_ns) : NULL;
		char *e = argocd_escape(name);
		char *path = xasprintf("/api/v1/applications/%s?refresh=%s%s%s", e, s->mode,
		                       ns ? "&appNamespace=" : "", ns ? ns : "");
		char *what = xasprintf("refresh %s", name);
		struct argocd_reply rp;
		long long t0 = now_mono_ms();
		int rc = argocd_call(&r, "GET", path, NULL, what, &rp);
		record(ls, (double)(now_mono_ms() - t0) / 1000.0, rp.status,
		       rc == 0 ? NULL : rp.error);
		argocd_reply_release(&rp);
		free(what);
		free(path);
		free(e);
		free(ns);
	}
	pthread_mutex_lock(&ls->lock);
	ls->requests += r.requests;
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values (n > 0). */
static double percentile(const double *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	return v[rank ? rank - 1 : 0];
}

static json_t *round3(double v)
{
	return json_real(round(v * 1000.0) / 1000.0);
}

static json_t *load_facts(struct load_state *ls, double started, double ended)
{
	const struct argocd_load_spec *s = ls->s;
	json_t *apps = json_array();
	for (size_t i = 0; i < ls->napps; i++)
		json_array_append_new(apps, json_string(s->names[i]));
	double dur = ended - started;
	json_t *f = json_pack("{s:o,s:s,s:i,s:i,s:I,s:I,s:I,s:I,s:i}", "apps", apps, "mode",
	                      s->mode, "concurrency", s->concurrency, "rounds", s->rounds, "calls",
	                      (json_int_t)ls->total, "completed", (json_int_t)ls->done, "errors",
	                      (json_int_t)ls->errors, "not_started", (json_int_t)ls->not_started,
	                      "max_in_flight", ls->max_in_flight);
	json_object_set_new(f, "error_ratio",
	                    round3(ls->done ? (double)ls->errors / (double)ls->done : 0));
	json_t *lat = json_object();
	if (ls->done) {
		qsort(ls->latency, ls->done, sizeof(double), cmp_double);
		double sum = 0;
		for (size_t i = 0; i < ls->done; i++)
			sum += ls->latency[i];
		json_object_set_new(lat, "p50", round3(percentile(ls->latency, ls->done, 50)));
		json_object_set_new(lat, "p95", round3(percentile(ls->latency, ls->done, 95)));
		json_object_set_new(lat, "p99", round3(percentile(ls->latency, ls->done, 99)));
		json_object_set_new(lat, "max", round3(ls->latency[ls->done - 1]));
		json_object_set_new(lat, "mean", round3(sum / (double)ls->done));
	}
	json_object_set_new(f, "latency", lat);
	json_object_set_new(f, "by_status", json_incref(ls->by_status));
	json_object_set_new(f, "error_samples", json_incref(ls->samples));
	json_object_set_new(f, "started", round3(started));
	json_object_set_new(f, "ended", round3(ended));
	json_object_set_new(f, "duration_seconds", round3(dur));
	/* a PromQL range that covers the whole load, in whole seconds */
	long long secs = (long long)ceil(dur);
	char *win = xasprintf("%llds", secs > 0 ? secs : 1);
	json_object_set_new(f, "window", json_string(win));
	free(win);
	json_object_set_new(f, "calls_per_second", round3(dur > 0 ? (double)ls->done / dur : 0));
	json_object_set_new(f, "requests", json_integer(ls->requests));

	int ok = ls->errors == 0 && ls->not_started == 0 && ls->done > 0;
	struct buf b;
	buf_init(&b, 0);
	buf_addf(&b,
	         "%zu %s refreshes of %zu application%s, up to %d at once (%d seen): ", ls->done,
	         s->mode, ls->napps, ls->napps == 1 ? "" : "s", s->concurrency, ls->max_in_flight);
	if (ls->done)
		buf_addf(&b, "latency p50 %.3fs, p95 %.3fs, max %.3fs; ",
		         percentile(ls->latency, ls->done, 50),
		         percentile(ls->latency, ls->done, 95), ls->latency[ls->done - 1]);
	buf_addf(&b, "%zu error%s in %.1fs", ls->errors, ls->errors == 1 ? "" : "s", dur);
	if (ls->not_started)
		buf_addf(&b, "; %zu calls not started (the check's deadline passed)",
		         ls->not_started);
	if (json_array_size(ls->samples))
		buf_addf(&b, "; first error: %s",
		         json_string_value(json_array_get(ls->samples, 0)));
	json_object_set_new(f, "ok", json_boolean(ok));
	json_object_set_new(f, "summary", json_string(buf_str(&b)));
	buf_release(&b);
	return f;
}

void argocd_load_parse(const struct node *cfg, int is_refresh, int *concurrency, int *rounds,
                       struct diags *d)
{
	static const struct {
		const char *key;
		long long def, max;
	} lim[] = {{"concurrency", 4, ARGOCD_LOAD_MAX_CONCURRENCY},
	           {"rounds", 1, ARGOCD_LOAD_MAX_ROUNDS}};
	int *out[] = {concurrency, rounds};
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		const struct node *n = cfg_node(cfg, lim[i].key);
		long long v = cfg_int(cfg, lim[i].key, lim[i].def);
		if (n && !is_refresh)
			diag_at(d, n,
			        "%s belongs to a refresh load (refresh: [NAMES] or {selector})",
			        lim[i].key);
		else if (v < 1 || v > lim[i].max)
			diag_at(d, n, "%s must be 1 to %lld, not %lld", lim[i].key, lim[i].max, v);
		*out[i] = (int)(v < 1 || v > lim[i].max ? 1 : v);
	}
}

void argocd_refresh_load(struct argocd_run *r, const struct argocd_load_spec *s)
{
	struct load_state ls = {.s = s, .parent = r};
	while (s->names && s->names[ls.napps])
		ls.napps++;
	if (ls.napps == 0) {
		r->out->forced = CHECK_ERROR;
		free(r->out->error);
		r->out->error = xstrdup("refresh load: no application matches (nothing to load)");
		return;
	}
	ls.total = ls.napps * (size_t)s->rounds;
	if (ls.total > ARGOCD_LOAD_MAX_CALLS) {
		r->out->forced = CHECK_ERROR;
		free(r->out->error);
		r->out->error =
		    xasprintf("refresh load: %zu applications x %d rounds is %zu calls, "
		              "more than %d; lower rounds",
		              ls.napps, s->rounds, ls.total, ARGOCD_LOAD_MAX_CALLS);
		return;
	}
	ls.latency = xcalloc(ls.total, sizeof(double));
	ls.by_status = json_object();
	ls.samples = json_array();
	pthread_mutex_init(&ls.lock, NULL);
	size_t nthreads = (size_t)s->concurrency < ls.total ? (size_t)s->concurrency : ls.total;
	pthread_t *th = xcalloc(nthreads, sizeof(pthread_t));
	size_t started_threads = 0;
	double started = wall_now();
	for (; started_threads < nthreads; started_threads++)
		if (pthread_create(&th[started_threads], NULL, worker, &ls) != 0)
			break;
	if (started_threads == 0)
		worker(&ls); /* no thread could start: the calls one after another */
	for (size_t i = 0; i < started_threads; i++)
		pthread_join(th[i], NULL);
	double ended = wall_now();
	r->requests += ls.requests;
	r->out->facts = load_facts(&ls, started, ended);
	pthread_mutex_destroy(&ls.lock);
	json_decref(ls.by_status);
	json_decref(ls.samples);
	free(ls.latency);
	free(th);
}
