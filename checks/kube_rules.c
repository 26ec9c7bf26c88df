/* kube_rules.c - Argo CD's health rules and kubectl's rollout rules,
 * written from their documented behaviour (see kube_rules.h). */
#include "kube_rules.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static json_t *at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	return b ? json_object_get(v, b) : v;
}

static const char *str(json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Integers default to 0 when absent, as in the Go structs. */
static long long num(json_t *v)
{
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static json_t *condition(json_t *obj, const char *type)
{
	json_t *conds = at(obj, "status", "conditions");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		if (streq(str(json_object_get(c, "type")), type))
			return c;
	}
	return NULL;
}

static const char *verdict(char **message, const char *status, char *msg)
{
	if (message)
		*message = msg ? msg : xstrdup("");
	else
		free(msg);
	return status;
}

static const char *deployment_health(json_t *o, char **m)
{
	json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
	if (json_is_true(json_object_get(spec, "paused")))
		return verdict(m, "Suspended", xstrdup("Deployment is paused"));
	if (num(at(o, "metadata", "generation")) <= num(json_object_get(st, "observedGeneration"))) {
		json_t *c = condition(o, "Progressing");
		if (c && streq(str(json_object_get(c, "reason")), "ProgressDeadlineExceeded"))
			return verdict(m, "Degraded",
				       xasprintf("Deployment \"%s\" exceeded its progress deadline",
						 str(at(o, "metadata", "name")) ? str(at(o, "metadata", "name")) : ""));
		json_t *rep = json_object_get(spec, "replicas");
		long long updated = num(json_object_get(st, "updatedReplicas"));
		if (json_is_integer(rep) && updated < json_integer_value(rep))
			return verdict(m, "Progressing",
				       xasprintf("Waiting for rollout to finish: %lld out of %lld new replicas have been updated...",
						 updated, (long long)json_integer_value(rep)));
		long long replicas = num(json_object_get(st, "replicas"));
		if (replicas > updated)
			return verdict(m, "Progressing",
				       xasprintf("Waiting for rollout to finish: %lld old replicas are pending termination...",
						 replicas - updated));
		long long avail = num(json_object_get(st, "availableReplicas"));
		if (avail < updated)
			return verdict(m, "Progressing",
				       xasprintf("Waiting for rollout to finish: %lld of %lld updated replicas are available...",
						 avail, updated));
		return verdict(m, "Healthy", NULL);
	}
	return verdict(m, "Progressing",
		       xstrdup("Waiting for rollout to finish: observed deployment generation less than desired generation"));
}

static const char *statefulset_health(json_t *o, char **m)
{
	json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
	long long observed = num(json_object_get(st, "observedGeneration"));
	if (observed == 0 || num(at(o, "metadata", "generation")) > observed)
		return verdict(m, "Progressing", xstrdup("Waiting for statefulset spec update to be observed..."));
	json_t *rep = json_object_get(spec, "replicas");
	long long ready = num(json_object_get(st, "readyReplicas"));
	if (json_is_integer(rep) && ready < json_integer_value(rep))
		return verdict(m, "Progressing",
			       xasprintf("Waiting for %lld pods to be ready...", json_integer_value(rep) - ready));
	json_t *strategy = json_object_get(spec, "updateStrategy");
	const char *type = str(json_object_get(strategy, "type"));
	json_t *ru = json_object_get(strategy, "rollingUpdate");
	if (streq(type, "RollingUpdate") && json_is_object(ru)) {
		json_t *part = json_object_get(ru, "partition");
		if (json_is_integer(rep) && json_is_integer(part)) {
			long long want = json_integer_value(rep) - json_integer_value(part);
			long long updated = num(json_object_get(st, "updatedReplicas"));
			if (updated < want)
				return verdict(m, "Progressing",
					       xasprintf("Waiting for partitioned roll out to finish: %lld out of %lld new pods have been updated...",
							 updated, want));
			return verdict(m, "Healthy",
				       xasprintf("partitioned roll out complete: %lld new pods have been updated...",
						 updated));
		}
	}
	if (streq(type, "OnDelete"))
		return verdict(m, "Healthy", xasprintf("statefulset has %lld ready pods", ready));
	const char *cur = str(json_object_get(st, "currentRevision"));
	const char *upd = str(json_object_get(st, "updateRevision"));
	if (!streq(cur ? cur : "", upd ? upd : ""))
		return verdict(m, "Progressing",
			       xasprintf("waiting for statefulset rolling update to complete %lld pods at revision %s...",
					 num(json_object_get(st, "updatedReplicas")), upd ? upd : ""));
	return verdict(m, "Healthy",
		       xasprintf("statefulset rolling update complete %lld pods at revision %s...",
				 num(json_object_get(st, "currentReplicas")), cur ? cur : ""));
}

static const char *daemonset_health(json_t *o, char **m)
{
	json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
	if (num(at(o, "metadata", "generation")) > num(json_object_get(st, "observedGeneration")))
		return verdict(m, "Progressing",
			       xstrdup("Waiting for rollout to finish: observed daemon set generation less than desired generation"));
	long long desired = num(json_object_get(st, "desiredNumberScheduled"));
	long long updated = num(json_object_get(st, "updatedNumberScheduled"));
	if (streq(str(at(spec, "updateStrategy", "type")), "OnDelete"))
		return verdict(m, "Healthy",
			       xasprintf("daemon set %lld out of %lld new pods have been updated", updated, desired));
	if (updated < desired)
		return verdict(m, "Progressing",
			       xasprintf("Waiting for daemon set %s rollout to finish: %lld out of %lld new pods have been updated...",
					 str(at(o, "metadata", "name")) ? str(at(o, "metadata", "name")) : "",
					 updated, desired));
	long long avail = num(json_object_get(st, "numberAvailable"));
	if (avail < desired)
		return verdict(m, "Progressing",
			       xasprintf("Waiting for daemon set %s rollout to finish: %lld of %lld updated pods are available...",
					 str(at(o, "metadata", "name")) ? str(at(o, "metadata", "name")) : "",
					 avail, desired));
	return verdict(m, "Healthy", NULL);
}

static const char *replicaset_health(json_t *o, char **m)
{
	json_t *st = json_object_get(o, "status");
	if (num(at(o, "metadata", "generation")) > num(json_object_get(st, "observedGeneration")))
		return verdict(m, "Progressing",
			       xstrdup("Waiting for rollout to finish: observed replica set generation less than desired generation"));
	json_t *c = condition(o, "ReplicaFailure");
	if (c && streq(str(json_object_get(c, "status")), "True"))
		return verdict(m, "Degraded", xstrdup(str(json_object_get(c, "message"))));
	json_t *rep = at(o, "spec", "replicas");
	long long avail = num(json_object_get(st, "availableReplicas"));
	if (json_is_integer(rep) && avail < json_integer_value(rep))
		return verdict(m, "Progressing",
			       xasprintf("Waiting for rollout to finish: %lld out of %lld new replicas are available...",
					 avail, json_integer_value(rep)));
	return verdict(m, "Healthy", NULL);
}

static const char *pvc_health(json_t *o, char **m)
{
	const char *phase = str(at(o, "status", "phase"));
	if (streq(phase, "Lost"))
		return verdict(m, "Degraded", NULL);
	if (streq(phase, "Pending"))
		return verdict(m, "Progressing", NULL);
	if (streq(phase, "Bound"))
		return verdict(m, "Healthy", NULL);
	return verdict(m, "Unknown", NULL);
}

static int has_lb_ingress(json_t *o)
{
	return json_array_size(at(at(o, "status", "loadBalancer"), "ingress", NULL)) > 0;
}

static const char *service_health(json_t *o, char **m)
{
	if (streq(str(at(o, "spec", "type")), "LoadBalancer") && !has_lb_ingress(o))
		return verdict(m, "Progressing", NULL);
	return verdict(m, "Healthy", NULL);
}

static const char *ingress_health(json_t *o, char **m)
{
	return verdict(m, has_lb_ingress(o) ? "Healthy" : "Progressing", NULL);
}

static const char *job_health(json_t *o, char **m)
{
	int failed = 0, complete = 0, suspended = 0;
	const char *msg = NULL, *failmsg = NULL;
	json_t *conds = at(o, "status", "conditions");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *type = str(json_object_get(c, "type"));
		int is_true = streq(str(json_object_get(c, "status")), "True");
		if (streq(type, "Failed") && is_true) {
			failed = complete = 1;
			failmsg = str(json_object_get(c, "message"));
		} else if (streq(type, "Complete") && is_true) {
			complete = 1;
			msg = str(json_object_get(c, "message"));
		} else if (streq(type, "Suspended") && is_true) {
			complete = suspended = 1;
			msg = str(json_object_get(c, "message"));
		}
	}
	if (!complete)
		return verdict(m, "Progressing", xstrdup(msg));
	if (failed)
		return verdict(m, "Degraded", xstrdup(failmsg));
	if (suspended)
		return verdict(m, "Suspended", xstrdup(msg));
	return verdict(m, "Healthy", xstrdup(msg));
}

