#!/bin/bash
# The real kubectl against kubesim serving fixtures/worlds/argocd-healthy:
# discovery, every kind listed, selectors, paging, tables, authentication,
# RBAC, logs, events, server-side apply, patches and namespace deletion.
# Needs the sim_healthy fixture (tests/cmake/k8s.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use healthy
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }

# --- discovery -------------------------------------------------------------
kc version -o json
expect_rc "version" 0
expect_eq "server minor version" "30" "$(jget "$OUT" 'd["serverVersion"]["minor"]')"
kc api-resources -o name
expect_has "api-resources: applications" "applications.argoproj.io" "$OUT"
expect_has "api-resources: prometheusrules" "prometheusrules.monitoring.coreos.com" "$OUT"
expect_has "api-resources: deployments" "deployments.apps" "$OUT"
kc api-versions
expect_has "api-versions: autoscaling/v2" "autoscaling/v2" "$OUT"

# --- every kind of the world, with counts -----------------------------------
check_world_counts argocd-healthy

# --- one object -----------------------------------------------------------
kc get deploy argocd-server -n argocd -o json
expect_rc "get deploy argocd-server -o json" 0
expect_eq "argocd-server kind" "Deployment" "$(jget "$OUT" 'd["kind"]')"
expect_eq "argocd-server replicas" "3" "$(jget "$OUT" 'd["spec"]["replicas"]')"
expect_eq "argocd-server ready" "3" "$(jget "$OUT" 'd["status"]["readyReplicas"]')"
kc get deploy missing -n argocd
expect_rc "get missing deployment" 1
expect_has "not found wording" 'deployments.apps "missing" not found' "$ERR"
kc get svc argocd-server -n argocd -o jsonpath='{.spec.type} {.status.loadBalancer.ingress[0].ip}'
expect_eq "LoadBalancer service" "LoadBalancer 203.0.113.10" "$OUT"
kc get prometheusrule argocd-alerts -n argocd -o json
expect_eq "26 alert rules" "26" "$(jget "$OUT" 'sum(len(g["rules"]) for g in d["spec"]["groups"])')"
kc get applications -n argocd -o json
expect_eq "sync waves" "-1 1 5 10 15 20 25" "$(jget "$OUT" '" ".join(sorted((a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] for a in d["items"]), key=int))')"
expect_eq "retry limits" "5" "$(jget "$OUT" '",".join(sorted({str(a["spec"]["syncPolicy"]["retry"]["limit"]) for a in d["items"]}))')"

# --- describe (events linked by uid), wait, rollout status of other kinds -----
kc describe deploy argocd-server -n argocd
expect_has "describe shows the Deployment's events" "Scaled up replica set argocd-server-c35c8dcc12 to 3" "$OUT"
kc describe prometheusrule argocd-alerts -n argocd
expect_has "describe a CRD object" "ArgoCDServerDown" "$OUT"
kc wait --for=condition=Available deploy/argocd-server -n argocd --timeout=10s
expect_rc "kubectl wait condition" 0
kc rollout status deployment/argocd-server -n argocd --timeout=10s
expect_has "rollout status deployment" 'deployment "argocd-server" successfully rolled out' "$OUT"
kc rollout status statefulset/postgres -n cloudtolocalllm --timeout=10s
expect_rc "rollout status statefulset" 0
kc rollout status daemonset/kube-proxy -n kube-system --timeout=10s
expect_has "rollout status daemonset" 'daemon set "kube-proxy" successfully rolled out' "$OUT"

# --- tables (kubectl get without -o) -----------------------------------------
kc get deploy argocd-server -n argocd
expect_rc "table get" 0
expect_has "table header" "READY   UP-TO-DATE   AVAILABLE" "$OUT"
expect_has "table row" "argocd-server   3/3" "$OUT"
kc get nodes
expect_eq "nodes Ready" "3" "$(printf '%s\n' "$OUT" | grep -c ' Ready ')"

