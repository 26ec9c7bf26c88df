/* test_suite.c - unit tests of the suite loader (runner/suite.c): the small
 * suites under tests/unit/suites/ become plans (counts, ids, defaults,
 * variables, secrets, deferred saves, selection), and bad suites report
 * every problem with its position in one pass.
 *
 * Built twice: as the cmocka test, and with PG_SUITE_PLUGIN defined as a
 * tiny external module ("gadget") that the test loads, so that module init,
 * settings, parse, changes_world, free and fini are exercised through the
 * real plugin interface. The plugin part uses libc only. */
/* What the gadget module keeps, read by the test through the plan. */
struct gadget_state {
	char context[64]; /* settings "context" */
	char zone[64];    /* settings "zone" */
	int had_settings; /* init() got a settings map */
};
struct gadget_priv {
	const void *state; /* the state parse() was given */
	int world;         /* mode: apply */
};

#ifdef PG_SUITE_PLUGIN

#include <stdlib.h>
#include <string.h>

#include "module.h"

static const char *scalar_of(const struct node *map, const char *key)
{
	if (!map || map->kind != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0 &&
		    map->pairs[i].value->kind == NODE_SCALAR)
			return map->pairs[i].value->str;
	return NULL;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	size_t len = src ? strlen(src) : 0;
	if (len >= size)
		len = size - 1;
	if (len)
		memcpy(dst, src, len);
	dst[len] = 0;
}

static int gadget_init(const struct node *settings, void **state, struct diags *d)
{
	struct gadget_state *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	copy_text(s->context, sizeof(s->context), scalar_of(settings, "context"));
	copy_text(s->zone, sizeof(s->zone), scalar_of(settings, "zone"));
	s->had_settings = settings != NULL;
	*state = s;
	return 0;
}

static void gadget_fini(void *state)
{
	free(state);
}

static int gadget_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	struct gadget_priv *p = calloc(1, sizeof(*p));
	const char *mode = scalar_of(cfg, "mode");
	if (!p)
		return -1;
	p->state = state;
	p->world = mode && strcmp(mode, "apply") == 0;
	*priv = p;
	return 0;
}

static void gadget_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	out->forced = CHECK_SKIP;
}

static int gadget_changes_world(const void *priv)
{
	return ((const struct gadget_priv *)priv)->world;
}

static void gadget_free(void *priv)
{
	free(priv);
}

static const struct key_spec gadget_keys[] = {
	{"mode", KT_STR, 0, "apply changes the world, anything else reads"},
	{"target", KT_STR, 0, "what to look at"},
	{NULL, KT_ANY, 0, NULL},
};

const struct check_module phasegate_module = {
	.name = "gadget",
	.summary = "loader test module",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY,
	.keys = gadget_keys,
	.default_expect = NULL,
	.init = gadget_init,
	.fini = gadget_fini,
	.parse = gadget_parse,
	.run = gadget_run,
	.changes_world = gadget_changes_world,
	.free = gadget_free,
};

#else /* the test */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "suite.h"

static char *suite_path(const char *rel)
{
	const char *src = getenv("PG_SOURCE_DIR");
	assert_non_null(src);
	return xasprintf("%s/tests/unit/suites/%s", src, rel);
}

/* Index of the diagnostic whose message holds text (and, when line is not
 * 0, sits on that line of a file ending in file_end); -1 when none. */
static int find_diag(const struct diags *d, const char *text, const char *file_end, unsigned line)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (!strstr(g->msg, text))
			continue;
		if (line && g->line != line)
			continue;
		if (file_end) {
			size_t fl = g->file ? strlen(g->file) : 0, el = strlen(file_end);
			if (fl < el || strcmp(g->file + fl - el, file_end) != 0)
				continue;
		}
		return (int)i;
	}
	return -1;
}

static void expect_diag(const struct diags *d, const char *text, const char *file_end,
			unsigned line)
{
	if (find_diag(d, text, file_end, line) >= 0)
		return;
	fprintf(stderr, "no diagnostic '%s' at %s:%u among:\n", text, file_end ? file_end : "",
		line);
	diags_print(d, stderr);
	fail();
}

static int load(struct plan *p, const char *rel, const struct load_opts *o, struct diags *d)
{
	char *path = suite_path(rel);
	int rc = suite_load(p, path, o, d);
	free(path);
	return rc;
}

