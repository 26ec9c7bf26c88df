/* prior.h - "test environment first": a run in a listed environment needs an
 * earlier GO run of the same suite elsewhere, given with --prior.
 *
 *   prior: {environment: test, max_age: 7d, required_for: [production]}
 *
 * When the run's environment (the suite's environment:) is in required_for,
 * the run starts only when --prior names a results.json whose suite digest
 * is this suite's, whose environment is prior.environment, whose verdict is
 * GO and which finished no longer than max_age ago (and not in the future).
 * A --prior given to any other run is checked the same way (same suite, GO;
 * environment and age when the suite has a prior: rule) and shown too. */
#ifndef PHASEGATE_PRIOR_H
#define PHASEGATE_PRIOR_H

#include <time.h>

#include "keys.h"
#include "result.h"
#include "suite.h"

extern const struct key_spec prior_keys[];

/* Reads prior: (may be NULL) into p->prior. Returns the number of problems
 * added to d. */
int prior_load(struct plan *p, const struct node *map, struct diags *d);
void prior_release(struct plan *p);

/* 1 when the plan's environment is listed in prior.required_for. */
int prior_required(const struct plan *p);

/* Checks path (the --prior value, may be NULL) against the plan at time now
 * (0 = the current time). Returns 0 and sets *out (NULL when no prior was
 * needed or given; the caller frees it with res_prior_free), or -1 with one
 * diagnostic per problem naming the file. */
int prior_check(const struct plan *p, const char *path, time_t now, struct res_prior **out,
                struct diags *d);

#endif
