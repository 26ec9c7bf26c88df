#!/bin/sh
# Stand-in for the plan's argocd-health-check.sh: exit 0 when Argo CD's
# server, repo server and controller have every replica ready, 1 when one
# does not (or the cluster cannot be read), 2 on bad usage.
USAGE="argocd-health-check.sh [--critical|--server-only|--post-restore|--full-system-check] [--verbose] [--report]"
. "$(dirname "$0")/lib.sh"
what=all
for a in "$@"; do
	case "$a" in
	--critical | --post-restore | --full-system-check) what=all ;;
	--server-only) what=server ;;
	--verbose | --report) ;;
	*) usage_exit ;;
	esac
done
rc=0
check() { if ready "$1" "$2"; then log "OK   $2/$1"; else log "FAIL $2/$1"; rc=1; fi; }
check argocd-server deployment
if [ "$what" = all ]; then
	check argocd-repo-server deployment
	check argocd-application-controller statefulset
fi
exit $rc
