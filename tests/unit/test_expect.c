/* test_expect.c - unit tests of the expectation engine (runner/expect.c):
 * every operator passing and failing with the sentence a person reads,
 * shorthands, paths, load-time errors with their positions, jq and regex
 * handling, masking of secrets, and judging from several threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "expect.h"
#include "node.h"
#include "util.h"
#include "vars.h"

/* ---- helpers -------------------------------------------------------- */

static struct node *load_yaml(const char *yaml)
{
	struct node *n = NULL;
	struct diags d;
	struct node_limits lim = node_limits_default();

	diags_init(&d);
	if (node_load_string("t.yaml", yaml, strlen(yaml), &lim, &n, &d) < 0) {
		diags_print(&d, stderr);
		fail_msg("test YAML does not load: %s", yaml);
	}
	diags_release(&d);
	return n;
}

/* Compiles the YAML of an expect: value; fails the test on diagnostics. */
static struct expect *compile_ok(const char *yaml)
{
	struct node *n = load_yaml(yaml);
	struct expect *e = NULL;
	struct diags d;

	diags_init(&d);
	if (expect_compile(n, &e, &d) < 0) {
		diags_print(&d, stderr);
		fail_msg("expect does not compile: %s", yaml);
	}
	assert_int_equal(d.n, 0);
	diags_release(&d);
	node_free(n);
	return e;
}

/* Compiles YAML that must be refused; returns the diagnostics (caller
 * releases). */
static void compile_bad(const char *yaml, struct diags *d)
{
	struct node *n = load_yaml(yaml);
	struct expect *e = (struct expect *)1;

	diags_init(d);
	assert_int_equal(expect_compile(n, &e, d), -1);
	assert_null(e);
	assert_true(d->n >= 1);
	node_free(n);
}

static json_t *facts_of(const char *json)
{
	json_error_t err;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &err);

	if (!j)
		fail_msg("bad test JSON (%s): %s", err.text, json);
	return j;
}

/* Compiles expect_yaml, judges facts_json, returns the verdict. */
static void judge(const char *expect_yaml, const char *facts_json, struct expect_verdict *v)
{
	struct expect *e = compile_ok(expect_yaml);
	json_t *f = facts_of(facts_json);

	expect_judge(e, f, v);
	json_decref(f);
	expect_free(e);
}

static void assert_pass(const char *expect_yaml, const char *facts_json)
{
	struct expect_verdict v;

	judge(expect_yaml, facts_json, &v);
	if (!v.pass)
		fail_msg("expected a pass for %s on %s, got: %s", expect_yaml, facts_json,
		         v.message);
	assert_null(v.message);
	assert_null(v.expected);
	assert_null(v.seen);
	expect_verdict_release(&v);
}

/* Asserts a failure whose message is exactly msg. */
static void assert_fail(const char *expect_yaml, const char *facts_json, const char *msg)
{
	struct expect_verdict v;

	judge(expect_yaml, facts_json, &v);
	if (v.pass)
		fail_msg("expected a failure for %s on %s", expect_yaml, facts_json);
	assert_non_null(v.message);
	assert_non_null(v.expected);
	assert_non_null(v.seen);
	assert_string_equal(v.message, msg);
	expect_verdict_release(&v);
}

/* The diagnostic containing text, or a test failure. */
static const struct diag *find_diag(const struct diags *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, text))
			return &d->v[i];
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "diag %u:%u: %s\n", d->v[i].line, d->v[i].col, d->v[i].msg);
	fail_msg("no diagnostic contains '%s'", text);
	return NULL;
}

static void assert_bad(const char *yaml, const char *text, unsigned line, unsigned col)
{
	struct diags d;
	const struct diag *g;

	compile_bad(yaml, &d);
	g = find_diag(&d, text);
	assert_string_equal(g->file, "t.yaml");
	if (line)
		assert_int_equal(g->line, line);
	if (col)
		assert_int_equal(g->col, col);
	diags_release(&d);
}

/* ---- operators ------------------------------------------------------ */

static void test_equals(void **state)
{
	assert_pass("- status: 200", "{\"status\": 200}");
	assert_fail("- status: 200", "{\"status\": 503}", "expected status == 200, saw 503");
	assert_pass("- path: status\n  equals: 200", "{\"status\": 200}");
	/* integer and real compare numerically */
	assert_pass("- ratio: 3", "{\"ratio\": 3.0}");
	assert_pass("- ratio: 2.5", "{\"ratio\": 2.5}");
	/* a quoted scalar is a string and never equals a number */
	assert_fail("- status: \"200\"", "{\"status\": 200}",
	            "expected status == \"200\", saw 200");
	assert_fail("- status: 200", "{\"status\": \"200\"}",
	            "expected status == 200, saw \"200\"");
	/* plain YAML words are typed (core schema) */
	assert_pass("- ok: true", "{\"ok\": true}");
	assert_fail("- ok: true", "{\"ok\": \"true\"}", "expected ok == true, saw \"true\"");
	assert_pass("- gone: null", "{\"gone\": null}");
	assert_pass("- json.status: ok", "{\"json\": {\"status\": \"ok\"}}");
	assert_fail("- json.status: ok", "{\"json\": {\"status\": \"degraded\"}}",
	            "expected json.status == \"ok\", saw \"degraded\"");
	/* deep equality of lists and maps, key order irrelevant */
	assert_pass("- path: spec\n  equals: {a: 1, b: [x, 2.0]}",
	            "{\"spec\": {\"b\": [\"x\", 2], \"a\": 1}}");
	assert_fail("- path: spec\n  equals: {a: 1}", "{\"spec\": {\"a\": 1, \"b\": 2}}",
	            "expected spec == {\"a\":1}, saw {\"a\":1,\"b\":2}");
	assert_fail("- path: l\n  equals: [1, 2]", "{\"l\": [2, 1]}",
	            "expected l == [1,2], saw [2,1]");
	assert_fail("- status: 200", "{}", "expected status == 200, but it is absent");
}

