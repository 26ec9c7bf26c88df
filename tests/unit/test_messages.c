/* test_messages.c - the message table: for every module, what a failed
 * default expectation says names the cause in words (exit code and stderr,
 * "connection refused by HOST:PORT", "no such file", the HTTP status, the
 * DNS rcode, what Prometheus showed), never an internal jq program. The
 * local modules run for real; the network ones summarise facts shaped as
 * they produce them. */
// clang-format off: cmocka needs these first
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "module.h"
#include "node.h"

struct row {
	const char *module;
	const char *config;      /* YAML config to run for real, or NULL */
	const char *facts;       /* JSON facts to summarise, when config is NULL */
	const char *const *want; /* every one must appear in the sentence */
};

static json_t *run_for_facts(const struct check_module *m, const char *yaml)
{
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	struct diags d;
	void *priv = NULL;
	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", yaml, strlen(yaml), &lim, &root, &d), 0);
	assert_int_equal(m->parse(root, NULL, &priv, &d), 0);
	node_free(root);
	diags_release(&d);
	struct check_ctx *ctx = ctx_new_for_test("/", 5000, NULL, NULL);
	struct check_out out;
	memset(&out, 0, sizeof(out));
	m->run(priv, ctx, &out);
	ctx_free_for_test(ctx);
	m->free(priv);
	json_t *f = json_incref(out.facts);
	check_out_release(&out);
	assert_non_null(f);
	return f;
}

/* The default expectation must fail on these facts, and the sentence the
 * module says instead must hold every wanted word and no jq. */
static void check_row(const struct row *r)
{
	const struct check_module *m = module_find(r->module);
	assert_non_null(m);
	assert_non_null(m->summarize);
	json_t *f = r->config ? run_for_facts(m, r->config) : json_loads(r->facts, 0, NULL);
	assert_non_null(f);
	struct expect *ex = NULL;
	struct pg_err e;
	assert_int_equal(expect_compile_jq(m->default_expect, &ex, &e), 0);
	struct expect_verdict v;
	expect_judge(ex, f, &v);
	if (v.pass)
		fail_msg("%s: the default expectation passed on %s", r->module,
		         r->config ? r->config : r->facts);
	char *said = m->summarize(f);
	assert_non_null(said);
	for (const char *const *w = r->want; *w; w++)
		if (!strstr(said, *w))
			fail_msg("%s: '%s' does not say '%s'", r->module, said, *w);
	if (strstr(said, "jq") || strstr(said, "=="))
		fail_msg("%s: '%s' shows an internal program", r->module, said);
	printf("%-11s %s\n", r->module, said);
	free(said);
	expect_verdict_release(&v);
	expect_free(ex);
	json_decref(f);
}

static void test_message_table(void **state)
{
	(void)state;
	static const char *const exec_w[] = {"exited with code 3", "stderr:", "disk is full", NULL};
	static const char *const tcp_w[] = {"connection refused by 127.0.0.1:", NULL};
	static const char *const file_w[] = {"no such file", "/nonexistent/phasegate-backup", NULL};
	static const char *const http_w[] = {"HTTP 503", "https://argocd.example/healthz", NULL};
	static const char *const dns_w[] = {"argocd.example.org", "does not exist", "NXDOMAIN",
	                                    NULL};
	static const char *const prom_w[] = {"0 samples", NULL};
	static const char *const rules_w[] = {"25 rules, 2 unhealthy", NULL};
	static const char *const alerts_w[] = {"3 alert(s) firing", NULL};
	const struct row rows[] = {
	    {"exec", "argv: [sh, -c, 'echo step one >&2; echo disk is full >&2; exit 3']", NULL,
	     exec_w},
	    {"tcp", "{host: 127.0.0.1, port: 1, timeout: 2s}", NULL, tcp_w},
	    {"file", "{path: /nonexistent/phasegate-backup}", NULL, file_w},
	    {"http", NULL,
	     "{\"url\": \"https://argocd.example/healthz\", \"method\": \"GET\", \"status\": 503}",
	     http_w},
	    {"dns", NULL,
	     "{\"name\": \"argocd.example.org\", \"type\": \"A\", \"rcode\": \"NXDOMAIN\", "
	     "\"count\": 0, \"explain\": \"the name does not exist (NXDOMAIN)\"}",
	     dns_w},
	    {"prometheus", NULL, "{\"url\": \"http://m:9090/metrics\", \"samples\": 0}", prom_w},
	    {"prometheus", NULL, "{\"rules_total\": 25, \"unhealthy\": 2}", rules_w},
	    {"prometheus", NULL, "{\"firing\": 3, \"alerts\": []}", alerts_w},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* Numbers print as written in the suite, not as the nearest double. */
static void test_numbers_as_written(void **state)
{
	(void)state;
	const char *yaml = "- {path: ratio, ge: 0.9}\n";
	struct node_limits lim = node_limits_default();
	struct node *root = NULL;
	struct diags d;
	struct expect *ex = NULL;
	diags_init(&d);
	assert_int_equal(node_load_string("t.yaml", yaml, strlen(yaml), &lim, &root, &d), 0);
	assert_int_equal(expect_compile(root, &ex, &d), 0);
	json_t *f = json_pack("{s:f}", "ratio", 0.5);
	struct expect_verdict v;
	expect_judge(ex, f, &v);
	assert_false(v.pass);
	assert_non_null(strstr(v.message, "0.9"));
	assert_null(strstr(v.message, "0.90000"));
	assert_null(strstr(v.expected, "0.90000"));
	expect_verdict_release(&v);
	json_decref(f);
	expect_free(ex);
	node_free(root);
	diags_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_message_table),
	    cmocka_unit_test(test_numbers_as_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
