#!/bin/bash
# The faults a world or a test declares, on the argocd-upstream world, seen
# through the real kubectl and the Argo CD API: an image that never pulls
# (the rollout never completes, then exceeds its progress deadline; undo
# recovers), a crash-looping container (restarts climb, CrashLoopBackOff,
# the previous log), a repo-server egress NetworkPolicy that makes the git
# repository unreachable (ComparisonError, sync Unknown, repository
# connection Failed) until it is removed, and a sync that fails (retried
# with the operation's backoff, retryCount visible, Failed at the limit;
# recovers when the fault goes). Needs the sim_upstream fixture.
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use upstream
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }
trap 'ctl DELETE /_sim/controller/faults >/dev/null 2>&1' EXIT
N=(-n argocd)

# --- an image that never pulls -----------------------------------------------------
kc set image deploy/argocd-repo-server "${N[@]}" argocd-repo-server=registry.invalid/argoproj/argocd:v3.6.0
kc rollout status deploy/argocd-repo-server "${N[@]}" --timeout=4s
expect_rc "rollout status does not complete" 1
expect_has "rollout status: the old replica still pending termination" \
  'Waiting for deployment "argocd-repo-server" rollout to finish: 1 old replicas are pending termination' "$OUT"
pulling() {
  kc get pods -n argocd -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{range .items[*]}{.status.containerStatuses[0].state.waiting.reason}{" "}{.status.containerStatuses[0].ready}{"\n"}{end}'
  grep -qE '^(ErrImagePull|ImagePullBackOff) false$' <<<"$OUT" && grep -q '^ true$' <<<"$OUT"
}
wait_until "new pod ErrImagePull/ImagePullBackOff, old pod still ready" 15 pulling
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-repo-server
expect_has "kubectl get shows the pull error" "ImagePull" "$OUT"
kc get events "${N[@]}" --field-selector reason=Failed -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'
expect_has "a Failed event with the registry's error" "lookup registry.invalid: no such host" "$OUT"
kc get deploy argocd-repo-server "${N[@]}" -o jsonpath='{.status.availableReplicas}'
expect_eq "the old pod keeps the Deployment available" "1" "$OUT"
kc patch deploy argocd-repo-server "${N[@]}" --type merge -p '{"spec":{"progressDeadlineSeconds":2}}'
deadline() {
  kc get deploy argocd-repo-server -n argocd -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
  [ "$OUT" = ProgressDeadlineExceeded ]
}
wait_until "Progressing=False ProgressDeadlineExceeded" 20 deadline
kc rollout status deploy/argocd-repo-server "${N[@]}" --timeout=10s
expect_rc "rollout status fails" 1
expect_has "rollout status: progress deadline" 'deployment "argocd-repo-server" exceeded its progress deadline' "$ERR"
kc rollout undo deploy/argocd-repo-server "${N[@]}"
expect_rc "rollout undo" 0
kc rollout status deploy/argocd-repo-server "${N[@]}" --timeout=60s
expect_rc "undo rolls back to the working image" 0
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}'
expect_eq "only the working image is left" "quay.io/argoproj/argocd:v3.6.0" "$OUT"

# --- a crash-looping container -------------------------------------------------------
ctl POST /_sim/controller/faults "[{fault: CrashLoopBackOff, workload: Deployment/argocd/argocd-notifications-controller, exitCode: 2, log: 'level=fatal msg=\"failed to parse argocd-notifications-cm: yaml: line 3: mapping values are not allowed in this context\"'}]" >/dev/null
kc rollout restart deploy/argocd-notifications-controller "${N[@]}"
crashing() {
  kc get pods -n argocd -l app.kubernetes.io/name=argocd-notifications-controller -o jsonpath='{range .items[*]}{.status.containerStatuses[0].state.waiting.reason} {.status.containerStatuses[0].restartCount}{"\n"}{end}'
  grep -qE '^CrashLoopBackOff [1-9]' <<<"$OUT"
}
wait_until "CrashLoopBackOff with restarts" 20 crashing
FIRST=$(awk '{print $2}' <<<"$OUT")
ctl POST '/_sim/clock?advance=60s' >/dev/null
crashing
SECOND=$(awk '{print $2}' <<<"$OUT")
[ "${SECOND:-0}" -gt "${FIRST:-0}" ] && pass "restarts climb ($FIRST -> $SECOND)" \
  || fail "restarts did not climb ($FIRST -> $SECOND)"
kc get pods "${N[@]}" -l app.kubernetes.io/name=argocd-notifications-controller -o jsonpath='{.items[0].metadata.name}'
POD=$OUT
kc logs "$POD" "${N[@]}" --previous
expect_rc "previous log" 0
expect_has "the previous run's fatal line" "failed to parse argocd-notifications-cm" "$OUT"
kc get pod "$POD" "${N[@]}" -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].state.waiting.message}'
expect_has "last state: exit code 2" "2 back-off" "$OUT"
kc rollout status deploy/argocd-notifications-controller "${N[@]}" --timeout=3s
expect_rc "crash loop: rollout never completes" 1
ctl DELETE /_sim/controller/faults >/dev/null
kc rollout status deploy/argocd-notifications-controller "${N[@]}" --timeout=30s
expect_rc "fault removed: the pod runs" 0

