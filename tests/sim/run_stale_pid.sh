#!/bin/bash
# Issue 10 item 17: a stale pid file must never make the harness kill a
# process that is not the simulator (PIDs are reused). An unrelated
# process named by an instance's pid file survives sim_stop and
# sim_start, and the pid file is removed.
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
NAME=stale-pid-check
DIR=$(sim_dir "$NAME")
mkdir -p "$DIR/pki"
sleep 60 &
VICTIM=$!
echo "$VICTIM" > "$DIR/pki/pid"
sim_stop "$NAME"
if kill -0 "$VICTIM" 2>/dev/null; then pass "sim_stop spares a process that is not kubesim"
else fail "sim_stop killed an unrelated process"; fi
[ ! -e "$DIR/pki/pid" ] && pass "the stale pid file is removed" || fail "pid file left"
echo "$VICTIM" > "$DIR/pki/pid"
sim_stop "$NAME"   # what sim_start does first
kill -0 "$VICTIM" 2>/dev/null && pass "sim_start's cleanup spares it too" || fail "killed"
kill "$VICTIM" 2>/dev/null
rm -rf "$DIR"
finish
