#!/bin/bash
# Runs the Argo CD example suite against the cluster simulator with its
# Argo CD API (fixtures/kubesim, argocd-api world): Kubernetes on
# 127.0.0.1:${ARGOCD_EXAMPLE_KUBE_PORT:-16655}, Argo CD on
# ${ARGOCD_EXAMPLE_PORT:-16656}. Starts it, runs phasegate with the world's
# admin password, stops it. Arguments go to `phasegate run`.
# PG_BINARY picks the phasegate binary (default: build/phasegate).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
KPORT=${ARGOCD_EXAMPLE_KUBE_PORT:-16655}
PORT=${ARGOCD_EXAMPLE_PORT:-16656}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-example-argocd.XXXXXX")
SIM_PID=
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
"${PG_PYTHON3:-python3}" "$ROOT/fixtures/kubesim/kubesim.py" \
  --world "$ROOT/fixtures/worlds/argocd-api" --port "$KPORT" --argocd-port "$PORT" \
  --tls-dir "$WORK/tls" --pki-out "$WORK/pki" </dev/null >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do
  [ -f "$WORK/pki/port" ] && break
  sleep 0.1
done
[ -f "$WORK/pki/port" ] || { echo "the simulator did not start:" >&2; cat "$WORK/sim.log" >&2; exit 3; }
set +e
env -u ARGOCD_AUTH_TOKEN -u ARGOCD_OPTS -u ARGOCD_CONFIG HOME="$WORK" \
  ARGOCD_SERVER="127.0.0.1:$PORT" ARGOCD_PASSWORD="adm1n-Pa55word" \
  "$PG_BINARY" run "$HERE" --var ca_file="$WORK/tls/ca.crt" "$@"
rc=$?
set -e
exit $rc