static void test_not(void **state)
{
	assert_pass("- path: status\n  not: 500", "{\"status\": 200}");
	assert_fail("- path: status\n  not: 500", "{\"status\": 500}",
	            "expected status != 500, saw 500");
	assert_fail("- path: phase\n  not: Failed", "{\"phase\": \"Failed\"}",
	            "expected phase != \"Failed\", saw \"Failed\"");
	/* an absent value is not a pass */
	assert_fail("- path: status\n  not: 500", "{}", "expected status != 500, but it is absent");
}

static void test_matches(void **state)
{
	assert_pass("- path: stdout\n  matches: ready", "{\"stdout\": \"server ready\"}");
	assert_fail("- path: stdout\n  matches: ready", "{\"stdout\": \"starting...\"}",
	            "expected stdout to match /ready/, saw \"starting...\"");
	assert_pass("- path: v\n  matches: '^v\\d+\\.\\d+\\.\\d+$'", "{\"v\": \"v2.9.3\"}");
	assert_fail("- path: v\n  matches: '^v\\d+$'", "{\"v\": \"v2.9\"}",
	            "expected v to match /^v\\d+$/, saw \"v2.9\"");
	/* inline flags */
	assert_pass("- path: s\n  matches: '(?i)READY'", "{\"s\": \"ready\"}");
	/* a non-string is matched through its JSON text */
	assert_pass("- path: status\n  matches: '^2\\d\\d$'", "{\"status\": 204}");
	assert_pass("- path: l\n  matches: '\"b\"'", "{\"l\": [\"a\", \"b\"]}");
	assert_fail("- path: status\n  matches: '^2'", "{\"status\": 503}",
	            "expected status to match /^2/, saw 503");
	/* UTF-8 subjects */
	assert_pass("- path: s\n  matches: '^é.$'", "{\"s\": \"éa\"}");
	assert_fail("- path: stdout\n  matches: x", "{}",
	            "expected stdout to match /x/, but it is absent");
}

static void test_contains(void **state)
{
	/* strings: substring, also for a number written plainly */
	assert_pass("- path: body\n  contains: healthy", "{\"body\": \"all healthy\"}");
	assert_pass("- path: line\n  contains: 200", "{\"line\": \"HTTP/1.1 200 OK\"}");
	assert_fail("- path: body\n  contains: healthy", "{\"body\": \"degraded\"}",
	            "expected body to contain \"healthy\", saw \"degraded\"");
	/* arrays: an element (deep equality) */
	assert_pass("- path: l\n  contains: b", "{\"l\": [\"a\", \"b\"]}");
	assert_pass("- path: l\n  contains: 2", "{\"l\": [1, 2.0]}");
	assert_pass("- path: l\n  contains: {name: x}",
	            "{\"l\": [{\"name\": \"y\"}, {\"name\": \"x\"}]}");
	assert_fail("- path: l\n  contains: c", "{\"l\": [\"a\", \"b\"]}",
	            "expected l to contain \"c\", saw [\"a\",\"b\"]");
	/* a substring of an element is not an element */
	assert_fail("- path: l\n  contains: ab", "{\"l\": [\"abc\"]}",
	            "expected l to contain \"ab\", saw [\"abc\"]");
	/* objects: a key */
	assert_pass("- path: labels\n  contains: app", "{\"labels\": {\"app\": \"argocd\"}}");
	assert_fail("- path: labels\n  contains: tier", "{\"labels\": {\"app\": \"argocd\"}}",
	            "expected labels to contain \"tier\", saw {\"app\":\"argocd\"}");
	/* a list argument: every one must be contained */
	assert_pass("- path: l\n  contains: [a, c]", "{\"l\": [\"a\", \"b\", \"c\"]}");
	assert_fail("- path: l\n  contains: [a, d]", "{\"l\": [\"a\", \"b\"]}",
	            "expected l to contain [\"a\",\"d\"], saw [\"a\",\"b\"]");
	assert_pass("- path: s\n  contains: [foo, bar]", "{\"s\": \"bar and foo\"}");
}

static void test_in(void **state)
{
	assert_pass("- path: status\n  in: [200, 204]", "{\"status\": 204}");
	assert_pass("- path: health\n  in: [Healthy, Progressing]",
	            "{\"health\": \"Progressing\"}");
	assert_fail("- path: status\n  in: [200, 204]", "{\"status\": 500}",
	            "expected status to be one of [200,204], saw 500");
	assert_fail("- path: status\n  in: [200]", "{}",
	            "expected status to be one of [200], but it is absent");
}

