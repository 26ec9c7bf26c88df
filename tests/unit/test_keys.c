/* test_keys.c - unit tests of key tables (runner/keys.c): unknown keys with
 * suggestions, required keys, each type check, deferred values and the
 * cfg_* getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "util.h"

static const struct key_spec http_keys[] = {
    {"url", KT_STR, KEY_REQUIRED, "the URL"},
    {"method", KT_STR, 0, "GET, POST..."},
    {"retries", KT_INT, 0, "attempts"},
    {"ratio", KT_NUM, 0, "a number"},
    {"insecure", KT_BOOL, 0, "skip TLS verification"},
    {"timeout", KT_DURATION, 0, "per request"},
    {"steps", KT_SEQ, 0, "anything in a list"},
    {"tls", KT_MAP, 0, "a map"},
    {"args", KT_STRSEQ, 0, "a list of text"},
    {"headers", KT_STRMAP, 0, "a map of text"},
    {"hosts", KT_STR_OR_SEQ, 0, "one or many"},
    {"body", KT_ANY, 0, "anything"},
    {NULL, KT_ANY, 0, NULL},
};

static struct node *load(const char *text)
{
	struct diags d;
	struct node *n = NULL;

	diags_init(&d);
	assert_int_equal(node_load_string("k.yaml", text, strlen(text), NULL, &n, &d), 0);
	diags_release(&d);
	return n;
}

/* Validates text; expects exactly one problem with message msg at line:col. */
static void one_problem(const char *text, const char *msg, unsigned line, unsigned col)
{
	struct node *n = load(text);
	struct diags d;

	diags_init(&d);
	assert_int_equal(keys_validate(n, http_keys, "http check", &d), 1);
	assert_int_equal(d.n, 1);
	if (strcmp(d.v[0].msg, msg) != 0)
		fail_msg("got '%s', wanted '%s'", d.v[0].msg, msg);
	assert_int_equal(d.v[0].line, line);
	assert_int_equal(d.v[0].col, col);
	assert_string_equal(d.v[0].file, "k.yaml");
	diags_release(&d);
	node_free(n);
}

static void no_problem(const char *text)
{
	struct node *n = load(text);
	struct diags d;

	diags_init(&d);
	if (keys_validate(n, http_keys, "http check", &d) != 0) {
		diags_print(&d, stderr);
		fail_msg("unexpected problems for: %s", text);
	}
	diags_release(&d);
	node_free(n);
}

static void test_valid(void **state)
{
	no_problem("url: http://x\nmethod: GET\nretries: 3\nratio: 0.5\ninsecure: false\n"
	           "timeout: 1m30s\nsteps: [1, {a: b}]\ntls: {ca: x}\nargs: [a, 1, 'b']\n"
	           "headers: {A: b, C: 1}\nhosts: one\nbody: {x: [1]}\n");
	no_problem("url: x\nhosts: [a, b]\ntimeout: 5\n");
	/* an optional key left empty counts as absent */
	no_problem("url: x\nretries:\n");
}

static void test_unknown_keys(void **state)
{
	one_problem("url: x\nurll: y\n", "unknown key 'urll' in http check (did you mean 'url'?)",
	            2, 1);
	one_problem("url: x\nmehtod: GET\n",
	            "unknown key 'mehtod' in http check (did you mean 'method'?)", 2, 1);
	one_problem("url: x\ninsecur: true\n",
	            "unknown key 'insecur' in http check (did you mean 'insecure'?)", 2, 1);
	one_problem("url: x\nzzzzzzzz: 1\n",
	            "unknown key 'zzzzzzzz' in http check (known keys: url, method, retries, "
	            "ratio, insecure, timeout, steps, tls, args, headers, hosts, body)",
	            2, 1);
}

static void test_unknown_key_empty_table(void **state)
{
	static const struct key_spec none[] = {{NULL, KT_ANY, 0, NULL}};
	struct node *n = load("a: 1\n");
	struct diags d;

	diags_init(&d);
	assert_int_equal(keys_validate(n, none, "manual check", &d), 1);
	assert_string_equal(d.v[0].msg, "unknown key 'a' in manual check (it takes no keys)");
	diags_release(&d);
	node_free(n);
}

