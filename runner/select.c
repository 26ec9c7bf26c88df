/* select.c - which parts of a plan a run covers (--phase, --step, --tag,
 * --skip-tag, --from, --until).
 *
 * The rule, in full:
 *  1. A step is in scope when its phase matches one --phase value (or none
 *     was given), the step matches one --step value (or none was given),
 *     and it lies between --from and --until in suite order (both ends
 *     included; an absent end is open).
 *  2. In a step in scope, a check is selected when it carries one of the
 *     --tag tags (or no --tag was given) and none of the --skip-tag tags.
 *  3. The step's actions, rollbacks and on_failure collectors are selected
 *     with it: when one of its checks is selected, or when the step has no
 *     checks and no --tag was given, or when the entry itself carries a
 *     --tag tag; never when it carries a --skip-tag tag.
 *  4. Nothing else is selected: it never runs and every report lists it as
 *     "not selected".
 * Every --phase, --step, --tag, --from and --until value must match
 * something, and the selection must not be empty (exit 2, nothing run). */
#include <stdlib.h>
#include <string.h>

#include "suite.h"
#include "util.h"

/* A selector names an id or a name; "2" also matches the id "phase-2" (and
 * "phase-2" the id "2"). */
static int sel_match(const char *sel, const char *id, const char *name)
{
	if (!id)
		return 0;
	if (strcmp(sel, id) == 0 || (name && strcmp(sel, name) == 0))
		return 1;
	if (strncmp(id, "phase-", 6) == 0 && strcmp(id + 6, sel) == 0)
		return 1;
	if (strncmp(sel, "phase-", 6) == 0 && strcmp(sel + 6, id) == 0)
		return 1;
	return 0;
}

/* Index of the first value matching id/name, or -1; marks it hit. */
static int match_any(const struct sel_list *l, const char *id, const char *name, char *hit)
{
	int found = -1;
	for (size_t i = 0; i < l->n; i++)
		if (sel_match(l->v[i], id, name)) {
			hit[i] = 1;
			if (found < 0)
				found = (int)i;
		}
	return found;
}

static int tag_in(const struct plan_check *c, const struct sel_list *l, char *hit)
{
	int any = 0;
	for (size_t i = 0; i < c->ntags; i++)
		for (size_t j = 0; j < l->n; j++)
			if (strcmp(c->tags[i], l->v[j]) == 0) {
				if (hit)
					hit[j] = 1;
				any = 1;
			}
	return any;
}

static void select_entries(struct plan_check *v, size_t n, int in_scope, int step_has_checks,
                           const struct plan_selector *s, char *tag_hit)
{
	for (size_t i = 0; i < n; i++) {
		int tagged = in_scope && tag_in(&v[i], &s->tags, tag_hit);
		int follows = step_has_checks || tagged;
		v[i].selected = in_scope && follows && !tag_in(&v[i], &s->skip_tags, NULL);
	}
}

/* Suite-order index of the step matching sel, or -1. */
static long step_index(const struct plan *p, const char *sel)
{
	long idx = 0;
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++, idx++)
			if (sel_match(sel, p->phases[i].steps[j].id, p->phases[i].steps[j].name))
				return idx;
	return -1;
}

/* What a selector can name, for a "did you mean" on a value that names
 * nothing: phase ids and names, step ids and names, or tags. */
enum sel_kind { SEL_PHASE, SEL_STEP, SEL_TAG };

static void nearer(const char *sel, const char *cand, const char **best, size_t *bestd)
{
	if (!cand)
		return;
	size_t dist = edit_distance(sel, cand);
	if (dist < *bestd) {
		*bestd = dist;
		*best = cand;
	}
}

static void nearer_tags(const char *sel, const struct plan_check *v, size_t n, const char **best,
                        size_t *bestd)
{
	for (size_t i = 0; i < n; i++)
		for (size_t t = 0; t < v[i].ntags; t++)
			nearer(sel, v[i].tags[t], best, bestd);
}

/* The id, name or tag of the plan closest to sel, or NULL: at most 3 edits,
 * and fewer than half of sel's characters ("9" suggests no "1"). */
static const char *nearest(const struct plan *p, enum sel_kind kind, const char *sel)
{
	const char *best = NULL;
	size_t half = (strlen(sel) + 1) / 2;
	size_t bestd = half < 4 ? half : 4;
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_phase *ph = &p->phases[i];
		if (kind == SEL_PHASE) {
			nearer(sel, ph->id, &best, &bestd);
			nearer(sel, ph->name, &best, &bestd);
			continue;
		}
		for (size_t j = 0; j < ph->nsteps; j++) {
			const struct plan_step *st = &ph->steps[j];
			if (kind == SEL_STEP) {
				nearer(sel, st->id, &best, &bestd);
				nearer(sel, st->name, &best, &bestd);
				continue;
			}
			nearer_tags(sel, st->actions, st->nactions, &best, &bestd);
			nearer_tags(sel, st->checks, st->nchecks, &best, &bestd);
			nearer_tags(sel, st->collectors, st->ncollectors, &best, &bestd);
			nearer_tags(sel, st->rollbacks, st->nrollbacks, &best, &bestd);
		}
	}
	return best;
}