static void test_exists(void **state)
{
	assert_pass("- path: json.status\n  exists: true", "{\"json\": {\"status\": null}}");
	assert_fail("- path: json.status\n  exists: true", "{\"json\": {}}",
	            "expected json.status to exist, but it is absent");
	assert_pass("- path: json.error\n  exists: false", "{\"json\": {}}");
	assert_fail("- path: json.error\n  exists: false", "{\"json\": {\"error\": \"boom\"}}",
	            "expected json.error to be absent, saw \"boom\"");
	/* absent because a parent is absent or not a map */
	assert_pass("- path: a.b.c\n  exists: false", "{\"a\": 1}");
}

static void test_count_length(void **state)
{
	assert_pass("- path: json.items\n  count: 3", "{\"json\": {\"items\": [1, 2, 3]}}");
	assert_fail("- path: json.items\n  count: 3", "{\"json\": {\"items\": [1, 2]}}",
	            "expected json.items count == 3, saw 2");
	assert_pass("- path: json.items\n  count: {ge: 3}",
	            "{\"json\": {\"items\": [1, 2, 3, 4]}}");
	assert_fail("- path: json.items\n  count: {ge: 3}", "{\"json\": {\"items\": [1, 2]}}",
	            "expected json.items count >= 3, saw 2");
	assert_pass("- path: l\n  count: {gt: 1, lt: 3}", "{\"l\": [1, 2]}");
	assert_fail("- path: l\n  count: {gt: 1, lt: 3}", "{\"l\": [1, 2, 3]}",
	            "expected l count > 1 and < 3, saw 3");
	assert_fail("- path: l\n  count: {le: 0}", "{\"l\": [1]}", "expected l count <= 0, saw 1");
	/* maps count their keys, strings their characters, null is empty */
	assert_pass("- path: m\n  count: 2", "{\"m\": {\"a\": 1, \"b\": 2}}");
	assert_pass("- path: s\n  length: 4", "{\"s\": \"h\\u00e9\\u00e9o\"}");
	assert_fail("- path: s\n  length: {le: 3}", "{\"s\": \"abcd\"}",
	            "expected s length <= 3, saw 4");
	assert_pass("- path: n\n  count: 0", "{\"n\": null}");
	/* numbers have no size */
	assert_fail("- path: n\n  count: 1", "{\"n\": 5}",
	            "expected a list, map or string at n, saw 5");
	assert_fail("- path: l\n  count: 1", "{}", "expected l count == 1, but it is absent");
	/* shorthand with an operator map */
	assert_pass("- json.items: {count: 2}", "{\"json\": {\"items\": [1, 2]}}");
	assert_fail("- json.items: {count: {ge: 3}}", "{\"json\": {\"items\": [1, 2]}}",
	            "expected json.items count >= 3, saw 2");
}

static void test_ordering(void **state)
{
	assert_pass("- path: n\n  ge: 3", "{\"n\": 3}");
	assert_fail("- path: n\n  ge: 3", "{\"n\": 2}", "expected n >= 3, saw 2");
	assert_pass("- path: n\n  gt: 3", "{\"n\": 3.5}");
	assert_fail("- path: n\n  gt: 3", "{\"n\": 3}", "expected n > 3, saw 3");
	assert_pass("- path: n\n  le: 0.5", "{\"n\": 0.25}");
	assert_fail("- path: n\n  le: 0.5", "{\"n\": 0.75}", "expected n <= 0.5, saw 0.75");
	assert_pass("- path: n\n  lt: 10", "{\"n\": -1}");
	assert_fail("- path: n\n  lt: 10", "{\"n\": 10}", "expected n < 10, saw 10");
	/* several operators in one item must all hold; the first failing is reported */
	assert_pass("- path: ms\n  ge: 1\n  lt: 500", "{\"ms\": 20}");
	assert_fail("- path: ms\n  ge: 1\n  lt: 500", "{\"ms\": 734}",
	            "expected ms < 500, saw 734");
	/* a numeric string is read as a number */
	assert_pass("- path: replicas\n  ge: 2", "{\"replicas\": \"3\"}");
	assert_fail("- path: replicas\n  ge: 2", "{\"replicas\": \"1\"}",
	            "expected replicas >= 2, saw \"1\"");
	assert_pass("- path: v\n  lt: 1.5", "{\"v\": \"1.25\"}");
	/* only what a person reads as a number */
	assert_fail("- path: n\n  ge: 3", "{\"n\": \"0x10\"}",
	            "expected a number at n, saw \"0x10\"");
	assert_fail("- path: n\n  ge: 3", "{\"n\": \" 4\"}", "expected a number at n, saw \" 4\"");
	assert_fail("- path: n\n  ge: 3", "{\"n\": \"inf\"}",
	            "expected a number at n, saw \"inf\"");
	assert_pass("- path: n\n  ge: 3", "{\"n\": \"1e3\"}");
	/* a non-number is a failure that says so */
	assert_fail("- path: status\n  ge: 3", "{\"status\": \"abc\"}",
	            "expected a number at status, saw \"abc\"");
	assert_fail("- path: status\n  ge: 3", "{\"status\": true}",
	            "expected a number at status, saw true");
	assert_fail("- path: status\n  ge: 3", "{\"status\": \"\"}",
	            "expected a number at status, saw \"\"");
	assert_fail("- path: n\n  ge: 3", "{}", "expected n >= 3, but it is absent");
	/* large integers compare exactly */
	assert_fail("- path: n\n  ge: 9007199254740993", "{\"n\": 9007199254740992}",
	            "expected n >= 9007199254740993, saw 9007199254740992");
}

