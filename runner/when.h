/* when.h - conditional entries: when: on an action, a rollback entry or an
 * on_failure collector (never on a check: a check that may not run cannot be
 * evidence for its gate).
 *
 *   when: "${api_service_created}"      a value saved earlier in the run
 *   when: false                          a literal boolean (or a suite variable)
 *
 * Expanded, the text must be exactly "true" or "false". The loader decides
 * it when no value saved at run time is named (PW_TRUE, PW_FALSE); the
 * scheduler decides the rest just before the entry would run. False: the
 * entry does not run and its result is RS_NOT_NEEDED, which is never a
 * failure. Any other text, or a variable nothing saved, is an error of that
 * entry naming the expanded text and the variables. */
#ifndef PHASEGATE_WHEN_H
#define PHASEGATE_WHEN_H

#include <stdio.h>

#include "result.h"
#include "suite.h"
#include "vars.h"

/* Reads when: into pc. written is the entry's when: as written, expanded
 * the same node after the loader expanded suite variables (both may be
 * NULL: no when:). is_check refuses it. Returns the number of problems
 * added to d, each at the when: value's file:line:column. */
int when_load(struct plan_check *pc, const struct node *written, const struct node *expanded,
              int is_check, struct diags *d);
/* Frees what when_load() set in pc. */
void when_release(struct plan_check *pc);

/* Decides pc's condition with the run's values. Returns 1 when the entry
 * runs; 0 when it does not, with *status RS_NOT_NEEDED (false) or RS_ERROR
 * (not a boolean, undefined variable) and *why (malloc'd, masked) saying so
 * in words. The caller serialises access to runtime. */
int when_decide(const struct plan_check *pc, const struct vars *runtime, enum res_status *status,
                char **why);

/* One line for list/--dry-run ("would run when ${x} is true"), malloc'd;
 * NULL when the entry has no when:. */
char *when_plan_text(const struct plan_check *pc);

/* For validate: one line per entry whose when: the loader decided false
 * ("when: entry 1.1/literal-false is not needed: when 'false' is false")
 * and a count of those decided at run time, to f. Prints nothing when no
 * entry has a when:. */
void when_print_summary(const struct plan *p, FILE *f);

#endif
