#!/bin/bash
# bench/http/run.sh - the same N HTTP checks (status 200 and a JSON field)
# against a local nginx, run side by side in one go:
#   phasegate   one suite, one checkpoint of N http checks (--jobs J)
#   curl loop   a bash loop of curl calls, the field checked in bash
#   newman      a Postman collection of N requests with tests, JUnit reporter
#   curl -Z     one `curl --parallel` over the N URLs (fetch only: the floor)
# It prints wall time, peak RSS and ratios as a Markdown table. A second
# table scales it: plain HTTP and HTTPS (nginx's HTTP/2 with the test CA),
# 1,000 and 10,000 checks, phasegate beside `curl --parallel` fetching the
# same URLs (the floor) and `phasegate validate` of the same suite (the
# memory of the loaded plan alone, without any exchange).
#
# Usage: bench/http/run.sh [N] [JOBS]       (defaults: 1000 checks, 8 jobs)
#        BENCH_SCALE="1000 10000" picks the sizes of the second table
#        (BENCH_SCALE= skips it).
# Needs: a built phasegate ($PG_BINARY, or build/phasegate), nginx, curl,
# /usr/bin/time, and npm (newman is installed into bench/_out/ on first use;
# set BENCH_NO_NEWMAN=1 to skip it). Work files go to bench/_out/ (ignored by git).
set -euo pipefail
N=${1:-1000}
JOBS=${2:-8}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$src/bench/_out/http
bin=${PG_BINARY:-$src/build/phasegate}
url=http://127.0.0.1:18080/bench
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

