#!/usr/bin/env bash
# deploy/: the manifests apply cleanly (and again, unchanged) to the
# simulator with the real kubectl; rbac.yaml is what "phasegate rbac" makes
# of the suite; phasegate runs as it would in the Job's pod (the suite read
# from the ConfigMap, the service-account token file, KUBERNETES_SERVICE_HOST
# and _PORT, the Job's own arguments) with only the generated RBAC, gets GO
# and publishes its results; "phasegate collect" reads them back. Port 16664.
set -uo pipefail
# shellcheck source=tests/sim/lib.sh
. "${PG_SOURCE_DIR:?}/tests/sim/lib.sh"
bin=${PG_BINARY:?}
src=$PG_SOURCE_DIR
tmp=$(mktemp -d)
trap 'sim_stop ship-deploy; rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
token=kubesim-phasegate-sa-0042

# rbac.yaml is generated, not hand-written
"$bin" rbac "$src/deploy/suite/suite.yaml" --service-account phasegate/phasegate \
  --publish configmap/phasegate/phasegate-results >"$tmp/rbac.yaml" || fail "phasegate rbac failed"
diff -u "$src/deploy/rbac.yaml" "$tmp/rbac.yaml" >/dev/null ||
  fail "deploy/rbac.yaml is not what 'phasegate rbac' makes of deploy/suite/suite.yaml"
# the ConfigMap holds deploy/suite/suite.yaml
"$PY" - "$src/deploy" <<'PY' || fail "suite-configmap.yaml does not hold deploy/suite/suite.yaml"
import sys, yaml
d = sys.argv[1]
cm = yaml.safe_load(open(d + "/suite-configmap.yaml"))
assert cm["data"]["suite.yaml"] == open(d + "/suite/suite.yaml").read()
PY

"$PY" "$src/tests/deploy/make_world.py" "$src/fixtures/worlds/argocd-healthy" "$src/deploy/rbac.yaml" \
  "$tmp/world" "$token" || exit 1
sim_start ship-deploy "$tmp/world" 16664 >/dev/null || exit 1
sim_use ship-deploy

kc apply -f "$src/deploy/namespace.yaml"
[[ $RC == 0 ]] || fail "kubectl apply namespace.yaml: $(cat "$HOME/stderr")"
kc apply -k "$src/deploy"
[[ $RC == 0 ]] || fail "kubectl apply -k deploy: $(cat "$HOME/stderr")"
for want in "serviceaccount/phasegate" "role.rbac.authorization.k8s.io/phasegate-in-cluster-argocd" \
  "secret/phasegate-secrets" "configmap/phasegate-suite" "job.batch/phasegate-run" \
  "cronjob.batch/phasegate-health"; do
  [[ $OUT == *"$want"* ]] || fail "apply -k did not report $want: $OUT"
done
kc apply -f "$src/deploy/postsync-hook.yaml" -f "$src/deploy/applicationset.yaml"
[[ $RC == 0 ]] || fail "kubectl apply postsync-hook, applicationset: $(cat "$HOME/stderr")"
kc apply -k "$src/deploy"
[[ $RC == 0 && $OUT != *configured* && $OUT == *unchanged* ]] || fail "applying again changed something: $OUT"
kc get job phasegate-postsync -n phasegate -o 'jsonpath={.metadata.annotations}'
[[ $OUT == *'"argocd.argoproj.io/hook":"PostSync"'* && $OUT == *'hook-delete-policy'* ]] ||
  fail "the hook Job lacks its annotations: $OUT"
kc get rolebinding phasegate-in-cluster-argocd -n argocd -o 'jsonpath={.subjects[0].name}'
[[ $OUT == phasegate ]] || fail "the RoleBinding in argocd: $OUT"

# the pod: the suite from the ConfigMap, the Job's arguments, the service account
mkdir -p "$tmp/pod/suite" "$tmp/pod/tmp" "$tmp/pod/sa" "$tmp/pod/home"
kc get configmap phasegate-suite -n phasegate -o 'jsonpath={.data.suite\.yaml}'
printf '%s\n' "$OUT" >"$tmp/pod/suite/suite.yaml"
printf '%s' "$token" >"$tmp/pod/sa/token"
printf 'phasegate' >"$tmp/pod/sa/namespace"
cp "$SIM/tls/ca.crt" "$tmp/pod/sa/ca.crt"
mapfile -t args < <("$PY" - "$src/deploy/job.yaml" "$tmp/pod" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))
for a in job["spec"]["template"]["spec"]["containers"][0]["args"]:
    # the pod's mounts, under the test's directory
    print(sys.argv[2] + a if a.startswith(("/suite/", "/tmp/")) else a)
