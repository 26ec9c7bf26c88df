/* outfile.h - writing output files safely, one file or a set of them.
 *
 * The rule: a target that does not exist or is a regular file is replaced
 * atomically: the data goes to a temporary file made with mkstemp (O_EXCL,
 * so a planted link at the temporary name is never followed) in the target's
 * directory, then rename() puts it in place (rename replaces a link at the
 * target itself, never what it points to). A target that is a character
 * device or a FIFO (/dev/null, /dev/stdout, a pipe), or "-" (standard
 * output), is written straight through. Anything else (a directory, a
 * socket, a link to a regular file) is refused.
 *
 * A set is all or nothing as far as the files go: every temporary is
 * written and synced first; only when all are ready are the pass-through
 * targets written and the temporaries renamed, so a failure never leaves a
 * new file beside an old one. Temporaries are named
 * ".<name>.<pid>.tmp.XXXXXX"; those left by a process that no longer runs
 * (and the older "<name>.tmp.<pid>" form) are removed when a set is written
 * to the same directory. */
#ifndef PHASEGATE_OUTFILE_H
#define PHASEGATE_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

#include "util.h"

/* The content is either data (len bytes) or, when emit is set, streamed:
 * emit writes it to out and returns 0, or -1 when the content cannot be
 * made (e then says why; a failed write shows in ferror(out) instead).
 * emit may be called once per target, so it must write the same bytes each
 * time; arg is passed through. The regular files of a set are written at
 * the same time, each in a thread of its own: emit must only read what
 * other members of the set may read too. */
typedef int (*outfile_emit_fn)(const void *arg, FILE *out, struct pg_err *e);

struct outfile {
	const char *path; /* borrowed; "-" is standard output */
	const char *data; /* borrowed */
	size_t len;
	outfile_emit_fn emit; /* NULL: data is the content */
	const void *arg;      /* borrowed, for emit */
};

/* Writes every file of the set, or none of the regular ones. Returns 0, or
 * -1 with e naming the file and the reason. */
int outfile_write_set(const struct outfile *files, size_t n, struct pg_err *e);

#endif
