/* test_scheduler.c - the scheduler on hand-built plans with a fake module:
 * gates and blocking, non-gating checks, eventually-polling, saved values
 * and deferred configs, on_failure evidence, keep-going, pending checks,
 * the global timeout, the stop signal, and suite order under concurrency. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect.h"
#include "result.h"
#include "scheduler.h"
#include "verdict.h"
#include "suite.h"
#include "vars.h"

/* ---- a fake module: behaviour chosen by the config ---- */

struct fake {
	int pass_from;    /* attempt number from which "ok" is true (0 = never) */
	int sleep_ms;
	int pending;
	char *value;      /* echoed as facts.value */
	int attempts;     /* counted across runs */
	pthread_mutex_t lock;
};

static int fake_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	f->pass_from = (int)cfg_int(cfg, "pass_from", 1);
	f->sleep_ms = (int)cfg_int(cfg, "sleep_ms", 0);
	f->pending = cfg_bool(cfg, "pending", 0);
	f->value = xstrdup(cfg_str(cfg, "value", ""));
	pthread_mutex_init(&f->lock, NULL);
	*priv = f;
	return 0;
}

static void fake_free(void *priv)
{
	struct fake *f = priv;
	pthread_mutex_destroy(&f->lock);
	free(f->value);
	free(f);
}

static void fake_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	struct fake *f = priv;
	pthread_mutex_lock(&f->lock);
	int n = ++f->attempts;
	pthread_mutex_unlock(&f->lock);
	long long end = now_mono_ms() + f->sleep_ms;
	while (now_mono_ms() < end && !ctx_cancelled(ctx) && ctx_remaining_ms(ctx) > 0)
		usleep(2000);
	if (f->pending) {
		out->forced = CHECK_PENDING;
		out->error = xstrdup("awaiting attestation");
		return;
	}
	if (ctx_remaining_ms(ctx) <= 0 && f->sleep_ms) {
		out->forced = CHECK_ERROR;
		out->error = xstrdup("no answer before the deadline");
		return;
	}
	out->facts = json_pack("{s:b, s:i, s:s}", "ok", f->pass_from && n >= f->pass_from, "n", n,
			       "value", f->value);
	out->evidence = xasprintf("fake output of attempt %d", n);
}

static char *fake_describe(void *priv)
{
	struct fake *f = priv;
	return xasprintf("fake value=%s", f->value);
}

static const struct key_spec fake_keys[] = {
	{"pass_from", KT_INT, 0, ""}, {"sleep_ms", KT_INT, 0, ""},
	{"pending", KT_BOOL, 0, ""},  {"value", KT_STR, 0, ""},
	{NULL, 0, 0, NULL},
};

static const struct check_module fake_module = {
	.name = "fake",
	.api_version = CHECK_API_VERSION,
	.keys = fake_keys,
	.default_expect = ".ok == true",
	.parse = fake_parse,
	.run = fake_run,
	.describe = fake_describe,
	.free = fake_free,
};

/* ---- building plans by hand ---- */

static struct node_pos here(void)
{
	struct node_pos p = {.file = node_intern("test.yaml"), .line = 1, .col = 1};
	return p;
}

/* A check whose config is given as YAML text, e.g. "{pass_from: 3}". */
static void make_check(struct plan_check *pc, const char *id, const char *cfg_yaml)
{
	memset(pc, 0, sizeof(*pc));
	pc->id = xstrdup(id);
	pc->name = xasprintf("check %s", id);
	pc->mod = &fake_module;
	struct diags d;
	diags_init(&d);
	assert_int_equal(node_load_string("cfg", cfg_yaml, strlen(cfg_yaml), NULL, &pc->cfg, &d), 0);
	pc->deferred = vars_has_ref(cfg_yaml);
	if (!pc->deferred)
		assert_int_equal(fake_parse(pc->cfg, NULL, &pc->priv, &d), 0);
	struct pg_err e;
	assert_int_equal(expect_compile_jq(fake_module.default_expect, &pc->default_expect, &e), 0);
	diags_release(&d);
	pc->gate = 1;
	pc->severity = xstrdup("high");
	pc->timeout_ms = 5000;
	pc->selected = 1;
	pc->pos = here();
}

static void free_check(struct plan_check *pc)
{
	free(pc->id);
	free(pc->name);
	free(pc->severity);
	free(pc->remedy);
	if (pc->priv)
		fake_free(pc->priv);
	node_free(pc->cfg);
	expect_free(pc->expect);
	expect_free(pc->default_expect);
	for (size_t i = 0; i < pc->nsaves; i++) {
		free(pc->saves[i].name);
		free(pc->saves[i].program_text);
		jqprog_free(pc->saves[i].prog);
	}
	free(pc->saves);
}

