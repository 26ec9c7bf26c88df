#!/bin/sh
# prometheus.sh start|stop - the Prometheus world of the prometheus module's
# tests: a real Prometheus on 127.0.0.1:19090 serving data backfilled with
# promtool (fixtures/prometheus/backfill.om, and the history written by
# fixtures/prometheus/history.py) and evaluating
# fixtures/prometheus/rules.yml, plus fixtures/prometheus/fake_api.py on
# 127.0.0.1:19100 (a /metrics target and a broken Prometheus API) and
# fixtures/prometheus/grafana_api.py on 127.0.0.1:19300 (Grafana's health
# and dashboard search; its service account token, made fresh at each start,
# is in $PG_BUILD_DIR/net-prom/grafana-token, mode 0600).
# Everything lives in $PG_BUILD_DIR/net-prom; ctest runs "start" as a
# FIXTURES_SETUP test and "stop" as its FIXTURES_CLEANUP.
set -eu

: "${PG_SOURCE_DIR:?}" "${PG_BUILD_DIR:?}"
PY=${PG_PYTHON3:-python3}
FIX="$PG_SOURCE_DIR/fixtures/prometheus"
D="$PG_BUILD_DIR/net-prom"
PROM_PORT=19090
FAKE_PORT=19100
GRAFANA_PORT=19300

. "$PG_SOURCE_DIR/tests/net/pidlib.sh"

wait_for() { # what, url, pid
	i=0
	while [ $i -lt 200 ]; do
		# Ours must be the one answering, not a leftover on the same port.
		kill -0 "$3" 2>/dev/null || break
		if curl -fs -o /dev/null "$2"; then return 0; fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "prometheus.sh: $1 did not become ready at $2 (or exited); its log:" >&2
	cat "$D"/*.log >&2 || true
	return 1
}

case "${1:-}" in
start)
	stop_pid "$D/prometheus.pid" "$D/prometheus.yml"
	stop_pid "$D/fake_api.pid" "$D/fake_api.pid"
	stop_pid "$D/grafana.pid" "$D/grafana.pid"
	rm -rf "$D"
	mkdir -p "$D"
	cp "$FIX/prometheus.yml" "$FIX/rules.yml" "$D/"
	promtool tsdb create-blocks-from openmetrics "$FIX/backfill.om" "$D/data" >"$D/backfill.log" 2>&1
	# three days of Argo CD history before the same end (syncs, application
	# health, alert incidents, scrapes): the stabilisation suite's success
	# metrics; its series carry project="cloudtolocalllm", apart from the above
	"$PY" "$FIX/history.py" "$D/history.om"
	promtool tsdb create-blocks-from openmetrics -q "$D/history.om" "$D/data" >>"$D/backfill.log" 2>&1
	# The backfilled samples lie in the past: keep them (no retention).
	prometheus --config.file="$D/prometheus.yml" --storage.tsdb.path="$D/data" \
		--storage.tsdb.retention.time=100y --web.listen-address=127.0.0.1:$PROM_PORT \
		</dev/null >"$D/prometheus.log" 2>&1 &
	echo $! >"$D/prometheus.pid"
	"$PY" "$FIX/fake_api.py" $FAKE_PORT "$FIX/www" "$D/fake_api.pid" </dev/null >"$D/fake_api.log" 2>&1 &
	fake_pid=$!
	wait_for prometheus "http://127.0.0.1:$PROM_PORT/-/ready" "$(cat "$D/prometheus.pid")"
	(umask 077 && "$PY" -c 'import secrets; print("glsa_" + secrets.token_hex(16))' >"$D/grafana-token")
	"$PY" "$FIX/grafana_api.py" $GRAFANA_PORT "$D/grafana.pid" "$D/grafana-token" \
		</dev/null >"$D/grafana.log" 2>&1 &
	grafana_pid=$!
	wait_for fake_api "http://127.0.0.1:$FAKE_PORT/metrics" $fake_pid
	wait_for grafana "http://127.0.0.1:$GRAFANA_PORT/api/health" $grafana_pid
	;;
stop)
	stop_pid "$D/prometheus.pid" "$D/prometheus.yml"
	stop_pid "$D/fake_api.pid" "$D/fake_api.pid"
	stop_pid "$D/grafana.pid" "$D/grafana.pid"
	;;
*)
	echo "usage: prometheus.sh start|stop" >&2
	exit 2
	;;
esac
