/* test_result.c - the result model: status names, totals and step/phase
 * status folding, the lossless JSON round trip, and the errors of
 * result_load_file for files that are not phasegate results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../reports/model.h"
#include "report.h"
#include "result.h"

static void test_status_names(void **state)
{
	const char *names[] = {"pass", "fail", "error", "skip", "pending"};
	for (int i = RS_PASS; i <= RS_PENDING; i++) {
		enum res_status s = RS_PASS;
		assert_string_equal(res_status_name((enum res_status)i), names[i]);
		assert_int_equal(res_status_parse(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	enum res_status s = RS_FAIL;
	assert_int_equal(res_status_parse("PASS", &s), -1);
	assert_int_equal(res_status_parse("passed", &s), -1);
	assert_int_equal(res_status_parse("", &s), -1);
	assert_int_equal(res_status_parse(NULL, &s), -1);
	assert_int_equal(s, RS_FAIL); /* untouched on failure */
}

static void test_count_four_phase(void **state)
{
	struct run_result r;
	model_four_phase(&r);
	assert_int_equal(r.total, 11);
	assert_int_equal(r.passed, 4);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.errors, 1);
	assert_int_equal(r.skipped, 5);
	assert_int_equal(r.pending, 0);
	/* step 2.1 has a fail and an error: error is worse */
	assert_int_equal(r.phases[1].steps[0].status, RS_ERROR);
	assert_int_equal(r.phases[1].steps[1].status, RS_SKIP);
	assert_int_equal(r.phases[1].status, RS_ERROR);
	assert_int_equal(r.phases[0].status, RS_PASS);
	assert_int_equal(r.phases[2].status, RS_SKIP);
	assert_int_equal(r.phases[3].status, RS_SKIP);
	result_release(&r);
	assert_null(r.phases);
	assert_int_equal(r.nphases, 0);
}

static void test_count_order(void **state)
{
	/* error > fail > pending > skip > pass, collectors ignored, actions
	 * count for the step but not in the totals */
	struct run_result r;
	memset(&r, 0, sizeof(r));
	struct res_phase *p = model_phase(&r, "1", "P", 0);
	struct res_step *s = model_step(p, "a", "skip+pass", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_PASS, 0);
	model_check(s, RK_CHECK, "y", "y", RS_SKIP, 0);
	s = model_step(p, "b", "pending+skip", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_SKIP, 0);
	model_check(s, RK_CHECK, "y", "y", RS_PENDING, 0);
	s = model_step(p, "c", "fail+pending", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_PENDING, 0);
	model_check(s, RK_CHECK, "y", "y", RS_FAIL, 0);
	s = model_step(p, "d", "collector error ignored", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_PASS, 0);
	model_check(s, RK_COLLECTOR, "c", "c", RS_ERROR, 0);
	s = model_step(p, "e", "failed action", NULL);
	model_check(s, RK_ACTION, "act", "act", RS_FAIL, 0);
	model_check(s, RK_CHECK, "x", "x", RS_SKIP, 0);
	s = model_step(p, "f", "empty", NULL);
	p->steps[0].status = RS_ERROR; /* stale values are recomputed */
	p->status = RS_ERROR;
	r.total = 99;
	struct res_phase *q = model_phase(&r, "2", "Q", 0);
	s = model_step(q, "a", "skip", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_SKIP, 0);
	s = model_step(q, "b", "pending", NULL);
	model_check(s, RK_CHECK, "x", "x", RS_PENDING, 0);
	result_count(&r);
	p = &r.phases[0]; /* the array moved when phase 2 was added */
	assert_int_equal(p->steps[0].status, RS_SKIP);
	assert_int_equal(p->steps[1].status, RS_PENDING);
	assert_int_equal(p->steps[2].status, RS_FAIL);
	assert_int_equal(p->steps[3].status, RS_PASS);
	assert_int_equal(p->steps[4].status, RS_FAIL);
	assert_int_equal(p->steps[5].status, RS_PASS);
	assert_int_equal(r.phases[0].status, RS_FAIL);
	assert_int_equal(r.phases[1].status, RS_PENDING);
	assert_int_equal(r.total, 10); /* the action and the collector are not counted */
	assert_int_equal(r.passed, 2);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.skipped, 4);
	assert_int_equal(r.pending, 3);
	result_release(&r);
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

