#!/bin/bash
# Argo CD's health test objects (PG_SHARED_DIR/reference/k8s-health) served
# by kubesim: every object kubectl can read comes back with the status it was
# given, and `kubectl rollout status --watch=false` gives each workload the
# verdict kubectl's rules predict.  The verdicts are also written to
# $PG_BUILD_DIR/tests/sim/health/rollout-verdicts.tsv for the k8s module's
# agreement test.  Runs its own simulator on port 16445.
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
: "${PG_SHARED_DIR:?PG_SHARED_DIR must be set}"
REF="$PG_SHARED_DIR/reference/k8s-health"
[ -f "$REF/expected.tsv" ] || { echo "no $REF/expected.tsv" >&2; exit 1; }
WORLD="$(sim_dir health)-world"
rm -rf "$WORLD"
"$PY" "$(dirname "$0")/make_health_world.py" "$REF" "$WORLD" || exit 1
sim_start health "$WORLD" 16445 || exit 1
trap 'sim_stop health' EXIT
sim_use health

# --- every served reference object round-trips through kubectl -------------
N=0
while IFS=$'\t' read -r file resource ns name _; do
  [ "$file" = file ] && continue
  N=$((N + 1))
  if [ "$ns" = - ]; then kc get "$resource" "$name" -o json; else kc get "$resource" "$name" -n "$ns" -o json; fi
  if [ "$RC" != 0 ]; then fail "$file: kubectl get: $ERR"; continue; fi
  GOT=$(jget "$OUT" 'json.dumps(d.get("status"), sort_keys=True)')
  WANT=$("$PY" "$(dirname "$0")/make_health_world.py" --status "$REF/$file")
  expect_eq "$file: status round-trips" "$WANT" "$GOT"
done <"$WORLD/index.tsv"
if [ "$N" -ge 25 ]; then pass "$N reference objects served"; else fail "only $N reference objects served"; fi

# --- rollout verdicts -------------------------------------------------------
V="$SIM/rollout-verdicts.tsv"
mkdir -p "$(dirname "$V")"
printf 'file\tkind\tnamespace\tname\trc\tverdict\n' >"$V"
verdict() {   # FILE KIND/NAME NS -> sets RC, OUT, ERR and appends to $V
  kc rollout status "$2" -n "$3" --watch=false
  local text
  text=$(printf '%s %s' "$OUT" "$ERR" | tr '\n\t' '  ')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "${2%%/*}" "$3" "${2#*/}" "$RC" "$text" >>"$V"
}
verdict deployment-nginx-healthy.yaml deployment/nginx-deployment h-deployment-nginx-healthy
expect_rc "healthy deployment: complete" 0
expect_has "healthy deployment wording" 'deployment "nginx-deployment" successfully rolled out' "$OUT"
verdict deployment-degraded.yaml deployment/guestbook-ui h-deployment-degraded
expect_rc "degraded deployment: error" 1
expect_has "degraded deployment wording" 'deployment "guestbook-ui" exceeded its progress deadline' "$ERR"
verdict deployment-progressing.yaml deployment/guestbook-ui h-deployment-progressing
expect_rc "progressing deployment: not done, no error" 0
expect_has "progressing deployment wording" 'Waiting for deployment "guestbook-ui" rollout to finish' "$OUT"
verdict deployment-suspended.yaml deployment/guestbook-ui h-deployment-suspended
expect_rc "suspended deployment: kubectl ignores spec.paused" 0
verdict statefulset.yaml statefulset/redis-master h-statefulset
expect_rc "OnDelete statefulset: error" 1
expect_has "OnDelete statefulset wording" "rollout status is only available for RollingUpdate strategy type" "$ERR"
verdict daemonset-ondelete.yaml daemonset/fluentd-elasticsearch h-daemonset-ondelete
expect_rc "OnDelete daemonset: error" 1
expect_has "OnDelete daemonset wording" "rollout status is only available for RollingUpdate strategy type" "$ERR"
echo "verdicts written to $V"
cat "$V"
finish