# --- label selectors ----------------------------------------------------------
kc get pods -n argocd -l app.kubernetes.io/name=argocd-server -o name
expect_eq "label =" "3" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get pods -n argocd -l 'app.kubernetes.io/name in (argocd-server,argocd-redis)' -o name
expect_eq "label in" "4" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get pods -n argocd -l 'app.kubernetes.io/name notin (argocd-server),app.kubernetes.io/part-of==argocd' -o name
expect_eq "label notin + ==" "5" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get pods -A -l '!pod-template-hash' -o name
expect_eq "label !key" "pod/postgres-0" "$OUT"
kc get pods -A -l 'statefulset.kubernetes.io/pod-name' -o name
expect_eq "label exists" "pod/postgres-0" "$OUT"
kc get pods -n argocd -l 'app.kubernetes.io/name!=argocd-server' -o name
expect_eq "label !=" "5" "$(printf '%s\n' "$OUT" | grep -c .)"

# --- field selectors ----------------------------------------------------------
kc get pods -A --field-selector spec.nodeName=node-3 -o name
expect_eq "field spec.nodeName" "pod/argocd-server-c35c8dcc12-h6lzf" "$OUT"
kc get pods -A --field-selector status.phase=Running,metadata.namespace=cloudtolocalllm -o name
expect_eq "field status.phase + namespace" "7" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get pods -A --field-selector metadata.name!=postgres-0 -o name
expect_eq "field !=" "14" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get pods -A --field-selector spec.bogus=1
expect_rc "unsupported field selector" 1
expect_has "unsupported field wording" "field label not supported: spec.bogus" "$ERR"
kc get events -n argocd --field-selector reason=ScalingReplicaSet -o name
expect_eq "events by reason" "2" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get events -n argocd --field-selector involvedObject.kind=Pod,type=Normal -o name
expect_eq "events by involvedObject.kind and type" "2" "$(printf '%s\n' "$OUT" | grep -c .)"

# --- paging (limit/continue) ---------------------------------------------------
kc get pods -A --chunk-size=2 -o name
expect_eq "paged list is complete" "15" "$(printf '%s\n' "$OUT" | sort -u | grep -c .)"
expect_has "continue token used" "continue=" "$(grep 'GET /api/v1/pods?' "$SIM/requests.log")"

# --- authentication and RBAC -------------------------------------------------
kc --context token-admin get ns -o name
expect_rc "bearer token user" 0
expect_eq "namespaces via token" "4" "$(printf '%s\n' "$OUT" | grep -c .)"
kc --context viewer-cert get pods -n argocd -o name
expect_rc "client cert user in allowed namespace" 0
kc --context viewer-cert get secrets -n argocd
expect_rc "client cert user, forbidden resource" 1
expect_has "403 wording" 'secrets is forbidden: User "argocd-viewer" cannot list resource "secrets" in API group "" in the namespace "argocd"' "$ERR"
kc --context argocd-viewer get deploy -n cloudtolocalllm
expect_rc "token user, forbidden namespace" 1
expect_has "403 other namespace" 'cannot list resource "deployments" in API group "apps" in the namespace "cloudtolocalllm"' "$ERR"
kc --context invalid-token get pods -n argocd
expect_rc "unknown token" 1
expect_has "401" "Unauthorized" "$ERR"
kc auth can-i '*' '*' --all-namespaces
expect_rc "admin can-i * * -A" 0
expect_eq "admin can-i answer" "yes" "$OUT"
kc --context readonly auth can-i '*' '*' --all-namespaces
expect_rc "readonly can-i * * -A" 1
expect_eq "readonly can-i answer" "no" "$OUT"
kc --context readonly auth can-i list deployments.apps -n argocd
expect_eq "readonly can list deployments" "yes" "$OUT"
kc --context readonly auth can-i delete pods -n argocd
expect_eq "readonly cannot delete" "no" "$OUT"
kc --context argocd-viewer auth can-i get pods/log -n argocd
expect_eq "viewer can read logs in argocd" "yes" "$OUT"
kc --context argocd-viewer auth can-i get pods -n cloudtolocalllm
expect_eq "viewer cannot read other namespace" "no" "$OUT"
kc --context argocd-viewer auth can-i list pods --all-namespaces
expect_eq "namespaced rule does not grant all namespaces" "no" "$OUT"

