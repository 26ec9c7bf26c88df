# pidlib.sh - process helpers shared by the test servers' start/stop
# scripts and tests/sim/lib.sh (sourced, POSIX sh).
#
# A pid file outlives its process, and PIDs are reused (pid_max may be as
# low as 32768): a recorded PID is signalled only after its command line
# proves it is still the server that wrote it, and the pid file is removed
# whatever happened.

# alive PID: the process exists and is not a zombie (a server whose starter
# exited belongs to PID 1, which may be slow to reap it).
alive() {
	kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]
}

# is_ours PID TEXT: PID is alive and its command line holds TEXT (a fixed
# string naming this server instance: its config file or pid file path).
is_ours() {
	case $1 in '' | *[!0-9]*) return 1 ;; esac
	alive "$1" && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# pid_running FILE TEXT: FILE names a process that is_ours.
pid_running() {
	[ -s "$1" ] && is_ours "$(cat "$1")" "$2"
}

# stop_pid FILE TEXT: stops the process FILE names (TERM, then KILL after
# 5 s) when is_ours PID TEXT, and removes FILE in every case.
stop_pid() {
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	if is_ours "$pid" "$2" && kill "$pid" 2>/dev/null; then
		i=0
		while alive "$pid" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		if is_ours "$pid" "$2"; then
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$1"
}
