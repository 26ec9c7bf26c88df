/* vars.h - variables, secrets and values saved at run time.
 *
 * References in suite text: ${name} (a variable, or a value saved by an
 * earlier check's save:), ${env.NAME} (the process environment),
 * ${secrets.name} (a secret; masked everywhere it could be printed).
 * "$${" writes a literal "${".
 *
 * Precedence of variable values, lowest first: suite.yaml vars:, the
 * --env-file, the environment PHASEGATE_VAR_<name>, --var name=value.
 * Secrets are declared in suite.yaml secrets: {name: {env: VAR} | {file: path}
 * | {value-from-var: name}} and are never given on the command line.
 *
 * Masking: every secret value is registered with the process-wide masker
 * (mask.h) in all its encodings; mask_dup() replaces each with MASK_TEXT.
 * The scheduler masks all text as it enters the result model, and the plan
 * printer masks resolved values. */
#ifndef PHASEGATE_VARS_H
#define PHASEGATE_VARS_H

#include <stddef.h>

#include "mask.h"
#include "node.h"

struct var {
	char *name;       /* owned */
	char *value;      /* owned */
	const char *origin; /* "suite", "env-file", "environment", "command line", "saved", "secret" (static) */
	int secret; /* 1: a secret; VAR_SECRET_UNAVAILABLE: declared, but it could not be loaded */
};

/* A declared secret that could not be loaded (its error is already
 * reported): references to it fail without another message. */
#define VAR_SECRET_UNAVAILABLE (-1)

struct vars {
	struct var *v;    /* owned array */
	size_t n, alloc;
	size_t grown; /* bytes expansions have added so far (VARS_MAX_GROWTH) */
};

/* Limits on expansion, so that variables repeating variables (a few hundred
 * bytes that would expand to gigabytes) are refused at load time: one text
 * expands to at most VARS_MAX_VALUE bytes, expansions add at most
 * VARS_MAX_GROWTH bytes in all, and variables refer to variables at most
 * VARS_MAX_DEPTH levels deep. */
#define VARS_MAX_VALUE (1 << 20)
#define VARS_MAX_GROWTH (256 << 20)
#define VARS_MAX_DEPTH 32

void vars_init(struct vars *vs);
void vars_release(struct vars *vs);
/* Sets (replacing) a value; copies name and value. */
void vars_set(struct vars *vs, const char *name, const char *value, const char *origin, int secret);
const struct var *vars_find(const struct vars *vs, const char *name);

/* Reads a KEY=VALUE file (# comments, blank lines, optional "export ",
 * single or double quotes) into vs with origin "env-file". */
int vars_load_env_file(struct vars *vs, const char *path, struct diags *d);

/* Names declared as run-time values (save: names) that may be referenced
 * without being defined at load time. */
struct deferred_names {
	char **v;
	size_t n, alloc;
};

/* Expands references in s. Unknown names are a diagnostic at pos (when d is
 * not NULL) unless listed in deferred, in which case the reference is kept
 * verbatim. Text that would expand past VARS_MAX_VALUE (or the run's
 * VARS_MAX_GROWTH) is a diagnostic too. Returns a new string, or NULL after
 * adding a diagnostic. */
char *vars_expand(const struct vars *vs, const struct deferred_names *deferred, const char *s,
		  const struct node *pos, struct diags *d);
/* Expands every scalar of a tree in place (keys untouched). Returns the
 * number of problems added to d. */
int vars_expand_tree(const struct vars *vs, const struct deferred_names *deferred, struct node *n,
		     struct diags *d);
/* A suite variable whose value refers to others, with where it was
 * written (for messages). */
struct var_def {
	const char *name;
	const struct node *value; /* a scalar */
};
/* Gives each def its final value: every reference it holds gets the final
 * value of the variable it names, whatever order they are written in (a
 * referenced def is resolved first). A cycle (a: ${b}, b: ${a}) is a
 * diagnostic at the first variable of the cycle naming the whole chain;
 * so are chains deeper than VARS_MAX_DEPTH and values past VARS_MAX_VALUE.
 * Returns the number of problems added to d. */
int vars_resolve(struct vars *vs, const struct var_def *defs, size_t n, struct diags *d);

/* 1 when s contains a reference that is still unexpanded. */
int vars_has_ref(const char *s);

#endif