# --- a NetworkPolicy that cuts the repo-server off from git ------------------------------
argo GET '/api/v1/applications/guestbook?refresh=normal'
expect_eq "before: Synced" "Synced" "$(jget "$OUT" 'd["status"]["sync"]["status"]')"
kc apply "${N[@]}" -f - <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-repo-server-egress, namespace: argocd}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: argocd-repo-server}}
  policyTypes: [Egress]
  egress:
  - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]
  - to: [{podSelector: {matchLabels: {app.kubernetes.io/name: argocd-redis}}}]
    ports: [{port: 6379}]
EOF
expect_rc "apply the egress policy" 0
argo GET '/api/v1/applications/guestbook?refresh=normal'
expect_eq "outage: sync status Unknown" "Unknown" "$(jget "$OUT" 'd["status"]["sync"]["status"]')"
expect_has "outage: ComparisonError with the repo-server's error" \
  'ComparisonError Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = failed to list refs: Get "https://github.com/argoproj/argocd-example-apps.git/info/refs?service=git-upload-pack": dial tcp' \
  "$(jget "$OUT" '" ".join(c["type"] + " " + c["message"] for c in d["status"]["conditions"])')"
argo GET '/api/v1/repositories'
expect_eq "outage: repository connection Failed" "Failed" \
  "$(jget "$OUT" 'd["items"][0]["connectionState"]["status"]')"
# sync_status_is APP STATUS: the Application's sync status, through kubectl
sync_status_is() {
  kc get app "$1" -n argocd -o jsonpath='{.status.sync.status}'
  [ "$OUT" = "$2" ]
}
wait_until "outage: the other apps turn Unknown on their own reconcile" 20 \
  sync_status_is helm-guestbook Unknown
kc delete networkpolicy deny-repo-server-egress "${N[@]}"
expect_rc "remove the policy" 0
argo GET '/api/v1/applications/guestbook?refresh=normal'
expect_eq "recovered: Synced" "Synced" "$(jget "$OUT" 'd["status"]["sync"]["status"]')"
expect_eq "recovered: no conditions" "[]" "$(jget "$OUT" 'd["status"].get("conditions", [])')"
argo GET '/api/v1/repositories'
expect_eq "recovered: repository connection Successful" "Successful" \
  "$(jget "$OUT" 'd["items"][0]["connectionState"]["status"]')"
wait_until "recovered: the other apps follow" 20 sync_status_is helm-guestbook Synced

# --- a sync that fails: retries with backoff, then Failed ------------------------------------
ctl POST /_sim/controller/faults "[{fault: SyncFails, app: '^helm-guestbook$'}]" >/dev/null
argo POST /api/v1/applications/helm-guestbook/sync \
  '{"retryStrategy": {"limit": 2, "backoff": {"duration": "3s", "factor": 2, "maxDuration": "10s"}}}'
expect_eq "sync accepted" "Running" "$(jget "$OUT" 'd["status"]["operationState"]["phase"]')"
# the backoff leaves 6 s between the first and second retry: room for a
# loaded machine to see the state in between
retrying() {
  argo GET /api/v1/applications/helm-guestbook
  [ "$(jget "$OUT" 'd["status"]["operationState"].get("retryCount", 0)')" = 1 ]
}
wait_until "retryCount 1 while retrying" 15 retrying
expect_has "retry message" "Retrying attempt #1 at" "$(jget "$OUT" 'd["status"]["operationState"]["message"]')"
expect_eq "still Running between attempts" "Running" "$(jget "$OUT" 'd["status"]["operationState"]["phase"]')"
failed() {
  argo GET /api/v1/applications/helm-guestbook
  [ "$(jget "$OUT" 'd["status"]["operationState"]["phase"]')" = Failed ]
}
wait_until "Failed after the retry limit" 30 failed
expect_eq "retryCount at the limit" "2" "$(jget "$OUT" 'd["status"]["operationState"]["retryCount"]')"
expect_has "final message" 'is invalid: spec.template.spec.containers[0].image: Required value (retried 2 times).' \
  "$(jget "$OUT" 'd["status"]["operationState"]["message"]')"

# the Application's own retry policy (guestbook: limit 5, 5s backoff), and recovery
ctl POST /_sim/controller/faults "[{fault: SyncFails, app: '^guestbook$', message: 'admission webhook \"validate.kyverno.svc\" denied the request'}]" >/dev/null
argo POST /api/v1/applications/guestbook/sync '{}'
gb_retry() {
  argo GET /api/v1/applications/guestbook
  [ "$(jget "$OUT" 'd["status"]["operationState"].get("retryCount", 0)')" -ge 1 ]
}
wait_until "guestbook retryCount >= 1" 15 gb_retry
ctl DELETE /_sim/controller/faults >/dev/null
gb_ok() {
  argo GET /api/v1/applications/guestbook
  [ "$(jget "$OUT" 'd["status"]["operationState"]["phase"]')" = Succeeded ]
}
wait_until "the next retry succeeds once the fault is gone" 20 gb_ok
expect_eq "the successful operation shows its retries" "True" \
  "$(jget "$OUT" 'd["status"]["operationState"]["retryCount"] >= 1')"

finish
