/* test_reports.c - every report writer rendered from result models built in
 * C (tests/reports/model.c): JUnit validated with xmllint against the
 * Jenkins schema and read back by junitparser (tests/reports/junit_read.py),
 * the Markdown go-live report (verdict, tables, checklist, escaping of
 * hostile text), the JSON report read back, and the console. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four headers above first */
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../reports/model.h"
#include "proc.h"
#include "report.h"
#include "verdict.h"

static char *workdir;

static const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		fail_msg("%s is not set (run through ctest)", name);
	size_t n = strlen(v);
	if (n >= 9 && !strcmp(v + n - 9, "-NOTFOUND"))
		fail_msg("%s: the program was not found when configuring (xmllint: Debian "
		         "libxml2-utils; python3 with python3-junitparser)",
		         name);
	return v;
}

static char *work_path(const char *name)
{
	return xasprintf("%s/%s", workdir, name);
}

static char *read_all(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	struct pg_err e;
	if (read_file_capped(path, 64 << 20, &data, &len, &e) < 0)
		fail_msg("%s", e.msg);
	return data;
}

/* Runs argv to completion; returns its exit code, stdout in *out. */
static int run(const char *const *argv, char **out, char **err)
{
	struct proc_spec spec = {.argv = argv, .timeout_ms = 60000, .max_output = 16 << 20};
	struct proc_result pr;
	struct pg_err e;
	memset(&pr, 0, sizeof(pr));
	if (proc_run(&spec, NULL, &pr, &e) < 0)
		fail_msg("cannot run %s: %s", argv[0], e.msg);
	int code = pr.exit_code;
	if (out)
		*out = xstrdup(buf_str(&pr.out));
	if (err)
		*err = xstrdup(buf_str(&pr.err));
	proc_result_release(&pr);
	return code;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected to find [%s] in:\n%s", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	const char *at = strstr(hay, needle);
	if (at)
		fail_msg("found [%s] at offset %zu", needle, (size_t)(at - hay));
}

static void assert_prefix(const char *hay, const char *prefix)
{
	if (strncmp(hay, prefix, strlen(prefix)) != 0)
		fail_msg("expected to start with [%s], got:\n%.*s", prefix,
		         (int)strlen(prefix) + 40, hay);
}

/* a appears before b */
static void assert_order(const char *hay, const char *a, const char *b)
{
	const char *pa = strstr(hay, a), *pb = strstr(hay, b);
	if (!pa || !pb || pa >= pb)
		fail_msg("expected [%s] before [%s]", a, b);
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* No byte that a report must never carry: C0 controls but \n (and \t),
 * DEL, bytes that are never UTF-8, U+FFFE. */
static void assert_clean_bytes(const char *s, int allow_tab)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && *p != '\n' && !(allow_tab && *p == '\t')) || *p == 0x7f ||
		    *p == 0xff || *p == 0xfe || *p == 0xc0 || *p == 0xc1)
			fail_msg("byte 0x%02x at offset %zu", *p,
			         (size_t)(p - (const unsigned char *)s));
	}
	assert_lacks(s, "\xef\xbf\xbe");
	assert_lacks(s, "\xed\xa0\x80");
	char *again = report_clean_text(s);
	assert_string_equal(again, s); /* already valid, nothing to replace */
	free(again);
}

/* Runs of plain text pass whole; what is not safe to show is replaced at
 * its place, whatever comes before or after it. */
static void test_clean_text_exact(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"plain text, tabs\tand\nlines", "plain text, tabs\tand\nlines"},
	    {"a\r\nb", "a\nb"},
	    {"\x1b[31mred", "\xEF\xBF\xBD[31mred"},
	    {"caf\xC3\xA9 \xE2\x9C\x93", "caf\xC3\xA9 \xE2\x9C\x93"},
	    {"bad \xff byte", "bad \xEF\xBF\xBD byte"},
	    {"cut \xC3", "cut \xEF\xBF\xBD"},
	    {"del\x7f end\x01", "del\xEF\xBF\xBD end\xEF\xBF\xBD"},
	    {"\xC2\x85next", "\xEF\xBF\xBDnext"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = report_clean_text(cases[i].in);
		assert_string_equal(got, cases[i].out);
		free(got);
	}
	char *none = report_clean_text(NULL);
	assert_string_equal(none, "");
	free(none);
}

/* ---- JUnit ---- */

/* Writes r as JUnit, validates it against junit-10.xsd and reads it back
 * with junitparser; returns the XML text and (in *parsed) the reader's view. */
