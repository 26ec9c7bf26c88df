/* k8s_yaml.c - YAML in and out of the k8s module (see k8s_yaml.h):
 * manifests through phasegate's YAML loader with kubectl's integer forms,
 * backups through libyaml's emitter. */
#include "k8s_yaml.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "node.h"

/* A plain scalar as kubectl's YAML reader (sigs.k8s.io/yaml, YAML 1.1
 * integers parsed like Go's strconv.ParseInt with base 0) reads an
 * integer the YAML 1.2 core schema reads otherwise: 0644 is octal 420,
 * 0b101 binary, 1_000 a thousand. Returns 1 and *v when s is one of those
 * forms, else 0. */
static int yaml11_int(const char *s, long long *v)
{
	const char *p = s + (*s == '+' || *s == '-');
	int base = 10;
	if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
		base = 2;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') {
		base = 8;
		p += 1;
	} else if (!strchr(p, '_')) {
		return 0; /* decimal and hex: the core schema agrees */
	}
	unsigned long long acc = 0;
	int digits = 0;
	for (; *p; p++) {
		if (*p == '_')
			continue;
		int d = *p - '0';
		if (d < 0 || d >= base || acc > (unsigned long long)LLONG_MAX / 16)
			return 0;
		acc = acc * (unsigned)base + (unsigned)d;
		digits++;
	}
	if (!digits)
		return 0;
	*v = *s == '-' ? -(long long)acc : (long long)acc;
	return 1;
}

/* Rewrites the integers of j (made from n by node_to_json) that kubectl
 * reads as YAML 1.1 forms; returns a replacement for j or NULL. */
static json_t *yaml11_fix(const struct node *n, json_t *j)
{
	long long v;
	if (n->kind == NODE_SCALAR)
		return n->plain && yaml11_int(n->str, &v) ? json_integer(v) : NULL;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *child = n->kind == NODE_SEQ ? n->items[i] : n->pairs[i].value;
		const struct node *key = n->kind == NODE_MAP ? n->pairs[i].key : NULL;
		if (!child || (key && key->kind != NODE_SCALAR))
			continue;
		json_t *cj = key ? json_object_get(j, key->str) : json_array_get(j, i);
		json_t *rep = cj ? yaml11_fix(child, cj) : NULL;
		if (rep && key)
			json_object_set_new(j, key->str, rep);
		else if (rep)
			json_array_set_new(j, i, rep);
	}
	return NULL;
}

int k8s_load_manifests(const char *path, json_t *out, char **err)
{
	char *data = NULL;
	size_t len = 0;
	struct pg_err e;
	if (read_file_capped(path, 16 * 1024 * 1024, &data, &len, &e) != 0) {
		*err = xstrdup(e.msg);
		return -1;
	}
	int rc = k8s_load_manifests_text(path, data, len, out, err);
	free(data);
	return rc;
}

