/* test_k8s_api.c - the pieces of the k8s module's API client that need no
 * server: kubectl-style resource name resolution over a discovery cache
 * filled by the test, URL paths, label selectors from LabelSelector
 * objects, RFC 3339 times, query escaping, and SHA-256 (the backup
 * manifest) against the FIPS 180-4 test vectors. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "k8s_api.h"
#include "k8s_yaml.h"
#include "node.h"

static void add(struct k8s_client *c, const char *group, const char *version, const char *plural,
                const char *singular, const char *kind, int namespaced, const char *s1,
                const char *s2)
{
	struct k8s_res *r = xcalloc(1, sizeof(*r));
	r->group = xstrdup(group);
	r->version = xstrdup(version);
	r->plural = xstrdup(plural);
	r->singular = xstrdup(singular);
	r->kind = xstrdup(kind);
	r->namespaced = namespaced;
	r->preferred = strcmp(version, "v1alpha1") != 0 &&
	               !(strcmp(group, "autoscaling") == 0 && strcmp(version, "v1") == 0);
	r->short_names = xcalloc(3, sizeof(char *));
	if (s1)
		r->short_names[0] = xstrdup(s1);
	if (s2)
		r->short_names[1] = xstrdup(s2);
	c->res = xrealloc(c->res, (c->nres + 1) * sizeof(*c->res));
	c->res[c->nres++] = r;
}

/* A client whose discovery is already done (no server is contacted). */
static int setup(void **state)
{
	struct k8s_client *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->gv_seen = json_object();
	c->gv_failed = json_object();
	c->groups = json_object();
	c->kc_error = xstrdup("no configuration in this test");
	c->discovered = 1;
	c->all_versions = 1;
	c->discovered_at = LLONG_MAX; /* never read again */
	add(c, "", "v1", "pods", "pod", "Pod", 1, "po", NULL);
	add(c, "", "v1", "services", "service", "Service", 1, "svc", NULL);
	add(c, "", "v1", "namespaces", "namespace", "Namespace", 0, "ns", NULL);
	add(c, "", "v1", "events", "event", "Event", 1, "ev", NULL);
	add(c, "apps", "v1", "deployments", "deployment", "Deployment", 1, "deploy", NULL);
	add(c, "events.k8s.io", "v1", "events", "event", "Event", 1, "ev", NULL);
	add(c, "argoproj.io", "v1alpha1", "applications", "application", "Application", 1, "app",
	    "apps");
	add(c, "monitoring.coreos.com", "v1", "servicemonitors", "servicemonitor", "ServiceMonitor",
	    1, "smon", NULL);
	/* autoscaling serves v2 (preferred) and v1; AlertmanagerConfig only
	 * a version that is not its group's preferred one */
	add(c, "autoscaling", "v1", "horizontalpodautoscalers", "horizontalpodautoscaler",
	    "HorizontalPodAutoscaler", 1, "hpa", NULL);
	add(c, "autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
	    "HorizontalPodAutoscaler", 1, "hpa", NULL);
	add(c, "monitoring.coreos.com", "v1alpha1", "alertmanagerconfigs", "alertmanagerconfig",
	    "AlertmanagerConfig", 1, "amcfg", NULL);
	json_object_set_new(c->gv_seen, "apps/v1", json_true());
	json_object_set_new(c->gv_seen, "v1", json_true());
	json_object_set_new(c->gv_seen, "autoscaling/v1", json_true());
	json_object_set_new(c->gv_seen, "autoscaling/v2", json_true());
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct k8s_client *c = *state;
	k8s_client_release(c);
	free(c);
	return 0;
}

static const struct k8s_res *resolve_ok(struct k8s_client *c, const char *type, const char *av)
{
	const struct k8s_res *r = NULL;
	char *err = NULL;
	if (k8s_resolve(c, NULL, type, av, &r, &err) != 0)
		fail_msg("'%s' did not resolve: %s", type, err);
	return r;
}

