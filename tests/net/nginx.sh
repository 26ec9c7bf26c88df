#!/bin/sh
# nginx.sh - starts and stops the nginx the HTTP tests and bench/http use.
#
#   nginx.sh start [DIR]   makes the test PKI (fixtures/nginx/mkcerts.sh), the
#                          config and the bodies under DIR, starts nginx in the
#                          foreground (pid file DIR/nginx.pid) and waits until
#                          it answers; does nothing when it already runs.
#   nginx.sh stop [DIR]    stops it (SIGTERM to the recorded pid) and waits.
#   nginx.sh run CMD...    start, run CMD, stop on exit (whatever CMD does).
#
# DIR defaults to $PG_BUILD_DIR/net/nginx. Ports: see fixtures/nginx/nginx.conf.in.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pidlib.sh"
src=${PG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
fix=$src/fixtures/nginx
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

cmd=${1:-}
[ $# -gt 0 ] && shift
if [ "$cmd" = run ]; then
	dir=${PG_BUILD_DIR:-$src/build}/net/nginx
else
	dir=${1:-${PG_BUILD_DIR:-$src/build}/net/nginx}
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd) # nginx -p wants an absolute prefix
pidfile=$dir/nginx.pid

running() {
	pid_running "$pidfile" "$dir/nginx.conf"
}

answers() {
	curl -fsS --noproxy '*' -o /dev/null --max-time 1 http://127.0.0.1:18080/health 2>/dev/null &&
		curl -fsS --noproxy '*' -o /dev/null --max-time 1 --cacert "$dir/pki/ca.crt" \
			https://localhost:18443/health 2>/dev/null
}

start() {
	if running && answers; then
		return 0
	fi
	if running; then
		stop
	fi
	command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	mkdir -p "$dir/logs" "$dir/tmp" "$dir/html"
	"$fix/mkcerts.sh" "$dir/pki"
	cp "$fix"/html/* "$dir/html/"
	# A 3 MiB body (large) and a 300 KiB one that /slow.bin sends at 20 KiB/s.
	[ -f "$dir/html/large.bin" ] || head -c 3145728 /dev/zero | tr '\0' 'x' >"$dir/html/large.bin"
	printf 'ok\377\376end' >"$dir/html/binary.bin" # not UTF-8
	[ -f "$dir/html/slow.bin" ] || head -c 307200 /dev/zero | tr '\0' 'y' >"$dir/html/slow.bin"
	sed "s|@DIR@|$dir|g" "$fix/nginx.conf.in" >"$dir/nginx.conf"
	nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/logs/error.log"
	nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/logs/error.log" \
		</dev/null >>"$dir/logs/stdout.log" 2>&1 &
	started=$!
	i=0
	while ! answers; do
		i=$((i + 1))
		if ! kill -0 "$started" 2>/dev/null; then
			echo "nginx.sh: nginx exited at start (ports 18080, 18443-18446 taken?)" >&2
			tail -5 "$dir/logs/stdout.log" "$dir/logs/error.log" >&2 || true
			return 1
		fi
		if [ $i -gt 200 ]; then
			echo "nginx.sh: nginx did not answer on 127.0.0.1:18080 within 10s" >&2
			cat "$dir/logs/error.log" >&2 || true
			return 1
		fi
		sleep 0.05
	done
}

stop() {
	stop_pid "$pidfile" "$dir/nginx.conf"
}

case $cmd in
start) start ;;
stop) stop ;;
run)
	start
	trap stop EXIT INT TERM
	"$@"
	;;
*)
	echo "usage: nginx.sh start|stop [DIR] | run CMD..." >&2
	exit 2
	;;
esac
