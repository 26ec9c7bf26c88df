/* schema.c - "phasegate schema": a JSON Schema (draft-07) of the suite
 * format, generated from the tables the loader validates with (runner/suite.c)
 * and from every registered module's keys table, so that an editor (through
 * yaml-language-server) refuses what the loader refuses: unknown keys,
 * values of the wrong type, a check without exactly one module key.
 *
 * One document covers the three kinds of suite file: the suite file itself,
 * a phase file listed under phases:, and a file listed under include:. */
#include <string.h>

#include "module.h"
#include "schema.h"
#include "suite.h"

/* A value that still holds a variable reference ("${port}") is typed only
 * after expansion, so every typed scalar also accepts such a string. */
#define VAR_REF_PATTERN "\\$\\{"

static json_t *scalar_any(void)
{
	return json_pack("{s:[ssss]}", "type", "string", "number", "integer", "boolean");
}

static json_t *typed_or_ref(json_t *typed, const char *text_pattern)
{
	char *pat = text_pattern ? xasprintf("%s|%s", text_pattern, VAR_REF_PATTERN)
	                         : xstrdup(VAR_REF_PATTERN);
	json_t *j =
	    json_pack("{s:[o,{s:s,s:s}]}", "anyOf", typed, "type", "string", "pattern", pat);
	free(pat);
	return j;
}

static json_t *strseq(void)
{
	return json_pack("{s:s,s:o}", "type", "array", "items", scalar_any());
}

static json_t *object_of(const struct key_spec *keys, const struct suite_key_tables *t);
static json_t *entry_schema(const struct suite_key_tables *t);

/* The schema of one key's value. */
static json_t *value_schema(const struct key_spec *k, const struct suite_key_tables *t)
{
	json_t *j = NULL;
	switch (k->type) {
	case KT_STR:
		j = scalar_any();
		break;
	case KT_INT:
		j = typed_or_ref(json_pack("{s:s}", "type", "integer"), "^\\s*[-+]?[0-9]+\\s*$");
		break;
	case KT_NUM:
		j = typed_or_ref(json_pack("{s:s}", "type", "number"),
		                 "^\\s*[-+]?[0-9]*\\.?[0-9]+([eE][-+]?[0-9]+)?\\s*$");
		break;
	case KT_BOOL:
		j = typed_or_ref(json_pack("{s:s}", "type", "boolean"),
		                 "^(true|True|TRUE|false|False|FALSE)$");
		break;
	case KT_DURATION:
		j = typed_or_ref(json_pack("{s:s,s:i}", "type", "number", "minimum", 0),
		                 "^\\s*([0-9]+(\\.[0-9]+)?(ms|s|m|h|d)?)+\\s*$");
		break;
	case KT_SEQ: {
		json_t *item;
		if (k->flags & KEY_ENTRIES)
			item = json_pack("{s:s}", "$ref", "#/definitions/entry");
		else if (k->sub)
			item = object_of(k->sub, t);
		else
			item = json_object();
		if ((k->flags & KEY_OR_TEXT) && k->sub)
			item = json_pack("{s:[o,o]}", "anyOf", scalar_any(), item);
		j = json_pack("{s:s,s:o}", "type", "array", "items", item);
		break;
	}
	case KT_MAP:
		if (k->sub && (k->flags & KEY_EACH))
			j = json_pack("{s:s,s:o}", "type", "object", "additionalProperties",
			              object_of(k->sub, t));
		else if (k->sub)
			j = object_of(k->sub, t);
		else
			j = json_pack("{s:s}", "type", "object");
		break;
	case KT_STRSEQ:
		j = strseq();
		break;
	case KT_STRMAP:
		j = json_pack("{s:s,s:{s:[sssss]}}", "type", "object", "additionalProperties",
		              "type", "string", "number", "integer", "boolean", "null");
		break;
	case KT_STR_OR_SEQ:
		j = json_pack("{s:[o,o]}", "anyOf", scalar_any(), strseq());
		break;
	case KT_ANY:
		if (k->sub && (k->flags & KEY_OR_TEXT))
			j = json_pack("{s:[o,o]}", "anyOf", scalar_any(), object_of(k->sub, t));
		else if (k->sub)
			j = object_of(k->sub, t);
		else
			j = json_object();
		break;
	}
	if (k->choices) {
		json_t *e = json_array();
		for (const char *const *c = k->choices; *c; c++)
			json_array_append_new(e, json_string(*c));
		json_object_set_new(j, "enum", e);
	}
	/* an optional key left empty counts as absent (keys_validate) */
	if (!(k->flags & KEY_REQUIRED))
		j = json_pack("{s:[{s:s},o]}", "anyOf", "type", "null", j);
	if (k->doc)
		json_object_set_new(j, "description", json_string(k->doc));
	return j;
}

