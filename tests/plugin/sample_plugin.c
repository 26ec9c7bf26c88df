/* sample_plugin.c - a sample external check module, built as a shared
 * object and loaded by module_load_plugins() in the tests. It shows the
 * smallest useful plugin: a keys table, parse, run, describe and free, using
 * nothing from the runner but the structures in module.h (so it links with
 * libc and jansson only).
 *
 *   - id: plugin-demo
 *     sample: {message: "hello", repeat: 2}
 *
 * Facts: {"message": "hellohello", "length": 10, "ok": true}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

struct sample_cfg {
	char *message;   /* owned */
	long repeat;     /* 1..100 */
};

static const struct key_spec sample_keys[] = {
	{"message", KT_STR, KEY_REQUIRED, "text to echo back in the facts"},
	{"repeat", KT_INT, 0, "how many times (default 1)"},
	{NULL, KT_ANY, 0, NULL},
};

/* The scalar under key in a map, or NULL (the loader has checked types). */
static const char *sample_get(const struct node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == NODE_MAP && i < map->n; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0 &&
		    map->pairs[i].value->kind == NODE_SCALAR)
			return map->pairs[i].value->str;
	return NULL;
}

static void sample_free(void *priv)
{
	struct sample_cfg *c = priv;
	if (!c)
		return;
	free(c->message);
	free(c);
}

static int sample_parse(const struct node *cfg, void *state, void **priv, struct diags *d)
{
	const char *msg = sample_get(cfg, "message");
	const char *rep = sample_get(cfg, "repeat");
	struct sample_cfg *c = calloc(1, sizeof(*c));
	char *end = NULL;

	if (!c)
		abort();
	c->message = strdup(msg ? msg : "");
	c->repeat = rep ? strtol(rep, &end, 10) : 1;
	if (!c->message)
		abort();
	if (rep && (*end || c->repeat < 1 || c->repeat > 100)) {
		/* No diag_at here: a plugin that wants positioned diagnostics
		 * runs inside the phasegate binary, which exports them. Refusing
		 * the config still stops the suite. */
		sample_free(c);
		return -1;
	}
	*priv = c;
	return 0;
}

static void sample_run(void *priv, struct check_ctx *ctx, struct check_out *out)
{
	const struct sample_cfg *c = priv;
	size_t len = strlen(c->message) * (size_t)c->repeat;
	char *text = malloc(len + 1);

	if (!text)
		abort();
	for (long i = 0; i < c->repeat; i++)
		memcpy(text + i * strlen(c->message), c->message, strlen(c->message));
	text[len] = 0;
	out->facts = json_pack("{s:s,s:I,s:b}", "message", text, "length", (json_int_t)len,
			       "ok", 1);
	if (!out->facts) {
		out->forced = CHECK_ERROR;
		out->error = strdup("sample: the message is not valid UTF-8");
	}
	free(text);
}

static char *sample_describe(void *priv)
{
	const struct sample_cfg *c = priv;
	size_t n = strlen(c->message) + 32;
	char *s = malloc(n);
	if (!s)
		abort();
	snprintf(s, n, "echo '%s' x%ld", c->message, c->repeat);
	return s;
}

const struct check_module phasegate_module = {
	.name = "sample",
	.summary = "sample external module: echoes a message",
	.api_version = CHECK_API_VERSION,
	.flags = CHECK_F_READONLY,
	.keys = sample_keys,
	.default_expect = ".ok == true",
	.parse = sample_parse,
	.run = sample_run,
	.describe = sample_describe,
	.free = sample_free,
};
