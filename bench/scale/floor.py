#!/usr/bin/env python3
"""floor.py - the floor for bench/scale's Kubernetes rows: a static HTTPS
responder that serves recorded answers and nothing else, so that its cost
is what any server must spend (TLS, one read, one write per request).
Keep-alive (HTTP/1.1), TCP_NODELAY on every accepted socket, headers and
body in one write, a listen backlog of 1024, a thread per connection.

  floor.py record --server URL --ca CA --cert CRT --key KEY --paths FILE --out ANSWERS
      fetches every request path listed in FILE (a kubesim --log, or one
      path per line) from the real server and stores status, content type
      and body per path.
  floor.py serve --port P --cert CRT --key KEY --answers ANSWERS
      serves them; an unknown path is a 404 Status like the API server's."""
import argparse
import http.client
import json
import socket
import socketserver
import ssl
import sys


def paths_of(fname):
    seen = []
    with open(fname) as f:
        for line in f:
            parts = line.split()
            # kubesim log: "<time> GET <path> <status> ..."; or a bare path
            p = parts[2] if len(parts) > 2 and parts[1] == "GET" else (parts[0] if parts else "")
            if p.startswith("/") and p not in seen:
                seen.append(p)
    return seen


def record(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    host, port = a.server.split("//", 1)[1].rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)
    answers = {}
    for p in paths_of(a.paths):
        conn.request("GET", p, headers={"Accept": "application/json"})
        r = conn.getresponse()
        body = r.read()
        answers[p] = {"status": r.status,
                      "type": r.getheader("Content-Type", "application/json"),
                      "body": body.decode("utf-8")}
    with open(a.out, "w") as f:
        json.dump(answers, f)
    print("recorded %d answers" % len(answers))


REASONS = {200: "OK", 404: "Not Found", 400: "Bad Request"}


def prepared(answers):
    """Whole responses, ready to write, per path."""
    out = {}
    for p, ans in answers.items():
        body = ans["body"].encode("utf-8")
        head = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                % (ans["status"], REASONS.get(ans["status"], "OK"), ans["type"], len(body)))
        out[p] = head.encode("ascii") + body
    return out


NOT_FOUND_BODY = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404}).encode()
NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %d"
             b"\r\n\r\n" % len(NOT_FOUND_BODY)) + NOT_FOUND_BODY


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rf = self.rfile
        while True:
            line = rf.readline(65537)
            if not line:
                return
            parts = line.split()
            length = 0
            while True:  # headers (bounded by the socket's life)
                h = rf.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"content-length:"):
                    length = int(h.split(b":", 1)[1])
            if length:
                rf.read(length)
            path = parts[1].decode("latin-1") if len(parts) > 1 else ""
            self.wfile.write(self.server.answers.get(path, NOT_FOUND))


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def get_request(self):
        sock, addr = super().get_request()
        # the handshake happens in the connection's thread, on first read
        return self.tls.wrap_socket(sock, server_side=True,
                                    do_handshake_on_connect=False), addr


def serve(a):
    with open(a.answers) as f:
        answers = prepared(json.load(f))
    srv = Server(("127.0.0.1", a.port), Handler, bind_and_activate=True)
    srv.answers = answers
    srv.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv.tls.load_cert_chain(a.cert, a.key)
    srv.tls.set_alpn_protocols(["http/1.1"])
    print("floor: %d answers on 127.0.0.1:%d" % (len(answers), a.port), flush=True)
    srv.serve_forever()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for opt in ("--server", "--ca", "--cert", "--key", "--paths", "--out"):
        r.add_argument(opt, required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    for opt in ("--cert", "--key", "--answers"):
        s.add_argument(opt, required=True)
    a = ap.parse_args()
    record(a) if a.cmd == "record" else serve(a)


if __name__ == "__main__":
    sys.exit(main())
