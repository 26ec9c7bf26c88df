#!/bin/bash
# Issue 13 item 9: when a kubeconfig names a certificate authority (or an
# http check sets tls.ca), that CA alone is trusted, as client-go does;
# libcurl's default bundle and CA directory must not stay active beside
# it. The simulator's CA is put into /etc/ssl/certs of a private mount
# namespace (the "system store" of this one run) while the kubeconfig and
# the http check name a different CA: both checks must fail to verify.
# A control run with the simulator's own CA passes. Skipped (77) where
# mount namespaces are not available.
# Needs the k8s_sim_healthy fixture (tests/cmake/k8s.cmake).
set -u
. "$(dirname "$0")/../sim/lib.sh"
sim_use k8s-healthy
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! unshare -m true 2>/dev/null; then
  echo "no mount namespaces here: skipped"
  exit 77
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=not-the-cluster-ca -keyout "$T/other.key" -out "$T/other.crt" 2>/dev/null
mkdir "$T/certs"
cp "$SIM/tls/ca.crt" "$T/certs/kubesim-ca.pem"
cp "$SIM/tls/ca.crt" "$T/certs/ca-certificates.crt"
openssl rehash "$T/certs" 2>/dev/null || c_rehash "$T/certs" >/dev/null
OTHER_DATA=$(base64 -w0 "$T/other.crt")
"$PY" - "$SIM/pki/kubeconfig" "$T/kubeconfig" "$OTHER_DATA" <<'PY'
import sys, yaml
kc = yaml.safe_load(open(sys.argv[1]))
for c in kc["clusters"]:
    c["cluster"]["certificate-authority-data"] = sys.argv[3]
yaml.safe_dump(kc, open(sys.argv[2], "w"))
PY
SUITE="$PG_SOURCE_DIR/tests/k8s/suites/ca-only.yaml"
run() { # KUBECONFIG OTHER_CA OUT
  K8S_KUBECONFIG="$1" OTHER_CA="$2" K8S_PORT="$PORT" unshare -m sh -c \
    'mount --bind "$0" /etc/ssl/certs && exec "$@"' "$T/certs" \
    "$PG_BINARY" run "$SUITE" --keep-going --no-color --out "$3" >"$3.log" 2>&1
}
run "$SIM/pki/kubeconfig" "$SIM/tls/ca.crt" "$T/control"
RC=$?
expect_eq "control: the simulator's own CA verifies (exit)" "0" "$RC"
run "$T/kubeconfig" "$T/other.crt" "$T/other"
RC=$?
LOG=$(cat "$T/other.log")
expect_eq "another CA: the run fails (exit)" "1" "$RC"
expect_has "k8s: the system store is not trusted beside the kubeconfig CA" \
  "ERROR k8s" "$LOG"
expect_has "k8s: the message names the CA in use" "CA: certificate-authority-data" "$LOG"
case "$LOG" in
  *"PASS  http"*) fail "http: tls.ca is not the only CA trusted" ;;
  *) pass "http: tls.ca is the only CA trusted" ;;
esac
[ "$FAILS" -eq 0 ] || cat "$T/other.log" >&2
finish