PY
)
in_pod() {
  env -i PATH="$PATH" HOME="$tmp/pod/home" KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=16664 \
    "$bin" "$@" --set k8s.service_account_dir="$tmp/pod/sa" --no-color
}
in_pod "${args[@]}" >"$tmp/pod.log" 2>&1
rc=$?
[[ $rc == 0 ]] || { fail "the in-pod run exited $rc, want 0 (GO)"; cat "$tmp/pod.log"; }
grep -q 'published: configmap/phasegate/phasegate-results' "$tmp/pod.log" || fail "no 'published' note"
kc get configmap phasegate-results -n phasegate -o 'jsonpath={.metadata.annotations.phasegate\.dev/verdict}'
[[ $OUT == GO ]] || fail "the published ConfigMap's verdict annotation: '$OUT'"
# idempotent: a second run updates the same object
in_pod "${args[@]}" >/dev/null 2>&1 || fail "the second in-pod run failed"
kc get configmaps -n phasegate -l app.kubernetes.io/managed-by=phasegate -o name
[[ $OUT == "configmap/phasegate-results" ]] || fail "published ConfigMaps: $OUT"
run_id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$tmp/pod/tmp/out/results.json")

# collect reads it back
mkdir -p "$tmp/kc"
cp "$KCFG" "$tmp/kc/in-cluster.yaml"
"$bin" collect --kubeconfig-dir "$tmp/kc" --from configmap/phasegate/phasegate-results --out "$tmp/fleet" \
  >"$tmp/collect.log" 2>&1 || { fail "collect failed"; cat "$tmp/collect.log"; }
grep -q '^# Fleet verdict: GO' "$tmp/fleet/fleet.md" || fail "collect: fleet verdict"
grep -q "\"run_id\": \"$run_id\"" "$tmp/fleet/in-cluster/results.json" || fail "collect: not the published run"
[[ -s $tmp/fleet/in-cluster/report.md ]] || fail "collect: no report.md"

# too large for a ConfigMap: published summarised, and still collected
KUBECONFIG=$KCFG "$bin" run "$src/tests/deploy/big.yaml" --publish configmap/phasegate/big --quiet \
  --json "$tmp/big.json" --set k8s.context=admin >/dev/null 2>&1
rc=$?
[[ $rc == 1 ]] || fail "the big run: exit $rc, want 1 (its gate fails)"
big=$(stat -c %s "$tmp/big.json")
(( big > 1048576 )) || fail "the big results are only $big bytes: not a test of the limit"
kc get configmap big -n phasegate -o json
printf '%s' "$OUT" >"$tmp/big-cm.json"
"$PY" - "$tmp/big-cm.json" <<'PY' || fail "the big ConfigMap"
import json, sys
cm = json.load(open(sys.argv[1]))
assert cm["metadata"]["annotations"]["phasegate.dev/summarised"] == "true", cm["metadata"]
size = sum(len(k) + len(v.encode()) for k, v in cm["data"].items())
assert size <= 1000 * 1000, size
r = json.loads(cm["data"]["results.json"])
assert r["verdict"] == "NO-GO" and r["totals"]["failed"] == 80, (r["verdict"], r["totals"])
assert "summary.txt" in cm["data"]
PY
"$bin" collect --kubeconfig-dir "$tmp/kc" --from configmap/phasegate/big --out "$tmp/bigfleet" >/dev/null 2>&1
[[ $? == 1 ]] || fail "collect of the summarised results: want exit 1 (NO-GO)"
grep -q '^| in-cluster | NO-GO | gate checkpoint-noisy failed' "$tmp/bigfleet/fleet.md" ||
  fail "collect of the summarised results: fleet row"

# without the generated grant, publishing is refused: a user who may only read
sed -i "s/$token/kubesim-readonly-token-0002/" "$tmp/pod/sa/token"
in_pod "${args[@]}" >"$tmp/denied.log" 2>&1
rc=$?
[[ $rc == 3 ]] || { fail "publishing without the right to: exit $rc, want 3"; tail -20 "$tmp/denied.log"; }
grep -qi 'forbidden\|403' "$tmp/denied.log" || fail "no RBAC message: $(tail -3 "$tmp/denied.log")"

if [[ $fails != 0 ]]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "ok: deploy/ applies with kubectl, the in-pod run with the generated RBAC publishes GO, collect reads it"
