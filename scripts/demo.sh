#!/usr/bin/env bash
# The main job: sets everything up on a fresh machine (packages, build, the
# servers the example suites talk to, all on 127.0.0.1) and runs the
# example suites, writing every report (JUnit, Markdown go-live report,
# JSON) under out/. Servers stop when the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
cmake -S . -B build -DPHASEGATE_WERROR=ON >/dev/null
cmake --build build -j "$(nproc)" --target phasegate
pg="$root/build/phasegate"
work="$root/out/servers"
mkdir -p "$work"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# A listener for the connectivity phase of the basic example.
port=17180
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done

status=0
run() {
  local name=$1; shift
  echo
  echo "=== $name ==="
  set +e
  "$pg" run "$@" --out "out/$name"
  local rc=$?
  set -e
  echo "--- $name: exit code $rc (reports in out/$name/)"
  return $rc
}

# 1. The basic example, fully attested: every gate passes, verdict GO.
run basic suites/examples/basic --attest suites/examples/basic/attest.yaml --var listen_port=$port || status=1
# 2. Its failing variant: phase 2's gate fails, phases 3-4 are blocked (exit 1 expected).
if run basic-failing suites/examples/basic --env-file suites/examples/basic/failing.env --var listen_port=$port; then
  echo "the failing variant should have failed" >&2; status=1
fi
exit $status
