/* prior.c - the "test environment first" rule (runner/prior.h). */
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "prior.h"

const struct key_spec prior_keys[] = {
    {"environment", KT_STR, KEY_REQUIRED, "where the earlier GO run must have been (test)"},
    {"max_age", KT_DURATION, KEY_REQUIRED, "how long ago it may have finished (7d)"},
    {"required_for", KT_STR_OR_SEQ, KEY_REQUIRED, "environments whose runs need it (production)"},
    {NULL, KT_ANY, 0, NULL},
};

static char *expand(const struct plan *p, const struct node *n, int *problems, struct diags *d)
{
	char *s = vars_expand(&p->vars, NULL, n->str, n, d);
	if (!s)
		(*problems)++;
	return s;
}

int prior_load(struct plan *p, const struct node *map, struct diags *d)
{
	struct plan_prior *pr = &p->prior;
	int problems;
	if (!map || node_is_null(map))
		return 0;
	problems = keys_validate(map, prior_keys, "prior", d);
	if (problems)
		return problems;
	pr->set = 1;
	pr->pos = map->pos;
	pr->environment = expand(p, node_get(map, "environment"), &problems, d);
	const struct node *age = node_get(map, "max_age");
	if (node_as_duration_ms(age, &pr->max_age_ms, d) < 0)
		problems++;
	else if (pr->max_age_ms <= 0)
		problems += diag_at(d, age, "prior.max_age must be greater than zero") < 0;
	const struct node *rf = node_get(map, "required_for");
	size_t n = rf->kind == NODE_SEQ ? rf->n : 1;
	pr->required_for = xcalloc(n + 1, sizeof(*pr->required_for));
	for (size_t i = 0; i < n; i++) {
		char *s = expand(p, rf->kind == NODE_SEQ ? rf->items[i] : rf, &problems, d);
		if (s)
			pr->required_for[pr->nrequired_for++] = s;
	}
	return problems;
}

void prior_release(struct plan *p)
{
	struct plan_prior *pr = &p->prior;
	free(pr->environment);
	for (size_t i = 0; i < pr->nrequired_for; i++)
		free(pr->required_for[i]);
	free(pr->required_for);
	memset(pr, 0, sizeof(*pr));
}

int prior_required(const struct plan *p)
{
	if (!p->prior.set || !p->environment)
		return 0;
	for (size_t i = 0; i < p->prior.nrequired_for; i++)
		if (strcmp(p->prior.required_for[i], p->environment) == 0)
			return 1;
	return 0;
}

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

int prior_check(const struct plan *p, const char *path, time_t now, struct res_prior **out,
                struct diags *d)
{
	const struct plan_prior *pr = &p->prior;
	struct run_result r;
	struct pg_err e;
	size_t before = d->n;
	*out = NULL;
	if (!path) {
		if (!prior_required(p))
			return 0;
		char *age = format_duration(pr->max_age_ms);
		diag_pos(d, pr->pos.file, pr->pos.line, pr->pos.col,
		         "a run in environment '%s' needs --prior RESULTS.json: a GO run of this "
		         "suite in environment '%s' that finished within the last %s "
		         "(prior: {required_for}); nothing was run",
		         p->environment, pr->environment, age);
		free(age);
		return -1;
	}
	if (result_load_file(&r, path, &e) < 0) {
		diag_pos(d, NULL, 0, 0, "--prior: %s", e.msg);
		return -1;
	}
	if (!r.suite_digest || strcmp(r.suite_digest, p->digest) != 0)
		diag_pos(d, path, 0, 0,
		         "--prior is a run of another suite: its digest is %s, this suite's is "
		         "%s (suite '%s')",
		         or_none(r.suite_digest), p->digest, or_none(r.suite_name));
	if (pr->set && (!r.environment || strcmp(r.environment, pr->environment) != 0))
		diag_pos(d, path, 0, 0,
		         "--prior ran in environment '%s'; the suite needs a run in '%s' "
		         "(prior: {environment})",
		         or_none(r.environment), pr->environment);
	if (!r.verdict || strcmp(r.verdict, "GO") != 0)
		diag_pos(d, path, 0, 0, "--prior's verdict is %s, not GO: %s", or_none(r.verdict),
		         or_none(r.reason));
	if (r.dry_run)
		diag_pos(d, path, 0, 0, "--prior is a dry run: nothing was verified");
	time_t fin;
	if (!r.finished_at || attest_parse_time(r.finished_at, &fin) != 0) {
		diag_pos(d, path, 0, 0, "--prior has no usable finished_at ('%s')",
		         or_none(r.finished_at));
	} else {
		if (!now)
			now = time(NULL);
		if (fin > now + 300)
			diag_pos(d, path, 0, 0, "--prior finished in the future (%s)",
			         r.finished_at);
		else if (pr->set && (long long)(now - fin) * 1000 > pr->max_age_ms) {
			char *age = format_duration(pr->max_age_ms);
			char *was = format_duration((long long)(now - fin) * 1000);
			diag_pos(
			    d, path, 0, 0,
			    "--prior is too old: it finished at %s (%s ago); the suite accepts "
			    "at most %s (prior: {max_age})",
			    r.finished_at, was, age);
			free(age);
			free(was);
		}
	}
	if (d->n == before) {
		struct res_prior *x = xcalloc(1, sizeof(*x));
		x->path = xstrdup(path);
		x->run_id = r.run_id ? xstrdup(r.run_id) : NULL;
		x->environment = r.environment ? xstrdup(r.environment) : NULL;
		x->finished_at = xstrdup(r.finished_at);
		x->suite_digest = xstrdup(r.suite_digest);
		x->verdict = xstrdup(r.verdict);
		*out = x;
	}
	result_release(&r);
	return d->n == before ? 0 : -1;
}
