#!/bin/sh
# dns.sh start|stop - the DNS world of the dns module's tests: dnsmasq on
# 127.0.0.1:15353 (UDP and TCP), authoritative for test.internal with the
# records in fixtures/dns/dnsmasq.conf.in; a second dnsmasq on 15354 with
# other addresses for the same names (dnsmasq-b.conf.in); and UDP sockets
# (fixtures/dns/silent_udp.py) on 127.0.0.1:15359 that never answers,
# 15358 that answers garbage and 15356 that answers the first 3 queries
# for each name and then stops.
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
B_PORT=15354
STOPPING_PORT=15356

. "$PG_SOURCE_DIR/tests/net/pidlib.sh"

# wait_answer PID PORT ADDR: until dnsmasq PID answers api.test.internal on
# PORT with ADDR (5 s at most).
wait_answer() {
	i=0
	until kill -0 "$1" 2>/dev/null && dig +short +time=1 +tries=1 @127.0.0.1 -p "$2" api.test.internal A 2>/dev/null | grep -qxF "$3"; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "dns.sh: dnsmasq did not answer on 127.0.0.1:$2; the logs:" >&2
			cat "$D"/*.log >&2 || true
			exit 1
		fi
		sleep 0.05
	done
}

case "${1:-}" in
start)
	stop_pid "$D/dnsmasq.pid" "$D/dnsmasq.conf"
	stop_pid "$D/silent.pid" "$D/silent.pid"
	stop_pid "$D/garbage.pid" "$D/garbage.pid"
	stop_pid "$D/dnsmasq-b.pid" "$D/dnsmasq-b.conf"
	stop_pid "$D/stopping.pid" "$D/stopping.pid"
	rm -rf "$D"
	mkdir -p "$D"
	sed -e "s|@DIR@|$D|g" -e "s|@PORT@|$PORT|g" "$FIX/dnsmasq.conf.in" >"$D/dnsmasq.conf"
	sed -e "s|@DIR@|$D|g" -e "s|@PORT@|$B_PORT|g" "$FIX/dnsmasq-b.conf.in" >"$D/dnsmasq-b.conf"
	for conf in dnsmasq dnsmasq-b; do
		dnsmasq --test --conf-file="$D/$conf.conf" >"$D/check.log" 2>&1 || {
			cat "$D/check.log" >&2
			exit 1
		}
	done
	# In the foreground (it writes its own pid file), detached from ctest's pipes.
	dnsmasq --keep-in-foreground --conf-file="$D/dnsmasq.conf" </dev/null >"$D/stdout.log" 2>&1 &
	dnsmasq_pid=$!
	dnsmasq --keep-in-foreground --conf-file="$D/dnsmasq-b.conf" </dev/null >"$D/stdout-b.log" 2>&1 &
	b_pid=$!
	"$PY" "$FIX/silent_udp.py" --answer 3 $STOPPING_PORT "$D/stopping.pid" </dev/null >"$D/stopping.log" 2>&1 &
	"$PY" "$FIX/silent_udp.py" $SILENT_PORT "$D/silent.pid" </dev/null >"$D/silent.log" 2>&1 &
	"$PY" "$FIX/silent_udp.py" --garbage $GARBAGE_PORT "$D/garbage.pid" </dev/null >"$D/garbage.log" 2>&1 &
	# Ours must be the one answering: a leftover server on the port would
	# answer too, while ours exits at once (address in use).
	wait_answer $dnsmasq_pid $PORT 127.0.0.1
	wait_answer $b_pid $B_PORT 127.0.0.9
	i=0
	until [ -s "$D/silent.pid" ] && [ -s "$D/garbage.pid" ] && [ -s "$D/stopping.pid" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "dns.sh: silent_udp.py did not start" >&2; cat "$D/silent.log" >&2; exit 1; }
		sleep 0.05
	done
	;;
stop)
	stop_pid "$D/dnsmasq.pid" "$D/dnsmasq.conf"
	stop_pid "$D/silent.pid" "$D/silent.pid"
	stop_pid "$D/garbage.pid" "$D/garbage.pid"
	stop_pid "$D/dnsmasq-b.pid" "$D/dnsmasq-b.conf"
	stop_pid "$D/stopping.pid" "$D/stopping.pid"
	;;
*)
	echo "usage: dns.sh start|stop" >&2
	exit 2
	;;
esac
