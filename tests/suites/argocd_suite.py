#!/usr/bin/env python3
"""Tests of the shipped suite suites/argocd-stabilization.

    argocd_suite.py coverage   every "- [ ]" item of the seed plan is a check
                               (or an approval) of the suite; prints coverage
    argocd_suite.py healthy    against the argocd-healthy world: exit 0 and
                               PENDING, every automated check passes; then with
                               attest.example.yaml: GO
    argocd_suite.py broken     against the argocd-broken world: exit 1, NO-GO at
                               a phase-2 gate, later phases blocked, evidence kept
    argocd_suite.py secret     the Argo CD token reaches the CLI check, and a CLI
                               that prints it (tests/suites/leaky-argocd) cannot
                               make it appear in any output

The simulator runs through tests/sim/sim_ctl.sh (ports 16481 healthy, 16482
broken); the Argo CD metrics stand-ins (suites/argocd-stabilization/simulator/
metrics) are served by fixtures/prometheus/fake_api.py on 16484-16489; nginx,
dnsmasq and Prometheus are the ctest fixtures of tests/cmake/net.cmake. Every
JUnit file is validated against junit-10.xsd, and the Argo CD token given in
the environment must appear in no output.

Environment: PG_BINARY, PG_SOURCE_DIR, PG_SHARED_DIR, PG_BUILD_DIR, PG_PYTHON3."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

BIN = os.environ["PG_BINARY"]
SRC = os.environ["PG_SOURCE_DIR"]
SHARED = os.environ["PG_SHARED_DIR"]
BUILD = os.environ["PG_BUILD_DIR"]
PY = os.environ.get("PG_PYTHON3", sys.executable)
SUITE = os.path.join(SRC, "suites", "argocd-stabilization")
ENV_FILE = os.path.join(SUITE, "env", "simulator.env")
ATTEST = os.path.join(SUITE, "attest.example.yaml")
XSD = os.path.join(SHARED, "reference", "junit-10.xsd")
SIM_CTL = os.path.join(SRC, "tests", "sim", "sim_ctl.sh")
FAKE_API = os.path.join(SRC, "fixtures", "prometheus", "fake_api.py")
TOKEN = "pg-suite-token-7c41e9d2"   # must never show up in any output

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def finish():
    print("%d failure(s)" % len(FAILS))
    sys.exit(1 if FAILS else 0)


def base_env():
    env = dict(os.environ)
    env["ARGOCD_AUTH_TOKEN"] = TOKEN
    env["NO_COLOR"] = "1"
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env.pop(k, None)
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


# ---- coverage -----------------------------------------------------------

def seed_items():
    """The plan's checklist items in order, '- [ ] ' stripped."""
    items = []
    for path in sorted(glob.glob(os.path.join(SHARED, "seed", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"^\s*- \[ \] (.+?)\s*$", line)
                if m:
                    items.append(m.group(1))
    return items


def suite_listing():
    """(checks, roles) from `phasegate list`: checks as (id, name, manual)."""
    r = subprocess.run([BIN, "list", SUITE, "--env-file", ENV_FILE], env=base_env(),
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
        check(False, "phasegate list exits 0")
        finish()
    lines = r.stdout.splitlines()
    checks, roles, in_approvals = [], [], False
    for i, line in enumerate(lines):
        if line.startswith("approvals:"):
            in_approvals = True
            continue
        if in_approvals:
            m = re.match(r"^\s+(\S+)\s+(.+)$", line)
            if m:
                roles.append(m.group(2).strip())
            continue
        m = re.match(r"^\s+check\s+(\S+)\s+(.+)$", line)
        if m:
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            checks.append((m.group(1), m.group(2).strip(), "manual sign-off" in nxt))
    return checks, roles


def run_coverage():
    r = subprocess.run([BIN, "validate", SUITE, "--env-file", ENV_FILE], env=base_env(),
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "the suite validates with env/simulator.env (%s)" %
          (r.stdout + r.stderr).strip()[:300])
    items = seed_items()
    check(len(items) >= 90, "the seed has its checklist (%d items found)" % len(items))
    checks, roles = suite_listing()
    used = set()
    automated = manual = approvals = 0
    for item in items:
        if item in roles:
            approvals += 1
            continue
        # the first occurrence of an item is a check named exactly so; a
        # repeated item (the plan lists some twice) is the same words plus a
        # parenthesised context
        cands = [c for c in checks if c[0] not in used and
                 (c[1] == item or c[1].startswith(item + " ("))]
        exact = [c for c in cands if c[1] == item]
        hit = (exact or cands or [None])[0]
        if not check(hit is not None, "checklist item is a check: %s" % item):
            continue
        used.add(hit[0])
        if hit[2]:
            manual += 1
        else:
            automated += 1
    check(sorted(roles) == sorted(["Development Team Lead", "DevOps Team Lead",
                                   "Security Team Lead", "QA Team Lead", "Business Owner"]),
          "the five required approvals: %s" % roles)
    print("coverage: %d checklist items: %d automated checks, %d manual checks, %d approvals"
          % (len(items), automated, manual, approvals))
    finish()


# ---- running the suite --------------------------------------------------

class Servers:
    """The simulator instance and the metrics stand-ins of one test."""

    def __init__(self, name, world, port, metrics_ports):
        self.name, self.world, self.port = name, world, port
        self.metrics_ports = metrics_ports
        self.work = os.path.join(BUILD, "tests", "suites", name)
        self.pids = []

    def start_sim(self):
        subprocess.run(["bash", SIM_CTL, "stop", self.name], env=os.environ, timeout=60)
        r = subprocess.run(["bash", SIM_CTL, "start", self.name, self.world, str(self.port)],
                           env=os.environ, capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            raise SystemExit("the simulator did not start")
        return os.path.join(BUILD, "tests", "sim", self.name, "pki", "kubeconfig")

    def start_metrics(self):
        os.makedirs(self.work, exist_ok=True)
        for comp, port in self.metrics_ports.items():
            pidf = os.path.join(self.work, "metrics-%s.pid" % comp)
            log = open(os.path.join(self.work, "metrics-%s.log" % comp), "w")
            p = subprocess.Popen([PY, FAKE_API, str(port),
                                  os.path.join(SUITE, "simulator", "metrics", comp), pidf],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 start_new_session=True)
            self.pids.append(p)
        deadline = time.time() + 20
        for port in self.metrics_ports.values():
            while True:
                r = subprocess.run(["curl", "-fs", "--noproxy", "*", "-o", "/dev/null",
                                    "--max-time", "1", "http://127.0.0.1:%d/metrics" % port])
                if r.returncode == 0:
                    break
                if time.time() > deadline:
                    raise SystemExit("metrics stand-in on %d did not answer" % port)
                time.sleep(0.1)

    def stop(self):
        for p in self.pids:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        subprocess.run(["bash", SIM_CTL, "stop", self.name], env=os.environ, timeout=60)

    def metric_vars(self):
        p = self.metrics_ports
        return ["--var", "server_metrics_url=http://127.0.0.1:%d/metrics" % p["server"],
                "--var", "controller_metrics_url=http://127.0.0.1:%d/metrics" % p["controller"],
                "--var", "repo_metrics_url=http://127.0.0.1:%d/metrics" % p["repo-server"]]


def overlay_world(name):
    """A private copy of the world argocd-healthy (the DR phase rewrites state)."""
    dst = os.path.join(BUILD, "tests", "suites", name, "world")
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(os.path.join(SRC, "fixtures", "worlds", "argocd-healthy"), dst)
    return dst


def run_suite(srv, kubeconfig, label, extra, destructive=True):
    out = os.path.join(srv.work, label)
    shutil.rmtree(out, ignore_errors=True)
    backup = os.path.join(srv.work, label + "-backup")
    shutil.rmtree(backup, ignore_errors=True)
    env = base_env()
    env["KUBECONFIG"] = kubeconfig
    args = [BIN, "run", SUITE, "--env-file", ENV_FILE, "--var", "backup_dir=" + backup,
            "--out", out] + srv.metric_vars() + extra
    if destructive:  # the whole plan deletes and restores the namespace (8.2)
        args.append("--allow-destructive")
    r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600,
                       cwd=srv.work)
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        res = json.load(f)
    texts = {"stdout": r.stdout, "stderr": r.stderr}
    for name in ("results.json", "junit.xml", "report.md"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            texts[name] = f.read()
    print(r.stdout[-1500:])
    if r.returncode not in (0, 1) or "Sanitizer" in r.stderr:
        print("stderr:\n" + r.stderr[-6000:])
    return r.returncode, res, texts, out


def all_checks(res):
    for ph in res["phases"]:
        for st in ph["steps"]:
            for c in st["checks"]:
                yield ph, st, c


def common_asserts(label, texts, out):
    x = subprocess.run(["xmllint", "--noout", "--schema", XSD, os.path.join(out, "junit.xml")],
                       capture_output=True, text=True)
    check(x.returncode == 0, "%s: junit.xml validates against junit-10.xsd %s" %
          (label, x.stderr.strip()[:300]))
    for name, text in texts.items():
        check(TOKEN not in text, "%s: the Argo CD token is not in %s" % (label, name))


def run_healthy():
    srv = Servers("suites-healthy", overlay_world("suites-healthy"), 16481,
                  {"server": 16484, "controller": 16485, "repo-server": 16486})
    try:
        srv.start_metrics()
        kcfg = srv.start_sim()
        rc, res, texts, out = run_suite(srv, kcfg, "pending", [])
        check(rc == 0, "healthy: exit code 0 (got %d)" % rc)
        check(res["verdict"] == "PENDING", "healthy: verdict PENDING (got %s)" % res["verdict"])
        auto = [(c["id"], c["status"]) for _, _, c in all_checks(res)
                if c["kind"] in ("check", "action") and c["module"] != "manual"]
        bad = [a for a in auto if a[1] != "pass"]
        check(len(auto) >= 90 and not bad,
              "healthy: all %d automated checks and actions pass %s" % (len(auto), bad))
        manual = [c for _, _, c in all_checks(res) if c["module"] == "manual"]
        check(manual and all(c["status"] == "pending" for c in manual),
              "healthy: the %d manual checks are pending" % len(manual))
        check(len(res["approvals"]) == 5 and not any(a["attested"] for a in res["approvals"]),
              "healthy: five approvals, none signed")
        dr = {c["id"]: c for _, _, c in all_checks(res)}
        check(dr["dr-delete-namespace"]["status"] == "pass" and dr["dr-restore"]["status"] == "pass"
              and dr["dr-recovery"]["status"] == "pass",
              "healthy: the DR test deleted the namespace and restored it from the backup")
        metrics = {c["metric_name"]: c["status"] for _, _, c in all_checks(res) if c["metric_name"]}
        check(len(metrics) == 4, "healthy: four success metrics reported: %s" % metrics)
        check("Sign-off" in texts["report.md"] or "sign-off" in texts["report.md"],
              "healthy: the report has the sign-off table")
        common_asserts("healthy", texts, out)

        # a fresh world (the first run changed it), now with every sign-off
        kcfg = srv.start_sim()
        rc, res, texts, out = run_suite(srv, kcfg, "go", ["--attest", ATTEST])
        check(rc == 0, "attested: exit code 0 (got %d)" % rc)
        check(res["verdict"] == "GO", "attested: verdict GO (got %s)" % res["verdict"])
        t = res["totals"]
        check(t["passed"] == t["total"] and t["total"] >= 120,
              "attested: every check passes (%s)" % t)
        check(all(a["attested"] for a in res["approvals"]), "attested: all approvals signed")
        common_asserts("attested", texts, out)

        # step 8.1 alone: read-only, so no --allow-destructive is needed;
        # step 8.2's deletion and every other action never run
        kcfg = srv.start_sim()
        rc, res, texts, out = run_suite(srv, kcfg, "step-8.1", ["--step", "8.1"],
                                        destructive=False)
        check(rc == 0 and res["verdict"] == "PARTIAL",
              "--step 8.1: exit 0, PARTIAL (got %d %s)" % (rc, res["verdict"]))
        ran = [c["id"] for _, st, c in all_checks(res)
               if c["kind"] in ("action", "rollback", "collector") and c["status"] != "not_selected"]
        check(not ran, "--step 8.1: no action, rollback or collector ran (%s)" % ran)
        st82 = {c["id"]: c["status"] for ph, st, c in all_checks(res) if st["id"] == "8.2"}
        check(st82.get("dr-delete-namespace") == "not_selected",
              "--step 8.1: 8.2's namespace deletion is not selected (%s)" % st82)
        check(res["totals"]["actions_run"] == 0, "--step 8.1: no action ran")
        check("## Not run" in texts["report.md"], "--step 8.1: the report lists what did not run")
        common_asserts("step-8.1", texts, out)

        # the whole plan without --allow-destructive: refused, nothing run
        env = base_env()
        env["KUBECONFIG"] = kcfg
        r = subprocess.run([BIN, "run", SUITE, "--env-file", ENV_FILE, "--out",
                            os.path.join(srv.work, "refused")] + srv.metric_vars(),
                           env=env, capture_output=True, text=True, timeout=120)
        check(r.returncode == 2 and "dr-delete-namespace" in r.stderr
              and "--allow-destructive" in r.stderr
              and not os.path.exists(os.path.join(srv.work, "refused", "results.json")),
              "whole plan without --allow-destructive: exit 2, the deletion named, nothing "
              "run (%d %s)" % (r.returncode, r.stderr[-400:]))
    finally:
        srv.stop()
    finish()


def run_broken():
    srv = Servers("suites-broken", "argocd-broken", 16482,
                  {"server": 16487, "controller": 16488, "repo-server": 16489})
    try:
        srv.start_metrics()
        kcfg = srv.start_sim()
        rc, res, texts, out = run_suite(srv, kcfg, "nogo", [])
        # diagnosis past the failed gate, on a fresh world: the later
        # checks must see the other things the broken world gets wrong
        kcfg = srv.start_sim()
        krc, kres, ktexts, kout = run_suite(srv, kcfg, "keep-going", ["--keep-going"])
    finally:
        srv.stop()
    check(krc == 1 and kres["verdict"] == "NO-GO" and kres["keep_going"],
          "keep-going: exit 1, NO-GO, the override recorded (%d %s)" % (krc, kres["verdict"]))
    kst = {c["id"]: c["status"] for _, _, c in all_checks(kres)}
    for cid, why in [("server-lb", "the LoadBalancer has no address"),
                     ("controller-startup-logs", "the controller logged errors"),
                     ("sync-failures", "an application's sync failed"),
                     ("network-recovery", "an application stays OutOfSync and Degraded"),
                     ("conflicts-resolved", "a FailedSync event is recent")]:
        check(kst.get(cid) == "fail", "keep-going: %s fails: %s (%s)" % (cid, why, kst.get(cid)))
    check("--keep-going" in ktexts["report.md"] or "overrid" in ktexts["report.md"],
          "keep-going: the report says the protocol was overridden")
    common_asserts("keep-going", ktexts, kout)
    check(rc == 1, "broken: exit code 1 (got %d)" % rc)
    check(res["verdict"] == "NO-GO", "broken: verdict NO-GO (got %s)" % res["verdict"])
    gate = res["blocking_gate"] or ""
    step_of_gate = [st for ph, st, _ in all_checks(res) if st["checkpoint_id"] == gate]
    check(step_of_gate and step_of_gate[0]["id"].startswith("2."),
          "broken: the failing gate is in phase 2 (%s)" % gate)
    phases = {ph["id"]: ph["status"] for ph in res["phases"]}
    check(phases.get("1") == "pass", "broken: phase 1 passes (%s)" % phases.get("1"))
    check(phases.get("2") == "fail", "broken: phase 2 fails (%s)" % phases.get("2"))
    later = [c for ph, _, c in all_checks(res) if ph["id"] not in ("1", "2")]
    check(later and all(c["status"] == "skip" and "blocked by gate" in (c["message"] or "")
                        and c["blocked_by"] == gate for c in later if c["kind"] != "rollback"),
          "broken: all %d checks of phases 3-9 are skipped, blocked by %s" % (len(later), gate))
    failing = [c for ph, st, c in all_checks(res) if st["checkpoint_id"] == gate]
    failed = [c for c in failing if c["kind"] == "check" and c["status"] == "fail"]
    check(any(c["id"] == "server-pods-ready" for c in failed),
          "broken: '3 server pods running and ready' fails (%s)" % [c["id"] for c in failed])
    check(all(c["remedy"] for c in failed if c["id"] != "server-health-argocd"),
          "broken: failed checks carry their remedy")
    coll = [c for c in failing if c["kind"] == "collector"]
    check(coll and all(c["evidence"] for c in coll),
          "broken: the %d evidence collectors kept their output" % len(coll))
    check("exceeded its progress deadline" in texts["report.md"],
          "broken: the report shows the rollout's failure")
    common_asserts("broken", texts, out)
    finish()


def run_secret():
    out = os.path.join(BUILD, "tests", "suites", "suites-secret")
    shutil.rmtree(out, ignore_errors=True)
    leaky = os.path.join(os.path.dirname(os.path.abspath(__file__)), "leaky-argocd")
    # step 1.2 only; no cluster is needed for the CLI check (the k8s checks
    # of the step end in error, which is fine here)
    r = subprocess.run([BIN, "run", SUITE, "--env-file", ENV_FILE, "--step", "1.2",
                        "--var", "argocd_cli=" + leaky,
                        "--var", "kubeconfig=" + os.path.join(out, "no-such-kubeconfig"),
                        "--out", out], env=base_env(), capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 1, "secret: exit code 1 (got %d)" % r.returncode)
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        res = json.load(f)
    cli = [c for _, _, c in all_checks(res) if c["id"] == "argocd-cli"]
    check(cli and cli[0]["status"] == "fail", "secret: the leaky CLI check fails")
    texts = {"stdout": r.stdout, "stderr": r.stderr}
    for name in ("results.json", "junit.xml", "report.md"):
        with open(os.path.join(out, name), encoding="utf-8") as f:
            texts[name] = f.read()
    # the mask is a run of U+2022, written raw or as a JSON escape
    masked = "token=\u2022" in texts["results.json"] or "token=\\u2022" in texts["results.json"]
    check(masked, "secret: the token reached the CLI and was masked in its output")
    common_asserts("secret", texts, out)
    finish()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    {"coverage": run_coverage, "healthy": run_healthy, "broken": run_broken,
     "secret": run_secret}.get(
        mode, lambda: sys.exit("usage: argocd_suite.py coverage|healthy|broken|secret"))()
