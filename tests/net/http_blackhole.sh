#!/bin/sh
# http_blackhole.sh - the "no answer at all" fault: phasegate runs inside a
# private network namespace where 10.9.9.2 is routed into a veth pair whose
# far end drops every packet (a static neighbour entry, so not even ARP
# fails). Both checks must end as errors within their deadlines, saying
# that no connection was made. Exits 77 (skipped) when the machine cannot
# make a network namespace (needs root and iproute2).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=${PG_PYTHON3:-python3}
ns=pg-http-bh-$$

command -v ip >/dev/null 2>&1 || { echo "no ip(8): skipped"; exit 77; }
ip netns add "$ns" 2>/dev/null || { echo "cannot create a network namespace: skipped"; exit 77; }
out=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$out"' EXIT
ip netns exec "$ns" sh -c '
	ip link set lo up &&
	ip link add v0 type veth peer name v1 &&
	ip addr add 10.9.9.1/24 dev v0 &&
	ip link set v0 up && ip link set v1 up &&
	ip neigh add 10.9.9.2 lladdr 02:00:00:00:00:02 dev v0' ||
	{ echo "cannot set up the namespace's links: skipped"; exit 77; }

set +e
ip netns exec "$ns" "$PG_BINARY" run "$here/http/blackhole/suite.yaml" --json "$out/r.json" \
	>"$out/stdout" 2>&1
rc=$?
set -e
cat "$out/stdout"
if [ $rc -ne 1 ]; then
	echo "FAIL: exit code $rc, expected 1"
	exit 1
fi
"$py" - "$out/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
checks = {c["id"]: c for p in r["phases"] for s in p["steps"] for c in s["checks"]}
want = {
    "connect-timeout": "no connection to 10.9.9.2:18080 within 1s (a firewall may drop the packets",
    "check-timeout": "no connection to 10.9.9.2:18443 within 1s",
}
for cid, text in want.items():
    c = checks[cid]
    if c["status"] != "error" or text not in (c["message"] or ""):
        sys.exit("FAIL: %s is %s with %r; wanted error with %r" % (cid, c["status"], c["message"], text))
print("ok: blackhole")
PY
