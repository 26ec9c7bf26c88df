/* verdict.c - computes a run's verdict, its one-sentence reason and its
 * exit code from the result model alone (the rules are in verdict.h), so
 * that a run, a re-judged run and every report agree. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

size_t verdict_open_signoffs(const struct run_result *r)
{
	size_t n = r->pending;
	for (size_t i = 0; i < r->napprovals; i++)
		n += !r->approvals[i].attested;
	return n;
}

int verdict_partial(const struct run_result *r)
{
	return r->not_selected > 0 || r->actions_not_selected > 0;
}

/* The first mandatory check or action that failed, in suite order. */
const struct res_check *verdict_first_failure(const struct run_result *r)
{
	for (size_t p = 0; p < r->nphases; p++)
		for (size_t s = 0; s < r->phases[p].nsteps; s++) {
			const struct res_step *st = &r->phases[p].steps[s];
			for (size_t c = 0; c < st->nchecks; c++) {
				const struct res_check *k = &st->checks[c];
				if ((k->kind == RK_CHECK || k->kind == RK_ACTION) && k->gate &&
				    (k->status == RS_FAIL || k->status == RS_ERROR))
					return k;
			}
		}
	return NULL;
}

/* The step whose rollback failed (the first in suite order), or NULL. */
static const struct res_step *failed_rollback(const struct run_result *r)
{
	for (size_t p = 0; p < r->nphases; p++)
		for (size_t s = 0; s < r->phases[p].nsteps; s++) {
			const struct res_step *st = &r->phases[p].steps[s];
			for (size_t c = 0; c < st->nchecks; c++)
				if (st->checks[c].kind == RK_ROLLBACK &&
				    (st->checks[c].status == RS_FAIL ||
				     st->checks[c].status == RS_ERROR))
					return st;
		}
	return NULL;
}

char *verdict_headline(const struct run_result *r)
{
	const char *v = r->verdict && *r->verdict ? r->verdict : "NO-GO";
	if (r->rollback_failed)
		return xasprintf("%s — rollback of step %s FAILED: manual recovery needed", v,
		                 r->rollback_failed);
	return xstrdup(v);
}

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

void verdict_judge(struct run_result *r)
{
	result_count(r);
	free(r->verdict);
	free(r->reason);
	free(r->rollback_failed);
	const struct res_step *rb = failed_rollback(r);
	r->rollback_failed = rb ? xstrdup(rb->id ? rb->id : "?") : NULL;
	const struct res_check *bad = verdict_first_failure(r);
	size_t open = verdict_open_signoffs(r);
	size_t not_run = r->skipped + r->interrupted_n;
	if (r->interrupted) {
		r->verdict = xstrdup("NO-GO");
		r->reason =
		    xasprintf("the run was interrupted by %s before it finished; %zu of %zu "
		              "checks did not finish",
		              signal_name(r->interrupted), not_run, r->total);
		r->exit_code = 128 + r->interrupted;
		return;
	}
	if (bad) {
		const char *id = bad->id ? bad->id : "?";
		const char *name = bad->name ? bad->name : id;
		char *where = r->blocking_gate ? xasprintf("gate %s failed: ", r->blocking_gate)
		                               : xstrdup("");
		r->verdict = xstrdup("NO-GO");
		const char *verb = *where ? "" : " failed";
		if (bad->kind == RK_ACTION)
			r->reason = xasprintf("%saction %s (%s)%s: %s", where, id, name, verb,
			                      bad->message ? bad->message : "it did not succeed");
		else
			r->reason = xasprintf("%scheck %s (%s)%s: %s", where, id, name, verb,
			                      bad->message ? bad->message : "it did not pass");
		free(where);
		r->exit_code = VERDICT_EXIT_GATE_FAILED;
		return;
	}
	if (r->timed_out) {
		r->verdict = xstrdup("NO-GO");
		r->reason = xasprintf("the run's --timeout passed; %zu of %zu checks did not run",
		                      not_run, r->total);
		r->exit_code = VERDICT_EXIT_GATE_FAILED;
		return;
	}
	r->exit_code = VERDICT_EXIT_OK;
	if (verdict_partial(r)) {
		r->verdict = xstrdup("PARTIAL");
		r->reason =
		    xasprintf("every selected gate passed, but the run covered only part of "
		              "the suite (%s): %zu checks and %zu actions were not selected",
		              r->selection ? r->selection : "a selection", r->not_selected,
		              r->actions_not_selected);
		return;
	}
	if (open) {
		size_t approvals = open - r->pending;
		r->verdict = xstrdup("PENDING");
		r->reason =
		    xasprintf("every gate passed; %zu sign-off%s open (%zu manual check%s, "
		              "%zu approval%s)",
		              open, open == 1 ? " is" : "s are", r->pending,
		              r->pending == 1 ? "" : "s", approvals, approvals == 1 ? "" : "s");
		return;
	}
	r->verdict = xstrdup("GO");
	r->reason = xstrdup("every gate of the whole suite passed and every sign-off is in");
}

int verdict_exit_code(const struct run_result *r, int require_go)
{
	if (require_go && r->exit_code == VERDICT_EXIT_OK &&
	    (!r->verdict || strcmp(r->verdict, "GO") != 0))
		return VERDICT_EXIT_NOT_GO;
	return r->exit_code;
}
