/* test_plugin.c - loads the sample external module from PG_PLUGIN_DIR the
 * way phasegate does (module_load_plugins), finds it by name and runs a
 * check through it like the scheduler would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "module.h"
#include "node.h"

static const char *plugin_dir(void)
{
	const char *d = getenv("PG_PLUGIN_DIR");
	if (!d)
		fail_msg("PG_PLUGIN_DIR is not set (run through ctest)");
	return d;
}

static struct node *load_yaml(const char *text)
{
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	struct diags d;
	diags_init(&d);
	if (node_load_string("plugin.yaml", text, strlen(text), &lim, &root, &d) < 0) {
		diags_print(&d, stderr);
		fail_msg("bad test YAML");
	}
	diags_release(&d);
	return root;
}

static void test_load_find_run(void **state)
{
	struct pg_err e;
	size_t before = 0, after = 0;

	assert_null(module_find("sample"));
	module_all(&before);
	assert_int_equal(module_load_plugins(plugin_dir(), &e), 0);
	module_all(&after);
	assert_int_equal(after, before + 1);

	const struct check_module *m = module_find("sample");
	assert_non_null(m);
	assert_string_equal(m->name, "sample");
	assert_int_equal(m->api_version, CHECK_API_VERSION);
	assert_string_equal(m->default_expect, ".ok == true");

	/* The loader validates the config with the plugin's own key table. */
	struct node *bad = load_yaml("message: hi\ncolour: red\n");
	struct diags d;
	diags_init(&d);
	assert_true(keys_validate(bad, m->keys, "sample check", &d) > 0);
	assert_int_equal(d.v[0].line, 2);
	diags_release(&d);
	node_free(bad);

	struct node *cfg = load_yaml("message: ab\nrepeat: 3\n");
	diags_init(&d);
	assert_int_equal(keys_validate(cfg, m->keys, "sample check", &d), 0);
	void *priv = NULL;
	assert_int_equal(m->parse(cfg, NULL, &priv, &d), 0);
	node_free(cfg);

	char *desc = m->describe(priv);
	assert_string_equal(desc, "echo 'ab' x3");
	free(desc);

	struct check_ctx *ctx = ctx_new_for_test(NULL, 5000, NULL, NULL);
	struct check_out out = {0};
	m->run(priv, ctx, &out);
	assert_int_equal(out.forced, CHECK_JUDGE);
	assert_string_equal(json_string_value(json_object_get(out.facts, "message")), "ababab");
	assert_int_equal(json_integer_value(json_object_get(out.facts, "length")), 6);
	check_out_release(&out);
	ctx_free_for_test(ctx);
	m->free(priv);

	/* A refused config stops the suite. */
	cfg = load_yaml("message: ab\nrepeat: 1000\n");
	priv = NULL;
	assert_int_equal(m->parse(cfg, NULL, &priv, &d), -1);
	assert_null(priv);
	node_free(cfg);
	diags_release(&d);
}

static void test_load_twice_refused(void **state)
{
	struct pg_err e;
	/* The module is already registered by the previous test: a second
	 * copy may not shadow it. */
	assert_int_equal(module_load_plugins(plugin_dir(), &e), -1);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_non_null(module_find("sample"));
}

static void test_missing_dir(void **state)
{
	struct pg_err e;
	assert_int_equal(module_load_plugins("no-such-plugin-dir", &e), -1);
	assert_non_null(strstr(e.msg, "no-such-plugin-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_find_run),
		cmocka_unit_test(test_load_twice_refused),
		cmocka_unit_test(test_missing_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
