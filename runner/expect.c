/* expect.c - the expectation engine's language: compiles a check's expect:
 * list (paths, operators, PCRE2 regexes, jq programs) at load time, so that
 * every mistake is a suite error with a position. expect_judge.c judges a
 * module's facts against the result; expect_int.h lists the other files.
 *
 * Typing rule for literal values (documented for suite writers): a plain
 * YAML scalar is typed with the YAML 1.2 core schema (200 is a number, true a
 * boolean), a quoted one is a string. Equality is deep JSON equality in which
 * an integer and a real compare numerically (3 == 3.0) but a number never
 * equals a string (200 != "200"). The ordering operators (ge/gt/le/lt) are
 * more lenient: a string holding a number is read as that number. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect_int.h"

/* Index = enum op_kind; NULL-terminated for did_you_mean. */
const char *const expect_op_words[] = {
    "equals", "not", "matches", "contains", "in", "exists", "count",
    "length", "ge",  "gt",      "le",       "lt", NULL,
};
/* Every key an item may hold. */
static const char *const item_words[] = {
    "path",   "jq",    "message", "equals", "not", "matches", "contains", "in",
    "exists", "count", "length",  "ge",     "gt",  "le",      "lt",       NULL,
};
static const char *const bound_words[] = {"ge", "gt", "le", "lt", NULL};

static struct bound *op_bounds(struct op *op)
{
	if (!op->b)
		op->b = xcalloc(OP_BOUNDS, sizeof(*op->b));
	return op->b;
}

/* The closest word of a NULL-terminated list, or NULL when none is near. */
static const char *did_you_mean(const char *word, const char *const *words)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;

	for (size_t i = 0; words[i]; i++) {
		size_t dist = edit_distance(word, words[i]);
		if (dist < best_d) {
			best_d = dist;
			best = words[i];
		}
	}
	if (best && best_d <= 2 && best_d < strlen(best) && best_d < strlen(word))
		return best;
	return NULL;
}

static void op_release(struct op *op)
{
	json_decref(op->arg);
	free(op->arg_text);
	pcre2_code_free(op->re);
	free(op->b);
}

static void item_release(struct item *it)
{
	free(it->path_text);
	expect_path_release(&it->path);
	jqprog_free(it->jq);
	free(it->message);
	for (size_t i = 0; i < it->nops; i++)
		op_release(&it->ops[i]);
	free(it->ops);
}

void expect_free(struct expect *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		item_release(&e->items[i]);
	free(e->items);
	pcre2_match_context_free(e->mctx);
	free(e);
}

size_t expect_count(const struct expect *e)
{
	return e ? e->n : 0;
}

static struct item *expect_new_item(struct expect *x, struct node_pos pos)
{
	struct item *it;

	if (x->n == x->alloc) {
		x->alloc = x->alloc ? 2 * x->alloc : 4;
		x->items = xrealloc(x->items, x->alloc * sizeof(*x->items));
	}
	it = &x->items[x->n++];
	memset(it, 0, sizeof(*it));
	it->pos = pos;
	return it;
}

static struct op *item_new_op(struct item *it, enum op_kind kind)
{
	struct op *op;

