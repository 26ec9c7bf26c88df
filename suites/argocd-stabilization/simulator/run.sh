#!/bin/bash
# Runs the suite against the cluster simulator and the local test servers:
#   suites/argocd-stabilization/simulator/run.sh WORLD [phasegate run options]
# WORLD is `healthy` (fixtures/worlds/argocd-stabilization: upstream Argo CD
# 3.6 with the team's applications), `broken-N` (argocd-broken-N, N = 1..9:
# the same with one fault that must stop phase N's gate), `broken-8-load`
# (a slow application controller: step 8.1's gate), `broken` (the same as
# broken-2) or `routing-conflict` (step 7.2's Services owned by another
# field manager with other values). e.g. `run.sh healthy --allow-destructive --out out/argocd`.
#
# It starts, all on 127.0.0.1 and stopped on exit, each on a port counted
# from SIM_PORT (default 16481, so the ports below; another SIM_PORT moves
# them all, and the run's variables follow, so runs can go side by side):
# - kubesim with the world and its Argo CD API (SIM_PORT, SIM_PORT+1);
# - the live Argo CD metrics the simulator derives from its world (16485
#   API server, 16486 application controller, 16487 repo server: +4..+6);
# - a real Prometheus on 16489 (+8; alerts resent every 2s instead of every
#   minute, so a freshly started one reaches Alertmanager at once) with
#   simulator/prom_operator.py doing the
#   Prometheus Operator's part (PrometheusRules and ServiceMonitors of the
#   cluster become its rules and scrape jobs);
# - the real Alertmanager on 16483 (+2; fixtures/alertmanager/alertmanager.yml),
#   which that Prometheus alerts and scrapes, delivering to the webhook
#   receiver fixtures/alertmanager/receiver.py on 16484 (+3; its record:
#   $SIM_WORK/alert-receiver.jsonl); SIM_ALERT_RECEIVER=refuse makes the
#   receiver answer 503 to every notification (a receiver that is down);
# - nginx, dnsmasq and the test Prometheus of tests/net/*.sh (phases 6-9),
#   whose Grafana API stand-in wants the token in
#   $PG_BUILD_DIR/net-prom/grafana-token (passed as GRAFANA_TOKEN unless
#   GRAFANA_TOKEN is set already).
# PG_BINARY picks the phasegate binary (default: build/phasegate);
# PG_NET_EXTERNAL=1 leaves nginx, dnsmasq and the test Prometheus to the
# caller (the ctest fixtures); SIM_WORK=DIR keeps the run's files (the
# kubeconfig, the Argo CD tokens, logs) in DIR instead of a temporary one.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SUITE=$(cd "$HERE/.." && pwd)
ROOT=$(cd "$SUITE/../.." && pwd)
PY=${PG_PYTHON3:-python3}
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
PORT=${SIM_PORT:-16481}
case "$PORT" in
[1-9][0-9][0-9][0-9] | [1-5][0-9][0-9][0-9][0-9]) ;;
*) echo "SIM_PORT must be a port number from 1000 to 59999" >&2; exit 2 ;;
esac
APORT=$((PORT + 1))
AM_PORT=$((PORT + 2))
RECEIVER_PORT=$((PORT + 3))
SERVER_METRICS_PORT=$((PORT + 4))
CONTROLLER_METRICS_PORT=$((PORT + 5))
REPO_METRICS_PORT=$((PORT + 6))
PROM_PORT=$((PORT + 8))
WORLD=${1:-healthy}
[ $# -gt 0 ] && shift
case "$WORLD" in
healthy) WDIR=argocd-stabilization ;;
broken) WDIR=argocd-broken-2 ;;
broken-[1-9]) WDIR=argocd-$WORLD ;;
routing-conflict) WDIR=argocd-routing-conflict ;;
broken-8-load) WDIR=argocd-broken-8-load ;;
*) echo "usage: $0 healthy|broken-1..9|broken-8-load|broken|routing-conflict [phasegate run options]" >&2; exit 2 ;;
esac
if [ -n "${SIM_WORK:-}" ]; then
	WORK=$SIM_WORK
	rm -rf "$WORK" && mkdir -p "$WORK"
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-argocd-suite.XXXXXX")
fi
NET=${PG_NET_EXTERNAL:-0}
export PG_SOURCE_DIR=$ROOT PG_PYTHON3=$PY
[ "$NET" = 1 ] || export PG_BUILD_DIR=$WORK
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ "$NET" != 1 ]; then
		sh "$ROOT/tests/net/prometheus.sh" stop >/dev/null 2>&1 || true
		sh "$ROOT/tests/net/dns.sh" stop >/dev/null 2>&1 || true
		sh "$ROOT/tests/net/nginx.sh" stop >/dev/null 2>&1 || true
	fi
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${SIM_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# the world and the worlds it includes, copied so the run cannot change them
cp -r "$ROOT/fixtures/worlds" "$WORK/worlds"
"$PY" "$ROOT/fixtures/kubesim/kubesim.py" --world "$WORK/worlds/$WDIR" --port "$PORT" \
	--argocd-port "$APORT" --argocd-metrics-ports "$CONTROLLER_METRICS_PORT,$REPO_METRICS_PORT,$SERVER_METRICS_PORT" \
	--tls-dir "$WORK/tls" --pki-out "$WORK/pki" \
	</dev/null >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
if [ "$NET" != 1 ]; then
	sh "$ROOT/tests/net/nginx.sh" start >/dev/null
	sh "$ROOT/tests/net/dns.sh" start >/dev/null
	sh "$ROOT/tests/net/prometheus.sh" start >/dev/null
fi
# servers get up to STARTUP_SECONDS (default 90) each: a loaded machine
# (a CI runner, tests side by side) can take that long to start Python and
# Prometheus; a server that exits before answering ends the wait at once
STARTUP=${STARTUP_SECONDS:-90}
SIM_PID=${PIDS[0]}
deadline=$((SECONDS + STARTUP))
while [ ! -f "$WORK/pki/argocd-metrics-ports" ] && [ $SECONDS -lt $deadline ] &&
	kill -0 "$SIM_PID" 2>/dev/null; do
	sleep 0.1
done
[ -f "$WORK/pki/argocd-metrics-ports" ] || { echo "the simulator did not start:" >&2; cat "$WORK/sim.log" >&2; exit 3; }

# the Alertmanager the Prometheus alerts, and the receiver it notifies
RECEIVER_MODE=()
case "${SIM_ALERT_RECEIVER:-}" in
"") ;;
refuse) RECEIVER_MODE=(--refuse) ;;
*) echo "SIM_ALERT_RECEIVER must be empty or 'refuse'" >&2; exit 2 ;;
esac
"$PY" "$ROOT/fixtures/alertmanager/receiver.py" "$RECEIVER_PORT" "$WORK/alert-receiver.jsonl" \
	"${RECEIVER_MODE[@]}" </dev/null >"$WORK/alert-receiver.log" 2>&1 &