static const struct check_module *gadget(void)
{
	const struct check_module *m = module_find("gadget");
	assert_non_null(m);
	return m;
}

static struct plan_check *find_check(struct plan *p, const char *id)
{
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *ph = &p->phases[i];
		for (size_t j = 0; j < ph->nsteps; j++) {
			struct plan_step *st = &ph->steps[j];
			for (size_t k = 0; k < st->nactions; k++)
				if (strcmp(st->actions[k].id, id) == 0)
					return &st->actions[k];
			for (size_t k = 0; k < st->nchecks; k++)
				if (strcmp(st->checks[k].id, id) == 0)
					return &st->checks[k];
			for (size_t k = 0; k < st->ncollectors; k++)
				if (strcmp(st->collectors[k].id, id) == 0)
					return &st->collectors[k];
		}
	}
	fprintf(stderr, "no check '%s'\n", id);
	fail();
	return NULL;
}

static const char *var_value(const struct plan *p, const char *name)
{
	const struct var *v = vars_find(&p->vars, name);
	return v ? v->value : NULL;
}

/* Loads valid/ with the environment, env file and --var/--set it expects. */
static int load_valid(struct plan *p, struct diags *d)
{
	static const char *const cli_vars[] = {"from_cli=command-line"};
	static const char *const sets[] = {"gadget.context=from-cli"};
	struct load_opts o;
	char *env_file = suite_path("valid/test.env");
	int rc;

	setenv("PG_SUITE_TEST_TOKEN", "tok-abcdef123", 1);
	setenv("PG_SUITE_TEST_HOST", "h1", 1);
	setenv("PHASEGATE_VAR_from_env", "environment", 1);
	setenv("PHASEGATE_VAR_from_cli", "environment", 1);
	load_opts_init(&o);
	o.vars = cli_vars;
	o.nvars = 1;
	o.sets = sets;
	o.nsets = 1;
	o.env_file = env_file;
	rc = load(p, "valid", &o, d);
	if (rc < 0)
		diags_print(d, stderr);
	free(env_file);
	unsetenv("PHASEGATE_VAR_from_env");
	unsetenv("PHASEGATE_VAR_from_cli");
	return rc;
}

static void test_valid_structure(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);
	assert_int_equal(d.n, 0);
	assert_string_equal(p.name, "valid-suite");
	assert_string_equal(p.title, "Valid suite in suite-region");
	assert_string_equal(p.environment, "test");
	assert_int_equal(p.nphases, 4);
	assert_int_equal(p.napprovals, 2);
	assert_string_equal(p.approvals[1].id, "approve-ops");
	assert_string_equal(p.approvals[1].role, "Operations Lead");

	/* phase 1: written ids, checks directly on the step */
	assert_string_equal(p.phases[0].id, "1");
	assert_string_equal(p.phases[0].name, "Pre-flight");
	assert_int_equal(p.phases[0].nsteps, 1);
	assert_string_equal(p.phases[0].steps[0].id, "1.1");
	assert_string_equal(p.phases[0].steps[0].checkpoint_id, "checkpoint-1.1");
	assert_string_equal(p.phases[0].steps[0].checkpoint_name, "Verification checkpoint 1.1");
	assert_int_equal(p.phases[0].steps[0].nchecks, 2);
	assert_int_equal(p.phases[0].steps[0].nactions, 0);
	assert_string_equal(p.phases[0].steps[0].checks[0].id, "kubectl-version");
	assert_string_equal(p.phases[0].steps[0].checks[0].name, "kubectl answers in prod-cluster");
	/* generated ids, the id as name */
	assert_string_equal(p.phases[0].steps[0].checks[1].id, "1.1.c2");
	assert_string_equal(p.phases[0].steps[0].checks[1].name, "1.1.c2");
	assert_int_equal(p.phases[0].steps[0].checks[0].pos.line, 8);

	/* phase 2: generated phase and step ids, actions, checkpoint map,
	 * collectors */
	struct plan_phase *ph2 = &p.phases[1];
	assert_string_equal(ph2->id, "phase-2");
	assert_string_equal(ph2->name, "Rollout");
	assert_string_equal(ph2->steps[0].id, "phase-2.1");
	assert_string_equal(ph2->steps[0].name, "Apply and wait");
	assert_int_equal(ph2->steps[0].nactions, 2);
	assert_string_equal(ph2->steps[0].actions[0].id, "phase-2.1.a1");
	assert_string_equal(ph2->steps[0].actions[0].name, "Apply the manifest");
	assert_true(ph2->steps[0].actions[0].is_action);
	assert_string_equal(ph2->steps[0].actions[1].id, "phase-2.1.a2");
	assert_string_equal(ph2->steps[0].checkpoint_id, "cp-rollout");
	assert_string_equal(ph2->steps[0].checkpoint_name, "Rollout complete");
	assert_int_equal(ph2->steps[0].nchecks, 1);
	assert_int_equal(ph2->steps[0].ncollectors, 2);
	assert_string_equal(ph2->steps[0].collectors[0].id, "collect-events");
	assert_string_equal(ph2->steps[0].collectors[1].id, "phase-2.1.f2");
	assert_true(ph2->steps[0].collectors[0].is_collector);

	/* phase 3: two steps; phase 4 inline */
	assert_string_equal(p.phases[2].id, "verify");
	assert_int_equal(p.phases[2].nsteps, 2);
	assert_string_equal(p.phases[3].id, "4");
	assert_string_equal(p.phases[3].steps[0].id, "4.1");
	assert_string_equal(p.phases[3].steps[0].checks[0].id, "4.1.c1");
	assert_string_equal(p.phases[3].steps[0].checks[0].name, "Support team trained");
	assert_ptr_equal(p.phases[3].steps[0].checks[0].mod, module_find("manual"));
	assert_non_null(p.phases[3].steps[0].checks[0].priv);

	plan_release(&p);
	diags_release(&d);
}