static char *junit_checked(const struct run_result *r, const char *name, json_t **parsed)
{
	char *path = work_path(name);
	struct pg_err e;
	if (report_junit_write(r, path, &e) < 0)
		fail_msg("%s", e.msg);
	char *xml = read_all(path);
	char *rendered = report_junit_render(r);
	assert_string_equal(xml, rendered); /* the file is the rendering */
	free(rendered);

	char *xsd = xasprintf("%s/reference/junit-10.xsd", env_or_fail("PG_SHARED_DIR"));
	const char *lint[] = {env_or_fail("PG_XMLLINT"), "--noout", "--schema", xsd, path, NULL};
	char *err = NULL;
	int code = run(lint, NULL, &err);
	if (code != 0)
		fail_msg("xmllint rejects %s:\n%s", path, err);
	free(err);

	char *script = xasprintf("%s/tests/reports/junit_read.py", env_or_fail("PG_SOURCE_DIR"));
	const char *py[] = {env_or_fail("PG_PYTHON3"), script, path, NULL};
	char *out = NULL;
	code = run(py, &out, &err);
	if (code != 0)
		fail_msg("junit_read.py failed on %s:\n%s", path, err);
	json_error_t je;
	*parsed = json_loads(out, 0, &je);
	if (!*parsed)
		fail_msg("junit_read.py printed no JSON: %s", je.text);
	free(out);
	free(err);
	free(script);
	free(xsd);
	free(path);
	return xml;
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_t *suite_at(json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "suites"), i);
}

static json_t *find_case(json_t *doc, const char *name)
{
	json_t *suites = json_object_get(doc, "suites");
	for (size_t i = 0; i < json_array_size(suites); i++) {
		json_t *cases = json_object_get(json_array_get(suites, i), "cases");
		for (size_t k = 0; k < json_array_size(cases); k++) {
			json_t *c = json_array_get(cases, k);
			if (!strcmp(jstr(c, "name"), name))
				return c;
		}
	}
	fail_msg("no testcase named [%s]", name);
	return NULL;
}

/* Declared counts of every suite equal what the reader counts. */
static void assert_counts_consistent(json_t *doc)
{
	json_t *suites = json_object_get(doc, "suites");
	long long tests = 0, failures = 0, errors = 0;
	for (size_t i = 0; i < json_array_size(suites); i++) {
		json_t *s = json_array_get(suites, i);
		json_t *c = json_object_get(s, "counted");
		assert_int_equal(jint(s, "tests"), jint(c, "tests"));
		assert_int_equal(jint(s, "failures"), jint(c, "failure"));
		assert_int_equal(jint(s, "errors"), jint(c, "error"));
		assert_int_equal(jint(s, "skipped"), jint(c, "skipped"));
		tests += jint(s, "tests");
		failures += jint(s, "failures");
		errors += jint(s, "errors");
		/* every non-passing case explains itself */
		json_t *cases = json_object_get(s, "cases");
		for (size_t k = 0; k < json_array_size(cases); k++) {
			json_t *cs = json_array_get(cases, k);
			if (strcmp(jstr(cs, "outcome"), "pass") != 0) {
				const char *m = jstr(cs, "message");
				assert_non_null(m);
				assert_true(strlen(m) > 0);
			}
		}
	}
	assert_int_equal(jint(doc, "tests"), tests);
	assert_int_equal(jint(doc, "failures"), failures);
	assert_int_equal(jint(doc, "errors"), errors);
}

static void test_junit_four_phase(void **state)
{
	struct run_result r;
	json_t *doc;
	model_four_phase(&r);
	char *xml = junit_checked(&r, "four.xml", &doc);

	assert_contains(xml, "<testsuites name=\"argocd-stabilization\" tests=\"14\" "
	                     "failures=\"1\" errors=\"1\" time=\"150.250\">");
	assert_lacks(xml, "<testsuites name=\"argocd-stabilization\" tests=\"14\" failures=\"1\" "
	                  "errors=\"1\" skipped");
	assert_int_equal(json_array_size(json_object_get(doc, "suites")), 4);
	assert_counts_consistent(doc);

	json_t *s = suite_at(doc, 1);
	assert_string_equal(jstr(s, "name"), "2 Component Deployment");
	assert_int_equal(jint(s, "tests"), 5); /* 1 action + 4 checks, no collector */
	assert_int_equal(jint(s, "failures"), 1);
	assert_int_equal(jint(s, "errors"), 1);
	assert_int_equal(jint(s, "skipped"), 1);
	assert_int_equal(jint(suite_at(doc, 0), "tests"), 4);
	assert_int_equal(jint(suite_at(doc, 2), "skipped"), 3);
	assert_int_equal(jint(suite_at(doc, 3), "skipped"), 2);
	json_t *props = json_object_get(s, "properties");
	assert_string_equal(jstr(props, "suite"), "argocd-stabilization");
	assert_string_equal(jstr(props, "environment"), "production");
	assert_string_equal(jstr(props, "run_id"), "run-20261126-0910");
	assert_string_equal(jstr(props, "verdict"), "NO-GO");
	assert_null(json_object_get(props, "keep_going"));
	assert_null(json_object_get(props, "interrupted"));

	json_t *c = find_case(doc, "2.1 server-ready: All server pods ready");
	/* suite + phase name, no dots for Jenkins to turn into packages */
	assert_string_equal(jstr(c, "classname"),
			    "argocd-stabilization / 2 Component Deployment");
	assert_string_equal(jstr(c, "outcome"), "failure");
	assert_string_equal(jstr(c, "type"), "AssertionFailure");
	/* the check that stopped the run says so */
	assert_string_equal(jstr(c, "message"),
			    "BLOCKED THE RUN at gate checkpoint-2.1: 2 of 3 replicas ready");
	/* the collector's output is evidence of the failing check */
	assert_contains(jstr(c, "system_out"), "on_failure: events in argocd");
	assert_contains(jstr(c, "system_out"), "FailedScheduling pod/argocd-server-2");
	assert_contains(jstr(c, "system_out"), "readyReplicas: 2\nreplicas: 3");
	assert_contains(jstr(c, "system_out"), "attempts: 12");
	assert_contains(xml, "expected: status.readyReplicas == 3\nseen: 2\nremedy: Check the pod "
	                     "events and the node resources\n</failure>");
	assert_contains(xml, "time=\"60.000\"");
	assert_contains(xml, "time=\"0.120\"");

	c = find_case(doc, "2.1 server-latency: Server answers quickly");
	assert_string_equal(jstr(c, "outcome"), "error");
	assert_string_equal(jstr(c, "message"), "connection refused");
	assert_contains(jstr(c, "system_out"), "TLS certificate verification was turned off");
	assert_lacks(jstr(c, "system_out"), "events in argocd"); /* only once, on the gate */

	c = find_case(doc, "1.1 action label-ns: Label the argocd namespace");
	assert_string_equal(jstr(c, "classname"), "argocd-stabilization / 1 Pre-flight");
	assert_string_equal(jstr(c, "outcome"), "pass");
	assert_contains(jstr(c, "system_out"), "action");
	c = find_case(doc, "3.1 action apply-ingress: Apply ingress");
	assert_string_equal(jstr(c, "outcome"), "skipped");
	assert_string_equal(jstr(c, "message"), "blocked by gate checkpoint-2.1");
	c = find_case(doc, "4.1 uptime: Uptime");
	assert_string_equal(jstr(c, "message"), "blocked by gate checkpoint-2.1");
	assert_lacks(xml, "Events in argocd\""); /* no testcase for the collector */

	/* schema order inside a testsuite: properties, testcases, system-out */
	assert_order(xml, "<properties>", "<testcase");
	assert_contains(xml, "timestamp=\"2026-11-26T09:10:22\" hostname=\"ci-runner-7\" id=\"1\" "
	                     "package=\"argocd-stabilization\"");
	json_decref(doc);
	free(xml);
	result_release(&r);
}

