#!/bin/sh
# http_faults.sh - starts and stops tests/net/http_faultsrv.py (ports
# 18090-18095 on 127.0.0.1) for the http fault tests.
#   http_faults.sh start [DIR] | stop [DIR]    DIR defaults to $PG_BUILD_DIR/net/faults
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pidlib.sh"
py=${PG_PYTHON3:-python3}
dir=${2:-${PG_BUILD_DIR:-$here/../../build}/net/faults}
pidfile=$dir/faultsrv.pid

running() { pid_running "$pidfile" "$pidfile"; }
answers() {
	curl -fsS --noproxy '*' -o /dev/null --max-time 1 http://127.0.0.1:18093/ready 2>/dev/null
}

stop() { stop_pid "$pidfile" "$pidfile"; }

case ${1:-} in
start)
	if running && answers; then exit 0; fi
	stop
	mkdir -p "$dir"
	"$py" "$here/http_faultsrv.py" "$pidfile" </dev/null >"$dir/faultsrv.log" 2>&1 &
	i=0
	while ! answers; do
		i=$((i + 1))
		if [ $i -gt 200 ]; then
			echo "http_faults.sh: the fault server did not answer within 10s" >&2
			cat "$dir/faultsrv.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	;;
stop) stop ;;
*)
	echo "usage: http_faults.sh start|stop [DIR]" >&2
	exit 2
	;;
esac
