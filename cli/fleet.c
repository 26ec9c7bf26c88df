/* fleet.c - one suite over many clusters (see fleet.h): child runs in
 * parallel threads (each waits on its own phasegate process), their results
 * loaded back, and the fleet report (Markdown for people, JSON for tools). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "proc.h"
#include "report.h"

#define FLEET_DEFAULT_TIMEOUT_MS (24LL * 3600 * 1000)
#define FLEET_MAX_PARALLEL 16 /* child runs at once; the rest wait for a free slot */

void fleet_init(struct fleet *f)
{
	memset(f, 0, sizeof(*f));
}

void fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct fleet_member *m = &f->m[i];
		free(m->label);
		free(m->cluster);
		for (char **x = m->extra; x && *x; x++)
			free(*x);
		free(m->extra);
		free(m->results);
		free(m->report);
		free(m->error);
		if (m->loaded)
			result_release(&m->r);
	}
	free(f->m);
	memset(f, 0, sizeof(*f));
}

struct fleet_member *fleet_add(struct fleet *f, const char *label, const char *const *extra)
{
	f->m = xrealloc(f->m, (f->n + 1) * sizeof(*f->m));
	struct fleet_member *m = &f->m[f->n++];
	memset(m, 0, sizeof(*m));
	m->label = xstrdup(label);
	m->exit_code = -1;
	/* a directory name: no '/', no leading dot, nothing a shell or a
	 * Markdown link would read specially */
	char *c = xstrdup(*label ? label : "cluster");
	for (char *p = c; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || (*p == '.' && p != c)))
			*p = '-';
	/* unique: a second "prod" becomes "prod-2" */
	char *name = xstrdup(c);
	for (int k = 2;; k++) {
		size_t j = 0;
		while (j + 1 < f->n && strcmp(f->m[j].cluster, name) != 0)
			j++;
		if (j + 1 >= f->n)
			break;
		free(name);
		name = xasprintf("%s-%d", c, k);
	}
	free(c);
	m->cluster = name;
	size_t n = 0;
	while (extra && extra[n])
		n++;
	m->extra = xcalloc(n + 1, sizeof(*m->extra));
	for (size_t i = 0; i < n; i++)
		m->extra[i] = xstrdup(extra[i]);
	return m;
}

int fleet_mkdirs(const char *dir, struct pg_err *e)
{
	char *p = xstrdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		char was = *s;
		if (was != '/' && was != 0)
			continue;
		*s = 0;
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = pg_error(e, "cannot create '%s': %s", p, strerror(errno));
			break;
		}
		*s = was;
		if (!was)
			break;
	}
	free(p);
	return rc;
}

void fleet_load(struct fleet_member *m)
{
	struct pg_err e;
	if (m->loaded)
		return;
	memset(&m->r, 0, sizeof(m->r));
	if (result_load_file(&m->r, m->results, &e) != 0) {
		free(m->error);
		m->error = xstrdup(e.msg);
		memset(&m->r, 0, sizeof(m->r));
		return;
	}
	m->loaded = 1;
}

struct fleet_job {
	struct fleet_member *m;
	const char *self;
	const char *const *args;
	size_t nargs;
	const char *dir;
	long long timeout_ms;
};

