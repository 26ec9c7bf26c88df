/* escalation.h - the failure protocol's suite rules: who to call when a gate
 * fails (escalation:) and which checks say what to do about it (remedy:).
 *
 *   escalation:
 *     critical: {level: "Level 3 - emergency", respond_within: 15m,
 *                contacts: "${oncall}"}        (text or a list; vars expand)
 *     high:     {level: "Level 2", respond_within: 1h, contacts: [a, b]}
 *   require: {remedy: true}
 *
 * A key of escalation: is a severity (critical, high, medium, low, info).
 * An automated check is one whose module is not a person's sign-off
 * (CHECK_F_MANUAL); actions, collectors and rollbacks are not checks. */
#ifndef PHASEGATE_ESCALATION_H
#define PHASEGATE_ESCALATION_H

#include "keys.h"
#include "result.h"
#include "suite.h"

/* The key tables (for the suite table and "phasegate schema"). */
extern const struct key_spec escalation_entry_keys[];
extern const struct key_spec require_keys[];

/* Reads escalation: (a map, may be NULL) into p->escalation, expanding
 * suite variables in level and contacts. Returns the number of problems
 * added to d (each at its file:line:column). */
int escalation_load(struct plan *p, const struct node *map, struct diags *d);
void escalation_release(struct plan *p);

/* The entry for a severity, or NULL. */
const struct plan_escalation *escalation_for(const struct plan *p, const char *severity);

/* Fills r->escalation from the plan's entry for the severity of the check
 * that failed the run (r's first gating failure); leaves it NULL when the
 * run did not fail or the suite names no escalation for that severity. */
void escalation_apply(const struct plan *p, struct run_result *r);

/* Adds one diagnostic (file:line:column) for every selected-or-not
 * automated check without a remedy: and returns how many. */
size_t remedies_missing(const struct plan *p, struct diags *d);

#endif
