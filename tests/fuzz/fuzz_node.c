/* fuzz_node.c - libFuzzer harness for the YAML loader: any bytes given to
 * node_load_string must give either a tree or diagnostics, never a crash, a
 * leak or a hang; a loaded tree must survive copy, JSON conversion, key
 * validation and variable expansion. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "keys.h"
#include "node.h"
#include "util.h"
#include "vars.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct key_spec fuzz_keys[] = {
    {"name", KT_STR, KEY_REQUIRED, "text"},
    {"count", KT_INT, 0, "integer"},
    {"ratio", KT_NUM, 0, "number"},
    {"on", KT_BOOL, 0, "boolean"},
    {"timeout", KT_DURATION, 0, "duration"},
    {"items", KT_STRSEQ, 0, "list of text"},
    {"labels", KT_STRMAP, 0, "map of text"},
    {"hosts", KT_STR_OR_SEQ, 0, "text or list"},
    {NULL, KT_ANY, 0, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_limits lim = node_limits_default();
	struct deferred_names deferred = {0};
	char *later[] = {"saved"};
	struct node *n = NULL, *copy;
	struct diags d;
	struct vars vs;
	json_t *j;
	char *text;

	/* smaller limits keep each run fast; the logic is the same */
	lim.max_depth = 32;
	lim.max_alias_nodes = 2000;
	lim.max_nodes = 100000;
	diags_init(&d);
	if (node_load_string("fuzz.yaml", (const char *)data, size, &lim, &n, &d) == 0) {
		j = node_to_json(n);
		text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		free(text);
		json_decref(j);
		copy = node_copy(n);
		keys_validate(copy, fuzz_keys, "fuzz check", &d);
		vars_init(&vs);
		vars_set(&vs, "name", "value ${name}", "suite", 0);
		deferred.v = later;
		deferred.n = 1;
		vars_expand_tree(&vs, &deferred, copy, &d);
		vars_release(&vs);
		node_free(copy);
		node_free(n);
	}
	diags_release(&d);
	return 0;
}
