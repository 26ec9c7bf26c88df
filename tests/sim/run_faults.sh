#!/bin/bash
# Fault injection through POST /_sim/faults, seen through kubectl and curl:
# 5xx, connection reset, latency beyond the client's timeout, a slow body,
# a limited number of times, and clearing the faults.
# Needs the sim_broken fixture (tests/cmake/k8s.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use broken
ctl POST '/_sim/reset?paused=true' >/dev/null || { echo "reset failed" >&2; exit 1; }
trap 'ctl DELETE /_sim/faults >/dev/null 2>&1' EXIT
D=/apis/apps/v1/namespaces/argocd/deployments/argocd-server

kc get deploy argocd-server -n argocd -o name   # warm the discovery cache
expect_rc "no faults: get works" 0

ctl POST /_sim/faults "[{path_regex: '^$D\$', status: 503, message: 'etcd leader changed'}]" >/dev/null
kc get deploy argocd-server -n argocd -o name
expect_rc "503 fault" 1
expect_has "503 surfaces" "etcd leader changed" "$ERR"
kc get deploy argocd-repo-server -n argocd -o name
expect_rc "other paths unaffected" 0

ctl POST /_sim/faults "[{path_regex: '^$D\$', reset: true}]" >/dev/null
kc get deploy argocd-server -n argocd -o name --request-timeout=5s
expect_rc "reset fault" 1
case "$ERR" in
  *"connection reset"*|*EOF*|*"broken pipe"*) pass "reset surfaces as a transport error" ;;
  *) fail "reset fault error: $ERR" ;;
esac

ctl POST /_sim/faults "[{path_regex: '^$D\$', latency_ms: 4000}]" >/dev/null
kc get deploy argocd-server -n argocd -o name --request-timeout=1s
expect_rc "latency beyond the request timeout" 1
case "$ERR" in
  *"Timeout"*|*"deadline exceeded"*|*"timeout"*) pass "latency surfaces as a timeout" ;;
  *) fail "latency fault error: $ERR" ;;
esac

ctl POST /_sim/faults "[{path_regex: '^$D\$', slow_body_ms: 300}]" >/dev/null
kc get deploy argocd-server -n argocd -o jsonpath='{.spec.replicas}'
expect_eq "slow body still arrives whole" "3" "$OUT"

ctl POST /_sim/faults "[{path_regex: '^$D\$', method: GET, status: 500, times: 1}]" >/dev/null
kc get deploy argocd-server -n argocd -o name
expect_rc "times: first request fails" 1
kc get deploy argocd-server -n argocd -o name
expect_rc "times: second request passes" 0
expect_eq "fault use counted" "1" "$(jget "$(ctl GET /_sim/faults)" 'd["faults"][0]["used"]')"

BODY=$(curl -s --max-time 10 --cacert "$SIM/tls/ca.crt" -o /dev/null -w '%{http_code}' \
  -X POST -H 'Content-Type: application/yaml' --data-binary '[{path_regex: "("}]' \
  "https://127.0.0.1:$PORT/_sim/faults")
expect_eq "bad fault regex rejected" "400" "$BODY"

ctl DELETE /_sim/faults >/dev/null
expect_eq "faults cleared" "0" "$(jget "$(ctl GET /_sim/faults)" 'len(d["faults"])')"
kc get deploy argocd-server -n argocd -o name
expect_rc "after clearing: get works" 0

# Discovery can fail too: a fresh cache and a 503 on /apis.
# shellcheck disable=SC2034 # read by kc in lib.sh
CACHE="$HOME/cold-cache"
ctl POST /_sim/faults "[{path_regex: '^/apis\$', status: 503}]" >/dev/null
kc get deploy -n argocd -o name --request-timeout=5s
expect_rc "discovery failing" 1
ctl DELETE /_sim/faults >/dev/null
finish
