#!/usr/bin/env python3
"""floor.py - the answers of the floor for the Kubernetes benchmarks
(bench/scale, bench/k8s): what the real server answered, fetched once and
stored as files that nginx serves with nothing else to do
(tests/net/h2proxy.sh, PORT=/DIRECTORY: TLS, HTTP/2 and HTTP/1.1, one
worker in C). Against it, what phasegate spends is its own cost.

  floor.py record --server URL --ca CA --cert CRT --key KEY --paths FILE --out DIR
      GETs every request path listed in FILE (a kubesim --log, or one path
      per line) from the server and stores each 200 answer's body as
      DIR/PATH/index.json (the query string dropped: the benchmarks' checks
      send none). Any other answer is left out, so the floor answers 404."""
import argparse
import http.client
import os
import ssl
import sys
import urllib.parse

MAX_PATHS = 100_000  # a log of a 100-check probe lists a few dozen


def paths_of(fname):
    seen = {}
    with open(fname) as f:
        for line in f:
            parts = line.split()
            # kubesim log: "<time> GET <path> <status> ..."; or a bare path
            p = parts[2] if len(parts) > 2 and parts[1] == "GET" else (parts[0] if parts else "")
            if p.startswith("/") and not p.startswith("/_sim/") and p not in seen:
                seen[p] = True
                if len(seen) > MAX_PATHS:
                    raise SystemExit("floor.py: more than %d paths in %s" % (MAX_PATHS, fname))
    return list(seen)


def file_for(out, path):
    """DIR/PATH/index.json; None for a path that would leave DIR."""
    p = urllib.parse.urlsplit(path).path
    parts = [s for s in p.split("/") if s]
    if any(s in (".", "..") for s in parts):
        return None
    return os.path.join(out, *parts, "index.json")


def record(a):
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    u = urllib.parse.urlsplit(a.server)
    conn = http.client.HTTPSConnection(u.hostname, u.port or 443, context=ctx, timeout=30)
    stored = skipped = 0
    for p in paths_of(a.paths):
        conn.request("GET", p, headers={"Accept": "application/json"})
        r = conn.getresponse()
        body = r.read()
        dest = file_for(a.out, p)
        if r.status != 200 or dest is None:
            skipped += 1
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(body)
        stored += 1
    print("recorded %d answers in %s (%d left out)" % (stored, a.out, skipped))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for opt in ("--server", "--ca", "--cert", "--key", "--paths", "--out"):
        r.add_argument(opt, required=True)
    record(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