static int pod_ready(json_t *o)
{
	json_t *c = condition(o, "Ready");
	return c && streq(str(json_object_get(c, "status")), "True");
}

static int suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

static const char *pod_health(json_t *o, char **m)
{
	json_t *st = json_object_get(o, "status");
	const char *policy = str(at(o, "spec", "restartPolicy"));
	if (!policy)
		policy = "Always";
	if (streq(policy, "Always")) {
		/* a container stuck in an error or back-off state */
		json_t *cs = json_object_get(st, "containerStatuses");
		size_t i;
		json_t *c;
		json_array_foreach(cs, i, c)
		{
			json_t *w = at(c, "state", "waiting");
			const char *reason = str(json_object_get(w, "reason"));
			if (reason && (strncmp(reason, "Err", 3) == 0 || suffix(reason, "Error") ||
				       suffix(reason, "BackOff")))
				return verdict(m, "Degraded", xstrdup(str(json_object_get(w, "message"))));
		}
	}
	const char *phase = str(json_object_get(st, "phase"));
	const char *msg = str(json_object_get(st, "message"));
	if (streq(phase, "Pending"))
		return verdict(m, "Progressing", xstrdup(msg));
	if (streq(phase, "Succeeded"))
		return verdict(m, "Healthy", xstrdup(msg));
	if (streq(phase, "Failed")) {
		if (msg && *msg)
			return verdict(m, "Degraded", xstrdup(msg));
		json_t *cs = json_object_get(st, "containerStatuses");
		size_t i;
		json_t *c;
		json_array_foreach(cs, i, c)
		{
			json_t *t = at(c, "state", "terminated");
			if (t && num(json_object_get(t, "exitCode")) != 0)
				return verdict(m, "Degraded", xstrdup(str(json_object_get(t, "message"))));
		}
		return verdict(m, "Degraded", NULL);
	}
	if (streq(phase, "Running")) {
		if (!streq(policy, "Always"))
			return verdict(m, "Progressing", xstrdup(msg)); /* finite pods: hooks */
		if (pod_ready(o))
			return verdict(m, "Healthy", xstrdup(msg));
		json_t *cs = json_object_get(st, "containerStatuses");
		size_t i;
		json_t *c;
		json_array_foreach(cs, i, c)
		{
			json_t *t = at(c, "lastState", "terminated");
			if (t)
				return verdict(m, "Degraded", xstrdup(str(json_object_get(t, "message"))));
		}
		return verdict(m, "Progressing", xstrdup(msg));
	}
	return verdict(m, "Unknown", xstrdup(msg));
}