# --- logs ------------------------------------------------------------------
# Log lines are stamped relative to the simulator's clock: a reset here keeps
# the --since window below independent of how long the checks above took.
ctl POST /_sim/reset >/dev/null
kc logs -n argocd deployment/argocd-application-controller --tail=20
expect_rc "logs deployment" 0
expect_has "controller processors" "Processors: status=20 operation=10" "$OUT"
kc logs -n argocd argocd-repo-server-a39c66387b-z4p4k --tail=1
expect_eq "tailLines=1" 'level=info msg="manifest cache hit" application=cloudtolocalllm-api-backend' "$OUT"
kc logs -n argocd argocd-application-controller-073e24038d-xclh6 --since=5m
expect_eq "sinceSeconds keeps recent lines" "1" "$(printf '%s\n' "$OUT" | grep -c .)"
kc logs -n argocd argocd-server-c35c8dcc12-59s7n --timestamps --tail=1
if printf '%s' "$OUT" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z level=info'; then
  pass "timestamps=true prefixes RFC 3339 times"
else
  fail "timestamps=true: $OUT"
fi
kc logs -n argocd no-such-pod
expect_rc "logs of a missing pod" 1
expect_has "logs missing pod wording" 'pods "no-such-pod" not found' "$ERR"

# --- server-side apply ----------------------------------------------------------
T="$HOME/apply"
mkdir -p "$T"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sim-apply\n  namespace: argocd\ndata:\n  mode: "one"\n' >"$T/cm1.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sim-apply\n  namespace: argocd\ndata:\n  mode: "two"\n' >"$T/cm2.yaml"
kc apply --server-side -f "$T/cm1.yaml"
expect_rc "ssa create" 0
expect_has "ssa create output" "configmap/sim-apply serverside-applied" "$OUT"
kc apply --server-side -f "$T/cm1.yaml"
expect_rc "ssa re-apply (same manager)" 0
kc apply --server-side --field-manager=other -f "$T/cm2.yaml"
expect_rc "ssa conflict" 1
expect_has "ssa conflict message" 'conflict with "kubectl": .data.mode' "$ERR"
kc get cm sim-apply -n argocd -o jsonpath='{.data.mode}'
expect_eq "conflict left the value" "one" "$OUT"
kc apply --server-side --field-manager=other --dry-run=server --force-conflicts -f "$T/cm2.yaml"
expect_rc "ssa dry-run" 0
kc get cm sim-apply -n argocd -o jsonpath='{.data.mode}'
expect_eq "dry-run changed nothing" "one" "$OUT"
kc apply --server-side --field-manager=other --force-conflicts -f "$T/cm2.yaml"
expect_rc "ssa force" 0
kc get cm sim-apply -n argocd -o json --show-managed-fields
expect_eq "value after force" "two" "$(jget "$OUT" 'd["data"]["mode"]')"
expect_eq "ownership moved" "other" "$(jget "$OUT" '",".join(m["manager"] for m in d["metadata"]["managedFields"])')"
kc apply --server-side -f "$T/cm1.yaml"
expect_rc "ssa conflict back" 1
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sim-apply\n  namespace: nowhere\ndata:\n  mode: "one"\n' >"$T/cm3.yaml"
kc apply --server-side -f "$T/cm3.yaml"
expect_rc "ssa into a missing namespace" 1
expect_has "missing namespace wording" 'namespaces "nowhere" not found' "$ERR"
# A world object is owned by kubectl-client-side-apply: scaling it with SSA
# conflicts until forced; then the tiny controller rolls it out.
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-repo-server\n  namespace: argocd\nspec:\n  replicas: 3\n' >"$T/scale.yaml"
kc apply --server-side -f "$T/scale.yaml"
expect_rc "ssa on a world object conflicts" 1
expect_has "world manager named" 'conflict with "kubectl-client-side-apply": .spec.replicas' "$ERR"
kc apply --server-side --force-conflicts -f "$T/scale.yaml"
expect_rc "ssa forced on a world object" 0
kc get deploy argocd-repo-server -n argocd -o json
expect_eq "generation bumped" "2" "$(jget "$OUT" 'd["metadata"]["generation"]')"
expect_eq "controller observed it" "2 3" "$(jget "$OUT" '"%s %s" % (d["status"]["observedGeneration"], d["status"]["availableReplicas"])')"
expect_eq "other fields kept" "argocd-repo-server" "$(jget "$OUT" 'd["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]')"
kc rollout status deployment/argocd-repo-server -n argocd --timeout=10s
expect_rc "rollout status after scale" 0

