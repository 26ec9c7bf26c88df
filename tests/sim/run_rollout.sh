#!/bin/bash
# The controller loop seen through the real kubectl on the argocd-upstream
# world: a new image rolls out (rollout status waits for it, the old
# ReplicaSet goes to zero, history has two revisions), a StatefulSet
# restart rolls its pods, a scale-up adds ready pods, a deleted pod comes
# back, and an argocd-cmd-params-cm change reaches the pods only after a
# rollout restart. Needs the sim_upstream fixture (tests/cmake/world.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use upstream
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }
N=(-n argocd)

# --- a Deployment rolls out a new image --------------------------------------
kc get rs "${N[@]}" -l app.kubernetes.io/name=argocd-server -o jsonpath='{.items[*].metadata.name}'
OLD_RS=$OUT
kc set image deploy/argocd-server "${N[@]}" argocd-server=quay.io/argoproj/argocd:v3.6.1
expect_rc "set image" 0
kc rollout status deploy/argocd-server "${N[@]}" --timeout=60s
expect_rc "rollout status waits for the rollout" 0
expect_has "rollout status reports success" 'deployment "argocd-server" successfully rolled out' "$OUT"
kc get deploy argocd-server "${N[@]}" -o json
expect_eq "observedGeneration follows generation" "True" \
  "$(jget "$OUT" 'd["metadata"]["generation"] == d["status"]["observedGeneration"]')"
expect_eq "updated/ready/available" "1 1 1" \
  "$(jget "$OUT" '"%s %s %s" % (d["status"]["updatedReplicas"], d["status"]["readyReplicas"], d["status"]["availableReplicas"])')"
expect_eq "Progressing: NewReplicaSetAvailable" "NewReplicaSetAvailable" \
  "$(jget "$OUT" '[c["reason"] for c in d["status"]["conditions"] if c["type"] == "Progressing"][0]')"
expect_eq "revision annotation" "2" \
  "$(jget "$OUT" 'd["metadata"]["annotations"]["deployment.kubernetes.io/revision"]')"
kc get rs "$OLD_RS" "${N[@]}" -o jsonpath='{.spec.replicas} {.status.replicas}'
expect_eq "old ReplicaSet scaled to zero" "0 0" "$OUT"
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-server -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{.status.containerStatuses[0].ready}{"\n"}{end}'
expect_eq "the one pod runs the new image" "quay.io/argoproj/argocd:v3.6.1 true" "$OUT"
kc rollout history deploy/argocd-server "${N[@]}"
expect_has "history lists revision 2" "2 " "$OUT"

# --- a StatefulSet restart -----------------------------------------------------
kc get pod argocd-application-controller-0 "${N[@]}" -o jsonpath='{.metadata.uid}'
UID0=$OUT
kc rollout restart sts/argocd-application-controller "${N[@]}"
expect_rc "rollout restart sts" 0
kc rollout status sts/argocd-application-controller "${N[@]}" --timeout=60s
expect_rc "sts rollout status" 0
expect_has "sts roll out complete (partition 0, as the API server defaults it)" \
  "partitioned roll out complete: 1 new pods have been updated" "$OUT"
kc get pod argocd-application-controller-0 "${N[@]}" -o jsonpath='{.metadata.uid}'
[ -n "$OUT" ] && [ "$OUT" != "$UID0" ] && pass "controller pod replaced" \
  || fail "controller pod not replaced ($UID0 -> $OUT)"

# --- a changed argocd-cmd-params-cm reaches the pod only after a restart ------
kc patch cm argocd-cmd-params-cm "${N[@]}" --type merge -p '{"data":{"controller.status.processors":"50"}}'
expect_rc "patch argocd-cmd-params-cm" 0
kc logs "${N[@]}" argocd-application-controller-0
case "$OUT" in
  *controller.status.processors=50*) fail "the running pod saw the change without a restart" ;;
  *) pass "the running pod keeps the value it started with" ;;
esac
kc rollout restart sts/argocd-application-controller "${N[@]}"
kc rollout status sts/argocd-application-controller "${N[@]}" --timeout=60s
expect_rc "restart after the change" 0
kc logs "${N[@]}" argocd-application-controller-0
expect_has "the restarted pod started with the new value" "controller.status.processors=50" "$OUT"

# --- scale up, and a deleted pod comes back --------------------------------------
kc scale deploy/argocd-repo-server "${N[@]}" --replicas=3
kc rollout status deploy/argocd-repo-server "${N[@]}" --timeout=60s
expect_rc "scale-up rolls out" 0
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}'
expect_eq "three repo-server pods running" "3" "$(grep -c Running <<<"$OUT")"
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{.items[0].metadata.name}'
VICTIM=$OUT
kc delete pod "$VICTIM" "${N[@]}" --wait=false
expect_rc "delete a repo-server pod" 0
count_running() {
  kc get pods -n argocd -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{range .items[*]}{.metadata.name} {.status.containerStatuses[0].ready}{"\n"}{end}'
  [ "$(grep -c ' true' <<<"$OUT")" = 3 ] && ! grep -q "^$VICTIM " <<<"$OUT"
}
wait_until "the ReplicaSet replaces the deleted pod" 20 count_running

# --- deleting a Deployment takes its ReplicaSets and pods with it --------------
kc delete deploy argocd-dex-server "${N[@]}"
gone() {
  kc get rs,pods -n argocd -l app.kubernetes.io/name=argocd-dex-server -o name
  [ -z "$OUT" ]
}
wait_until "garbage collection of ReplicaSets and pods" 20 gone

finish
