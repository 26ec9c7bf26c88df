#!/bin/sh
# Stand-in for the plan's integration-test-deployments.sh: end to end means
# every Application Synced and Healthy; failure recovery runs the error
# handling tests.
USAGE="integration-test-deployments.sh --full-suite|--e2e-deployment|--failure-recovery|--concurrent-deployments"
. "$(dirname "$0")/lib.sh"
D=$(dirname "$0")
[ $# -eq 1 ] || usage_exit
e2e() {
	bad=$("$KUBECTL" -n "$NS" get applications -o 'jsonpath={range .items[*]}{.metadata.name} {.status.sync.status} {.status.health.status}{"\n"}{end}' | awk '$2 != "Synced" || $3 != "Healthy"') || return 1
	[ -z "$bad" ] || { log "not ready: $bad"; return 1; }
	log "PASS every application Synced and Healthy"
}
case "$1" in
--e2e-deployment | --concurrent-deployments) e2e ;;
--failure-recovery) "$D/test-argocd-components.sh" --test-error-handling ;;
--full-suite) e2e && "$D/test-argocd-components.sh" --unit-tests && "$D/test-argocd-components.sh" --test-error-handling ;;
*) usage_exit ;;
esac
