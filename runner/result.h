/* result.h - the result model: what happened in a run, as plain data.
 *
 * The scheduler builds it (all outside text already masked); report writers
 * read it and nothing else; result_to_json()/result_from_json() make it the
 * JSON report and read it back ("phasegate report RESULTS.json"). The JSON
 * schema is documented in docs/results-json.md; schema_version changes when
 * a field changes meaning. */
#ifndef PHASEGATE_RESULT_H
#define PHASEGATE_RESULT_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

enum res_status {
	RS_PASS,
	RS_FAIL,     /* an expectation did not hold */
	RS_ERROR,    /* the check could not observe (refused, timeout, bad config at run time) */
	RS_SKIP,     /* not run: blocked by a gate or an earlier action, the global timeout */
	RS_PENDING,  /* waits for a person's attestation */
	RS_NOT_SELECTED, /* outside the run's selection (--phase, --step, --tag, ...) */
	RS_INTERRUPTED,  /* a signal stopped the run before or while it ran */
	RS_NOT_NEEDED,   /* its when: was false (actions, rollbacks, collectors): not a failure */
};
const char *res_status_name(enum res_status s);   /* "pass", "fail", ... */
int res_status_parse(const char *s, enum res_status *out);

enum res_kind {
	RK_CHECK,
	RK_ACTION,
	RK_COLLECTOR,
	RK_ROLLBACK, /* a step's rollback: action, run after its gate failed */
};

struct res_evidence {
	char *title;    /* "on_failure: events in argocd" */
	char *text;     /* capped at 64 KiB */
};

struct res_check {
	char *id;
	char *name;
	char *module;
	enum res_kind kind;
	int gate;
	char *severity;
	char **tags;
	size_t ntags;
	enum res_status status;
	char *message;     /* one line: failure/error explanation, skip reason */
	char *expected;    /* for failures */
	char *seen;        /* what was observed, also when it passed (short) */
	char *remedy;
	char *describe;    /* what the check did ("GET https://...") */
	struct res_evidence *evidence;
	size_t nevidence;
	int attempts;
	double duration_s;
	char *started_at;  /* ISO 8601 UTC, NULL when not run */
	int insecure;      /* TLS verification was off */
	char *metric_name, *metric_target;
	char *attest_by, *attest_at, *attest_note;
	char *blocked_by;  /* gate id that stopped it, when skipped for that */
	int destructive;   /* deletes or replaces live objects */
	int timed_out;     /* the run's --timeout cut it */
	char *file;        /* where the check is written */
	unsigned line, col;
};

struct res_step {
	char *id;
	char *name;
	char *checkpoint_id;
	char *checkpoint_name;
	enum res_status status; /* worst of its checks (pass when all pass) */
	struct res_check *checks; /* actions, then checks, then collectors, in suite order */
	size_t nchecks;
};

struct res_phase {
	char *id;
	char *name;
	enum res_status status;
	double duration_s;
	char *started_at;
	struct res_step *steps;
	size_t nsteps;
};

struct res_approval {
	char *id;
	char *role;
	int attested;
	char *by, *at, *note;
	char *signed_by;   /* principal whose ssh signature verified; NULL = unsigned */
};

/* Who to call for the failed gate (the suite's escalation: entry for its
 * severity). */
struct res_escalation {
	char *check;            /* the failed check's id */
	char *severity, *level, *respond_within; /* respond_within as written ("15m") */
	char **contacts;        /* NULL-terminated */
	size_t ncontacts;
};
void res_escalation_free(struct res_escalation *x);

/* The earlier run this one relied on (--prior RESULTS.json). */
struct res_prior {
	char *path;             /* the --prior value */
	char *run_id, *environment, *finished_at, *suite_digest, *verdict;
};
void res_prior_free(struct res_prior *x);

struct res_var {
	char *name;
	char *value;      /* masked for secrets */
	char *origin;
};

struct run_result {
	int schema_version;    /* 1 */
	char *tool_version;
	char *suite_name, *suite_title, *suite_version, *environment;
	char *run_id;
	char *hostname;
	char *started_at, *finished_at;
	double duration_s;
	char *verdict;         /* "GO", "NO-GO", "PENDING", "PARTIAL" (runner/verdict.c) */
	char *reason;          /* one sentence: why this verdict */
	int exit_code;
	int interrupted;       /* signal number (2, 15) or 0 */
	int keep_going;        /* --keep-going overrode the failure protocol */
	int dry_run;
	int timed_out;         /* the global --timeout passed */
	char *blocking_gate;   /* id of the gate that stopped the run */
	char *blocking_check;  /* id of the first failing mandatory check */
	char *selection;       /* "--phase 2" etc, NULL when the whole suite ran */
	char **attest_files;   /* the --attest files that judged it */
	size_t nattest_files;
	int allow_destructive; /* --allow-destructive was given */
	char *suite_digest;    /* sha256 of the suite's files (runner/digest.c); NULL in old files */
	long long attest_max_age_s; /* the suite's attestations: {max_age}; 0 = none/unknown */
	char *allowed_signers; /* the suite's attestations: {allowed_signers}, resolved */
	int has_attest_rules;  /* the file carried the suite's attestation rules */
	struct res_escalation *escalation; /* for the failed gate; NULL = none */
	struct res_prior *prior;           /* --prior's identity; NULL = none */
	char *rollback_failed; /* id of the step whose rollback failed (verdict.c); NULL */
	struct res_phase *phases;
	size_t nphases;
	struct res_approval *approvals;
	size_t napprovals;
	struct res_var *vars;
	size_t nvars;
	/* totals over checks (not actions or collectors) */
	size_t total, passed, failed, errors, skipped, pending, not_selected, interrupted_n;
	/* actions (and rollbacks) that ran, those that were not selected, and
	 * those whose when: was false */
	size_t actions_run, actions_not_selected, actions_not_needed;
};

void result_release(struct run_result *r);
/* Sets the trust fields of a new result: the suite digest (may be ""), the
 * suite's attestation rules, and a copy of prior (may be NULL). */
void result_trust_header(struct run_result *r, const char *digest, long long attest_max_age_s,
                         const char *allowed_signers, const struct res_prior *prior);
void result_count(struct run_result *r);        /* recomputes totals and step/phase status */
json_t *result_to_json(const struct run_result *r);
/* The same JSON a part at a time, for a writer that streams: with_* 0
 * leaves the children array ("phases", "steps") empty in its place, for
 * the writer to fill (reports/json.c). The caller owns the result. */
json_t *result_run_to_json(const struct run_result *r, int with_phases);
json_t *result_phase_to_json(const struct res_phase *p, int with_steps);
json_t *result_step_to_json(const struct res_step *s, int with_checks);
json_t *result_check_to_json(const struct res_check *k);
int result_from_json(struct run_result *r, json_t *j, struct pg_err *e);
int result_load_file(struct run_result *r, const char *path, struct pg_err *e);

#endif
