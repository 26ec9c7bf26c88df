/* kube_rules.h - verdicts computed from Kubernetes objects, with the exact
 * rules of the tools people trust: Argo CD's resource health assessment
 * (gitops-engine pkg/health) and kubectl's rollout status completion rules
 * (kubectl pkg/polymorphichelpers/rollout_status.go). Pure functions over
 * the object's JSON, so they are tested against Argo CD's own corpus. */
#ifndef PHASEGATE_KUBE_RULES_H
#define PHASEGATE_KUBE_RULES_H

#include <jansson.h>

/* Argo CD health of obj: one of "Healthy", "Progressing", "Degraded",
 * "Suspended", "Missing", "Unknown" (static strings). *message gets the
 * explanation (malloc'd, may be "") when message is not NULL. Kinds without
 * a rule are Healthy once they exist, as in Argo CD. */
const char *kube_health(json_t *obj, char **message);

enum kube_rollout {
	KUBE_ROLLOUT_DONE,      /* complete */
	KUBE_ROLLOUT_WAIT,      /* still rolling out */
	KUBE_ROLLOUT_FAILED,    /* will not complete (progress deadline exceeded) */
	KUBE_ROLLOUT_UNSUPPORTED, /* kind or strategy kubectl cannot follow */
};
/* kubectl rollout status for a Deployment, StatefulSet or DaemonSet;
 * *message is kubectl's wording (malloc'd). revision > 0 pins the
 * Deployment revision like --revision. */
enum kube_rollout kube_rollout_status(json_t *obj, long long revision, char **message);
const char *kube_rollout_name(enum kube_rollout r);

#endif
