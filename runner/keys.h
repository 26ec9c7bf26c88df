/* keys.h - declarative key tables and typed getters for module configs.
 *
 * A module lists the keys its config map accepts; the loader checks unknown
 * keys, missing required keys and value types in one place before the
 * module's parse hook sees the map, so module code never walks YAML by hand.
 *
 * Values still holding a run-time reference "${name}" (a value saved by an
 * earlier check) cannot be typed at load time: keys_validate() accepts them,
 * and the getters return the default for them. The scheduler expands and
 * parses such configs again just before the check runs. */
#ifndef PHASEGATE_KEYS_H
#define PHASEGATE_KEYS_H

#include "node.h"

enum key_type {
	KT_STR,       /* scalar, read as text */
	KT_INT,       /* integer */
	KT_NUM,       /* integer or float */
	KT_BOOL,      /* true/false */
	KT_DURATION,  /* "5s", "250ms", "2m", or a number of seconds */
	KT_SEQ,       /* list of anything */
	KT_MAP,       /* map of anything */
	KT_STRSEQ,    /* list of scalars */
	KT_STRMAP,    /* map of scalar values */
	KT_STR_OR_SEQ,/* a scalar or a list of scalars */
	KT_ANY,       /* anything */
};

#define KEY_REQUIRED 1u
/* Shape hints read by "phasegate schema" (runner/schema.c); keys_validate()
 * checks only the top level of a map and ignores them. */
#define KEY_EACH 2u    /* KT_MAP: sub describes each value, not the map itself */
#define KEY_OR_TEXT 4u /* a scalar is accepted too (a duration, a count, a file name);
                          on a KT_SEQ: for each item */
#define KEY_ENTRIES 8u /* KT_SEQ of checks/actions: the entry keys plus one module key */

struct key_spec {
	const char *name;    /* NULL ends a table */
	enum key_type type;
	unsigned flags;      /* KEY_REQUIRED, KEY_EACH, KEY_OR_TEXT, KEY_ENTRIES */
	const char *doc;     /* one line, shown by "phasegate modules" */
	const struct key_spec *sub;  /* optional: the keys of the nested map (KT_MAP, KT_ANY)
	                                or of each item (KT_SEQ); NULL = not described */
	const char *const *choices;  /* optional: NULL-terminated list of the allowed values */
};

/* Checks that map is a map whose keys are all in specs, that required keys
 * are present and that values have the declared types. what names the map
 * in messages ("http check"). Adds a diagnostic per problem (with a "did you
 * mean" hint for near misses); returns the number of problems. */
int keys_validate(const struct node *map, const struct key_spec *specs, const char *what,
		  struct diags *d);

/* 1 when the scalar holds an unexpanded run-time reference. */
int node_is_deferred(const struct node *n);

/* Getters for validated maps: absent (or deferred) keys give def. */
const char *cfg_str(const struct node *map, const char *key, const char *def);
long long cfg_int(const struct node *map, const char *key, long long def);
double cfg_num(const struct node *map, const char *key, double def);
int cfg_bool(const struct node *map, const char *key, int def);
long long cfg_duration_ms(const struct node *map, const char *key, long long def);
const struct node *cfg_node(const struct node *map, const char *key);
/* KT_STRSEQ / KT_STR_OR_SEQ as a NULL-terminated array of borrowed strings;
 * free the array (not the strings) with free(). NULL when absent. */
const char **cfg_strv(const struct node *map, const char *key, size_t *count);

#endif
