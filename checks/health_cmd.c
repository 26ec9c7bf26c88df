/* health_cmd.c - `phasegate health FILE...` (see health_cmd.h): what Argo
 * CD would say of each object, without a cluster. */
#include "health_cmd.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lua_health.h"
#include "node.h"

#define LIST_ITEMS_MAX 100000 /* objects in one kind: List */

static const char *str_or_empty(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void print_verdict(struct lua_health *h, json_t *obj, FILE *out)
{
	char *msg = NULL;
	const char *status = lua_health_of(h, obj, &msg, NULL);
	json_t *meta = json_object_get(obj, "metadata");
	json_t *line = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s}", "apiVersion", str_or_empty(obj, "apiVersion"), "kind",
	    str_or_empty(obj, "kind"), "name", str_or_empty(meta, "name"), "namespace",
	    str_or_empty(meta, "namespace"), "status", status, "message", msg ? msg : "");
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (text)
		fprintf(out, "%s\n", text);
	free(text);
	json_decref(line);
	free(msg);
}

/* An object needs apiVersion and kind as text, as Argo CD needs its GVK. */
static int check_object(const struct node *doc, json_t *j, struct diags *d)
{
	if (!json_is_object(j))
		return diag_at(d, doc, "not a Kubernetes object (a %s, not a map)",
		               node_kind_name(doc));
	if (!json_is_string(json_object_get(j, "apiVersion")) ||
	    !*json_string_value(json_object_get(j, "apiVersion")))
		return diag_at(d, doc, "not a Kubernetes object: apiVersion is missing");
	if (!json_is_string(json_object_get(j, "kind")) ||
	    !*json_string_value(json_object_get(j, "kind")))
		return diag_at(d, doc, "not a Kubernetes object: kind is missing");
	return 0;
}

static int judge_file(struct lua_health *h, const char *file, FILE *out, struct diags *d)
{
	struct node_limits lim = node_limits_default();
	lim.duplicate_keys_last_wins = 1; /* Argo CD reads such manifests */
	struct node *docs = NULL;
	if (node_load_file_stream(file, &lim, &docs, d) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < docs->n; i++) {
		const struct node *doc = docs->items[i];
		json_t *j = node_to_json(doc);
		if (check_object(doc, j, d) != 0) {
			rc = -1;
		} else if (strcmp(json_string_value(json_object_get(j, "kind")), "List") == 0) {
			json_t *items = json_object_get(j, "items");
			const struct node *itemsn = node_get(doc, "items");
			for (size_t k = 0; k < json_array_size(items) && k < LIST_ITEMS_MAX; k++) {
				const struct node *in = itemsn->items[k];
				json_t *it = json_array_get(items, k);
				if (check_object(in, it, d) != 0)
					rc = -1;
				else
					print_verdict(h, it, out);
			}
		} else {
			print_verdict(h, j, out);
		}
		json_decref(j);
	}
	node_free(docs);
	return rc;
}

int health_cmd_run(const char *dir, const char *const *files, size_t nfiles, FILE *out,
                   struct diags *d)
{
	struct lua_health *h = NULL;
	struct pg_err e;
	if (lua_health_new(dir, &h, &e) != 0)
		return diag_pos(d, NULL, 0, 0, "%s", e.msg);
	int rc = 0;
	for (size_t i = 0; i < nfiles; i++)
		if (judge_file(h, files[i], out, d) != 0)
			rc = -1;
	lua_health_free(h);
	return rc;
}
