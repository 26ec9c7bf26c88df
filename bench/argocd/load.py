#!/usr/bin/python3
"""bench/argocd/load.py - the refresh load of the stabilisation suite's step
8.1 (hard refreshes of N applications, R rounds, C calls in flight), two
ways, against one kubesim instance with the Argo CD API:

  phasegate  one argocd action: refresh: {selector}, mode: hard,
             concurrency: C, rounds: R (worker threads on the run's one
             transport; latency percentiles in its facts)
  curl       what a script would do: xargs -P C running one
             `curl -H 'Authorization: Bearer ...' URL?refresh=hard` per call

The simulator is started without its metrics listeners, so a refresh costs
it no reconciliation delay: the figures are the clients' own overhead.
Reported per way: wall time, calls per second, the connections the
simulator accepted, the client's CPU time (user + system of the process
tree), and the ratios phasegate / curl.

Usage: bench/argocd/load.py [N] [--rounds R] [--concurrency C]
Environment: PG_BINARY (default: build/phasegate), BENCH_PORT (default
16690; the Argo CD API listens on BENCH_PORT+1)."""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402  (the world and simulator of bench/argocd/run.py)

SUITE = """name: bench-load
modules:
  argocd: {ca_file: "%(ca)s", server: "127.0.0.1:%(port)d"}
phases:
  - id: "1"
    steps:
      - id: "1.1"
        actions:
          - id: load
            timeout: 30m
            argocd: {refresh: {selector: bench=yes}, mode: hard, concurrency: %(c)d, rounds: %(r)d}
"""


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(sim, cmd, env, out_path, stdin=None):
    before = sim.counters()
    cpu0 = children_cpu()
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        rc = subprocess.run(cmd, env=env, stdin=stdin, stdout=out, stderr=subprocess.STDOUT,
                            timeout=3600).returncode
    wall = time.monotonic() - t0
    cpu = children_cpu() - cpu0
    after = sim.counters()
    if rc != 0:
        raise SystemExit("%s failed (exit %d); see %s" % (cmd[0], rc, out_path))
    return {"wall": wall, "cpu": cpu,
            "connections": after["argocd_conn"] - before["argocd_conn"] - 2}


def main():
    argv = sys.argv[1:]
    opts = {"--rounds": 5, "--concurrency": 32}
    for k in list(opts):
        if k in argv:
            i = argv.index(k)
            opts[k] = int(argv[i + 1])
            del argv[i:i + 2]
    n = int(argv[0]) if argv else 200
    rounds, conc = opts["--rounds"], opts["--concurrency"]
    binary = os.environ.get("PG_BINARY", os.path.join(base.ROOT, "build", "phasegate"))
    port = int(os.environ.get("BENCH_PORT", "16690"))
    work = tempfile.mkdtemp(prefix="pg-bench-load.")
    try:
        wdir = os.path.join(work, "world")
        base.world(wdir, n)
        sim = base.Sim(work, wdir, port)
        try:
            with open(os.path.join(work, "pki", "argocd-tokens.json")) as f:
                token = __import__("json").load(f)["admin"]
            ca = os.path.join(work, "tls", "ca.crt")
            env = dict(os.environ, ARGOCD_AUTH_TOKEN=token, no_proxy="127.0.0.1",
                       NO_PROXY="127.0.0.1")
            suite = os.path.join(work, "suite.yaml")
            with open(suite, "w") as f:
                f.write(SUITE % {"ca": ca, "port": port + 1, "c": conc, "r": rounds})
            calls = n * rounds
            rows = {}
            rows["phasegate"] = timed(sim, [binary, "run", suite, "--out",
                                            os.path.join(work, "out")], env,
                                      os.path.join(work, "phasegate.out"))
            urls = os.path.join(work, "urls")
            with open(urls, "w") as f:
                for _ in range(rounds):
                    for i in range(n):
                        f.write("https://127.0.0.1:%d/api/v1/applications/app-%04d"
                                "?refresh=hard\n" % (port + 1, i))
            cmd = ["xargs", "-P", str(conc), "-n", "1", "curl", "-sf", "-o", "/dev/null",
                   "--cacert", ca, "-H", "Authorization: Bearer " + token]
            with open(urls) as stdin:
                rows["curl"] = timed(sim, cmd, env, os.path.join(work, "curl.out"), stdin)
        finally:
            sim.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("%d hard refreshes (%d applications x %d rounds), %d in flight" %
          (calls, n, rounds, conc))
    print("%-10s %9s %10s %12s %10s" % ("way", "wall s", "calls/s", "connections", "cpu s"))
    for name, r in rows.items():
        print("%-10s %9.2f %10.1f %12d %10.2f" % (name, r["wall"], calls / r["wall"],
                                                 r["connections"], r["cpu"]))
    p, c = rows["phasegate"], rows["curl"]
    print("ratios phasegate/curl: wall %.2f, cpu %.2f, connections %.3f" %
          (p["wall"] / c["wall"], p["cpu"] / max(c["cpu"], 1e-9),
           p["connections"] / max(c["connections"], 1)))


if __name__ == "__main__":
    main()
