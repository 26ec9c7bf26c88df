#!/bin/sh
# h2proxy.sh - a real nginx as a TLS + HTTP/2 front: a reverse proxy in
# front of HTTPS servers that speak HTTP/1.1 only (the simulator's
# Kubernetes and Argo CD APIs, as a load balancer in front of an API server
# does), or a static server of pre-computed answers (bench/scale's floor).
#
#   h2proxy.sh start DIR CERT KEY CA LISTEN=TARGET [LISTEN=TARGET...]
#       writes DIR/nginx.conf and starts nginx (one worker, pid file
#       DIR/nginx.pid); waits until every port answers. Each LISTEN is
#       PORT (127.0.0.1:PORT speaks TLS with CERT and KEY, HTTP/2 and
#       HTTP/1.1 offered by ALPN) or PORT/http1 (HTTP/1.1 only). TARGET is
#         https://HOST:PORT  every request passes to that server, its
#                            certificate verified against CA as the name
#                            "localhost" (or H2PROXY_UPSTREAM_NAME);
#         /DIRECTORY         a GET of /P answers DIRECTORY/P/index.json
#                            (application/json; else 404): a path may be
#                            both an answer and the prefix of others, as
#                            /api and /api/v1 are. nginx's workers must
#                            be able to read it (started as root, they
#                            run as nobody).
#       H2PROXY_CLIENT_CA=FILE: clients must show a certificate FILE signed
#       (as the API server asks of client-certificate users).
#   h2proxy.sh stop DIR
#
# DIR/access.log has one line per request, space-separated:
#   connection  connection_requests  server_protocol  method  uri  status  port
#   msec (when the answer went)  request_time (seconds since the request came)
# nginx numbers its connections per worker; with one worker, equal numbers
# are one client connection, so a test can count the connections, the
# protocol its requests came on and how many were in flight at once on one
# connection (tests/net/h2log.py does); a line is written as its answer
# ends. Proxied answers are not buffered (watch streams pass through as
# they come).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/pidlib.sh"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

usage() {
	echo "usage: h2proxy.sh start DIR CERT KEY CA LISTEN=TARGET... | stop DIR" >&2
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

# server_block LISTEN TARGET: one server {} of the configuration.
server_block() {
	port=${1%/http1}
	h2=" http2"
	[ "$port" = "$1" ] || h2=""
	case $port in '' | *[!0-9]*) echo "h2proxy.sh: bad LISTEN: $1" >&2 && exit 2 ;; esac
	echo "	server {"
	echo "		listen 127.0.0.1:$port ssl$h2;"
	if [ -n "${H2PROXY_CLIENT_CA:-}" ]; then
		echo "		ssl_client_certificate $H2PROXY_CLIENT_CA;"
		echo "		ssl_verify_client on;"
	fi
	case $2 in
	https://*) echo "		location / { proxy_pass $2; }" ;;
	/*)
		[ -d "$2" ] || { echo "h2proxy.sh: no directory $2" >&2 && exit 2; }
		echo "		root $2;"
		echo "		default_type application/json;"
		echo "		location / { try_files \$uri/index.json =404; }"
		;;
	*) echo "h2proxy.sh: TARGET must be https://HOST:PORT or /DIRECTORY: $2" >&2 && exit 2 ;;
	esac
	echo "	}"
}

{
	cat <<EOF
# written by tests/net/h2proxy.sh
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
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
	keepalive_requests 1000000;
	keepalive_timeout 120s;
	open_file_cache max=10000 inactive=600s;
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
		server_block "${pair%%=*}" "${pair#*=}"
	done
	echo "}"
} >"$dir/nginx.conf"

nginx -t -q -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" </dev/null >>"$dir/stdout.log" 2>&1 &
started=$!
for pair in "$@"; do
	port=${pair%%=*}
	port=${port%/http1}
	i=0
	# any answer will do (the upstream may want credentials), even a TLS
	# alert for the client certificate not shown: the port is up
	until curl -s -o /dev/null --max-time 1 --cacert "$ca" "https://127.0.0.1:$port/" 2>/dev/null ||
		[ $? -eq 56 ]; do
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
: >"$dir/access.log" # the probes above are not the caller's requests
