/* keys.c - checks a module's config map against its declared key table
 * (unknown keys with "did you mean", required keys, value types) and the
 * typed getters modules read validated maps with. */
#include "keys.h"

#include <stdlib.h>
#include <string.h>

#include "vars.h"

int node_is_deferred(const struct node *n)
{
	if (!n || n->kind != NODE_SCALAR)
		return 0;
	/* after expansion a "${" may be literal text (from "$${" or from a
	 * variable's value): only the expander knows */
	if (n->expanded)
		return n->expanded == 2;
	return vars_has_ref(n->str);
}

/* node_kind_name() with its article, for messages: "a list", "an integer". */
static const char *a_kind(const struct node *n)
{
	static const char *const names[][2] = {
	    {"string", "a string"},     {"list", "a list"},     {"map", "a map"},
	    {"integer", "an integer"},  {"number", "a number"}, {"boolean", "a boolean"},
	    {"null", "an empty value"},
	};
	const char *k = node_kind_name(n);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i][0], k) == 0)
			return names[i][1];
	}
	return k;
}


/* The known key closest to name, when it is close enough to be a typo. */
static const char *suggest(const char *name, const struct key_spec *specs)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(name);
	size_t allowed = len <= 3 ? 1 : len <= 8 ? 2 : 3;

	for (; specs->name; specs++) {
		size_t dist = edit_distance(name, specs->name);
		if (dist < best_d) {
			best_d = dist;
			best = specs->name;
		}
	}
	return best_d <= allowed ? best : NULL;
}

static const struct key_spec *find_spec(const struct key_spec *specs, const char *name)
{
	for (; specs->name; specs++) {
		if (strcmp(specs->name, name) == 0)
			return specs;
	}
	return NULL;
}

static void unknown_key(const struct node *key, const struct key_spec *specs, const char *what,
                        struct diags *d)
{
	const char *hint = suggest(key->str, specs);
	struct buf known;
	const struct key_spec *s;
	char *name = mask_dup(key->str);

	if (hint) {
		diag_at(d, key, "unknown key '%s' in %s (did you mean '%s'?)", name, what, hint);
		goto name;
	}
	buf_init(&known, 0);
	/* a long table would drown the message: name the first ones */
	for (s = specs; s->name; s++) {
		if (s - specs == 16) {
			buf_adds(&known, ", ...");
			break;
		}
		buf_addf(&known, "%s%s", s == specs ? "" : ", ", s->name);
	}
	if (known.len)
		diag_at(d, key, "unknown key '%s' in %s (known keys: %s)", name, what,
		        buf_str(&known));
	else
		diag_at(d, key, "unknown key '%s' in %s (it takes no keys)", name, what);
	buf_release(&known);
name:
	free(name);
}

/* Runs one node_as_* reader into a scratch list and re-files its message
 * with the key's name in front. */
static int retag(struct diags *d, const struct node *v, const char *key, const char *what,
                 struct diags *scratch)
{
	size_t i;

	for (i = 0; i < scratch->n; i++)
		diag_at(d, v, "'%s' in %s: %s", key, what, scratch->v[i].msg);
	diags_release(scratch);
	return -1;
}

static int all_scalars_seq(const struct node *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->items[i]->kind != NODE_SCALAR)
			return 0;
	}
	return 1;
}

/* Checks one value against its type; returns 0 or -1 (diagnostic added). */
static int check_type(const struct node *v, const struct key_spec *s, const char *what,
                      struct diags *d)
{
	struct diags scratch;
	long long ll;
	double dv;
	int b;
	size_t i;

	diags_init(&scratch);
	/* a value that is still a run-time reference is typed when it runs */
	if (node_is_deferred(v) && s->type != KT_SEQ && s->type != KT_MAP && s->type != KT_STRSEQ &&
	    s->type != KT_STRMAP)
		return 0;
	switch (s->type) {
	case KT_STR:
		if (v->kind == NODE_SCALAR)
			return 0;
		return diag_at(d, v, "'%s' in %s: expected text, got %s", s->name, what, a_kind(v));
	case KT_INT:
		if (node_as_ll(v, &ll, &scratch) < 0)
			return retag(d, v, s->name, what, &scratch);
		return 0;
	case KT_NUM:
		if (node_as_double(v, &dv, &scratch) < 0)
			return retag(d, v, s->name, what, &scratch);
		return 0;
	case KT_BOOL:
		if (node_as_bool(v, &b, &scratch) < 0)
			return retag(d, v, s->name, what, &scratch);
		return 0;
	case KT_DURATION:
		if (node_as_duration_ms(v, &ll, &scratch) < 0)
			return retag(d, v, s->name, what, &scratch);
		return 0;
	case KT_SEQ:
		if (v->kind == NODE_SEQ)
			return 0;
		return diag_at(d, v, "'%s' in %s: expected a list, got %s", s->name, what,
		               a_kind(v));
	case KT_MAP:
		if (v->kind == NODE_MAP)
			return 0;
		return diag_at(d, v, "'%s' in %s: expected a map, got %s", s->name, what,
		               a_kind(v));
	case KT_STRSEQ:
		if (v->kind == NODE_SEQ && all_scalars_seq(v))
			return 0;
		if (v->kind != NODE_SEQ)
			return diag_at(d, v, "'%s' in %s: expected a list of text values, got %s",
			               s->name, what, a_kind(v));
		for (i = 0; i < v->n && v->items[i]->kind == NODE_SCALAR; i++)
			;
		return diag_at(d, v->items[i], "'%s' in %s: expected text in the list, got %s",
		               s->name, what, a_kind(v->items[i]));
	case KT_STRMAP:
		if (v->kind != NODE_MAP)
			return diag_at(d, v, "'%s' in %s: expected a map of text values, got %s",
			               s->name, what, a_kind(v));
		for (i = 0; i < v->n; i++) {
			const struct node *iv = v->pairs[i].value;
			if (iv && iv->kind != NODE_SCALAR)
				return diag_at(d, iv,
				               "'%s' in %s: expected a text value for '%s', got %s",
				               s->name, what, v->pairs[i].key->str, a_kind(iv));
		}
		return 0;
	case KT_STR_OR_SEQ:
		if (v->kind == NODE_SCALAR || (v->kind == NODE_SEQ && all_scalars_seq(v)))
			return 0;
		return diag_at(d, v, "'%s' in %s: expected text or a list of text values, got %s",
		               s->name, what, a_kind(v));
	case KT_ANY:
		return 0;
	}
	return 0;
}