static void test_expected_and_seen_fields(void **state)
{
	struct expect_verdict v;

	judge("- path: json.items\n  count: {ge: 3}", "{\"json\": {\"items\": [\"a\", \"b\"]}}",
	      &v);
	assert_false(v.pass);
	assert_string_equal(v.expected, "json.items count >= 3");
	assert_string_equal(v.seen, "2");
	expect_verdict_release(&v);

	judge("- status: 200", "{\"status\": {\"code\": 503, \"why\": \"busy\"}}", &v);
	assert_string_equal(v.expected, "status == 200");
	assert_string_equal(v.seen, "{\"code\":503,\"why\":\"busy\"}");
	expect_verdict_release(&v);

	judge("- path: x\n  exists: true", "{}", &v);
	assert_string_equal(v.expected, "x to exist");
	assert_string_equal(v.seen, "(absent)");
	expect_verdict_release(&v);
}

static void test_seen_trimmed(void **state)
{
	struct expect_verdict v;
	char big[1200];
	char *facts;

	memset(big, 'x', 1000);
	big[1000] = '\0';
	facts = xasprintf("{\"body\": \"%s\"}", big);
	judge("- body: short", facts, &v);
	assert_false(v.pass);
	/* 200 bytes then the ellipsis */
	assert_int_equal(strlen(v.seen), 200 + strlen("\xe2\x80\xa6"));
	assert_memory_equal(v.seen, "\"xxxx", 5);
	assert_string_equal(v.seen + 200, "\xe2\x80\xa6");
	assert_non_null(strstr(v.message, v.seen));
	assert_true(strlen(v.message) < 300);
	expect_verdict_release(&v);
	free(facts);

	/* a cut never splits a UTF-8 character */
	{
		struct buf b;
		buf_init(&b, 0);
		buf_adds(&b, "{\"body\": \"");
		for (int i = 0; i < 150; i++)
			buf_adds(&b, "\xc3\xa9");
		buf_adds(&b, "\"}");
		judge("- body: short", buf_str(&b), &v);
		/* '"' + 99 two-byte characters fit in 200 bytes, the 100th does not */
		assert_int_equal(strlen(v.seen), 199 + 3);
		assert_string_equal(v.seen + 199, "\xe2\x80\xa6");
		expect_verdict_release(&v);
		buf_release(&b);
	}
}

static void test_message_override(void **state)
{
	struct expect_verdict v;

	assert_fail("- path: json.items\n  count: {ge: 3}\n  message: 3 server pods ready",
	            "{\"json\": {\"items\": [1, 2]}}", "3 server pods ready, saw 2");
	assert_fail("- status: 200\n  message: the API answers", "{\"status\": 503}",
	            "the API answers, saw 503");
	assert_fail("- path: x\n  exists: true\n  message: x is set", "{}",
	            "x is set, but it is absent");
	assert_fail("- jq: '.ok'\n  message: the service is ok", "{\"ok\": false}",
	            "the service is ok, saw false");
	/* the generated expectation stays available */
	judge("- status: 200\n  message: the API answers", "{\"status\": 503}", &v);
	assert_string_equal(v.expected, "status == 200");
	expect_verdict_release(&v);
	/* a message does not turn a pass into a failure */
	assert_pass("- status: 200\n  message: the API answers", "{\"status\": 200}");
}

/* ---- jq ------------------------------------------------------------- */

static void test_jq_items(void **state)
{
	assert_pass("- jq: '.items | length >= 3'", "{\"items\": [1, 2, 3]}");
	assert_fail("- jq: '.items | length >= 3'", "{\"items\": [1, 2]}",
	            "expected jq '.items | length >= 3' to be true, saw false");
	/* only true passes: truthy values do not */
	assert_fail("- jq: '.items'", "{\"items\": [1]}",
	            "expected jq '.items' to be true, saw [1]");
	assert_fail("- jq: '.x'", "{}", "expected jq '.x' to be true, saw null");
	assert_fail("- jq: 'empty'", "{}", "expected jq 'empty' to be true, but it gave no output");
	assert_fail("- jq: '.a + 1'", "{\"a\": \"x\"}",
	            "expected jq '.a + 1' to be true, but it failed: string (\"x\") and number (1) "
	            "cannot be added");
	assert_fail("- jq: 'error(\"boom\")'", "{}",
	            "expected jq 'error(\"boom\")' to be true, but it failed: boom");
	/* the first output decides */
	assert_pass("- jq: '.[] | . > 1'", "[2, 0]");
	assert_fail("- jq: '.[] | . > 1'", "[0, 2]",
	            "expected jq '.[] | . > 1' to be true, saw false");
	/* with operators, they judge the program's first output */
	assert_pass("- jq: '.items | length'\n  ge: 3", "{\"items\": [1, 2, 3]}");
	assert_fail("- jq: '.items | length'\n  ge: 3", "{\"items\": [1]}",
	            "expected jq '.items | length' >= 3, saw 1");
	assert_fail("- jq: '[.items[].name]'\n  contains: c", "{\"items\": [{\"name\": \"a\"}]}",
	            "expected jq '[.items[].name]' to contain \"c\", saw [\"a\"]");
	/* with a path, the program reads the value at the path */
	assert_pass("- path: json\n  jq: '.status == \"ok\"'", "{\"json\": {\"status\": \"ok\"}}");
	assert_fail("- path: json\n  jq: '.n > 1'", "{\"json\": {\"n\": 1}}",
	            "expected jq '.n > 1' on json to be true, saw false");
	assert_fail("- path: json\n  jq: '.n > 1'", "{}",
	            "expected jq '.n > 1' on json to be true, but its input is absent");
	/* a program spread over lines is quoted on one line */
	assert_fail("- jq: |\n    .items\n    | length > 5\n", "{\"items\": []}",
	            "expected jq '.items | length > 5' to be true, saw false");
	/* numbers come back as numbers */
	assert_pass("- jq: '.a * 2'\n  equals: 6", "{\"a\": 3}");
	assert_pass("- jq: '.a / 2'\n  equals: 1.5", "{\"a\": 3}");
}

