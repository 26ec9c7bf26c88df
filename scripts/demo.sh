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
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pids=()
  tests/sim/sim_ctl.sh stop demo-healthy >/dev/null 2>&1 || true
  tests/sim/sim_ctl.sh stop demo-broken >/dev/null 2>&1 || true
  tests/net/prometheus.sh stop >/dev/null 2>&1 || true
  tests/net/dns.sh stop >/dev/null 2>&1 || true
  tests/net/nginx.sh stop >/dev/null 2>&1 || true
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
  record "$name" "$rc" "$want_rc" "$want_verdict"
}
# first_screen NAME VERDICT: the go-live report renders as GitHub-flavoured
# Markdown (cmark-gfm), and its first screen (the first 24 lines of the
# rendered page's text) holds the verdict and the reason for it.
first_screen() {
  local md="out/$1/report.md" html="out/$1/report.cmark.html" screen
  cmark-gfm --extension table --extension autolink "$md" >"$html" 2>/dev/null || return 1
  screen=$(sed -e 's/<[^>]*>//g' "$html" | grep -v '^[[:space:]]*$' | head -24)
  grep -q "^Go-live verdict: $2\$" <<<"$screen" && grep -q '^Why: .' <<<"$screen"
}
# record NAME RC EXPECTED_EXIT EXPECTED_VERDICT: one line of the summary.
record() {
  local name=$1 rc=$2 want_rc=$3 want_verdict=$4 verdict mark="as expected"
  verdict=$(jq -r .verdict "out/$name/results.json" 2>/dev/null || echo "?")
  if [ "$rc" != "$want_rc" ] || [ "$verdict" != "$want_verdict" ]; then
    mark="UNEXPECTED (wanted exit $want_rc, $want_verdict)"
    failures=$((failures + 1))
  elif ! first_screen "$name" "$verdict"; then
    mark="UNEXPECTED (report.md: no verdict and reason on its first screen under cmark-gfm)"
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
stop_all

# The Argo CD example: its script starts a simulator with the Argo CD API.
echo
echo "================ argocd-example"
set +e
PG_BINARY="$pg" suites/examples/argocd/run-against-simulator.sh --out out/argocd-example
rc=$?
set -e
record argocd-example "$rc" 0 GO

# The Argo CD stabilisation plan against upstream Argo CD 3.6 in the
# simulator. Its runner starts its own simulator (with the Argo CD API),
# metrics, Prometheus with a Prometheus Operator stand-in, nginx, dnsmasq and
# the test Prometheus for each run.
argocd() { # NAME EXPECTED_EXIT EXPECTED_VERDICT WORLD options...
  local name=$1 want_rc=$2 want_verdict=$3 world=$4
  shift 4
  echo
  echo "================ $name"
  set +e
  PG_BINARY="$pg" suites/argocd-stabilization/simulator/run.sh "$world" "$@" --out "out/$name"
  local rc=$?
  set -e
  record "$name" "$rc" "$want_rc" "$want_verdict"
}
# Phases 1-5 (step 4.2 provokes failures and deletes what it made: it runs
# only with --allow-destructive); not the whole suite, so PARTIAL.
argocd argocd-stabilization-1-5 0 PARTIAL healthy --until 5.2 --allow-destructive
# One broken world per phase: NO-GO at that phase's gate, with the failing
# check's evidence and remedy; worlds 2 and 4 show the step's rollback.
for n in 1 2 3 4 5; do
  argocd "argocd-stabilization-broken-$n" 1 NO-GO "broken-$n" --until 5.2 --allow-destructive
done
# Step 4.1 alone reads only: no --allow-destructive needed, no action runs.
argocd argocd-stabilization-step-4.1 0 PARTIAL healthy --step 4.1
# The whole plan (phase 8.2 deletes and restores the Argo CD namespace: only
# with --allow-destructive): PENDING without the sign-offs, GO with them.
argocd argocd-stabilization 0 PENDING healthy --allow-destructive
argocd argocd-stabilization-attested 0 GO healthy --allow-destructive \
  --attest suites/argocd-stabilization/attest.example.yaml
# A world per phase 6-9 with one fault each: NO-GO at that phase's gate
# (from the phase on; 9 from its step 9.3); 8 shows the rollback.
for n in 6 7; do
  argocd "argocd-stabilization-broken-$n" 1 NO-GO "broken-$n" --allow-destructive --from "$n.1"
done
# phase 8 reads Argo CD's metrics in Prometheus: step 3.1 makes them scraped;
# broken-8-load is a slow controller that 8.1's load exposes
argocd argocd-stabilization-broken-8 1 NO-GO broken-8 --allow-destructive --step 3.1,8.1,8.2
argocd argocd-stabilization-broken-8-load 1 NO-GO broken-8-load --step 3.1,8.1
argocd argocd-stabilization-broken-9 1 NO-GO broken-9 --allow-destructive --from 9.3

echo
echo "================ summary (reports in out/<run>/: junit.xml, report.md, results.json)"
printf '%s\n' "${summary[@]}"
exit $((failures > 0))
