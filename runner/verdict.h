/* verdict.h - the one place that turns a result model into a verdict.
 *
 * The scheduler at the end of a run, "phasegate report --attest" when it
 * re-judges a stored run, and every writer read the same answer:
 *   NO-GO    a mandatory check or an action failed, the run's --timeout
 *            passed, or a signal interrupted the run;
 *   PARTIAL  every selected gate passed but the selection left part of the
 *            suite out (a partial run is never GO);
 *   PENDING  every gate of the whole suite passed, a sign-off is open
 *            (a manual check or an approval without an attestation);
 *   GO       every gate of the whole suite passed and every sign-off is in. */
#ifndef PHASEGATE_VERDICT_H
#define PHASEGATE_VERDICT_H

#include "result.h"

enum verdict_exit {
	VERDICT_EXIT_OK = 0,          /* GO, PENDING or PARTIAL */
	VERDICT_EXIT_GATE_FAILED = 1, /* NO-GO: a gate failed or --timeout passed */
	VERDICT_EXIT_NOT_GO = 4,      /* --require go, and the verdict is not GO */
};

/* Recounts r (result_count) and sets r->verdict, r->reason,
 * r->rollback_failed and r->exit_code (128 + signal when interrupted).
 * Replaces what was there. A failed rollback (a step's rollback: action that
 * failed or errored) is named in r->rollback_failed and leads the headline
 * (verdict_headline): the system may be half-changed. */
void verdict_judge(struct run_result *r);

/* The exit code for r when the caller asks for GO (require_go): 4 instead
 * of 0 for PENDING and PARTIAL; otherwise r->exit_code. */
int verdict_exit_code(const struct run_result *r, int require_go);

/* Open sign-offs: pending checks plus approvals without an attestation. */
size_t verdict_open_signoffs(const struct run_result *r);

/* The headline every report shows (malloc'd): the verdict, and when a
 * rollback failed, "NO-GO — rollback of step X FAILED: manual recovery
 * needed". */
char *verdict_headline(const struct run_result *r);

/* The first mandatory check or action that failed, in suite order (NULL). */
const struct res_check *verdict_first_failure(const struct run_result *r);

/* 1 when the run left part of the suite out. */
int verdict_partial(const struct run_result *r);

#endif
