/* fleet.h - one suite over many clusters: a run per cluster as a child
 * phasegate process (up to 16 at once), each writing its reports under
 * OUT/<cluster>/, and the fleet report that puts one row per cluster (its
 * verdict, the gate that failed, a link to its report) under the fleet
 * verdict, the worst of them. "phasegate merge" builds the same report from
 * results.json files made elsewhere, "phasegate collect" from results that
 * in-cluster runs published.
 *
 * Ownership: a struct fleet owns its members and everything in them;
 * fleet_release frees it all. */
#ifndef PHASEGATE_FLEET_H
#define PHASEGATE_FLEET_H

#include <stddef.h>

#include "result.h"
#include "util.h"

struct fleet_member {
	char *label;          /* what the user named: a context, a kubeconfig file, a results file */
	char *cluster;        /* directory-safe, unique name: OUT/<cluster>/ */
	char **extra;         /* owned, NULL-terminated: arguments only this member's run gets */
	char *results;        /* results.json path (owned) */
	char *report;         /* link to its go-live report, relative to the fleet report; NULL = none */
	int exit_code;        /* the run's exit code; -1 = not run here (merge) or did not finish */
	char *error;          /* owned: why there are no results, or NULL */
	int loaded;           /* r holds the results */
	struct run_result r;
};

struct fleet {
	struct fleet_member *m;
	size_t n;
};

void fleet_init(struct fleet *f);
void fleet_release(struct fleet *f);

/* Adds a member; label is copied and made into a unique cluster name
 * (characters other than [A-Za-z0-9._-] become '-'). extra (may be NULL)
 * is a NULL-terminated list copied as this member's run arguments. */
struct fleet_member *fleet_add(struct fleet *f, const char *label, const char *const *extra);

/* Runs "self ARGS... EXTRA... --out OUT/<cluster> --no-color" for every
 * member, up to 16 at a time, each with its console output in
 * OUT/<cluster>/console.log, waits for all, and loads their results. timeout_ms bounds each child (0 = one
 * day). Returns 0, or -1 with e when OUT cannot be made. A member whose run
 * failed keeps an error. */
int fleet_run(struct fleet *f, const char *self, const char *const *args, size_t nargs,
	      const char *out_dir, long long timeout_ms, struct pg_err *e);

/* Loads a member's results file (sets loaded or error). */
void fleet_load(struct fleet_member *m);

/* Writes a loaded member's results.json and report.md into
 * OUT/<cluster>/ (merge and collect make the fleet directory
 * self-contained) and points results/report there. 0 or -1 with e. */
int fleet_member_store(struct fleet_member *m, const char *out_dir, struct pg_err *e);

/* The member's verdict: its results' verdict, or "ERROR" without results. */
const char *fleet_member_verdict(const struct fleet_member *m);
/* The worst verdict: NO-GO (also when a member has no results), then
 * PENDING, then PARTIAL, then GO. */
const char *fleet_verdict(const struct fleet *f);
/* The exit code of the fleet: the worst of the members' (1 a gate failed
 * or a cluster gave no results, 3 internal error), 0 when none failed. */
int fleet_exit_code(const struct fleet *f);

/* The fleet report as Markdown and as JSON text (malloc'd). */
char *fleet_render_markdown(const struct fleet *f);
char *fleet_render_json(const struct fleet *f);
/* Writes fleet.md and fleet.json into dir. */
int fleet_write(const struct fleet *f, const char *dir, struct pg_err *e);

/* mkdir -p; 0 or -1 with e. */
int fleet_mkdirs(const char *dir, struct pg_err *e);

#endif
