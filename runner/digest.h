/* digest.h - the suite digest: which suite a sign-off or an earlier run is
 * about, independent of where the suite is checked out.
 *
 * It is the SHA-256 (64 lowercase hex digits) of every file the loader read
 * to build the plan (the suite file, its includes, its phase files), in load
 * order, each as its byte length in decimal, a newline, then its bytes.
 * Variables given on the command line, secrets and env files are not part
 * of it: the same suite run with other values has the same digest. */
#ifndef PHASEGATE_DIGEST_H
#define PHASEGATE_DIGEST_H

#include <stddef.h>

#include "util.h"

struct digest_files {
	char **paths; /* owned */
	size_t n;
};

/* Notes a file the loader read (the path is copied). */
void digest_note(struct digest_files *f, const char *path);
/* Hashes the noted files into hex. Returns 0, or -1 with e filled. */
int digest_compute(const struct digest_files *f, char hex[65], struct pg_err *e);
void digest_release(struct digest_files *f);

/* 1 when text is a digest or a prefix of one (12 to 64 lowercase hex digits). */
int digest_is_prefix(const char *text);

#endif
