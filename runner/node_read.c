/* node_read.c - reading a loaded tree (runner/node.h): map lookups, the
 * scalar readers with the YAML 1.2 core schema (null, booleans, integers,
 * floats, durations) and their "expected ..., got ..." messages, and the
 * tree as JSON. The loader that builds trees is runner/node.c. */
#include "node.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "vars.h"

/* ---- lookups and scalar readers ----------------------------------------- */

const struct node *node_get(const struct node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != NODE_MAP || !key)
		return NULL;
	for (i = 0; i < map->n; i++) {
		const struct node *k = map->pairs[i].key;
		if (k && k->kind == NODE_SCALAR && strcmp(k->str, key) == 0)
			return map->pairs[i].value;
	}
	return NULL;
}

static int str_in(const char *s, const char *const *list)
{
	for (; *list; list++) {
		if (strcmp(s, *list) == 0)
			return 1;
	}
	return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

int node_is_null(const struct node *n)
{
	if (!n)
		return 1;
	return n->kind == NODE_SCALAR && n->plain && str_in(n->str, null_words);
}

/* Integer forms of the YAML 1.2 core schema: decimal with optional sign,
 * 0x hex, 0o octal. Returns 1 and sets *out; 0 when s is not one; -1 when it
 * is one but does not fit. */
static int scan_int(const char *s, long long *out)
{
	const char *p = s;
	int base = 10, neg = 0;
	unsigned long long v = 0, limit;
	int digits = 0;

	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
		if (p != s)
			return 0; /* the core schema has no signed hex/octal */
		base = p[1] == 'x' ? 16 : 8;
		p += 2;
	}
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	for (; *p; p++) {
		int dv;
		if (*p >= '0' && *p <= '9')
			dv = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dv = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dv = *p - 'A' + 10;
		else
			return 0;
		if (dv >= base)
			return 0;
		digits++;
		if (v > (limit - (unsigned)dv) / (unsigned)base) {
			/* keep scanning so "12x" is still "not a number" */
			for (p++; *p; p++) {
				if (!((*p >= '0' && *p <= '9') ||
				      (base == 16 &&
				       ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))))
					return 0;
			}
			return -1;
		}
		v = v * (unsigned)base + (unsigned)dv;
	}
	if (!digits)
		return 0;
	if (neg)
		*out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
	else
		*out = (long long)v;
	return 1;
}

/* Float forms of the core schema, without the special values. */
static int scan_float(const char *s, double *out)
{
	const char *p = s;
	int mant = 0;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		mant++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			mant++;
		}
	}
	if (!mant)
		return 0;
	if (*p == 'e' || *p == 'E') {
		int exp = 0;
		p++;
		if (*p == '+' || *p == '-')
			p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			exp++;
		}
		if (!exp)
			return 0;
	}
	if (*p)
		return 0;
	*out = strtod(s, &end);
	return *end == 0;
}

/* .inf, -.inf, .nan and their capitalised forms: 1 for infinities, 2 nan. */
static int scan_special_float(const char *s)
{
	static const char *const inf[] = {".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf",
	                                  "+.INF", "-.inf", "-.Inf", "-.INF", NULL};
	static const char *const nan_words[] = {".nan", ".NaN", ".NAN", NULL};

	if (str_in(s, inf))
		return 1;
	if (str_in(s, nan_words))
		return 2;
	return 0;
}

/* What a plain scalar resolves to under the core schema. */
enum scalar_type { ST_NULL, ST_BOOL, ST_INT, ST_FLOAT, ST_STR };

static enum scalar_type scalar_type(const struct node *n)
{
	long long ll;
	double d;

	if (!n->plain)
		return ST_STR;
	if (str_in(n->str, null_words))
		return ST_NULL;
	if (str_in(n->str, true_words) || str_in(n->str, false_words))
		return ST_BOOL;
	if (scan_int(n->str, &ll) == 1)
		return ST_INT;
	if (scan_int(n->str, &ll) == -1 || scan_float(n->str, &d) || scan_special_float(n->str))
		return ST_FLOAT;
	return ST_STR;
}

const char *node_kind_name(const struct node *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case NODE_SEQ:
		return "list";
	case NODE_MAP:
		return "map";
	case NODE_SCALAR:
		break;
	}
	switch (scalar_type(n)) {
	case ST_NULL:
		return "null";
	case ST_BOOL:
		return "boolean";
	case ST_INT:
		return "integer";
	case ST_FLOAT:
		return "number";
	case ST_STR:
		break;
	}
	return "string";
}