/* HPA conditions live in status.conditions (v2, v2beta*) or, for
 * autoscaling/v1, in a JSON annotation. */
static const char *hpa_health(json_t *o, char **m)
{
	json_t *conds = at(o, "status", "conditions");
	json_t *parsed = NULL;
	if (!json_is_array(conds)) {
		const char *ann = str(at(at(o, "metadata", "annotations"),
					 "autoscaling.alpha.kubernetes.io/conditions", NULL));
		if (ann)
			parsed = json_loads(ann, 0, NULL);
		conds = parsed;
	}
	const char *status = "Progressing";
	char *msg = xstrdup("Waiting to Autoscale");
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *type = str(json_object_get(c, "type"));
		const char *reason = str(json_object_get(c, "reason"));
		const char *cmsg = str(json_object_get(c, "message"));
		int degraded = (streq(type, "AbleToScale") &&
				(streq(reason, "FailedGetScale") || streq(reason, "FailedUpdateScale"))) ||
			       (streq(type, "ScalingActive") &&
				(streq(reason, "FailedGetResourceMetric") || streq(reason, "InvalidSelector")));
		int healthy = (streq(type, "AbleToScale") || streq(type, "ScalingLimited")) &&
			      streq(str(json_object_get(c, "status")), "True");
		if (degraded || healthy) {
			status = degraded ? "Degraded" : "Healthy";
			free(msg);
			msg = xstrdup(cmsg);
			break;
		}
	}
	if (parsed)
		json_decref(parsed);
	return verdict(m, status, msg);
}

