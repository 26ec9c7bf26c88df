"""Reads the access log of tests/net/h2proxy.sh and says how the requests
travelled: how many, on which protocol, on how many client connections,
and how many were in flight at once on one connection (two requests in
flight together on one connection is HTTP/2 multiplexing: HTTP/1.1 carries
one at a time).

  h2log.py LOG [--port P] [--min-requests N] [--max-connections N]
               [--protocol HTTP/2.0] [--min-in-flight N]

Prints a summary, then one line per condition given ("ok: ..." or
"FAIL: ..."); exits 1 when a condition fails, 2 on an unreadable log.
Log fields (h2proxy.sh's format): connection, connection_requests,
server_protocol, method, uri, status, server_port, msec (when the answer
was sent), request_time (seconds since its first byte arrived)."""
import argparse
import json
import sys

FIELDS = 9
MAX_LINES = 10_000_000  # a test's log is far smaller; never read without end


def read_log(path, port):
    rows = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if n > MAX_LINES:
                raise ValueError("%s: more than %d lines" % (path, MAX_LINES))
            parts = line.split()
            if len(parts) != FIELDS:
                raise ValueError("%s:%d: %d fields, expected %d: %r"
                                 % (path, n, len(parts), FIELDS, line.strip()))
            if port is not None and parts[6] != str(port):
                continue
            end = float(parts[7])
            rows.append({"conn": parts[0], "conn_requests": int(parts[1]),
                         "protocol": parts[2], "method": parts[3], "uri": parts[4],
                         "status": parts[5], "start": end - float(parts[8]), "end": end})
    return rows


def max_in_flight(rows):
    """The most requests of one connection whose lifetimes overlap."""
    best = 0
    by_conn = {}
    for r in rows:
        by_conn.setdefault(r["conn"], []).append(r)
    for reqs in by_conn.values():
        best = max(best, 1)
        # ends sort before starts at the same instant: touching is not
        # overlap (nginx logs in milliseconds: a fast answer lasts 0)
        events = sorted([(r["start"], 1) for r in reqs] + [(r["end"], -1) for r in reqs])
        cur = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
    return best


def summary(rows):
    protocols, statuses, conns = {}, {}, {}
    for r in rows:
        protocols[r["protocol"]] = protocols.get(r["protocol"], 0) + 1
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        conns[r["conn"]] = conns.get(r["conn"], 0) + 1
    return {"requests": len(rows), "protocols": protocols, "statuses": statuses,
            "connections": len(conns),
            "most_requests_on_one_connection": max(conns.values()) if conns else 0,
            "max_in_flight_on_one_connection": max_in_flight(rows)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--port", type=int)
    ap.add_argument("--min-requests", type=int)
    ap.add_argument("--max-connections", type=int)
    ap.add_argument("--protocol")
    ap.add_argument("--min-in-flight", type=int)
    a = ap.parse_args()
    try:
        rows = read_log(a.log, a.port)
    except (OSError, ValueError) as e:
        print("h2log.py: %s" % e, file=sys.stderr)
        return 2
    s = summary(rows)
    print(json.dumps(s, sort_keys=True))
    checks = []
    if a.min_requests is not None:
        checks.append(("at least %d requests" % a.min_requests,
                       s["requests"] >= a.min_requests, s["requests"]))
    if a.max_connections is not None:
        checks.append(("at most %d client connections" % a.max_connections,
                       0 < s["connections"] <= a.max_connections, s["connections"]))
    if a.protocol is not None:
        checks.append(("every request came as %s" % a.protocol,
                       s["requests"] > 0 and s["protocols"].get(a.protocol, 0) == s["requests"],
                       s["protocols"]))
    if a.min_in_flight is not None:
        checks.append(("at least %d requests in flight together on one connection"
                       % a.min_in_flight,
                       s["max_in_flight_on_one_connection"] >= a.min_in_flight,
                       s["max_in_flight_on_one_connection"]))
    failed = 0
    for what, ok, seen in checks:
        print("%s: %s (seen: %s)" % ("ok" if ok else "FAIL", what, json.dumps(seen)))
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