char *node_value_for_msg(const struct node *n)
{
	char *masked, *out;
	size_t i, len;

	masked = mask_dup(n->str ? n->str : "");
	len = strlen(masked);
	if (len > 60) {
		/* cut on a UTF-8 boundary */
		len = 57;
		while (len > 0 && ((unsigned char)masked[len] & 0xC0) == 0x80)
			len--;
		out = xasprintf("%.*s...", (int)len, masked);
	} else {
		out = xstrdup(masked);
	}
	free(masked);
	for (i = 0; out[i]; i++) {
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	}
	return out;
}

/* Adds "expected <what>, got ..." at n. */
static int expected(struct diags *d, const struct node *n, const char *what)
{
	char *v;

	if (!n)
		return diag_at(d, n, "expected %s, got nothing", what);
	if (n->kind != NODE_SCALAR)
		return diag_at(d, n, "expected %s, got a %s", what,
		               n->kind == NODE_SEQ ? "list" : "map");
	if (node_is_null(n))
		return diag_at(d, n, "expected %s, got an empty value", what);
	v = node_value_for_msg(n);
	diag_at(d, n, "expected %s, got '%s'", what, v);
	free(v);
	return -1;
}

int node_as_bool(const struct node *n, int *out, struct diags *d)
{
	if (n && n->kind == NODE_SCALAR) {
		if (str_in(n->str, true_words)) {
			*out = 1;
			return 0;
		}
		if (str_in(n->str, false_words)) {
			*out = 0;
			return 0;
		}
	}
	return expected(d, n, "a boolean (true or false)");
}

int node_as_ll(const struct node *n, long long *out, struct diags *d)
{
	int r;

	if (!n || n->kind != NODE_SCALAR)
		return expected(d, n, "an integer");
	r = scan_int(n->str, out);
	if (r == 1)
		return 0;
	if (r == -1) {
		char *v = node_value_for_msg(n);
		diag_at(d, n, "integer '%s' is out of range", v);
		free(v);
		return -1;
	}
	return expected(d, n, "an integer");
}

int node_as_double(const struct node *n, double *out, struct diags *d)
{
	long long ll;
	int sp;

	if (!n || n->kind != NODE_SCALAR)
		return expected(d, n, "a number");
	if (scan_int(n->str, &ll) == 1) {
		*out = (double)ll;
		return 0;
	}
	if (scan_float(n->str, out))
		return 0;
	sp = scan_special_float(n->str);
	if (sp == 1) {
		*out = n->str[0] == '-' ? -HUGE_VAL : HUGE_VAL;
		return 0;
	}
	if (sp == 2) {
		*out = NAN;
		return 0;
	}
	return expected(d, n, "a number");
}

int node_as_duration_ms(const struct node *n, long long *out, struct diags *d)
{
	if (n && n->kind == NODE_SCALAR && !node_is_null(n) &&
	    parse_duration_ms(n->str, out) == 0 && *out >= 0)
		return 0;
	return expected(d, n, "a duration such as 30s, 500ms or 2m");
}

int node_as_str(const struct node *n, const char **out, struct diags *d)
{
	if (!n || n->kind != NODE_SCALAR)
		return expected(d, n, "text");
	*out = n->str;
	return 0;
}

/* ---- JSON --------------------------------------------------------------- */

json_t *node_to_json(const struct node *n)
{
	json_t *j;
	size_t i;
	long long ll;
	double dv;

	if (!n)
		return json_null();
	switch (n->kind) {
	case NODE_SEQ:
		j = json_array();
		for (i = 0; i < n->n; i++)
			json_array_append_new(j, node_to_json(n->items[i]));
		return j;
	case NODE_MAP:
		j = json_object();
		for (i = 0; i < n->n; i++) {
			const struct node *k = n->pairs[i].key;
			json_t *key;
			if (!k || k->kind != NODE_SCALAR)
				continue;
			key = json_from_bytes(k->str, k->len);
			json_object_setn_new(j, json_string_value(key), json_string_length(key),
			                     node_to_json(n->pairs[i].value));
			json_decref(key);
		}
		return j;
	case NODE_SCALAR:
		break;
	}
	switch (scalar_type(n)) {
	case ST_NULL:
		return json_null();
	case ST_BOOL:
		return json_boolean(str_in(n->str, true_words));
	case ST_INT:
		scan_int(n->str, &ll);
		return json_integer(ll);
	case ST_FLOAT:
		/* JSON has no inf/nan: keep those (and huge values) as text */
		if (scan_float(n->str, &dv) && isfinite(dv))
			return json_real(dv);
		break;
	case ST_STR:
		break;
	}
	return json_from_bytes(n->str, n->len);
}
