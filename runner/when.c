/* when.c - conditional entries (the rule is in when.h): the loader's half
 * (read when:, refuse it on checks, decide what needs no run-time value)
 * and the scheduler's half (decide the rest with the run's saved values). */
#include "when.h"

#include <stdlib.h>
#include <string.h>

#include "keys.h"

/* 1 true, 0 false, -1 neither: only the two words, so that "yes", "1" or a
 * name saved by a jq program that returned text never pass by accident. */
static int as_bool(const char *s)
{
	if (s && strcmp(s, "true") == 0)
		return 1;
	if (s && strcmp(s, "false") == 0)
		return 0;
	return -1;
}

/* s masked, then cut to a message's length between characters ("…" marks
 * a cut): a saved value may be a whole document. malloc'd. */
static char *short_text(const char *s)
{
	char *m = mask_dup(s);
	size_t cut = strlen(m);

	if (cut <= 120)
		return m;
	cut = 120;
	while (cut && ((unsigned char)m[cut] & 0xC0) == 0x80)
		cut--;
	char *t = xasprintf("%.*s…", (int)cut, m);
	free(m);
	return t;
}

int when_load(struct plan_check *pc, const struct node *written, const struct node *expanded,
              int is_check, struct diags *d)
{
	pc->when_is = PW_ALWAYS;
	if (!written || !expanded)
		return 0;
	if (is_check) {
		diag_at(
		    d, written,
		    "when: is not allowed on a check: a check that may not run cannot be evidence "
		    "for its gate; put the condition on the action, rollback or on_failure entry "
		    "it concerns");
		return 1;
	}
	if (written->kind != NODE_SCALAR || node_is_null(written)) {
		diag_at(
		    d, written,
		    "when: must be a text that expands to true or false (\"${saved_value}\") or "
		    "a boolean, not %s%s",
		    node_is_null(written) ? "" : "a ",
		    node_is_null(written) ? "an empty value" : node_kind_name(written));
		return 1;
	}
	pc->when = xstrdup(written->str);
	if (node_is_deferred(expanded)) {
		pc->when_is = PW_AT_RUN;
		pc->when_cfg = node_copy(expanded);
		return 0;
	}
	switch (as_bool(expanded->str)) {
	case 1:
		pc->when_is = PW_TRUE;
		return 0;
	case 0:
		pc->when_is = PW_FALSE;
		return 0;
	}
	{
		char *seen = short_text(expanded->str);
		if (strcmp(written->str, expanded->str) == 0)
			diag_at(d, written, "when: must be exactly true or false, not '%s'", seen);
		else
			diag_at(d, written,
			        "when: '%s' expands to '%s'; it must be exactly true or false",
			        written->str, seen);
		free(seen);
	}
	return 1;
}

void when_release(struct plan_check *pc)
{
	free(pc->when);
	pc->when = NULL;
	node_free(pc->when_cfg);
	pc->when_cfg = NULL;
}

/* "name = value, other = (not saved)" for the variables text refers to
 * (plain ${name} references; at most 8, the rest counted). */
static char *name_values(const char *text, const struct vars *runtime)
{
	struct buf b;
	size_t shown = 0, more = 0;

	buf_init(&b, 4096);
	for (const char *s = text; (s = strstr(s, "${")) != NULL;) {
		const char *end = strchr(s + 2, '}');
		if (!end)
			break;
		char *name = xstrndup(s + 2, (size_t)(end - (s + 2)));
		const struct var *v = vars_find(runtime, name);
		if (shown == 8) {
			more++;
		} else {
			char *val = !v          ? xstrdup("(not saved)")
			            : v->secret ? xstrdup(MASK_TEXT)
			                        : short_text(v->value);
			buf_addf(&b, "%s%.64s = %s", shown ? ", " : "", name, val);
			free(val);
			shown++;
		}
		free(name);
		s = end + 1;
	}
	if (more)
		buf_addf(&b, " and %zu more", more);
	return buf_detach(&b);
}

