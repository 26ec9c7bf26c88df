/* expect.h - the one expectation engine that judges every module's facts.
 *
 * A check's facts are one JSON document. Its expect: list holds items, each a
 * map in one of these forms (several operators in one item must all hold):
 *
 *   - status: 200                      shorthand: the value at a path equals
 *   - path: json.items                 explicit path, then operators:
 *     equals: x | not: x | matches: re | contains: x | in: [a, b]
 *     exists: true | count: 3 | length: 3 | ge/gt/le/lt: n
 *     count/length also take a map of ge/gt/le/lt: {ge: 2}
 *   - jq: '.items | length >= 3'       a jq program; passes when its first
 *     output is true (false, null, no output or an error fail)
 *     message: "3 server pods ready"   optional text for any item
 *
 * Paths are dotted with [n] indices and ["quoted keys"]: json.items[0].name,
 * headers.content-type, metrics["up"]. A bare "." is the whole document.
 * expect: may also be a map of shorthand items. Regular expressions are
 * PCRE2 (compiled at load time, matched with a match limit); jq programs are
 * compiled at load time with libjq, so a bad regex or jq is a suite error.
 *
 * Thread safety: a compiled struct expect may be judged from any thread, one
 * judgement at a time per struct; libjq calls are serialised internally. */
#ifndef PHASEGATE_EXPECT_H
#define PHASEGATE_EXPECT_H

#include <jansson.h>

#include "node.h"

struct expect;

/* Compiles an expect: node (a list or a map). Problems go to d with their
 * positions; returns 0 and sets *out (NULL for an empty list), or -1. */
int expect_compile(const struct node *n, struct expect **out, struct diags *d);
/* Compiles a single jq program given as text (a module's default
 * expectation). */
int expect_compile_jq(const char *program, struct expect **out, struct pg_err *e);
void expect_free(struct expect *e);
size_t expect_count(const struct expect *e);

struct expect_verdict {
	int pass;          /* 1 when every item held */
	char *message;     /* owned: for a failure, "expected <what>, saw <value>"
	                      of the first failing item; NULL on pass */
	char *expected;    /* owned: the failing item's expectation, as text */
	char *seen;        /* owned: the value seen, JSON text trimmed to 200 bytes */
	char *observed;    /* owned: the value the first item looked at, also on a
	                      pass (JSON text trimmed like seen), or NULL */
};
/* Judges facts (not modified). Every text is passed through mask_dup. */
void expect_judge(const struct expect *e, json_t *facts, struct expect_verdict *v);
void expect_verdict_release(struct expect_verdict *v);

/* A compiled jq program used outside expectations (save:, filters). */
struct jqprog;
int jqprog_compile(const char *program, struct jqprog **out, struct pg_err *e);
/* The same, with problems reported at node at (may be NULL). */
int jqprog_compile_at(const char *program, const struct node *at, struct jqprog **out,
		      struct diags *d);

/* Deferred compilation for loading a whole suite: between these calls jq
 * programs are collected (and cannot fail yet); expect_defer_end compiles
 * them together, one libjq compile for the lot instead of one per program
 * (each costs libjq 1.6 about 12 ms), and reports every program that does
 * not compile at its own position. Returns the number of such programs.
 * Programs used before the end compile on first use. Not nestable. */
void expect_defer_begin(void);
int expect_defer_end(struct diags *d);
/* First output of the program on input, as a new JSON value; NULL with e
 * filled when the program errors or gives no output. */
json_t *jqprog_first(struct jqprog *p, json_t *input, struct pg_err *e);
void jqprog_free(struct jqprog *p);

/* Looks up a dotted path in facts (borrowed reference, NULL if absent). */
json_t *expect_path_get(json_t *facts, const char *path);
/* Validates a path's syntax (0 or -1). */
int expect_path_valid(const char *path);

#endif