static void test_jq_compile_and_jqprog(void **state)
{
	struct expect *e = NULL;
	struct pg_err err;
	struct jqprog *p = NULL;
	json_t *in, *out;
	struct expect_verdict v;

	assert_int_equal(expect_compile_jq(".exit_code == 0", &e, &err), 0);
	assert_non_null(e);
	assert_int_equal(expect_count(e), 1);
	in = facts_of("{\"exit_code\": 0}");
	expect_judge(e, in, &v);
	assert_true(v.pass);
	expect_verdict_release(&v);
	json_decref(in);
	in = facts_of("{\"exit_code\": 2}");
	expect_judge(e, in, &v);
	assert_false(v.pass);
	assert_string_equal(v.message, "expected jq '.exit_code == 0' to be true, saw false");
	expect_verdict_release(&v);
	json_decref(in);
	expect_free(e);

	e = (struct expect *)1;
	assert_int_equal(expect_compile_jq(".items |", &e, &err), -1);
	assert_null(e);
	assert_string_equal(err.msg, "bad jq program '.items |': syntax error, unexpected $end");
	assert_int_equal(expect_compile_jq("nosuchfn(1)", &e, &err), -1);
	assert_string_equal(err.msg, "bad jq program 'nosuchfn(1)': nosuchfn/1 is not defined");
	assert_int_equal(expect_compile_jq("", &e, &err), -1);

	assert_int_equal(jqprog_compile(".status.sync.revision", &p, &err), 0);
	in = facts_of("{\"status\": {\"sync\": {\"revision\": \"abc123\"}}}");
	out = jqprog_first(p, in, &err);
	assert_non_null(out);
	assert_string_equal(json_string_value(out), "abc123");
	json_decref(out);
	json_decref(in);
	jqprog_free(p);

	assert_int_equal(jqprog_compile(".[] | select(. > 1)", &p, &err), 0);
	in = facts_of("[1, 5, 7]");
	out = jqprog_first(p, in, &err);
	assert_true(json_is_integer(out));
	assert_int_equal(json_integer_value(out), 5);
	json_decref(out);
	json_decref(in);
	in = facts_of("[0]");
	assert_null(jqprog_first(p, in, &err));
	assert_non_null(strstr(err.msg, "no output"));
	json_decref(in);
	jqprog_free(p);

	assert_int_equal(jqprog_compile(".a + 1", &p, &err), 0);
	in = facts_of("{\"a\": \"x\"}");
	assert_null(jqprog_first(p, in, &err));
	assert_non_null(strstr(err.msg, "cannot be added"));
	json_decref(in);
	jqprog_free(p);

	/* programs cannot print facts to stderr or read the environment */
	setenv("PG_TEST_EXPECT_ENV", "visible", 1);
	assert_int_equal(
	    jqprog_compile(
	        "[env.PG_TEST_EXPECT_ENV, $ENV.PG_TEST_EXPECT_ENV, (.a | stderr | debug)]", &p,
	        &err),
	    0);
	in = facts_of("{\"a\": 1}");
	out = jqprog_first(p, in, &err);
	assert_non_null(out);
	{
		char *text = json_dumps(out, JSON_COMPACT);
		assert_string_equal(text, "[null,null,1]");
		free(text);
	}
	json_decref(out);
	json_decref(in);
	jqprog_free(p);
	/* definitions at the start of a program still work */
	assert_int_equal(jqprog_compile("def twice: . * 2; .a | twice", &p, &err), 0);
	in = facts_of("{\"a\": 4}");
	out = jqprog_first(p, in, &err);
	assert_int_equal(json_integer_value(out), 8);
	json_decref(out);
	json_decref(in);
	jqprog_free(p);

	assert_int_equal(jqprog_compile("{", &p, &err), -1);
	assert_null(p);
	assert_non_null(strstr(err.msg, "bad jq program '{'"));
	jqprog_free(NULL);
}

/* ---- shorthands and forms ------------------------------------------- */

