#!/bin/bash
# The real kubectl against kubesim serving fixtures/worlds/argocd-broken:
# rollout verdicts (deadline exceeded, a rollout completing while kubectl
# watches, a deadline passing later), restart counts rising, FailedSync
# events, a forbidden service account, 401.  The script clock is paused and
# advanced by the test, so nothing depends on how fast this machine is.
# Needs the sim_broken fixture (tests/cmake/k8s.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use broken
ctl POST '/_sim/reset?paused=true' >/dev/null || { echo "reset failed" >&2; exit 1; }

check_world_counts argocd-broken

# --- a rollout that exceeded its progress deadline ----------------------------
kc rollout status deployment/argocd-server -n argocd --timeout=5s
expect_rc "rollout status: deadline exceeded" 1
expect_has "deadline wording" 'deployment "argocd-server" exceeded its progress deadline' "$ERR"

# --- a rollout that completes while kubectl watches ----------------------------
kc get deploy argocd-repo-server -n argocd -o jsonpath='{.status.updatedReplicas}/{.spec.replicas}'
expect_eq "repo-server mid-rollout at t=0" "1/2" "$OUT"
ROUT="$HOME/rollout.out"
kubectl --kubeconfig "$KCFG" --cache-dir "$CACHE" rollout status \
  deployment/argocd-repo-server -n argocd --timeout=60s >"$ROUT" 2>&1 &
RPID=$!
# The request log notes each watch when it starts.
if wait_for_log 'WATCH-START /apis/apps/v1/namespaces/argocd/deployments\?.*metadata\.name%3Dargocd-repo-server'; then
  pass "kubectl is watching"
else
  fail "no watch request seen"
fi
ctl POST /_sim/clock 'advance: 3s' >/dev/null
wait "$RPID"
RC=$?
expect_eq "rollout status completes once the script makes it available" "0" "$RC"
expect_has "kubectl waited first" 'Waiting for deployment "argocd-repo-server" rollout to finish' "$(cat "$ROUT")"
expect_has "then succeeded" 'deployment "argocd-repo-server" successfully rolled out' "$(cat "$ROUT")"
kc get pods -n argocd -l app.kubernetes.io/name=argocd-repo-server -o jsonpath='{.items[*].status.containerStatuses[0].ready}'
expect_eq "its pods are ready too" "true true" "$OUT"

# --- restart counts rise with the clock ------------------------------------------
P=argocd-application-controller-073e24038d-dq4fj
kc get pod "$P" -n argocd -o jsonpath='{.status.containerStatuses[0].restartCount}'
expect_eq "restarts at t=3s" "4" "$OUT"
ctl POST /_sim/clock 'advance: 4s' >/dev/null
kc get pod "$P" -n argocd -o jsonpath='{.status.containerStatuses[0].restartCount}'
expect_eq "restarts at t=7s" "6" "$OUT"

# --- a progress deadline that passes later (already passed at t=7s) ----------------
kc get deploy argocd-applicationset-controller -n argocd -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
expect_eq "deadline condition appeared" "ProgressDeadlineExceeded" "$OUT"
kc rollout status deployment/argocd-applicationset-controller -n argocd --timeout=5s
expect_rc "rollout status on it fails" 1
expect_has "its deadline wording" 'deployment "argocd-applicationset-controller" exceeded its progress deadline' "$ERR"
ctl POST '/_sim/reset?paused=true' >/dev/null
kc get deploy argocd-applicationset-controller -n argocd -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}'
expect_eq "reset restarts the clock" "ReplicaSetUpdated" "$OUT"

# --- events -------------------------------------------------------------------
kc get events -n argocd --field-selector reason=FailedSync -o json
expect_eq "one FailedSync event" "1" "$(jget "$OUT" 'len(d["items"])')"
expect_eq "on the failing Application" "Application/cloudtolocalllm-api-backend" "$(jget "$OUT" '"%s/%s" % (d["items"][0]["involvedObject"]["kind"], d["items"][0]["involvedObject"]["name"])')"
kc get events -A --field-selector type=Warning -o name
expect_eq "three warnings" "3" "$(printf '%s\n' "$OUT" | grep -c .)"
kc get events -n argocd --field-selector reason=FailedSync
expect_has "events table" "FailedSync" "$OUT"

# --- health signals other modules judge ------------------------------------------
kc get svc argocd-server -n argocd -o jsonpath='{.status.loadBalancer}'
expect_eq "LoadBalancer without address" "{}" "$OUT"
kc get pods -n argocd --field-selector status.phase=Running -o jsonpath='{range .items[*]}{.status.containerStatuses[0].state.waiting.reason}{"\n"}{end}'
expect_has "a CrashLoopBackOff pod" "CrashLoopBackOff" "$OUT"
kc get nodes -o jsonpath='{.items[?(@.metadata.name=="node-3")].status.conditions[0].status}'
expect_eq "node-3 not ready" "Unknown" "$OUT"
kc logs -n argocd deployment/argocd-server
expect_has "server log tells why" "failed to load TLS certificate" "$OUT"
kc logs -n argocd argocd-server-2decca1494-h6lzf --previous --tail=1
expect_eq "previous container's last line" 'level=fatal msg="failed to load TLS certificate: open /app/config/server/tls/tls.crt: no such file or directory"' "$OUT"
kc logs -n argocd argocd-server-2decca1494-59s7n --previous
expect_rc "no previous container" 1
expect_has "no previous wording" 'previous terminated container "argocd-server" in pod "argocd-server-2decca1494-59s7n" not found' "$ERR"

# --- a forbidden service account, an unknown token ----------------------------------
kc --context forbidden get deploy -n argocd
expect_rc "forbidden list" 1
expect_has "forbidden list wording" 'Error from server (Forbidden): deployments.apps is forbidden: User "system:serviceaccount:argocd:phasegate" cannot list resource "deployments" in API group "apps" in the namespace "argocd"' "$ERR"
kc --context forbidden get deploy argocd-server -n argocd
expect_has "forbidden get wording" 'deployments.apps "argocd-server" is forbidden: User "system:serviceaccount:argocd:phasegate" cannot get resource "deployments" in API group "apps" in the namespace "argocd"' "$ERR"
kc --context forbidden get nodes
expect_has "forbidden at cluster scope" 'cannot list resource "nodes" in API group "" at the cluster scope' "$ERR"
kc --context forbidden auth can-i '*' '*' --all-namespaces
expect_rc "forbidden can-i * * -A" 1
expect_eq "forbidden can-i answer" "no" "$OUT"
kc --context forbidden auth can-i get pods -n default
expect_eq "its one grant" "yes" "$OUT"
kc --context forbidden get pods -n default -o name
expect_rc "its one grant works" 0
kc --context invalid-token get deploy -n argocd
expect_rc "unknown token" 1
expect_has "401 wording" "You must be logged in to the server (Unauthorized)" "$ERR"
finish