/* A plan of nphases phases, one step each, nchecks checks per step. */
static struct plan *make_plan(size_t nphases, size_t nchecks)
{
	struct plan *p = xcalloc(1, sizeof(*p));
	p->name = xstrdup("sched-test");
	p->dir = xstrdup(".");
	vars_init(&p->vars);
	p->nphases = nphases;
	p->phases = xcalloc(nphases, sizeof(*p->phases));
	for (size_t i = 0; i < nphases; i++) {
		struct plan_phase *ph = &p->phases[i];
		ph->id = xasprintf("%zu", i + 1);
		ph->name = xasprintf("Phase %zu", i + 1);
		ph->nsteps = 1;
		ph->steps = xcalloc(1, sizeof(*ph->steps));
		struct plan_step *s = ph->steps;
		s->id = xasprintf("%zu.1", i + 1);
		s->name = xasprintf("Step %zu.1", i + 1);
		s->checkpoint_id = xasprintf("checkpoint-%zu.1", i + 1);
		s->checkpoint_name = xstrdup("gate");
		s->nchecks = nchecks;
		s->checks = xcalloc(nchecks ? nchecks : 1, sizeof(*s->checks));
		for (size_t k = 0; k < nchecks; k++) {
			char *id = xasprintf("c%zu.%zu", i + 1, k + 1);
			make_check(&s->checks[k], id, "{pass_from: 1}");
			free(id);
		}
	}
	return p;
}

static void replace_check(struct plan_check *pc, const char *cfg_yaml)
{
	char *id = xstrdup(pc->id);
	free_check(pc);
	make_check(pc, id, cfg_yaml);
	free(id);
}

static void free_plan(struct plan *p)
{
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *ph = &p->phases[i];
		for (size_t j = 0; j < ph->nsteps; j++) {
			struct plan_step *s = &ph->steps[j];
			for (size_t k = 0; k < s->nactions; k++)
				free_check(&s->actions[k]);
			for (size_t k = 0; k < s->nchecks; k++)
				free_check(&s->checks[k]);
			for (size_t k = 0; k < s->ncollectors; k++)
				free_check(&s->collectors[k]);
			free(s->actions);
			free(s->checks);
			free(s->collectors);
			free(s->id);
			free(s->name);
			free(s->checkpoint_id);
			free(s->checkpoint_name);
		}
		free(ph->steps);
		free(ph->id);
		free(ph->name);
	}
	free(p->phases);
	for (size_t i = 0; i < p->napprovals; i++) {
		free(p->approvals[i].id);
		free(p->approvals[i].role);
	}
	free(p->approvals);
	vars_release(&p->vars);
	free(p->name);
	free(p->dir);
	free(p);
}

static struct res_check *find(struct run_result *r, const char *id)
{
	for (size_t i = 0; i < r->nphases; i++)
		for (size_t j = 0; j < r->phases[i].nsteps; j++)
			for (size_t k = 0; k < r->phases[i].steps[j].nchecks; k++)
				if (strcmp(r->phases[i].steps[j].checks[k].id, id) == 0)
					return &r->phases[i].steps[j].checks[k];
	return NULL;
}

static void run_plan(struct plan *p, struct sched_opts *o, struct run_result *r)
{
	memset(r, 0, sizeof(*r));
	struct pg_err e;
	assert_int_equal(sched_run(p, o, r, &e), 0);
}

/* ---- tests ---- */

static void test_all_pass(void **state)
{
	struct plan *p = make_plan(2, 3);
	struct sched_opts o = {.jobs = 4};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.verdict, "GO");
	assert_int_equal(r.total, 6);
	assert_int_equal(r.passed, 6);
	assert_null(r.blocking_gate);
	result_release(&r);
	free_plan(p);
}