static void test_valid_defaults(void **state)
{
	struct plan p;
	struct diags d;
	struct plan_check *c;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);

	/* everything written on the check */
	c = find_check(&p, "kubectl-version");
	assert_string_equal(c->severity, "critical");
	assert_int_equal(c->timeout_ms, 10000);
	assert_int_equal(c->gate, 1);
	assert_int_equal(c->ntags, 2);
	assert_string_equal(c->tags[1], "smoke");
	assert_string_equal(c->remedy, "Install kubectl.");
	assert_string_equal(c->metric_name, "kubectl-ok");
	assert_string_equal(c->metric_target, "100%");
	assert_non_null(c->expect);
	assert_null(c->default_expect);
	assert_non_null(c->priv);
	assert_int_equal(c->deferred, 0);
	/* suite defaults: eventually {within: 2m, every: 5s, backoff: 2} */
	assert_int_equal(c->eventually, 1);
	assert_int_equal(c->within_ms, 120000);
	assert_int_equal(c->every_ms, 5000);
	assert_int_equal(c->max_every_ms, 120000);
	assert_true(c->backoff > 1.99 && c->backoff < 2.01);

	/* severity from the suite (over the include), timeout from the
	 * include, eventually turned off, module default expectation */
	c = find_check(&p, "1.1.c2");
	assert_string_equal(c->severity, "medium");
	assert_int_equal(c->timeout_ms, 45000);
	assert_int_equal(c->eventually, 0);
	assert_null(c->expect);
	assert_non_null(c->default_expect);
	assert_int_equal(c->ntags, 1);
	assert_string_equal(c->tags[0], "smoke");

	/* eventually with only within: every 2s, backoff 1, max_every within */
	c = find_check(&p, "rollout-done");
	assert_int_equal(c->eventually, 1);
	assert_int_equal(c->within_ms, 30000);
	assert_int_equal(c->every_ms, 2000);
	assert_int_equal(c->max_every_ms, 30000);
	assert_true(c->backoff > 0.99 && c->backoff < 1.01);

	/* actions and collectors get no default eventually; collectors
	 * never gate */
	c = find_check(&p, "phase-2.1.a2");
	assert_int_equal(c->eventually, 0);
	assert_int_equal(c->gate, 1);
	c = find_check(&p, "collect-events");
	assert_int_equal(c->gate, 0);
	assert_int_equal(c->eventually, 0);

	c = find_check(&p, "after-rollback");
	assert_int_equal(c->gate, 0);
	assert_string_equal(c->severity, "info");
	plan_release(&p);
	diags_release(&d);
}

