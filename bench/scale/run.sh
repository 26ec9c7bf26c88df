#!/bin/bash
# bench/scale/run.sh - what phasegate costs as suites grow: 1,000, 10,000
# and 100,000 checks (10 phases x 10 steps, each step one checkpoint) of
#   file          a file check on one local file (no network: the core's cost)
#   http          an http check (status 200) against the test nginx
#   k8s           a k8s get (path expectation) against kubesim, the simulator
#                 (HTTPS, HTTP/1.1, client certificate)
#   k8s-floor     the same gets against the floor: nginx serving kubesim's
#                 recorded answers as static files (bench/scale/floor.py
#                 records them, tests/net/h2proxy.sh serves them) over TLS
#                 with HTTP/2, client certificates verified; what any server
#                 must spend, so phasegate's own cost is what is left
#   k8s-floor-h1  the same floor with HTTP/1.1 only (kubesim's protocol)
# For each: phasegate validate, phasegate run without reports, and
# phasegate run with all four reports (--out DIR --html FILE), with
# /usr/bin/time (wall, user+sys CPU, peak RSS). Prints one Markdown row per
# measurement with the command that reproduces it, then: run with reports
# / run without, phasegate's CPU and wall per check, how the floor saw each
# run (requests, connections, protocol, from its access log), and kubesim /
# floor.
#
# Usage (in a network namespace of your own, since it starts servers on
# fixed loopback ports):
#   bench/scale/run.sh [KINDS] [SIZES]
#   e.g. bench/scale/run.sh "file http" "1000 10000 100000"
# Defaults: KINDS="file http k8s k8s-floor k8s-floor-h1",
# SIZES="1000 10000 100000".
# Environment: PG_BINARY (default build/phasegate), JOBS (default 8).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
kinds=${1:-file http k8s k8s-floor k8s-floor-h1}
sizes=${2:-1000 10000 100000}
bin=${PG_BINARY:-$src/build/phasegate}
jobs=${JOBS:-8}
work=$src/bench/_out/scale
sim_port=16473
floor_port=16474
floor_h1_port=16475
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
[ -x "$bin" ] || { echo "no phasegate binary at $bin (set PG_BINARY)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package: time)" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work"
export PG_BUILD_DIR=$src/bench/_out

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -n "${nginx_started:-}" ]; then "$src/tests/net/nginx.sh" stop || true; fi
	if [ -n "${floor_started:-}" ]; then "$src/tests/net/h2proxy.sh" stop "$work/floor" || true; fi
}
trap cleanup EXIT

# --- servers, started only for the kinds asked for -------------------------
nginx_url=http://127.0.0.1:18080/bench
if [[ " $kinds " == *" http "* ]]; then
	if ! curl -fs -o /dev/null --max-time 1 "$nginx_url?n=0"; then
		"$src/tests/net/nginx.sh" start
		nginx_started=1
	fi
fi
if [[ " $kinds " == *" k8s"* ]]; then
	python3 "$src/fixtures/kubesim/kubesim.py" --world "$src/fixtures/worlds/argocd-healthy" \
		--port "$sim_port" --tls-dir "$work/tls" --pki-out "$work/pki" \
		--log "$work/sim-requests.log" </dev/null >"$work/sim.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 300); do
		[ -f "$work/pki/kubeconfig" ] && curl -fs --max-time 2 --cacert "$work/tls/ca.crt" \
			"https://127.0.0.1:$sim_port/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	kc=(kubectl --kubeconfig "$work/pki/kubeconfig" --context admin)
	"${kc[@]}" get deployments,services,configmaps,pods,applications.argoproj.io -A \
		-o jsonpath='{range .items[*]}{.kind} {.metadata.namespace} {.metadata.name}{"\n"}{end}' \
		>"$work/objects.txt"
	# record what a run asks, then serve exactly that from the floor
	mkdir -p "$work/probe"
	cp "$work/objects.txt" "$work/probe/"
	python3 "$here/gen.py" k8s 100 "$work/probe" "$work/pki/kubeconfig"
	"$bin" run "$work/probe" --jobs "$jobs" --quiet >/dev/null 2>&1 || true
	python3 "$here/floor.py" record --server "https://127.0.0.1:$sim_port" \
		--ca "$work/tls/ca.crt" --cert "$work/pki/client-admin.crt" \
		--key "$work/pki/client-admin.key" --paths "$work/sim-requests.log" \
		--out "$work/answers" >/dev/null
	H2PROXY_CLIENT_CA=$work/tls/ca.crt "$src/tests/net/h2proxy.sh" start "$work/floor" \
		"$work/tls/server.crt" "$work/tls/server.key" "$work/tls/ca.crt" \
		"$floor_port=$work/answers" "$floor_h1_port/http1=$work/answers"
	floor_started=1
	sed "s/127.0.0.1:$sim_port/127.0.0.1:$floor_port/" "$work/pki/kubeconfig" >"$work/floor.kubeconfig"
	sed "s/127.0.0.1:$sim_port/127.0.0.1:$floor_h1_port/" "$work/pki/kubeconfig" \
		>"$work/floor-h1.kubeconfig"
fi

# --- measuring -------------------------------------------------------------
# measure NAME CMD...: wall, user+sys and peak RSS of CMD into $work/NAME.t
# ("wall cpu rss_kib exit"); the run's verdict does not matter, a crash does.
measure() {
	local name=$1 rc=0
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$work/$name.time" "$@" >"$work/$name.out" 2>&1 || rc=$?
	if [ "$rc" -gt 3 ]; then
		echo "bench/scale: $name exited $rc:" >&2
		tail -5 "$work/$name.out" >&2
		exit 1
	fi
	awk -v rc="$rc" '{ printf "%s %.2f %s %s\n", $1, $2 + $3, $4, rc }' "$work/$name.time" \
		>"$work/$name.t"
}

