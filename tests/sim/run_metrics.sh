#!/bin/bash
# Live Argo CD metrics of the argocd-upstream world (fixtures/kubesim/
# metrics.py): the three endpoints pass `promtool check metrics`;
# argocd_app_info follows the Applications; a burst of concurrent refreshes
# through the Argo CD API raises the reconcile count, the API's handled
# count and the git request count, and the reconciliation queue's depth
# while it lasts; a sync counts in argocd_app_sync_total; a repo outage
# shows in argocd_app_info and the git failures; a replaced pod's counters
# start again. Needs the sim_upstream fixture (started with metrics ports).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use upstream
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }
IFS=, read -r CTRL REPO SERVER <"$SIM/pki/argocd-metrics-ports"

scrape() { curl -fsS --max-time 10 "http://127.0.0.1:$1/metrics"; }
# value PORT SERIES-REGEX: the sum of the samples whose line matches
value() {
  scrape "$1" | "$PY" -c '
import re, sys
rx = re.compile(sys.argv[1])
print("%g" % sum(float(l.rsplit(" ", 1)[1]) for l in sys.stdin
                 if not l.startswith("#") and rx.search(l.rsplit(" ", 1)[0])))' "$2"
}
gt() { "$PY" -c 'import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)' "$1" "$2"; }

for p in "$CTRL" "$REPO" "$SERVER"; do
  if scrape "$p" | promtool check metrics >"$SIM/promtool.out" 2>&1; then
    pass "port $p: promtool check metrics"
  else
    fail "port $p: promtool: $(cat "$SIM/promtool.out")"
  fi
done
CT=$(curl -fsS -o /dev/null -w '%{content_type}' "http://127.0.0.1:$CTRL/metrics")
expect_has "text format 0.0.4" "version=0.0.4" "$CT"

expect_eq "argocd_app_info: three apps Synced and Healthy" "3" \
  "$(value "$CTRL" '^argocd_app_info\{.*health_status="Healthy".*sync_status="Synced"')"
expect_eq "sync history counted as succeeded syncs" "6" \
  "$(value "$CTRL" '^argocd_app_sync_total\{.*phase="Succeeded"')"

# --- a burst of concurrent refreshes ------------------------------------------------
# One reconcile takes about a second for the burst (the controller pod's
# reconcile-seconds annotation): the 20 processors stay busy while the other
# refreshes arrive, even when a loaded machine spreads their arrival over a
# second or two (at the usual 0.15 s they could all be served on arrival).
kc annotate pod argocd-application-controller-0 -n argocd --overwrite \
  kubesim.phasegate.dev/reconcile-seconds=1
expect_rc "the controller slowed for the burst" 0
R0=$(value "$CTRL" '^argocd_app_reconcile_count')
G0=$(value "$SERVER" '^grpc_server_handled_total\{grpc_code="OK",grpc_method="Get",grpc_service="application.ApplicationService"')
GIT0=$(value "$REPO" '^argocd_git_request_total\{.*request_type="ls-remote"')
# 40 refreshes at once from one process (threads), the controller's
# queue depth sampled every 50 ms meanwhile; prints "FAILED MAXDEPTH". The
# controller has 20 status processors (upstream's default): the other 20
# refreshes wait in the queue
OUT=$("$PY" - "$SIM" "$CTRL" <<'PYEOF'
import json, re, ssl, sys, threading, time, urllib.request
sim, ctrl = sys.argv[1], sys.argv[2]
port = open(sim + "/pki/argocd-port").read().strip()
tok = json.load(open(sim + "/pki/argocd-tokens.json"))["admin"]
ctx = ssl.create_default_context(cafile=sim + "/tls/ca.crt")
apps = ["guestbook", "helm-guestbook", "kustomize-guestbook"]
failed = []
def refresh(i):
    req = urllib.request.Request("https://127.0.0.1:%s/api/v1/applications/%s?refresh=normal"
                                 % (port, apps[i % 3]), headers={"Authorization": "Bearer " + tok})
    try:
        urllib.request.urlopen(req, context=ctx, timeout=60).read()
    except Exception as e:
        failed.append(str(e))
threads = [threading.Thread(target=refresh, args=(i,)) for i in range(40)]
for t in threads:
    t.start()
maxd = 0
while any(t.is_alive() for t in threads):
    text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % ctrl, timeout=10).read().decode()
    m = re.search(r'^workqueue_depth\{name="app_reconciliation_queue"\} (\S+)$', text, re.M)
    maxd = max(maxd, float(m.group(1)) if m else 0)
    time.sleep(0.05)