static void test_valid_vars_precedence(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);
	/* include < suite.yaml */
	assert_string_equal(var_value(&p, "region"), "suite-region");
	assert_string_equal(var_value(&p, "greeting"), "hello-from-include");
	/* suite < env file < environment < --var */
	assert_string_equal(var_value(&p, "from_file"), "env-file");
	assert_string_equal(var_value(&p, "from_env"), "environment");
	assert_string_equal(var_value(&p, "from_cli"), "command-line");
	assert_string_equal(vars_find(&p.vars, "from_cli")->origin, "command line");
	assert_string_equal(var_value(&p, "cluster"), "prod-cluster");
	/* suite values refer to the environment and to final variable values */
	assert_string_equal(var_value(&p, "endpoint"), "https://command-line.example/h1");
	plan_release(&p);
	diags_release(&d);
}

static void test_valid_secrets(void **state)
{
	struct plan p;
	struct diags d;
	struct plan_check *c;
	char *m;

	mask_reset();
	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);
	/* the secret reached the parsed config (the config tree itself is
	 * freed once parsed)... */
	c = find_check(&p, "token-check");
	assert_null(c->cfg);
	m = c->mod->describe(c->priv);
	assert_non_null(strstr(m, "tok-abcdef123"));
	free(m);
	/* ...and every secret value is masked */
	m = mask_dup("token tok-abcdef123 and password file-secret-9876!");
	assert_string_equal(m, "token " MASK_TEXT " and password " MASK_TEXT "!");
	free(m);
	assert_true(vars_find(&p.vars, "secrets.db_password")->secret);
	/* a secret taken from a variable */
	m = mask_dup("key=legacy-key-555");
	assert_string_equal(m, "key=" MASK_TEXT);
	free(m);
	plan_release(&p);
	diags_release(&d);
	mask_reset();
}

static void test_valid_modules(void **state)
{
	struct plan p;
	struct diags d;
	struct plan_check *c;
	const struct gadget_state *gs;
	const struct gadget_priv *gp;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);
	/* settings from suite.yaml modules:, --set over them */
	gs = plan_module_state(&p, gadget());
	assert_non_null(gs);
	assert_true(gs->had_settings);
	assert_string_equal(gs->context, "from-cli");
	assert_string_equal(gs->zone, "a");
	assert_null(plan_module_state(&p, module_find("tcp")));
	/* parse got the state; a world-changing entry under actions: */
	c = find_check(&p, "phase-2.1.a1");
	gp = c->priv;
	assert_non_null(gp);
	assert_ptr_equal(gp->state, gs);
	assert_int_equal(gp->world, 1);
	plan_release(&p);
	diags_release(&d);
}

static void test_valid_deferred(void **state)
{
	struct plan p;
	struct diags d;
	struct plan_check *c;
	const struct node *argv;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);
	assert_int_equal(p.saved.n, 2);
	assert_string_equal(p.saved.v[0], "applied");
	assert_string_equal(p.saved.v[1], "rev");
	/* saved by an action of the same step: the action runs first */
	c = find_check(&p, "rollout-done");
	assert_int_equal(c->deferred, 1);
	assert_null(c->priv);
	c = find_check(&p, "read-revision");
	assert_int_equal(c->nsaves, 1);
	assert_string_equal(c->saves[0].name, "rev");
	assert_non_null(c->saves[0].prog);
	/* the config refers to a saved value: parsed at run time */
	c = find_check(&p, "do-rollback");
	assert_int_equal(c->deferred, 1);
	assert_null(c->priv);
	argv = node_get(c->cfg, "argv");
	assert_non_null(argv);
	assert_string_equal(argv->items[1]->str, "prod-cluster");
	assert_non_null(strstr(argv->items[2]->str, "${rev}"));
	/* a reference outside the module config leaves it parsed */
	c = find_check(&p, "after-rollback");
	assert_int_equal(c->deferred, 0);
	assert_non_null(c->priv);
	assert_string_equal(c->name, "Revision ${rev} is live");
	plan_release(&p);
	diags_release(&d);
}

/* The old three-selector form, through the new selector (one value each). */
static int select3(struct plan *p, const char *phase, const char *step, const char *tag,
		   struct diags *d)
{
	struct plan_selector s;
	memset(&s, 0, sizeof(s));
	s.phases = (struct sel_list){&phase, phase ? 1 : 0};
	s.steps = (struct sel_list){&step, step ? 1 : 0};
	s.tags = (struct sel_list){&tag, tag ? 1 : 0};
	return plan_select(p, &s, d);
}

