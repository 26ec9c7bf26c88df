#!/bin/sh
# h2proxy.sh - a real nginx as a TLS + HTTP/2 reverse proxy in front of
# HTTPS servers that speak HTTP/1.1 only (the simulator's Kubernetes and
# Argo CD APIs), as a load balancer in front of an API server does.
#
#   h2proxy.sh start DIR CERT KEY UPSTREAM_CA PORT=URL [PORT=URL...]
#       writes DIR/nginx.conf and starts nginx (one worker, pid file
#       DIR/nginx.pid): each 127.0.0.1:PORT speaks TLS (CERT, KEY) with
#       HTTP/2 offered by ALPN and passes every request to URL (https,
#       certificate verified against UPSTREAM_CA as the name "localhost",
#       or H2PROXY_UPSTREAM_NAME). Waits until every port answers.
#   h2proxy.sh stop DIR
#
# DIR/access.log has one line per request, space-separated:
#   connection  connection_requests  server_protocol  method  uri  status  port
#   msec (when the answer went)  request_time (seconds since the request came)
# nginx numbers its connections per worker; with one worker, equal numbers
# are one client connection, so a test can count the connections, the
# protocol its requests came on and how many were in flight at once on one
# connection (tests/net/h2log.py does). Responses are not buffered (watch streams
# pass through as they come).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pidlib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

usage() {
	echo "usage: h2proxy.sh start DIR CERT KEY UPSTREAM_CA PORT=URL... | stop DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
shift 2

case $cmd in
stop)
	stop_pid "$dir/nginx.pid" "$dir/nginx.conf"
	exit 0
	;;
start) [ $# -ge 4 ] || usage ;;
*) usage ;;
esac

cert=$1 key=$2 ca=$3
shift 3
name=${H2PROXY_UPSTREAM_NAME:-localhost}
command -v nginx >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
stop_pid "$dir/nginx.pid" "$dir/nginx.conf" # a leftover of an earlier run
mkdir -p "$dir/tmp"
: >"$dir/access.log"
{
	cat <<EOF
# written by tests/net/h2proxy.sh
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
	log_format h2proxy '\$connection \$connection_requests \$server_protocol \$request_method \$uri \$status \$server_port \$msec \$request_time';
	access_log $dir/access.log h2proxy;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	ssl_certificate $cert;
	ssl_certificate_key $key;
	keepalive_requests 100000;
	keepalive_timeout 120s;
	proxy_http_version 1.1;
	proxy_buffering off;
	proxy_read_timeout 300s;
	proxy_ssl_trusted_certificate $ca;
	proxy_ssl_verify on;
	proxy_ssl_name $name;
	proxy_ssl_server_name on;
	proxy_ssl_session_reuse on;
EOF
	for pair in "$@"; do
		port=${pair%%=*}
		url=${pair#*=}
		case $port in '' | *[!0-9]*) echo "h2proxy.sh: bad PORT=URL: $pair" >&2 && exit 2 ;; esac
		case $url in https://*) ;; *) echo "h2proxy.sh: the upstream must be https: $pair" >&2 && exit 2 ;; esac
		cat <<EOF
	server {
		listen 127.0.0.1:$port ssl http2;
		location / { proxy_pass $url; }
	}
EOF
	done
	echo "}"
} >"$dir/nginx.conf"

nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" </dev/null >>"$dir/stdout.log" 2>&1 &
started=$!
for pair in "$@"; do
	port=${pair%%=*}
	i=0
	# any answer will do (the upstream may want credentials): the port is up
	while ! curl -s -o /dev/null --max-time 1 --cacert "$ca" "https://127.0.0.1:$port/" 2>/dev/null; do
		i=$((i + 1))
		if ! kill -0 "$started" 2>/dev/null || [ $i -gt 100 ]; then
			echo "h2proxy.sh: nginx does not answer on 127.0.0.1:$port" >&2
			tail -5 "$dir/stdout.log" "$dir/error.log" >&2 || true
			stop_pid "$dir/nginx.pid" "$dir/nginx.conf"
			exit 1
		fi
		sleep 0.1
	done
done
: >"$dir/access.log" # the probes above are not the test's requests
