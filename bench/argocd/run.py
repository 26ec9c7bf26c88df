#!/usr/bin/python3
"""bench/argocd/run.py - waiting for N Applications (default 1,000) to
become Synced and Healthy while the simulator converges them, three ways,
against one kubesim instance with the Argo CD API:

  stream   phasegate, one argocd check: wait: {selector}, for: [health, sync]
           (one list, then one watch stream for all applications)
  poll     phasegate, N k8s checks (get application/NAME, Synced and Healthy
           expected) under eventually: {every: 1s}: one GET per app per round
  kubectl  a bash loop: one `kubectl get application NAME -o jsonpath` per
           app not yet converged, rounds one second apart

Each run starts from a reset world in which app i converges at
FIRST + (LAST - FIRST) * i / (N - 1) seconds (annotation
kubesim.phasegate.dev/converge-after). Reported per way: wall time from the
reset to the end, that time over the moment the last app converged, the
requests the simulator answered and the connections it accepted.

Usage: bench/argocd/run.py [N] [--only stream,poll,kubectl]
Rows are printed as each way finishes. The kubectl loop may take minutes
(one kubectl process per app per round); it is given 30 minutes.
Environment: PG_BINARY (default: build/phasegate), BENCH_PORT (default
16680; the Argo CD API listens on BENCH_PORT+1), BENCH_JOBS (poll's --jobs,
default 16)."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIRST, LAST = 5.0, 30.0
TIMEOUT = 600        # a wait's deadline in the phasegate suites
KUBECTL_TIMEOUT = 1800


def world(dirname, n):
    """A world of n OutOfSync, Progressing apps converging one by one."""
    os.makedirs(os.path.join(dirname, "_sim"))
    with open(os.path.join(dirname, "_sim", "argocd.yaml"), "w") as f:
        f.write("tokens:\n- {name: admin, sub: admin}\naccounts:\n- {name: admin, password: x}\n"
                "rbac: {policy: 'g, admin, role:admin'}\n")
    docs = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: argocd}\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\n"
            "metadata: {name: default, namespace: argocd}\nspec: {sourceRepos: ['*']}\n"]
    for i in range(n):
        at = FIRST + (LAST - FIRST) * i / max(1, n - 1)
        docs.append(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
            "metadata:\n  name: app-%04d\n  namespace: argocd\n  labels: {bench: 'yes'}\n"
            "  annotations: {kubesim.phasegate.dev/converge-after: '%.3fs'}\n"
            "spec:\n  project: default\n"
            "  source: {repoURL: 'https://git.example.test/bench.git', path: 'app-%04d', "
            "targetRevision: main}\n"
            "  destination: {server: 'https://kubernetes.default.svc', namespace: bench}\n"
            "status:\n  sync: {status: OutOfSync}\n  health: {status: Progressing}\n"
            % (i, at, i))
    with open(os.path.join(dirname, "apps.yaml"), "w") as f:
        f.write("---\n".join(docs))


class Sim:
    def __init__(self, work, world_dir, port):
        self.work, self.port = work, port
        self.log = os.path.join(work, "requests.log")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "fixtures/kubesim/kubesim.py"), "--world",
             world_dir, "--port", str(port), "--argocd-port", str(port + 1), "--tls-dir",
             os.path.join(work, "tls"), "--pki-out", os.path.join(work, "pki"), "--log",
             self.log], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(work, "sim.err"), "w"))
        for _ in range(300):
            if os.path.exists(os.path.join(work, "pki", "port")):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the simulator did not start")
        self.ctx = ssl.create_default_context(cafile=os.path.join(work, "tls", "ca.crt"))

    def call(self, method, path):
        req = urllib.request.Request("https://127.0.0.1:%d%s" % (self.port + 1, path),
                                     method=method, data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
            return json.loads(r.read() or b"{}")

    def counters(self):
        st = self.call("GET", "/_sim/argocd/stats")
        kube_requests = 0
        with open(self.log) as f:
            for line in f:
                parts = line.split(" ")
                # the Kubernetes API's paths (the Argo CD API's are /api/v1/...,
                # counted by the simulator itself)
                if len(parts) > 2 and parts[2].startswith(("/apis", "/openapi", "/version")) \
                        or (len(parts) > 2 and parts[2].split("?")[0] == "/api"):
                    kube_requests += 1
        return {"argocd_req": st["argocd"]["requests"], "argocd_conn": st["argocd"]["connections"],
                "kube_req": kube_requests, "kube_conn": st["kubernetes"]["connections"]}

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def measure(sim, name, cmd, env, timeout=TIMEOUT):
    before = sim.counters()
    sim.call("POST", "/_sim/reset")  # the convergence clock starts at the reset...
    t0 = time.monotonic()
    # ...and loading the world took a while: the last app converges this long
    # after t0
    last = LAST - sim.call("GET", "/_sim/clock")["elapsedSeconds"]
    with open(os.path.join(sim.work, name + ".out"), "w") as out:
        rc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                            timeout=timeout).returncode
    wall = time.monotonic() - t0
    after = sim.counters()
    if rc != 0:
        raise SystemExit("%s failed (exit %d); see %s" % (name, rc,
                                                          os.path.join(sim.work, name + ".out")))
    # our reset, clock and counters calls are not the tool's (one connection each)
    return {"wall": wall, "last": last,
            "requests": (after["argocd_req"] - before["argocd_req"]) +
                        (after["kube_req"] - before["kube_req"]),
            "connections": (after["argocd_conn"] - before["argocd_conn"] - 3) +
                           (after["kube_conn"] - before["kube_conn"])}


def main():
    argv = sys.argv[1:]
    only = ["stream", "poll", "kubectl"]
    if "--only" in argv:
        i = argv.index("--only")
        only = argv[i + 1].split(",")
        del argv[i:i + 2]
    n = int(argv[0]) if argv else 1000
    pg = os.environ.get("PG_BINARY", os.path.join(ROOT, "build", "phasegate"))
    port = int(os.environ.get("BENCH_PORT", "16680"))
    jobs = os.environ.get("BENCH_JOBS", "16")
    work = tempfile.mkdtemp(prefix="pg-bench-argocd.")
    sim = None
    try:
        wdir = os.path.join(work, "world")
        world(wdir, n)
        sim = Sim(work, wdir, port)
        with open(os.path.join(work, "pki", "argocd-tokens.json")) as f:
            token = json.load(f)["admin"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOCD_")}
        env.update({"HOME": work, "NO_COLOR": "1", "ARGOCD_SERVER": "127.0.0.1:%d" % (port + 1),
                    "ARGOCD_AUTH_TOKEN": token, "KUBECONFIG": os.path.join(work, "pki",
                                                                           "kubeconfig")})
        ca = os.path.join(work, "tls", "ca.crt")
        with open(os.path.join(work, "stream.yaml"), "w") as f:
            f.write("name: bench-stream\nmodules:\n  argocd: {ca_file: '%s'}\nphases:\n"
                    "- id: '1'\n  name: wait\n  steps:\n  - id: '1.1'\n    name: wait\n"
                    "    checkpoint:\n      id: c\n      checks:\n      - id: wait\n"
                    "        timeout: %ds\n        argocd: {wait: {selector: bench=yes}, "
                    "for: [health, sync]}\n        expect: [{path: count, equals: %d}, "
                    "{path: ok, equals: true}]\n" % (ca, TIMEOUT, n))
        with open(os.path.join(work, "poll.yaml"), "w") as f:
            f.write("name: bench-poll\nmodules:\n  k8s: {kubeconfig: '%s'}\nphases:\n"
                    "- id: '1'\n  name: poll\n  steps:\n  - id: '1.1'\n    name: poll\n"
                    "    checkpoint:\n      id: c\n      checks:\n" % env["KUBECONFIG"])
            for i in range(n):
                f.write("      - {id: a%04d, k8s: {get: application/app-%04d, namespace: argocd}, "
                        "eventually: {within: %ds, every: 1s}, expect: [{path: "
                        "object.status.sync.status, equals: Synced}, {path: "
                        "object.status.health.status, equals: Healthy}]}\n" % (i, i, TIMEOUT))
        with open(os.path.join(work, "loop.sh"), "w") as f:
            f.write('set -u\npending=(%s)\nwhile [ ${#pending[@]} -gt 0 ]; do\n  next=()\n'
                    '  for a in "${pending[@]}"; do\n'
                    '    s=$(kubectl --cache-dir "$HOME/kc" get application "$a" -n argocd '
                    '-o jsonpath="{.status.sync.status}/{.status.health.status}")\n'
                    '    [ "$s" = Synced/Healthy ] || next+=("$a")\n  done\n'
                    '  pending=("${next[@]+"${next[@]}"}")\n'
                    '  [ ${#pending[@]} -gt 0 ] && sleep 1\ndone\nexit 0\n'
                    % " ".join("app-%04d" % i for i in range(n)))
        # kubectl's discovery cache, warmed once as a user's would be
        subprocess.run(["kubectl", "--cache-dir", os.path.join(work, "kc"), "get",
                        "applications", "-n", "argocd", "-o", "name"], env=env,
                       stdout=subprocess.DEVNULL, check=True)
        labels = {"stream": "phasegate argocd wait (watch stream)",
                  "poll": "phasegate k8s get x %d, eventually every 1s (--jobs %s)" % (n, jobs),
                  "kubectl": "bash loop of kubectl get application, rounds 1s apart"}
        cmds = {"stream": [pg, "run", os.path.join(work, "stream.yaml"), "--out",
                           os.path.join(work, "o1")],
                "poll": [pg, "run", os.path.join(work, "poll.yaml"), "--jobs", jobs, "--out",
                         os.path.join(work, "o2")],
                "kubectl": ["bash", os.path.join(work, "loop.sh")]}
        print("%d Applications; the last converges %.0fs after the reset (wall times start "
              "when the reset has loaded the world)\n" % (n, LAST))
        print("| way | wall s | last app converged at s | wall / last convergence | requests "
              "| connections |")
        print("|---|---:|---:|---:|---:|---:|", flush=True)
        for way in only:
            r = measure(sim, way, cmds[way], env,
                        KUBECTL_TIMEOUT if way == "kubectl" else TIMEOUT)
            print("| %s | %.1f | %.1f | %.2f | %d | %d |" % (
                labels[way], r["wall"], r["last"], r["wall"] / r["last"], r["requests"],
                r["connections"]), flush=True)
    finally:
        if sim:
            sim.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