row() { # label, name, command shown (a verdict other than GO is named)
	local wall cpu rss rc label=$1
	read -r wall cpu rss rc <"$work/$2.t"
	[ "$rc" = 0 ] || label="$label (exit $rc)"
	printf '| %s | %.2f s | %.2f s | %.1f MiB | `%s` |\n' "$label" "$wall" "$cpu" \
		"$(echo "$rss / 1024" | bc -l)" "$3"
}

# wire KIND N: how the floor saw the last run (requests, connections,
# protocol), from its access log, which it then empties.
wire=()
wire() {
	local log=$work/floor/access.log
	[ -f "$log" ] || return 0
	wire+=("$(python3 "$src/tests/net/h2log.py" "$log" | head -1 | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("| %s %s | %d | %d | %s |" % (sys.argv[1], sys.argv[2], s["requests"],
      s["connections"], ", ".join(sorted(s["protocols"]))))' "$1" "$2")")
	: >"$log"
}

echo "## bench/scale: $(nproc) cores, --jobs $jobs, $(date -u +%Y-%m-%d)," \
	"load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| what | wall | user+sys CPU | peak RSS | command |"
echo "|---|---:|---:|---:|---|"
ratios=() per=()
for kind in $kinds; do
	for n in $sizes; do
		d=$work/$kind-$n
		mkdir -p "$d"
		case $kind in
		file)
			echo payload >"$work/target.txt"
			python3 "$here/gen.py" file "$n" "$d" "$work/target.txt"
			;;
		http) python3 "$here/gen.py" http "$n" "$d" "$nginx_url" ;;
		k8s)
			cp "$work/objects.txt" "$d/"
			python3 "$here/gen.py" k8s "$n" "$d" "$work/pki/kubeconfig"
			;;
		k8s-floor)
			cp "$work/objects.txt" "$d/"
			python3 "$here/gen.py" k8s "$n" "$d" "$work/floor.kubeconfig"
			;;
		k8s-floor-h1)
			cp "$work/objects.txt" "$d/"
			python3 "$here/gen.py" k8s "$n" "$d" "$work/floor-h1.kubeconfig"
			;;
		*) echo "unknown kind $kind" >&2; exit 2 ;;
		esac
		again="bench/scale/run.sh $kind $n"
		measure "$kind-$n-validate" "$bin" validate "$d"
		row "$kind $n: validate" "$kind-$n-validate" "$again"
		[ ! -f "$work/floor/access.log" ] || : >"$work/floor/access.log"
		measure "$kind-$n-run" "$bin" run "$d" --jobs "$jobs" --quiet
		row "$kind $n: run, no reports" "$kind-$n-run" "$again"
		[[ $kind != k8s-floor* ]] || wire "$kind" "$n"
		per+=("$(awk -v k="$kind" -v n="$n" '{ printf "| %s %d | %.0f µs | %.0f µs |", k, n,
			$2 / n * 1e6, $1 / n * 1e6 }' "$work/$kind-$n-run.t")")
		measure "$kind-$n-reports" "$bin" run "$d" --jobs "$jobs" --quiet --out "$d/out" \
			--html "$d/out/report.html"
		row "$kind $n: run, all reports" "$kind-$n-reports" "$again"
		read -r w0 c0 r0 _ <"$work/$kind-$n-run.t"
		read -r w1 c1 r1 _ <"$work/$kind-$n-reports.t"
		ratios+=("$(awk -v k="$kind" -v n="$n" -v w0="$w0" -v w1="$w1" -v c0="$c0" -v c1="$c1" \
			-v r0="$r0" -v r1="$r1" 'BEGIN { printf "| %s %d | %.2fx | %.2fx | %+.1f MiB |", k, n,
			w1 / (w0 > 0 ? w0 : 0.01), c1 / (c0 > 0 ? c0 : 0.01), (r1 - r0) / 1024 }')")
		rm -rf "$d/out"
	done
done
echo
echo "| reports / no reports | wall | CPU | peak RSS added |"
echo "|---|---:|---:|---:|"
printf '%s\n' "${ratios[@]}"
echo
echo "| run without reports, per check | CPU | wall |"
echo "|---|---:|---:|"
printf '%s\n' "${per[@]}"
if [ ${#wire[@]} -gt 0 ]; then
	echo
	echo "| the floor's access log (run, no reports) | requests | connections | protocol |"
	echo "|---|---:|---:|---|"
	printf '%s\n' "${wire[@]}"
fi
# ratio_table A B TITLE: A's run without reports against B's, per size
ratio_table() {
	[[ " $kinds " == *" $1 "* && " $kinds " == *" $2 "* ]] || return 0
	echo
	echo "| $3 (run, no reports) | wall | CPU |"
	echo "|---|---:|---:|"
	for n in $sizes; do
		read -r wa ca _ <"$work/$1-$n-run.t"
		read -r wb cb _ <"$work/$2-$n-run.t"
		awk -v n="$n" -v wa="$wa" -v wb="$wb" -v ca="$ca" -v cb="$cb" \
			'BEGIN { printf "| %d checks | %.2fx | %.2fx |\n", n, wa / wb, ca / (cb > 0 ? cb : 0.01) }'
	done
}
ratio_table k8s k8s-floor "kubesim / floor (HTTP/2)"
ratio_table k8s k8s-floor-h1 "kubesim / floor (HTTP/1.1)"
ratio_table k8s-floor-h1 k8s-floor "floor HTTP/1.1 / floor HTTP/2"