static void test_forms(void **state)
{
	struct expect *e;

	/* expect: as a map of shorthands */
	assert_pass("status: 200\njson.status: ok",
	            "{\"status\": 200, \"json\": {\"status\": \"ok\"}}");
	assert_fail("status: 200\njson.status: ok",
	            "{\"status\": 200, \"json\": {\"status\": \"no\"}}",
	            "expected json.status == \"ok\", saw \"no\"");
	/* a single explicit item written as a map */
	assert_pass("path: status\nin: [200, 201]", "{\"status\": 201}");
	assert_pass("jq: '.a == 1'", "{\"a\": 1}");
	/* items are judged in order; the first failure is reported */
	assert_fail("- a: 1\n- b: 2\n- c: 3", "{\"a\": 1, \"b\": 0, \"c\": 0}",
	            "expected b == 2, saw 0");

	e = compile_ok("- a: 1\n- b: 2\n- jq: '.c'");
	assert_int_equal(expect_count(e), 3);
	expect_free(e);
	/* empty: nothing to judge, everything passes */
	e = (struct expect *)1;
	e = compile_ok("[]");
	assert_null(e);
	assert_int_equal(expect_count(NULL), 0);
	{
		struct expect_verdict v;
		json_t *f = facts_of("{}");
		expect_judge(NULL, f, &v);
		assert_true(v.pass);
		assert_null(v.message);
		expect_verdict_release(&v);
		json_decref(f);
	}
	expect_free(NULL);
}

/* ---- paths ---------------------------------------------------------- */

static void test_paths(void **state)
{
	json_t *f = facts_of("{\"json\": {\"items\": [{\"name\": \"a\"}, {\"name\": \"b\"}]},"
	                     " \"headers\": {\"content-type\": \"text/html\"},"
	                     " \"metrics\": {\"up\": 1, \"a.b\": 2, \"x]y\": 3, \"q\\\"k\": 4},"
	                     " \"top\": [[1, 2], [3]], \"0\": \"zero\"}");
	json_t *v;

	v = expect_path_get(f, "json.items[0].name");
	assert_string_equal(json_string_value(v), "a");
	v = expect_path_get(f, "json.items[1].name");
	assert_string_equal(json_string_value(v), "b");
	v = expect_path_get(f, "json.items[-1].name");
	assert_string_equal(json_string_value(v), "b");
	v = expect_path_get(f, "json.items.1.name");
	assert_string_equal(json_string_value(v), "b");
	assert_null(expect_path_get(f, "json.items[2]"));
	assert_null(expect_path_get(f, "json.items[-3]"));
	assert_null(expect_path_get(f, "json.items.name"));
	assert_null(expect_path_get(f, "json[0]"));
	v = expect_path_get(f, "headers.content-type");
	assert_string_equal(json_string_value(v), "text/html");
	assert_int_equal(json_integer_value(expect_path_get(f, "metrics[\"up\"]")), 1);
	assert_int_equal(json_integer_value(expect_path_get(f, "metrics['up']")), 1);
	assert_int_equal(json_integer_value(expect_path_get(f, "metrics[\"a.b\"]")), 2);
	assert_int_equal(json_integer_value(expect_path_get(f, "metrics[\"x]y\"]")), 3);
	assert_int_equal(json_integer_value(expect_path_get(f, "metrics[\"q\\\"k\"]")), 4);
	assert_null(expect_path_get(f, "metrics.a.b"));
	assert_int_equal(json_integer_value(expect_path_get(f, "top[0][1]")), 2);
	assert_int_equal(json_integer_value(expect_path_get(f, "top[1][0]")), 3);
	assert_string_equal(json_string_value(expect_path_get(f, "0")), "zero");
	assert_ptr_equal(expect_path_get(f, "."), f);
	v = expect_path_get(f, ".json.items[0].name");
	assert_string_equal(json_string_value(v), "a");
	assert_null(expect_path_get(f, "json.items[0"));
	assert_null(expect_path_get(NULL, "a"));

	assert_int_equal(expect_path_valid("json.items[0].name"), 0);
	assert_int_equal(expect_path_valid("metrics[\"up\"]"), 0);
	assert_int_equal(expect_path_valid("."), 0);
	assert_int_equal(expect_path_valid("a[-1]"), 0);
	assert_int_equal(expect_path_valid("json.items[0"), -1);
	assert_int_equal(expect_path_valid("json.items]"), -1);
	assert_int_equal(expect_path_valid("a[\"b]"), -1);
	assert_int_equal(expect_path_valid("a[b]"), -1);
	assert_int_equal(expect_path_valid("a[]"), -1);
	assert_int_equal(expect_path_valid("a..b"), -1);
	assert_int_equal(expect_path_valid("a."), -1);
	assert_int_equal(expect_path_valid(""), -1);
	assert_int_equal(expect_path_valid(".."), -1);
	assert_int_equal(expect_path_valid("a[0]b"), -1);

	/* paths in expectations, and "." for the whole document */
	assert_pass("- path: json.items[1].name\n  equals: b",
	            "{\"json\": {\"items\": [0, {\"name\": \"b\"}]}}");
	assert_pass("- 'metrics[\"up\"]': 1", "{\"metrics\": {\"up\": 1}}");
	assert_pass("- path: .\n  count: 2", "{\"a\": 1, \"b\": 2}");
	assert_fail("- path: .\n  contains: c", "{\"a\": 1}",
	            "expected the facts to contain \"c\", saw {\"a\":1}");
	assert_fail("- 'json.items[0].name': z", "{\"json\": {\"items\": [{\"name\": \"a\"}]}}",
	            "expected json.items[0].name == \"z\", saw \"a\"");
	json_decref(f);
}

/* ---- load-time errors ----------------------------------------------- */