print(len(failed), int(maxd))
PYEOF
)
read -r FAILED_REQ MAXD <<<"$OUT"
expect_eq "every refresh answered" "0" "$FAILED_REQ"
gt "$MAXD" 5 && pass "queue depth rose during the burst (max $MAXD)" \
  || fail "queue depth did not rise during the burst (max $MAXD)"
expect_eq "queue drained after the burst" "0" "$(value "$CTRL" '^workqueue_depth\{name="app_reconciliation_queue"')"
R1=$(value "$CTRL" '^argocd_app_reconcile_count')
gt "$R1" "$(( ${R0%.*} + 39 ))" && pass "reconcile count rose by the burst ($R0 -> $R1)" \
  || fail "reconcile count ($R0 -> $R1)"
G1=$(value "$SERVER" '^grpc_server_handled_total\{grpc_code="OK",grpc_method="Get",grpc_service="application.ApplicationService"')
expect_eq "grpc handled Get/OK rose by 40" "40" "$("$PY" -c "print(int(float('$G1') - float('$G0')))")"
GIT1=$(value "$REPO" '^argocd_git_request_total\{.*request_type="ls-remote"')
gt "$GIT1" "$(( ${GIT0%.*} + 39 ))" && pass "git ls-remote count rose ($GIT0 -> $GIT1)" \
  || fail "git ls-remote count ($GIT0 -> $GIT1)"
kc annotate pod argocd-application-controller-0 -n argocd kubesim.phasegate.dev/reconcile-seconds-
expect_rc "the controller back to its usual speed" 0
SLOW=$(value "$CTRL" '^argocd_app_reconcile_bucket\{.*le="0.25"')
ALL=$(value "$CTRL" '^argocd_app_reconcile_count')
gt "$ALL" "$SLOW" && pass "some reconciles of the burst were slower than 0.25s" \
  || fail "no reconcile slower than 0.25s ($SLOW of $ALL)"

# --- a sync counts ------------------------------------------------------------------------
S0=$(value "$CTRL" '^argocd_app_sync_total\{.*name="helm-guestbook".*phase="Succeeded"')
argo POST /api/v1/applications/helm-guestbook/sync '{}'
sync_counted() {
  [ "$(value "$CTRL" '^argocd_app_sync_total\{.*name="helm-guestbook".*phase="Succeeded"')" != "$S0" ]
}
wait_until "argocd_app_sync_total{phase=Succeeded} counts the sync" 15 sync_counted

# --- an outage shows ---------------------------------------------------------------------------
ctl POST /_sim/controller/faults "[{fault: RepoUnreachable, repo: 'argocd-example-apps'}]" >/dev/null
argo GET '/api/v1/applications/guestbook?refresh=normal'
expect_eq "argocd_app_info: guestbook Unknown" "1" \
  "$(value "$CTRL" '^argocd_app_info\{.*name="guestbook".*sync_status="Unknown"')"
gt "$(value "$REPO" '^argocd_git_fetch_fail_total')" 0 && pass "git failures counted" \
  || fail "no git failure counted"
ctl DELETE /_sim/controller/faults >/dev/null

# --- a restarted API server starts its counters again --------------------------------------------
B=$(value "$SERVER" '^grpc_server_handled_total')
kc rollout restart deploy/argocd-server -n argocd
kc rollout status deploy/argocd-server -n argocd --timeout=60s
A=$(value "$SERVER" '^grpc_server_handled_total')
gt "$B" "$A" && pass "server counters reset by the restart ($B -> $A)" \
  || fail "server counters not reset ($B -> $A)"
kc scale deploy/argocd-repo-server -n argocd --replicas=0
# the controller takes the pods down over the next simulated seconds
repo_down() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REPO/metrics")" = 503 ]
}
wait_until "no ready repo-server pod: its endpoint is unavailable (503)" 15 repo_down

finish
