#!/bin/bash
# Runs the Kubernetes example suite against the cluster simulator
# (fixtures/kubesim, healthy world) on 127.0.0.1:${K8S_EXAMPLE_PORT:-16471}:
# starts it, runs phasegate with the simulator's kubeconfig, stops it.
# Arguments go to `phasegate run` (e.g. --out out/kubernetes).
# PG_BINARY picks the phasegate binary (default: build/phasegate).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
PORT=${K8S_EXAMPLE_PORT:-16471}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-example-k8s.XXXXXX")
SIM_PID=
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
"${PG_PYTHON3:-python3}" "$ROOT/fixtures/kubesim/kubesim.py" \
  --world "$ROOT/fixtures/worlds/argocd-healthy" --port "$PORT" \
  --tls-dir "$WORK/tls" --pki-out "$WORK/pki" </dev/null >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do
  [ -f "$WORK/pki/port" ] && break
  sleep 0.1
done
[ -f "$WORK/pki/port" ] || { echo "the simulator did not start:" >&2; cat "$WORK/sim.log" >&2; exit 3; }
set +e
KUBECONFIG="$WORK/pki/kubeconfig" "$PG_BINARY" run "$HERE" --var context=admin "$@"
rc=$?
set -e
exit $rc
