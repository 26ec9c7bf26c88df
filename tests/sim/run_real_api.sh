#!/bin/bash
# What real API servers do, shown with the real kubectl against kubesim
# (issue 13): several versions per group (an autoscaling/v1 HPA applied in
# its own version; the wrong version refused with the server's text), an
# unavailable aggregated API (plain-text 503; kubectl keeps working), a CRD
# served once created, strategic merge of containers by name on built-ins
# and 415 on custom resources, impersonation checked against RBAC, and
# Retry-After on a 429.
# Needs the sim_healthy fixture (tests/cmake/k8s.cmake).
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/lib.sh"
sim_use healthy
ctl POST /_sim/reset >/dev/null || { echo "reset failed" >&2; exit 1; }
trap 'ctl DELETE /_sim/faults >/dev/null 2>&1; ctl POST /_sim/reset >/dev/null 2>&1' EXIT
M="$PG_SOURCE_DIR/tests/k8s/manifests"

# --- several versions per group -------------------------------------------
kc api-versions
expect_has "api-versions: autoscaling/v1" "autoscaling/v1" "$OUT"
expect_has "api-versions: autoscaling/v2" "autoscaling/v2" "$OUT"
kc get hpa api-backend -n cloudtolocalllm -o json
expect_eq "preferred version read" "autoscaling/v2" "$(jget "$OUT" 'd["apiVersion"]')"
kc get horizontalpodautoscalers.v1.autoscaling api-backend -n cloudtolocalllm -o json
expect_eq "v1 read in its shape" "70" "$(jget "$OUT" 'd["spec"]["targetCPUUtilizationPercentage"]')"
kc apply --server-side -f "$M/hpa-v1.yaml"
expect_rc "server-side apply of an autoscaling/v1 HPA" 0
kc get hpa web -n default -o json
expect_eq "stored, read as v2" "60" \
  "$(jget "$OUT" 'd["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]')"
BODY=$(curl -s --max-time 10 --cacert "$SIM/tls/ca.crt" --cert "$SIM/pki/client-admin.crt" \
  --key "$SIM/pki/client-admin.key" -X PATCH -H 'Content-Type: application/apply-patch+yaml' \
  --data-binary @"$M/hpa-v1.yaml" \
  "https://127.0.0.1:$PORT/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web?fieldManager=x")
expect_has "a v1 body to the v2 endpoint is refused" \
  "Incorrect version specified in apply patch. Specified patch version: autoscaling/v1, expected: autoscaling/v2" "$BODY"
kc get alertmanagerconfigs -A -o name
expect_rc "a kind served only in v1alpha1" 0

# --- an unavailable aggregated API ----------------------------------------
ctl POST /_sim/objects '[{apiVersion: apiregistration.k8s.io/v1, kind: APIService,
  metadata: {name: v1beta1.metrics.k8s.io},
  spec: {group: metrics.k8s.io, version: v1beta1, service: {name: metrics-server, namespace: kube-system, port: 443}},
  status: {conditions: [{type: Available, status: "False", reason: FailedDiscoveryCheck}]}}]' >/dev/null
# shellcheck disable=SC2034 # read by kc in lib.sh
CACHE="$HOME/cache-partial"
kc get deploy argocd-server -n argocd -o name
expect_rc "kubectl keeps working with one group failing" 0
expect_has "kubectl names the failed group" "metrics.k8s.io/v1beta1" "$ERR"
BODY=$(curl -s --max-time 10 --cacert "$SIM/tls/ca.crt" --cert "$SIM/pki/client-admin.crt" \
  --key "$SIM/pki/client-admin.key" -w ' %{http_code} %{content_type}' \
  "https://127.0.0.1:$PORT/apis/metrics.k8s.io/v1beta1")
expect_eq "the aggregator's plain-text 503" "service unavailable
 503 text/plain; charset=utf-8" "$BODY"