static void test_unknown_key_long_table(void **state)
{
	static const struct key_spec many[] = {
	    {"k01", KT_STR, 0, ""}, {"k02", KT_STR, 0, ""}, {"k03", KT_STR, 0, ""},
	    {"k04", KT_STR, 0, ""}, {"k05", KT_STR, 0, ""}, {"k06", KT_STR, 0, ""},
	    {"k07", KT_STR, 0, ""}, {"k08", KT_STR, 0, ""}, {"k09", KT_STR, 0, ""},
	    {"k10", KT_STR, 0, ""}, {"k11", KT_STR, 0, ""}, {"k12", KT_STR, 0, ""},
	    {"k13", KT_STR, 0, ""}, {"k14", KT_STR, 0, ""}, {"k15", KT_STR, 0, ""},
	    {"k16", KT_STR, 0, ""}, {"k17", KT_STR, 0, ""}, {NULL, KT_ANY, 0, NULL},
	};
	struct node *n = load("something-else: 1\n");
	struct diags d;

	diags_init(&d);
	assert_int_equal(keys_validate(n, many, "k8s check", &d), 1);
	assert_non_null(strstr(d.v[0].msg, "k15, k16, ...)"));
	assert_null(strstr(d.v[0].msg, "k17"));
	diags_release(&d);
	node_free(n);
}

static void test_required(void **state)
{
	one_problem("method: GET\n", "missing required key 'url' in http check", 1, 1);
	one_problem("url:\n", "required key 'url' in http check has no value", 1, 1);
	/* quoted empty text is a value */
	no_problem("url: ''\n");
}

static void test_not_a_map(void **state)
{
	one_problem("[a, b]\n", "expected a map for http check, got a list", 1, 1);
	/* a null config is an empty map: only the required key is missing */
	{
		struct node *n = load("~\n");
		struct diags d;
		diags_init(&d);
		assert_int_equal(keys_validate(n, http_keys, "http check", &d), 1);
		assert_string_equal(d.v[0].msg, "missing required key 'url' in http check");
		diags_release(&d);
		node_free(n);
	}
}

static void test_types(void **state)
{
	one_problem("url: [a]\n", "'url' in http check: expected text, got a list", 1, 6);
	one_problem("url: x\nretries: many\n",
	            "'retries' in http check: expected an integer, got 'many'", 2, 10);
	one_problem("url: x\nratio: half\n", "'ratio' in http check: expected a number, got 'half'",
	            2, 8);
	one_problem("url: x\ninsecure: yes\n",
	            "'insecure' in http check: expected a boolean (true or false), got 'yes'", 2,
	            11);
	one_problem("url: x\ntimeout: soon\n",
	            "'timeout' in http check: expected a duration such as 30s, 500ms or 2m, got "
	            "'soon'",
	            2, 10);
	one_problem("url: x\nsteps: a\n", "'steps' in http check: expected a list, got a string", 2,
	            8);
	one_problem("url: x\ntls: [a]\n", "'tls' in http check: expected a map, got a list", 2, 6);
	one_problem("url: x\nsteps: 5\n", "'steps' in http check: expected a list, got an integer",
	            2, 8);
	one_problem("url: x\nargs: [a, [b]]\n",
	            "'args' in http check: expected text in the list, got a list", 2, 11);
	one_problem("url: x\nargs: a\n",
	            "'args' in http check: expected a list of text values, got a string", 2, 7);
	one_problem("url: x\nheaders: {a: [1]}\n",
	            "'headers' in http check: expected a text value for 'a', got a list", 2, 14);
	one_problem("url: x\nheaders: [a]\n",
	            "'headers' in http check: expected a map of text values, got a list", 2, 10);
	one_problem("url: x\nhosts: {a: b}\n",
	            "'hosts' in http check: expected text or a list of text values, got a map", 2,
	            8);
}

static void test_many_problems(void **state)
{
	struct node *n = load("urll: x\nretries: x\ninsecure: 1\n");
	struct diags d;

	diags_init(&d);
	assert_int_equal(keys_validate(n, http_keys, "http check", &d), 4);
	assert_int_equal(d.n, 4);
	diags_release(&d);
	node_free(n);
}

