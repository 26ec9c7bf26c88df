/* scheduler.c - the scheduler: phases -> steps -> actions -> checkpoint ->
 * checks, gates, eventually-polling, saved values, evidence collection on a
 * failed gate, and the check context that modules see. */
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest.h"
#include "module.h"
#include "vars.h"
#include "verdict.h"
#include "when.h"

#define EVIDENCE_CAP (64 * 1024)
#define WAIT_ATTEMPT_FLOOR_MS 1000 /* the least time an eventually-attempt gets */

/* Written by the signal handler, read by every worker: an atomic (lock-free,
 * so safe in a handler), never a plain variable shared between threads. */
static atomic_int stop_signal;

void sched_request_stop(int signo)
{
	int none = 0;
	atomic_compare_exchange_strong(&stop_signal, &none, signo);
}

int sched_stop_signal(void)
{
	return stop_signal;
}

/* ---- the check context ---- */

struct check_ctx {
	const char *suite_dir;       /* borrowed */
	long long deadline_ms;       /* monotonic; this attempt */
	long long global_deadline_ms;/* monotonic; 0 = none */
	void *state;                 /* module state */
	const char *const *options;  /* "name=value", borrowed */
	size_t noptions;
	const char *check_id;
	int dry_run;
	char **owned_options;        /* for test contexts */
};

long long ctx_remaining_ms(const struct check_ctx *c)
{
	long long now = now_mono_ms();
	long long dl = c->deadline_ms;
	if (c->global_deadline_ms && c->global_deadline_ms < dl)
		dl = c->global_deadline_ms;
	return dl > now ? dl - now : 0;
}

long long ctx_deadline_mono_ms(const struct check_ctx *c)
{
	long long dl = c->deadline_ms;
	if (c->global_deadline_ms && c->global_deadline_ms < dl)
		dl = c->global_deadline_ms;
	return dl;
}

int ctx_cancelled(const struct check_ctx *c)
{
	if (stop_signal)
		return 1;
	return c && c->global_deadline_ms && now_mono_ms() >= c->global_deadline_ms;
}

void *ctx_module_state(const struct check_ctx *c)
{
	return c->state;
}

const char *ctx_suite_dir(const struct check_ctx *c)
{
	return c->suite_dir ? c->suite_dir : ".";
}

const char *ctx_option(const struct check_ctx *c, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < c->noptions; i++) {
		const char *o = c->options[i];
		if (o && strncmp(o, name, len) == 0 && o[len] == '=')
			return o + len + 1;
	}
	return NULL;
}

const char *ctx_check_id(const struct check_ctx *c)
{
	return c->check_id ? c->check_id : "";
}

int ctx_dry_run(const struct check_ctx *c)
{
	return c->dry_run;
}

char *ctx_path(const struct check_ctx *c, const char *path)
{
	if (!path)
		return NULL;
	if (path[0] == '/' || !c || !c->suite_dir)
		return xstrdup(path);
	return xasprintf("%s/%s", c->suite_dir, path);
}

struct check_ctx *ctx_new_for_test(const char *suite_dir, long long timeout_ms,
				   const char *const *options, void *state)
{
	struct check_ctx *c = xcalloc(1, sizeof(*c));
	c->suite_dir = suite_dir;
	c->deadline_ms = now_mono_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
	c->state = state;
	size_t n = 0;
	while (options && options[n])
		n++;
	c->owned_options = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		c->owned_options[i] = xstrdup(options[i]);
	c->options = (const char *const *)c->owned_options;
	c->noptions = n;
	c->check_id = "test";
	return c;
}

void ctx_free_for_test(struct check_ctx *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->noptions; i++)
		free(c->owned_options[i]);
	free(c->owned_options);
	free(c);
}

void check_out_release(struct check_out *o)
{
	if (o->facts)
		json_decref(o->facts);
	free(o->error);
	free(o->evidence);
	free(o->attest_by);
	free(o->attest_at);
	free(o->attest_note);
	memset(o, 0, sizeof(*o));
}

/* ---- run state ---- */

struct run {
	struct plan *plan;
	const struct sched_opts *o;
	struct run_result *r;
	long long global_deadline_ms;
	struct vars runtime;          /* plan vars + saved values; under lock */
	pthread_mutex_t lock;         /* runtime vars and slot progress */
	pthread_cond_t done_cv;
};

static void obs_entry(struct run *run, const struct res_check *k)
{
	const struct sched_observer *o = run->o->observer;
	if (o && o->entry_done)
		o->entry_done(o->ctx, k);
}

static void obs_step(struct run *run, const struct res_step *s)
{
	const struct sched_observer *o = run->o->observer;
	if (o && o->step_start)
		o->step_start(o->ctx, s);
}

static const char *stop_reason(void)
{
	return stop_signal == SIGINT ? "interrupted by SIGINT" : "interrupted by SIGTERM";
}

