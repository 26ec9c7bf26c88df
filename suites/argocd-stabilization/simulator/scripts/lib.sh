# Shared by the simulator's stand-ins for the plan's scripts/ (the team's
# own scripts are not part of phasegate): strict option parsing, usage on
# bad input (exit 2), and the cluster read through kubectl.
NS=${ARGOCD_NAMESPACE:-argocd}
KUBECTL=${KUBECTL:-kubectl}
log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
usage_exit() { printf 'usage: %s\n' "$USAGE" >&2; exit 2; }