int when_decide(const struct plan_check *pc, const struct vars *runtime, enum res_status *status,
                char **why)
{
	char *text = NULL, *named = NULL, *msg;
	struct diags d;
	int v;

	*why = NULL;
	if (pc->when_is == PW_ALWAYS || pc->when_is == PW_TRUE)
		return 1;
	if (pc->when_is == PW_FALSE) {
		*status = RS_NOT_NEEDED;
		msg = strstr(pc->when, "${") ? xasprintf("not needed: when '%s' is false", pc->when)
		                             : xstrdup("not needed: its when: is false");
		*why = mask_dup(msg);
		free(msg);
		return 0;
	}
	diags_init(&d);
	text = vars_expand(runtime, NULL, pc->when_cfg ? pc->when_cfg->str : "", pc->when_cfg, &d);
	named = name_values(pc->when, runtime);
	v = text ? as_bool(text) : -1;
	if (v == 1) {
		free(text);
		free(named);
		diags_release(&d);
		return 1;
	}
	if (v == 0) {
		*status = RS_NOT_NEEDED;
		msg = xasprintf("not needed: when '%s' is false", pc->when);
	} else if (!text) {
		*status = RS_ERROR;
		msg =
		    xasprintf("when '%s' cannot be decided: %s (nothing in this run saved it: the "
		              "entry that saves it was not selected, did not run or did not pass)",
		              pc->when, d.n ? d.v[0].msg : "it does not expand");
	} else {
		char *seen = short_text(text);
		*status = RS_ERROR;
		msg = xasprintf(
		    "when '%s' is '%s' once expanded (%s); it must be exactly true or false",
		    pc->when, seen, named);
		free(seen);
	}
	*why = mask_dup(msg);
	free(msg);
	free(text);
	free(named);
	diags_release(&d);
	return 0;
}

char *when_plan_text(const struct plan_check *pc)
{
	switch (pc->when_is) {
	case PW_ALWAYS:
		return NULL;
	case PW_TRUE:
		return xasprintf("when '%s' is true (decided at load): would run", pc->when);
	case PW_FALSE:
		return xasprintf("not needed: when '%s' is false (decided at load): would not run",
		                 pc->when);
	case PW_AT_RUN:
		break;
	}
	return xasprintf("would run when %s is true", pc->when);
}

/* Calls fn for every action, collector and rollback of the plan. */
static void each_entry(const struct plan *p,
                       void (*fn)(const struct plan_step *, const struct plan_check *, void *),
                       void *arg)
{
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++) {
			const struct plan_step *st = &p->phases[i].steps[j];
			for (size_t k = 0; k < st->nactions; k++)
				fn(st, &st->actions[k], arg);
			for (size_t k = 0; k < st->ncollectors; k++)
				fn(st, &st->collectors[k], arg);
			for (size_t k = 0; k < st->nrollbacks; k++)
				fn(st, &st->rollbacks[k], arg);
		}
}

struct when_tally {
	FILE *f;
	size_t at_run;
};

static void tally(const struct plan_step *st, const struct plan_check *pc, void *arg)
{
	struct when_tally *t = arg;

	if (pc->when_is == PW_AT_RUN)
		t->at_run++;
	if (pc->when_is != PW_FALSE && pc->when_is != PW_TRUE)
		return;
	char *line = xasprintf("when: step %s, %s: %s '%s' is %s (decided at load)", st->id, pc->id,
	                       pc->when_is == PW_FALSE ? "not needed:" : "runs:", pc->when,
	                       pc->when_is == PW_FALSE ? "false" : "true");
	char *m = mask_dup(line);
	fprintf(t->f, "%s\n", m);
	free(m);
	free(line);
}

void when_print_summary(const struct plan *p, FILE *f)
{
	struct when_tally t = {.f = f};

	each_entry(p, tally, &t);
	if (t.at_run)
		fprintf(f, "when: %zu entr%s decided at run time (from values saved earlier)\n",
		        t.at_run, t.at_run == 1 ? "y is" : "ies are");
}