static void no_match(struct diags *d, const struct plan *p, enum sel_kind kind, const char *opt,
                     const char *sel, const char *what)
{
	const char *hint = nearest(p, kind, sel);
	if (hint) {
		diag_pos(d, NULL, 0, 0, "%s '%s' matches no %s (did you mean '%s'?)", opt, sel,
		         what, hint);
		return;
	}
	if (kind == SEL_TAG) {
		diag_pos(d, NULL, 0, 0, "%s '%s' matches no %s", opt, sel, what);
		return;
	}
	/* no near miss: name what there is (the first 12) */
	struct buf b;
	buf_init(&b, 0);
	size_t n = 0;
	for (size_t i = 0; i < p->nphases; i++) {
		const struct plan_phase *ph = &p->phases[i];
		if (kind == SEL_PHASE && n++ < 12)
			buf_addf(&b, "%s%s", b.len ? ", " : "", ph->id);
		for (size_t j = 0; kind == SEL_STEP && j < ph->nsteps; j++)
			if (n++ < 12)
				buf_addf(&b, "%s%s", b.len ? ", " : "", ph->steps[j].id);
	}
	diag_pos(d, NULL, 0, 0, "%s '%s' matches no %s (the suite has %s%s)", opt, sel, what,
	         b.len ? b.data : "none", n > 12 ? ", ..." : "");
	buf_release(&b);
}

static int unmatched(const struct plan *p, enum sel_kind kind, const struct sel_list *l,
                     const char *hit, const char *opt, const char *what, struct diags *d)
{
	int bad = 0;
	for (size_t i = 0; i < l->n; i++)
		if (!hit[i]) {
			no_match(d, p, kind, opt, l->v[i], what);
			bad = 1;
		}
	return bad;
}

int plan_select(struct plan *p, const struct plan_selector *s, struct diags *d)
{
	long from = 0, until = -1;
	int bad = 0;
	if (s->from && (from = step_index(p, s->from)) < 0) {
		no_match(d, p, SEL_STEP, "--from", s->from, "step id or name");
		bad = 1;
	}
	if (s->until && (until = step_index(p, s->until)) < 0) {
		no_match(d, p, SEL_STEP, "--until", s->until, "step id or name");
		bad = 1;
	}
	if (!bad && s->from && s->until && from > until) {
		diag_pos(d, NULL, 0, 0, "--from '%s' comes after --until '%s' in the suite",
		         s->from, s->until);
		bad = 1;
	}
	if (bad)
		return -1;

	char *phase_hit = xcalloc(s->phases.n + 1, 1), *step_hit = xcalloc(s->steps.n + 1, 1);
	char *tag_hit = xcalloc(s->tags.n + 1, 1);
	size_t selected = 0;
	long idx = 0;
	for (size_t i = 0; i < p->nphases; i++) {
		struct plan_phase *ph = &p->phases[i];
		int phase_ok =
		    !s->phases.n || match_any(&s->phases, ph->id, ph->name, phase_hit) >= 0;
		for (size_t j = 0; j < ph->nsteps; j++, idx++) {
			struct plan_step *st = &ph->steps[j];
			int step_ok =
			    !s->steps.n ||
			    (phase_ok && match_any(&s->steps, st->id, st->name, step_hit) >= 0);
			int in_scope =
			    phase_ok && step_ok && idx >= from && (until < 0 || idx <= until);
			int any = 0;
			for (size_t k = 0; k < st->nchecks; k++) {
				struct plan_check *c = &st->checks[k];
				int t = in_scope && tag_in(c, &s->tags, tag_hit);
				c->selected = in_scope && (!s->tags.n || t) &&
				              !tag_in(c, &s->skip_tags, NULL);
				any |= c->selected;
				selected += c->selected;
			}
			int follows = any || (!st->nchecks && !s->tags.n);
			select_entries(st->actions, st->nactions, in_scope, follows, s, tag_hit);
			select_entries(st->rollbacks, st->nrollbacks, in_scope, follows, s,
			               tag_hit);
			select_entries(st->collectors, st->ncollectors, in_scope, follows, s,
			               tag_hit);
			for (size_t k = 0; k < st->nactions; k++)
				selected += st->actions[k].selected;
		}
	}
	bad |= unmatched(p, SEL_PHASE, &s->phases, phase_hit, "--phase", "phase id or name", d);
	bad |= unmatched(p, SEL_STEP, &s->steps, step_hit, "--step",
	                 s->phases.n ? "step id or name in the selected phases" : "step id or name",
	                 d);
	bad |= unmatched(p, SEL_TAG, &s->tags, tag_hit, "--tag",
	                 "check or action in the selected steps", d);
	if (!bad && !selected) {
		char *t = plan_selector_text(s);
		diag_pos(d, NULL, 0, 0, "the selection %s leaves nothing to run", t ? t : "");
		free(t);
		bad = 1;
	}
	free(phase_hit);
	free(step_hit);
	free(tag_hit);
	return bad ? -1 : 0;
}

static void add_list(struct buf *b, const char *opt, const struct sel_list *l)
{
	if (!l->n)
		return;
	buf_addf(b, "%s%s ", b->len ? " " : "", opt);
	for (size_t i = 0; i < l->n; i++)
		buf_addf(b, "%s%s", i ? "," : "", l->v[i]);
}

char *plan_selector_text(const struct plan_selector *s)
{
	struct buf b;
	buf_init(&b, 0);
	add_list(&b, "--phase", &s->phases);
	add_list(&b, "--step", &s->steps);
	add_list(&b, "--tag", &s->tags);
	add_list(&b, "--skip-tag", &s->skip_tags);
	if (s->from)
		buf_addf(&b, "%s--from %s", b.len ? " " : "", s->from);
	if (s->until)
		buf_addf(&b, "%s--until %s", b.len ? " " : "", s->until);
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

int plan_step_selected(const struct plan_step *st)
{
	for (size_t k = 0; k < st->nactions; k++)
		if (st->actions[k].selected)
			return 1;
	for (size_t k = 0; k < st->nchecks; k++)
		if (st->checks[k].selected)
			return 1;
	return 0;
}