static void *fleet_job_run(void *arg)
{
	struct fleet_job *j = arg;
	struct fleet_member *m = j->m;
	size_t nextra = 0;
	while (m->extra[nextra])
		nextra++;
	const char **argv = xcalloc(j->nargs + nextra + 6, sizeof(*argv));
	size_t k = 0;
	argv[k++] = j->self;
	for (size_t i = 0; i < j->nargs; i++)
		argv[k++] = j->args[i];
	for (size_t i = 0; i < nextra; i++)
		argv[k++] = m->extra[i];
	argv[k++] = "--out";
	argv[k++] = j->dir;
	argv[k++] = "--no-color";
	argv[k] = NULL;
	struct proc_spec spec = {
	    .argv = argv,
	    .max_output = 4u << 20,
	    .timeout_ms = j->timeout_ms,
	};
	struct proc_result pr;
	struct pg_err e;
	if (proc_run(&spec, NULL, &pr, &e) != 0) {
		m->error = xstrdup(e.msg);
	} else {
		m->exit_code = pr.exit_code;
		char *log = xasprintf("%s/console.log", j->dir);
		struct buf all;
		buf_init(&all, 0);
		buf_adds(&all, buf_str(&pr.out));
		buf_adds(&all, buf_str(&pr.err));
		if (write_file_atomic(log, all.data ? all.data : "", all.len, &e) != 0)
			m->error = xstrdup(e.msg);
		buf_release(&all);
		free(log);
		if (pr.timed_out)
			m->error =
			    xasprintf("the run did not finish within %lld s", j->timeout_ms / 1000);
		else if (pr.signal)
			m->error = xasprintf("the run was killed by signal %d", pr.signal);
		proc_result_release(&pr);
	}
	free(argv);
	return NULL;
}

/* The workers share the job list and take the next job under a lock. */
struct fleet_pool {
	struct fleet_job *jobs;
	size_t n, next;
	pthread_mutex_t lock;
};

static void *fleet_worker(void *arg)
{
	struct fleet_pool *pool = arg;
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		size_t i = pool->next < pool->n ? pool->next++ : pool->n;
		pthread_mutex_unlock(&pool->lock);
		if (i >= pool->n)
			return NULL;
		fleet_job_run(&pool->jobs[i]);
	}
}

int fleet_run(struct fleet *f, const char *self, const char *const *args, size_t nargs,
              const char *out_dir, long long timeout_ms, struct pg_err *e)
{
	struct fleet_pool pool = {.jobs = xcalloc(f->n ? f->n : 1, sizeof(*pool.jobs)), .n = 0};
	pthread_mutex_init(&pool.lock, NULL);
	size_t nth = f->n < FLEET_MAX_PARALLEL ? f->n : FLEET_MAX_PARALLEL;
	pthread_t *th = xcalloc(nth ? nth : 1, sizeof(*th));
	char **dirs = xcalloc(f->n ? f->n : 1, sizeof(*dirs));
	int rc = 0;
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		dirs[i] = xasprintf("%s/%s", out_dir, f->m[i].cluster);
		rc = fleet_mkdirs(dirs[i], e);
		pool.jobs[i] = (struct fleet_job){
		    &f->m[i], self,    args,
		    nargs,    dirs[i], timeout_ms > 0 ? timeout_ms : FLEET_DEFAULT_TIMEOUT_MS};
	}
	if (rc == 0)
		pool.n = f->n;
	size_t started = 0;
	for (size_t i = 0; i < nth && rc == 0; i++) {
		if (pthread_create(&th[i], NULL, fleet_worker, &pool) != 0) {
			rc = pg_error(e, "cannot start a thread for the fleet's runs");
			break;
		}
		started++;
	}
	if (rc != 0 && started) { /* let the started workers finish what they took */
		pthread_mutex_lock(&pool.lock);
		pool.n = pool.next;
		pthread_mutex_unlock(&pool.lock);
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < pool.next && i < f->n; i++) {
		struct fleet_member *m = &f->m[i];
		m->results = xasprintf("%s/results.json", dirs[i]);
		m->report = xasprintf("%s/report.md", m->cluster);
		if (!m->error || access(m->results, R_OK) == 0)
			fleet_load(m); /* an interrupted run still writes its results */
	}
	for (size_t i = 0; i < f->n; i++)
		free(dirs[i]);
	free(dirs);
	free(th);
	free(pool.jobs);
	pthread_mutex_destroy(&pool.lock);
	return rc;
}

const char *fleet_member_verdict(const struct fleet_member *m)
{
	return m->loaded ? report_verdict(&m->r) : "ERROR";
}

