#!/bin/sh
# Stand-in for the plan's test-argocd-components.sh: each test runs the
# other stand-ins against the cluster and against bad input, and fails
# when one of them answers wrongly.
USAGE="test-argocd-components.sh --unit-tests|--test-health-check|--test-rollback|--test-backup-restore|--test-deployment-sop|--test-error-handling|--check-prerequisites"
. "$(dirname "$0")/lib.sh"
D=$(dirname "$0")
[ $# -eq 1 ] || usage_exit
fails=0
expect() { # WANT(0|nonzero) NAME COMMAND...
	want=$1 name=$2; shift 2
	"$@" >/dev/null 2>&1; got=$?
	if { [ "$want" = 0 ] && [ $got -eq 0 ]; } || { [ "$want" != 0 ] && [ $got -ne 0 ]; }; then
		log "PASS $name"; else log "FAIL $name (exit $got)"; fails=$((fails + 1)); fi
}
health() { expect 0 "health check passes" "$D/argocd-health-check.sh" --critical
	expect 1 "health check fails without a cluster" env KUBECONFIG=/nonexistent "$D/argocd-health-check.sh"; }
rollback() { expect 1 "rollback refuses no application" "$D/rollback-argocd-app.sh"
	expect 1 "rollback refuses an unknown application" "$D/rollback-argocd-app.sh" -a phasegate-no-such-app; }
backup() { t=$(mktemp -d); expect 0 "backup writes the applications" "$D/argocd-backup-restore.sh" backup "$t/b"
	expect 0 "backup is not empty" test -s "$t/b/argocd.yaml"
	expect 1 "restore refuses a missing backup" "$D/argocd-backup-restore.sh" restore "$t/none"; rm -rf "$t"; }
sop() { expect 0 "deployment SOP validates" "$D/deployment-sop.sh" -e test
	expect 1 "deployment SOP refuses bad options" "$D/deployment-sop.sh" --bogus; }
case "$1" in
--unit-tests) health; rollback; backup; sop ;;
--test-health-check) health ;;
--test-rollback) rollback ;;
--test-backup-restore) backup ;;
--test-deployment-sop) sop ;;
--test-error-handling)
	expect 1 "sync issues: rollback of an unknown application is refused" "$D/rollback-argocd-app.sh" -a phasegate-no-such-app
	expect 1 "resource conflicts: restore over a missing backup is refused" "$D/argocd-backup-restore.sh" restore /nonexistent
	expect 1 "network outages: health check reports an unreachable cluster" env KUBECONFIG=/nonexistent "$D/argocd-health-check.sh" ;;
--check-prerequisites) for t in "$KUBECTL" sh; do expect 0 "$t installed" command -v "$t"; done ;;
*) usage_exit ;;
esac
[ $fails -eq 0 ]