static void test_select(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load_valid(&p, &d), 0);

	/* a loaded plan has everything selected */
	assert_true(find_check(&p, "kubectl-version")->selected);
	assert_true(find_check(&p, "do-rollback")->selected);
	assert_true(find_check(&p, "collect-events")->selected);

	/* "2" matches the generated id "phase-2" */
	assert_int_equal(select3(&p, "2", NULL, NULL, &d), 0);
	assert_false(find_check(&p, "kubectl-version")->selected);
	assert_true(find_check(&p, "rollout-done")->selected);
	assert_true(find_check(&p, "phase-2.1.a1")->selected);
	assert_false(find_check(&p, "read-revision")->selected);

	/* by name */
	assert_int_equal(select3(&p, "Verify", NULL, NULL, &d), 0);
	assert_true(find_check(&p, "read-revision")->selected);
	assert_true(find_check(&p, "do-rollback")->selected);
	assert_false(find_check(&p, "rollout-done")->selected);

	/* a step inside any phase */
	assert_int_equal(select3(&p, NULL, "rollback", NULL, &d), 0);
	assert_false(find_check(&p, "read-revision")->selected);
	assert_true(find_check(&p, "after-rollback")->selected);

	/* a tag: only tagged checks; actions of steps without them stay out */
	assert_int_equal(select3(&p, NULL, NULL, "smoke", &d), 0);
	assert_true(find_check(&p, "kubectl-version")->selected);
	assert_true(find_check(&p, "1.1.c2")->selected);
	assert_false(find_check(&p, "rollout-done")->selected);
	assert_false(find_check(&p, "phase-2.1.a1")->selected);

	/* everything */
	assert_int_equal(select3(&p, NULL, NULL, NULL, &d), 0);
	assert_true(find_check(&p, "rollout-done")->selected);
	assert_int_equal(d.n, 0);

	/* selectors that match nothing */
	assert_int_equal(select3(&p, "9", NULL, NULL, &d), -1);
	expect_diag(&d, "--phase '9' matches no phase", NULL, 0);
	assert_int_equal(select3(&p, "1", "rollback", NULL, &d), -1);
	expect_diag(&d, "--step 'rollback' matches no step", NULL, 0);
	assert_int_equal(select3(&p, NULL, NULL, "nosuchtag", &d), -1);
	expect_diag(&d, "--tag 'nosuchtag' matches no check or action", NULL, 0);
	plan_release(&p);
	diags_release(&d);
}

