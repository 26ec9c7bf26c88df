#!/usr/bin/env bash
# Fleets: three simulator instances (two healthy, one broken world) run by
# one "phasegate run --context ..." and one "--kubeconfig-dir"; each cluster
# gets its reports under OUT/<cluster>/ and the fleet report is NO-GO
# because of the broken one, named; "phasegate merge" rebuilds the same
# fleet report from the results files. Ports 16661-16663.
set -uo pipefail
# shellcheck source=tests/sim/lib.sh
. "${PG_SOURCE_DIR:?}/tests/sim/lib.sh"
bin=${PG_BINARY:?}
tmp=$(mktemp -d)
names=(ship-east ship-west ship-broken)
cleanup() {
  for n in "${names[@]}"; do sim_stop "$n"; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
sim_start ship-east argocd-healthy 16661 >/dev/null || exit 1
sim_start ship-west argocd-healthy 16662 >/dev/null || exit 1
sim_start ship-broken argocd-broken 16663 >/dev/null || exit 1
"$PY" "$PG_SOURCE_DIR/tests/fleet/kubeconfigs.py" "$tmp" \
  east="$(sim_dir ship-east)/pki/kubeconfig" west="$(sim_dir ship-west)/pki/kubeconfig" \
  broken="$(sim_dir ship-broken)/pki/kubeconfig" || exit 1
suite=$PG_SOURCE_DIR/tests/fleet/suite.yaml
export HOME=$tmp
cd "$tmp"

check_fleet() { # check_fleet WHAT DIR
  local what=$1 dir=$2
  for c in east west broken; do
    for f in results.json report.md ${3:-}; do
      [[ -s $dir/$c/$f ]] || fail "$what: no $dir/$c/$f"
    done
  done
  grep -q '^# Fleet verdict: NO-GO' "$dir/fleet.md" || fail "$what: fleet verdict is not NO-GO"
  grep -q '1 of 3 clusters is not GO: \*\*broken\*\* (NO-GO)' "$dir/fleet.md" || fail "$what: broken not named"
  grep -q '^| broken | NO-GO | gate checkpoint-server failed: server-rollout' "$dir/fleet.md" ||
    fail "$what: no row with broken's failed gate"
  grep -q '^| east | GO | — | 2 of 2 passed | \[report\](east/report.md) |' "$dir/fleet.md" ||
    fail "$what: no row for east with its link"
  "$PY" - "$dir/fleet.json" <<'PY' || fail "$what: fleet.json"
import json, sys
f = json.load(open(sys.argv[1]))
assert f["verdict"] == "NO-GO", f["verdict"]
v = {c["cluster"]: c["verdict"] for c in f["clusters"]}
assert v == {"east": "GO", "west": "GO", "broken": "NO-GO"}, v
b = [c for c in f["clusters"] if c["cluster"] == "broken"][0]
assert b["blocking_gate"] == "checkpoint-server" and b["blocking_check"] == "server-rollout", b
PY
  grep -q '"verdict": "NO-GO"' "$dir/broken/results.json" || fail "$what: broken's own verdict"
  grep -q '"verdict": "GO"' "$dir/west/results.json" || fail "$what: west's own verdict"
}

KUBECONFIG=$tmp/merged.yaml "$bin" run "$suite" --context east --context west --context broken \
  --out by-context >"$tmp/ctx.log" 2>&1
rc=$?
[[ $rc == 1 ]] || { fail "--context: exit $rc, want 1"; cat "$tmp/ctx.log"; }
grep -q 'fleet verdict: NO-GO (3 clusters)' "$tmp/ctx.log" || fail "--context: console"
check_fleet --context by-context junit.xml

"$bin" run "$suite" --kubeconfig-dir "$tmp/dir" --out by-dir --require go >"$tmp/dir.log" 2>&1
rc=$?
[[ $rc == 4 ]] || { fail "--kubeconfig-dir --require go: exit $rc, want 4"; cat "$tmp/dir.log"; }
check_fleet --kubeconfig-dir by-dir junit.xml

"$bin" merge by-context/east/results.json by-dir/west/results.json broken=by-context/broken/results.json \
  --out merged >"$tmp/merge.log" 2>&1
rc=$?
[[ $rc == 1 ]] || { fail "merge: exit $rc, want 1"; cat "$tmp/merge.log"; }
check_fleet merge merged
cmp -s <(sed 1d merged/broken/report.md) <(sed 1d by-context/broken/report.md) ||
  fail "merge: broken's report differs from the run's"

# all healthy: GO, and exit 0 even with --require go
"$bin" merge by-dir/east/results.json by-dir/west/results.json --out good --require go >/dev/null 2>&1 ||
  fail "merge of two GO clusters did not exit 0"
grep -q '^# Fleet verdict: GO' good/fleet.md || fail "two GO clusters: fleet verdict not GO"
# bad input
"$bin" merge nowhere.json --out bad >/dev/null 2>&1
[[ $? == 2 ]] || fail "merge of a missing file: want exit 2"
"$bin" run "$suite" --context east --junit x.xml --out o >/dev/null 2>&1
[[ $? == 2 ]] || fail "a fleet run with --junit: want exit 2"
"$bin" run "$suite" --context east >/dev/null 2>&1
[[ $? == 2 ]] || fail "a fleet run without --out: want exit 2"

if [[ $fails != 0 ]]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "ok: fleet over three simulators by --context and --kubeconfig-dir, merge, NO-GO because of broken"
