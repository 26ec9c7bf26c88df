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
# one read of the three workloads: NAME SPEC READY per line
want="deployment/argocd-server"
[ "$what" = all ] && want="$want deployment/argocd-repo-server statefulset/argocd-application-controller"
# shellcheck disable=SC2086
out=$("$KUBECTL" -n "$NS" get $want -o 'jsonpath={range .items[*]}{.kind}/{.metadata.name} {.spec.replicas} {.status.readyReplicas}{"\n"}{end}') || {
	log "FAIL cannot read the cluster"; exit 1; }
rc=0
n=0
while read -r name spec ready; do
	n=$((n + 1))
	if [ -n "$spec" ] && [ "$spec" = "${ready:-0}" ]; then log "OK   $name ($ready/$spec)"; else
		log "FAIL $name (${ready:-0}/$spec ready)"; rc=1; fi
done <<EOF
$out
EOF
[ "$n" -gt 0 ] || rc=1
exit $rc