# --- patch, annotate, delete -----------------------------------------------------
kc annotate application cloudtolocalllm-api-backend -n argocd argocd.argoproj.io/refresh=true
expect_rc "annotate (merge patch)" 0
kc get application cloudtolocalllm-api-backend -n argocd -o jsonpath='{.metadata.annotations.argocd\.argoproj\.io/refresh}'
expect_eq "annotation stored" "true" "$OUT"
kc patch deploy argocd-redis -n argocd --type=json -p '[{"op":"replace","path":"/spec/replicas","value":2}]'
expect_rc "json patch" 0
kc get deploy argocd-redis -n argocd -o jsonpath='{.spec.replicas}'
expect_eq "json patch applied" "2" "$OUT"
kc patch deploy argocd-redis -n argocd --type=merge -p '{"metadata":{"labels":{"tier":"cache"}}}'
expect_rc "merge patch" 0
kc get deploy -n argocd -l tier=cache -o name
expect_eq "merge patch label selectable" "deployment.apps/argocd-redis" "$OUT"
kc scale deploy argocd-redis -n argocd --replicas=3
expect_rc "scale (scale subresource)" 0
kc get deploy argocd-redis -n argocd -o jsonpath='{.spec.replicas} {.status.availableReplicas}'
expect_eq "scaled and reconciled" "3 3" "$OUT"
kc get --raw /apis/apps/v1/namespaces/argocd/deployments/argocd-redis/scale
expect_eq "Scale view" "Scale autoscaling/v1 3" "$(jget "$OUT" '"%s %s %s" % (d["kind"], d["apiVersion"], d["spec"]["replicas"])')"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sim-csa\n  namespace: argocd\ndata:\n  v: "1"\n' >"$T/csa.yaml"
kc apply -f "$T/csa.yaml"
expect_has "client-side apply creates" "configmap/sim-csa created" "$OUT"
sed -i 's/"1"/"2"/' "$T/csa.yaml"
kc apply -f "$T/csa.yaml"
expect_has "client-side apply patches" "configmap/sim-csa configured" "$OUT"
kc get cm sim-csa -n argocd -o jsonpath='{.data.v}'
expect_eq "client-side apply value" "2" "$OUT"
kc create configmap sim-csa -n argocd --from-literal=v=3
expect_rc "create an existing object" 1
expect_has "AlreadyExists wording" 'configmaps "sim-csa" already exists' "$ERR"
kc delete -f "$T/csa.yaml"
expect_rc "delete -f" 0
kc delete pod argocd-redis-0841ebadca-njjg2 -n argocd --wait=true
expect_rc "delete pod" 0
kc get pod argocd-redis-0841ebadca-njjg2 -n argocd
expect_rc "deleted pod is gone" 1
kc delete ns cloudtolocalllm --timeout=20s
expect_rc "delete namespace (waits for Terminating to end)" 0
kc get ns cloudtolocalllm
expect_rc "namespace gone" 1
kc get all -n cloudtolocalllm -o name
expect_eq "namespace contents cascaded" "" "$OUT"
kc get pvc,ing,hpa,netpol,jobs,cm -n cloudtolocalllm -o name
expect_eq "namespace contents cascaded (more kinds)" "" "$OUT"
kc get applications -n argocd -o name
expect_eq "other namespaces untouched" "7" "$(printf '%s\n' "$OUT" | grep -c .)"

# Put the world back for whoever runs next.
ctl POST /_sim/reset >/dev/null
kc get ns cloudtolocalllm -o name
expect_eq "reset restores the world" "namespace/cloudtolocalllm" "$OUT"
finish