/* to_json(from_json(to_json(r))) == to_json(r) */
static void round_trip(struct run_result *r)
{
	struct pg_err e = {{0}};
	json_t *j1 = result_to_json(r);
	struct run_result back;
	int rc = result_from_json(&back, j1, &e);
	if (rc != 0)
		fail_msg("result_from_json: %s", e.msg);
	json_t *j2 = result_to_json(&back);
	char *s1 = dump(j1), *s2 = dump(j2);
	assert_string_equal(s1, s2);
	assert_true(json_equal(j1, j2));
	free(s1);
	free(s2);
	json_decref(j1);
	json_decref(j2);
	result_release(&back);
}

static void test_round_trip_models(void **state)
{
	void (*models[])(struct run_result *) = {model_four_phase, model_pending, model_keep_going,
	                                         model_hostile, model_full};
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		struct run_result r;
		models[i](&r);
		round_trip(&r);
		result_release(&r);
	}
}

static void test_json_every_field(void **state)
{
	struct run_result r, back;
	struct pg_err e = {{0}};
	model_full(&r);
	json_t *j = result_to_json(&r);
	/* 24 scalars, totals, 4 arrays, attestation rules, escalation, prior */
	assert_int_equal(json_object_size(j), 32);
	assert_int_equal(json_integer_value(json_object_get(
	                     json_object_get(j, "attestation_rules"), "max_age_s")),
	                 7 * 86400);
	assert_string_equal(
	    json_string_value(json_array_get(
	        json_object_get(json_object_get(j, "escalation"), "contacts"), 1)),
	    "ops lead");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "prior"), "run_id")),
	    "20261130T100000Z-abcdef");
	assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
	assert_int_equal(json_integer_value(json_object_get(j, "interrupted")), 15);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_string_equal(json_string_value(json_object_get(j, "selection")), "--phase 2");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(j, "totals"), "skipped")), 5);
	json_t *k = json_array_get(
	    json_object_get(
	        json_array_get(
	            json_object_get(json_array_get(json_object_get(j, "phases"), 0), "steps"), 0),
	        "checks"),
	    1);
	assert_int_equal(json_object_size(k), 29); /* every res_check field */
	assert_string_equal(json_string_value(json_object_get(k, "kind")), "check");
	assert_int_equal(json_integer_value(json_object_get(k, "line")), 4000000000LL);
	r.phases[3].duration_s = NAN; /* JSON has no NaN: written as 0, never dropped */
	json_t *j3 = result_to_json(&r);
	json_t *d = json_object_get(json_array_get(json_object_get(j3, "phases"), 3), "duration_s");
	assert_non_null(d);
	assert_true(json_real_value(d) == 0.0);
	json_decref(j3);
	assert_true(json_is_null(json_object_get(
	    json_array_get(
	        json_object_get(
	            json_array_get(
	                json_object_get(json_array_get(json_object_get(j, "phases"), 2), "steps"),
	                0),
	            "checks"),
	        0),
	    "started_at")));

	assert_int_equal(result_from_json(&back, j, &e), 0);
	const struct res_check *a = &r.phases[0].steps[0].checks[1];
	const struct res_check *b = &back.phases[0].steps[0].checks[1];
	assert_int_equal(b->ntags, 2);
	assert_string_equal(b->tags[1], "network");
	assert_int_equal(b->nevidence, 2);
	assert_string_equal(b->evidence[1].title, "headers");
	assert_string_equal(b->evidence[1].text, "a: b");
	assert_true(a->duration_s == b->duration_s); /* exact, not rounded */
	assert_int_equal(b->line, 4000000000u);
	assert_int_equal(b->insecure, 1);
	assert_string_equal(b->attest_note, "note");
	assert_int_equal(back.phases[0].steps[0].checks[0].kind, RK_ACTION);
	assert_int_equal(back.phases[1].steps[0].checks[4].kind, RK_COLLECTOR);
	assert_int_equal(back.phases[1].steps[0].checks[3].gate, 0);
	assert_int_equal(back.approvals[1].attested, 0);
	assert_null(back.approvals[1].by);
	assert_string_equal(back.vars[1].origin, "env:ARGOCD_AUTH_TOKEN");
	assert_int_equal(back.keep_going, 1);
	assert_int_equal(back.timed_out, 1);
	assert_int_equal(back.exit_code, 143); /* the model was interrupted by SIGTERM */
	assert_true(back.duration_s == 150.25);
	assert_string_equal(back.blocking_gate, "checkpoint-2.1");
	assert_int_equal(back.total, 11);
	json_decref(j);
	result_release(&r);
	result_release(&back);
}

