/* k8s_publish.h - results leave the pod: "run --publish configmap/NS/NAME"
 * stores results.json and the Markdown go-live report in a ConfigMap
 * through the k8s module's client (server-side apply: idempotent, the same
 * object updated on every run), and "collect" reads them back from each
 * cluster of a fleet.
 *
 * A ConfigMap holds at most 1 MiB. When the reports do not fit, the
 * results are summarised (evidence dropped, long texts cut) and the
 * annotation phasegate.dev/summarised says so; the full reports stay in the
 * run's --out directory. */
#ifndef PHASEGATE_K8S_PUBLISH_H
#define PHASEGATE_K8S_PUBLISH_H

#include "result.h"
#include "util.h"

/* How to reach the cluster: as the k8s module's settings (NULL = kubectl's
 * rules: KUBECONFIG, ~/.kube/config, then the in-cluster service account). */
struct k8s_publish_opts {
	const char *kubeconfig;
	const char *context;
	const char *sa_dir;   /* the service account directory (tests) */
	long long timeout_ms; /* 0 = 30 s */
};

/* The budget for the ConfigMap's data, below the 1 MiB object limit. */
#define K8S_PUBLISH_MAX_DATA (1000u * 1000u)

/* Parses "configmap/NAMESPACE/NAME" (names checked as Kubernetes names);
 * *ns and *name are malloc'd. 0 or -1 with e. */
int k8s_publish_target(const char *target, char **ns, char **name, struct pg_err *e);

/* The ConfigMap's data for r: {"results.json": ..., "report.md": ...},
 * summarised to fit max bytes. *summarised is set when it had to be. A new
 * reference. */
json_t *k8s_publish_data(const struct run_result *r, size_t max, int *summarised);

/* Writes r into the ConfigMap (created or updated). 0 or -1 with e. */
int k8s_publish_results(const struct k8s_publish_opts *o, const char *ns, const char *name,
                        const struct run_result *r, struct pg_err *e);

/* Reads the results a run published into r (released by the caller with
 * result_release). 0 or -1 with e. */
int k8s_collect_results(const struct k8s_publish_opts *o, const char *ns, const char *name,
                        struct run_result *r, struct pg_err *e);

#endif