static void test_resolve_names(void **state)
{
	struct k8s_client *c = *state;
	const char *forms[] = {"deploy",          "deployment",        "deployments",
	                       "Deployment",      "DEPLOYMENTS",       "deployments.apps",
	                       "deployment.apps", "deployment.v1.apps"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct k8s_res *r = resolve_ok(c, forms[i], NULL);
		assert_string_equal(r->plural, "deployments");
		assert_string_equal(r->group, "apps");
	}
	assert_string_equal(resolve_ok(c, "po", NULL)->plural, "pods");
	assert_string_equal(resolve_ok(c, "svc", NULL)->kind, "Service");
	assert_int_equal(resolve_ok(c, "ns", NULL)->namespaced, 0);
	/* Argo CD's short names: "apps" is an Application, not the apps group */
	assert_string_equal(resolve_ok(c, "app", NULL)->kind, "Application");
	assert_string_equal(resolve_ok(c, "apps", NULL)->kind, "Application");
	assert_string_equal(resolve_ok(c, "servicemonitor", NULL)->group, "monitoring.coreos.com");
	/* the core group comes first, like kubectl; a group picks the other */
	assert_string_equal(resolve_ok(c, "events", NULL)->group, "");
	assert_string_equal(resolve_ok(c, "events.events.k8s.io", NULL)->group, "events.k8s.io");
	/* kind + apiVersion */
	assert_string_equal(resolve_ok(c, "Deployment", "apps/v1")->plural, "deployments");
	assert_string_equal(resolve_ok(c, "Pod", "v1")->plural, "pods");
}

static void test_resolve_unknown(void **state)
{
	struct k8s_client *c = *state;
	const struct k8s_res *r = NULL;
	char *err = NULL;
	assert_int_equal(k8s_resolve(c, NULL, "deploymnt", NULL, &r, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err, "no resource type 'deploymnt'"));
	assert_non_null(strstr(err, "kubectl api-resources"));
	free(err);
	/* a known name in the wrong group is unknown */
	assert_int_equal(k8s_resolve(c, NULL, "deployments.batch", NULL, &r, &err), -1);
	free(err);
}

/* Issue 13 item 2: every served version is known; the preferred one wins
 * unless an apiVersion names another; a kind served only in a version
 * that is not preferred is found. */
static void test_resolve_versions(void **state)
{
	struct k8s_client *c = *state;
	assert_string_equal(resolve_ok(c, "hpa", NULL)->version, "v2");
	assert_string_equal(resolve_ok(c, "HorizontalPodAutoscaler", "autoscaling/v1")->version,
	                    "v1");
	assert_string_equal(resolve_ok(c, "HorizontalPodAutoscaler", "autoscaling/v2")->version,
	                    "v2");
	assert_string_equal(resolve_ok(c, "hpa.v1.autoscaling", NULL)->version, "v1");
	assert_string_equal(resolve_ok(c, "AlertmanagerConfig", NULL)->version, "v1alpha1");
	char *p =
	    k8s_path(resolve_ok(c, "HorizontalPodAutoscaler", "autoscaling/v1"), "x", "y", NULL);
	assert_string_equal(p, "/apis/autoscaling/v1/namespaces/x/horizontalpodautoscalers/y");
	free(p);
}

/* Issue 13 item 1: a group version that failed discovery is named in the
 * error of a lookup that misses; the rest keeps working. */
static void test_resolve_partial(void **state)
{
	struct k8s_client *c = *state;
	json_object_set_new(
	    c->gv_failed, "metrics.k8s.io/v1beta1",
	    json_string("discovery GET /apis/metrics.k8s.io/v1beta1: the API server "
	                "failed with 503: service unavailable"));
	assert_string_equal(resolve_ok(c, "deploy", NULL)->group, "apps");
	const struct k8s_res *r = NULL;
	char *err = NULL;
	assert_int_equal(k8s_resolve(c, NULL, "podmetrics", NULL, &r, &err), -1);
	assert_non_null(strstr(err, "no resource type 'podmetrics'"));
	assert_non_null(strstr(err, "discovery failed for metrics.k8s.io/v1beta1"));
	assert_non_null(strstr(err, "503: service unavailable"));
	free(err);
}

static void test_paths(void **state)
{
	struct k8s_client *c = *state;
	char *p = k8s_path(resolve_ok(c, "deploy", NULL), "argocd", "argocd-server", NULL);
	assert_string_equal(p, "/apis/apps/v1/namespaces/argocd/deployments/argocd-server");
	free(p);
	p = k8s_path(resolve_ok(c, "pods", NULL), NULL, NULL, "labelSelector=a%3Db");
	assert_string_equal(p, "/api/v1/pods?labelSelector=a%3Db");
	free(p);
	/* cluster-scoped: the namespace is not part of the path */
	p = k8s_path(resolve_ok(c, "ns", NULL), "ignored", "argocd", NULL);
	assert_string_equal(p, "/api/v1/namespaces/argocd");
	free(p);
	char *q = k8s_res_qualified(resolve_ok(c, "app", NULL));
	assert_string_equal(q, "applications.argoproj.io");
	free(q);
	q = k8s_qesc("app.kubernetes.io/name in (a, b)");
	assert_string_equal(q, "app.kubernetes.io%2Fname%20in%20%28a%2C%20b%29");
	free(q);
}

