/* promtext_test.c - unit tests of the exposition format parser behind the
 * prometheus module's scrape: a valid text using every feature, and a corpus
 * of malformed texts, each with the line and the message it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promtext.h"

static json_t *parse_ok(const char *text)
{
	json_t *facts = NULL;
	unsigned line = 99;
	struct pg_err e = {{0}};
	int rc = promtext_parse(text, strlen(text), NULL, &facts, &line, &e);
	if (rc != 0)
		fail_msg("unexpected parse error at line %u: %s", line, e.msg);
	assert_non_null(facts);
	return facts;
}

/* The first sample of name whose labels hold key=value (key NULL: any). */
static json_t *sample(json_t *facts, const char *name, const char *key, const char *value)
{
	json_t *list = json_object_get(json_object_get(facts, "metrics"), name);
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s)
	{
		json_t *labels = json_object_get(s, "labels");
		if (!key || (json_is_string(json_object_get(labels, key)) &&
		             strcmp(json_string_value(json_object_get(labels, key)), value) == 0))
			return s;
	}
	fail_msg("no sample %s{%s=%s}", name, key ? key : "", value ? value : "");
	return NULL;
}

static const char full_text[] =
    "# A comment that is not HELP or TYPE\n"
    "# HELP http_requests_total The total number of HTTP requests.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
    "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
    "\n"
    "# Escaping in label values:\n"
    "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
    "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
    "# HELP escaped_help First line\\nsecond \\\\ line\n"
    "metric_without_timestamp_and_labels 12.47\n"
    "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
    "nan_metric NaN\n"
    "neg_inf -Inf\n"
    "trailing_comma{a=\"1\",} 2\n"
    "spaced { a = \"x\" , b=\"y\" } 5\n"
    "colon:metric:name 1\r\n"
    "# TYPE http_request_duration_seconds histogram\n"
    "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
    "http_request_duration_seconds_bucket{le=\"0.1\"} 33444\n"
    "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
    "http_request_duration_seconds_sum 53423\n"
    "http_request_duration_seconds_count 144320\n"
    "# TYPE rpc_duration_seconds summary\n"
    "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
    "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
    "rpc_duration_seconds_sum 1.7560473e+07\n"
    "rpc_duration_seconds_count 2693\n"
    "  # an indented comment\n"
    "unicode{name=\"caf\xc3\xa9\"} 1";

static void test_full_text(void **state)
{
	json_t *f = parse_ok(full_text);
	assert_int_equal(json_integer_value(json_object_get(f, "samples")), 20);
	assert_int_equal(json_array_size(json_object_get(f, "series")), 20);

	json_t *s = sample(f, "http_requests_total", "code", "400");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 3);
	assert_int_equal(json_integer_value(json_object_get(s, "timestamp")), 1395066363000LL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(s, "labels"), "method")), "post");

	json_t *fam = json_object_get(json_object_get(f, "families"), "http_requests_total");
	assert_string_equal(json_string_value(json_object_get(fam, "type")), "counter");
	assert_string_equal(json_string_value(json_object_get(fam, "help")),
	                    "The total number of HTTP requests.");
	assert_null(json_object_get(fam, "typed"));
	fam = json_object_get(json_object_get(f, "families"), "escaped_help");
	assert_string_equal(json_string_value(json_object_get(fam, "help")),
	                    "First line\nsecond \\ line");
	assert_string_equal(json_string_value(json_object_get(fam, "type")), "untyped");

	s = sample(f, "msdos_file_access_time_seconds", NULL, NULL);
	json_t *labels = json_object_get(s, "labels");
	assert_string_equal(json_string_value(json_object_get(labels, "path")),
	                    "C:\\DIR\\FILE.TXT");
	assert_string_equal(json_string_value(json_object_get(labels, "error")),
	                    "Cannot find file:\n\"FILE.TXT\"");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 1458255915);

	s = sample(f, "metric_without_timestamp_and_labels", NULL, NULL);
	assert_true(json_real_value(json_object_get(s, "value")) == 12.47);
	assert_null(json_object_get(s, "timestamp"));
	assert_int_equal(json_object_size(json_object_get(s, "labels")), 0);

	s = sample(f, "something_weird", NULL, NULL);
	assert_string_equal(json_string_value(json_object_get(s, "value")), "+Inf");
	assert_int_equal(json_integer_value(json_object_get(s, "timestamp")), -3982045);
	assert_string_equal(
	    json_string_value(json_object_get(sample(f, "nan_metric", NULL, NULL), "value")),
	    "NaN");
	assert_string_equal(
	    json_string_value(json_object_get(sample(f, "neg_inf", NULL, NULL), "value")), "-Inf");

	s = sample(f, "trailing_comma", "a", "1");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 2);
	s = sample(f, "spaced", "b", "y");
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "labels"), "a")),
	                    "x");
	assert_int_equal(json_integer_value(
	                     json_object_get(sample(f, "colon:metric:name", NULL, NULL), "value")),
	                 1);

	/* Histograms and summaries keep their samples under their own names. */
	fam = json_object_get(json_object_get(f, "families"), "http_request_duration_seconds");
	assert_string_equal(json_string_value(json_object_get(fam, "type")), "histogram");
	s = sample(f, "http_request_duration_seconds_bucket", "le", "+Inf");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 144320);
	assert_int_equal(json_array_size(json_object_get(json_object_get(f, "metrics"),
	                                                 "http_request_duration_seconds_bucket")),
	                 3);
	s = sample(f, "http_request_duration_seconds_count", NULL, NULL);
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 144320);
	s = sample(f, "rpc_duration_seconds", "quantile", "0.99");
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 76656);
	s = sample(f, "rpc_duration_seconds_sum", NULL, NULL);
	assert_int_equal(json_integer_value(json_object_get(s, "value")), 17560473);

	s = sample(f, "unicode", NULL, NULL);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(s, "labels"), "name")),
	    "caf\xc3\xa9");

	/* series carries the name, in document order. */
	json_t *first = json_array_get(json_object_get(f, "series"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "name")),
	                    "http_requests_total");
	json_decref(f);
}

