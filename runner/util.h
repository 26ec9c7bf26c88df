/* util.h - small shared pieces of the runner: a growable buffer with a size
 * cap, diagnostics with file:line:column, allocation that aborts on failure,
 * durations and clocks.
 *
 * Ownership: every function that returns char * returns a malloc'd string the
 * caller frees, unless its comment says otherwise. */
#ifndef PHASEGATE_UTIL_H
#define PHASEGATE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#define PG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Allocation failure aborts with a message: this is a command-line tool. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);            /* NULL stays NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PG_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) PG_PRINTF(1, 0);

/* A growable byte buffer. data is always NUL-terminated (data[len] == 0)
 * once anything was added; cap is the size limit (0 = unlimited). When an
 * append would pass the cap, the buffer keeps what fits, sets truncated and
 * the append returns -1. */
struct buf {
	char *data;      /* owned; NULL until the first append */
	size_t len;      /* bytes used, without the terminating NUL */
	size_t alloc;    /* bytes allocated */
	size_t cap;      /* size limit, 0 = none */
	int truncated;   /* an append was cut at cap */
	/* Streaming: when sink is set, the buffer is write-only: whenever it
	 * holds 64 KiB or more it is handed to sink and emptied (buf_flush
	 * hands over the rest), so a writer's memory does not grow with what
	 * it writes. Errors show in ferror(sink). Borrowed. */
	FILE *sink;
};
void buf_init(struct buf *b, size_t cap);
/* Makes room for n more bytes at once (a file of known size: no doubling). */
void buf_reserve(struct buf *b, size_t n);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...) PG_PRINTF(2, 3);
int buf_addc(struct buf *b, char c);
char *buf_detach(struct buf *b);         /* returns data ("" if empty), buffer reset */
void buf_release(struct buf *b);          /* frees data, buffer reset */
const char *buf_str(const struct buf *b); /* data or "" */
int buf_flush(struct buf *b);             /* data to sink, emptied; 0 or -1 */

/* One error message for phasegate's own failures (not check results).
 * pg_error() fills it and returns -1, so "return pg_error(e, ...)" reads well. */
struct pg_err {
	char msg[1024];
};
int pg_error(struct pg_err *e, const char *fmt, ...) PG_PRINTF(2, 3);

/* Diagnostics: suite errors, collected so that one validation pass reports
 * all of them. Printed as "file:line:col: message" (line/col omitted when 0). */
struct diag {
	char *file;          /* owned, may be NULL */
	unsigned line, col;  /* 1-based, 0 = unknown */
	char *msg;           /* owned */
};
struct diags {
	struct diag *v;      /* owned array */
	size_t n, alloc;
	size_t max;          /* stop collecting after this many (0 = 1000) */
};
struct node;
void diags_init(struct diags *d);
void diags_release(struct diags *d);
/* Adds a diagnostic at a node's position (n may be NULL); returns -1. */
int diag_at(struct diags *d, const struct node *n, const char *fmt, ...) PG_PRINTF(3, 4);
int diag_pos(struct diags *d, const char *file, unsigned line, unsigned col, const char *fmt, ...)
	PG_PRINTF(5, 6);
void diags_print(const struct diags *d, FILE *f);

/* Durations: "250ms", "5s", "2m", "1h", "1m30s", "1.5s"; a bare number is
 * seconds. Returns 0 and sets *ms, or -1 when the text is not a duration. */
int parse_duration_ms(const char *s, long long *ms);
char *format_duration(long long ms);     /* "1m30s", "250ms" */

long long now_mono_ms(void);              /* monotonic clock */
double now_mono_s(void);
char *iso8601_now(void);                  /* "2026-11-26T09:10:22Z" */
char *iso8601_at(double epoch_s);         /* UTC, second precision */

/* Edit distance between two short names (insert, delete, substitute and
 * swapping two neighbours), for "did you mean" hints; names longer than 64
 * bytes are never close ((size_t)-1). */
size_t edit_distance(const char *a, const char *b);

/* The directory part of a path ("." when it has none); malloc'd. */
char *path_dir(const char *path);

/* UTF-8 (RFC 3629). utf8_decode gives the length of the well-formed
 * sequence at p (reading at most n bytes; no overlong forms, surrogates or
 * code points past U+10FFFF) and its code point in *cp (may be NULL), or 0
 * when the bytes there are not UTF-8. json_from_bytes makes a JSON string of bytes
 * that should be UTF-8: invalid bytes become U+FFFD, NULs are kept. */
size_t utf8_decode(const void *p, size_t n, unsigned *cp);
struct json_t;
struct json_t *json_from_bytes(const char *s, size_t len);

/* Parses JSON from outside (a response body, a command's output, a file)
 * with a bound on the tree it makes: text of a few megabytes can hold
 * millions of tiny values ("[0,0,0,...") whose tree takes gigabytes. More
 * than JSON_MAX_VALUES values (scalars, arrays and objects) is refused
 * before parsing, with err->text saying so. Otherwise as json_loadb with
 * JSON_DECODE_ANY. */
#define JSON_MAX_VALUES (2u * 1000 * 1000)
struct json_t *json_load_bounded(const char *data, size_t len, size_t max_values,
                                 json_error_t *err);

/* Base64 (RFC 4648 section 4, the standard alphabet, with padding): the
 * one decoder every module uses (kubeconfig *-data fields, tokens). Decoding
 * is strict, as Kubernetes' own: line breaks are skipped, anything else that
 * is not of the alphabet, a length that is not whole groups of four, or
 * wrong or misplaced padding gives NULL. Both return malloc'd,
 * NUL-terminated text. */
char *base64_encode(const void *data, size_t len);
char *base64_decode(const char *in, size_t *outlen);

/* SHA-256 through libcrypto: the one implementation. sha256_hex writes 64
 * lowercase hex digits and a NUL. sha256_fd hashes what remains of fd,
 * calling keep_going (when not NULL) after each 64 KiB; keep_going returns
 * -1 with e filled to stop (a deadline, an interrupted run). hex_encode
 * writes 2*len digits and a NUL. */
void sha256_hex(const void *data, size_t len, char hex[65]);
int sha256_fd(int fd, int (*keep_going)(void *arg, struct pg_err *e), void *arg, char hex[65],
              struct pg_err *e);
void hex_encode(const unsigned char *data, size_t len, char *hex);
/* The same digest fed piece by piece: sha256_begin, any number of
 * sha256_add, then sha256_end (writes the hex digits, frees the state). */
struct sha256_state;
struct sha256_state *sha256_begin(void);
void sha256_add(struct sha256_state *s, const void *data, size_t len);
void sha256_end(struct sha256_state *s, char hex[65]);

/* Opens a path a user named for reading: non-blocking (a FIFO without a
 * writer cannot hang the open) and only when it is a regular file; a FIFO,
 * device, socket or directory is refused with a message saying which.
 * Returns the descriptor (blocking again, close-on-exec), or -1 with e. */
int open_regular(const char *path, struct pg_err *e);

/* Strict integer parsing (no atoi): whole string, range checked. */
int parse_ll(const char *s, long long *out);
int parse_double(const char *s, double *out);

/* Writes data to path atomically by the rule of outfile.h (a mkstemp
 * temporary in the same directory, fsync, rename; devices and FIFOs are
 * written through). Creates no directories. */
int write_file_atomic(const char *path, const char *data, size_t len, struct pg_err *e);
/* Reads a whole regular file (open_regular), at most max bytes (more is an
 * error). */
int read_file_capped(const char *path, size_t max, char **data, size_t *len, struct pg_err *e);

#endif
