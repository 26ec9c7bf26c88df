#!/bin/bash
# bench/dns/run.sh - the same N DNS checks against a local dnsmasq
# (tests/net/dns.sh, 127.0.0.1:15353), run side by side in one go:
#   phasegate   one suite, one checkpoint of N dns checks (--jobs J), each
#               judging its answer with path expectations; and the same
#               suite with jq expectations (BENCH_NO_JQ=1 skips that run)
#   dig loop    a bash loop of `dig +short` calls, the answer checked in bash
#   dig -f      one dig process reading the N queries from a batch file
#               (answers printed, not checked: the floor)
# It prints wall time, peak RSS and ratios as a Markdown table, then CPU
# time (user + system) of phasegate and dig -f in paired rounds
# (bench/dns/paired.py; BENCH_ROUNDS rounds, default 20): on a shared
# machine wall time mostly measures waiting for a core, CPU time compares.
#
# Usage: bench/dns/run.sh [N] [JOBS]        (defaults: 1000 checks, 8 jobs)
# BENCH_NO_LOOP=1 skips the dig loop (minutes on a loaded machine).
# Needs: a built phasegate ($PG_BINARY, or build/phasegate), dnsmasq, dig,
# python3, bc and /usr/bin/time. Work files go to bench/_out/dns (ignored by git).
set -euo pipefail
N=${1:-1000}
JOBS=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$src/bench/_out/dns
bin=${PG_BINARY:-$src/build/phasegate}
port=15353

[ -x "$bin" ] || { echo "no phasegate binary at $bin (set PG_BINARY)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
command -v dig >/dev/null || { echo "needs dig (Debian package: bind9-dnsutils)" >&2; exit 2; }
mkdir -p "$work"
export PG_SOURCE_DIR=$src PG_BUILD_DIR=$src/bench/_out
"$src/tests/net/dns.sh" start
trap '"$src/tests/net/dns.sh" stop' EXIT

# The queries cycle through three cases: a single A record, two A records,
# and a CNAME. name[k] type[k] answer[k] (the dig +short output, sorted).
names=(api.test.internal multi.test.internal alias.test.internal)
types=(A A CNAME)
answers=("127.0.0.1" "127.0.0.3 127.0.0.4" "api.test.internal.")
# The same judgement written two ways: path expectations, and jq programs.
paths=('[{values: ["127.0.0.1"]}]'
	'[{path: count, equals: 2}, {path: values, contains: "127.0.0.3"}, {path: values, contains: "127.0.0.4"}]'
	'[{values: ["api.test.internal"]}]')
jqs=('.values == ["127.0.0.1"]' '(.values | sort) == ["127.0.0.3", "127.0.0.4"]'
	'.values == ["api.test.internal"]')

# --- the inputs -----------------------------------------------------------
# suite_of DIR STYLE: the suite of N checks, expectations as paths or jq.
suite_of() {
	mkdir -p "$1"
	{
	echo "name: bench-dns"
	echo "phases:"
	echo "  - id: bench"
	echo "    steps:"
	echo "      - id: bench.1"
	echo "        checkpoint:"
	echo "          id: gate-bench"
	echo "          checks:"
	for i in $(seq 1 "$N"); do
		k=$((i % 3))
		echo "            - id: c$i"
		echo "              dns: {name: ${names[$k]}, type: ${types[$k]}, server: \"127.0.0.1:$port\"}"
		if [ "$2" = jq ]; then
			echo "              expect: [{jq: '${jqs[$k]}'}]"
		else
			echo "              expect: ${paths[$k]}"
		fi
	done
	} >"$1/suite.yaml"
}
suite_of "$work/suite" paths
suite_of "$work/suite-jq" jq

{
	echo '#!/bin/bash'
	echo "names=(${names[*]}); types=(${types[*]})"
	printf 'answers=('
	printf '"%s" ' "${answers[@]}"
	echo ')'
	echo 'fail=0'
	echo "for i in \$(seq 1 $N); do"
	echo '  k=$((i % 3))'
	echo "  out=\$(dig @127.0.0.1 -p $port +short +time=2 +tries=1 \${names[\$k]} \${types[\$k]} | sort | tr '\\n' ' ')"
	echo '  [ "${out% }" = "${answers[$k]}" ] || fail=$((fail+1))'
	echo 'done'
	echo 'echo "dig loop: $fail failed"'
	echo '[ $fail -eq 0 ]'
} >"$work/dig-loop.sh"

: >"$work/batch.txt"
for i in $(seq 1 "$N"); do
	k=$((i % 3))
	echo "@127.0.0.1 -p $port +short +time=2 +tries=1 ${names[$k]} ${types[$k]}" >>"$work/batch.txt"
done

# --- the runs ---------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$src/bench/lib.sh"

# One warm-up run (page cache).
"$bin" run "$work/suite" --jobs "$JOBS" --quiet >/dev/null 2>&1 || true
measure phasegate "$bin" run "$work/suite" --jobs "$JOBS" --quiet --junit "$work/phasegate-junit.xml"
if [ -z "${BENCH_NO_JQ:-}" ]; then
	measure phasegate_jq "$bin" run "$work/suite-jq" --jobs "$JOBS" --quiet
fi
if [ -z "${BENCH_NO_LOOP:-}" ]; then
	measure dig_loop bash "$work/dig-loop.sh"
fi
measure dig_batch dig -f "$work/batch.txt"

grep -q "tests=\"$N\"" "$work/phasegate-junit.xml" || {
	echo "phasegate did not report $N tests" >&2
	exit 1
}
if [ "$(grep -c . "$work/dig_batch.out")" -lt "$N" ]; then
	echo "dig -f printed fewer than $N answers" >&2
	exit 1
fi

# --- the table --------------------------------------------------------------
pg=${wall[phasegate]}
row() { # name label
	local w=${wall[$1]} r=${rss[$1]}
	printf '| %s | %.3f | %.1f | %s |\n' "$2" "$w" "$(echo "$r / 1024" | bc -l)" \
		"$(printf '%.2f×' "$(echo "$w / $pg" | bc -l)")"
}
echo
echo "$N DNS checks (A, 2×A, CNAME; answers judged) against dnsmasq on 127.0.0.1, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| tool | wall time (s) | peak RSS (MB) | wall time ÷ phasegate's |"
echo "|---|---:|---:|---:|"
row phasegate "phasegate run --jobs $JOBS, path expectations (JUnit written)"
[ -z "${BENCH_NO_JQ:-}" ] && row phasegate_jq "phasegate run --jobs $JOBS, the same as jq programs"
[ -z "${BENCH_NO_LOOP:-}" ] && row dig_loop "bash loop of dig +short calls"
row dig_batch "one dig -f batch file (answers not checked: the floor)"
echo
echo "CPU time against one dig -f batch, ${BENCH_ROUNDS:-20} paired rounds (medians; ratios are medians of per-round ratios):"
echo
cd "$work"
python3 "$here/paired.py" --md -r "${BENCH_ROUNDS:-20}" "dig -f batch.txt" \
	"$bin run suite --jobs $JOBS --quiet" \
	"$bin run suite --jobs $JOBS --quiet --junit j.xml" \
	"$bin run suite --jobs 1 --quiet"
echo
echo "Rerun: bench/dns/run.sh $N $JOBS   (PG_BINARY=path/to/phasegate to pick a build)"
