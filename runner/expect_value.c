/* expect_value.c - values as the expectation engine reads, compares and
 * shows them: numbers (integers stay exact, reals print as written), deep
 * JSON equality, and outside text masked and trimmed for messages. The
 * typing rule is at the top of expect.c. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect_int.h"
#include "vars.h"

#define EXPECT_ELLIPSIS "\xe2\x80\xa6"

/* Compact JSON text of any value (owned). */
char *expect_json_text(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	char *out;

	if (!s)
		return xstrdup("null");
	out = xstrdup(s);
	free(s);
	return out;
}

/* Takes s (owned) and returns it cut to max bytes at a UTF-8 boundary with
 * an ellipsis when it was longer. */
char *expect_trim_text(char *s, size_t max)
{
	size_t len = strlen(s);
	size_t cut = max;
	char *out;

	if (len <= max)
		return s;
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	out = xasprintf("%.*s" EXPECT_ELLIPSIS, (int)cut, s);
	free(s);
	return out;
}

/* Masks first, then trims, so a cut can never leave part of a secret. */
char *expect_masked_trimmed(const char *s, size_t max)
{
	return expect_trim_text(mask_dup(s), max);
}

/* A jq program as quoted in one line of text: runs of white space (a YAML
 * block spreads programs over lines) become one space. */
char *expect_shown_program(const char *prog)
{
	struct buf b;
	int space = 0;

	buf_init(&b, 0);
	for (const char *p = prog; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			space = 1;
			continue;
		}
		if (space && b.len > 0)
			buf_addc(&b, ' ');
		space = 0;
		buf_addc(&b, *p);
	}
	return expect_trim_text(buf_detach(&b), EXPECT_PROG_SHOWN);
}

int expect_num_from_text(const char *s, struct num *out)
{
	char *end;
	long long ll;
	double d;

	/* no white space around, no hex, inf or nan: only what a person reads
	 * as a number */
	if (!s || !*s || strpbrk(s, " \t\n\r\vxXiInN"))
		return -1;
	errno = 0;
	ll = strtoll(s, &end, 10);
	if (errno == 0 && *end == '\0') {
		out->is_int = 1;
		out->i = ll;
		out->d = (double)ll;
		return 0;
	}
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d))
		return -1;
	out->is_int = 0;
	out->i = 0;
	out->d = d;
	return 0;
}

/* A fact as a number: JSON numbers, and strings that hold one. */
int expect_num_from_json(const json_t *v, struct num *out)
{
	if (json_is_integer(v)) {
		out->is_int = 1;
		out->i = json_integer_value(v);
		out->d = (double)out->i;
		return 0;
	}
	if (json_is_real(v)) {
		out->is_int = 0;
		out->i = 0;
		out->d = json_real_value(v);
		return 0;
	}
	if (json_is_string(v))
		return expect_num_from_text(json_string_value(v), out);
	return -1;
}

/* <0, 0, >0 like strcmp. */
int expect_num_cmp(const struct num *a, const struct num *b)
{
	if (a->is_int && b->is_int)
		return (a->i > b->i) - (a->i < b->i);
	return (a->d > b->d) - (a->d < b->d);
}

/* The shortest text that reads back as the same number: 0.9 as a person
 * wrote it, not 0.90000000000000002. */
char *expect_num_text(const struct num *n)
{
	if (n->is_int)
		return xasprintf("%lld", n->i);
	for (int prec = 1; prec < 17; prec++) {
		char *t = xasprintf("%.*g", prec, n->d);
		if (strtod(t, NULL) == n->d)
			return t;
		free(t);
	}
	return xasprintf("%.17g", n->d);
}

/* Deep equality; integer and real compare numerically. */
int expect_json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) {
		struct num x, y;
		expect_num_from_json(a, &x);
		expect_num_from_json(b, &y);
		return expect_num_cmp(&x, &y) == 0;
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING: {
		size_t len = json_string_length(a);
		return len == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), len) == 0;
	}
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!expect_json_same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT: {
		const char *k;
		json_t *va;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, va)
		{
			json_t *vb = json_object_get(b, k);
			if (!vb || !expect_json_same(va, vb))
				return 0;
		}
		return 1;
	}
	default:
		return 1; /* true, false, null: the type is the value */
	}
}
