# pidlib.sh - process helpers shared by the test servers' start/stop
# scripts (sourced, POSIX sh).

# alive PID: the process exists and is not a zombie (a server whose starter
# exited belongs to PID 1, which may be slow to reap it).
alive() {
	kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# stop_pid FILE: stops the process whose pid FILE holds (TERM, then KILL
# after 5 s) and removes FILE.
stop_pid() {
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if kill "$pid" 2>/dev/null; then
		i=0
		while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$1"
}