static void test_empty_and_comments(void **state)
{
	json_t *f = parse_ok("");
	assert_int_equal(json_integer_value(json_object_get(f, "samples")), 0);
	json_decref(f);
	f = parse_ok("# only a comment\n\n   \n# EOF\n");
	assert_int_equal(json_integer_value(json_object_get(f, "samples")), 0);
	json_decref(f);
}

struct bad_case {
	const char *text;
	unsigned line;
	const char *msg; /* a part of the message */
};

static const struct bad_case bad[] = {
    {"ok 1\nno_value\n", 2, "expected a value after the metric name"},
    {"ok 1\nno_value{a=\"b\"}\n", 2, "expected a value after the metric name"},
    {"a 1\nb 2\nc 3\nbad abc\n", 4, "invalid value 'abc' for 'bad'"},
    {"x{a=\"b} 1\n", 1, "not closed"},
    {"x{a=b} 1\n", 1, "expected a quoted value for the label 'a'"},
    {"x{a=\"1\" b=\"2\"} 1\n", 1, "expected ',' or '}'"},
    {"x{a=\"1\",a=\"2\"} 1\n", 1, "the label 'a' appears twice"},
    {"x{a=\"\\t\"} 1\n", 1, "invalid escape sequence '\\t'"},
    {"x{1a=\"1\"} 1\n", 1, "expected a label name, found '1'"},
    {"x{a:b=\"1\"} 1\n", 1, "expected '=' after the label name 'a'"},
    {"x{a=\"1\"\n", 1, "the label set is not closed"},
    {"\n\n1abc 2\n", 3, "expected a metric name, found '1'"},
    {"x-y 2\n", 1, "invalid character '-' in the metric name"},
    {"x 1 notatime\n", 1, "invalid timestamp 'notatime'"},
    {"x 1 2 3\n", 1, "unexpected text after the sample: '3'"},
    {"# TYPE x countr\n", 1, "unknown metric type 'countr'"},
    {"# TYPE x counter\n# TYPE x gauge\n", 2, "a second TYPE line for 'x'"},
    {"# TYPE\n", 1, "expected a metric name after '# TYPE'"},
    {"# TYPE x\n", 1, "expected a type after '# TYPE x'"},
    {"# HELP 9x text\n", 1, "expected a metric name after '# HELP'"},
    {"x{a=\"\xff\"} 1\n", 1, "not valid UTF-8"},
    {"\xc3\xa9 1\n", 1, "expected a metric name, found '?'"},
};

static void test_malformed(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *facts = NULL;
		unsigned line = 0;
		struct pg_err e = {{0}};
		int rc = promtext_parse(bad[i].text, strlen(bad[i].text), NULL, &facts, &line, &e);
		if (rc != -1 || line != bad[i].line || !strstr(e.msg, bad[i].msg))
			fail_msg("case %zu: rc %d, line %u (want %u), message '%s' (want '%s')", i,
			         rc, line, bad[i].line, e.msg, bad[i].msg);
		assert_null(facts);
	}
}

static void test_nul_byte(void **state)
{
	static const char text[] = "a 1\nb\0 2\n";
	json_t *facts = NULL;
	unsigned line = 0;
	struct pg_err e = {{0}};
	assert_int_equal(promtext_parse(text, sizeof(text) - 1, NULL, &facts, &line, &e), -1);
	assert_int_equal(line, 2);
	assert_non_null(strstr(e.msg, "NUL byte"));
}

static void test_value_json(void **state)
{
	json_t *v = promtext_value_json(0.5);
	assert_true(json_is_real(v) && json_real_value(v) == 0.5);
	json_decref(v);
	v = promtext_value_json(-7);
	assert_true(json_is_integer(v) && json_integer_value(v) == -7);
	json_decref(v);
	v = promtext_value_json(1e300);
	assert_true(json_is_real(v));
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_text),  cmocka_unit_test(test_empty_and_comments),
	    cmocka_unit_test(test_malformed),  cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_value_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
