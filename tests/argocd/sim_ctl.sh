#!/bin/bash
# Start or stop one simulator instance with the Argo CD API for the ctest
# fixtures in tests/cmake/argocd.cmake:
#   sim_ctl.sh start NAME WORLD KUBE_PORT ARGOCD_PORT | stop NAME
# The instance lives in PG_BUILD_DIR/tests/sim/argocd-NAME: pki/ (CA,
# kubeconfig, argocd-port, argocd-tokens.json), responses.jsonl (every Argo
# CD API body, validated by argocd.swagger) and requests.log.
# shellcheck source=tests/sim/lib.sh
. "$(dirname "$0")/../sim/lib.sh"
case "$1" in
  start)
    dir=$(sim_dir "argocd-$2")
    sim_start "argocd-$2" "$3" "$4" --argocd-port "$5" \
      --argocd-response-log "$dir/responses.jsonl" ;;
  stop) sim_stop "argocd-$2" ;;
  *) echo "usage: $0 start NAME WORLD KUBE_PORT ARGOCD_PORT | stop NAME" >&2; exit 2 ;;
esac