static const char *apiservice_health(json_t *o, char **m)
{
	json_t *c = condition(o, "Available");
	if (c && streq(str(json_object_get(c, "status")), "True"))
		return verdict(m, "Healthy", xstrdup(str(json_object_get(c, "message"))));
	if (c)
		return verdict(m, "Progressing",
			       xasprintf("%s: %s", str(json_object_get(c, "reason")) ? str(json_object_get(c, "reason")) : "",
					 str(json_object_get(c, "message")) ? str(json_object_get(c, "message")) : ""));
	return verdict(m, "Progressing", NULL);
}

const char *kube_health(json_t *obj, char **message)
{
	if (!json_is_object(obj))
		return verdict(message, "Missing", xstrdup("the object does not exist"));
	const char *api = str(json_object_get(obj, "apiVersion"));
	const char *kind = str(json_object_get(obj, "kind"));
	const char *slash = api ? strchr(api, '/') : NULL;
	char group[128] = "";
	if (slash && (size_t)(slash - api) < sizeof(group)) {
		memcpy(group, api, (size_t)(slash - api));
		group[slash - api] = 0;
	}
	if (!kind)
		return verdict(message, "Unknown", xstrdup("the object has no kind"));
	if (streq(group, "apps") || streq(group, "extensions")) {
		if (streq(kind, "Deployment"))
			return deployment_health(obj, message);
		if (streq(kind, "StatefulSet"))
			return statefulset_health(obj, message);
		if (streq(kind, "DaemonSet"))
			return daemonset_health(obj, message);
		if (streq(kind, "ReplicaSet"))
			return replicaset_health(obj, message);
	}
	if (!slash) {
		if (streq(kind, "PersistentVolumeClaim"))
			return pvc_health(obj, message);
		if (streq(kind, "Service"))
			return service_health(obj, message);
		if (streq(kind, "Pod"))
			return pod_health(obj, message);
	}
	if ((streq(group, "networking.k8s.io") || streq(group, "extensions")) && streq(kind, "Ingress"))
		return ingress_health(obj, message);
	if (streq(group, "batch") && streq(kind, "Job"))
		return job_health(obj, message);
	if (streq(group, "autoscaling") && streq(kind, "HorizontalPodAutoscaler"))
		return hpa_health(obj, message);
	if (streq(group, "apiregistration.k8s.io") && streq(kind, "APIService"))
		return apiservice_health(obj, message);
	return verdict(message, "Healthy", NULL);
}

const char *kube_rollout_name(enum kube_rollout r)
{
	switch (r) {
	case KUBE_ROLLOUT_DONE:
		return "complete";
	case KUBE_ROLLOUT_WAIT:
		return "progressing";
	case KUBE_ROLLOUT_FAILED:
		return "failed";
	case KUBE_ROLLOUT_UNSUPPORTED:
	default:
		return "unsupported";
	}
}

static enum kube_rollout rollout(char **m, enum kube_rollout r, char *msg)
{
	if (m)
		*m = msg;
	else
		free(msg);
	return r;
}

