/* attest.h - attestations: who signed off on a manual checklist item or an
 * approval, when, with what note. They are evidence, so they are loaded and
 * validated with the suite, before anything runs.
 *
 * Format (YAML or JSON), one or more files given with --attest FILE:
 *   <id>:
 *     by: "Jane Doe"                 required
 *     at: "2026-11-20T10:00:00Z"     required: RFC 3339 time (Z or +hh:mm),
 *                                    not in the future, not older than the
 *                                    suite's attestations: {max_age: ...}
 *     note: "trained on 11-19"       optional
 *     run: 20261120T100000Z-1a2b3c   optional: counts only for that run id
 *     suite: 3f2a9c0d81be            optional: the suite digest (or a prefix
 *                                    of >= 12 hex digits) it is for; given
 *                                    to another suite it is an error
 *     signature: |                   optional: ssh-keygen -Y sign -n phasegate
 *       -----BEGIN SSH SIGNATURE-----  of attest_signed_text() for the entry,
 *       ...                            verified against allowed_signers
 * The same id in two files is an error. Lookups are thread-safe. */
#ifndef PHASEGATE_ATTEST_H
#define PHASEGATE_ATTEST_H

#include <time.h>

#include "result.h"
#include "util.h"

struct attestation {
	char *by, *at, *note; /* owned; note may be NULL */
	char *signed_by;      /* owned: the verified principal, NULL when unsigned */
};

/* What an attestation is checked against. */
struct attest_rules {
	const char *const *ids; /* every id a suite entry or approval has (did-you-mean) */
	size_t nids;
	const char *const *automated; /* ids of checks a machine decides: no sign-off */
	size_t nautomated;
	long long max_age_s;            /* 0 = no limit */
	time_t now;                     /* 0 = the current time */
	const char *allowed_signers;    /* ssh allowed_signers file, or NULL */
	const char *suite_digest;       /* the suite checked against; NULL = unknown */
	int keep_signatures_unverified; /* read signed entries without verifying (for
	                                   "phasegate attest", which only appends) */
};

/* Loads and validates every file; each problem becomes a diagnostic with
 * file:line:column. On success the set becomes the process's attestations
 * (replacing any earlier set). Returns 0, or -1 (nothing installed). */
int attest_load(const char *const *files, size_t n, const struct attest_rules *rules,
                struct diags *d);

/* The run id that attestations naming a run must match (NULL = none). */
void attest_set_run(const char *run_id);

/* Looks id up in the installed set (path is the --attest value a module
 * was given; when no set was installed the file is read on first use, for
 * tools and tests). Returns 1 and fills a when id is attested for this
 * run, 0 when it is not, -1 with e filled when the file is unusable. */
int attest_lookup(const char *path, const char *id, struct attestation *a, struct pg_err *e);
void attestation_release(struct attestation *a);

/* Fills r's approvals from the installed set. */
void attest_judge_approvals(struct run_result *r);

/* Re-judges a stored run: every pending check and open approval that the
 * installed set attests becomes attested (checks pass). Returns how many
 * changed. The caller then calls verdict_judge(). */
size_t attest_rejudge(struct run_result *r);

/* The text a signature covers: "phasegate attestation v1\nid: ...\nby:
 * ...\nat: ...\nnote: ...\nrun: ...\n", then "suite: ...\n" when the entry
 * names a suite (malloc'd). */
char *attest_signed_text(const char *id, const char *by, const char *at, const char *note,
                         const char *run, const char *suite);

/* RFC 3339 time ("2026-11-20T10:00:00Z", fractions and +hh:mm allowed) to
 * epoch seconds; 0 or -1. */
int attest_parse_time(const char *s, time_t *out);

#endif
