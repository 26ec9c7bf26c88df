/* test_kube_rules.c - Argo CD's health verdicts over its own test corpus
 * (shared/reference/k8s-health/expected.tsv), and kubectl's rollout rules
 * for every branch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_rules.h"
#include "node.h"

static json_t *load_yaml(const char *path)
{
	struct diags d;
	diags_init(&d);
	struct node *n = NULL;
	if (node_load_file(path, NULL, &n, &d) != 0) {
		diags_print(&d, stderr);
		diags_release(&d);
		return NULL;
	}
	diags_release(&d);
	json_t *j = node_to_json(n);
	node_free(n);
	return j;
}

static void test_health_corpus(void **state)
{
	const char *shared = getenv("PG_SHARED_DIR");
	assert_non_null(shared);
	char *tsv = xasprintf("%s/reference/k8s-health/expected.tsv", shared);
	FILE *f = fopen(tsv, "r");
	assert_non_null(f);
	char line[512];
	int n = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *tab = strchr(line, '\t');
		if (!tab || strcmp(line, "file\texpected_health") == 0)
			continue;
		*tab = 0;
		char *path = xasprintf("%s/reference/k8s-health/%s", shared, line);
		json_t *obj = load_yaml(path);
		assert_non_null(obj);
		char *msg = NULL;
		const char *got = kube_health(obj, &msg);
		if (strcmp(got, tab + 1) != 0) {
			fprintf(stderr, "%s: expected %s, got %s (%s)\n", line, tab + 1, got, msg);
			bad++;
		}
		n++;
		free(msg);
		json_decref(obj);
		free(path);
	}
	fclose(f);
	free(tsv);
	assert_true(n >= 38);
	assert_int_equal(bad, 0);
}

static enum kube_rollout ro(const char *json, char **msg)
{
	json_error_t err;
	json_t *o = json_loads(json, 0, &err);
	assert_non_null(o);
	enum kube_rollout r = kube_rollout_status(o, 0, msg);
	json_decref(o);
	return r;
}

static void expect_rollout(const char *json, enum kube_rollout want, const char *fragment)
{
	char *msg = NULL;
	enum kube_rollout got = ro(json, &msg);
	if (got != want || !strstr(msg, fragment))
		fprintf(stderr, "rollout of %s: %s / %s\n", json, kube_rollout_name(got), msg);
	assert_int_equal(got, want);
	assert_non_null(strstr(msg, fragment));
	free(msg);
}

static void test_deployment_rollout(void **state)
{
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":3},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2}}",
		       KUBE_ROLLOUT_WAIT, "spec update to be observed");
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2,\"updatedReplicas\":3,"
		       "\"replicas\":3,\"availableReplicas\":1,\"conditions\":[{\"type\":\"Progressing\","
		       "\"status\":\"False\",\"reason\":\"ProgressDeadlineExceeded\"}]}}",
		       KUBE_ROLLOUT_FAILED, "exceeded its progress deadline");
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2,\"updatedReplicas\":1,"
		       "\"replicas\":3}}",
		       KUBE_ROLLOUT_WAIT, "1 out of 3 new replicas have been updated");
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2,\"updatedReplicas\":3,"
		       "\"replicas\":4}}",
		       KUBE_ROLLOUT_WAIT, "1 old replicas are pending termination");
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2,\"updatedReplicas\":3,"
		       "\"replicas\":3,\"availableReplicas\":2}}",
		       KUBE_ROLLOUT_WAIT, "2 of 3 updated replicas are available");
	expect_rollout("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":2},"
		       "\"spec\":{\"replicas\":3},\"status\":{\"observedGeneration\":2,\"updatedReplicas\":3,"
		       "\"replicas\":3,\"availableReplicas\":3}}",
		       KUBE_ROLLOUT_DONE, "deployment \"d\" successfully rolled out");
}

static void test_revision_pin(void **state)
{
	json_t *o = json_loads("{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\",\"generation\":1,"
			       "\"annotations\":{\"deployment.kubernetes.io/revision\":\"4\"}},"
			       "\"spec\":{\"replicas\":1},\"status\":{\"observedGeneration\":1,"
			       "\"updatedReplicas\":1,\"replicas\":1,\"availableReplicas\":1}}",
			       0, NULL);
	char *msg = NULL;
	assert_int_equal(kube_rollout_status(o, 4, &msg), KUBE_ROLLOUT_DONE);
	free(msg);
	assert_int_equal(kube_rollout_status(o, 5, &msg), KUBE_ROLLOUT_FAILED);
	assert_non_null(strstr(msg, "desired revision (5) is different from the running revision (4)"));
	free(msg);
	json_decref(o);
}

static void test_daemonset_statefulset_rollout(void **state)
{
	expect_rollout("{\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\"},\"spec\":{\"updateStrategy\":"
		       "{\"type\":\"OnDelete\"}}}",
		       KUBE_ROLLOUT_UNSUPPORTED, "only available for RollingUpdate");
	expect_rollout("{\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\",\"generation\":1},\"spec\":"
		       "{\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":{\"observedGeneration\":1,"
		       "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":2}}",
		       KUBE_ROLLOUT_WAIT, "2 out of 3 new pods have been updated");
	expect_rollout("{\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"ds\",\"generation\":1},\"spec\":"
		       "{\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":{\"observedGeneration\":1,"
		       "\"desiredNumberScheduled\":3,\"updatedNumberScheduled\":3,\"numberAvailable\":3}}",
		       KUBE_ROLLOUT_DONE, "successfully rolled out");
	expect_rollout("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"s\",\"generation\":1},\"spec\":"
		       "{\"replicas\":2,\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":"
		       "{\"observedGeneration\":0}}",
		       KUBE_ROLLOUT_WAIT, "spec update to be observed");
	expect_rollout("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"s\",\"generation\":1},\"spec\":"
		       "{\"replicas\":2,\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":"
		       "{\"observedGeneration\":1,\"readyReplicas\":1}}",
		       KUBE_ROLLOUT_WAIT, "Waiting for 1 pods to be ready");
	expect_rollout("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"s\",\"generation\":1},\"spec\":"
		       "{\"replicas\":4,\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
		       "{\"partition\":2}}},\"status\":{\"observedGeneration\":1,\"readyReplicas\":4,"
		       "\"updatedReplicas\":1}}",
		       KUBE_ROLLOUT_WAIT, "1 out of 2 new pods have been updated");
	expect_rollout("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"s\",\"generation\":1},\"spec\":"
		       "{\"replicas\":2,\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":"
		       "{\"observedGeneration\":1,\"readyReplicas\":2,\"currentRevision\":\"a\","
		       "\"updateRevision\":\"b\",\"updatedReplicas\":1}}",
		       KUBE_ROLLOUT_WAIT, "waiting for statefulset rolling update to complete");
	expect_rollout("{\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"s\",\"generation\":1},\"spec\":"
		       "{\"replicas\":2,\"updateStrategy\":{\"type\":\"RollingUpdate\"}},\"status\":"
		       "{\"observedGeneration\":1,\"readyReplicas\":2,\"currentRevision\":\"b\","
		       "\"updateRevision\":\"b\",\"currentReplicas\":2}}",
		       KUBE_ROLLOUT_DONE, "rolling update complete 2 pods at revision b");
	expect_rollout("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}", KUBE_ROLLOUT_UNSUPPORTED,
		       "no rollout status");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health_corpus),
		cmocka_unit_test(test_deployment_rollout),
		cmocka_unit_test(test_revision_pin),
		cmocka_unit_test(test_daemonset_statefulset_rollout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