static void test_gate_blocks_later_phases(void **state)
{
	struct plan *p = make_plan(4, 2);
	replace_check(&p->phases[1].steps[0].checks[1], "{pass_from: 0}");
	p->phases[1].steps[0].checks[1].remedy = xstrdup("restart the server");
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 1);
	assert_string_equal(r.verdict, "NO-GO");
	assert_string_equal(r.blocking_gate, "checkpoint-2.1");
	assert_string_equal(r.blocking_check, "c2.2");
	struct res_check *f = find(&r, "c2.2");
	assert_int_equal(f->status, RS_FAIL);
	assert_non_null(strstr(f->message, ".ok == true"));
	assert_string_equal(f->remedy, "restart the server");
	assert_int_equal(find(&r, "c2.1")->status, RS_PASS);
	for (int ph = 3; ph <= 4; ph++)
		for (int k = 1; k <= 2; k++) {
			char id[16];
			snprintf(id, sizeof(id), "c%d.%d", ph, k);
			struct res_check *c = find(&r, id);
			assert_non_null(c);
			assert_int_equal(c->status, RS_SKIP);
			assert_string_equal(c->message, "blocked by gate checkpoint-2.1");
			assert_string_equal(c->blocked_by, "checkpoint-2.1");
		}
	assert_int_equal(r.skipped, 4);
	assert_int_equal(r.failed, 1);
	/* the fake's output is evidence of the failing check */
	assert_true(f->nevidence >= 1);
	result_release(&r);
	free_plan(p);
}

static void test_non_gating_failure_does_not_stop(void **state)
{
	struct plan *p = make_plan(2, 2);
	replace_check(&p->phases[0].steps[0].checks[0], "{pass_from: 0}");
	p->phases[0].steps[0].checks[0].gate = 0;
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.verdict, "GO");
	assert_int_equal(find(&r, "c1.1")->status, RS_FAIL);
	assert_int_equal(find(&r, "c2.1")->status, RS_PASS);
	result_release(&r);
	free_plan(p);
}

static void test_keep_going_runs_everything(void **state)
{
	struct plan *p = make_plan(3, 1);
	replace_check(&p->phases[0].steps[0].checks[0], "{pass_from: 0}");
	struct sched_opts o = {.jobs = 1, .keep_going = 1};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 1);
	assert_int_equal(r.keep_going, 1);
	assert_string_equal(r.blocking_gate, "checkpoint-1.1");
	assert_int_equal(find(&r, "c2.1")->status, RS_PASS);
	assert_int_equal(find(&r, "c3.1")->status, RS_PASS);
	result_release(&r);
	free_plan(p);
}

static void test_eventually_counts_attempts(void **state)
{
	struct plan *p = make_plan(1, 2);
	struct plan_check *a = &p->phases[0].steps[0].checks[0];
	replace_check(a, "{pass_from: 4}");
	a->eventually = 1;
	a->within_ms = 5000;
	a->every_ms = 10;
	a->backoff = 1.0;
	struct plan_check *b = &p->phases[0].steps[0].checks[1];
	replace_check(b, "{pass_from: 0}");
	b->gate = 0;
	b->eventually = 1;
	b->within_ms = 200;
	b->every_ms = 20;
	b->backoff = 2.0;
	b->max_every_ms = 60;
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	struct res_check *ca = find(&r, "c1.1"), *cb = find(&r, "c1.2");
	assert_int_equal(ca->status, RS_PASS);
	assert_int_equal(ca->attempts, 4);
	assert_int_equal(cb->status, RS_FAIL);
	/* waits 20, 40, 60, 60 ... within 200 ms: a handful of attempts, more than one */
	assert_true(cb->attempts >= 3 && cb->attempts <= 6);
	assert_non_null(strstr(cb->message, "attempts"));
	result_release(&r);
	free_plan(p);
}

static void test_saved_value_feeds_deferred_check(void **state)
{
	struct plan *p = make_plan(2, 1);
	struct plan_check *saver = &p->phases[0].steps[0].checks[0];
	replace_check(saver, "{value: abc123}");
	saver->nsaves = 1;
	saver->saves = xcalloc(1, sizeof(*saver->saves));
	saver->saves[0].name = xstrdup("rev");
	saver->saves[0].program_text = xstrdup(".value");
	struct pg_err e;
	assert_int_equal(jqprog_compile(".value", &saver->saves[0].prog, &e), 0);
	struct plan_check *user = &p->phases[1].steps[0].checks[0];
	replace_check(user, "{value: 'rollback to ${rev}'}");
	assert_true(user->deferred);
	assert_int_equal(expect_compile_jq(".value == \"rollback to abc123\"", &user->expect, &e), 0);
	struct sched_opts o = {.jobs = 1};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(find(&r, "c1.1")->status, RS_PASS);
	struct res_check *u = find(&r, "c2.1");
	assert_int_equal(u->status, RS_PASS);
	assert_string_equal(u->describe, "fake value=rollback to abc123");
	result_release(&r);
	free_plan(p);
}