static int has_key(const struct node *map, const char *name)
{
	size_t i;

	for (i = 0; map && map->kind == NODE_MAP && i < map->n; i++) {
		if (strcmp(map->pairs[i].key->str, name) == 0)
			return 1;
	}
	return 0;
}

int keys_validate(const struct node *map, const struct key_spec *specs, const char *what,
                  struct diags *d)
{
	static const struct key_spec none[] = {{.name = NULL}};
	const struct key_spec *s;
	int problems = 0;
	size_t i;

	if (!specs)
		specs = none;
	if (!what)
		what = "map";
	if (map && map->kind != NODE_MAP && !node_is_null(map)) {
		diag_at(d, map, "expected a map for %s, got %s", what, a_kind(map));
		return 1;
	}
	for (i = 0; map && map->kind == NODE_MAP && i < map->n; i++) {
		const struct node *k = map->pairs[i].key;
		const struct node *v = map->pairs[i].value;
		s = find_spec(specs, k->str);
		if (!s) {
			unknown_key(k, specs, what, d);
			problems++;
			continue;
		}
		if (node_is_null(v)) {
			if (s->flags & KEY_REQUIRED) {
				diag_at(d, k, "required key '%s' in %s has no value", s->name,
				        what);
				problems++;
			}
			continue; /* an optional key left empty counts as absent */
		}
		if (check_type(v, s, what, d) < 0)
			problems++;
	}
	for (s = specs; s->name; s++) {
		if ((s->flags & KEY_REQUIRED) && !has_key(map, s->name)) {
			diag_at(d, map, "missing required key '%s' in %s", s->name, what);
			problems++;
		}
	}
	return problems;
}

/* ---- getters ------------------------------------------------------------ */

/* The value of key when it is a usable scalar: present, not null, not a
 * run-time reference. */
static const struct node *usable(const struct node *map, const char *key)
{
	const struct node *v = node_get(map, key);

	if (!v || v->kind != NODE_SCALAR || node_is_null(v) || node_is_deferred(v))
		return NULL;
	return v;
}

const char *cfg_str(const struct node *map, const char *key, const char *def)
{
	const struct node *v = node_get(map, key);

	/* an empty quoted string is a value; a plain empty one is null */
	if (!v || v->kind != NODE_SCALAR || node_is_null(v) || node_is_deferred(v))
		return def;
	return v->str;
}

long long cfg_int(const struct node *map, const char *key, long long def)
{
	const struct node *v = usable(map, key);
	struct diags scratch;
	long long out = def;

	if (!v)
		return def;
	diags_init(&scratch);
	if (node_as_ll(v, &out, &scratch) < 0)
		out = def;
	diags_release(&scratch);
	return out;
}

double cfg_num(const struct node *map, const char *key, double def)
{
	const struct node *v = usable(map, key);
	struct diags scratch;
	double out = def;

	if (!v)
		return def;
	diags_init(&scratch);
	if (node_as_double(v, &out, &scratch) < 0)
		out = def;
	diags_release(&scratch);
	return out;
}

int cfg_bool(const struct node *map, const char *key, int def)
{
	const struct node *v = usable(map, key);
	struct diags scratch;
	int out = def;

	if (!v)
		return def;
	diags_init(&scratch);
	if (node_as_bool(v, &out, &scratch) < 0)
		out = def;
	diags_release(&scratch);
	return out;
}

long long cfg_duration_ms(const struct node *map, const char *key, long long def)
{
	const struct node *v = usable(map, key);
	struct diags scratch;
	long long out = def;

	if (!v)
		return def;
	diags_init(&scratch);
	if (node_as_duration_ms(v, &out, &scratch) < 0)
		out = def;
	diags_release(&scratch);
	return out;
}

const struct node *cfg_node(const struct node *map, const char *key)
{
	const struct node *v = node_get(map, key);

	return node_is_null(v) ? NULL : v;
}

const char **cfg_strv(const struct node *map, const char *key, size_t *count)
{
	const struct node *v = cfg_node(map, key);
	const char **out;
	size_t i, n = 0;

	if (count)
		*count = 0;
	if (!v || v->kind == NODE_MAP)
		return NULL;
	if (v->kind == NODE_SCALAR) {
		out = xcalloc(2, sizeof(*out));
		out[0] = v->str;
		n = 1;
	} else {
		out = xcalloc(v->n + 1, sizeof(*out));
		for (i = 0; i < v->n; i++) {
			if (v->items[i]->kind == NODE_SCALAR)
				out[n++] = v->items[i]->str;
		}
	}
	if (count)
		*count = n;
	return out;
}
