#!/usr/bin/env python3
"""http_faultsrv.py - misbehaving HTTP servers for the http fault tests.

Each port on 127.0.0.1 has one behaviour:
  18090  accepts the connection, reads the request, never answers
  18091  sends a head with Content-Length 5000, 1234 body bytes, then a reset
  18092  sends a head with Content-Length 5000, 100 body bytes, then closes
  18093  echo: answers with JSON {method, path, headers, body} of the request
  18094  answers at once with no HTTP at all, then closes
  18095  bombs, by path: /gzip (a 256 MiB JSON array of zeros as 0.3 MB of
         gzip), /values (3 million JSON values in 6 MB), /header (a 10 MB
         header line), /redirect-loop (302 to itself), /status (a 20-digit
         status code)
Usage: http_faultsrv.py PIDFILE   (runs in the foreground until SIGTERM)
"""
import json
import os
import signal
import socket
import struct
import sys
import threading

HOST = "127.0.0.1"


def read_request(conn):
    """Reads one request head and its Content-Length body; None on EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path = (lines[0].split(" ") + ["", ""])[:2]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or "0")
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return method, path, headers, rest[:length]


def never(conn):
    read_request(conn)
    # Hold the connection open without a word until the client gives up.
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def head(length, ctype="application/octet-stream"):
    return ("HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            "Connection: close\r\n\r\n" % (ctype, length)).encode()


def reset(conn):
    if read_request(conn) is None:
        return
    conn.sendall(head(5000) + b"r" * 1234)
    # SO_LINGER with a zero timeout makes close() send a RST.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def truncated(conn):
    if read_request(conn) is None:
        return
    conn.sendall(head(5000) + b"t" * 100)
    conn.shutdown(socket.SHUT_WR)


def echo(conn):
    while True:
        req = read_request(conn)
        if req is None:
            return
        method, path, headers, body = req
        out = json.dumps({"method": method, "path": path, "headers": headers,
                          "body": body.decode("utf-8", "replace")}).encode()
        conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: %d\r\n\r\n" % len(out)).encode() + out)


def garbage(conn):
    conn.sendall(b"\x00\x01this is not http\r\n\r\n")
    conn.shutdown(socket.SHUT_WR)


_bomb_cache = {}


def bomb_body(name):
    """Made on first use: the gzip bomb costs a few seconds to compress."""
    if name not in _bomb_cache:
        if name == "gzip":
            import zlib
            z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
            parts = [z.compress(b"[")]
            chunk = b"0," * (1 << 20)
            for _ in range(128):  # 256 MiB
                parts.append(z.compress(chunk))
            parts.append(z.compress(b"0]"))
            parts.append(z.flush())
            _bomb_cache[name] = b"".join(parts)
        else:
            _bomb_cache[name] = b"[" + b"0," * 3000000 + b"0]"
    return _bomb_cache[name]


def bombs(conn):
    req = read_request(conn)
    if req is None:
        return
    path = req[1]
    if path.startswith("/gzip"):
        body = bomb_body("gzip")
        conn.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Encoding: gzip\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n" % len(body)).encode() + body)
    elif path.startswith("/values"):
        body = bomb_body("values")
        conn.sendall(head(len(body), "application/json") + body)
    elif path.startswith("/header"):
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Big: " + b"h" * (10 << 20) + b"\r\n\r\n")
    elif path.startswith("/redirect-loop"):
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /redirect-loop\r\n"
                     b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    elif path.startswith("/status"):
        conn.sendall(b"HTTP/1.1 20000000000000000000 OK\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")
    conn.shutdown(socket.SHUT_WR)


BEHAVIOURS = {18090: never, 18091: reset, 18092: truncated, 18093: echo, 18094: garbage,
              18095: bombs}


def serve(port, fn):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, port))
    s.listen(128)
    while True:
        conn, _ = s.accept()

        def run(c=conn):
            try:
                fn(c)
            except OSError:
                pass
            finally:
                c.close()
        threading.Thread(target=run, daemon=True).start()


def main():
    pidfile = sys.argv[1]
    for port, fn in BEHAVIOURS.items():
        threading.Thread(target=serve, args=(port, fn), daemon=True).start()
    with open(pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(pidfile + ".tmp", pidfile)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