/* One check in flight within a checkpoint. */
struct slot {
	const struct plan_check *pc;
	struct res_check *res;
	int done;
	int attempt;                  /* current attempt (for progress) */
	long long started_ms;
	int running;
};

static void sleep_ms_interruptible(struct run *run, long long ms)
{
	long long end = now_mono_ms() + ms;
	while (!stop_signal) {
		long long now = now_mono_ms();
		if (now >= end)
			break;
		if (run->global_deadline_ms && now >= run->global_deadline_ms)
			break;
		long long step = end - now > 50 ? 50 : end - now;
		struct timespec ts = {.tv_sec = step / 1000, .tv_nsec = (step % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

/* Text kept as evidence for a collector's facts: command output or log text
 * when there is some, else the facts as JSON. */
static char *evidence_text(const struct check_out *out)
{
	struct buf b;
	buf_init(&b, EVIDENCE_CAP);
	if (out->evidence)
		buf_adds(&b, out->evidence);
	json_t *f = out->facts;
	const char *fields[] = {"stdout", "stderr", "text", "log", "logs", "body", NULL};
	int any = b.len > 0;
	for (int i = 0; f && !any && fields[i]; i++) {
		json_t *v = json_object_get(f, fields[i]);
		if (json_is_string(v) && json_string_length(v) > 0) {
			buf_adds(&b, json_string_value(v));
			any = 1;
		}
	}
	if (!any && f) {
		char *s = json_dumps(f, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s) {
			buf_adds(&b, s);
			free(s);
		}
	}
	if (!any && !f && out->error)
		buf_adds(&b, out->error);
	if (b.truncated)
		buf_adds(&b, "\n… (cut at 64 KiB)");
	char *raw = buf_detach(&b);
	char *masked = mask_dup(raw);
	free(raw);
	return masked;
}

static void add_evidence(struct res_check *rc, const char *title, const char *text)
{
	rc->evidence = xrealloc(rc->evidence, (rc->nevidence + 1) * sizeof(*rc->evidence));
	rc->evidence[rc->nevidence].title = mask_dup(title);
	rc->evidence[rc->nevidence].text = mask_dup(text);
	rc->nevidence++;
}

static char *describe_check(const struct plan_check *pc, void *priv)
{
	char *d = NULL;
	if (priv && pc->mod->describe)
		d = pc->mod->describe(priv);
	if (!d)
		d = xstrdup(pc->mod->name);
	char *m = mask_dup(d);
	free(d);
	return m;
}

/* What the module says about its facts (module.h, summarize); malloc'd or
 * NULL. */
static char *module_says(const struct check_module *mod, const json_t *facts)
{
	if (!facts)
		return NULL;
	if (mod->summarize)
		return mod->summarize(facts);
	json_t *summary = json_object_get(facts, "summary");
	if (json_is_string(summary) && json_string_length(summary) > 0)
		return xstrdup(json_string_value(summary));
	return NULL;
}

/* Runs one check, action or collector with its eventually-policy and
 * fills res. Called from worker threads. */
static void run_check(struct run *run, const struct plan_check *pc, struct res_check *res,
		      struct slot *slot)
{
	const struct check_module *mod = pc->mod;
	void *priv = pc->priv;
	void *own_priv = NULL;
	struct check_out out;
	memset(&out, 0, sizeof(out));
	if (pc->when_is != PW_ALWAYS) {
		/* when: false or undecidable: the entry does not run (when.h) */
		enum res_status st = RS_ERROR;
		char *why = NULL;
		pthread_mutex_lock(&run->lock);
		int go = when_decide(pc, &run->runtime, &st, &why);
		pthread_mutex_unlock(&run->lock);
		if (!go) {
			res->status = st;
			res->message = why;
			res->describe = describe_check(pc, pc->priv);
			return;
		}
	}
	double t0 = now_mono_s();
	res->started_at = iso8601_now();
	void *state = plan_module_state(run->plan, mod);

	if (pc->deferred) {
		/* Values saved by earlier checks are known now: expand, check
		 * keys and parse again. */
		struct diags d;
		diags_init(&d);
		struct node *cfg = node_copy(pc->cfg);
		pthread_mutex_lock(&run->lock);
		int bad = vars_expand_tree(&run->runtime, NULL, cfg, &d);
		pthread_mutex_unlock(&run->lock);
		if (!bad && mod->keys)
			bad = keys_validate(cfg, mod->keys, mod->name, &d);
		if (!bad && mod->parse && mod->parse(cfg, state, &own_priv, &d) != 0)
			bad = 1;
		/* The guard holds whatever the saved values turned out to be:
		 * an entry the loader could not judge that is destructive
		 * once expanded runs only with --allow-destructive. */
		if (!bad && !d.n && own_priv && mod->destructive && mod->destructive(own_priv) &&
		    !run->o->allow_destructive) {
			diag_pos(&d, pc->pos.file, pc->pos.line, pc->pos.col,
			         "once its saved values are filled in, this %s deletes or replaces "
			         "live objects; it runs only with --allow-destructive",
			         pc->is_action || pc->is_rollback ? "action" : "entry");
			bad = 1;
		}
		if (bad || d.n) {
			const struct diag *g = d.n ? &d.v[0] : NULL;
			char *msg = g ? xasprintf("%s (at %s:%u)", g->msg, g->file ? g->file : "?", g->line)
				      : xstrdup("the check's configuration is invalid once expanded");
			res->status = RS_ERROR;
			res->message = mask_dup(msg);
			free(msg);
			if (own_priv && mod->free)
				mod->free(own_priv);
			node_free(cfg);
			diags_release(&d);
			res->attempts = 0;
			res->duration_s = now_mono_s() - t0;
			return;
		}
		node_free(cfg);
		diags_release(&d);
		priv = own_priv;
	}
	res->describe = describe_check(pc, priv);

	const struct expect *ex = pc->expect ? pc->expect : pc->default_expect;
	struct expect *own_expect = NULL;
	if (pc->expect_cfg) {
		/* the expectations name values saved earlier in this run */
		struct diags d;
		diags_init(&d);
		struct node *en = node_copy(pc->expect_cfg);
		pthread_mutex_lock(&run->lock);
		int bad = vars_expand_tree(&run->runtime, NULL, en, &d);
		pthread_mutex_unlock(&run->lock);
		if (bad || expect_compile(en, &own_expect, &d) != 0) {
			res->status = RS_ERROR;
			res->message = d.n ? mask_dup(d.v[0].msg)
					   : xstrdup("the expectations are invalid once expanded");
			node_free(en);
			diags_release(&d);
			if (own_priv && mod->free)
				mod->free(own_priv);
			res->duration_s = now_mono_s() - t0;
			return;
		}
		node_free(en);
		diags_release(&d);
		ex = own_expect;
	}
	long long start = now_mono_ms();
	long long within_end = start + pc->within_ms;
	long long every = pc->every_ms > 0 ? pc->every_ms : 2000;
	int attempt = 0;
	enum res_status status = RS_ERROR;
	struct expect_verdict v;
	memset(&v, 0, sizeof(v));
	char *errmsg = NULL;
	int run_deadline = 0; /* the run's --timeout cut this check */

	for (;;) {
		attempt++;
		if (slot) {
			pthread_mutex_lock(&run->lock);
			slot->attempt = attempt;
			pthread_mutex_unlock(&run->lock);
		}
		check_out_release(&out);
		expect_verdict_release(&v);
		free(errmsg);
		errmsg = NULL;

		struct check_ctx ctx = {
			.suite_dir = run->plan->dir,
			.deadline_ms = now_mono_ms() + (pc->timeout_ms > 0 ? pc->timeout_ms : 30000),
			.global_deadline_ms = run->global_deadline_ms,
			.state = state,
			.options = run->o->options,
			.noptions = run->o->noptions,
			.check_id = pc->id,
		};
		if (pc->eventually && !pc->max_attempts) {
			/* an attempt ends with the wait, but always gets a second (or its
			 * whole timeout when shorter): the one made at the deadline too */
			long long floor = now_mono_ms() + WAIT_ATTEMPT_FLOOR_MS;
			long long cut = within_end > floor ? within_end : floor;
			if (ctx.deadline_ms > cut)
				ctx.deadline_ms = cut;
		}
		if (mod->run)
			mod->run(priv, &ctx, &out);
		else {
			out.forced = CHECK_ERROR;
			out.error = xasprintf("module '%s' cannot run checks in this build", mod->name);
		}

		if (stop_signal && out.forced != CHECK_PENDING) {
			status = RS_INTERRUPTED;
			errmsg = xasprintf("%s while it was running (attempt %d)", stop_reason(),
					   attempt);
			break;
		}
		if (ctx_cancelled(&ctx) && out.forced != CHECK_PENDING) {
			status = RS_ERROR;
			run_deadline = 1;
			errmsg = xasprintf("run deadline reached (--timeout) while the check was "
					   "running (attempt %d)",
					   attempt);
			break;
		}
		switch (out.forced) {
		case CHECK_ERROR:
			status = RS_ERROR;
			errmsg = xstrdup(out.error ? out.error : "the check could not run");
			break;
		case CHECK_PENDING:
			status = RS_PENDING;
			errmsg = xstrdup(out.error ? out.error : "awaiting attestation");
			break;
		case CHECK_SKIP:
			status = RS_SKIP;
			errmsg = xstrdup(out.error ? out.error : "skipped by the module");
			break;
		case CHECK_JUDGE:
		default:
			if (!out.facts)
				out.facts = json_object();
			if (ex) {
				expect_judge(ex, out.facts, &v);
				status = v.pass ? RS_PASS : RS_FAIL;
			} else {
				status = RS_PASS;
			}
			break;
		}
		if (status == RS_PASS || status == RS_PENDING || status == RS_SKIP || !pc->eventually ||
		    out.final || (pc->max_attempts && attempt >= pc->max_attempts))
			break;
		/* The last attempt is made at the deadline: sleep at most until
		 * then, and stop once an attempt started at or after it. */
		long long now = now_mono_ms();
		long long end = pc->max_attempts ? now + every : within_end;
		if (now >= end)
			break;
		if (!pc->max_attempts && mod->wait_change) {
			/* the module knows when what the check reads changes: no
			 * polling, an attempt per change (and at the deadline) */
			long long until = end;
			if (run->global_deadline_ms && until > run->global_deadline_ms)
				until = run->global_deadline_ms;
			if (mod->wait_change(priv, &ctx, until) >= 0) {
				if (stop_signal)
					break;
				if (run->global_deadline_ms &&
				    now_mono_ms() >= run->global_deadline_ms) {
					run_deadline = 1;
					break;
				}
				continue;
			}
			now = now_mono_ms();
			if (now >= end)
				continue; /* the attempt at the deadline */
		}
		long long nap = every < end - now ? every : end - now;
		if (run->global_deadline_ms && now + nap > run->global_deadline_ms) {
			sleep_ms_interruptible(run, run->global_deadline_ms - now);
			if (!stop_signal)
				run_deadline = 1;
			break;
		}
		sleep_ms_interruptible(run, nap);
		if (stop_signal)
			break;
		every = (long long)((double)every * (pc->backoff >= 1.0 ? pc->backoff : 1.0));
		if (pc->max_every_ms > 0 && every > pc->max_every_ms)
			every = pc->max_every_ms;
	}
	if (stop_signal && status != RS_PASS && status != RS_INTERRUPTED &&
	    status != RS_PENDING) {
		/* a signal ended the wait between attempts */
		status = RS_INTERRUPTED;
		free(errmsg);
		errmsg = xasprintf("%s while waiting (after %d attempts)", stop_reason(), attempt);
	} else if (run_deadline && status == RS_FAIL) {
		status = RS_ERROR;
		free(errmsg);
		errmsg = xasprintf("run deadline reached (--timeout) while waiting, after %d "
				   "attempts over %.1fs; last attempt: %s",
				   attempt, (double)(now_mono_ms() - start) / 1000.0,
				   v.message ? v.message : "it did not pass");
	}
	res->timed_out = run_deadline;

	res->status = status;
	res->attempts = attempt;
	res->insecure = out.insecure;
	/* the module's own sentence about the facts: the cause of a failed
	 * default expectation, the observed value of a pass */
	char *said = status == RS_PASS || status == RS_FAIL ? module_says(mod, out.facts) : NULL;
	if (status == RS_FAIL) {
		const char *m = v.message ? v.message : "an expectation did not hold";
		if (!pc->expect && said)
			m = said; /* reads better than the module's default program */
		char *msg = pc->eventually
				    ? xasprintf("%s (still failing after %d attempt%s over %.1fs)", m,
						attempt, attempt == 1 ? "" : "s",
						(double)(now_mono_ms() - start) / 1000.0)
				    : xstrdup(m);
		res->message = mask_dup(msg);
		free(msg);
		if (pc->expect || !said) {
			res->expected = mask_dup(v.expected);
			res->seen = mask_dup(v.seen);
		} else {
			/* the module's default held no interest for a person: what it
			 * saw is the message itself */
			res->seen = mask_dup(said);
		}
	} else if (status == RS_PASS) {
		if (v.observed && pc->expect)
			res->seen = mask_dup(v.observed);
		else if (said)
			res->seen = mask_dup(said);
		else if (v.observed)
			res->seen = mask_dup(v.observed);
	}
	free(said);
	if (status != RS_PASS && status != RS_FAIL) {
		char *msg = (status == RS_ERROR && !run_deadline && pc->eventually && attempt > 1)
				    ? xasprintf("%s (after %d attempts)", errmsg, attempt)
				    : xstrdup(errmsg);
		res->message = mask_dup(msg);
		free(msg);
	}
	if (out.attest_by) {
		res->attest_by = mask_dup(out.attest_by);
		res->attest_at = mask_dup(out.attest_at);
		res->attest_note = mask_dup(out.attest_note);
	}
	if (pc->is_collector) {
		char *text = evidence_text(&out);
		add_evidence(res, res->describe ? res->describe : pc->id, text);
		free(text);
	} else if (status != RS_PASS && status != RS_PENDING && out.evidence) {
		char *t = mask_dup(out.evidence);
		add_evidence(res, "output", t);
		free(t);
	}

	/* Values for later steps. */
	if (status == RS_PASS && pc->nsaves && out.facts) {
		for (size_t i = 0; i < pc->nsaves; i++) {
			struct pg_err e;
			json_t *val = jqprog_first(pc->saves[i].prog, out.facts, &e);
			if (!val) {
				res->status = RS_ERROR;
				free(res->message);
				res->message = xasprintf("save %s: the jq program '%s' failed: %s",
							 pc->saves[i].name, pc->saves[i].program_text,
							 e.msg);
				break;
			}
			char *text = json_is_string(val)
					     ? xstrdup(json_string_value(val))
					     : json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
			pthread_mutex_lock(&run->lock);
			vars_set(&run->runtime, pc->saves[i].name, text ? text : "", "saved", 0);
			pthread_mutex_unlock(&run->lock);
			free(text);
			json_decref(val);
		}
	}

	check_out_release(&out);
	expect_verdict_release(&v);
	free(errmsg);
	expect_free(own_expect);
	if (own_priv && mod->free)
		mod->free(own_priv);
	res->duration_s = now_mono_s() - t0;
}

/* ---- result skeleton ---- */

static char **dup_tags(char **tags, size_t n)
{
	if (!n)
		return NULL;
	char **t = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		t[i] = xstrdup(tags[i]);
	return t;
}

static void res_check_init(struct res_check *rc, const struct plan_check *pc, enum res_kind kind)
{
	memset(rc, 0, sizeof(*rc));
	rc->id = xstrdup(pc->id);
	rc->name = mask_dup(pc->name);
	rc->module = xstrdup(pc->mod->name);
	rc->kind = kind;
	rc->gate = (kind == RK_COLLECTOR || kind == RK_ROLLBACK) ? 0
		   : (kind == RK_ACTION ? 1 : pc->gate);
	rc->severity = xstrdup(pc->severity);
	rc->tags = dup_tags(pc->tags, pc->ntags);
	rc->ntags = rc->tags ? pc->ntags : 0;
	rc->status = RS_SKIP;
	rc->remedy = mask_dup(pc->remedy);
	rc->metric_name = xstrdup(pc->metric_name);
	rc->metric_target = xstrdup(pc->metric_target);
	rc->destructive = pc->destructive;
	rc->file = xstrdup(pc->pos.file);
	rc->line = pc->pos.line;
	rc->col = pc->pos.col;
	if (!pc->selected) {
		rc->status = RS_NOT_SELECTED;
		rc->message = xstrdup("not selected");
	}
}

static size_t count_selected(const struct plan_check *v, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += v[i].selected ? 1 : 0;
	return k;
}

/* Builds the result tree for the whole suite, every selected entry "skip"
 * until it runs and every other one "not selected", so nothing is ever
 * dropped from a report. Selected collectors and rollbacks are added only
 * when they run; those not selected are listed as "not selected". */
static void build_skeleton(struct plan *p, struct run_result *r)
{
	r->phases = xcalloc(p->nphases ? p->nphases : 1, sizeof(*r->phases));
	r->nphases = p->nphases;
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *pp = &p->phases[i];
		struct res_phase *rp = &r->phases[i];
		rp->id = xstrdup(pp->id);
		rp->name = mask_dup(pp->name);
		rp->status = RS_SKIP;
		rp->steps = xcalloc(pp->nsteps ? pp->nsteps : 1, sizeof(*rp->steps));
		rp->nsteps = pp->nsteps;
		for (size_t j = 0; j < pp->nsteps; j++) {
			struct plan_step *ps = &pp->steps[j];
			struct res_step *rs = &rp->steps[j];
			rs->id = xstrdup(ps->id);
			rs->name = mask_dup(ps->name);
			rs->checkpoint_id = xstrdup(ps->checkpoint_id);
			rs->checkpoint_name = mask_dup(ps->checkpoint_name);
			rs->status = RS_SKIP;
			size_t cap = ps->nactions + ps->nchecks + ps->ncollectors + ps->nrollbacks;
			rs->checks = xcalloc(cap ? cap : 1, sizeof(*rs->checks));
			for (size_t k = 0; k < ps->nactions; k++)
				res_check_init(&rs->checks[rs->nchecks++], &ps->actions[k], RK_ACTION);
			for (size_t k = 0; k < ps->nchecks; k++)
				res_check_init(&rs->checks[rs->nchecks++], &ps->checks[k], RK_CHECK);
			/* those outside the selection are listed now: they never run */
			for (size_t k = 0; k < ps->ncollectors; k++)
				if (!ps->collectors[k].selected)
					res_check_init(&rs->checks[rs->nchecks++], &ps->collectors[k],
						       RK_COLLECTOR);
			for (size_t k = 0; k < ps->nrollbacks; k++)
				if (!ps->rollbacks[k].selected)
					res_check_init(&rs->checks[rs->nchecks++], &ps->rollbacks[k],
						       RK_ROLLBACK);
		}
	}
}

static void mark_skipped(struct res_check *rc, const char *why, const char *gate)
{
	if (rc->status != RS_SKIP || rc->message)
		return;
	rc->message = xstrdup(why);
	rc->blocked_by = xstrdup(gate);
}

/* A selected entry that never ran because of a signal. */
static void mark_interrupted(struct res_check *rc)
{
	if (rc->status != RS_SKIP || rc->message)
		return;
	rc->status = RS_INTERRUPTED;
	rc->message = xasprintf("not run: %s before it was reached", stop_reason());
}

static char *make_run_id(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	unsigned long salt = ((unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16)) & 0xffffff;
	return xasprintf("%s-%06lx", stamp, salt);
}

void sched_result_header(const struct plan *p, const struct sched_opts *o, struct run_result *r)
{
	r->schema_version = 1;
	r->tool_version = xstrdup(PHASEGATE_VERSION);
	r->suite_name = xstrdup(p->name);
	r->suite_title = mask_dup(p->title ? p->title : p->name);
	r->suite_version = xstrdup(p->version);
	r->environment = xstrdup(p->environment);
	r->run_id = o->run_id ? xstrdup(o->run_id) : make_run_id();
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = 0;
	r->hostname = xstrdup(host[0] ? host : "unknown");
	r->started_at = iso8601_now();
	r->keep_going = o->keep_going;
	r->allow_destructive = o->allow_destructive;
	r->selection = xstrdup(o->selection);
	result_trust_header(r, p->digest, p->attest_max_age_ms / 1000, p->allowed_signers, o->prior);
	r->vars = xcalloc(p->vars.n ? p->vars.n : 1, sizeof(*r->vars));
	for (size_t i = 0; i < p->vars.n; i++) {
		const struct var *v = &p->vars.v[i];
		r->vars[i].name = xstrdup(v->name);
		r->vars[i].value = v->secret ? xstrdup(MASK_TEXT) : mask_dup(v->value);
		r->vars[i].origin = xstrdup(v->origin);
	}
	r->nvars = p->vars.n;
}

/* ---- checkpoints ---- */

struct pool {
	struct run *run;
	struct slot *slots;
	size_t n;
	size_t next;    /* next slot to start; under run->lock */
	size_t awaited; /* the slot the printer waits for (n: none, it
	                   waits for the last worker); under run->lock */
};

static void *worker(void *arg)
{
	struct pool *pool = arg;
	struct run *run = pool->run;
	for (;;) {
		pthread_mutex_lock(&run->lock);
		size_t i = pool->next;
		if (i < pool->n && !stop_signal)
			pool->next++;
		else
			i = pool->n;
		if (i < pool->n) {
			pool->slots[i].running = 1;
			pool->slots[i].started_ms = now_mono_ms();
		}
		pthread_mutex_unlock(&run->lock);
		if (i >= pool->n)
			break;
		run_check(run, pool->slots[i].pc, pool->slots[i].res, &pool->slots[i]);
		pthread_mutex_lock(&run->lock);
		pool->slots[i].done = 1;
		pool->slots[i].running = 0;
		/* the printer goes in order: only its slot's end wakes it, and
		 * with no one watching, only the workers' exit (a wake-up per
		 * check would cost two context switches per check) */
		if (i == pool->awaited)
			pthread_cond_broadcast(&run->done_cv);
		pthread_mutex_unlock(&run->lock);
	}
	pthread_mutex_lock(&run->lock);
	pthread_cond_broadcast(&run->done_cv);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void show_progress(struct run *run, struct pool *pool, size_t printed)
{
	const struct sched_observer *obs = run->o->observer;
	if (!obs || !obs->progress)
		return;
	/* the oldest running check is the one a person waits for */
	for (size_t i = printed; i < pool->n; i++) {
		struct slot *s = &pool->slots[i];
		if (!s->running)
			continue;
		const struct plan_check *pc = s->pc;
		double el = (double)(now_mono_ms() - s->started_ms) / 1000.0;
		char *text;
		if (pc->max_attempts)
			text = xasprintf("retrying %s: attempt %d of %d (%.0fs)", pc->id, s->attempt,
					 pc->max_attempts, el);
		else if (pc->eventually)
			text = xasprintf("waiting for %s: attempt %d, %.0fs of %.0fs", pc->id, s->attempt,
					 el, (double)pc->within_ms / 1000.0);
		else
			text = xasprintf("running %s (%.0fs)", pc->id, el);
		obs->progress(obs->ctx, text);
		free(text);
		return;
	}
}

/* Runs n entries concurrently, reporting them to the console in order. */
static void run_pool(struct run *run, struct slot *slots, size_t n)
{
	if (!n)
		return;
	const struct sched_observer *obs = run->o->observer;
	int watched = obs && (obs->entry_done || obs->progress);
	struct pool pool = {.run = run, .slots = slots, .n = n, .awaited = watched ? 0 : n};
	size_t nthreads = (size_t)(run->o->jobs > 0 ? run->o->jobs : 1);
	if (nthreads > n)
		nthreads = n;
	pthread_t *th = xcalloc(nthreads, sizeof(*th));
	size_t started = 0;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_create(&th[i], &attr, worker, &pool) != 0)
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	if (!started) /* no threads to be had: run here */
		worker(&pool);

	size_t printed = 0;
	pthread_mutex_lock(&run->lock);
	for (;;) {
		while (printed < n && slots[printed].done) {
			pthread_mutex_unlock(&run->lock);
			obs_entry(run, slots[printed].res);
			pthread_mutex_lock(&run->lock);
			printed++;
		}
		if (printed == n)
			break;
		int anyrunning = 0;
		for (size_t i = printed; i < n; i++)
			anyrunning |= slots[i].running;
		if (!anyrunning && pool.next >= n)
			break; /* the rest were never started (interrupted) */
		show_progress(run, &pool, printed);
		if (watched)
			pool.awaited = printed;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&run->done_cv, &run->lock, &ts);
	}
	pthread_mutex_unlock(&run->lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	/* anything never started was cut short by a stop */
	for (size_t i = printed; i < n; i++) {
		if (!slots[i].done && !slots[i].res->message) {
			if (stop_signal)
				mark_interrupted(slots[i].res);
			else
				mark_skipped(slots[i].res, "not run: the run deadline (--timeout) passed",
					     NULL);
		}
		obs_entry(run, slots[i].res);
	}
}

static int failed(enum res_status s)
{
	return s == RS_FAIL || s == RS_ERROR;
}

/* Runs the selected entries of list (collectors or rollbacks) of a step
 * whose gate failed, appending their results to rs. Collectors run
 * together; rollbacks one after the other, stopping at the first failure. */
static void run_after_failure(struct run *run, const struct plan_check *list, size_t n,
			      enum res_kind kind, struct res_step *rs)
{
	size_t nsel = count_selected(list, n);
	if (!nsel)
		return;
	struct slot *slots = xcalloc(nsel, sizeof(*slots));
	size_t ns = 0;
	for (size_t k = 0; k < n; k++) {
		if (!list[k].selected)
			continue;
		res_check_init(&rs->checks[rs->nchecks], &list[k], kind);
		slots[ns].pc = &list[k];
		slots[ns].res = &rs->checks[rs->nchecks];
		rs->nchecks++;
		ns++;
	}
	if (kind == RK_COLLECTOR) {
		run_pool(run, slots, ns);
	} else {
		int failed_before = 0;
		for (size_t k = 0; k < ns; k++) {
			struct res_check *rc = slots[k].res;
			if (failed_before || stop_signal) {
				if (stop_signal)
					mark_interrupted(rc);
				else
					mark_skipped(rc, "not run: an earlier rollback action failed", NULL);
			} else {
				run_check(run, slots[k].pc, rc, NULL);
				if (rc->status != RS_PASS && rc->status != RS_NOT_NEEDED) {
					failed_before = 1;
					char *m = xasprintf("ROLLBACK FAILED: %s",
							    rc->message ? rc->message : "it did not pass");
					free(rc->message);
					rc->message = m;
				}
			}
			obs_entry(run, rc);
		}
	}
	free(slots);
}

/* Runs one step; returns 1 when its gate failed. */
static int run_step(struct run *run, const struct plan_step *ps, struct res_step *rs)
{
	obs_step(run, rs);
	size_t ri = 0; /* index into rs->checks, which follows suite order */
	int gate_failed = 0;
	struct res_check *failing = NULL;

	for (size_t k = 0; k < ps->nactions; k++) {
		struct res_check *rc = &rs->checks[ri++];
		if (!ps->actions[k].selected)
			continue;
		if (stop_signal) {
			mark_interrupted(rc);
		} else if (gate_failed ||
			   (run->global_deadline_ms && now_mono_ms() >= run->global_deadline_ms)) {
			mark_skipped(rc, gate_failed ? "not run: an earlier action failed"
						     : "not run: the run deadline (--timeout) passed",
				     NULL);
		} else {
			run_check(run, &ps->actions[k], rc, NULL);
			if (rc->status != RS_PASS && rc->status != RS_INTERRUPTED &&
			    rc->status != RS_NOT_NEEDED) {
				gate_failed = 1;
				failing = rc;
			}
		}
		obs_entry(run, rc);
	}

	size_t nsel = count_selected(ps->checks, ps->nchecks);
	struct slot *slots = xcalloc(nsel ? nsel : 1, sizeof(*slots));
	size_t ns = 0;
	for (size_t k = 0; k < ps->nchecks; k++, ri++) {
		if (!ps->checks[k].selected)
			continue;
		slots[ns].pc = &ps->checks[k];
		slots[ns].res = &rs->checks[ri];
		ns++;
	}
	if (gate_failed || stop_signal) {
		char *why = failing ? xasprintf("blocked by gate %s: action %s failed",
						rs->checkpoint_id, failing->id)
				    : NULL;
		for (size_t k = 0; k < ns; k++) {
			if (stop_signal)
				mark_interrupted(slots[k].res);
			else
				mark_skipped(slots[k].res, why, rs->checkpoint_id);
			obs_entry(run, slots[k].res);
		}
		free(why);
	} else {
		run_pool(run, slots, ns);
		for (size_t k = 0; k < ns; k++) {
			struct res_check *rc = slots[k].res;
			if (rc->gate && failed(rc->status)) {
				gate_failed = 1;
				if (!failing)
					failing = rc;
			}
		}
	}
	free(slots);

	if (gate_failed) {
		if (!run->r->blocking_gate) {
			run->r->blocking_gate = xstrdup(rs->checkpoint_id);
			run->r->blocking_check = xstrdup(failing ? failing->id : NULL);
		}
		if (!stop_signal)
			run_after_failure(run, ps->collectors, ps->ncollectors, RK_COLLECTOR, rs);
		if (!stop_signal)
			run_after_failure(run, ps->rollbacks, ps->nrollbacks, RK_ROLLBACK, rs);
	}
	return gate_failed;
}

/* Approvals are sign-offs from the attestation files. */
static void judge_approvals(const struct plan *p, const struct sched_opts *o, struct run_result *r)
{
	r->approvals = xcalloc(p->napprovals ? p->napprovals : 1, sizeof(*r->approvals));
	r->napprovals = p->napprovals;
	for (size_t i = 0; i < p->napprovals; i++) {
		struct res_approval *a = &r->approvals[i];
		a->id = xstrdup(p->approvals[i].id);
		a->role = mask_dup(p->approvals[i].role);
	}
	r->attest_files = xcalloc(o->nattest_files ? o->nattest_files : 1, sizeof(char *));
	for (size_t i = 0; i < o->nattest_files; i++)
		r->attest_files[r->nattest_files++] = xstrdup(o->attest_files[i]);
	attest_judge_approvals(r);
}

int sched_run(struct plan *p, const struct sched_opts *o, struct run_result *r, struct pg_err *e)
{
	struct run run;
	memset(&run, 0, sizeof(run));
	run.plan = p;
	run.o = o;
	run.r = r;
	if (o->global_timeout_ms > 0)
		run.global_deadline_ms = now_mono_ms() + o->global_timeout_ms;
	vars_init(&run.runtime);
	for (size_t i = 0; i < p->vars.n; i++)
		vars_set(&run.runtime, p->vars.v[i].name, p->vars.v[i].value, p->vars.v[i].origin,
			 p->vars.v[i].secret);
	if (pthread_mutex_init(&run.lock, NULL) != 0 || pthread_cond_init(&run.done_cv, NULL) != 0) {
		vars_release(&run.runtime);
		return pg_error(e, "cannot initialise the scheduler's locks");
	}

	sched_result_header(p, o, r);
	attest_set_run(r->run_id);
	build_skeleton(p, r);
	double t0 = now_mono_s();
	const struct sched_observer *obs = o->observer;
	if (obs && obs->run_start)
		obs->run_start(obs->ctx, r);

	const char *blocked = NULL; /* gate id that stopped the run */
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *pp = &p->phases[i];
		struct res_phase *rp = &r->phases[i];
		int any = 0;
		for (size_t j = 0; j < pp->nsteps; j++)
			any |= plan_step_selected(&pp->steps[j]);
		if (!any)
			continue; /* nothing selected in it: stays "not selected" */
		double pt0 = now_mono_s();
		if (!blocked && !stop_signal)
			rp->started_at = iso8601_now();
		if (obs && obs->phase_start)
			obs->phase_start(obs->ctx, rp);
		for (size_t j = 0; j < pp->nsteps; j++) {
			struct plan_step *ps = &pp->steps[j];
			struct res_step *rs = &rp->steps[j];
			if (!plan_step_selected(ps))
				continue;
			int timed_out = run.global_deadline_ms && now_mono_ms() >= run.global_deadline_ms;
			if (blocked || stop_signal || timed_out) {
				char *why = blocked ? xasprintf("blocked by gate %s", blocked)
						    : xstrdup("not run: the run deadline (--timeout) passed");
				if (timed_out && !blocked)
					r->timed_out = 1;
				obs_step(&run, rs);
				for (size_t k = 0; k < rs->nchecks; k++) {
					if (stop_signal && !blocked)
						mark_interrupted(&rs->checks[k]);
					else
						mark_skipped(&rs->checks[k], why, blocked);
					if (rs->checks[k].status != RS_NOT_SELECTED)
						obs_entry(&run, &rs->checks[k]);
				}
				free(why);
				continue;
			}
			if (run_step(&run, ps, rs) && !o->keep_going)
				blocked = rs->checkpoint_id;
		}
		rp->duration_s = now_mono_s() - pt0;
	}
	if (run.global_deadline_ms && now_mono_ms() >= run.global_deadline_ms)
		r->timed_out = 1;

	judge_approvals(p, o, r);
	r->duration_s = now_mono_s() - t0;
	r->finished_at = iso8601_now();
	r->interrupted = stop_signal;
	verdict_judge(r);
	if (obs && obs->run_end)
		obs->run_end(obs->ctx, r);

	vars_release(&run.runtime);
	pthread_mutex_destroy(&run.lock);
	pthread_cond_destroy(&run.done_cv);
	return 0;
}