static void test_junit_pending_and_keep_going(void **state)
{
	struct run_result r;
	json_t *doc;
	model_pending(&r);
	char *xml = junit_checked(&r, "pending.xml", &doc);
	assert_counts_consistent(doc);
	json_t *s = suite_at(doc, 0);
	assert_int_equal(jint(s, "tests"), 5);
	assert_int_equal(jint(s, "skipped"), 2);
	assert_string_equal(jstr(json_object_get(s, "properties"), "verdict"), "PENDING");
	json_t *c = find_case(doc, "8.1 team-trained: Support team trained");
	assert_string_equal(jstr(c, "outcome"), "skipped");
	assert_string_equal(jstr(c, "message"), "pending attestation");
	c = find_case(doc, "8.1 runbook: Runbook reviewed");
	assert_string_equal(jstr(c, "outcome"), "pass");
	assert_contains(jstr(c, "system_out"),
	                "attested by Sam Lee at 2026-11-25T16:00:00Z: reviewed with on-call");
	assert_int_equal(count_of(xml, "message=\"pending attestation\""), 2);
	json_decref(doc);
	free(xml);
	result_release(&r);

	model_keep_going(&r);
	r.interrupted = 2;
	xml = junit_checked(&r, "keep-going.xml", &doc);
	assert_counts_consistent(doc);
	json_t *props = json_object_get(suite_at(doc, 1), "properties");
	assert_string_equal(jstr(props, "keep_going"), "true");
	assert_string_equal(jstr(props, "interrupted"), "2");
	assert_contains(xml, "--keep-going overrode the failure protocol");
	json_decref(doc);
	free(xml);
	result_release(&r);
}

static void test_junit_hostile(void **state)
{
	struct run_result r;
	json_t *doc;
	model_hostile(&r);
	/* a repeated id in one step still gives unique classname+name */
	struct res_step *st = &r.phases[0].steps[0];
	model_check(st, RK_CHECK, "evil", "Name " HOSTILE_IMG, RS_PASS, 0);
	char *xml = junit_checked(&r, "hostile.xml", &doc);
	assert_clean_bytes(xml, 1);
	assert_counts_consistent(doc);

	json_t *c = find_case(doc, "1.1 evil: Name " HOSTILE_IMG);
	assert_string_equal(jstr(c, "outcome"), "failure");
	const char *m = jstr(c, "message");
	/* the text survives, readable, with the unshowable bytes replaced */
	assert_contains(m, "ok\n# Injected heading\n- [x] forged item");
	assert_contains(m, "bell\xEF\xBF\xBD esc\xEF\xBF\xBD[31mred");
	assert_contains(m, HOSTILE_CDATA);
	assert_contains(jstr(c, "system_out"), "bad \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD( ");
	find_case(doc, "1.1 evil: Name " HOSTILE_IMG " (2)");
	/* an empty message still explains */
	c = find_case(doc, "1.1 metric-evil: Metric");
	assert_string_equal(jstr(c, "message"), "expectation not met");
	assert_string_equal(jstr(json_object_get(suite_at(doc, 0), "properties"), "environment"),
	                    "prod | " HOSTILE_LINK);
	assert_lacks(xml, "<script>");
	assert_lacks(xml, "<img");
	json_decref(doc);
	free(xml);
	result_release(&r);
}

