#!/bin/bash
# HTTP/2 in the k8s tests (issue 13): kubesim speaks HTTP/1.1 only, so a
# real nginx terminates TLS with HTTP/2 in front of it (as an API server or
# a load balancer in front of one does: tests/net/h2proxy.sh) and proxies
# to the simulator. The module runs reads, a list with paging and a
# server-side apply through it; nginx's access log must show each request
# arrived as HTTP/2.0, and the verdicts must be the ones the simulator
# gives over HTTP/1.1.
# Needs the k8s_sim_healthy fixture (tests/cmake/k8s.cmake) and nginx.
set -u
. "$(dirname "$0")/../sim/lib.sh"
sim_use k8s-healthy
command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v nginx >/dev/null 2>&1 || { echo "nginx not installed: skipped"; exit 77; }
T=$(mktemp -d)
H2PORT=16468
NET="$PG_SOURCE_DIR/tests/net"
cleanup() {
  "$NET/h2proxy.sh" stop "$T/proxy"
  rm -rf "$T"
}
trap cleanup EXIT
"$NET/h2proxy.sh" start "$T/proxy" "$SIM/tls/server.crt" "$SIM/tls/server.key" \
  "$SIM/tls/ca.crt" "$H2PORT=https://127.0.0.1:$PORT" || exit 1
kubeconfig_via "$H2PORT" "$T/kubeconfig"
curl -s -X POST --max-time 10 --cacert "$SIM/tls/ca.crt" "https://127.0.0.1:$PORT/_sim/reset" >/dev/null
K8S_KUBECONFIG="$T/kubeconfig" "$PG_BINARY" run "$PG_SOURCE_DIR/tests/k8s/suites/http2.yaml" \
  --no-color --out "$T/out" >"$T/run.log" 2>&1
RC=$?
expect_eq "every check passes over HTTP/2 (exit)" "0" "$RC"
LOG=$(cat "$T/proxy/access.log" 2>/dev/null)
expect_has "a GET arrived as HTTP/2" "HTTP/2.0 GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server 200" "$LOG"
expect_has "a paged list arrived as HTTP/2" "HTTP/2.0 GET /api/v1/pods 200" "$LOG"
expect_has "server-side apply arrived as HTTP/2" "HTTP/2.0 PATCH /api/v1/namespaces/default/configmaps/http2-check 201" "$LOG"
case "$LOG" in *"HTTP/1.1"*) fail "a request used HTTP/1.1" ;; *) pass "no request used HTTP/1.1" ;; esac
[ "$FAILS" -eq 0 ] || { cat "$T/run.log" "$T/proxy/error.log" >&2; }
curl -s -X POST --max-time 10 --cacert "$SIM/tls/ca.crt" "https://127.0.0.1:$PORT/_sim/reset" >/dev/null
finish
