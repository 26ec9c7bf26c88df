/* k8s_publish.c - results into a ConfigMap and back (see k8s_publish.h),
 * through the same client, configuration and credentials as k8s checks. */
#include <stdlib.h>
#include <string.h>

#include "k8s_api.h"
#include "k8s_publish.h"
#include "module.h"
#include "report.h"

#define FIELD_MANAGER "phasegate"
#define SUMMARY_TEXT_MAX 1024

/* A DNS-1123 subdomain (ConfigMap names) or label (namespaces). */
static int k8s_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (!n || n > max || s[0] == '-' || s[0] == '.' || s[n - 1] == '-' || s[n - 1] == '.')
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      (*p == '.' && max > 63)))
			return 0;
	return 1;
}

int k8s_publish_target(const char *target, char **ns, char **name, struct pg_err *e)
{
	static const char kind[] = "configmap/";
	*ns = *name = NULL;
	if (strncmp(target, kind, sizeof(kind) - 1) != 0)
		return pg_error(e, "'%s' is not configmap/NAMESPACE/NAME", target);
	const char *rest = target + sizeof(kind) - 1, *slash = strchr(rest, '/');
	if (!slash || strchr(slash + 1, '/'))
		return pg_error(e, "'%s' is not configmap/NAMESPACE/NAME", target);
	char *n = xstrndup(rest, (size_t)(slash - rest)), *m = xstrdup(slash + 1);
	if (!k8s_name_ok(n, 63) || !k8s_name_ok(m, 253)) {
		pg_error(e, "'%s': namespace and name must be lower-case Kubernetes names", target);
		free(n);
		free(m);
		return -1;
	}
	*ns = n;
	*name = m;
	return 0;
}

/* Cuts a string member to SUMMARY_TEXT_MAX bytes (at a UTF-8 boundary). */
static void cut_text(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) <= SUMMARY_TEXT_MAX)
		return;
	size_t n = SUMMARY_TEXT_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	char *t = xasprintf("%.*s … [cut]", (int)n, s);
	json_object_set_new(o, key, json_string(t));
	free(t);
}

/* The results without evidence and with long texts cut. */
static json_t *summarise(const struct run_result *r)
{
	json_t *j = result_to_json(r);
	size_t pi, si, ci;
	json_t *ph, *st, *ck;
	json_array_foreach(json_object_get(j, "phases"), pi, ph)
	{
		json_array_foreach(json_object_get(ph, "steps"), si, st)
		{
			json_array_foreach(json_object_get(st, "checks"), ci, ck)
			{
				json_object_set_new(ck, "evidence", json_array());
				cut_text(ck, "message");
				cut_text(ck, "seen");
				cut_text(ck, "expected");
				cut_text(ck, "describe");
			}
		}
	}
	return j;
}

static size_t data_size(json_t *data)
{
	size_t n = 0;
	const char *k;
	json_t *v;
	json_object_foreach(data, k, v)
	{
		n += strlen(k) + json_string_length(v);
	}
	return n;
}

json_t *k8s_publish_data(const struct run_result *r, size_t max, int *summarised)
{
	*summarised = 0;
	json_t *full = result_to_json(r);
	char *res = json_dumps(full, JSON_COMPACT);
	json_decref(full);
	char *md = report_markdown_render(r);
	json_t *data = json_pack("{s:s,s:s}", "results.json", res ? res : "{}", "report.md", md);
	free(res);
	free(md);
	if (data_size(data) <= max)
		return data;
	/* too large: the results without evidence, then without the report */
	*summarised = 1;
	json_decref(data);
	json_t *small = summarise(r);
	struct run_result sr;
	struct pg_err e;
	memset(&sr, 0, sizeof(sr));
	res = json_dumps(small, JSON_COMPACT);
	md = NULL;
	if (result_from_json(&sr, small, &e) == 0) {
		md = report_markdown_render(&sr);
		result_release(&sr);
	}
	json_decref(small);
	data =
	    json_pack("{s:s,s:s}", "results.json", res ? res : "{}", "summary.txt",
	              "The full reports did not fit into a ConfigMap (1 MiB): evidence was "
	              "dropped and long texts were cut. The run's --out directory has them all.");
	free(res);
	if (md && data_size(data) + strlen(md) + 9 <= max)
		json_object_set_new(data, "report.md", json_string(md));
	free(md);
	return data;
}

/* One request on configmap NS/NAME (query appended, body sent as server-side
 * apply when set). Returns 0 when the server answered 2xx, with *answer
 * (may be NULL) the object it returned, a new reference; else -1 with e
 * saying what the API server said (403 with the RBAC reason...). */