/* ---- Markdown ---- */

static char *markdown_checked(const struct run_result *r, const char *name)
{
	char *path = work_path(name);
	struct pg_err e;
	if (report_markdown_write(r, path, &e) < 0)
		fail_msg("%s", e.msg);
	char *md = read_all(path);
	char *rendered = report_markdown_render(r);
	assert_string_equal(md, rendered);
	free(rendered);
	free(path);
	assert_clean_bytes(md, 0);
	return md;
}

static void test_markdown_four_phase(void **state)
{
	struct run_result r;
	model_four_phase(&r);
	char *md = markdown_checked(&r, "four.md");
	/* the first screen holds the verdict, the reason and the failure */
	assert_prefix(md, "# Go-live verdict: NO-GO\n\n**Why:** gate checkpoint-2.1 failed: "
	                  "check server-ready (All server pods ready): 2 of 3 replicas ready\n\n"
	                  "Nothing after the failed gate ran");
	assert_lacks(md, "WARNING: the failure protocol was overridden");
	assert_contains(md, "| Suite | argocd-stabilization — Argo CD stabilization |\n");
	assert_contains(md, "| Run ID | run-20261126-0910 |\n");
	assert_contains(md, "| Duration | 2m30.250s |\n");
	assert_contains(md, "| Selection | whole suite |\n");
	assert_contains(md, "| Checks | 11 total: 4 passed, 1 failed, 1 errors, 5 skipped, 0 "
	                    "pending, 0 interrupted, 0 not selected |");
	assert_contains(md, "| 1 — Pre-flight | PASS | 3 | 0 | 0 | 0 | 0 | 0 | 12.500s |\n"
	                    "| 2 — Component Deployment | ERROR | 1 | 1 | 1 | 1 | 0 | 0 | 1m35.125s |\n"
	                    "| 3 — Networking | SKIPPED | 0 | 0 | 0 | 2 | 0 | 0 | 0ms |\n"
	                    "| 4 — Go-live | SKIPPED | 0 | 0 | 0 | 2 | 0 | 0 | 0ms |\n");
	/* each outcome has its own mark */
	assert_contains(md,
	                "#### Step 2.1 — ArgoCD Server HA Deployment (ERROR)\n\n"
	                "Checkpoint checkpoint-2.1 — Checkpoint 2.1\n\n"
	                "- [x] ✅ action: Apply HA manifests\n"
	                "- [x] ✅ Server has 3 replicas\n"
	                "- [ ] ❌ **FAILED:** All server pods ready — 2 of 3 replicas ready\n"
	                "- [ ] ❗ **ERROR:** Server answers quickly — connection refused "
	                "(non-gating) — **TLS not verified**\n\n");
	assert_contains(md,
	                "- [ ] ⛔ Repo server ready — skipped: blocked by gate checkpoint-2.1\n");
	assert_contains(
	    md, "- [ ] ⛔ action: Apply ingress — skipped: blocked by gate checkpoint-2.1\n");
	/* what did not run, in one place */
	assert_contains(md, "## Not run\n\n- step 2.2 — Repo server: ⛔ 1 blocked by gate "
	                    "checkpoint-2.1\n");
	assert_lacks(md, "Events in argocd\n"); /* a collector is not a checklist item */

	assert_contains(md, "### FAILED: server-ready — All server pods ready\n\n"
	                    "- **Where:** phase 2, step 2.1, phases/02-components.yaml:41:7\n"
	                    "- **Kind:** mandatory check (gate), severity critical, module http\n"
	                    "- **Message:** 2 of 3 replicas ready\n");
	assert_contains(
	    md,
	    "- **Attempts:** 12\n"
	    "- **Remedy:** Check the pod events and the node resources\n\n"
	    "**Expected**\n\n```text\nstatus.readyReplicas == 3\n```\n\n"
	    "**Seen**\n\n```text\n2\n```\n\n"
	    "**Evidence: deployment as seen**\n\n```text\nreadyReplicas: 2\nreplicas: 3\n```\n\n"
	    "**Collected: events — events in argocd**\n\n"
	    "**Evidence: on\\_failure: events in argocd**\n\n```text\n"
	    "Warning FailedScheduling pod/argocd-server-2 0/3 nodes available\n```\n");
	assert_contains(md, "### ERROR: server-latency — Server answers quickly\n");
	assert_int_equal(count_of(md, "**Collected:"), 1);
	assert_contains(md, "## TLS warnings\n");
	assert_contains(md, "- server-latency — Server answers quickly\n");
	assert_contains(md, "| Metric | Target | Seen | Met |\n|---|---|---|---|\n"
	                    "| Sync success rate | &gt;= 99% | 99.7% | yes |\n"
	                    "| Uptime | 99.9% | — | not measured |\n");
	/* a NO-GO run still counts what is open, and what it never reached */
	assert_contains(md, "## Open sign-offs\n\n1 open: 0 manual checks pending, 1 approval "
	                    "unsigned.\n\n- [ ] ⏳ approval: Security (approve-sec)\n\n"
	                    "Not reached by this run");
	assert_contains(md, "- [ ] Support team trained (team-trained, phase 4, step 4.1)\n");
	assert_contains(md, "| Operations lead | Jane Doe | 2026-11-20 | signed | ok | unsigned |\n"
	                    "| Security |   |   | **open** |   |   |\n");
	/* the answer first: verdict, failure, open items, what did not run */
	assert_order(md, "# Go-live verdict", "## Failures\n");
	assert_order(md, "## Failures\n", "## Open sign-offs\n");
	assert_order(md, "## Open sign-offs\n", "## Not run\n");
	assert_order(md, "## Not run\n", "## Phases\n");
	assert_order(md, "## Phases\n", "## Run\n");
	assert_order(md, "## Run\n", "## Success metrics\n");
	assert_order(md, "## Success metrics\n", "## Checklist\n");
	assert_order(md, "## Checklist\n", "## Sign-off\n");
	assert_order(md, "### Phase 1 — Pre-flight (PASS)",
	             "### Phase 2 — Component Deployment (ERROR)");
	free(md);
	result_release(&r);
}

