#!/bin/bash
# kubesim's scheduler seen through the real kubectl on the argocd-upstream
# world (three worker nodes, one zone each): required pod anti-affinity over
# kubernetes.io/hostname places one pod per node and leaves the fourth
# Pending, unscheduled, with kube-scheduler's FailedScheduling event; it is
# placed as soon as a node frees up; preferred anti-affinity spreads the
# pods while it can and still places them when it cannot; a cordoned node
# takes no pod. Needs the sim_upstream fixture (tests/cmake/world.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use upstream
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }
N=(-n guestbook)

# deploy NAME REPLICAS KIND: a Deployment whose pods repel each other
# (KIND: required or preferred) over the node's hostname
deploy() {
  local term='{"labelSelector": {"matchLabels": {"app": "'$1'"}}, "topologyKey": "kubernetes.io/hostname"}'
  local anti
  if [ "$3" = required ]; then
    anti='"requiredDuringSchedulingIgnoredDuringExecution": ['"$term"']'
  else
    anti='"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": '"$term"'}]'
  fi
  kc apply -f - <<JSON
{"apiVersion": "apps/v1", "kind": "Deployment",
 "metadata": {"name": "$1", "namespace": "guestbook"},
 "spec": {"replicas": $2, "selector": {"matchLabels": {"app": "$1"}},
  "template": {"metadata": {"labels": {"app": "$1"}},
   "spec": {"affinity": {"podAntiAffinity": {$anti}},
    "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}}
JSON
  expect_rc "apply $1 ($3 anti-affinity, $2 replicas)" 0
}

# pods APP: "<phase>:<node or ->" of its pods, sorted
pods() {
  kc get pods "${N[@]}" -l "app=$1" -o json
  jget "$OUT" '" ".join(sorted("%s:%s" % (p["status"]["phase"], p["spec"].get("nodeName") or "-") for p in d["items"]))'
}

# wait_pods APP WANT: until pods APP prints WANT (10 s)
wait_pods() {
  local got _
  for _ in $(seq 1 50); do
    got=$(pods "$1")
    [ "$got" = "$2" ] && break
    sleep 0.2
  done
  echo "$got"
}

# --- required: one pod per node, the fourth Pending -------------------------
deploy spread-required 4 required
got=$(wait_pods spread-required "Pending:- Running:worker-a Running:worker-b Running:worker-c")
expect_eq "required anti-affinity: three Running on three nodes, one Pending unscheduled" \
  "Pending:- Running:worker-a Running:worker-b Running:worker-c" "$got"
kc get pods "${N[@]}" -l app=spread-required -o json
expect_eq "the Pending pod's PodScheduled condition" \
  "False Unschedulable 0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.." \
  "$(jget "$OUT" '" ".join([[c["status"], c["reason"], c["message"]] for p in d["items"] if not p["spec"].get("nodeName") for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0])')"
PENDING=$(jget "$OUT" '[p["metadata"]["name"] for p in d["items"] if not p["spec"].get("nodeName")][0]')
kc get events "${N[@]}" -o json
expect_eq "a FailedScheduling event from the scheduler names the anti-affinity rules" \
  "Warning default-scheduler True" \
  "$(jget "$OUT" '" ".join([[e["type"], e["source"]["component"], str("didn'"'"'t match pod anti-affinity rules" in e["message"])] for e in d["items"] if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "'"$PENDING"'"][0])')"
kc describe pod "$PENDING" "${N[@]}"
expect_has "kubectl describe shows the FailedScheduling event" "FailedScheduling" "$OUT"
kc rollout status deploy/spread-required "${N[@]}" --timeout=3s
expect_rc "rollout status does not complete while a replica cannot be placed" 1

# a freed node takes the Pending pod
kc get pods "${N[@]}" -l app=spread-required -o json
ON_A=$(jget "$OUT" '[p["metadata"]["name"] for p in d["items"] if p["spec"].get("nodeName") == "worker-a"][0]')
kc delete pod "$ON_A" "${N[@]}" --wait=false
expect_rc "delete the pod on worker-a" 0
got=$(wait_pods spread-required "Pending:- Running:worker-a Running:worker-b Running:worker-c")
expect_eq "a waiting pod takes the freed node (the other one waits)" \
  "Running:worker-a Running:worker-b Running:worker-c" \
  "$(echo "$got" | tr ' ' '\n' | grep -v '^Pending' | sort | tr '\n' ' ' | sed 's/ $//')"
kc scale deploy/spread-required "${N[@]}" --replicas=3
expect_rc "scale to the node count" 0
got=$(wait_pods spread-required "Running:worker-a Running:worker-b Running:worker-c")
expect_eq "scaled to three: one per node, nothing Pending" \
  "Running:worker-a Running:worker-b Running:worker-c" "$got"
kc rollout status deploy/spread-required "${N[@]}" --timeout=20s
expect_rc "rollout status completes" 0

# --- preferred: spread while possible, then placed anyway --------------------
deploy spread-preferred 3 preferred
got=$(wait_pods spread-preferred "Running:worker-a Running:worker-b Running:worker-c")
expect_eq "preferred anti-affinity: three pods on three nodes" \
  "Running:worker-a Running:worker-b Running:worker-c" "$got"
kc scale deploy/spread-preferred "${N[@]}" --replicas=4
for _ in $(seq 1 50); do
  counts=$(pods spread-preferred | tr ' ' '\n' | awk '/^Pending/ {p++} /^Running:worker-/ {r++} END {print p+0, r+0}')
  [ "$counts" = "0 4" ] && break
  sleep 0.2
done
expect_eq "a fourth pod is still placed (a preference, not a rule)" "0 4" "$counts"

# --- a cordoned node takes no pod ---------------------------------------------
kc cordon worker-b
expect_rc "cordon worker-b" 0
kc delete deploy spread-required "${N[@]}"
deploy spread-cordoned 3 required
got=$(wait_pods spread-cordoned "Pending:- Running:worker-a Running:worker-c")
expect_eq "required anti-affinity with worker-b cordoned: two placed, one Pending" \
  "Pending:- Running:worker-a Running:worker-c" "$got"
kc get pods "${N[@]}" -l app=spread-cordoned -o json
expect_has "the message counts both reasons" \
  "0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) didn't match pod anti-affinity rules." \
  "$(jget "$OUT" '[c["message"] for p in d["items"] if not p["spec"].get("nodeName") for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0]')"
kc uncordon worker-b
got=$(wait_pods spread-cordoned "Running:worker-a Running:worker-b Running:worker-c")
expect_eq "uncordoned: the Pending pod goes to worker-b" \
  "Running:worker-a Running:worker-b Running:worker-c" "$got"
ctl POST /_sim/reset >/dev/null
finish
