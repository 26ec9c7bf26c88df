#!/bin/sh
# Stand-in for the plan's rollback-argocd-app.sh: lists an application's
# rollback points (its history) or checks that a rollback could start.
USAGE="rollback-argocd-app.sh -a APP [-r REVISION] [--emergency] | --list-points -a APP"
. "$(dirname "$0")/lib.sh"
app= list=0
while [ $# -gt 0 ]; do
	case "$1" in
	-a) [ $# -ge 2 ] || usage_exit; app=$2; shift 2 ;;
	-r) [ $# -ge 2 ] || usage_exit; shift 2 ;;
	--emergency) shift ;;
	--list-points) list=1; shift ;;
	*) usage_exit ;;
	esac
done
[ -n "$app" ] || usage_exit
pts=$("$KUBECTL" -n "$NS" get application "$app" -o 'jsonpath={range .status.history[*]}{.id} {.revision}{"\n"}{end}') || exit 1
[ -n "$pts" ] || { log "no rollback points for $app"; exit 1; }
[ $list -eq 1 ] && printf '%s\n' "$pts"
exit 0