static void test_markdown_verdicts(void **state)
{
	struct run_result r;
	model_pending(&r);
	char *md = markdown_checked(&r, "pending.md");
	/* the count holds manual checks and approvals alike */
	assert_prefix(md, "# Go-live verdict: PENDING\n\n**Why:** every gate passed; 4 sign-offs "
	                  "are open (2 manual checks, 2 approvals)");
	assert_contains(md, "- [x] ✅ Runbook reviewed — attested by Sam Lee at "
	                    "2026-11-25T16:00:00Z: reviewed with on-call\n");
	assert_contains(md, "- [ ] ⏳ Support team trained — pending attestation\n");
	assert_contains(md, "## Open sign-offs\n\n4 open: 2 manual checks pending, 2 approvals "
	                    "unsigned.\n\n"
	                    "- [ ] ⏳ Support team trained (team-trained, phase 8, step 8.1)\n"
	                    "- [ ] ⏳ DR drill done (dr-drill, phase 8, step 8.1)\n"
	                    "- [ ] ⏳ approval: Security (approve-sec)\n"
	                    "- [ ] ⏳ approval: Product owner (approve-biz)\n\n## ");
	assert_contains(md, "| Product owner |   |   | **open** |   |   |\n");
	assert_lacks(md, "## Failures");
	free(md);
	result_release(&r);

	model_keep_going(&r);
	md = markdown_checked(&r, "keep-going.md");
	assert_order(md,
	             "> **WARNING: the failure protocol was overridden.** This run used "
	             "--keep-going",
	             "## Run\n");
	assert_contains(md, "| Failure protocol | **overridden by --keep-going** |\n");
	assert_contains(md,
	                "The run went on only because --keep-going overrode the failure protocol.");
	free(md);
	result_release(&r);

	/* GO, judged again once every sign-off is in */
	model_pending(&r);
	struct res_step *st = &r.phases[0].steps[0];
	st->checks[3].status = RS_PASS;
	st->checks[4].status = RS_PASS;
	for (size_t i = 0; i < r.napprovals; i++)
		r.approvals[i].attested = 1;
	verdict_judge(&r);
	md = markdown_checked(&r, "go.md");
	assert_prefix(md, "# Go-live verdict: GO\n\n**Why:** every gate of the whole suite passed "
	                  "and every sign-off is in");
	assert_contains(md, "## Open sign-offs\n\n0 open: 0 manual checks pending, 0 approvals "
	                    "unsigned.\n");
	free(md);
	result_release(&r);
}

static void test_markdown_warnings(void **state)
{
	struct run_result r;
	model_full(&r); /* interrupted, dry run, timed out, keep-going, a selection */
	char *md = markdown_checked(&r, "full.md");
	assert_order(md, "> **WARNING: the failure protocol was overridden.**",
	             "> **WARNING: interrupted.** The run was stopped by signal 15; the results "
	             "are incomplete.\n\n> **WARNING: timed out.**");
	assert_order(md, "> **Dry run.** No action changed anything", "## Run\n");
	assert_contains(md, "# Go-live verdict: NO-GO (interrupted)\n\n**Why:** the run was "
	                    "interrupted by SIGTERM");
	assert_contains(md, "| Selection | --phase 2 |\n");
	assert_contains(md, "| Interrupted | signal 15 |\n");
	assert_contains(md, "| Mode | dry run |\n");
	/* the first check of step 1.1 passed over TLS without verification */
	assert_contains(md, "- [x] ✅ API server reachable — attested by by at at: note — **TLS "
	                    "not verified**\n");
	assert_contains(md, "- api-reachable — API server reachable\n");
	free(md);
	result_release(&r);
}