static void test_single_file(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load(&p, "single.yaml", NULL, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(p.nphases, 2);
	assert_string_equal(p.phases[0].id, "phase-1");
	assert_string_equal(p.phases[1].id, "second");
	assert_string_equal(p.phases[1].steps[0].id, "second.1");
	assert_string_equal(p.phases[1].steps[0].checks[0].id, "second.1.c1");
	/* built-in defaults */
	assert_int_equal(p.phases[0].steps[0].checks[0].gate, 1);
	assert_string_equal(p.phases[0].steps[0].checks[0].severity, "high");
	assert_int_equal(p.phases[0].steps[0].checks[0].timeout_ms, 30000);
	assert_int_equal(p.phases[0].steps[0].checks[0].eventually, 0);
	assert_non_null(strstr(p.dir, "suites"));
	plan_release(&p);
	diags_release(&d);
}

/* Every problem in bad/ is reported, with its position, in one pass. */
static void test_errors_one_pass(void **state)
{
	struct plan p;
	struct diags d;

	unsetenv("PG_SUITE_TEST_UNSET_SECRET");
	diags_init(&d);
	assert_int_equal(load(&p, "bad", NULL, &d), -1);
	assert_null(p.phases);
	expect_diag(&d, "unknown key 'titel' in suite (did you mean 'title'?)", "bad/suite.yaml",
		    3);
	expect_diag(&d, "include file 'missing.yaml' cannot be opened", "bad/suite.yaml", 4);
	expect_diag(&d, "secret 'token': environment variable 'PG_SUITE_TEST_UNSET_SECRET' is not set",
		    "bad/suite.yaml", 6);
	expect_diag(&d, "secret 'pw': cannot read file 'no-such-secret.txt'", "bad/suite.yaml", 7);
	expect_diag(&d, "severity must be one of critical, high, medium, low, info (not 'urgent')",
		    "bad/suite.yaml", 9);
	expect_diag(&d, "phase file 'phase-missing.yaml' cannot be opened", "bad/suite.yaml", 11);
	expect_diag(&d, "duplicate id 'dup' (first defined at ", "bad/suite.yaml", 18);
	assert_non_null(strstr(d.v[find_diag(&d, "duplicate id 'dup'", NULL, 18)].msg,
			       "bad/suite.yaml:16:17)"));
	expect_diag(&d, "check has no module key (one of: exec, file, tcp, manual", "bad/suite.yaml",
		    20);
	expect_diag(&d, "check has two module keys 'exec' and 'manual'", "bad/suite.yaml", 24);
	expect_diag(&d, "unknown key or module 'htp' (did you mean 'http'?)", "bad/suite.yaml", 26);
	expect_diag(&d, "check 'world': module 'gadget' changes the world; put it under actions:",
		    "bad/suite.yaml", 28);
	expect_diag(&d, "check 'noexp' has no expect: and module 'gadget' has no default expectation",
		    "bad/suite.yaml", 29);
	expect_diag(&d, "not 'loud'", "bad/suite.yaml", 33);
	expect_diag(&d, "missing required key 'within' in eventually", "bad/suite.yaml", 36);
	expect_diag(&d, "timeout must be greater than zero", "bad/suite.yaml", 39);
	expect_diag(&d, "variable 'rev' is saved by check 'late' which runs later (", "bad/suite.yaml",
		    41);
	assert_non_null(strstr(d.v[find_diag(&d, "variable 'rev'", NULL, 41)].msg,
			       "bad/suite.yaml:42)"));
	expect_diag(&d, "unknown key 'argvv' in exec check (did you mean 'argv'?)", "bad/suite.yaml",
		    46);
	expect_diag(&d, "", "bad/suite.yaml", 49); /* bad jq, message from the engine */
	expect_diag(&d, "undefined variable 'nosuchvar'", "bad/suite.yaml", 51);
	expect_diag(&d, "eventually.backoff must be between 1 and 1000", "bad/suite.yaml", 54);
	expect_diag(&d, "variable 'same' is saved by check 'saver' in the same checkpoint",
		    "bad/suite.yaml", 59);
	expect_diag(&d, "duplicate id 'dup' (first defined at ", "bad/suite.yaml", 61);
	expect_diag(&d, "unknown module 'gadgte' in modules: (did you mean 'gadget'?)",
		    "bad/suite.yaml", 63);
	assert_true(d.n >= 23);
	/* reported file by file, line by line */
	for (size_t i = 1; i < d.n; i++)
		if (d.v[i].file && d.v[i - 1].file && strcmp(d.v[i].file, d.v[i - 1].file) == 0)
			assert_true(d.v[i - 1].line <= d.v[i].line);
	plan_release(&p);
	diags_release(&d);
}

static void test_include_cycle(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load(&p, "cycle", NULL, &d), -1);
	expect_diag(&d, "include cycle: a.yaml -> b.yaml -> a.yaml", "cycle/b.yaml", 3);
	assert_int_equal(d.n, 1);
	diags_release(&d);

	diags_init(&d);
	assert_int_equal(load(&p, "self-include.yaml", NULL, &d), -1);
	expect_diag(&d, "include cycle: self-include.yaml -> self-include.yaml", "self-include.yaml",
		    2);
	diags_release(&d);
}

static void test_structure_errors(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	assert_int_equal(load(&p, "structure.yaml", NULL, &d), -1);
	expect_diag(&d, "suite name 'Bad Name' may only hold", "structure.yaml", 1);
	expect_diag(&d, "unknown key 'stepz' in phase (did you mean 'steps'?)", "structure.yaml", 5);
	expect_diag(&d, "missing required key 'steps' in phase", "structure.yaml", 4);
	expect_diag(&d, "step 's2' has both checkpoint: and checks:", "structure.yaml", 14);
	expect_diag(&d, "a check is a map with one module key, not a string", "structure.yaml", 17);
	expect_diag(&d, "missing required key 'role' in approval", "structure.yaml", 2);
	expect_diag(&d, "duplicate id 's2' (first defined at ", "structure.yaml", 2);
	expect_diag(&d, "save name '1bad' must start with a letter", "structure.yaml", 11);
	expect_diag(&d, "unknown key or module 'frobnicate'", "structure.yaml", 12);
	diags_release(&d);
}

