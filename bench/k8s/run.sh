#!/bin/bash
# bench/k8s/run.sh - 500 object assertions (get + jq) against one kubesim
# instance, done two ways in the same run:
#   phasegate  one suite of 500 k8s get checks with a jq expectation (--jobs 8)
#   kubectl    a bash script running `kubectl get -o json | jq -e` once per
#              assertion, the seed's approach (discovery cache warmed first)
#   floor      the same phasegate suite against nginx serving the answers
#              the simulator gave as static files (bench/scale/floor.py
#              records them, tests/net/h2proxy.sh serves them; TLS, HTTP/2,
#              client certificates): what is left is phasegate's own cost
# Prints a Markdown table: wall time, user+sys CPU, peak RSS, the ratios,
# and phasegate's own wall and CPU time per check. A row runs the same
# gets with path expectations (equals:) instead of jq, which shows what the
# jq compilation at load time costs.
#
# Usage: bench/k8s/run.sh [N]     (N assertions, default 500)
# Environment: PG_BINARY (default: build/phasegate under the checkout),
# PG_PYTHON3 (default python3), BENCH_PORT (default 16470), BENCH_FLOOR_PORT
# (default 16472), BENCH_JOBS (default 8), BENCH_KUBECTL_N (the kubectl loop
# runs the first this many assertions, its figures scaled to N; default N),
# BENCH_RUNS (phasegate runs per row, the
# fastest kept; default 3), BENCH_KEEP (set: keep the work directory).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
N=${1:-500}
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
PY=${PG_PYTHON3:-python3}
PORT=${BENCH_PORT:-16470}
FLOOR_PORT=${BENCH_FLOOR_PORT:-16472}
JOBS=${BENCH_JOBS:-8}
KN=${BENCH_KUBECTL_N:-$N}
for tool in kubectl jq /usr/bin/time "$PG_BINARY"; do
  command -v "$tool" >/dev/null || { echo "bench/k8s: $tool is needed" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pg-bench-k8s.XXXXXX")
chmod 755 "$WORK" # nginx's workers (nobody, when started as root) read the floor's answers
SIM_PID='' FLOOR_STARTED=''
cleanup() {
  if [ -n "$FLOOR_STARTED" ]; then "$ROOT/tests/net/h2proxy.sh" stop "$WORK/floor" || true; fi
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; fi
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench/k8s: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The simulator, on loopback, with the healthy world.
"$PY" "$ROOT/fixtures/kubesim/kubesim.py" --world "$ROOT/fixtures/worlds/argocd-healthy" \
  --port "$PORT" --tls-dir "$WORK/tls" --pki-out "$WORK/pki" --log "$WORK/requests.log" \
  </dev/null >"$WORK/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 1 100); do
  [ -f "$WORK/pki/port" ] && curl -fs --max-time 2 --cacert "$WORK/tls/ca.crt" \
    "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
KCFG="$WORK/pki/kubeconfig"
export HOME="$WORK/home"
mkdir -p "$HOME"
CACHE="$WORK/kube-cache"
KC=(kubectl --kubeconfig "$KCFG" --context admin --cache-dir "$CACHE")

# The objects to assert on: every deployment, service, config map, pod and
# Argo CD application of the world, cycled until there are N assertions.
"${KC[@]}" get deployments,services,configmaps,pods,applications.argoproj.io -A \
  -o jsonpath='{range .items[*]}{.kind} {.metadata.namespace} {.metadata.name}{"\n"}{end}' \
  >"$WORK/objects.txt"
"$PY" - "$N" "$WORK/objects.txt" "$WORK" "$KCFG" "$KN" <<'EOF'
import json, sys
n, objects, work, kcfg = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
kn = int(sys.argv[5])
objs = [l.split() for l in open(objects) if l.strip()]
checks, pchecks = [], []
lines = ["#!/bin/bash", "# one kubectl process per assertion, as the seed does", "fail=0"]
for i in range(n):
    kind, ns, name = objs[i % len(objs)]
    prog = '.metadata.name == "%s" and .metadata.namespace == "%s"' % (name, ns)
    checks.append({"id": "a%03d" % i,
                   "k8s": {"get": "%s/%s" % (kind.lower(), name), "namespace": ns},
                   "expect": [{"jq": ".object | " + prog}]})
    pchecks.append({"id": "a%03d" % i,
                    "k8s": {"get": "%s/%s" % (kind.lower(), name), "namespace": ns},
                    "expect": [{"path": "object.metadata.name", "equals": name},
                               {"path": "object.metadata.namespace", "equals": ns}]})
    if i < kn:
        lines.append("kubectl --kubeconfig \"$KCFG\" --context admin --cache-dir \"$CACHE\" get %s/%s -n %s"
                 " -o json | jq -e '%s' >/dev/null || fail=$((fail+1))" % (kind.lower(), name, ns, prog))
lines.append("echo \"$fail failed\"")
lines.append("[ \"$fail\" -eq 0 ]")
suite = {"name": "bench-k8s", "modules": {"k8s": {"kubeconfig": kcfg, "context": "admin"}},
         "defaults": {"timeout": "30s"},
         "phases": [{"id": "1", "name": "bench", "steps": [{"id": "1.1", "name": "assertions",
                    "checkpoint": {"id": "all", "checks": checks}}]}]}
json.dump(suite, open(work + "/suite.yaml", "w"))
suite["phases"][0]["steps"][0]["checkpoint"]["checks"] = pchecks
json.dump(suite, open(work + "/suite-path.yaml", "w"))
suite["phases"][0]["steps"][0]["checkpoint"]["checks"] = checks
suite["modules"]["k8s"]["kubeconfig"] = kcfg + ".floor"
json.dump(suite, open(work + "/suite-floor.yaml", "w"))
open(work + "/seed.sh", "w").write("\n".join(lines) + "\n")
EOF

# Warm kubectl's discovery cache (fair to kubectl: the seed runs many calls).
"${KC[@]}" get deployments -n argocd -o name >/dev/null

measure() { # name, command...: runs under /usr/bin/time -v, keeps its report
  local name=$1; shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>&1 || {
    echo "bench/k8s: $name failed:" >&2; tail -20 "$WORK/$name.out" >&2; exit 1; }
}
best_of() { # name, command...: BENCH_RUNS runs (default 3), the fastest kept as NAME
  local name=$1 i best="" bw="" w; shift
  for i in $(seq 1 "${BENCH_RUNS:-3}"); do
    measure "$name.$i" "$@"
    w=$(to_s "$(field "$WORK/$name.$i.time" "Elapsed (wall clock)")")
    if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then
      bw=$w best=$i
    fi
  done
  cp "$WORK/$name.$best.time" "$WORK/$name.time"
  cp "$WORK/$name.$best.out" "$WORK/$name.out"
}
field() { # file, label
  grep -F "$2" "$1" | head -1 | sed 's/.*: //'
}
to_s() { # "m:ss.cc" or "h:mm:ss" to seconds
  awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<<"$1"
}

best_of phasegate "$PG_BINARY" run "$WORK/suite.yaml" --jobs "$JOBS" --out "$WORK/pg-out"
best_of phasegate-path "$PG_BINARY" run "$WORK/suite-path.yaml" --jobs "$JOBS" --out "$WORK/pg-out-path"
# The floor: the answers phasegate was given, recorded, served by nginx
# as static files (TLS, HTTP/2, client certificates verified).
"$PY" "$ROOT/bench/scale/floor.py" record --server "https://127.0.0.1:$PORT" \
  --ca "$WORK/tls/ca.crt" --cert "$WORK/pki/client-admin.crt" \
  --key "$WORK/pki/client-admin.key" --paths "$WORK/requests.log" --out "$WORK/answers" >/dev/null
H2PROXY_CLIENT_CA=$WORK/tls/ca.crt "$ROOT/tests/net/h2proxy.sh" start "$WORK/floor" \
  "$WORK/tls/server.crt" "$WORK/tls/server.key" "$WORK/tls/ca.crt" "$FLOOR_PORT=$WORK/answers"
FLOOR_STARTED=1
sed "s#127.0.0.1:$PORT#127.0.0.1:$FLOOR_PORT#" "$KCFG" >"$KCFG.floor"
best_of phasegate-floor "$PG_BINARY" run "$WORK/suite-floor.yaml" --jobs "$JOBS" \
  --out "$WORK/pg-out-floor"
KCFG=$KCFG CACHE=$CACHE measure kubectl env KCFG="$KCFG" CACHE="$CACHE" bash "$WORK/seed.sh"

row() { # name
  local f="$WORK/$1.time" wall user sys rss
  wall=$(to_s "$(field "$f" "Elapsed (wall clock)")")
  user=$(field "$f" "User time")
  sys=$(field "$f" "System time")
  rss=$(field "$f" "Maximum resident set size")
  echo "$wall $user $sys $rss"
}
read -r pw pu ps prss <<<"$(row phasegate)"
read -r qw qu qs qrss <<<"$(row phasegate-path)"
read -r kw ku ks krss <<<"$(row kubectl)"
# the kubectl loop ran KN assertions: its time and CPU scaled to N
read -r kw ku ks <<<"$(awk -v w="$kw" -v u="$ku" -v s="$ks" -v n="$N" -v k="$KN" \
  'BEGIN { print w * n / k, u * n / k, s * n / k }')"
klabel="bash + kubectl + jq per assertion"
[ "$KN" = "$N" ] || klabel="$klabel ($KN run, scaled to $N)"
read -r fw fu fs frss <<<"$(row phasegate-floor)"
awk -v n="$N" -v j="$JOBS" -v kl="$klabel" -v pw="$pw" -v pu="$pu" -v ps="$ps" -v prss="$prss" \
    -v qw="$qw" -v qu="$qu" -v qs="$qs" -v qrss="$qrss" \
    -v fw="$fw" -v fu="$fu" -v fs="$fs" -v frss="$frss" \
    -v kw="$kw" -v ku="$ku" -v ks="$ks" -v krss="$krss" 'BEGIN {
  printf "| %d get + jq assertions | wall time | user+sys CPU | peak RSS |\n", n
  printf "|---|---:|---:|---:|\n"
  printf "| phasegate (--jobs %d) against kubesim | %.2f s | %.2f s | %.1f MiB |\n", j, pw, pu + ps, prss / 1024
  printf "| phasegate, path expectations | %.2f s | %.2f s | %.1f MiB |\n", qw, qu + qs, qrss / 1024
  printf "| phasegate against the floor (same answers, static) | %.2f s | %.2f s | %.1f MiB |\n", fw, fu + fs, frss / 1024
  printf "| %s | %.2f s | %.2f s | %.1f MiB |\n", kl, kw, ku + ks, krss / 1024
  printf "| ratio kubectl / phasegate (jq) | %.1fx | %.1fx | |\n", kw / pw, (ku + ks) / (pu + ps)
  printf "| ratio kubectl / phasegate (path) | %.1fx | %.1fx | |\n", kw / qw, (ku + ks) / (qu + qs)
  printf "| ratio kubesim / floor (phasegate jq) | %.1fx | %.1fx | |\n", pw / fw, (pu + ps) / (fu + fs)
  printf "\n| per assertion | wall | user+sys CPU |\n|---|---:|---:|\n"
  printf "| phasegate against kubesim (jq) | %.2f ms | %.2f ms |\n", pw / n * 1e3, (pu + ps) / n * 1e3
  printf "| phasegate against kubesim (path) | %.2f ms | %.2f ms |\n", qw / n * 1e3, (qu + qs) / n * 1e3
  printf "| phasegate against the floor (jq): its own cost | %.2f ms | %.2f ms |\n", fw / n * 1e3, (fu + fs) / n * 1e3
  printf "| %s | %.2f ms | %.2f ms |\n", kl, kw / n * 1e3, (ku + ks) / n * 1e3
}'
grep -E "^[0-9]+ checks" "$WORK/phasegate.out" "$WORK/phasegate-floor.out" || true
tail -1 "$WORK/kubectl.out"
