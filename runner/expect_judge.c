/* expect_judge.c - judges a module's facts against a compiled expect: list
 * (expect.c), item by item, and writes the sentence a person reads when one
 * fails ("expected status == 200, saw 503"), masked, and the value each item
 * looked at, also on a pass. Regexes are matched with PCRE2 under the match
 * limits of the compiled list; jq programs run through expect_jq.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect_int.h"
#include "vars.h"

/* Index = enum cmp (expect_int.h). */
static const char *const cmp_sym[] = {"==", ">=", ">", "<=", "<"};

static char *bounds_text(const struct op *op)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < op->nb; i++) {
		char *n = expect_num_text(&op->b[i].n);
		buf_addf(&b, "%s%s %s", i ? " and " : "", cmp_sym[op->b[i].cmp], n);
		free(n);
	}
	return buf_detach(&b);
}

/* What is being judged, as named in messages: "status", "jq '...'". */
static char *subject_name(const struct item *it)
{
	char *prog, *name;

	if (!it->jq)
		return xstrdup(it->path.n == 0 ? "the facts" : it->path_text);
	prog = expect_shown_program(jqprog_text(it->jq));
	if (it->path_text)
		name =
		    xasprintf("jq '%s' on %s", prog, it->path.n == 0 ? "the facts" : it->path_text);
	else
		name = xasprintf("jq '%s'", prog);
	free(prog);
	return name;
}

/* Fills v for a failure. expected: the expectation ("status == 200").
 * first: the opening of the message when it is not "expected <expected>"
 * (NULL otherwise). seen: the value seen as text. tail: the end of the
 * message when it is not "saw <seen>" (NULL otherwise). All borrowed. */
static void verdict_fail(struct expect_verdict *v, const struct item *it, const char *expected,
                         const char *first, const char *seen, const char *tail)
{
	char *exp_m = mask_dup(expected);
	char *seen_m = expect_masked_trimmed(seen, EXPECT_SEEN_MAX);
	char *tail_m = tail ? expect_masked_trimmed(tail, EXPECT_SEEN_MAX + 64) : NULL;
	char *head, *msg;

	if (it->message)
		head = xstrdup(it->message);
	else if (first)
		head = xasprintf("expected %s", first);
	else
		head = xasprintf("expected %s", exp_m);
	if (tail_m)
		msg = xasprintf("%s, %s", head, tail_m);
	else
		msg = xasprintf("%s, saw %s", head, seen_m);
	v->pass = 0;
	v->message = mask_dup(msg);
	v->expected = exp_m;
	v->seen = seen_m;
	free(head);
	free(msg);
	free(tail_m);
}

/* Number of elements (arrays, objects), characters (strings), 0 for null;
 * -1 for a number or boolean. */
static long long value_size(const json_t *v)
{
	if (json_is_array(v))
		return (long long)json_array_size(v);
	if (json_is_object(v))
		return (long long)json_object_size(v);
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		const unsigned char *s = (const unsigned char *)json_string_value(v);
		size_t len = json_string_length(v);
		long long chars = 0;
		for (size_t i = 0; i < len; i++)
			if ((s[i] & 0xC0) != 0x80)
				chars++;
		return chars;
	}
	return -1;
}