static void test_command_line_errors(void **state)
{
	static const char *const bad_vars[] = {"novalue", "=x"};
	static const char *const bad_sets[] = {"nomodule=1", "nosuch.key=1"};
	struct load_opts o;
	struct plan p;
	struct diags d;

	load_opts_init(&o);
	o.vars = bad_vars;
	o.nvars = 2;
	o.sets = bad_sets;
	o.nsets = 2;
	diags_init(&d);
	assert_int_equal(load(&p, "single.yaml", &o, &d), -1);
	expect_diag(&d, "--var 'novalue' is not name=value", NULL, 0);
	expect_diag(&d, "--var '=x' is not name=value", NULL, 0);
	expect_diag(&d, "--set 'nomodule=1' is not module.key=value", NULL, 0);
	expect_diag(&d, "--set 'nosuch.key=1': there is no module 'nosuch'", NULL, 0);
	assert_int_equal(d.n, 4);
	diags_release(&d);

	diags_init(&d);
	assert_int_equal(load(&p, "no-such-suite", NULL, &d), -1);
	expect_diag(&d, "cannot open suite", "no-such-suite", 0);
	diags_release(&d);

	diags_init(&d);
	assert_int_equal(load(&p, "cycle/..", NULL, &d), -1);
	expect_diag(&d, "holds suite.yaml, and this one has none", NULL, 0);
	diags_release(&d);
}

/* The diagnostics cap keeps the load going and still fails it. */
static void test_errors_capped(void **state)
{
	struct plan p;
	struct diags d;

	diags_init(&d);
	d.max = 2;
	assert_int_equal(load(&p, "bad", NULL, &d), -1);
	assert_true(d.n <= 2);
	diags_release(&d);
}

/* Entries are built as they are read: a reference to a name saved by an
 * entry further on (here in a later phase) is kept until every entry is
 * known, then reported as running later; a name no entry saves is
 * undefined, once per text as vars_expand() says it. */
static void test_forward_references(void **state)
{
	static const char text[] = "name: fwd\n"
				   "phases:\n"
				   "  - id: one\n"
				   "    steps:\n"
				   "      - id: s1\n"
				   "        checks:\n"
				   "          - id: early\n"
				   "            exec: {argv: [echo, \"${rev}\", \"${rev.field}\"]}\n"
				   "          - id: undef\n"
				   "            exec: {argv: [\"${nope_a} ${nope_b}\"]}\n"
				   "  - id: two\n"
				   "    steps:\n"
				   "      - id: s2\n"
				   "        checks:\n"
				   "          - id: late\n"
				   "            exec: {argv: [\"true\"]}\n"
				   "            save: {rev: .stdout}\n";
	char dir[] = "/tmp/pg-fwd-XXXXXX", *path;
	struct plan p;
	struct diags d;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/suite.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	diags_init(&d);
	assert_int_equal(suite_load(&p, path, NULL, &d), -1);
	expect_diag(&d, "variable 'rev' is saved by check 'late' which runs later (", "suite.yaml",
		    8);
	assert_non_null(strstr(d.v[find_diag(&d, "variable 'rev'", NULL, 8)].msg, "suite.yaml:15)"));
	expect_diag(&d, "undefined variable 'nope_a'", "suite.yaml", 10);
	assert_int_equal(find_diag(&d, "nope_b", NULL, 0), -1);
	/* "${rev.field}" waits for the saved value, as an earlier save would */
	assert_int_equal(find_diag(&d, "rev.field", NULL, 0), -1);
	assert_int_equal(d.n, 2);
	diags_release(&d);
	unlink(path);
	rmdir(dir);
	free(path);
}

static int setup_plugin(void **state)
{
	struct pg_err e;
	const char *dir = getenv("PG_SUITE_PLUGIN_DIR");

	if (!dir) {
		fprintf(stderr, "PG_SUITE_PLUGIN_DIR is not set\n");
		return -1;
	}
	if (!module_find("gadget") && module_load_plugins(dir, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_structure),
		cmocka_unit_test(test_valid_defaults),
		cmocka_unit_test(test_valid_vars_precedence),
		cmocka_unit_test(test_valid_secrets),
		cmocka_unit_test(test_valid_modules),
		cmocka_unit_test(test_valid_deferred),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_single_file),
		cmocka_unit_test(test_errors_one_pass),
		cmocka_unit_test(test_include_cycle),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_command_line_errors),
		cmocka_unit_test(test_errors_capped),
		cmocka_unit_test(test_forward_references),
	};
	return cmocka_run_group_tests(tests, setup_plugin, NULL);
}

#endif