/* Higher is worse. */
static int verdict_rank(const char *v)
{
	static const char *const order[] = {"GO", "PARTIAL", "PENDING", "NO-GO"};
	for (int i = 0; i < 4; i++)
		if (strcmp(v, order[i]) == 0)
			return i;
	return 4; /* ERROR or anything unknown: not a GO */
}

const char *fleet_verdict(const struct fleet *f)
{
	int worst = f->n ? 0 : 4;
	for (size_t i = 0; i < f->n; i++) {
		int r = verdict_rank(fleet_member_verdict(&f->m[i]));
		if (r > worst)
			worst = r;
	}
	return worst >= 3 ? "NO-GO" : worst == 2 ? "PENDING" : worst == 1 ? "PARTIAL" : "GO";
}

int fleet_exit_code(const struct fleet *f)
{
	int rc = 0;
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_member *m = &f->m[i];
		int c = m->loaded ? m->r.exit_code : 1;
		if (m->exit_code >= 3 && m->exit_code != 4)
			c = 3;
		if (!m->loaded && m->exit_code == 2)
			c = 2;
		if (c == 4)
			c = 0; /* --require is judged on the fleet verdict */
		if (c > rc && c <= 3)
			rc = c;
	}
	return rc;
}

/* What stopped a cluster, in one line. */
static void member_reason(struct buf *b, const struct fleet_member *m, int md)
{
	void (*text)(struct buf *, const char *) = md ? report_md_text : NULL;
	struct buf tmp;
	buf_init(&tmp, 0);
	if (!m->loaded) {
		buf_adds(&tmp, m->error ? m->error : "no results");
	} else if (m->r.blocking_gate) {
		const struct res_check *k = report_blocking_check(&m->r);
		buf_addf(&tmp, "gate %s failed", m->r.blocking_gate);
		if (k)
			buf_addf(&tmp, ": %s%s%s", k->id, k->message ? " — " : "",
			         k->message ? k->message : "");
	} else if (strcmp(report_verdict(&m->r), "PENDING") == 0) {
		buf_addf(&tmp, "%zu sign-off(s) open", report_open_signoffs(&m->r));
	}
	if (text)
		text(b, tmp.len ? tmp.data : "—");
	else
		buf_adds(b, tmp.len ? tmp.data : "");
	buf_release(&tmp);
}

char *fleet_render_markdown(const struct fleet *f)
{
	struct buf b;
	buf_init(&b, 0);
	const char *v = fleet_verdict(f);
	size_t bad = 0;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(fleet_member_verdict(&f->m[i]), "GO") != 0)
			bad++;
	buf_addf(&b, "# Fleet verdict: %s\n\n", v);
	if (!bad) {
		buf_addf(&b, "Every gate passed on all %zu cluster%s.\n\n", f->n,
		         f->n == 1 ? "" : "s");
	} else {
		buf_addf(&b, "%zu of %zu cluster%s %s not GO:", bad, f->n, f->n == 1 ? "" : "s",
		         bad == 1 ? "is" : "are");
		for (size_t i = 0, k = 0; i < f->n; i++) {
			if (strcmp(fleet_member_verdict(&f->m[i]), "GO") == 0)
				continue;
			buf_adds(&b, k++ ? ", **" : " **");
			report_md_text(&b, f->m[i].cluster);
			buf_addf(&b, "** (%s)", fleet_member_verdict(&f->m[i]));
		}
		buf_adds(&b, ".\n\n");
	}
	buf_adds(&b, "| Cluster | Verdict | Why | Checks | Report |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_member *m = &f->m[i];
		buf_adds(&b, "| ");
		report_md_text(&b, m->cluster);
		if (strcmp(m->cluster, m->label) != 0) {
			buf_adds(&b, " (");
			report_md_text(&b, m->label);
			buf_adds(&b, ")");
		}
		buf_addf(&b, " | %s | ", fleet_member_verdict(m));
		member_reason(&b, m, 1);
		if (m->loaded)
			buf_addf(&b, " | %zu of %zu passed | ", m->r.passed, m->r.total);
		else
			buf_adds(&b, " | — | ");
		if (m->report && m->loaded) {
			buf_adds(&b, "[report](");
			/* the cluster name is [A-Za-z0-9._-]: safe in a link */
			for (const char *p = m->report; *p; p++) {
				if (*p == ' ' || *p == '(' || *p == ')')
					buf_addf(&b, "%%%02X", (unsigned char)*p);
				else
					buf_addc(&b, *p);
			}
			buf_adds(&b, ")");
		} else {
			buf_adds(&b, "—");
		}
		buf_adds(&b, " |\n");
	}
	buf_adds(&b, "\nThe fleet verdict is the worst of the clusters' verdicts; a cluster "
	             "without results counts as NO-GO.\n");
	return buf_detach(&b);
}

