#!/bin/sh
# Stand-in for the plan's argocd-backup-restore.sh: option checking and a
# backup of the Applications and AppProjects as YAML (restore is phase 6's).
USAGE="argocd-backup-restore.sh backup [--test-mode] [--type KINDS] DIR | restore PATH [--test-restore|--disaster-recovery] | --list"
. "$(dirname "$0")/lib.sh"
case "${1:-}" in
backup)
	shift; dir=
	while [ $# -gt 0 ]; do
		case "$1" in --test-mode) shift ;; --type) [ $# -ge 2 ] || usage_exit; shift 2 ;; -*) usage_exit ;; *) dir=$1; shift ;; esac
	done
	[ -n "$dir" ] || usage_exit
	mkdir -p "$dir" && chmod 700 "$dir" || exit 1
	"$KUBECTL" -n "$NS" get applications,appprojects -o yaml >"$dir/argocd.yaml" || exit 1
	log "backup written to $dir"
	;;
restore) [ $# -ge 2 ] || usage_exit; [ -e "$2" ] || { log "no backup at $2"; exit 1; } ;;
--list) exit 0 ;;
*) usage_exit ;;
esac