static void test_compile_errors(void **state)
{
	struct diags d;

	assert_bad("- path: status\n  equls: 200",
	           "unknown key 'equls' in expectation (did you mean 'equals'?)", 2, 3);
	assert_bad("- path: status\n  matchs: x", "did you mean 'matches'?", 2, 3);
	assert_bad("- pth: status\n  equals: 200",
	           "unknown key 'pth' in expectation (did you mean 'path'?)", 1, 3);
	assert_bad("- path: status\n  frobnicate: 1",
	           "unknown key 'frobnicate' in expectation; known keys:", 2, 3);
	assert_bad("- path: l\n  count: {gte: 2}",
	           "unknown key 'gte' in 'count' (did you mean 'ge'?)", 2, 11);
	assert_bad("- path: stdout\n  matches: '('",
	           "bad regex '(': missing closing parenthesis at offset 1", 2, 12);
	assert_bad("- jq: '.items |'", "bad jq program '.items |': syntax error, unexpected $end",
	           1, 7);
	assert_bad("- path: x\n  jq: 'nope('", "bad jq program 'nope(': syntax error", 2, 7);
	assert_bad("- jq: |\n    .a\n    | nosuch\n",
	           "bad jq program '.a | nosuch': nosuch/0 is not defined (line 2 of the program)",
	           1, 7);
	assert_bad("- path: 'json.items[0'\n  equals: 1", "bad path 'json.items[0': unbalanced '['",
	           1, 9);
	assert_bad("- 'a]b': 1", "bad path 'a]b': unbalanced ']'", 1, 3);
	assert_bad("- path: status", "has no operator", 1, 3);
	assert_bad("- equals: 200", "operators need 'path:'", 1, 3);
	assert_bad("- path: s\n  in: 200", "'in' needs a list", 2, 7);
	assert_bad("- path: s\n  ge: abc", "'ge' needs a number, saw 'abc'", 2, 7);
	assert_bad("- path: s\n  lt: [1]", "'lt' needs a number", 2, 7);
	assert_bad("- path: s\n  count: -1", "'count' needs a whole number", 2, 10);
	assert_bad("- path: s\n  count: 1.5", "'count' needs a whole number", 2, 10);
	assert_bad("- path: s\n  exists: maybe", "", 2, 11);
	assert_bad("- 200", "an expectation must be a map", 1, 3);
	assert_bad("'status: 200'", "'expect' needs a list", 1, 1);
	assert_bad("- message: hi", "an expectation needs a path", 1, 3);
	assert_bad("- a: 1\n  b: 2", "several keys needs", 1, 3);
	assert_bad("- path: [a]\n  equals: 1", "'path' needs text", 1, 9);
	assert_bad("- path: s\n  equals: 1\n  message: [x]", "'message' needs text", 3, 12);
	assert_bad("status: 200\nequals: 3", "'equals' in an expect: map needs 'path:'", 2, 1);

	/* every problem is reported, not only the first */
	compile_bad(
	    "- path: a\n  matches: '['\n- jq: '}'\n- path: 'b['\n  equals: 1\n- path: c\n  equl: 1",
	    &d);
	find_diag(&d, "bad regex '['");
	find_diag(&d, "bad jq program '}'");
	find_diag(&d, "bad path 'b['");
	find_diag(&d, "did you mean 'equals'?");
	assert_int_equal(d.n, 4);
	diags_release(&d);
}

/* ---- masking -------------------------------------------------------- */

static void test_masking(void **state)
{
	struct expect_verdict v;
	const char *secret = "s3cr3t-t0ken-value";

	mask_reset();
	mask_add(secret);

	judge("- json.token: expected", "{\"json\": {\"token\": \"Bearer s3cr3t-t0ken-value\"}}",
	      &v);
	assert_false(v.pass);
	assert_null(strstr(v.message, secret));
	assert_null(strstr(v.seen, secret));
	assert_null(strstr(v.expected, secret));
	assert_non_null(strstr(v.message, MASK_TEXT));
	assert_non_null(strstr(v.seen, MASK_TEXT));
	expect_verdict_release(&v);

	/* in the expectation itself */
	judge("- path: token\n  equals: s3cr3t-t0ken-value", "{\"token\": \"other\"}", &v);
	assert_null(strstr(v.message, secret));
	assert_null(strstr(v.expected, secret));
	expect_verdict_release(&v);

	/* in jq's error text */
	judge("- jq: '.t + 1'", "{\"t\": \"s3cr3t-t0ken-value\"}", &v);
	assert_false(v.pass);
	/* jq cuts values in its errors, so even a prefix would leak */
	assert_null(strstr(v.message, "s3cr3t"));
	assert_null(strstr(v.seen, "s3cr3t"));
	expect_verdict_release(&v);

	/* a long value whose cut falls inside the secret leaks no part of it */
	{
		struct buf b;
		buf_init(&b, 0);
		buf_adds(&b, "{\"body\": \"");
		for (int i = 0; i < 190; i++)
			buf_addc(&b, 'x');
		buf_adds(&b, secret);
		buf_adds(&b, "\"}");
		judge("- body: short", buf_str(&b), &v);
		assert_null(strstr(v.seen, "s3cr3t"));
		assert_null(strstr(v.message, "s3cr3t"));
		expect_verdict_release(&v);
		buf_release(&b);
	}

	/* a custom message too */
	assert_fail("- a: 1\n  message: token s3cr3t-t0ken-value", "{\"a\": 2}",
	            "token " MASK_TEXT ", saw 2");
	mask_reset();
}

/* ---- hostile input -------------------------------------------------- */