PIDS+=($!)
mkdir -p "$WORK/alertmanager"
# the fixture's receiver address, moved to this run's receiver port
sed "s|http://127.0.0.1:16484/|http://127.0.0.1:$RECEIVER_PORT/|" \
	"$ROOT/fixtures/alertmanager/alertmanager.yml" >"$WORK/alertmanager.yml"
prometheus-alertmanager --config.file="$WORK/alertmanager.yml" \
	--storage.path="$WORK/alertmanager" --web.listen-address="127.0.0.1:$AM_PORT" \
	--cluster.listen-address= </dev/null >"$WORK/alertmanager.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + STARTUP))
while [ $SECONDS -lt $deadline ]; do
	curl -fs -o /dev/null "http://127.0.0.1:$AM_PORT/-/ready" &&
		curl -fs -o /dev/null "http://127.0.0.1:$RECEIVER_PORT/-/ready" && break
	sleep 0.05
done
curl -fs -o /dev/null "http://127.0.0.1:$AM_PORT/-/ready" ||
	{ echo "Alertmanager did not start:" >&2; cat "$WORK/alertmanager.log" >&2; exit 3; }

# the Prometheus Operator's part and the Prometheus it configures
OP=("$PY" "$HERE/prom_operator.py" --api "https://127.0.0.1:$PORT" --ca "$WORK/pki/ca.crt"
	--cert "$WORK/pki/client-admin.crt" --key "$WORK/pki/client-admin.key" --namespace argocd
	--selector release=prometheus --dir "$WORK/prom" --prometheus "http://127.0.0.1:$PROM_PORT"
	--target "argocd-server-metrics=127.0.0.1:$SERVER_METRICS_PORT"
	--target "argocd-metrics=127.0.0.1:$CONTROLLER_METRICS_PORT"
	--target "argocd-repo-server=127.0.0.1:$REPO_METRICS_PORT" --alertmanager "127.0.0.1:$AM_PORT")