static void test_selector_string(void **state)
{
	json_error_t je;
	json_t *sel =
	    json_loads("{\"matchLabels\": {\"app\": \"web\", \"tier\": \"front\"},"
	               " \"matchExpressions\": ["
	               "  {\"key\": \"env\", \"operator\": \"In\", \"values\": [\"a\", \"b\"]},"
	               "  {\"key\": \"zone\", \"operator\": \"NotIn\", \"values\": [\"x\"]},"
	               "  {\"key\": \"canary\", \"operator\": \"Exists\"},"
	               "  {\"key\": \"legacy\", \"operator\": \"DoesNotExist\"}]}",
	               0, &je);
	assert_non_null(sel);
	char *s = k8s_selector_string(sel);
	assert_string_equal(s, "app=web,tier=front,env in (a,b),zone notin (x),canary,!legacy");
	free(s);
	json_decref(sel);
	sel = json_object();
	assert_null(k8s_selector_string(sel)); /* selects nothing: say so, do not list all */
	json_decref(sel);
}

static void test_times(void **state)
{
	assert_true(k8s_time("1970-01-01T00:01:00Z") == 60.0);
	assert_true(k8s_time("2026-11-26T09:00:00Z") == 1795683600.0);
	assert_true(k8s_time("2026-11-26T10:00:00+01:00") == 1795683600.0);
	double t = k8s_time("2026-11-26T09:00:00.250000Z");
	assert_true(t > 1795683600.24 && t < 1795683600.26);
	assert_true(k8s_time("yesterday") == 0);
	assert_true(k8s_time(NULL) == 0);
}