static void test_catastrophic_regex(void **state)
{
	struct expect_verdict v;
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "{\"s\": \"");
	for (int i = 0; i < 40; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, "!\"}");
	/* exponential backtracking: the match limit stops it, and that is a failure */
	judge("- path: s\n  matches: '^(a+)+$'", buf_str(&b), &v);
	assert_false(v.pass);
	assert_non_null(strstr(
	    v.message, "expected s to match /^(a+)+$/, but the regex could not be evaluated"));
	expect_verdict_release(&v);
	judge("- path: s\n  matches: '(x+x+)+y'",
	      "{\"s\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}", &v);
	assert_false(v.pass);
	expect_verdict_release(&v);
	buf_release(&b);
}

/* ---- threads -------------------------------------------------------- */

struct worker {
	int id;
	int failures; /* judgements that gave the wrong verdict */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct expect *e = compile_ok("- jq: '.items | length >= 2'\n"
	                              "- path: name\n  matches: '^pod-[0-9]+$'\n"
	                              "- jq: '[.items[] | . * 2] | add'\n  ge: 6\n"
	                              "- path: items\n  count: {ge: 2}");

	for (int i = 0; i < 200; i++) {
		struct expect_verdict v;
		int good = (i + w->id) % 2 == 0;
		char *text = good ? xasprintf("{\"items\": [1, 2, %d], \"name\": \"pod-%d\"}", i, i)
		                  : xasprintf("{\"items\": [%d], \"name\": \"pod-%d\"}", i, i);
		json_t *f = facts_of(text);
		expect_judge(e, f, &v);
		if (v.pass != good)
			w->failures++;
		if (!good &&
		    (!v.message ||
		     strcmp(v.message,
		            "expected jq '.items | length >= 2' to be true, saw false") != 0))
			w->failures++;
		expect_verdict_release(&v);
		json_decref(f);
		free(text);
		if (i % 50 == 0) {
			/* compile and free while others judge */
			struct jqprog *p;
			struct pg_err err;
			if (jqprog_compile(".a.b", &p, &err) < 0)
				w->failures++;
			else
				jqprog_free(p);
		}
	}
	expect_free(e);
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[4];
	struct worker w[4];

	for (int i = 0; i < 4; i++) {
		w[i].id = i;
		w[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
}

/* Deferred loading compiles many programs together: each must still judge
 * with its own program, equal programs share one, bad ones are reported at
 * their own positions, and a program used early compiles on its own. */
static void test_deferred_batches(void **state)
{
	enum { N = 1200 }; /* more than one batch */
	struct expect *ex[N];
	struct diags d;
	diags_init(&d);
	expect_defer_begin();
	for (int i = 0; i < N; i++) {
		char yaml[128];
		/* every third program is the same text */
		if (i % 3 == 0)
			snprintf(yaml, sizeof(yaml), "- jq: '.v >= 0'\n");
		else
			snprintf(yaml, sizeof(yaml), "- jq: '.v == %d'\n", i);
		struct node *n = load_yaml(yaml);
		assert_int_equal(expect_compile(n, &ex[i], &d), 0);
		node_free(n);
	}
	struct node *bad1 = load_yaml("- {path: v, equals: 1}\n- jq: '.v |'\n");
	struct node *bad2 = load_yaml("\n\n- jq: 'nosuchfn(.v)'\n");
	struct expect *b1 = NULL, *b2 = NULL;
	expect_compile(bad1, &b1, &d);
	expect_compile(bad2, &b2, &d);
	/* a program used before the end still works */
	struct jqprog *early;
	struct pg_err e;
	assert_int_equal(jqprog_compile(".v + 1", &early, &e), 0);
	json_t *facts = json_pack("{s:i}", "v", 41);
	json_t *out = jqprog_first(early, facts, &e);
	assert_non_null(out);
	assert_int_equal(json_integer_value(out), 42);
	json_decref(out);
	json_decref(facts);
	assert_int_equal(expect_defer_end(&d), 2);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "bad jq program '.v |'"));
	assert_int_equal(d.v[1].line, 3);
	assert_non_null(strstr(d.v[1].msg, "nosuchfn/1 is not defined"));
	for (int i = 0; i < N; i++) {
		json_t *f = json_pack("{s:i}", "v", i);
		struct expect_verdict v;
		expect_judge(ex[i], f, &v);
		assert_true(v.pass);
		expect_verdict_release(&v);
		json_decref(f);
		if (i % 3 != 0) {
			f = json_pack("{s:i}", "v", i + 1);
			expect_judge(ex[i], f, &v);
			assert_false(v.pass);
			assert_non_null(strstr(v.message, "to be true"));
			expect_verdict_release(&v);
			json_decref(f);
		}
	}
	for (int i = 0; i < N; i++)
		expect_free(ex[i]);
	expect_free(b1);
	expect_free(b2);
	jqprog_free(early);
	node_free(bad1);
	node_free(bad2);
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_equals),
	    cmocka_unit_test(test_not),
	    cmocka_unit_test(test_matches),
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_in),
	    cmocka_unit_test(test_exists),
	    cmocka_unit_test(test_count_length),
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_expected_and_seen_fields),
	    cmocka_unit_test(test_seen_trimmed),
	    cmocka_unit_test(test_message_override),
	    cmocka_unit_test(test_jq_items),
	    cmocka_unit_test(test_jq_compile_and_jqprog),
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_compile_errors),
	    cmocka_unit_test(test_masking),
	    cmocka_unit_test(test_catastrophic_regex),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_deferred_batches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