# --- a CRD becomes a served kind -----------------------------------------
kc get widgets
expect_rc "no widgets before the CRD" 1
kc apply --server-side -f "$M/crd-widgets.yaml"
expect_rc "apply the CRD" 0
kc get crd widgets.example.phasegate.dev -o json
expect_eq "the CRD is Established" "True" \
  "$(jget "$OUT" '[c["status"] for c in d["status"]["conditions"] if c["type"] == "Established"][0]')"
kc apply --server-side -f "$M/widget.yaml"
expect_rc "apply a custom resource" 0
kc get wdg w1 -n default -o jsonpath='{.spec.parts[1].size}'
expect_eq "custom resource read by its short name" "2" "$OUT"

# --- strategic merge ------------------------------------------------------
kc patch deploy argocd-server -n argocd --type strategic \
  -p '{"spec":{"template":{"spec":{"containers":[{"name":"argocd-server","image":"quay.io/argoproj/argocd:v9.9.9"}]}}}}'
expect_rc "strategic merge patch of a Deployment" 0
kc get deploy argocd-server -n argocd -o json
expect_eq "the image changed" "quay.io/argoproj/argocd:v9.9.9" \
  "$(jget "$OUT" 'd["spec"]["template"]["spec"]["containers"][0]["image"]')"
expect_eq "the container's other fields kept" "8080" \
  "$(jget "$OUT" 'd["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]')"
kc patch widget w1 -n default --type strategic -p '{"spec":{"parts":[{"name":"a","size":5}]}}'
expect_rc "strategic merge of a custom resource" 1
expect_has "refused as kubectl shows it" "application/merge-patch+json" "$ERR"
kc patch widget w1 -n default --type merge -p '{"spec":{"parts":[{"name":"a","size":5}]}}'
expect_rc "merge patch of a custom resource" 0

# --- file modes: YAML 1.1 octal as kubectl reads it; 644 is refused -----------
kc apply --server-side -f "$M/file-modes.yaml"
expect_rc "kubectl applies defaultMode: 0644" 0
kc get deploy modes -n default -o jsonpath='{.spec.template.spec.volumes[0].configMap.defaultMode}'
expect_eq "0644 is 420" "420" "$OUT"
sed 's/defaultMode: 0644/defaultMode: 644/; s/name: modes,/name: modes-decimal,/' "$M/file-modes.yaml" \
  > "$HOME/modes-decimal.yaml"
kc apply --server-side -f "$HOME/modes-decimal.yaml"
expect_rc "644 (decimal) is refused" 1
expect_has "the server's 422 text" \
  'spec.template.spec.volumes[0].configMap.defaultMode: Invalid value: 644: must be a number between 0 and 0777 (octal), both inclusive' "$ERR"

# --- impersonation ---------------------------------------------------------
kc get deploy argocd-server -n argocd -o name --as argocd-viewer --as-group argocd-viewers
expect_rc "impersonated read allowed" 0
kc get secrets -n argocd --as argocd-viewer --as-group argocd-viewers
expect_rc "impersonated user's RBAC applies" 1
expect_has "as the impersonated user" 'User "argocd-viewer" cannot list resource "secrets"' "$ERR"
kc get pods -n argocd --context readonly --as kubernetes-admin
expect_rc "impersonation needs the impersonate verb" 1
expect_has "the server's impersonation refusal" 'cannot impersonate resource "users"' "$ERR"

# --- throttling -------------------------------------------------------------
ctl POST /_sim/faults "[{path_regex: '^/api/v1/namespaces/argocd/configmaps/argocd-cm\$', status: 429,
  retry_after: 1, times: 1, message: 'Too many requests, please try again later.'}]" >/dev/null
kc get cm argocd-cm -n argocd -o name
expect_rc "kubectl retries a 429 with Retry-After" 0
expect_eq "the fault fired" "1" "$(jget "$(ctl GET /_sim/faults)" 'd["faults"][0]["used"]')"
finish