static void test_json_invalid_utf8_replaced(void **state)
{
	struct run_result r;
	model_hostile(&r);
	json_t *j = result_to_json(&r);
	const char *seen = json_string_value(json_object_get(
	    json_array_get(
	        json_object_get(
	            json_array_get(
	                json_object_get(json_array_get(json_object_get(j, "phases"), 0), "steps"),
	                0),
	            "checks"),
	        0),
	    "seen"));
	assert_non_null(seen); /* not dropped */
	assert_non_null(strstr(seen, "bad \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD( "));
	assert_non_null(strstr(seen, "````\nescaped?"));
	json_decref(j);
	result_release(&r);
}

/* Writes text to a temporary file and loads it; returns the rc. */
static int load_text(const char *text, struct run_result *r, struct pg_err *e)
{
	char path[] = "/tmp/pg-result-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	int rc = result_load_file(r, path, e);
	unlink(path);
	return rc;
}

static void expect_load_error(const char *text, const char *needle)
{
	struct run_result r;
	struct pg_err e = {{0}};
	assert_int_equal(load_text(text, &r, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error '%s' does not mention '%s'", e.msg, needle);
	assert_null(r.phases); /* nothing left to free */
	assert_null(r.suite_name);
}

static char *valid_doc(void)
{
	struct run_result r;
	model_four_phase(&r);
	json_t *j = result_to_json(&r);
	char *s = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	result_release(&r);
	return s;
}

/* The valid document with one substring replaced. */
static char *edited_doc(const char *from, const char *to)
{
	char *doc = valid_doc();
	char *at = strstr(doc, from);
	assert_non_null(at);
	char *out = xasprintf("%.*s%s%s", (int)(at - doc), doc, to, at + strlen(from));
	free(doc);
	return out;
}

static void test_load_file(void **state)
{
	struct run_result r;
	struct pg_err e = {{0}};
	char *doc = valid_doc();
	assert_int_equal(load_text(doc, &r, &e), 0);
	assert_string_equal(r.verdict, "NO-GO");
	assert_int_equal(r.nphases, 4);
	assert_string_equal(r.phases[1].steps[0].checks[2].remedy,
	                    "Check the pod events and the node resources");
	result_release(&r);
	free(doc);

	assert_int_equal(result_load_file(&r, "/nonexistent/results.json", &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/results.json"));
	assert_non_null(strstr(e.msg, "No such file"));

	expect_load_error("{\"schema_version\": 1, ", "not valid JSON");
	expect_load_error("[1,2]", "must be an object");
	expect_load_error("{\"suite_name\": \"x\"}", "schema_version: missing");

	char *d = edited_doc("\"schema_version\": 1", "\"schema_version\": 2");
	expect_load_error(d, "schema_version is not supported, this phasegate reads version 1");
	free(d);
	d = edited_doc("\"verdict\": \"NO-GO\"", "\"verdict_\": \"NO-GO\"");
	expect_load_error(d, "results JSON: verdict: missing required field");
	free(d);
	d = edited_doc("\"status\": \"fail\"", "\"state\": \"fail\"");
	expect_load_error(d, "phases[1].steps[0].checks[2].status: missing required field");
	free(d);
	d = edited_doc("\"status\": \"fail\"", "\"status\": \"failed\"");
	expect_load_error(d, "phases[1].steps[0].checks[2].status: must be one of");
	free(d);
	d = edited_doc("\"attempts\": 12", "\"attempts\": \"12\"");
	expect_load_error(d, "phases[1].steps[0].checks[2].attempts: must be an integer");
	free(d);
	d = edited_doc("\"kind\": \"collector\"", "\"kind\": \"probe\"");
	expect_load_error(d, "phases[1].steps[0].checks[4].kind: must be one of");
	free(d);
	d = edited_doc("\"keep_going\": false", "\"keep_going\": 0");
	expect_load_error(d, "keep_going: must be true or false");
	free(d);
	d = edited_doc("\"phases\": [", "\"phases\": 3, \"x\": [");
	expect_load_error(d, "phases: must be an array");
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_names),
	    cmocka_unit_test(test_count_four_phase),
	    cmocka_unit_test(test_count_order),
	    cmocka_unit_test(test_round_trip_models),
	    cmocka_unit_test(test_json_every_field),
	    cmocka_unit_test(test_json_invalid_utf8_replaced),
	    cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