static int bounds_hold(const struct op *op, const struct num *n)
{
	for (size_t i = 0; i < op->nb; i++) {
		int c = expect_num_cmp(n, &op->b[i].n);
		int ok = 0;
		switch (op->b[i].cmp) {
		case CMP_EQ:
			ok = c == 0;
			break;
		case CMP_GE:
			ok = c >= 0;
			break;
		case CMP_GT:
			ok = c > 0;
			break;
		case CMP_LE:
			ok = c <= 0;
			break;
		case CMP_LT:
			ok = c < 0;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* 1 matched, 0 not, -1 with *why set (owned) when PCRE2 gave up. */
static int regex_match(const struct expect *x, const struct op *op, const json_t *val, char **why)
{
	char *owned = NULL;
	const char *s;
	size_t len;
	pcre2_match_data *md;
	int rc;

	if (json_is_string(val)) {
		s = json_string_value(val);
		len = json_string_length(val);
	} else {
		owned = expect_json_text(val);
		s = owned;
		len = strlen(owned);
	}
	md = pcre2_match_data_create_from_pattern(op->re, NULL);
	if (!md) {
		fprintf(stderr, "phasegate: out of memory\n");
		abort();
	}
	rc = pcre2_match(op->re, (PCRE2_SPTR)s, len, 0, 0, md, x->mctx);
	pcre2_match_data_free(md);
	free(owned);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	{
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(rc, msg, sizeof(msg));
		*why = xstrdup((const char *)msg);
	}
	return -1;
}

/* The needle's text for substring and key tests. */
static char *needle_text(const json_t *n)
{
	return json_is_string(n) ? xstrdup(json_string_value(n)) : expect_json_text(n);
}

static int contains_one(const json_t *hay, const json_t *needle)
{
	if (json_is_array(hay)) {
		for (size_t i = 0; i < json_array_size(hay); i++)
			if (expect_json_same(json_array_get(hay, i), needle))
				return 1;
		return 0;
	}
	{
		char *nt = needle_text(needle);
		int found;
		if (json_is_object(hay)) {
			found = json_object_get(hay, nt) != NULL;
		} else {
			char *ht = json_is_string(hay) ? xstrdup(json_string_value(hay))
			                               : expect_json_text(hay);
			found = strstr(ht, nt) != NULL;
			free(ht);
		}
		free(nt);
		return found;
	}
}

/* A list argument means every element must be contained. */
static int contains_all(const json_t *hay, const json_t *arg)
{
	if (!json_is_array(arg))
		return contains_one(hay, arg);
	for (size_t i = 0; i < json_array_size(arg); i++)
		if (!contains_one(hay, json_array_get(arg, i)))
			return 0;
	return 1;
}

/* Judges one operator on val (NULL when absent); 0 holds, -1 failed with
 * v filled. */
static int judge_op(const struct expect *x, const struct item *it, const struct op *op,
                    const char *name, json_t *val, struct expect_verdict *v)
{
	char *expected = NULL, *seen = NULL, *first = NULL, *tail = NULL;
	int ok = 0;

	switch (op->kind) {
	case OP_EQUALS:
		expected = xasprintf("%s == %s", name, op->arg_text);
		ok = val && expect_json_same(val, op->arg);
		break;
	case OP_NOT:
		expected = xasprintf("%s != %s", name, op->arg_text);
		ok = val && !expect_json_same(val, op->arg);
		break;
	case OP_MATCHES: {
		int m;
		expected = xasprintf("%s to match %s", name, op->arg_text);
		if (!val)
			break;
		m = regex_match(x, op, val, &tail);
		if (m < 0) {
			char *why = tail;
			tail = xasprintf("but the regex could not be evaluated (%s)", why);
			free(why);
		}
		ok = m == 1;
		break;
	}
	case OP_CONTAINS:
		expected = xasprintf("%s to contain %s", name, op->arg_text);
		ok = val && contains_all(val, op->arg);
		break;
	case OP_IN:
		expected = xasprintf("%s to be one of %s", name, op->arg_text);
		if (val)
			for (size_t i = 0; i < json_array_size(op->arg) && !ok; i++)
				ok = expect_json_same(val, json_array_get(op->arg, i));
		break;
	case OP_EXISTS:
		expected = xasprintf(op->want ? "%s to exist" : "%s to be absent", name);
		ok = op->want ? val != NULL : val == NULL;
		if (!op->want)
			goto done; /* absent is the pass; a present value is shown */
		break;
	case OP_COUNT:
	case OP_LENGTH: {
		char *bt = bounds_text(op);
		long long size = val ? value_size(val) : -1;
		expected = xasprintf("%s %s %s", name, expect_op_words[op->kind], bt);
		free(bt);
		if (!val)
			break;
		if (size < 0) {
			first = xasprintf("a list, map or string at %s", name);
			break;
		}
		{
			struct num n = {1, size, (double)size};
			ok = bounds_hold(op, &n);
			seen = xasprintf("%lld", size);
		}
		break;
	}
	case OP_GE:
	case OP_GT:
	case OP_LE:
	case OP_LT: {
		struct num n;
		char *bt = bounds_text(op);
		expected = xasprintf("%s %s", name, bt);
		free(bt);
		if (!val)
			break;
		if (expect_num_from_json(val, &n) < 0) {
			first = xasprintf("a number at %s", name);
			break;
		}
		ok = bounds_hold(op, &n);
		break;
	}
	default:
		break;
	}
	if (!val && !tail)
		tail = xstrdup("but it is absent");
done:
	if (!ok) {
		if (!seen)
			seen = val ? expect_json_text(val) : xstrdup("(absent)");
		verdict_fail(v, it, expected, first, seen, tail);
	}
	free(expected);
	free(seen);
	free(first);
	free(tail);
	return ok ? 0 : -1;
}

static int judge_item(const struct expect *x, const struct item *it, json_t *facts,
                      struct expect_verdict *v)
{
	char *name = subject_name(it);
	json_t *val = it->path_text ? expect_path_lookup(facts, &it->path) : facts;
	json_t *jq_out = NULL;
	int rc = 0;

	if (it->jq) {
		char *err = NULL;
		enum jq_outcome o;
		char *expected = it->nops ? NULL : xasprintf("%s to be true", name);

		if (!val) {
			if (!expected)
				expected = xasprintf("%s to give a value", name);
			verdict_fail(v, it, expected, NULL, "(absent)", "but its input is absent");
			free(expected);
			rc = -1;
			goto out;
		}
		o = expect_jq_run_first(it->jq, val, &jq_out, &err);
		if (o != JQ_OUTPUT) {
			char *tail = o == JQ_FAILED ? xasprintf("but it failed: %s", err)
			                            : xstrdup("but it gave no output");
			if (!expected)
				expected = xasprintf("%s to give a value", name);
			verdict_fail(v, it, expected, NULL, o == JQ_FAILED ? err : "(no output)",
			             tail);
			free(tail);
			free(err);
			free(expected);
			rc = -1;
			goto out;
		}
		if (!it->nops) {
			if (!json_is_true(jq_out)) {
				char *seen = expect_json_text(jq_out);
				verdict_fail(v, it, expected, NULL, seen, NULL);
				free(seen);
				rc = -1;
			}
			free(expected);
			goto out;
		}
		val = jq_out;
	}
	for (size_t i = 0; i < it->nops && rc == 0; i++)
		rc = judge_op(x, it, &it->ops[i], name, val, v);
	if (!v->observed && val) {
		/* what was measured, kept for reports also when it passed; a real
		 * as its shortest exact text */
		struct num n = {.is_int = 0, .d = json_is_real(val) ? json_real_value(val) : 0};
		char *t = json_is_real(val) ? expect_num_text(&n) : expect_json_text(val);
		v->observed = expect_masked_trimmed(t, EXPECT_SEEN_MAX);
		free(t);
	}
out:
	json_decref(jq_out);
	free(name);
	return rc;
}

void expect_judge(const struct expect *e, json_t *facts, struct expect_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->pass = 1;
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++)
		if (judge_item(e, &e->items[i], facts, v) < 0)
			return;
}

void expect_verdict_release(struct expect_verdict *v)
{
	free(v->message);
	free(v->expected);
	free(v->seen);
	free(v->observed);
	memset(v, 0, sizeof(*v));
	v->pass = 1;
}