static void test_sha256(void **state)
{
	char hex[65];
	sha256_hex("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
	sha256_hex(two, strlen(two), hex);
	assert_string_equal(hex,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	size_t n = 1000000;
	char *a = xmalloc(n);
	memset(a, 'a', n);
	sha256_hex(a, n, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
	/* the 55/56/64-byte padding edges */
	char b[64];
	memset(b, 'x', sizeof(b));
	sha256_hex(b, 55, hex);
	assert_int_equal(strlen(hex), 64);
	char h56[65], h64[65];
	sha256_hex(b, 56, h56);
	sha256_hex(b, 64, h64);
	assert_string_not_equal(h56, h64);
	assert_string_not_equal(hex, h56);
}

/* The backup's YAML reads back (with phasegate's own YAML loader) as the
 * very object that was written, whatever the keys and strings hold. */
static void roundtrip(const char *jsontext)
{
	json_error_t je;
	json_t *in = json_loads(jsontext, 0, &je);
	if (!in)
		fail_msg("bad test JSON: %s", je.text);
	struct buf b;
	buf_init(&b, 0);
	k8s_yaml(&b, in);
	struct diags d;
	diags_init(&d);
	struct node_limits lim = node_limits_default();
	struct node *n = NULL;
	if (node_load_string("export.yaml", buf_str(&b), b.len, &lim, &n, &d) != 0)
		fail_msg("YAML does not load (%s):\n%s", d.n ? d.v[0].msg : "?", buf_str(&b));
	json_t *back = node_to_json(n);
	if (!json_equal(in, back)) {
		char *t = json_dumps(back, JSON_COMPACT);
		fail_msg("round trip changed the object:\n%s\nread back as %s", buf_str(&b), t);
	}
	json_decref(back);
	node_free(n);
	diags_release(&d);
	buf_release(&b);
	json_decref(in);
}

static void test_yaml_roundtrip(void **state)
{
	roundtrip(
	    "{\"apiVersion\": \"argoproj.io/v1alpha1\", \"kind\": \"Application\","
	    " \"metadata\": {\"name\": \"api\", \"labels\": {\"app.kubernetes.io/name\": \"x\"},"
	    "  \"annotations\": {\"argocd.argoproj.io/refresh\": \"hard\"}},"
	    " \"spec\": {\"syncPolicy\": {\"automated\": {\"prune\": true, \"selfHeal\": false},"
	    "  \"syncOptions\": [\"CreateNamespace=true\"], \"retry\": {\"limit\": 5}},"
	    "  \"sources\": [{\"repoURL\": \"https://git.example/x.git\", \"path\": \"k8s\","
	    "    \"helm\": {\"values\": \"a: 1\\nb: [2]\\n\"}}, {}],"
	    "  \"ignoreDifferences\": [], \"info\": {}, \"weight\": 1.5, \"none\": null}}");
	/* strings YAML would read as other types, odd keys, nesting, text */
	roundtrip(
	    "{\"data\": {\"true\": \"yes\", \"null\": \"~\", \"0123\": \"0x1F\", \"\": \"\","
	    " \"-dash\": \"- item\", \"k: v\": \"#not a comment\", \"*star\": \"&anchor\","
	    " \"t\\tab\": \"line1\\nline2\\r\\u0001\", \"uni\": \"gr\u00fc\u00df \u2713\","
	    " \"quote\": \"say \\\"hi\\\" 'x' \\\\ / \", \"num\": \"1e3\", \"on\": \"off\"},"
	    " \"lists\": [[1, [2, 3]], [{\"a\": [ {\"b\": {\"c\": [true]}} ]}], \"x\", -1, 0.25]}");
}

/* Issue 10: keys and values that a YAML 1.1 reader (PyYAML, kubectl's
 * go-yaml) would turn into booleans or numbers are quoted, so a restore
 * gives back strings; other strings stay plain and readable. */
static void test_yaml_11_quoting(void **state)
{
	json_t *in = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "data", "True", "NO",
	                       "Off", "y", "on", "0644", "n", "1_000", "~", "+1", "plain",
	                       "text with: colon", ".inf", "=");
	struct buf b;
	buf_init(&b, 0);
	k8s_yaml(&b, in);
	const char *t = buf_str(&b);
	static const char *const want[] = {"\"True\": \"NO\"", "\"Off\": \"y\"",
	                                   "\"on\": \"0644\"", "\"n\": \"1_000\"",
	                                   "\"~\": \"+1\"",    "plain: 'text with: colon'",
	                                   "\".inf\": \"=\""};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(t, want[i]))
			fail_msg("'%s' not in:\n%s", want[i], t);
	assert_non_null(strstr(t, "data:\n"));
	buf_release(&b);
	json_decref(in);
}

/* Issue 13 item 6: manifests are read with kubectl's YAML 1.1 integers. */
static void test_manifest_yaml11_ints(void **state)
{
	char path[] = "/tmp/pg-manifest-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *doc = "apiVersion: v1\nkind: ConfigMap\nspec:\n"
	                  "  a: 0644\n  b: 0o17\n  c: 0b101\n  d: 1_000\n  e: '0644'\n"
	                  "  f: 0x1F\n  g: 12\n  h: 0\n  i: -010\n  j: [0400, \"0400\"]\n"
	                  "---\n# comments only\n---\nkind: List\nitems: [{kind: A, m: 0755}]\n";
	assert_int_equal(write(fd, doc, strlen(doc)), (int)strlen(doc));
	close(fd);
	json_t *out = json_array();
	char *err = NULL;
	assert_int_equal(k8s_load_manifests(path, out, &err), 0);
	unlink(path);
	assert_int_equal(json_array_size(out), 2);
	json_t *spec = json_object_get(json_array_get(out, 0), "spec");
	assert_int_equal(json_integer_value(json_object_get(spec, "a")), 420);
	assert_int_equal(json_integer_value(json_object_get(spec, "b")), 15);
	assert_int_equal(json_integer_value(json_object_get(spec, "c")), 5);
	assert_int_equal(json_integer_value(json_object_get(spec, "d")), 1000);
	assert_string_equal(json_string_value(json_object_get(spec, "e")), "0644");
	assert_int_equal(json_integer_value(json_object_get(spec, "f")), 31);
	assert_int_equal(json_integer_value(json_object_get(spec, "g")), 12);
	assert_int_equal(json_integer_value(json_object_get(spec, "h")), 0);
	assert_int_equal(json_integer_value(json_object_get(spec, "i")), -8);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(spec, "j"), 0)), 256);
	assert_string_equal(json_string_value(json_array_get(json_object_get(spec, "j"), 1)),
	                    "0400");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "m")), 493);
	json_decref(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_resolve_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resolve_partial, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
	    cmocka_unit_test(test_selector_string),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_sha256),
	    cmocka_unit_test(test_yaml_roundtrip),
	    cmocka_unit_test(test_yaml_11_quoting),
	    cmocka_unit_test(test_manifest_yaml11_ints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