static void test_deferred(void **state)
{
	struct node *n = load("url: x\nretries: ${count}\ninsecure: \"${flag}\"\n"
	                      "timeout: ${t}s\nargs: ${list}\nratio: $${x}\n");
	struct diags d;

	assert_true(node_is_deferred(node_get(n, "retries")));
	assert_true(node_is_deferred(node_get(n, "timeout")));
	assert_false(node_is_deferred(node_get(n, "url")));
	assert_false(node_is_deferred(node_get(n, "ratio"))); /* escaped */
	assert_false(node_is_deferred(n));
	diags_init(&d);
	/* scalars typed later pass; a list cannot come from a reference, and
	 * an escaped "$${x}" is plain text, not a number */
	assert_int_equal(keys_validate(n, http_keys, "http check", &d), 2);
	assert_non_null(strstr(d.v[0].msg, "'args' in http check: expected a list of text"));
	assert_non_null(strstr(d.v[1].msg, "'ratio' in http check: expected a number"));
	diags_release(&d);
	/* getters give the default for deferred values */
	assert_int_equal(cfg_int(n, "retries", 7), 7);
	assert_int_equal(cfg_bool(n, "insecure", 1), 1);
	assert_int_equal(cfg_duration_ms(n, "timeout", 1234), 1234);
	node_free(n);
}

static void test_getters(void **state)
{
	struct node *n = load("url: http://x\nempty: ''\nnull:\nretries: 0x10\nratio: 2.5\n"
	                      "insecure: true\ntimeout: 250ms\nbad: nope\nargs: [a, b, c]\n"
	                      "hosts: one\nmap: {a: 1}\nmixed: [a, [b], c]\n");
	const char **v;
	size_t count = 99;

	assert_string_equal(cfg_str(n, "url", "d"), "http://x");
	assert_string_equal(cfg_str(n, "empty", "d"), "");
	assert_string_equal(cfg_str(n, "null", "d"), "d");
	assert_string_equal(cfg_str(n, "absent", "d"), "d");
	assert_null(cfg_str(n, "map", NULL));
	assert_int_equal(cfg_int(n, "retries", 0), 16);
	assert_int_equal(cfg_int(n, "bad", -1), -1);
	assert_int_equal(cfg_int(n, "absent", 5), 5);
	assert_true(cfg_num(n, "ratio", 0) == 2.5);
	assert_true(cfg_num(n, "retries", 0) == 16.0);
	assert_true(cfg_num(n, "bad", 1.5) == 1.5);
	assert_int_equal(cfg_bool(n, "insecure", 0), 1);
	assert_int_equal(cfg_bool(n, "bad", 0), 0);
	assert_int_equal(cfg_duration_ms(n, "timeout", 0), 250);
	assert_int_equal(cfg_duration_ms(n, "bad", 9), 9);
	assert_non_null(cfg_node(n, "map"));
	assert_null(cfg_node(n, "null"));
	assert_null(cfg_node(n, "absent"));

	v = cfg_strv(n, "args", &count);
	assert_int_equal(count, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[2], "c");
	assert_null(v[3]);
	free(v);
	v = cfg_strv(n, "hosts", &count);
	assert_int_equal(count, 1);
	assert_string_equal(v[0], "one");
	assert_null(v[1]);
	free(v);
	v = cfg_strv(n, "mixed", &count);
	assert_int_equal(count, 2);
	assert_string_equal(v[1], "c");
	free(v);
	assert_null(cfg_strv(n, "absent", &count));
	assert_int_equal(count, 0);
	assert_null(cfg_strv(n, "map", NULL));
	/* not a map at all */
	assert_string_equal(cfg_str(NULL, "url", "d"), "d");
	node_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_unknown_key_empty_table),
	    cmocka_unit_test(test_unknown_key_long_table),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_not_a_map),
	    cmocka_unit_test(test_types),
	    cmocka_unit_test(test_many_problems),
	    cmocka_unit_test(test_deferred),
	    cmocka_unit_test(test_getters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
