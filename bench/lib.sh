# bench/lib.sh - shared by the bench scripts (sourced, bash). Needs $work.
declare -A wall rss
# measure NAME CMD...: wall seconds and peak RSS (KiB) of CMD; CMD must pass.
measure() {
	local name=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	if ! /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1; then
		echo "$name failed; see $work/$name.out" >&2
		tail -5 "$work/$name.out" >&2
		exit 1
	fi
	t1=$(date +%s.%N)
	wall[$name]=$(echo "$t1 - $t0" | bc -l)
	rss[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
}