char *fleet_render_json(const struct fleet *f)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < f->n; i++) {
		const struct fleet_member *m = &f->m[i];
		struct buf why;
		buf_init(&why, 0);
		member_reason(&why, m, 0);
		json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "cluster", m->cluster, "label", m->label,
		                      "verdict", fleet_member_verdict(m), "why", buf_str(&why));
		buf_release(&why);
		if (m->results)
			json_object_set_new(o, "results", json_string(m->results));
		if (m->report && m->loaded)
			json_object_set_new(o, "report", json_string(m->report));
		if (m->exit_code >= 0)
			json_object_set_new(o, "exit_code", json_integer(m->exit_code));
		if (m->loaded) {
			if (m->r.blocking_gate)
				json_object_set_new(o, "blocking_gate",
				                    json_string(m->r.blocking_gate));
			if (m->r.blocking_check)
				json_object_set_new(o, "blocking_check",
				                    json_string(m->r.blocking_check));
			json_object_set_new(o, "total", json_integer((json_int_t)m->r.total));
			json_object_set_new(o, "passed", json_integer((json_int_t)m->r.passed));
		}
		json_array_append_new(arr, o);
	}
	json_t *root =
	    json_pack("{s:i,s:s,s:i,s:o}", "schema_version", 1, "verdict", fleet_verdict(f),
	              "exit_code", fleet_exit_code(f), "clusters", arr);
	char *s = json_dumps(root, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	json_decref(root);
	char *out = xasprintf("%s\n", s ? s : "{}");
	free(s);
	return out;
}

int fleet_write(const struct fleet *f, const char *dir, struct pg_err *e)
{
	if (fleet_mkdirs(dir, e) != 0)
		return -1;
	char *md = fleet_render_markdown(f), *js = fleet_render_json(f);
	char *pmd = xasprintf("%s/fleet.md", dir), *pjs = xasprintf("%s/fleet.json", dir);
	int rc = write_file_atomic(pmd, md, strlen(md), e);
	if (rc == 0)
		rc = write_file_atomic(pjs, js, strlen(js), e);
	free(md);
	free(js);
	free(pmd);
	free(pjs);
	return rc;
}

int fleet_member_store(struct fleet_member *m, const char *out_dir, struct pg_err *e)
{
	char *dir = xasprintf("%s/%s", out_dir, m->cluster);
	char *res = xasprintf("%s/results.json", dir), *md = xasprintf("%s/report.md", dir);
	int rc = fleet_mkdirs(dir, e);
	if (rc == 0)
		rc = report_json_write(&m->r, res, e);
	if (rc == 0)
		rc = report_markdown_write(&m->r, md, e);
	if (rc == 0) {
		free(m->results);
		m->results = res;
		res = NULL;
		free(m->report);
		m->report = xasprintf("%s/report.md", m->cluster);
	}
	free(dir);
	free(res);
	free(md);
	return rc;
}