[ -x "$bin" ] || { echo "no phasegate binary at $bin (set PG_BINARY)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
mkdir -p "$work"
export PG_BUILD_DIR=$src/bench/_out
if curl -fs --noproxy '*' -o /dev/null --max-time 1 "$url?n=0"; then
	echo "(using the test nginx already running on 127.0.0.1:18080)" >&2
else
	"$src/tests/net/nginx.sh" start
	trap '"$src/tests/net/nginx.sh" stop' EXIT
fi

# --- the inputs -----------------------------------------------------------
mkdir -p "$work/suite"
{
	echo "name: bench-http"
	echo "phases:"
	echo "  - id: bench"
	echo "    steps:"
	echo "      - id: bench.1"
	echo "        checkpoint:"
	echo "          id: gate-bench"
	echo "          checks:"
	for i in $(seq 1 "$N"); do
		echo "            - id: c$i"
		echo "              http: {url: \"$url?n=$i\"}"
		echo "              expect: [{status: 200}, {path: json.n, equals: $i}]"
	done
} >"$work/suite/suite.yaml"

{
	echo '#!/bin/bash'
	echo 'fail=0'
	echo "for i in \$(seq 1 $N); do"
	echo "  out=\$(curl -s -w '\\n%{http_code}' '$url?n='\$i)"
	echo '  code=${out##*$'"'"'\n'"'"'}; body=${out%$'"'"'\n'"'"'*}'
	echo '  if [ "$code" != 200 ] || [[ $body != *"\"n\":$i}"* ]]; then fail=$((fail+1)); fi'
	echo 'done'
	echo 'echo "curl loop: $fail failed"'
	echo '[ $fail -eq 0 ]'
} >"$work/curl-loop.sh"

: >"$work/parallel.cfg"
for i in $(seq 1 "$N"); do
	printf 'url = "%s?n=%d"\noutput = "/dev/null"\n' "$url" "$i" >>"$work/parallel.cfg"
done

/usr/bin/python3 - "$N" "$url" >"$work/collection.json" <<'PY'
import json, sys
n, url = int(sys.argv[1]), sys.argv[2]
items = []
for i in range(1, n + 1):
    items.append({
        "name": "c%d" % i,
        "request": {"method": "GET", "url": "%s?n=%d" % (url, i)},
        "event": [{"listen": "test", "script": {"type": "text/javascript", "exec": [
            "pm.test('status', () => pm.response.to.have.status(200));",
            "pm.test('n', () => pm.expect(pm.response.json().n).to.eql(%d));" % i]}}],
    })
print(json.dumps({"info": {"name": "bench-http",
                           "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
                  "item": items}))
PY

newman=
if [ -z "${BENCH_NO_NEWMAN:-}" ]; then
	newman=$src/bench/_out/node_modules/.bin/newman
	if [ ! -x "$newman" ]; then
		echo "installing newman into bench/_out (once)..." >&2
		npm install --silent --no-audit --no-fund --prefix "$src/bench/_out" newman >&2
	fi
fi

# --- the runs ---------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$src/bench/lib.sh"

# One warm-up run each for phasegate and curl (page cache, nginx workers).
"$bin" run "$work/suite" --jobs "$JOBS" --quiet >/dev/null 2>&1 || true
measure phasegate "$bin" run "$work/suite" --jobs "$JOBS" --quiet --junit "$work/phasegate-junit.xml"
measure curl_loop bash "$work/curl-loop.sh"
[ -n "$newman" ] && measure newman "$newman" run "$work/collection.json" -r junit \
	--reporter-junit-export "$work/newman-junit.xml"
measure curl_parallel curl --parallel --parallel-max 50 --no-progress-meter -K "$work/parallel.cfg"

grep -q "tests=\"$N\"" "$work/phasegate-junit.xml" || {
	echo "phasegate did not report $N tests" >&2
	exit 1
}

# --- the table --------------------------------------------------------------
pg=${wall[phasegate]}
row() { # name label
	local w=${wall[$1]} r=${rss[$1]}
	printf '| %s | %.3f | %.1f | %s |\n' "$2" "$w" "$(echo "$r / 1024" | bc -l)" \
		"$(printf '%.2f×' "$(echo "$w / $pg" | bc -l)")"
}
echo
echo "$N HTTP checks (status + JSON field) against nginx on 127.0.0.1, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| tool | wall time (s) | peak RSS (MB) | wall time ÷ phasegate's |"
echo "|---|---:|---:|---:|"
row phasegate "phasegate run --jobs $JOBS (JUnit written)"
row curl_loop "bash loop of curl calls"
[ -n "$newman" ] && row newman "newman run -r junit"
row curl_parallel "one curl --parallel (fetch only, no checks: the floor)"
echo
echo "Rerun: bench/http/run.sh $N $JOBS   (PG_BINARY=path/to/phasegate to pick a build)"

# --- HTTP and HTTPS at scale --------------------------------------------------
sizes=${BENCH_SCALE-1000 10000}
[ -n "$sizes" ] || exit 0
ca=$src/bench/_out/net/nginx/pki/ca.crt
[ -f "$ca" ] || ca=$src/build/net/nginx/pki/ca.crt
scale_suite() { # scale_suite DIR N URL [CA]
	mkdir -p "$1"
	{
		echo "name: bench-http-scale"
		echo "phases:"
		echo "  - id: bench"
		echo "    steps:"
		echo "      - id: bench.1"
		echo "        checkpoint:"
		echo "          id: gate-bench"
		echo "          checks:"
		for i in $(seq 1 "$2"); do
			echo "            - id: c$i"
			if [ -n "${4:-}" ]; then
				echo "              http: {url: \"$3?n=$i\", tls: {ca: \"$4\"}}"
			else
				echo "              http: {url: \"$3?n=$i\"}"
			fi
			echo "              expect: [{status: 200}, {path: json.n, equals: $i}]"
		done
	} >"$1/suite.yaml"
	: >"$1/parallel.cfg"
	for i in $(seq 1 "$2"); do
		printf 'url = "%s?n=%d"\noutput = "/dev/null"\n' "$3" "$i" >>"$1/parallel.cfg"
	done
}
accepts() { # nginx's count of accepted connections so far
	curl -fs --noproxy '*' http://127.0.0.1:18080/nginx_status | awk 'NR == 3 {print $1}'
}
echo
echo "Scale: the same checks over plain HTTP and HTTPS (HTTP/2), --jobs $JOBS unless said"
echo
echo "| checks | scheme | phasegate run (s) | peak RSS (MB) | connections | curl --parallel (s) | its RSS (MB) | time ÷ curl's | phasegate validate RSS (MB) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
for n in $sizes; do
	for scheme in http https https-j64 https-j128; do
		j=$JOBS
		case $scheme in
		https-j*)
			# more concurrency: only at the first size
			[ "$n" = "${sizes%% *}" ] || continue
			j=${scheme#https-j}
			;;
		esac
		d=$work/scale-${scheme%-j*}-$n
		if [ "$scheme" != http ]; then
			scale_suite "$d" "$n" https://localhost:18443/bench "$ca"
			cacert=(--cacert "$ca")
		else
			scale_suite "$d" "$n" "$url"
			cacert=()
		fi
		"$bin" run "$d" --jobs "$j" --quiet >/dev/null 2>&1 || true
		a0=$(accepts)
		measure "pg_$scheme$n" "$bin" run "$d" --jobs "$j" --quiet --junit "$d/junit.xml"
		conns=$(($(accepts) - a0 - 1)) # less the status request itself
		grep -q "tests=\"$n\"" "$d/junit.xml" || {
			echo "phasegate did not report $n tests ($scheme)" >&2
			exit 1
		}
		measure "validate_$scheme$n" "$bin" validate "$d"
		measure "curl_$scheme$n" curl --parallel --parallel-max 50 --no-progress-meter \
			"${cacert[@]}" -K "$d/parallel.cfg"
		pw=${wall[pg_$scheme$n]} cw=${wall[curl_$scheme$n]}
		printf '| %d | %s | %.3f | %.1f | %d | %.3f | %.1f | %.2f× | %.1f |\n' "$n" \
			"${scheme%-j*}${j:+ --jobs $j}" \
			"$pw" "$(echo "${rss[pg_$scheme$n]} / 1024" | bc -l)" "$conns" "$cw" \
			"$(echo "${rss[curl_$scheme$n]} / 1024" | bc -l)" "$(echo "$pw / $cw" | bc -l)" \
			"$(echo "${rss[validate_$scheme$n]} / 1024" | bc -l)"
	done
done
echo
echo "Rerun: BENCH_NO_NEWMAN=1 bench/http/run.sh $N $JOBS   (sizes: BENCH_SCALE=\"$sizes\")"