int k8s_load_manifests_text(const char *path, const char *data, size_t len, json_t *out,
                            char **err)
{
	int rc = 0;
	size_t start = 0;
	unsigned doc = 0;
	for (size_t pos = 0; pos <= len && rc == 0;) {
		size_t eol = pos;
		while (eol < len && data[eol] != '\n')
			eol++;
		int sep = eol - pos >= 3 && strncmp(data + pos, "---", 3) == 0 &&
		          (eol - pos == 3 || data[pos + 3] == ' ' || data[pos + 3] == '\r');
		if (sep || pos >= len) {
			size_t end = sep ? pos : len;
			/* a document holding only blanks and comments is skipped */
			int blank = 1;
			for (size_t i = start; i < end && blank;) {
				size_t le = i;
				while (le < end && data[le] != '\n')
					le++;
				size_t j = i;
				while (j < le &&
				       (data[j] == ' ' || data[j] == '\t' || data[j] == '\r'))
					j++;
				if (j < le && data[j] != '#')
					blank = 0;
				i = le + 1;
			}
			if (!blank) {
				doc++;
				struct diags d;
				diags_init(&d);
				struct node_limits lim = node_limits_default();
				struct node *n = NULL;
				char *name = xasprintf("%s (document %u)", path, doc);
				if (node_load_string(name, data + start, end - start, &lim, &n,
				                     &d) != 0) {
					*err = xasprintf("%s: %s", name,
					                 d.n ? d.v[0].msg : "bad YAML");
					rc = -1;
				} else {
					json_t *j = node_to_json(n);
					json_t *fixed = yaml11_fix(n, j);
					if (fixed) {
						json_decref(j);
						j = fixed;
					}
					const char *kind =
					    json_string_value(json_object_get(j, "kind"));
					if (!json_is_object(j)) {
						*err = xasprintf("%s is not a Kubernetes object",
						                 name);
						rc = -1;
					} else if (kind && strcmp(kind, "List") == 0) {
						json_array_extend(out, json_object_get(j, "items"));
					} else {
						json_array_append(out, j);
					}
					json_decref(j);
					node_free(n);
				}
				free(name);
				diags_release(&d);
			}
			start = eol + 1;
		}
		if (pos >= len)
			break;
		pos = eol + 1;
	}
	return rc;
}

/* ---- YAML output ----------------------------------------------------- */

/* A string that a YAML 1.1 or 1.2 reader would take for something else
 * when written plain: booleans of both versions (True, NO, Off, y),
 * nulls, anything that starts like a number, a time or a special float,
 * and YAML 1.1's merge and value keys. Such strings are double-quoted. */
static int yaml_ambiguous(const char *s)
{
	static const char *const words[] = {
	    "y",    "Y",    "yes",  "Yes",   "YES",   "n",     "N",  "no", "No", "NO",
	    "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off",
	    "Off",  "OFF",  "~",    "null",  "Null",  "NULL",  "<<", "=",  NULL};
	if (!*s)
		return 1;
	for (size_t i = 0; words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return 1;
	return strchr("0123456789+-.", *s) != NULL;
}

static int yaml_out(void *data, unsigned char *text, size_t size)
{
	buf_add(data, text, size);
	return 1;
}

static int yaml_scalar(yaml_emitter_t *em, const char *text, size_t len, int is_string)
{
	yaml_event_t ev;
	yaml_scalar_style_t style = is_string && yaml_ambiguous(text)
	                                ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
	                                : YAML_ANY_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1,
	                                  style))
		return 0;
	return yaml_emitter_emit(em, &ev);
}

static int yaml_value(yaml_emitter_t *em, json_t *v, unsigned depth)
{
	yaml_event_t ev;
	if (depth > 200) /* jansson's own parser stops far earlier */
		return 0;
	if (json_is_object(v)) {
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		                                         YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
		{
			if (!yaml_scalar(em, k, strlen(k), 1) || !yaml_value(em, x, depth + 1))
				return 0;
		}
		return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
	}
	if (json_is_array(v)) {
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		                                          YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return 0;
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) if (!yaml_value(em, x, depth + 1)) return 0;
		return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(em, &ev);
	}
	if (json_is_string(v))
		return yaml_scalar(em, json_string_value(v), json_string_length(v), 1);
	char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT); /* numbers, true, null */
	int ok = yaml_scalar(em, t ? t : "null", t ? strlen(t) : 4, 0);
	free(t);
	return ok;
}

void k8s_yaml(struct buf *b, json_t *obj)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	yaml_emitter_initialize(&em);
	yaml_emitter_set_output(&em, yaml_out, b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_indent(&em, 2);
	int ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) &&
	         yaml_emitter_emit(&em, &ev) &&
	         yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) &&
	         yaml_emitter_emit(&em, &ev) && yaml_value(&em, obj, 0) &&
	         yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&em, &ev) &&
	         yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&em, &ev);
	if (!ok) /* only a value nested past any real object's depth gets here */
		buf_addf(b, "# not written: %s\n", em.problem ? em.problem : "nesting too deep");
	yaml_emitter_delete(&em);
}
