/* expect_int.h - what the files of the expectation engine share, and
 * nothing outside them includes: the compiled form of an expect: list, paths,
 * numbers as the engine reads them, and the helpers that turn values into the
 * text a person reads. The engine is split by concern:
 *   expect.c        the expectation language: an expect: node compiled into
 *                   items and operators, every mistake a suite error;
 *   expect_path.c   the path language (json.items[0].name);
 *   expect_value.c  values as the engine compares and shows them: numbers,
 *                   deep equality, masked and trimmed text;
 *   expect_jq.c     jq programs: batch compilation at load, runs under one lock;
 *   expect_judge.c  judging facts against a compiled list, and the sentence a
 *                   failure reads as.
 * Ownership is as in expect.h: a struct expect owns its items, an item its
 * path, jq program and operators. */
#ifndef PHASEGATE_EXPECT_INT_H
#define PHASEGATE_EXPECT_INT_H

#include <jansson.h>
#include <pcre2.h>

#include "expect.h"
#include "util.h"

#define EXPECT_SEEN_MAX 200        /* bytes of a value shown in a message */
#define EXPECT_PROG_SHOWN 80       /* bytes of a jq program quoted in text */
#define EXPECT_MATCH_LIMIT 5000000 /* PCRE2 match() calls per judgement */
#define EXPECT_DEPTH_LIMIT 1000000 /* PCRE2 backtracking depth */

/* ---- paths (expect_path.c) ---- */

struct path_seg {
	char *key;       /* owned; NULL for an [n] index */
	long long index; /* [n] (negative counts from the end), or the value
	                    of a key made of digits, usable on arrays */
	int has_index;   /* index is meaningful */
};

struct path {
	struct path_seg *v; /* owned array; n == 0 is the whole document */
	size_t n;
};

/* Parses "json.items[0].name", 'metrics["up"]', "." into p; on error fills
 * e with a sentence naming the path. p is released with expect_path_release. */
int expect_path_parse(const char *s, struct path *p, struct pg_err *e);
/* Borrowed value at p in root, NULL when absent. */
json_t *expect_path_lookup(json_t *root, const struct path *p);
void expect_path_release(struct path *p);

/* ---- values (expect_value.c) ---- */

struct num {
	int is_int;
	long long i;
	double d; /* always set */
};

/* A number as a person writes it: no white space, hex, inf or nan. 0 or -1. */
int expect_num_from_text(const char *s, struct num *out);
/* A fact as a number: JSON numbers, and strings that hold one. 0 or -1. */
int expect_num_from_json(const json_t *v, struct num *out);
/* <0, 0, >0 like strcmp. */
int expect_num_cmp(const struct num *a, const struct num *b);
/* The shortest text that reads back as the same number (owned). */
char *expect_num_text(const struct num *n);
/* Deep equality; integer and real compare numerically. */
int expect_json_same(const json_t *a, const json_t *b);
/* Compact JSON text of any value (owned). */
char *expect_json_text(const json_t *v);
/* Takes s (owned) and returns it cut to max bytes at a UTF-8 boundary with
 * an ellipsis when it was longer. */
char *expect_trim_text(char *s, size_t max);
/* Masks first, then trims, so a cut can never leave part of a secret (owned). */
char *expect_masked_trimmed(const char *s, size_t max);
/* A jq program as quoted in one line of text (owned). */
char *expect_shown_program(const char *prog);

/* ---- jq (expect_jq.c) ---- */

enum jq_outcome {
	JQ_OUTPUT,    /* *out holds the first output */
	JQ_NO_OUTPUT, /* the program gave nothing */
	JQ_FAILED,    /* *err holds jq's error */
};

/* Runs p on input and keeps its first output. *out and *err are owned by
 * the caller. */
enum jq_outcome expect_jq_run_first(struct jqprog *p, json_t *input, json_t **out, char **err);
/* The program's source text (borrowed). */
const char *jqprog_text(const struct jqprog *p);

/* ---- compiled expectations (expect.c builds them, expect_judge.c reads) ---- */

enum op_kind {
	OP_EQUALS,
	OP_NOT,
	OP_MATCHES,
	OP_CONTAINS,
	OP_IN,
	OP_EXISTS,
	OP_COUNT,
	OP_LENGTH,
	OP_GE,
	OP_GT,
	OP_LE,
	OP_LT,
	OP__COUNT,
};

enum cmp {
	CMP_EQ,
	CMP_GE,
	CMP_GT,
	CMP_LE,
	CMP_LT,
};

struct bound {
	enum cmp cmp;
	struct num n;
};

struct op {
	enum op_kind kind;
	json_t *arg;     /* owned: equals/not/contains/in value */
	char *arg_text;  /* owned: the argument as shown in messages */
	pcre2_code *re;  /* owned: matches */
	int want;        /* exists: true or false */
	struct bound *b; /* owned: OP_BOUNDS slots for count/length/ge/gt/le/lt
	                    (op_bounds), all of which must hold; NULL for the
	                    other operators, which are most of a suite's */
	size_t nb;
};

struct item {
	struct node_pos pos; /* where the item was written */
	char *path_text;     /* owned; NULL for a jq item without path: */
	struct path path;    /* compiled path_text */
	struct jqprog *jq;   /* owned; NULL without jq: */
	char *message;       /* owned; NULL = the generated sentence */
	struct op *ops;      /* owned array */
	size_t nops;
};

struct expect {
	struct item *items; /* owned array */
	size_t n, alloc;
	pcre2_match_context *mctx; /* owned: the match limits; NULL until a
	                              regex is compiled. Read-only once
	                              compiled, so shared by threads. */
};

/* The operator words, indexed by enum op_kind; NULL-terminated. */
extern const char *const expect_op_words[];
#define OP_BOUNDS 4 /* ge, gt, le, lt */

#endif