static void test_collectors_evidence(void **state)
{
	struct plan *p = make_plan(2, 1);
	struct plan_step *s = &p->phases[0].steps[0];
	replace_check(&s->checks[0], "{pass_from: 0}");
	s->ncollectors = 1;
	s->collectors = xcalloc(1, sizeof(*s->collectors));
	make_check(&s->collectors[0], "collect", "{value: the-events}");
	s->collectors[0].is_collector = 1;
	s->collectors[0].gate = 0;
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(find(&r, "c1.1")->status, RS_FAIL);
	struct res_check *c = find(&r, "collect");
	assert_non_null(c);
	assert_int_equal(c->kind, RK_COLLECTOR);
	assert_int_equal(c->nevidence, 1);
	assert_non_null(strstr(c->evidence[0].text, "fake output"));
	/* collectors run only when their gate failed */
	assert_int_equal(r.phases[1].steps[0].nchecks, 1);
	/* collectors are not counted as checks */
	assert_int_equal(r.total, 2);
	result_release(&r);
	free_plan(p);
}

static void test_failed_action_blocks_its_checkpoint(void **state)
{
	struct plan *p = make_plan(2, 2);
	struct plan_step *s = &p->phases[0].steps[0];
	s->nactions = 2;
	s->actions = xcalloc(2, sizeof(*s->actions));
	make_check(&s->actions[0], "apply", "{pass_from: 0}");
	make_check(&s->actions[1], "apply-2", "{pass_from: 1}");
	s->actions[0].is_action = s->actions[1].is_action = 1;
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 1);
	assert_int_equal(find(&r, "apply")->status, RS_FAIL);
	assert_int_equal(find(&r, "apply-2")->status, RS_SKIP);
	assert_int_equal(find(&r, "c1.1")->status, RS_SKIP);
	assert_non_null(strstr(find(&r, "c1.1")->message, "blocked by gate checkpoint-1.1"));
	assert_int_equal(find(&r, "c2.1")->status, RS_SKIP);
	assert_string_equal(r.blocking_check, "apply");
	result_release(&r);
	free_plan(p);
}

static void test_pending_gives_pending_verdict(void **state)
{
	struct plan *p = make_plan(1, 2);
	replace_check(&p->phases[0].steps[0].checks[1], "{pending: true}");
	struct sched_opts o = {.jobs = 2};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 0);
	assert_string_equal(r.verdict, "PENDING");
	assert_int_equal(find(&r, "c1.2")->status, RS_PENDING);
	assert_int_equal(r.pending, 1);
	result_release(&r);
	free_plan(p);
}

static void test_global_timeout(void **state)
{
	struct plan *p = make_plan(2, 1);
	replace_check(&p->phases[0].steps[0].checks[0], "{sleep_ms: 3000}");
	struct sched_opts o = {.jobs = 1, .global_timeout_ms = 150};
	struct run_result r;
	run_plan(p, &o, &r);
	assert_int_equal(r.exit_code, 1);
	assert_int_equal(r.timed_out, 1);
	struct res_check *c = find(&r, "c1.1");
	assert_int_equal(c->status, RS_ERROR);
	assert_non_null(strstr(c->message, "timeout"));
	assert_int_equal(find(&r, "c2.1")->status, RS_SKIP);
	result_release(&r);
	free_plan(p);
}

static void test_results_in_suite_order_under_concurrency(void **state)
{
	struct plan *p = make_plan(1, 6);
	/* the first checks take longest, so they finish last */
	for (int k = 0; k < 6; k++) {
		char cfg[64];
		snprintf(cfg, sizeof(cfg), "{sleep_ms: %d}", (6 - k) * 15);
		replace_check(&p->phases[0].steps[0].checks[k], cfg);
	}
	struct sched_opts o = {.jobs = 6};
	struct run_result r;
	run_plan(p, &o, &r);
	struct res_step *s = &r.phases[0].steps[0];
	assert_int_equal(s->nchecks, 6);
	for (int k = 0; k < 6; k++) {
		char id[16];
		snprintf(id, sizeof(id), "c1.%d", k + 1);
		assert_string_equal(s->checks[k].id, id);
		assert_int_equal(s->checks[k].status, RS_PASS);
	}
	result_release(&r);
	free_plan(p);
}

/* An observer hears of each entry as soon as it and every entry before it
 * are done, in suite order, each once: a slow check holds back only what
 * comes after it. */
struct heard {
	char ids[8][16];
	long long at_ms[8];
	int n;
};

static void heard_entry(void *ctx, const struct res_check *k)
{
	struct heard *h = ctx;
	if (h->n < 8) {
		snprintf(h->ids[h->n], sizeof(h->ids[h->n]), "%s", k->id);
		h->at_ms[h->n] = now_mono_ms();
	}
	h->n++;
}