static void test_markdown_hostile(void **state)
{
	struct run_result r;
	model_hostile(&r);
	char *md = markdown_checked(&r, "hostile.md");
	/* no markup from outside reaches the document */
	assert_lacks(md, "<script");
	assert_lacks(md, "<img");
	assert_lacks(md, "[click](javascript"); /* "\\[click\\](javascript" is inert */
	assert_lacks(md, "[click]");
	assert_lacks(md, "\n# Injected");
	assert_lacks(md, "\n- [x] forged");
	assert_lacks(md, "*bold*");
	assert_lacks(md, "_it_");
	assert_contains(md, "&lt;script&gt;alert(1)&lt;/script&gt;");
	assert_contains(md, "Step \\*bold\\* \\_it\\_ \\[click\\](javascript:alert(1))");
	assert_contains(md, "# Go-live verdict: NO-GO\n\n**Why:** gate gate-&lt;script&gt;");
	/* multi-line text stays on its line in lists and tables */
	assert_contains(
	    md, "- [ ] ❌ **FAILED:** Name &lt;img src=x onerror=alert(1)&gt; — ok # "
	        "Injected heading - \\[x\\] forged item \\| a \\| b \\| bell\xEF\xBF\xBD");
	assert_contains(md, "attested by Mallory &lt;script&gt;");
	assert_contains(md, ": note \\| with pipe and newline bad \xEF\xBF\xBD");
	assert_contains(md, "| m \\| &lt;img src=x onerror=alert(1)&gt; | &gt; 5 \\`code\\` | "
	                    "3 \\| x \\| | **no** |\n");
	assert_contains(md,
	                "| Role &lt;script&gt;alert(1)&lt;/script&gt; | By \\| \\[click\\]");
	assert_contains(md, "| signed | n # h | unsigned |\n");
	/* code blocks: a fence longer than any backtick run inside */
	assert_contains(md, "**Seen**\n\n`````text\nbefore\n````\nescaped?\n````\nafter\nbad ");
	assert_contains(md, "\n`````\n\n");
	assert_contains(md, "**Expected**\n\n```text\n]]> <![CDATA[ x ]]>\n```\n\n");
	/* the failure with an empty message still says something */
	assert_contains(md, "- [ ] ❌ **FAILED:** Metric — expectation not met\n");
	assert_contains(md,
	                "### FAILED: metric-evil — Metric\n\n- **Where:** phase 1, step 1.1\n"
	                "- **Kind:** mandatory check (gate), module http\n"
	                "- **Message:** expectation not met\n");
	assert_contains(md, "| Environment | prod \\| \\[click\\]");
	free(md);
	result_release(&r);
}

/* ---- JSON ---- */

static void test_json_report(void **state)
{
	struct run_result r, back;
	struct pg_err e;
	model_hostile(&r);
	char *path = work_path("results.json");
	assert_int_equal(report_json_write(&r, path, &e), 0);
	char *text = read_all(path);
	assert_contains(text, "{\n  \"schema_version\": 1,\n  \"tool_version\": \"0.1.0\",\n");
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(result_load_file(&back, path, &e), 0);
	json_t *a = result_to_json(&r), *b = result_to_json(&back);
	assert_true(json_equal(a, b) || strstr(text, "\\ufffd")); /* invalid UTF-8 was replaced */
	char *ra = report_markdown_render(&back);
	assert_contains(ra, "&lt;script&gt;alert(1)&lt;/script&gt;");
	free(ra);
	json_decref(a);
	json_decref(b);
	result_release(&back);
	free(text);
	free(path);
	result_release(&r);

	model_four_phase(&r);
	path = work_path("four.json");
	assert_int_equal(report_json_write(&r, path, &e), 0);
	assert_int_equal(result_load_file(&back, path, &e), 0);
	a = result_to_json(&r);
	b = result_to_json(&back);
	assert_true(json_equal(a, b));
	/* re-rendered from JSON, the reports are the same */
	char *m1 = report_markdown_render(&r), *m2 = report_markdown_render(&back);
	assert_string_equal(m1, m2);
	char *j1 = report_junit_render(&r), *j2 = report_junit_render(&back);
	assert_string_equal(j1, j2);
	free(m1);
	free(m2);
	free(j1);
	free(j2);
	json_decref(a);
	json_decref(b);
	result_release(&back);
	free(path);
	result_release(&r);
}

static void test_write_errors(void **state)
{
	struct run_result r;
	struct pg_err e;
	model_keep_going(&r);
	char *path = work_path("no-such-dir/report");
	e.msg[0] = 0;
	assert_int_equal(report_junit_write(&r, path, &e), -1);
	assert_contains(e.msg, "no-such-dir/report");
	e.msg[0] = 0;
	assert_int_equal(report_markdown_write(&r, path, &e), -1);
	assert_contains(e.msg, "No such file or directory");
	e.msg[0] = 0;
	assert_int_equal(report_json_write(&r, path, &e), -1);
	assert_contains(e.msg, "no-such-dir/report");
	free(path);
	result_release(&r);
}

/* The writers stream into their files: a write that fails part-way (a full
 * disk, here /dev/full, written straight through as a device) fails the
 * report with the reason, and a set with such a member changes no file:
 * the regular report beside it is neither created nor left as a temporary. */
