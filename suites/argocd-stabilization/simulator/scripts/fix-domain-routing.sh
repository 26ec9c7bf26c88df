#!/bin/sh
# Stand-in for the plan's fix-domain-routing.sh: strict options only (phase 7 checks the
# routing itself).
USAGE="fix-domain-routing.sh [--all-tests|--dns-test|--tunnel-test|--service-test|--services-only|--tunnel-only|--validate-only]"
. "$(dirname "$0")/lib.sh"
for a in "$@"; do
	case "$a" in --all-tests | --dns-test | --tunnel-test | --service-test | --services-only | --tunnel-only | --validate-only) ;; *) usage_exit ;; esac
done
exit 0