static void test_observer_hears_entries_as_they_end(void **state)
{
	struct plan *p = make_plan(1, 4);
	static const int sleeps[] = {10, 1500, 10, 10};
	for (int k = 0; k < 4; k++) {
		char cfg[64];
		snprintf(cfg, sizeof(cfg), "{sleep_ms: %d}", sleeps[k]);
		replace_check(&p->phases[0].steps[0].checks[k], cfg);
	}
	struct heard h = {.n = 0};
	struct sched_observer obs = {.ctx = &h, .entry_done = heard_entry};
	struct sched_opts o = {.jobs = 4, .observer = &obs};
	struct run_result r;
	long long t0 = now_mono_ms();
	run_plan(p, &o, &r);
	assert_int_equal(h.n, 4);
	for (int k = 0; k < 4; k++) {
		char id[16];
		snprintf(id, sizeof(id), "c1.%d", k + 1);
		assert_string_equal(h.ids[k], id);
	}
	/* c1.1 was heard while c1.2 still ran, the rest only after it */
	assert_true(h.at_ms[0] - t0 < 1000);
	assert_true(h.at_ms[2] - t0 >= 1500 && h.at_ms[3] >= h.at_ms[2]);
	result_release(&r);
	free_plan(p);
}

static void test_selection_reports_unselected(void **state)
{
	struct plan *p = make_plan(3, 1);
	p->phases[0].steps[0].checks[0].selected = 0;
	p->phases[2].steps[0].checks[0].selected = 0;
	struct sched_opts o = {.jobs = 1, .selection = "--phase 2"};
	struct run_result r;
	run_plan(p, &o, &r);
	/* every phase is reported; what was left out says so and never ran */
	assert_int_equal(r.nphases, 3);
	assert_int_equal(r.phases[0].steps[0].checks[0].status, RS_NOT_SELECTED);
	assert_int_equal(r.phases[0].status, RS_NOT_SELECTED);
	assert_null(r.phases[0].steps[0].checks[0].started_at);
	assert_int_equal(r.phases[1].steps[0].checks[0].status, RS_PASS);
	assert_int_equal(r.phases[2].steps[0].checks[0].status, RS_NOT_SELECTED);
	assert_string_equal(r.selection, "--phase 2");
	assert_int_equal(r.total, 3);
	assert_int_equal(r.not_selected, 2);
	/* a partial run is never GO */
	assert_string_equal(r.verdict, "PARTIAL");
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(verdict_exit_code(&r, 1), 4);
	result_release(&r);
	free_plan(p);
}

static void test_secret_masked_in_results(void **state)
{
	mask_add("hunter2-secret");
	struct plan *p = make_plan(1, 1);
	replace_check(&p->phases[0].steps[0].checks[0], "{pass_from: 0, value: 'pw=hunter2-secret'}");
	struct pg_err e;
	assert_int_equal(expect_compile_jq(".value == \"x\"", &p->phases[0].steps[0].checks[0].expect, &e),
			 0);
	struct sched_opts o = {.jobs = 1};
	struct run_result r;
	run_plan(p, &o, &r);
	struct res_check *c = find(&r, "c1.1");
	assert_int_equal(c->status, RS_FAIL);
	assert_null(strstr(c->describe, "hunter2-secret"));
	assert_non_null(strstr(c->describe, MASK_TEXT));
	json_t *j = result_to_json(&r);
	char *text = json_dumps(j, 0);
	assert_null(strstr(text, "hunter2-secret"));
	free(text);
	json_decref(j);
	result_release(&r);
	free_plan(p);
	mask_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_pass),
		cmocka_unit_test(test_gate_blocks_later_phases),
		cmocka_unit_test(test_non_gating_failure_does_not_stop),
		cmocka_unit_test(test_keep_going_runs_everything),
		cmocka_unit_test(test_eventually_counts_attempts),
		cmocka_unit_test(test_saved_value_feeds_deferred_check),
		cmocka_unit_test(test_collectors_evidence),
		cmocka_unit_test(test_failed_action_blocks_its_checkpoint),
		cmocka_unit_test(test_pending_gives_pending_verdict),
		cmocka_unit_test(test_global_timeout),
		cmocka_unit_test(test_results_in_suite_order_under_concurrency),
		cmocka_unit_test(test_observer_hears_entries_as_they_end),
		cmocka_unit_test(test_selection_reports_unselected),
		cmocka_unit_test(test_secret_masked_in_results),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
