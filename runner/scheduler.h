/* scheduler.h - the scheduler: runs a validated plan phase by phase, step by
 * step (actions in order, then the checkpoint's checks concurrently up to
 * --jobs), judges facts, applies the gates and fills the result model.
 *
 * A checkpoint is a gate: when a mandatory check (or any action) does not
 * pass, the step's on_failure collectors run and their output is kept as
 * evidence, then its rollback: actions run, and every later step is
 * reported as skipped "blocked by gate <id>" unless keep_going is set.
 * Entries outside the selection are reported "not selected"; after a
 * signal, entries not reached and in flight are "interrupted". */
#ifndef PHASEGATE_SCHED_H
#define PHASEGATE_SCHED_H

#include <signal.h>

#include "result.h"
#include "suite.h"

/* What the scheduler tells whoever watches a run (the console is one
 * implementation, reports/console.c). Every hook may be NULL; they are
 * called from the scheduling thread only, entries in suite order. */
struct sched_observer {
	void *ctx;
	void (*run_start)(void *ctx, const struct run_result *r);
	void (*phase_start)(void *ctx, const struct res_phase *p);
	void (*step_start)(void *ctx, const struct res_step *s);
	void (*entry_done)(void *ctx, const struct res_check *k); /* check, action, collector,
	                                                             rollback: finished or not run */
	void (*progress)(void *ctx, const char *text);            /* a wait in progress */
	void (*run_end)(void *ctx, const struct run_result *r);
};

struct sched_opts {
	int jobs;                    /* concurrent checks per checkpoint (>= 1) */
	long long global_timeout_ms; /* 0 = none */
	int keep_going;              /* run on past failed gates (reported loudly) */
	const char *const *options;  /* "name=value" run options for modules (attest, out-dir) */
	size_t noptions;
	const char *const *attest_files; /* the --attest files (already validated) */
	size_t nattest_files;
	const char *selection;       /* text describing the selection, or NULL */
	const char *run_id;          /* NULL = generated */
	int allow_destructive;       /* --allow-destructive was given */
	const struct sched_observer *observer; /* live output, may be NULL */
	const struct res_prior *prior; /* the checked --prior run, copied into the result; NULL */
};

/* The signal that asked the run to stop (0 = none). Set by the signal
 * handler in main.c through sched_request_stop(). */
void sched_request_stop(int signo);
int sched_stop_signal(void);

/* Runs the selected part of the plan and fills r (which the caller
 * releases). Returns 0 (r->exit_code says how the run went), or -1 with e
 * filled on an internal failure. */
int sched_run(struct plan *p, const struct sched_opts *o, struct run_result *r, struct pg_err *e);

/* Fills the run facts of r (suite, host, run id, vars) without running,
 * for --dry-run plans and tests. */
void sched_result_header(const struct plan *p, const struct sched_opts *o, struct run_result *r);

#endif
