/* node.h - the YAML document tree. The loader turns each YAML file into one
 * tree of nodes in which every node keeps the file, line and column it came
 * from, so that every later error can point at the text. Aliases are copied
 * (within a budget), merge keys are not supported, tags are ignored.
 *
 * Ownership: a tree is owned by whoever loaded or copied it and freed with
 * node_free(). File names in node_pos are interned for the life of the
 * process (node_intern), so positions may be copied freely. */
#ifndef PHASEGATE_NODE_H
#define PHASEGATE_NODE_H

#include <stddef.h>

#include "util.h"

enum node_kind {
	NODE_SCALAR,
	NODE_SEQ,
	NODE_MAP,
};

struct node_pos {
	const char *file; /* interned, never freed */
	unsigned line;    /* 1-based */
	unsigned col;     /* 1-based */
};

struct node_pair {
	struct node *key;   /* always a scalar */
	struct node *value;
};

/* 56 bytes, so that a node and a short scalar's text take one 64-byte heap
 * chunk: a suite of 10,000 checks holds about 300,000 nodes while it loads. */
struct node {
	struct node_pos pos;
	/* NODE_SCALAR */
	char *str;          /* NUL-terminated (may contain no NUL); owned by the
	                       node: texts under NODE_SSO bytes live in the node
	                       itself (sso), longer ones are malloc'd. Only node.c
	                       frees or replaces it (node_set_str). */
	/* NODE_SEQ: items[0..n); NODE_MAP: pairs[0..n) in file order */
	union {
		struct {
			struct node **items;
			struct node_pair *pairs;
		};
		char sso[16]; /* a scalar's short text (see str) */
	};
	size_t n;           /* 0 for a scalar */
	unsigned len;       /* the scalar's length (a suite file is at most 8 MiB) */
	enum node_kind kind : 8;
	unsigned plain : 1; /* 1 when written unquoted: only plain scalars are
	                       read as null, booleans and numbers */
	unsigned expanded : 2; /* set by vars_expand_tree(): 0 raw text (every "${"
	                       is a reference), 1 fully expanded (a "${" left is
	                       literal text), 2 expanded but holding run-time
	                       references (literal "${" kept escaped as "$${") */
	/* Where node.c got the memory (runner/nodemem.h): the node itself, its
	 * long text, its items or pairs; 0 = malloc. */
	unsigned pooled : 1, str_pooled : 1, arr_pooled : 1;
};
#define NODE_SSO 16

/* Limits against hostile input; node_limits_default() gives the defaults. */
struct node_limits {
	size_t max_file_bytes;    /* default 8 MiB */
	unsigned max_depth;       /* default 64 nesting levels */
	size_t max_nodes;         /* default 500,000 nodes in one file */
	size_t max_alias_nodes;   /* default 10,000 nodes created by aliases */
	int duplicate_keys_last_wins; /* default 0: a repeated key is an error; 1: kept,
	                                 and node_to_json keeps the last (as the non-strict
	                                 YAML decoding Argo CD reads manifests with) */
};
struct node_limits node_limits_default(void);

/* Loads one YAML file holding exactly one document (an empty file is an
 * error). Checks the limits, tabs used for indentation, invalid UTF-8,
 * duplicate keys, non-scalar keys. All problems go to d with their position;
 * returns 0 and sets *out, or -1 (nothing allocated). */
int node_load_file(const char *path, const struct node_limits *lim, struct node **out,
		   struct diags *d);
/* The same from memory; name is used in positions. */
int node_load_string(const char *name, const char *text, size_t len,
		     const struct node_limits *lim, struct node **out, struct diags *d);

/* Every document of a multi-document YAML file or text ("---"
 * separated), as one NODE_SEQ whose items are the documents in order (empty
 * documents left out; an empty file gives an empty list). Positions are
 * those of the whole file. Same limits and errors as above. */
int node_load_file_stream(const char *path, const struct node_limits *lim, struct node **out,
                          struct diags *d);
int node_load_stream(const char *name, const char *text, size_t len,
                     const struct node_limits *lim, struct node **out, struct diags *d);

void node_free(struct node *n);
/* A scalar's text as it may appear in a message: shortened, secrets masked,
 * control characters shown as '?'. Owned by the caller. */
char *node_value_for_msg(const struct node *n);
/* Frees item i of seq (all of it) and leaves NULL in its place: for a
 * tree consumed part by part (the loader frees each entry once it is
 * built); the rest stays a valid tree to free. Nothing when i is out of
 * range or seq is not a sequence. */
void node_seq_drop(struct node *seq, size_t i);
struct node *node_copy(const struct node *n);
const char *node_intern(const char *file);

/* New nodes, for code that builds trees (tests, generated configs). */
struct node *node_new_scalar(const char *s, int plain, struct node_pos pos);
struct node *node_new_seq(struct node_pos pos);
struct node *node_new_map(struct node_pos pos);
void node_seq_push(struct node *seq, struct node *item);            /* takes item */
/* Replaces a scalar's text with s (taken, malloc'd). */
void node_set_str(struct node *n, char *s);
void node_map_put(struct node *map, const char *key, struct node *value); /* takes value */

/* Lookups. node_get returns NULL when map is not a map or has no such key. */
const struct node *node_get(const struct node *map, const char *key);
int node_is_null(const struct node *n);   /* absent, "~", "null", "" (plain) */
const char *node_kind_name(const struct node *n); /* "string", "list", "map", ... */

/* Scalar readers; each returns 0, or -1 and adds a diagnostic at n saying
 * what type was expected. */
int node_as_bool(const struct node *n, int *out, struct diags *d);
int node_as_ll(const struct node *n, long long *out, struct diags *d);
int node_as_double(const struct node *n, double *out, struct diags *d);
int node_as_duration_ms(const struct node *n, long long *out, struct diags *d);
int node_as_str(const struct node *n, const char **out, struct diags *d); /* scalar only */

/* Converts a subtree to JSON following YAML 1.2 core schema for plain
 * scalars (null, true/false, integers, floats); quoted scalars are strings. */
struct json_t;
struct json_t *node_to_json(const struct node *n);

#endif