/* The properties of a keys table, added to obj; required keys listed. */
static void add_properties(json_t *obj, const struct key_spec *keys,
                           const struct suite_key_tables *t)
{
	json_t *props = json_object_get(obj, "properties");
	json_t *req = json_object_get(obj, "required");
	if (!props) {
		props = json_object();
		json_object_set_new(obj, "properties", props);
	}
	for (const struct key_spec *k = keys; k && k->name; k++) {
		json_object_set_new(props, k->name, value_schema(k, t));
		if (k->flags & KEY_REQUIRED) {
			if (!req) {
				req = json_array();
				json_object_set_new(obj, "required", req);
			}
			json_array_append_new(req, json_string(k->name));
		}
	}
}

static json_t *object_of(const struct key_spec *keys, const struct suite_key_tables *t)
{
	json_t *obj = json_pack("{s:s,s:b}", "type", "object", "additionalProperties", 0);
	add_properties(obj, keys, t);
	return obj;
}

/* A check, action or collector: the entry keys plus exactly one module key. */
static json_t *entry_schema(const struct suite_key_tables *t)
{
	json_t *obj = object_of(t->entry, t);
	json_t *props = json_object_get(obj, "properties");
	json_t *one = json_array();
	size_t n;
	const struct check_module *const *all = module_all(&n);
	for (size_t i = 0; i < n; i++) {
		const struct check_module *m = all[i];
		json_t *cfg = m->keys ? object_of(m->keys, t) : json_object();
		json_t *v = json_pack("{s:[{s:s},o]}", "anyOf", "type", "null", cfg);
		if (m->summary)
			json_object_set_new(v, "description", json_string(m->summary));
		json_object_set_new(props, m->name, v);
		json_array_append_new(one, json_pack("{s:[s]}", "required", m->name));
	}
	json_object_set_new(obj, "oneOf", one);
	return obj;
}

json_t *schema_build(void)
{
	struct suite_key_tables t;
	suite_key_tables(&t);
	json_t *defs = json_object();
	json_t *suite = object_of(t.suite, &t);
	json_object_set_new(suite, "description", json_string("a suite file (suite.yaml)"));
	json_t *phase = object_of(t.phase, &t);
	json_object_set_new(phase, "description", json_string("a phase file listed under phases:"));
	json_t *include = object_of(t.include, &t);
	json_object_set_new(include, "description",
	                    json_string("a file listed under include: (vars and defaults)"));
	json_object_set_new(defs, "suite", suite);
	json_object_set_new(defs, "phase", phase);
	json_object_set_new(defs, "include", include);
	json_object_set_new(defs, "entry", entry_schema(&t));
	char *title = xasprintf("phasegate %s suite", PHASEGATE_VERSION);
	json_t *root =
	    json_pack("{s:s,s:s,s:s,s:[{s:s},{s:s},{s:s}],s:o}", "$schema",
	              "http://json-schema.org/draft-07/schema#", "title", title, "description",
	              "phasegate suite files: a suite, a phase file or an include file. "
	              "Generated by 'phasegate schema' from the loader's key tables.",
	              "anyOf", "$ref", "#/definitions/suite", "$ref", "#/definitions/phase", "$ref",
	              "#/definitions/include", "definitions", defs);
	free(title);
	return root;
}

char *schema_render(void)
{
	json_t *s = schema_build();
	char *text = json_dumps(s, JSON_INDENT(2));
	json_decref(s);
	char *out = xasprintf("%s\n", text ? text : "{}");
	free(text);
	return out;
}
