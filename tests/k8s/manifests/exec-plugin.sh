#!/bin/sh
# An exec credential plugin for the exec-plugin case: the first call gives
# a token the simulator rejects (401), later calls the admin token, so the
# module must run the plugin again after the 401 and retry. It checks
# that it received KUBERNETES_EXEC_INFO for its apiVersion.
calls="$1/exec-plugin.calls"
case "$KUBERNETES_EXEC_INFO" in
  *'"apiVersion":"client.authentication.k8s.io/v1"'*'"kind":"ExecCredential"'*) ;;
  *) echo "no KUBERNETES_EXEC_INFO: $KUBERNETES_EXEC_INFO" >&2; exit 1 ;;
esac
echo call >> "$calls"
if [ "$(wc -l < "$calls")" -eq 1 ]; then token=expired-token; else token=$SIM_TOKEN; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\n' "$token"