static void test_stream_write_failure(void **state)
{
	struct run_result r;
	memset(&r, 0, sizeof(r));
	model_four_phase(&r);
	outfile_emit_fn emits[] = {report_junit_emit, report_markdown_emit, report_json_emit,
	                           report_html_emit};
	for (size_t i = 0; i < sizeof(emits) / sizeof(emits[0]); i++) {
		struct pg_err e = {{0}};
		struct outfile f = {.path = "/dev/full", .emit = emits[i], .arg = &r};
		assert_int_equal(outfile_write_set(&f, 1, &e), -1);
		assert_contains(e.msg, "cannot write '/dev/full'");
		assert_contains(e.msg, "No space left on device");
		char *good = work_path("stream-set.json");
		unlink(good);
		struct outfile set[] = {
		    {.path = good, .emit = report_json_emit, .arg = &r},
		    {.path = "/dev/full", .emit = emits[i], .arg = &r},
		};
		e.msg[0] = 0;
		assert_int_equal(outfile_write_set(set, 2, &e), -1);
		assert_contains(e.msg, "No space left on device");
		assert_int_equal(access(good, F_OK), -1);
		free(good);
	}
	/* what is streamed is what the in-memory rendering gives */
	char *path = work_path("stream.json");
	struct pg_err e;
	assert_int_equal(report_json_write(&r, path, &e), 0);
	char *text = read_all(path);
	char *mem = report_json_render(&r);
	assert_string_equal(text, mem);
	free(text);
	free(mem);
	free(path);
	result_release(&r);
}

/* ---- console ---- */

static struct res_check *grow_check(struct res_step *s)
{
	s->checks = xrealloc(s->checks, (s->nchecks + 1) * sizeof(*s->checks));
	memset(&s->checks[s->nchecks], 0, sizeof(*s->checks));
	return &s->checks[s->nchecks++];
}

/* Plays the run through the console as the scheduler would. */
static char *console_play(const struct run_result *r, int color, int tty, int verbose)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct console *c = console_new(f, color, tty, verbose);
	console_run_start(c, r);
	for (size_t p = 0; p < r->nphases; p++) {
		console_phase_start(c, &r->phases[p]);
		for (size_t s = 0; s < r->phases[p].nsteps; s++) {
			const struct res_step *st = &r->phases[p].steps[s];
			console_step_start(c, st);
			for (size_t k = 0; k < st->nchecks; k++) {
				console_progress(c, "waiting for it");
				console_check(c, &st->checks[k]);
			}
		}
	}
	console_run_end(c, r);
	console_note(c, "JUnit report: out/junit.xml");
	console_free(c);
	fclose(f);
	return text;
}

static void test_console_plain(void **state)
{
	struct run_result r;
	model_four_phase(&r);
	char *out = console_play(&r, 0, 0, 0);
	assert_lacks(out, "\033");
	assert_lacks(out, "\r");
	assert_lacks(out, "waiting for it");
	assert_prefix(out, "phasegate — suite argocd-stabilization — environment production "
	                   "— run run-20261126-0910\n\n▶ Phase 1 — Pre-flight\n"
	                   "  Step 1.1 — Cluster access\n"
	                   "    PASS  action label-ns  Label the argocd namespace  (200ms)\n"
	                   "    PASS  api-reachable  API server reachable  (120ms)\n");
	assert_contains(
	    out, "\n▶ Phase 2 — Component Deployment\n"
	         "  Step 2.1 — ArgoCD Server HA Deployment\n"
	         "    PASS  action apply-ha  Apply HA manifests  (3.500s)\n"
	         "    PASS  server-replicas  Server has 3 replicas  (300ms)\n"
	         "    FAIL  server-ready  All server pods ready  (1m) after 12 attempts\n"
	         "        2 of 3 replicas ready\n"
	         "        remedy: Check the pod events and the node resources\n"
	         "    ERROR server-latency  Server answers quickly  (5s) [TLS not verified] "
	         "(non-gating)\n"
	         "        connection refused\n"
	         "    collected events: events in argocd\n"
	         "  Step 2.2 — Repo server\n"
	         "    SKIP  repo-ready  Repo server ready — blocked by gate checkpoint-2.1\n");
	assert_contains(out, "    SKIP  action apply-ingress  Apply ingress — blocked by gate "
	                     "checkpoint-2.1\n");
	/* the totals say what ran: checks and actions */
	assert_contains(out,
	                "\n11 checks: 4 passed, 1 failed, 1 errors, 5 skipped, 0 pending; 2 actions "
	                "ran\n"
	                "NO-GO — gate checkpoint-2.1 failed: check server-ready (All server pods "
	                "ready): 2 of 3 replicas ready\n"
	                "JUnit report: out/junit.xml\n");
	assert_lacks(out, "readyReplicas: 2"); /* evidence only when verbose */
	assert_lacks(out, "keep-going");
	free(out);

	out = console_play(&r, 0, 0, 1);
	assert_contains(out, "        2 of 3 replicas ready\n"
	                     "        expected: status.readyReplicas == 3\n"
	                     "        seen: 2\n"
	                     "        remedy: Check the pod events and the node resources\n"
	                     "        evidence: deployment as seen\n"
	                     "          readyReplicas: 2\n"
	                     "          replicas: 3\n");
	assert_contains(out,
	                "        GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server\n");
	free(out);
	result_release(&r);
}

