# shellcheck shell=bash
# Helpers for the simulator's own tests: start/stop kubesim, run kubectl
# against it with a fresh discovery cache, and assert on the results.
# Environment (from tests/CMakeLists.txt): PG_SOURCE_DIR, PG_BUILD_DIR,
# PG_PYTHON3.

: "${PG_SOURCE_DIR:?PG_SOURCE_DIR must be set}"
: "${PG_BUILD_DIR:?PG_BUILD_DIR must be set}"
PY="${PG_PYTHON3:-/usr/bin/python3}"
KUBESIM="$PG_SOURCE_DIR/fixtures/kubesim/kubesim.py"
WORLDS="$PG_SOURCE_DIR/fixtures/worlds"
FAILS=0
CHECKS=0
# shellcheck source=../net/pidlib.sh
. "$PG_SOURCE_DIR/tests/net/pidlib.sh"

# sim_dir NAME: the work directory of one simulator instance.
sim_dir() { echo "$PG_BUILD_DIR/tests/sim/$1"; }

# sim_start NAME WORLD PORT [KUBESIM ARGS...]: start kubesim (WORLD: a name under
# fixtures/worlds or an absolute path) in the background (its own session, output to files so ctest does not wait on it) and wait until
# it answers /healthz over TLS.
sim_start() {
  local dir; dir=$(sim_dir "$1")
  # a leftover instance of this name (proved by its command line: the PID
  # in a stale pid file may belong to anything by now)
  stop_pid "$dir/pki/pid" "--pki-out $dir/pki"
  rm -rf "$dir"
  mkdir -p "$dir"
  local world="$2"
  case "$world" in /*) ;; *) world="$WORLDS/$world" ;; esac
  setsid "$PY" "$KUBESIM" --world "$world" --port "$3" --tls-dir "$dir/tls" \
    --pki-out "$dir/pki" --state-file "$dir/state.json" --log "$dir/requests.log" "${@:4}" \
    </dev/null >"$dir/stdout.log" 2>&1 &
  local _
  for _ in $(seq 1 200); do
    if [ -f "$dir/pki/port" ] && curl -fs --max-time 2 --cacert "$dir/tls/ca.crt" \
        "https://127.0.0.1:$3/healthz" >/dev/null 2>&1; then
      echo "kubesim $1 ($2) ready on port $3, pid $(cat "$dir/pki/pid")"
      return 0
    fi
    sleep 0.1
  done
  echo "kubesim $1 did not start; its output:" >&2
  cat "$dir/stdout.log" >&2
  return 1
}

# sim_stop NAME: stop the instance by its recorded pid, once its command
# line proves the PID is that simulator; the pid file goes in any case.
sim_stop() {
  local dir; dir=$(sim_dir "$1")
  stop_pid "$dir/pki/pid" "--pki-out $dir/pki"
  return 0
}

# sim_use NAME: point kc/ctl at a running instance; fresh HOME and cache.
sim_use() {
  SIM=$(sim_dir "$1")
  [ -f "$SIM/pki/port" ] || { echo "simulator $1 is not running" >&2; exit 1; }
  PORT=$(cat "$SIM/pki/port")
  KCFG="$SIM/pki/kubeconfig"
  export HOME="$SIM/home.$$"
  rm -rf "$HOME"
  mkdir -p "$HOME"
  CACHE="$HOME/kube-cache"
}

# kc ARGS...: run kubectl; sets OUT, ERR, RC.
kc() {
  OUT=$(kubectl --kubeconfig "$KCFG" --cache-dir "$CACHE" "$@" 2>"$HOME/stderr")
  RC=$?
  ERR=$(cat "$HOME/stderr")
}

# ctl METHOD PATH [BODY]: call a /_sim control endpoint; prints the body.
ctl() {
  curl -fsS --max-time 10 --cacert "$SIM/tls/ca.crt" -X "$1" \
    -H 'Content-Type: application/yaml' ${3:+--data-binary "$3"} \
    "https://127.0.0.1:$PORT$2"
}

# kubeconfig_via PORT OUT: the instance's kubeconfig with every cluster's
# server at https://127.0.0.1:PORT (a proxy in front of it), written to OUT.
kubeconfig_via() {
  "$PY" - "$SIM/pki/kubeconfig" "$2" "$1" <<'PY'
import sys, yaml
kc = yaml.safe_load(open(sys.argv[1]))
for c in kc["clusters"]:
    c["cluster"]["server"] = "https://127.0.0.1:%s" % sys.argv[3]
yaml.safe_dump(kc, open(sys.argv[2], "w"))
PY
}

# jget JSON EXPR: evaluate a python expression on the parsed JSON as `d`.
jget() {
  printf '%s' "$1" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

pass() { CHECKS=$((CHECKS + 1)); echo "ok   $1"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL $1" >&2; }

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected [$2], got [$3]"; fi
}

# expect_has NAME NEEDLE HAYSTACK
expect_has() {
  case "$3" in
    *"$2"*) pass "$1" ;;
    *) fail "$1: [$2] not found in: $3" ;;
  esac
}

# expect_rc NAME EXPECTED (uses RC, ERR from the last kc)
expect_rc() {
  if [ "$RC" = "$2" ]; then pass "$1 (rc $RC)"; else fail "$1: rc $RC, expected $2; stderr: $ERR"; fi
}

# wait_for_log REGEX: wait until a request log line matches (grep -E).
wait_for_log() {
  local _
  for _ in $(seq 1 300); do
    grep -qE -- "$1" "$SIM/requests.log" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

finish() {
  echo "$CHECKS checks, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

# check_world_counts WORLD: for every kind in the world, `kubectl get -A -o
# json` succeeds and returns as many items as the world's YAML holds.
check_world_counts() {
  local arg n got
  while read -r arg n; do
    kc get "$arg" -A -o json
    if [ "$RC" != 0 ]; then
      fail "get $arg -A -o json: rc $RC: $ERR"
      continue
    fi
    got=$(jget "$OUT" 'len(d["items"])')
    expect_eq "get $arg -A: count" "$n" "$got"
  done < <("$PY" "$(dirname "${BASH_SOURCE[0]}")/world_counts.py" "$WORLDS/$1")
}

# argo METHOD PATH [BODY]: call the instance's Argo CD API (started with
# --argocd-port) with the world's pre-issued admin token; sets OUT, RC.
argo() {
  local port tok
  port=$(cat "$SIM/pki/argocd-port")
  tok=$(jget "$(cat "$SIM/pki/argocd-tokens.json")" 'd["admin"]')
  OUT=$(curl -sS --max-time 20 --cacert "$SIM/tls/ca.crt" -X "$1" \
    -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    ${3:+--data-binary "$3"} "https://127.0.0.1:$port$2")
  RC=$?
}

# wait_until DESCRIPTION SECONDS COMMAND...: poll COMMAND every 0.2s until
# it succeeds; a failure is recorded when it never does.
wait_until() {
  local what="$1" deadline=$(( $(date +%s) + $2 ))
  shift 2
  while [ "$(date +%s)" -le "$deadline" ]; do
    if "$@"; then pass "$what"; return 0; fi
    sleep 0.2
  done
  fail "$what: not within the time allowed"
  return 1
}