"${OP[@]}" --once
# the Argo CD history the success metrics of phase 9 read (three days before
# metrics_time); kept whatever its age
"$PY" "$ROOT/fixtures/prometheus/history.py" "$WORK/prom/history.om"
promtool tsdb create-blocks-from openmetrics -q "$WORK/prom/history.om" "$WORK/prom/data" \
	>"$WORK/prom-history.log" 2>&1
prometheus --config.file="$WORK/prom/prometheus.yml" --storage.tsdb.path="$WORK/prom/data" \
	--storage.tsdb.retention.time=100y --rules.alert.resend-delay=2s \
	--web.listen-address="127.0.0.1:$PROM_PORT" --web.enable-lifecycle \
	</dev/null >"$WORK/prom.log" 2>&1 &
PROM_PID=$!
PIDS+=($!)
"${OP[@]}" </dev/null >"$WORK/prom-operator.log" 2>&1 &
PIDS+=($!)
deadline=$((SECONDS + STARTUP))
while [ $SECONDS -lt $deadline ] && kill -0 "$PROM_PID" 2>/dev/null; do
	curl -fs -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" && break
	sleep 0.05
done
curl -fs -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready" ||
	{ echo "Prometheus did not start:" >&2; cat "$WORK/prom.log" >&2; exit 3; }

export KUBECONFIG=$WORK/pki/kubeconfig no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
# the Argo CD token of the world's admin account (a world without Argo CD's
# accounts gets a stand-in: it is only masked)
ARGOCD_AUTH_TOKEN=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("admin", "simulator-token"))' \
	"$WORK/pki/argocd-tokens.json" 2>/dev/null || echo simulator-token)
export ARGOCD_AUTH_TOKEN
# the Grafana stand-in's service account token (tests/net/prometheus.sh)
if [ -z "${GRAFANA_TOKEN:-}" ]; then
	GRAFANA_TOKEN=$(cat "${PG_BUILD_DIR:-}/net-prom/grafana-token" 2>/dev/null) ||
		{ echo "no Grafana token in ${PG_BUILD_DIR:-}/net-prom (is tests/net/prometheus.sh running?)" >&2; exit 3; }
fi
export GRAFANA_TOKEN
# the addresses of this run's servers (env/simulator.env names the default ports)
PORT_VARS=(--var prometheus_url="http://127.0.0.1:$PROM_PORT"
	--var alertmanager_url="http://127.0.0.1:$AM_PORT"
	--var server_metrics_url="http://127.0.0.1:$SERVER_METRICS_PORT/metrics"
	--var controller_metrics_url="http://127.0.0.1:$CONTROLLER_METRICS_PORT/metrics"
	--var repo_metrics_url="http://127.0.0.1:$REPO_METRICS_PORT/metrics")
set +e
"$PG_BINARY" run "$SUITE" --env-file "$SUITE/env/simulator.env" \
	--var argocd_server="127.0.0.1:$APORT" --var argocd_ca_file="$WORK/pki/ca.crt" \
	"${PORT_VARS[@]}" --var scripts_dir="$HERE/scripts" \
	--var backup_dir="$WORK/backup" "$@"
rc=$?
set -e
exit $rc