static void test_console_tty_colour(void **state)
{
	struct run_result r;
	model_keep_going(&r);
	char *out = console_play(&r, 1, 1, 0);
	/* a progress line, then erased by the next line */
	assert_contains(out, "\r\033[Kwaiting for it\r\033[K    \033[31m✗\033[0m api-reachable");
	assert_contains(out, "\033[32m✓\033[0m server-ready");
	assert_contains(out, "NO-GO — gate checkpoint-1.1 failed: check api-reachable (API "
	                     "reachable): HTTP 503\033[0m (protocol overridden by --keep-going)\n");
	assert_contains(out, "WARNING: --keep-going overrides the failure protocol");
	free(out);
	out = console_play(&r, 0, 0, 0);
	assert_contains(out, "NO-GO — gate checkpoint-1.1 failed: check api-reachable (API "
	                     "reachable): HTTP 503 (protocol overridden by --keep-going)\n");
	free(out);
	result_release(&r);

	model_pending(&r);
	out = console_play(&r, 0, 0, 0);
	assert_contains(out,
	                "    PEND  team-trained  Support team trained — pending attestation\n");
	assert_contains(out, "    PASS  runbook  Runbook reviewed — attested by Sam Lee  (0ms)\n");
	assert_contains(out, "\nPENDING — every gate passed; 4 sign-offs are open (2 manual "
	                     "checks, 2 approvals)\n");
	free(out);
	for (size_t i = 0; i < r.phases[0].steps[0].nchecks; i++)
		r.phases[0].steps[0].checks[i].status = RS_PASS;
	for (size_t i = 0; i < r.napprovals; i++)
		r.approvals[i].attested = 1;
	verdict_judge(&r);
	out = console_play(&r, 0, 0, 0);
	assert_contains(out, "\nGO — every gate of the whole suite passed and every sign-off is "
	                     "in\n");
	free(out);
	result_release(&r);
}

static void test_console_hostile(void **state)
{
	struct run_result r;
	model_hostile(&r);
	char *out = console_play(&r, 0, 1, 1);
	/* the only escapes are the console's own progress erasures */
	char *p = out;
	while ((p = strstr(p, "\r\033[K")))
		memmove(p, p + 4, strlen(p + 4) + 1);
	assert_clean_bytes(out, 0);
	assert_contains(out, "    FAIL  evil  Name <img src=x onerror=alert(1)>  (1s)\n"
	                     "        bell");
	assert_contains(out, "end\n        ok\n        # Injected heading\n");
	assert_contains(out, "bell\xEF\xBF\xBD esc\xEF\xBF\xBD[31mred\xEF\xBF\xBD[0m");
	free(out);
	result_release(&r);
}

/* A model with nothing filled in: every writer copes with NULL text. */
static void test_empty_model(void **state)
{
	struct run_result r;
	json_t *doc;
	memset(&r, 0, sizeof(r));
	struct res_phase *p = model_phase(&r, "1", NULL, 0);
	struct res_step *s = model_step(p, "1.1", NULL, NULL);
	struct res_check *k = grow_check(s);
	k->status = RS_FAIL;
	k->gate = 1;
	verdict_judge(&r);
	char *xml = junit_checked(&r, "empty.xml", &doc);
	assert_contains(xml, "<testcase name=\"1.1 ?\" classname=\"suite / phase 1\" "
	                     "time=\"0.000\">");
	assert_contains(xml,
	                "<failure message=\"expectation not met\" type=\"AssertionFailure\"/>");
	json_decref(doc);
	free(xml);
	char *md = markdown_checked(&r, "empty.md");
	assert_prefix(md, "# Go-live verdict: NO-GO\n\n**Why:** check ? (?) failed: it did not "
	                  "pass\n");
	free(md);
	char *out = console_play(&r, 1, 1, 1);
	assert_contains(out, "phasegate\033[0m — suite ?\n");
	free(out);
	result_release(&r);
}

/* Runs last: every write above went through a temporary file that was
 * renamed (or removed on failure), so none is left behind. */
static void test_no_temp_files_left(void **state)
{
	DIR *d = opendir(workdir);
	assert_non_null(d);
	size_t files = 0;
	for (struct dirent *de = readdir(d); de; de = readdir(d)) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		if (strstr(de->d_name, ".tmp"))
			fail_msg("temporary file left behind: %s", de->d_name);
	}
	closedir(d);
	assert_true(files >= 10);
}

static int setup(void **state)
{
	const char *base = getenv("PG_REPORTS_TMP");
	if (base && *base) {
		if (mkdir(base, 0755) < 0 && errno != EEXIST)
			return -1;
		workdir = xstrdup(base);
	} else {
		char tmpl[] = "/tmp/pg-reports-XXXXXX";
		if (!mkdtemp(tmpl))
			return -1;
		workdir = xstrdup(tmpl);
	}
	return 0;
}

static int teardown(void **state)
{
	free(workdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean_text_exact),
	    cmocka_unit_test(test_junit_four_phase),
	    cmocka_unit_test(test_junit_pending_and_keep_going),
	    cmocka_unit_test(test_junit_hostile),
	    cmocka_unit_test(test_markdown_four_phase),
	    cmocka_unit_test(test_markdown_verdicts),
	    cmocka_unit_test(test_markdown_hostile),
	    cmocka_unit_test(test_json_report),
	    cmocka_unit_test(test_write_errors),
	    cmocka_unit_test(test_stream_write_failure),
	    cmocka_unit_test(test_console_plain),
	    cmocka_unit_test(test_console_tty_colour),
	    cmocka_unit_test(test_console_hostile),
	    cmocka_unit_test(test_empty_model),
	    cmocka_unit_test(test_markdown_warnings),
	    cmocka_unit_test(test_no_temp_files_left),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