static int cm_call(const struct k8s_publish_opts *o, const char *method, const char *ns,
                   const char *name, const char *query, const char *body, json_t **answer,
                   struct pg_err *e)
{
	struct kube_config_opts ko = {
	    .kubeconfig = o->kubeconfig, .context = o->context, .sa_dir = o->sa_dir};
	struct k8s_client cl;
	k8s_client_init(&cl, &ko);
	struct check_ctx *ctx =
	    ctx_new_for_test(NULL, o->timeout_ms > 0 ? o->timeout_ms : 30000, NULL, NULL);
	char *qns = k8s_qesc(ns), *qname = k8s_qesc(name);
	char *path = xasprintf("/api/v1/namespaces/%s/configmaps/%s%s", qns, qname, query);
	char *what = xasprintf("%s configmap %s/%s", body ? "apply" : "get", ns, name);
	struct http_response rs;
	char *err = NULL;
	int rc = 0;
	if (answer)
		*answer = NULL;
	if (k8s_call(&cl, ctx, method, path, body ? "application/apply-patch+yaml" : NULL, body,
	             &rs, &err) != 0) {
		rc = pg_error(e, "%s: %s", what, err);
	} else {
		if (rs.status < 200 || rs.status > 299) {
			char *msg = k8s_status_error(&cl, &rs, what);
			rc = pg_error(e, "%s", msg);
			free(msg);
		} else if (answer) {
			*answer = http_body_json(&rs);
		}
		http_response_release(&rs);
	}
	free(err);
	free(what);
	free(path);
	free(qns);
	free(qname);
	ctx_free_for_test(ctx);
	k8s_client_release(&cl);
	return rc;
}

int k8s_publish_results(const struct k8s_publish_opts *o, const char *ns, const char *name,
                        const struct run_result *r, struct pg_err *e)
{
	int summarised;
	json_t *data = k8s_publish_data(r, K8S_PUBLISH_MAX_DATA, &summarised);
	if (data_size(data) > K8S_PUBLISH_MAX_DATA) {
		json_decref(data);
		return pg_error(e, "the results do not fit into a ConfigMap even summarised");
	}
	json_t *ann = json_pack("{s:s,s:s,s:s}", "phasegate.dev/verdict", report_verdict(r),
	                        "phasegate.dev/suite", r->suite_name ? r->suite_name : "",
	                        "phasegate.dev/summarised", summarised ? "true" : "false");
	if (r->run_id)
		json_object_set_new(ann, "phasegate.dev/run-id", json_string(r->run_id));
	if (r->finished_at)
		json_object_set_new(ann, "phasegate.dev/finished-at", json_string(r->finished_at));
	json_t *cm = json_pack(
	    "{s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:o},s:o}", "apiVersion", "v1", "kind", "ConfigMap",
	    "metadata", "name", name, "namespace", ns, "labels", "app.kubernetes.io/managed-by",
	    "phasegate", "app.kubernetes.io/name", "phasegate", "annotations", ann, "data", data);
	char *body = json_dumps(cm, JSON_COMPACT);
	json_decref(cm);
	/* server-side apply: creates the ConfigMap or updates the fields this
	 * manager owns; the same request twice is the same object */
	int rc = cm_call(o, "PATCH", ns, name, "?fieldManager=" FIELD_MANAGER "&force=true", body,
	                 NULL, e);
	free(body);
	return rc;
}

int k8s_collect_results(const struct k8s_publish_opts *o, const char *ns, const char *name,
                        struct run_result *r, struct pg_err *e)
{
	json_t *cm;
	memset(r, 0, sizeof(*r));
	if (cm_call(o, "GET", ns, name, "", NULL, &cm, e) != 0)
		return -1;
	const char *text =
	    json_string_value(json_object_get(json_object_get(cm, "data"), "results.json"));
	int rc = 0;
	json_error_t je;
	json_t *j = text ? json_loads(text, 0, &je) : NULL;
	struct pg_err le;
	if (!text)
		rc = pg_error(e, "configmap/%s/%s holds no results.json", ns, name);
	else if (!j)
		rc =
		    pg_error(e, "configmap/%s/%s: results.json is not JSON: %s", ns, name, je.text);
	else if (result_from_json(r, j, &le) != 0)
		rc = pg_error(e, "configmap/%s/%s: %s", ns, name, le.msg);
	json_decref(j);
	json_decref(cm);
	return rc;
}
