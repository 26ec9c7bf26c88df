/* mask.h - the process-wide secrets masker.
 *
 * Every credential phasegate holds is registered here the moment it is read
 * (suite secrets, auth: tokens and passwords, URL user:password@ parts,
 * kubeconfig tokens and keys, exec-plugin tokens, Argo CD tokens): a module
 * that reads one calls mask_register() before the value can reach any
 * message, fact or evidence. Every text that enters the result model goes
 * through mask_dup() (the scheduler does that), so a registered secret never
 * reaches the console or a report, in any of the forms below.
 *
 * A registered secret is masked in these forms:
 *   - as written (raw), and each line of a multi-line secret alone (a PEM
 *     key printed line by line; "-----BEGIN/END ...-----" armour excepted);
 *   - JSON-escaped (as jansson, Python and Go write it: \", \\, \/, \uXXXX);
 *   - URL-encoded (%XX in either case, and form encoding's '+' for space);
 *   - Base64, standard and URL-safe, with and without padding, and at each of
 *     the three alignments it can have inside a longer Base64 text (so the
 *     Basic-auth "user:secret" of any user is covered);
 *   - cut short: when a text was truncated (mask_dup_cut), a tail that is the
 *     beginning of a secret is masked too.
 * Masking comes before any truncation: modules that shorten text call
 * mask_dup_cut() on the whole text first (or on what they captured, saying
 * that it was cut).
 *
 * Thread-safe: registering takes a write lock, masking a read lock. */
#ifndef PHASEGATE_MASK_H
#define PHASEGATE_MASK_H

#include <stddef.h>

#define MASK_TEXT "••••••"
/* Shorter secrets are refused: masking them would blank ordinary text and
 * still not protect them. */
#define MASK_MIN_LEN 4

/* Registers secret (copied) in every form above. Returns 0, or -1 (nothing
 * registered) when it is shorter than MASK_MIN_LEN bytes; the caller reports
 * that as a suite or configuration error. NULL is refused. */
int mask_register(const char *secret);
/* Registers a user:password pair (a URL's userinfo, Basic auth): the
 * password as with mask_register() and the Base64 of "user:password".
 * Returns -1 when the password is too short. */
int mask_register_pair(const char *user, const char *password);

/* The older name, kept so that callers on other branches keep building:
 * mask_register() with the result ignored. */
void mask_add(const char *secret);

/* A copy of s with every registered form replaced by MASK_TEXT (NULL stays
 * NULL). mask_dup_cut() also masks a trailing beginning of a secret when cut
 * says the text was truncated. */
char *mask_dup(const char *s);
char *mask_dup_cut(const char *s, int cut);
/* For a buffer whose end was cut off at a size cap (captured output, a
 * response body): when its last bytes are the beginning of a secret, they
 * are replaced with MASK_TEXT, so no later step can show them. Does nothing
 * unless b->truncated. */
struct buf;
void mask_cut_buf(struct buf *b);

/* Bytes (possibly with NULs, possibly not UTF-8) as text a report can
 * show, masked, at most max bytes (0 = no limit): each NUL becomes "\0"
 * and bytes that are not UTF-8 become U+FFFD, so nothing after a NUL is
 * lost; masking comes first (cut says the bytes were already cut short:
 * a trailing beginning of a secret is masked too), then the text is cut at
 * a UTF-8 boundary and *shortened (may be NULL) says whether it was. */
char *mask_shown(const char *data, size_t len, int cut, size_t max, int *shortened);
/* 1 when s holds any registered form. */
int mask_contains_secret(const char *s);
/* Forgets every secret (for tests). */
void mask_reset(void);

#endif
