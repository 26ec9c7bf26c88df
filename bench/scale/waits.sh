#!/bin/bash
# bench/scale/waits.sh - N rollout waits (default 1000) through watches vs
# polling, against kubesim with a generated world: N Deployments in the
# namespace "bench", each mid-rollout, whose rollouts complete one after
# another from START to START+SPREAD seconds after the clock starts. One
# suite of N `k8s: {rollout: deployment/NAME}` checks under
# `eventually: {within: 120s, every: EVERY}` runs twice: with watches (the
# default) and with `--set k8s.watch=false` (polling). The simulator's
# clock starts 1 s into each run, so every wait begins before its rollout
# completes.
#
# Prints a Markdown table: requests the simulator answered during the run
# (all of them, single-Deployment GETs, lists, watch streams), the time to
# the last completion (the run's wall time), phasegate's CPU and peak RSS.
#
# Usage: bench/scale/waits.sh [N]
# Environment: PG_BINARY (default build/phasegate), PG_PYTHON3 (python3),
# BENCH_PORT (16473), BENCH_JOBS (256, the --jobs ceiling: waits beyond it
# start as slots free up), BENCH_EVERY (2s, the eventually default),
# BENCH_START (2), BENCH_SPREAD (8), BENCH_KEEP (set: keep the work dir).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${1:-1000}
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
PY=${PG_PYTHON3:-python3}
PORT=${BENCH_PORT:-16473}
JOBS=${BENCH_JOBS:-256}
EVERY=${BENCH_EVERY:-2s}
START=${BENCH_START:-2}
SPREAD=${BENCH_SPREAD:-8}
for tool in curl /usr/bin/time "$PG_BINARY"; do
	command -v "$tool" >/dev/null || { echo "bench/scale/waits: $tool is needed" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-bench-waits.XXXXXX")
SIM_PID=
cleanup() {
	if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
	if [ -n "${BENCH_KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The world and the suite.
"$PY" - "$N" "$WORK" "$EVERY" "$START" "$SPREAD" <<'PY'
import json, os, sys
n, work, every, start, spread = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
os.makedirs(work + "/world/_sim")
docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}]
script, checks = [], []
for i in range(n):
    name = "d%05d" % i
    labels = {"app": name}
    docs.append({"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": name, "namespace": "bench", "generation": 1,
                              "labels": labels},
                 "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                          "template": {"metadata": {"labels": labels},
                                       "spec": {"containers": [{"name": "c", "image": "web:2"}]}}},
                 "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 0,
                            "readyReplicas": 0, "availableReplicas": 0,
                            "unavailableReplicas": 1}})
    script.append({"after": "%.3fs" % (start + spread * i / max(n - 1, 1)),
                   "patch": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "bench",
                             "name": name,
                             "merge": {"status": {"updatedReplicas": 1, "readyReplicas": 1,
                                                  "availableReplicas": 1,
                                                  "unavailableReplicas": None}}}})
    checks.append({"id": "w%05d" % i, "k8s": {"rollout": "deployment/" + name},
                   "eventually": {"within": "120s", "every": every}})
with open(work + "/world/bench.yaml", "w") as f:
    f.write("\n---\n".join(json.dumps(d) for d in docs) + "\n")
with open(work + "/world/_sim/script.yaml", "w") as f:
    json.dump(script, f)
suite = {"name": "bench-waits",
         "modules": {"k8s": {"kubeconfig": work + "/pki/kubeconfig", "context": "admin",
                             "namespace": "bench"}},
         "phases": [{"id": "1", "name": "rollouts", "steps": [{
             "id": "1.1", "name": "wait", "checkpoint": {"id": "all", "checks": checks}}]}]}
with open(work + "/suite.yaml", "w") as f:
    json.dump(suite, f)
PY

"$PY" "$ROOT/fixtures/kubesim/kubesim.py" --world "$WORK/world" --port "$PORT" \
	--tls-dir "$WORK/tls" --pki-out "$WORK/pki" --log "$WORK/requests.log" \
	</dev/null >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
