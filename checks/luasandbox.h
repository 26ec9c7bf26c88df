/* luasandbox.h - runs a Lua 5.1 script the way Argo CD runs its resource
 * customizations: the object as the global table `obj`, a safe subset of
 * the standard library (no files, no processes, no loading of code), and
 * bounds on instructions, memory and wall time. Values cross between JSON
 * (jansson) and Lua with Argo CD's conversion rules (util/lua decodeValue
 * one way, gopher-json's encoder the other).
 *
 * Every run gets a fresh interpreter, in a worker process shared by all
 * runs (one at a time): the worker is killed, and started again for the
 * next run, when a script outlives its time (also inside a C function such
 * as a backtracking pattern match, where no hook runs), and a fault in the
 * interpreter cannot take phasegate down. Any thread may call luasb_run. */
#ifndef PHASEGATE_LUASANDBOX_H
#define PHASEGATE_LUASANDBOX_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

struct luasb_limits {
	size_t max_bytes;                    /* memory the interpreter may hold */
	unsigned long long max_instructions; /* VM instructions, all coroutines */
	long long max_ms;                    /* CPU time */
};
/* 64 MiB, 100 million instructions, 1 s of CPU time (Argo CD allows 1 s). */
struct luasb_limits luasb_limits_default(void);

enum luasb_libs {
	LUASB_LIBS_BASE, /* base (safe part), table, os.time/os.date, require("os"):
	                    what Argo CD gives a configured script by default */
	LUASB_LIBS_OPEN, /* and string, math, coroutine: what Argo CD's
	                    useOpenLibs (always on for built-in scripts) adds
	                    that cannot reach files or processes */
};

/* Runs script (len bytes; name is used in error messages) with `obj` set
 * from obj (may be NULL: then obj is nil). On success returns 0, *result
 * gets the JSON of the script's (last) returned value, or NULL when it
 * returned nil or nothing, and *rtype its Lua type name ("table", "nil"...).
 * Returns -1 with e filled when the script did not compile, raised an
 * error, went past a limit, or returned a value JSON cannot hold (sparse
 * array, mixed keys, function...). lim may be NULL (the defaults). */
int luasb_run(const char *script, size_t len, const char *name, json_t *obj, enum luasb_libs libs,
              const struct luasb_limits *lim, json_t **result, const char **rtype,
              struct pg_err *e);

/* Stops the worker process (optional: it also ends by itself when the
 * process that started it exits). */
void luasb_shutdown(void);

#endif
