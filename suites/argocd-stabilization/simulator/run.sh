#!/bin/bash
# Runs the suite against the cluster simulator and the local test servers:
#   suites/argocd-stabilization/simulator/run.sh [healthy|broken|broken-6..9] [phasegate run options]
# e.g. `run.sh healthy --out out/argocd --attest suites/argocd-stabilization/attest.example.yaml`.
# Starts kubesim (world argocd-healthy, or
# argocd-broken) on 127.0.0.1:${SIM_PORT:-16481}, the Argo CD metrics
# stand-ins on 16485-16487 (as env/simulator.env says), and nginx, dnsmasq
# and Prometheus through tests/net/*.sh; stops all of them on exit.
# PG_BINARY picks the phasegate binary (default: build/phasegate).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$SUITE/../.." && pwd)
PY=${PG_PYTHON3:-python3}
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
PORT=${SIM_PORT:-16481}
WORLD=${1:-healthy}
[ $# -gt 0 ] && shift
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-argocd-suite.XXXXXX")
export PG_SOURCE_DIR=$ROOT PG_BUILD_DIR=$WORK PG_PYTHON3=$PY
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sh "$ROOT/tests/net/prometheus.sh" stop >/dev/null 2>&1 || true
	sh "$ROOT/tests/net/dns.sh" stop >/dev/null 2>&1 || true
	sh "$ROOT/tests/net/nginx.sh" stop >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

WORLD_DIR=$WORK/world
case "$WORLD" in
healthy)
	cp -r "$ROOT/fixtures/worlds/argocd-healthy" "$WORK/world" ;;
broken) cp -r "$ROOT/fixtures/worlds/argocd-broken" "$WORK/world" ;;
broken-[6-9]) # layers over argocd-healthy: served in place (they include it)
	WORLD_DIR=$ROOT/fixtures/worlds/argocd-$WORLD ;;
*) echo "usage: $0 [healthy|broken|broken-6..9] [phasegate run options]" >&2; exit 2 ;;
esac

"$PY" "$ROOT/fixtures/kubesim/kubesim.py" --world "$WORLD_DIR" --port "$PORT" \
	--tls-dir "$WORK/tls" --pki-out "$WORK/pki" </dev/null >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
port=16485
for c in server controller repo-server; do
	"$PY" "$ROOT/fixtures/prometheus/fake_api.py" "$port" "$HERE/metrics/$c" "$WORK/metrics-$c.pid" \
		</dev/null >"$WORK/metrics-$c.log" 2>&1 &
	PIDS+=($!)
	port=$((port + 1))
done
sh "$ROOT/tests/net/nginx.sh" start >/dev/null
sh "$ROOT/tests/net/dns.sh" start >/dev/null
sh "$ROOT/tests/net/prometheus.sh" start >/dev/null
for _ in $(seq 1 100); do
	[ -f "$WORK/pki/port" ] && break
	sleep 0.1
done
[ -f "$WORK/pki/port" ] || { echo "the simulator did not start:" >&2; cat "$WORK/sim.log" >&2; exit 3; }

export KUBECONFIG=$WORK/pki/kubeconfig no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
# the simulator has no Argo CD API: any token will do, it is only masked
export ARGOCD_AUTH_TOKEN=${ARGOCD_AUTH_TOKEN:-simulator-token}
set +e
"$PG_BINARY" run "$SUITE" --env-file "$SUITE/env/simulator.env" \
	--var backup_dir="$WORK/backup" "$@"
rc=$?
set -e
exit $rc
