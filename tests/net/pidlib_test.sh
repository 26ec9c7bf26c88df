#!/bin/sh
# pidlib_test.sh - stop_pid must never signal a process that merely has the
# PID a stale pid file records, and must remove the pid file in every case.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pidlib.sh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg-pidlib.XXXXXX")
fails=0
bystander=
server=
cleanup() {
	for p in $bystander $server; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
check() { # what, condition...
	what=$1
	shift
	if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}

# An unrelated process holds the PID the stale file records.
sleep 300 &
bystander=$!
echo "$bystander" >"$tmp/server.pid"
stop_pid "$tmp/server.pid" "$tmp/server.conf"
check "a stranger with the recorded PID survives" alive "$bystander"
check "the stale pid file is removed" test ! -e "$tmp/server.pid"
check "pid_running refuses the stranger" sh -c ". '$here/pidlib.sh'; echo $bystander >'$tmp/p'; ! pid_running '$tmp/p' '$tmp/server.conf'"

# The real server (its command line names its config) is stopped.
bash -c 'exec -a "server $0" sleep 301' "$tmp/server.conf" &
server=$!
sleep 0.2
echo "$server" >"$tmp/server.pid"
check "pid_running knows the server" pid_running "$tmp/server.pid" "$tmp/server.conf"
stop_pid "$tmp/server.pid" "$tmp/server.conf"
wait "$server" 2>/dev/null
check "the server is stopped" sh -c "! kill -0 $server 2>/dev/null"
check "its pid file is removed" test ! -e "$tmp/server.pid"

# Garbage in the pid file signals nothing.
printf '%s\n' '-1' >"$tmp/server.pid"
stop_pid "$tmp/server.pid" "$tmp/server.conf"
check "a pid file holding -1 is removed without a signal" test ! -e "$tmp/server.pid"

[ "$fails" -eq 0 ]
