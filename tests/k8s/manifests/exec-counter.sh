#!/bin/sh
# An exec credential plugin that counts its runs in $1/exec-counter.calls,
# waits $PLUGIN_SLEEP seconds (default 0) and prints $SIM_TOKEN on its
# first run, $SIM_TOKEN2 (default: the same) on later ones.
echo call >> "$1/exec-counter.calls"
sleep "${PLUGIN_SLEEP:-0}"
token=$SIM_TOKEN
if [ "$(wc -l < "$1/exec-counter.calls")" -gt 1 ]; then token=${SIM_TOKEN2:-$SIM_TOKEN}; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' "$token"
