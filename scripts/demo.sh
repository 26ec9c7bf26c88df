#!/usr/bin/env bash
# The main job. On a fresh machine (as root) it installs what it needs,
# builds phasegate, starts every server the suites talk to on 127.0.0.1
# (the cluster simulator with two worlds, nginx with a test CA, dnsmasq,
# Prometheus with backfilled data) and runs the shipped suites, writing every
# report (JUnit XML, Markdown go-live report, JSON) under out/<run>/.
# Each run has an expected verdict; the script fails if one differs.
# Servers stop when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
cmake -S . -B build -DPHASEGATE_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" --target phasegate
pg="$root/build/phasegate"

export PG_SOURCE_DIR="$root" PG_BUILD_DIR="$root/build/demo" PG_PYTHON3=/usr/bin/python3
mkdir -p "$PG_BUILD_DIR" out
sim_healthy=16491
sim_broken=16492
listen_port=17180

pids=()
stop_all() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  tests/sim/sim_ctl.sh stop demo-healthy >/dev/null 2>&1
  tests/sim/sim_ctl.sh stop demo-broken >/dev/null 2>&1
  tests/net/prometheus.sh stop >/dev/null 2>&1
  tests/net/dns.sh stop >/dev/null 2>&1
  tests/net/nginx.sh stop >/dev/null 2>&1
  wait 2>/dev/null
}
trap stop_all EXIT

echo "== starting servers on 127.0.0.1"
tests/net/nginx.sh start
tests/net/dns.sh start
tests/net/prometheus.sh start
tests/sim/sim_ctl.sh start demo-healthy argocd-healthy "$sim_healthy"
tests/sim/sim_ctl.sh start demo-broken argocd-broken "$sim_broken"
/usr/bin/python3 -m http.server "$listen_port" --bind 127.0.0.1 --directory "$PG_BUILD_DIR" \
  >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$listen_port") 2>/dev/null && break; sleep 0.05; done
kube_healthy="$PG_BUILD_DIR/tests/sim/demo-healthy/pki/kubeconfig"
kube_broken="$PG_BUILD_DIR/tests/sim/demo-broken/pki/kubeconfig"
ca="$PG_BUILD_DIR/net/nginx/pki/ca.crt"

summary=()
failures=0
# run NAME EXPECTED_EXIT EXPECTED_VERDICT [env NAME=VALUE ...] -- phasegate-args...
run() {
  local name=$1 want_rc=$2 want_verdict=$3
  shift 3
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  echo
  echo "================ $name"
  set +e
  env "${envs[@]}" "$pg" run "$@" --out "out/$name"
  local rc=$?
  set -e
  local verdict
  verdict=$(jq -r .verdict "out/$name/results.json" 2>/dev/null || echo "?")
  local mark="as expected"
  if [ "$rc" != "$want_rc" ] || [ "$verdict" != "$want_verdict" ]; then
    mark="UNEXPECTED (wanted exit $want_rc, $want_verdict)"
    failures=$((failures + 1))
  fi
  summary+=("$(printf '%-34s exit %-3s %-8s %s' "$name" "$rc" "$verdict" "$mark")")
}

run basic 0 GO -- suites/examples/basic \
  --attest suites/examples/basic/attest.yaml --var listen_port=$listen_port
run basic-failing 1 NO-GO -- suites/examples/basic \
  --env-file suites/examples/basic/failing.env --var listen_port=$listen_port
run network 0 GO -- suites/examples/network --var ca="$ca"
run kubernetes 0 GO KUBECONFIG="$kube_healthy" -- suites/examples/kubernetes --var context=admin
if [ -d suites/argocd-stabilization ]; then
  s=suites/argocd-stabilization
  run argocd-stabilization 0 PENDING KUBECONFIG="$kube_healthy" -- "$s" \
    --env-file "$s/env/simulator.env"
  run argocd-stabilization-attested 0 GO KUBECONFIG="$kube_healthy" -- "$s" \
    --env-file "$s/env/simulator.env" --attest "$s/attest.example.yaml"
  run argocd-stabilization-broken 1 NO-GO KUBECONFIG="$kube_broken" -- "$s" \
    --env-file "$s/env/simulator.env"
fi

echo
echo "================ summary (reports in out/<run>/: junit.xml, report.md, results.json)"
printf '%s\n' "${summary[@]}"
exit $((failures > 0))