enum kube_rollout kube_rollout_status(json_t *o, long long revision, char **m)
{
	const char *kind = str(json_object_get(o, "kind"));
	const char *name = str(at(o, "metadata", "name"));
	if (!name)
		name = "";
	json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
	long long gen = num(at(o, "metadata", "generation"));
	long long observed = num(json_object_get(st, "observedGeneration"));
	if (streq(kind, "Deployment")) {
		if (revision > 0) {
			const char *rev = str(at(at(o, "metadata", "annotations"),
						 "deployment.kubernetes.io/revision", NULL));
			long long have = 0;
			if (!rev || parse_ll(rev, &have) != 0)
				return rollout(m, KUBE_ROLLOUT_FAILED,
					       xasprintf("cannot get the revision of deployment \"%s\"", name));
			if (have != revision)
				return rollout(m, KUBE_ROLLOUT_FAILED,
					       xasprintf("desired revision (%lld) is different from the running revision (%lld)",
							 revision, have));
		}
		if (gen > observed)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xstrdup("Waiting for deployment spec update to be observed..."));
		json_t *c = condition(o, "Progressing");
		if (c && streq(str(json_object_get(c, "reason")), "ProgressDeadlineExceeded"))
			return rollout(m, KUBE_ROLLOUT_FAILED,
				       xasprintf("deployment \"%s\" exceeded its progress deadline", name));
		long long want = json_is_integer(json_object_get(spec, "replicas"))
					 ? json_integer_value(json_object_get(spec, "replicas"))
					 : 1;
		long long updated = num(json_object_get(st, "updatedReplicas"));
		long long replicas = num(json_object_get(st, "replicas"));
		long long avail = num(json_object_get(st, "availableReplicas"));
		if (updated < want)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld out of %lld new replicas have been updated...",
						 name, updated, want));
		if (replicas > updated)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld old replicas are pending termination...",
						 name, replicas - updated));
		if (avail < updated)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for deployment \"%s\" rollout to finish: %lld of %lld updated replicas are available...",
						 name, avail, updated));
		return rollout(m, KUBE_ROLLOUT_DONE,
			       xasprintf("deployment \"%s\" successfully rolled out", name));
	}
	if (streq(kind, "DaemonSet")) {
		if (!streq(str(at(spec, "updateStrategy", "type")), "RollingUpdate"))
			return rollout(m, KUBE_ROLLOUT_UNSUPPORTED,
				       xstrdup("rollout status is only available for RollingUpdate strategy type"));
		if (gen > observed)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xstrdup("Waiting for daemon set spec update to be observed..."));
		long long desired = num(json_object_get(st, "desiredNumberScheduled"));
		long long updated = num(json_object_get(st, "updatedNumberScheduled"));
		long long avail = num(json_object_get(st, "numberAvailable"));
		if (updated < desired)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for daemon set \"%s\" rollout to finish: %lld out of %lld new pods have been updated...",
						 name, updated, desired));
		if (avail < desired)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for daemon set \"%s\" rollout to finish: %lld of %lld updated pods are available...",
						 name, avail, desired));
		return rollout(m, KUBE_ROLLOUT_DONE,
			       xasprintf("daemon set \"%s\" successfully rolled out", name));
	}
	if (streq(kind, "StatefulSet")) {
		json_t *strategy = json_object_get(spec, "updateStrategy");
		if (!streq(str(json_object_get(strategy, "type")), "RollingUpdate"))
			return rollout(m, KUBE_ROLLOUT_UNSUPPORTED,
				       xstrdup("rollout status is only available for RollingUpdate strategy type"));
		if (observed == 0 || gen > observed)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xstrdup("Waiting for statefulset spec update to be observed..."));
		long long want = json_is_integer(json_object_get(spec, "replicas"))
					 ? json_integer_value(json_object_get(spec, "replicas"))
					 : 1;
		long long ready = num(json_object_get(st, "readyReplicas"));
		if (ready < want)
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("Waiting for %lld pods to be ready...", want - ready));
		json_t *ru = json_object_get(strategy, "rollingUpdate");
		if (json_is_object(ru)) {
			json_t *part = json_object_get(ru, "partition");
			if (json_is_integer(part)) {
				long long updated = num(json_object_get(st, "updatedReplicas"));
				if (updated < want - json_integer_value(part))
					return rollout(m, KUBE_ROLLOUT_WAIT,
						       xasprintf("Waiting for partitioned roll out to finish: %lld out of %lld new pods have been updated...",
								 updated, want - json_integer_value(part)));
			}
			return rollout(m, KUBE_ROLLOUT_DONE,
				       xasprintf("partitioned roll out complete: %lld new pods have been updated...",
						 num(json_object_get(st, "updatedReplicas"))));
		}
		const char *cur = str(json_object_get(st, "currentRevision"));
		const char *upd = str(json_object_get(st, "updateRevision"));
		if (!streq(cur ? cur : "", upd ? upd : ""))
			return rollout(m, KUBE_ROLLOUT_WAIT,
				       xasprintf("waiting for statefulset rolling update to complete %lld pods at revision %s...",
						 num(json_object_get(st, "updatedReplicas")), upd ? upd : ""));
		return rollout(m, KUBE_ROLLOUT_DONE,
			       xasprintf("statefulset rolling update complete %lld pods at revision %s...",
					 num(json_object_get(st, "currentReplicas")), cur ? cur : ""));
	}
	return rollout(m, KUBE_ROLLOUT_UNSUPPORTED,
		       xasprintf("no rollout status for kind \"%s\" (Deployment, StatefulSet or DaemonSet)",
				 kind ? kind : ""));
}
