/* attest.h - the attestation file given with --attest FILE: who signed off
 * on a manual checklist item or an approval, when, with what note.
 *
 * Format (YAML or JSON):
 *   <id>: {by: "Jane Doe", at: "2026-11-20T10:00:00Z", note: "trained on 11-19"}
 * An entry without "by" is not an attestation. Lookups are thread-safe; the
 * file is read once per process. */
#ifndef PHASEGATE_ATTEST_H
#define PHASEGATE_ATTEST_H

#include "util.h"

struct attestation {
	char *by, *at, *note; /* owned; at and note may be NULL */
};

/* Reads path (once; later calls with the same path reuse it). Returns 1
 * and fills a when id is attested, 0 when it is not, -1 with e filled when
 * the file cannot be read or is malformed. */
int attest_lookup(const char *path, const char *id, struct attestation *a, struct pg_err *e);
void attestation_release(struct attestation *a);

#endif
