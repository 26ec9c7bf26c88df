#!/bin/sh
# Stand-in for the plan's deployment-sop.sh: the pre-deployment validation
# (health check) with strict options.
USAGE="deployment-sop.sh [-e ENVIRONMENT] [-a APP] [--dry-run]"
. "$(dirname "$0")/lib.sh"
while [ $# -gt 0 ]; do
	case "$1" in
	-e | -a) [ $# -ge 2 ] || usage_exit; shift 2 ;;
	--dry-run) shift ;;
	*) usage_exit ;;
	esac
done
log "pre-deployment validation"
"$(dirname "$0")/argocd-health-check.sh" --critical
