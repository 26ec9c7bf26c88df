#!/bin/bash
# HTTP/2 in the k8s tests (issue 13): kubesim speaks HTTP/1.1 only, so a
# real nginx terminates TLS with HTTP/2 in front of it (as an API server or
# a load balancer in front of one does) and proxies to the simulator. The
# module runs reads, a list with paging and a server-side apply through it;
# nginx's access log must show each request arrived as HTTP/2.0, and the
# verdicts must be the ones the simulator gives over HTTP/1.1.
# Needs the k8s_sim_healthy fixture (tests/cmake/k8s.cmake) and nginx.
set -u
. "$(dirname "$0")/../sim/lib.sh"
sim_use k8s-healthy
command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
command -v nginx >/dev/null 2>&1 || { echo "nginx not installed: skipped"; exit 77; }
T=$(mktemp -d)
H2PORT=16468
cleanup() {
  if [ -s "$T/nginx.pid" ]; then
    pid=$(cat "$T/nginx.pid")
    case "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" in
      *"$T/nginx.conf"*) kill "$pid" 2>/dev/null ;;
    esac
  fi
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/tmp"
cat > "$T/nginx.conf" <<CONF
daemon off;
pid $T/nginx.pid;
error_log $T/error.log;
events {}
http {
  log_format proto '\$server_protocol \$request_method \$uri \$status';
  access_log $T/access.log proto;
  client_body_temp_path $T/tmp/body;
  proxy_temp_path $T/tmp/proxy;
  fastcgi_temp_path $T/tmp/fastcgi;
  uwsgi_temp_path $T/tmp/uwsgi;
  scgi_temp_path $T/tmp/scgi;
  server {
    listen 127.0.0.1:$H2PORT ssl http2;
    ssl_certificate $SIM/tls/server.crt;
    ssl_certificate_key $SIM/tls/server.key;
    location / {
      proxy_pass https://127.0.0.1:$PORT;
      proxy_ssl_trusted_certificate $SIM/tls/ca.crt;
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_server_name on;
      proxy_http_version 1.1;
      proxy_buffering off;
    }
  }
}
CONF
nginx -c "$T/nginx.conf" -p "$T" -e "$T/error.log" </dev/null >"$T/stdout.log" 2>&1 &
for _ in $(seq 1 50); do
  curl -fs --max-time 1 --cacert "$SIM/tls/ca.crt" "https://127.0.0.1:$H2PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
"$PY" - "$SIM/pki/kubeconfig" "$T/kubeconfig" "$H2PORT" <<'PY'
import sys, yaml
kc = yaml.safe_load(open(sys.argv[1]))
for c in kc["clusters"]:
    c["cluster"]["server"] = "https://127.0.0.1:%s" % sys.argv[3]
yaml.safe_dump(kc, open(sys.argv[2], "w"))
PY
curl -s -X POST --max-time 10 --cacert "$SIM/tls/ca.crt" "https://127.0.0.1:$PORT/_sim/reset" >/dev/null
K8S_KUBECONFIG="$T/kubeconfig" "$PG_BINARY" run "$PG_SOURCE_DIR/tests/k8s/suites/http2.yaml" \
  --no-color --out "$T/out" >"$T/run.log" 2>&1
RC=$?
expect_eq "every check passes over HTTP/2 (exit)" "0" "$RC"
LOG=$(cat "$T/access.log" 2>/dev/null)
expect_has "a GET arrived as HTTP/2" "HTTP/2.0 GET /apis/apps/v1/namespaces/argocd/deployments/argocd-server 200" "$LOG"
expect_has "a paged list arrived as HTTP/2" "HTTP/2.0 GET /api/v1/pods 200" "$LOG"
expect_has "server-side apply arrived as HTTP/2" "HTTP/2.0 PATCH /api/v1/namespaces/default/configmaps/http2-check 201" "$LOG"
case "$LOG" in *"HTTP/1.1"*) fail "a request used HTTP/1.1" ;; *) pass "no request used HTTP/1.1" ;; esac
[ "$FAILS" -eq 0 ] || { cat "$T/run.log" "$T/error.log" >&2; }
curl -s -X POST --max-time 10 --cacert "$SIM/tls/ca.crt" "https://127.0.0.1:$PORT/_sim/reset" >/dev/null
finish