	it->ops = xrealloc(it->ops, (it->nops + 1) * sizeof(*it->ops));
	op = &it->ops[it->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

static int op_lookup(const char *word)
{
	for (int i = 0; i < OP__COUNT; i++)
		if (strcmp(word, expect_op_words[i]) == 0)
			return i;
	return -1;
}

static int is_item_word(const char *word)
{
	for (size_t i = 0; item_words[i]; i++)
		if (strcmp(word, item_words[i]) == 0)
			return 1;
	return 0;
}

/* A bound's number, from a scalar (a quoted number is accepted too). */
static int compile_num(const struct node *v, const char *what, int want_int, struct num *out,
                       struct diags *d)
{
	if (!v || v->kind != NODE_SCALAR || expect_num_from_text(v->str, out) < 0)
		return diag_at(d, v, "'%s' needs a number, saw %s%s%s", what,
		               v && v->kind == NODE_SCALAR ? "'" : "a ",
		               v && v->kind == NODE_SCALAR ? v->str : node_kind_name(v),
		               v && v->kind == NODE_SCALAR ? "'" : "");
	if (want_int && (!out->is_int || out->i < 0))
		return diag_at(d, v, "'%s' needs a whole number of at least 0, saw '%s'", what,
		               v->str);
	return 0;
}

/* count: 3 | count: {ge: 2, le: 5} */
static int compile_count(struct op *op, const struct node *v, const char *what, struct diags *d)
{
	int bad = 0;

	if (v && v->kind == NODE_MAP) {
		if (v->n == 0)
			return diag_at(d, v, "'%s' needs a number or a map of ge/gt/le/lt", what);
		for (size_t i = 0; i < v->n; i++) {
			const char *k = v->pairs[i].key->str;
			int c = -1;
			for (int j = 0; bound_words[j]; j++)
				if (strcmp(k, bound_words[j]) == 0)
					c = j;
			if (c < 0) {
				const char *hint = did_you_mean(k, bound_words);
				if (hint)
					diag_at(d, v->pairs[i].key,
					        "unknown key '%s' in '%s' (did you mean '%s'?)", k,
					        what, hint);
				else
					diag_at(d, v->pairs[i].key,
					        "unknown key '%s' in '%s'; use ge, gt, le or lt", k,
					        what);
				bad = 1;
				continue;
			}
			if (op->nb == OP_BOUNDS ||
			    compile_num(v->pairs[i].value, k, 1, &op_bounds(op)[op->nb].n, d) < 0) {
				bad = 1;
				continue;
			}
			op->b[op->nb].cmp = (enum cmp)(CMP_GE + c);
			op->nb++;
		}
		return bad ? -1 : 0;
	}
	if (compile_num(v, what, 1, &op_bounds(op)[0].n, d) < 0)
		return -1;
	op->b[0].cmp = CMP_EQ;
	op->nb = 1;
	return 0;
}

static int compile_regex(struct expect *x, struct op *op, const struct node *v, struct diags *d)
{
	int errcode;
	PCRE2_SIZE erroff;
	uint32_t opts = PCRE2_UTF;

	if (!v || v->kind != NODE_SCALAR)
		return diag_at(d, v, "'matches' needs a regular expression, saw a %s",
		               node_kind_name(v));
#ifdef PCRE2_MATCH_INVALID_UTF
	opts |= PCRE2_MATCH_INVALID_UTF;
#endif
	op->re = pcre2_compile((PCRE2_SPTR)v->str, v->len, opts, &errcode, &erroff, NULL);
	if (!op->re) {
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(errcode, why, sizeof(why));
		return diag_at(d, v, "bad regex '%s': %s at offset %zu", v->str, (const char *)why,
		               (size_t)erroff);
	}
	if (!x->mctx) {
		x->mctx = pcre2_match_context_create(NULL);
		if (!x->mctx) {
			fprintf(stderr, "phasegate: out of memory\n");
			abort();
		}
		pcre2_set_match_limit(x->mctx, EXPECT_MATCH_LIMIT);
		pcre2_set_depth_limit(x->mctx, EXPECT_DEPTH_LIMIT);
	}
	op->arg_text = expect_trim_text(xasprintf("/%s/", v->str), EXPECT_SEEN_MAX);
	return 0;
}

static int compile_op(struct expect *x, struct item *it, enum op_kind kind, const struct node *v,
                      struct diags *d)
{
	struct op *op = item_new_op(it, kind);
	const char *word = expect_op_words[kind];

	switch (kind) {
	case OP_EQUALS:
	case OP_NOT:
	case OP_CONTAINS:
		op->arg = node_to_json(v);
		break;
	case OP_IN:
		if (!v || v->kind != NODE_SEQ)
			return diag_at(d, v, "'in' needs a list of values, saw a %s",
			               node_kind_name(v));
		op->arg = node_to_json(v);
		break;
	case OP_MATCHES:
		return compile_regex(x, op, v, d);
	case OP_EXISTS:
		return node_as_bool(v, &op->want, d);
	case OP_COUNT:
	case OP_LENGTH:
		return compile_count(op, v, word, d);
	case OP_GE:
	case OP_GT:
	case OP_LE:
	case OP_LT:
		if (compile_num(v, word, 0, &op_bounds(op)[0].n, d) < 0)
			return -1;
		op->b[0].cmp = (enum cmp)(CMP_GE + (kind - OP_GE));
		op->nb = 1;
		return 0;
	default:
		return -1;
	}
	if (!op->arg)
		return diag_at(d, v, "'%s' has a value that cannot be read", word);
	op->arg_text = expect_trim_text(expect_json_text(op->arg), EXPECT_SEEN_MAX);
	return 0;
}

/* A map whose keys are all operator words: "json.items: {count: 3}". */
static int is_operator_map(const struct node *v)
{
	if (!v || v->kind != NODE_MAP || v->n == 0)
		return 0;
	for (size_t i = 0; i < v->n; i++)
		if (op_lookup(v->pairs[i].key->str) < 0)
			return 0;
	return 1;
}

static int item_set_path(struct item *it, const struct node *at, const char *path, struct diags *d)
{
	struct pg_err e;

	if (expect_path_parse(path, &it->path, &e) < 0)
		return diag_at(d, at, "%s", e.msg);
	it->path_text = xstrdup(path);
	return 0;
}

/* "status: 200" or "json.items: {count: 3}" as one item. */
static int compile_shorthand(struct expect *x, const struct node *key, const struct node *value,
                             const struct node *message, struct diags *d)
{
	struct item *it = expect_new_item(x, key->pos);
	int bad = 0;

	if (message && message->kind == NODE_SCALAR)
		it->message = xstrdup(message->str);
	if (item_set_path(it, key, key->str, d) < 0)
		bad = 1;
	if (is_operator_map(value)) {
		for (size_t i = 0; i < value->n; i++)
			if (compile_op(x, it, (enum op_kind)op_lookup(value->pairs[i].key->str),
			               value->pairs[i].value, d) < 0)
				bad = 1;
	} else if (compile_op(x, it, OP_EQUALS, value, d) < 0) {
		bad = 1;
	}
	return bad ? -1 : 0;
}

static void diag_unknown_key(struct diags *d, const struct node *key)
{
	const char *hint = did_you_mean(key->str, item_words);

	if (hint)
		diag_at(d, key, "unknown key '%s' in expectation (did you mean '%s'?)", key->str,
		        hint);
	else
		diag_at(
		    d, key,
		    "unknown key '%s' in expectation; known keys: path, jq, message, equals, not, "
		    "matches, contains, in, exists, count, length, ge, gt, le, lt",
		    key->str);
}

static int compile_item(struct expect *x, const struct node *n, struct diags *d)
{
	const struct node *path = NULL, *jq = NULL, *message = NULL, *unknown = NULL;
	size_t nops = 0, nunknown = 0;
	struct item *it;
	int bad = 0;

	if (!n || n->kind != NODE_MAP)
		return diag_at(d, n,
		               "an expectation must be a map such as 'status: 200' or "
		               "'{path: ..., equals: ...}', saw a %s",
		               node_kind_name(n));
	for (size_t i = 0; i < n->n; i++) {
		const char *k = n->pairs[i].key->str;
		if (strcmp(k, "path") == 0)
			path = n->pairs[i].value;
		else if (strcmp(k, "jq") == 0)
			jq = n->pairs[i].value;
		else if (strcmp(k, "message") == 0)
			message = n->pairs[i].value;
		else if (op_lookup(k) >= 0)
			nops++;
		else if (nunknown++ == 0)
			unknown = n->pairs[i].key;
	}
	if (message && message->kind != NODE_SCALAR) {
		diag_at(d, message, "'message' needs text, saw a %s", node_kind_name(message));
		bad = 1;
	}

	if (!path && !jq && nops == 0) {
		if (nunknown == 1) {
			const struct node *value = NULL;
			for (size_t i = 0; i < n->n; i++)
				if (n->pairs[i].key == unknown)
					value = n->pairs[i].value;
			return compile_shorthand(x, unknown, value, bad ? NULL : message, d) < 0 ||
			               bad
			           ? -1
			           : 0;
		}
		if (nunknown == 0)
			return diag_at(d, n,
			               "an expectation needs a path, a jq program or a shorthand "
			               "such as 'status: 200'");
		/* several keys: a typo of path:/jq: or several shorthands in one item */
		for (size_t i = 0; i < n->n; i++) {
			const struct node *k = n->pairs[i].key;
			if (!is_item_word(k->str) && did_you_mean(k->str, item_words)) {
				diag_unknown_key(d, k);
				bad = 1;
			}
		}
		if (!bad)
			diag_at(d, n,
			        "an expectation with several keys needs 'path:' or 'jq:'; write "
			        "one item per path, e.g. '- status: 200'");
		return -1;
	}

	for (size_t i = 0; i < n->n; i++) {
		const struct node *k = n->pairs[i].key;
		if (!is_item_word(k->str)) {
			diag_unknown_key(d, k);
			bad = 1;
		}
	}
	if (bad)
		return -1;
	if (!path && !jq)
		return diag_at(d, n, "operators need 'path:' (or 'jq:') to say what they judge");
	if (path && !jq && nops == 0)
		return diag_at(
		    d, n, "expectation on path '%s' has no operator (equals, matches, count, ...)",
		    path->kind == NODE_SCALAR ? path->str : "?");

	it = expect_new_item(x, n->pos);
	if (message)
		it->message = xstrdup(message->str);
	if (path) {
		if (path->kind != NODE_SCALAR) {
			diag_at(d, path, "'path' needs text, saw a %s", node_kind_name(path));
			bad = 1;
		} else if (item_set_path(it, path, path->str, d) < 0) {
			bad = 1;
		}
	}
	if (jq) {
		if (jq->kind != NODE_SCALAR) {
			diag_at(d, jq, "'jq' needs a program, saw a %s", node_kind_name(jq));
			bad = 1;
		} else if (jqprog_compile_at(jq->str, jq, &it->jq, d) < 0) {
			bad = 1;
		}
	}
	for (size_t i = 0; i < n->n; i++) {
		int kind = op_lookup(n->pairs[i].key->str);
		if (kind >= 0 && compile_op(x, it, (enum op_kind)kind, n->pairs[i].value, d) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}

int expect_compile(const struct node *n, struct expect **out, struct diags *d)
{
	struct expect *x;
	int bad = 0;

	*out = NULL;
	if (!n || node_is_null(n))
		return 0;
	if (n->kind == NODE_SCALAR)
		return diag_at(
		    d, n, "'expect' needs a list of expectations or a map of shorthands, saw a %s",
		    node_kind_name(n));
	x = xcalloc(1, sizeof(*x));
	if (n->kind == NODE_SEQ) {
		for (size_t i = 0; i < n->n; i++)
			if (compile_item(x, n->items[i], d) < 0)
				bad = 1;
	} else if (node_get(n, "path") || node_get(n, "jq")) {
		/* one explicit item written without the list dash */
		bad = compile_item(x, n, d) < 0;
	} else {
		for (size_t i = 0; i < n->n; i++) {
			const struct node *k = n->pairs[i].key;
			if (strcmp(k->str, "message") == 0 || op_lookup(k->str) >= 0) {
				diag_at(d, k,
				        "'%s' in an expect: map needs 'path:'; write expect: as a "
				        "list of items",
				        k->str);
				bad = 1;
			} else if (compile_shorthand(x, k, n->pairs[i].value, NULL, d) < 0) {
				bad = 1;
			}
		}
	}
	if (bad) {
		expect_free(x);
		return -1;
	}
	if (x->n == 0) {
		expect_free(x);
		return 0;
	}
	if (x->n < x->alloc) { /* kept for the whole run: no spare slots */
		x->items = xrealloc(x->items, x->n * sizeof(*x->items));
		x->alloc = x->n;
	}
	*out = x;
	return 0;
}

int expect_compile_jq(const char *program, struct expect **out, struct pg_err *e)
{
	struct expect *x;
	struct jqprog *p;
	struct node_pos nopos = {NULL, 0, 0};

	*out = NULL;
	if (jqprog_compile(program, &p, e) < 0)
		return -1;
	x = xcalloc(1, sizeof(*x));
	expect_new_item(x, nopos)->jq = p;
	*out = x;
	return 0;
}
