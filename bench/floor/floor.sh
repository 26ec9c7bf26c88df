#!/bin/bash
# bench/floor/floor.sh - the floor of the Kubernetes benchmarks: nginx
# serving, as static files, the answers the simulator gave, over the same
# TLS (the simulator's server certificate, client certificates checked
# against its CA, HTTP/1.1). A client's cost against it is the client's own:
# the time a benchmark spends beyond it is the simulator's.
#
#   floor.sh record SIM_DIR LOG ROOT  fetch every GET in kubesim's request log
#                                     LOG (answered 200, no watch) from the
#                                     running simulator whose --tls-dir and
#                                     --pki-out are SIM_DIR/tls and SIM_DIR/pki,
#                                     into ROOT (a path's own answer is
#                                     _self.json where deeper paths need the
#                                     directory)
#   floor.sh start ROOT PORT SIM_DIR  nginx on 127.0.0.1:PORT serving ROOT
#                                     (pid in ROOT.run/nginx.pid); writes
#                                     SIM_DIR/pki/kubeconfig.floor, the
#                                     simulator's kubeconfig pointed at it
#   floor.sh stop ROOT
# Needs nginx, python3.
set -euo pipefail

cmd=${1:-}
case "$cmd" in
record)
	sim=$2 log=$3 root=$4
	port=$(cat "$sim/pki/port")
	python3 - "$sim" "$port" "$log" "$root" <<'PY'
import os, re, ssl, sys, urllib.request
sim, port, log, root = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=os.path.join(sim, "tls", "ca.crt"))
ctx.load_cert_chain(os.path.join(sim, "pki", "client-admin.crt"),
                    os.path.join(sim, "pki", "client-admin.key"))
paths = set()
for line in open(log, encoding="utf-8", errors="replace"):
    m = re.search(r" GET (/[^ ?]*)(\?[^ ]*)? 200 ", line)
    if m and "watch=" not in (m.group(2) or "") and not m.group(1).startswith("/_sim/"):
        paths.add(m.group(1))
paths = sorted(paths)
dirs = {os.path.dirname(p) for p in paths}
while any(os.path.dirname(d) not in dirs and d != "/" for d in dirs):
    dirs |= {os.path.dirname(d) for d in dirs}
for p in paths:
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, p),
                                 headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
        body = r.read()
    dest = os.path.join(root, p.lstrip("/"))
    if p in dirs:
        dest = os.path.join(dest, "_self.json")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as f:
        f.write(body)
print("floor: %d answers recorded" % len(paths))
PY
	;;
start)
	root=$(cd "$2" && pwd) port=$3 sim=$(cd "$4" && pwd)
	run="$root.run"
	mkdir -p "$run/logs" "$run/tmp"
	# as root, nginx's workers would drop to nobody, who cannot read a
	# private (mktemp) directory
	user=""
	[ "$(id -u)" != 0 ] || user="user root;"
	cat >"$run/nginx.conf" <<CONF
$user
daemon off;
worker_processes 1;
pid $run/nginx.pid;
error_log $run/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $run/tmp;
	proxy_temp_path $run/tmp;
	fastcgi_temp_path $run/tmp;
	uwsgi_temp_path $run/tmp;
	scgi_temp_path $run/tmp;
	default_type application/json;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	server {
		listen 127.0.0.1:$port ssl backlog=1024;
		ssl_certificate $sim/tls/server.crt;
		ssl_certificate_key $sim/tls/server.key;
		ssl_client_certificate $sim/tls/ca.crt;
		ssl_verify_client optional;
		root $root;
		location / { try_files \$uri \$uri/_self.json =404; }
	}
}
CONF
	nginx -c "$run/nginx.conf" -p "$run" </dev/null >"$run/logs/stdout.log" 2>&1 &
	sed -E "s#(server: https://127\.0\.0\.1:)[0-9]+#\1$port#" "$sim/pki/kubeconfig" \
		>"$sim/pki/kubeconfig.floor"
	for _ in $(seq 1 100); do # any answer (a 404 too) means it listens
		curl -s --max-time 2 --cacert "$sim/tls/ca.crt" -o /dev/null \
			"https://127.0.0.1:$port/" && exit 0
		sleep 0.1
	done
	echo "floor: nginx did not start:" >&2
	cat "$run/logs/error.log" "$run/logs/stdout.log" >&2
	exit 1
	;;
stop)
	run="$(cd "$2" && pwd).run"
	if [ -s "$run/nginx.pid" ]; then
		pid=$(cat "$run/nginx.pid")
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	;;
*)
	echo "usage: $0 record SIM_DIR LOG ROOT | start ROOT PORT SIM_DIR | stop ROOT" >&2
	exit 2
	;;
esac
