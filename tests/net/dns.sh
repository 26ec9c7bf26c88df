#!/bin/sh
# dns.sh start|stop - the DNS world of the dns module's tests: dnsmasq on
# 127.0.0.1:15353 (UDP and TCP), authoritative for test.internal with the
# records in fixtures/dns/dnsmasq.conf.in, and a UDP socket on
# 127.0.0.1:15359 that never answers and 127.0.0.1:15358 that answers garbage
# (fixtures/dns/silent_udp.py).
# Everything lives in $PG_BUILD_DIR/net-dns; ctest runs "start" as a
# FIXTURES_SETUP test and "stop" as its FIXTURES_CLEANUP. bench/dns uses it
# too.
set -eu

: "${PG_SOURCE_DIR:?}" "${PG_BUILD_DIR:?}"
PY=${PG_PYTHON3:-python3}
FIX="$PG_SOURCE_DIR/fixtures/dns"
D="${PG_DNS_DIR:-$PG_BUILD_DIR/net-dns}"
PORT=15353
SILENT_PORT=15359
GARBAGE_PORT=15358

. "$PG_SOURCE_DIR/tests/net/pidlib.sh"

case "${1:-}" in
start)
	stop_pid "$D/dnsmasq.pid" "$D/dnsmasq.conf"
	stop_pid "$D/silent.pid" "$D/silent.pid"
	stop_pid "$D/garbage.pid" "$D/garbage.pid"
	rm -rf "$D"
	mkdir -p "$D"
	sed -e "s|@DIR@|$D|g" -e "s|@PORT@|$PORT|g" "$FIX/dnsmasq.conf.in" >"$D/dnsmasq.conf"
	dnsmasq --test --conf-file="$D/dnsmasq.conf" >"$D/check.log" 2>&1 || {
		cat "$D/check.log" >&2
		exit 1
	}
	# In the foreground (it writes its own pid file), detached from ctest's pipes.
	dnsmasq --keep-in-foreground --conf-file="$D/dnsmasq.conf" </dev/null >"$D/stdout.log" 2>&1 &
	dnsmasq_pid=$!
	"$PY" "$FIX/silent_udp.py" $SILENT_PORT "$D/silent.pid" </dev/null >"$D/silent.log" 2>&1 &
	"$PY" "$FIX/silent_udp.py" --garbage $GARBAGE_PORT "$D/garbage.pid" </dev/null >"$D/garbage.log" 2>&1 &
	i=0
	# Ours must be the one answering: a leftover server on the port would
	# answer too, while ours exits at once (address in use).
	until kill -0 $dnsmasq_pid 2>/dev/null && dig +short +time=1 +tries=1 @127.0.0.1 -p $PORT api.test.internal A 2>/dev/null | grep -q 127.0.0.1; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "dns.sh: dnsmasq did not answer on 127.0.0.1:$PORT; its log:" >&2
			cat "$D"/*.log >&2 || true
			exit 1
		fi
		sleep 0.05
	done
	i=0
	until [ -s "$D/silent.pid" ] && [ -s "$D/garbage.pid" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "dns.sh: silent_udp.py did not start" >&2; cat "$D/silent.log" >&2; exit 1; }
		sleep 0.05
	done
	;;
stop)
	stop_pid "$D/dnsmasq.pid" "$D/dnsmasq.conf"
	stop_pid "$D/silent.pid" "$D/silent.pid"
	stop_pid "$D/garbage.pid" "$D/garbage.pid"
	;;
*)
	echo "usage: dns.sh start|stop" >&2
	exit 2
	;;
esac
