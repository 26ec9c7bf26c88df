#!/usr/bin/env bash
# bench/hostile/run.sh - what each hostile input of issue 10 costs phasegate
# now: exit code, wall time and peak RSS, beside curl doing the bare
# transfer where there is one (the floor a user would otherwise see).
# Starts the fault server and the fake Prometheus itself; run it inside a
# network namespace of your own (ports 18090-18095, 19100).
#   bench/hostile/run.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
bin=$build/phasegate
work=$(mktemp -d "${TMPDIR:-/tmp}/pg-hostile.XXXXXX")
export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
cleanup() {
	sh "$src/tests/net/http_faults.sh" stop "$work/faults" || true
	. "$src/tests/net/pidlib.sh"
	stop_pid "$work/fake_api.pid" "$work/fake_api.pid"
	rm -rf "$work"
}
trap cleanup EXIT
sh "$src/tests/net/http_faults.sh" start "$work/faults"
python3 "$src/fixtures/prometheus/fake_api.py" 19100 "$src/fixtures/prometheus/www" \
	"$work/fake_api.pid" >/dev/null 2>&1 &
until curl -fs -o /dev/null http://127.0.0.1:19100/metrics; do sleep 0.1; done
# warm the fault server's gzip bomb (made on first use)
curl -s -o /dev/null http://127.0.0.1:18095/gzip

# row NAME CMD...: one measured run (any exit code)
row() {
	local name=$1 code
	shift
	/usr/bin/time -f '%e %M' -o "$work/t" "$@" >"$work/out" 2>&1 && code=0 || code=$?
	read -r secs kib < <(tail -n 1 "$work/t")
	printf '%-28s exit %-3s %7.2f s %8.1f MiB   %s\n' "$name" "$code" "$secs" \
		"$(echo "$kib / 1024" | bc -l)" "$(grep -m1 -E 'error|ERROR|FAIL|PASS' "$work/out" | cut -c1-90)"
}
suite() { # NAME YAML-CHECK: a one-check suite file
	printf 'name: %s\nphases:\n  - id: p\n    steps:\n      - id: s\n        checks:\n          - id: c\n            name: c\n%s\n' \
		"$1" "$2" >"$work/$1.yaml"
	echo "$work/$1.yaml"
}
mkfifo "$work/fifo"
cd "$work"
row "file manifest FIFO" "$bin" run "$(suite fifo1 '            file: {path: fifo, manifest: true}')" --out o1
row "http body_file FIFO" "$bin" run "$(suite fifo2 '            http: {url: "http://127.0.0.1:18093/", body_file: fifo}')" --out o2
row "env file FIFO" "$bin" validate "$(suite fifo3 '            exec: {argv: ["true"]}')" --env-file fifo
{
	printf 'name: bomb\nvars:\n  v0: "lol"\n'
	for i in 1 2 3 4 5 6 7 8 9; do
		printf '  v%d: "' "$i"
		for _ in 1 2 3 4 5 6 7 8 9 10; do printf '${v%d}' $((i - 1)); done
		printf '"\n'
	done
	printf 'phases: []\n'
} >bomb.yaml
row "variable bomb (9x10)" "$bin" validate bomb.yaml
printf 'name: cyc\nvars: {a: "${b}", b: "${a}"}\nphases: []\n' >cycle.yaml
row "variable cycle" "$bin" validate cycle.yaml
row "gzip bomb, max_body 256MiB" "$bin" run "$(suite gz '            timeout: 10s
            http: {url: "http://127.0.0.1:18095/gzip", max_body: 256MiB}')" --out o3
row "  curl --compressed (floor)" curl -s --compressed -o /dev/null http://127.0.0.1:18095/gzip
row "3M JSON values in 6 MB" "$bin" run "$(suite vals '            http: {url: "http://127.0.0.1:18095/values", max_body: 16MiB}')" --out o4
row "10 MB header line" "$bin" run "$(suite hdr '            http: {url: "http://127.0.0.1:18095/header"}')" --out o5
row "redirect loop (50 hops)" "$bin" run "$(suite loop '            http: {url: "http://127.0.0.1:18095/redirect-loop", follow_redirects: 50}')" --out o6
row "20-digit status code" "$bin" run "$(suite st '            http: {url: "http://127.0.0.1:18095/status"}')" --out o7
row "2M samples scrape, 10s" "$bin" run "$(suite prom '            timeout: 10s
            prometheus: {scrape: "http://127.0.0.1:19100/huge/metrics"}')" --out o8
row "  curl (floor)" curl -s -o /dev/null http://127.0.0.1:19100/huge/metrics
row "rules with null fields" "$bin" run "$(suite rules '            prometheus: {rules: true, server: "http://127.0.0.1:19100/hostile"}')" --out o9
row "scalar \"oops\"" "$bin" run "$(suite scal '            prometheus: {query: "1", server: "http://127.0.0.1:19100/hostile"}')" --out o10
row "100 KB error text" "$bin" run "$(suite lerr '            prometheus: {query: up, server: "http://127.0.0.1:19100/longerror"}')" --out o11
head -c $((64 << 20)) /dev/zero >zeros
row "64 MiB of NULs judged" "$bin" run "$(suite nul '            exec: {argv: [cat, zeros], max_output: 67108864}
            expect:
              - stdout_truncated: false')" --out o12
