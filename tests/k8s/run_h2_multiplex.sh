#!/bin/bash
# Many concurrent checks of one module share one HTTP/2 connection (issue
# 12): a real nginx speaks TLS + HTTP/2 in front of the simulator
# (tests/net/h2proxy.sh), the module runs 64 checks of one checkpoint with
# --jobs 64, and nginx's access log must show every request arrived as
# HTTP/2.0 on at most 2 client connections, with many in flight together on
# one of them (tests/net/h2log.py). Each check expects the answer for its
# own object, so a response handed to the wrong stream fails it.
#   run_h2_multiplex.sh k8s      against k8s-healthy (fixture k8s_sim_healthy)
#   run_h2_multiplex.sh argocd   against argocd-read's Argo CD API (argocd_sim_read)
# The simulator answers the module's API requests 300 ms late while the
# test runs (a fault rule), so concurrent requests overlap at nginx
# whatever the machine's load.
set -u
. "$(dirname "$0")/../sim/lib.sh"
mod=${1:-}
JOBS=64
case $mod in
  k8s) sim_use k8s-healthy; PPORT=16466; UPSTREAM=$PORT ;;
  argocd) sim_use argocd-read; PPORT=16467; UPSTREAM=$(cat "$SIM/pki/argocd-port") ;;
  *) echo "usage: $0 k8s|argocd" >&2; exit 2 ;;
esac
command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v nginx >/dev/null 2>&1 || { echo "nginx not installed: skipped"; exit 77; }
NET="$PG_SOURCE_DIR/tests/net"
T=$(mktemp -d)
faults() { # RULES: the simulator's fault rules (JSON; [] clears them)
  curl -fsS -o /dev/null --max-time 10 --cacert "$SIM/tls/ca.crt" -X POST \
    -H 'Content-Type: application/json' --data-binary "$1" "https://127.0.0.1:$PORT/_sim/faults"
}
cleanup() {
  faults '[]' || true
  "$NET/h2proxy.sh" stop "$T/proxy"
  rm -rf "$T"
}
trap cleanup EXIT
"$NET/h2proxy.sh" start "$T/proxy" "$SIM/tls/server.crt" "$SIM/tls/server.key" \
  "$SIM/tls/ca.crt" "$PPORT=https://127.0.0.1:$UPSTREAM" || exit 1

# --- the suite: JOBS checks in one checkpoint ------------------------------
suite=$T/suite.yaml
{
  echo "name: h2-multiplex-$mod"
  if [ "$mod" = k8s ]; then
    # a bearer token: client certificates end at a proxy
    echo 'modules: {k8s: {kubeconfig: "${env.K8S_KUBECONFIG}", context: token-admin, namespace: argocd}}'
  else
    echo 'modules: {argocd: {ca_file: "${env.ARGOCD_CA}"}}'
  fi
  echo "defaults: {timeout: 30s}"
  echo "phases:"
  echo "  - {id: '1', name: Concurrent, steps: [{id: '1.1', name: All at once, checkpoint: {id: all, checks: ["
  if [ "$mod" = k8s ]; then
    objs=(deployment/argocd-application-controller deployment/argocd-redis
      deployment/argocd-repo-server deployment/argocd-server configmap/argocd-cm
      configmap/argocd-cmd-params-cm configmap/argocd-rbac-cm service/argocd-server
      application/cloudtolocalllm-infrastructure application/cloudtolocalllm-database
      application/cloudtolocalllm-api-backend application/cloudtolocalllm-web-frontend
      application/cloudtolocalllm-monitoring application/cloudtolocalllm-utilities
      application/cloudtolocalllm-ingress)
    for i in $(seq 0 $((JOBS - 1))); do
      o=${objs[$((i % ${#objs[@]}))]}
      if [ $((i % 4)) = 3 ] && [ "${o%%/*}" = deployment ]; then
        echo "    {id: c$i, k8s: {rollout: $o}},"
      else
        echo "    {id: c$i, k8s: {get: $o}, expect: [{path: name, equals: ${o#*/}}, {path: exists, equals: true}]},"
      fi
    done
  else
    apps=("guestbook Healthy Synced" "shop-frontend Healthy OutOfSync"
      "shop-backend Healthy Synced" "payments Degraded OutOfSync")
    for i in $(seq 0 $((JOBS - 1))); do
      case $((i % 6)) in
        4) echo "    {id: c$i, argocd: {version: true}, expect: [{path: version, equals: v3.6.0+kubesim}]}," ;;
        5) echo "    {id: c$i, argocd: {apps: true}, expect: [{path: count, equals: 4}]}," ;;
        *)
          read -r name health sync <<<"${apps[$((i % 4))]}"
          echo "    {id: c$i, argocd: {app: $name}, expect: [{path: health, equals: $health}, {path: sync, equals: $sync}]},"
          ;;
      esac
    done
  fi
  echo "  ]}}]}"
} >"$suite"

# --- the run through the proxy ----------------------------------------------
kubeconfig_via "$PPORT" "$T/kubeconfig"
env_run=(env -u ARGOCD_CONFIG -u ARGOCD_CONFIG_DIR HOME="$T" K8S_KUBECONFIG="$T/kubeconfig")
if [ "$mod" = argocd ]; then
  token=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' \
    "$SIM/pki/argocd-tokens.json")
  env_run+=(ARGOCD_SERVER="127.0.0.1:$PPORT" ARGOCD_CA="$SIM/tls/ca.crt" ARGOCD_AUTH_TOKEN="$token")
fi
faults '[{"path_regex": "^/api", "latency_ms": 300}]' || { fail "cannot set the latency fault"; finish; }
"${env_run[@]}" "$PG_BINARY" run "$suite" --jobs "$JOBS" --no-color --out "$T/out" \
  >"$T/run.log" 2>&1
RC=$?
faults '[]'
expect_eq "every check passes through the HTTP/2 proxy (exit)" "0" "$RC"
PASSED=$("$PY" - "$T/out/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(sum(1 for p in r["phases"] for s in p["steps"] for c in s["checks"]
          if c.get("status") == "pass"))
PY
)
expect_eq "all $JOBS checks passed" "$JOBS" "$PASSED"

# --- how the requests travelled ---------------------------------------------
# One connection is the expectation; 2 allows for a run whose first
# requests raced the connection's HTTP/2 agreement.
OUT=$("$PY" "$NET/h2log.py" "$T/proxy/access.log" --port "$PPORT" --protocol HTTP/2.0 \
  --min-requests "$JOBS" --max-connections 2 --min-in-flight 8)
LRC=$?
echo "$OUT"
expect_eq "nginx's access log: HTTP/2 multiplexed on at most 2 connections" "0" "$LRC"
if [ "$FAILS" -ne 0 ]; then
  tail -40 "$T/run.log" >&2
  cat "$T/proxy/error.log" >&2
fi
finish
