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
 * Masking: every secret value (and its base64 form) is registered with the
 * process-wide masker; mask_dup() replaces each occurrence with "••••••".
 * The scheduler masks all text as it enters the result model, and the plan
 * printer masks resolved values. */
#ifndef PHASEGATE_VARS_H
#define PHASEGATE_VARS_H

#include <stddef.h>

#include "node.h"

struct var {
	char *name;       /* owned */
	char *value;      /* owned */
	const char *origin; /* "suite", "env-file", "environment", "command line", "saved", "secret" (static) */
	int secret;
};

struct vars {
	struct var *v;    /* owned array */
	size_t n, alloc;
};

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
 * verbatim. Returns a new string, or NULL after adding a diagnostic. */
char *vars_expand(const struct vars *vs, const struct deferred_names *deferred, const char *s,
		  const struct node *pos, struct diags *d);
/* Expands every scalar of a tree in place (keys untouched). Returns the
 * number of problems added to d. */
int vars_expand_tree(const struct vars *vs, const struct deferred_names *deferred, struct node *n,
		     struct diags *d);
/* 1 when s contains a reference that is still unexpanded. */
int vars_has_ref(const char *s);

/* The masker. mask_add copies the secret (ignored when shorter than 3
 * bytes); thread-safe to read once the run has started. */
void mask_add(const char *secret);
char *mask_dup(const char *s);          /* NULL stays NULL */
int mask_contains_secret(const char *s);
void mask_reset(void);                  /* for tests */
#define MASK_TEXT "••••••"

#endif