ctl() { # METHOD PATH [BODY]
	curl -fsS --max-time 30 --cacert "$WORK/tls/ca.crt" -X "$1" \
		-H 'Content-Type: application/yaml' ${3:+--data-binary "$3"} \
		"https://127.0.0.1:$PORT$2" >/dev/null
}
for _ in $(seq 1 300); do
	[ -f "$WORK/pki/port" ] && ctl GET /healthz 2>/dev/null && break
	sleep 0.1
done

run() { # NAME ARGS...: one run from a fresh, paused world; counts its requests
	local name=$1
	shift
	ctl POST "/_sim/reset?paused=true"
	local from
	from=$(stat -c %s "$WORK/requests.log")
	( sleep 1; ctl POST /_sim/clock "paused: false" ) &
	local resumer=$!
	/usr/bin/time -v -o "$WORK/$name.time" "$PG_BINARY" run "$WORK/suite.yaml" \
		--jobs "$JOBS" --out "$WORK/out-$name" "$@" >"$WORK/$name.out" 2>&1 || {
		echo "bench/scale/waits: the $name run failed:" >&2
		tail -20 "$WORK/$name.out" >&2
		exit 1
	}
	wait "$resumer"
	sleep 1 # the simulator logs a stream when it ends
	tail -c +"$((from + 1))" "$WORK/requests.log" >"$WORK/$name.requests"
}
run watch
run poll --set k8s.watch=false

stats() { # NAME: requests single lists watches wall cpu rss_kib
	local r="$WORK/$1.requests" t="$WORK/$1.time"
	local all single lists watches
	all=$(grep -cE '^[^ ]+ (GET|POST|PUT|PATCH|DELETE) /(api|apis)[/ ?]' "$r" || true)
	single=$(grep -cE ' GET /apis/apps/v1/namespaces/bench/deployments/[^ ?/]+ ' "$r" || true)
	lists=$(grep -cE ' GET /apis/apps/v1/namespaces/bench/deployments(\?limit=[0-9]+)? ' "$r" || true)
	watches=$(grep -c 'WATCH-START' "$r" || true)
	local wall user sys rss
	wall=$(grep -F "Elapsed (wall clock)" "$t" | sed 's/.*: //' |
		awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	user=$(grep -F "User time" "$t" | sed 's/.*: //')
	sys=$(grep -F "System time" "$t" | sed 's/.*: //')
	rss=$(grep -F "Maximum resident set size" "$t" | sed 's/.*: //')
	echo "$all $single $lists $watches $wall $(echo "$user + $sys" | bc -l) $rss"
}
read -r wa ws wl ww wwall wcpu wrss <<<"$(stats watch)"
read -r pa ps pl pw pwall pcpu prss <<<"$(stats poll)"
last=$(echo "1 + $START + $SPREAD" | bc -l)
echo "$N rollout waits, --jobs $JOBS, rollouts completing $((START + 1))-${last%.*} s into the run, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
awk -v n="$N" -v every="$EVERY" \
	-v wa="$wa" -v ws="$ws" -v wl="$wl" -v ww="$ww" -v wwall="$wwall" -v wcpu="$wcpu" -v wrss="$wrss" \
	-v pa="$pa" -v ps="$ps" -v pl="$pl" -v pw="$pw" -v pwall="$pwall" -v pcpu="$pcpu" -v prss="$prss" 'BEGIN {
	printf "| %d rollout waits | API requests | single GETs | lists | watches | last completion | CPU | peak RSS |\n", n
	printf "|---|---:|---:|---:|---:|---:|---:|---:|\n"
	printf "| watches (default) | %d | %d | %d | %d | %.2f s | %.2f s | %.1f MiB |\n", wa, ws, wl, ww, wwall, wcpu, wrss / 1024
	printf "| polling (every %s, watch: false) | %d | %d | %d | %d | %.2f s | %.2f s | %.1f MiB |\n", every, pa, ps, pl, pw, pwall, pcpu, prss / 1024
	printf "| ratio polling / watches | %.1fx | | | | %.2fx | %.1fx | |\n", pa / wa, pwall / wwall, pcpu / wcpu
}'
grep -hE "^[0-9]+ checks" "$WORK/watch.out" "$WORK/poll.out" || true
