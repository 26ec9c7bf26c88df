#!/usr/bin/env python3
"""Tests of the shipped suite suites/argocd-stabilization.

    argocd_suite.py coverage   every "- [ ]" item of the seed plan is a check
                               (or an approval) of the suite; prints coverage
    argocd_suite.py healthy    phases 1-5 against the argocd-stabilization world
                               (simulator/run.sh): exit 0, PARTIAL, every gating
                               check and action passes, the provoked failures
                               seen; --phase 4 refused without
                               --allow-destructive; --step 4.1 runs no action
    argocd_suite.py broken-N   against argocd-broken-N (N = 1..5): exit 1, NO-GO
                               at phase N's gate with the right check failing,
                               its remedy in the report, evidence collected, the
                               rollback run (worlds 2 and 4), later phases skipped
    argocd_suite.py secret     the Argo CD token reaches the CLI check, and a CLI
                               that prints it (tests/suites/leaky-argocd) cannot
                               make it appear in any output

The runs go through suites/argocd-stabilization/simulator/run.sh, on the
ports counted from PG_SUITE_PORT (run.sh's SIM_PORT: ctest gives each entry
a block of its own, so they run side by side); nginx, dnsmasq
and the test Prometheus are the ctest fixtures of tests/cmake/net.cmake. Every
JUnit file is validated against junit-10.xsd, and the Argo CD token must
appear in no output.

Environment: PG_BINARY, PG_SOURCE_DIR, PG_SHARED_DIR, PG_BUILD_DIR, PG_PYTHON3."""
import glob
import signal
import time
import html
import json
import os
import re
import shutil
import subprocess
import sys

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
GRAFANA_TOKEN = "pg-grafana-token-52be0f7a"  # for runs without the Grafana stand-in

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
    env["GRAFANA_TOKEN"] = GRAFANA_TOKEN
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

RUN_SH = os.path.join(SUITE, "simulator", "run.sh")

# Each broken world (fixtures/worlds/argocd-broken-N) must stop phase N's
# gate, at this checkpoint, with this check or action failing; the worlds
# marked True must also show the step's rollback running.
BROKEN = {
    "broken-1": ("checkpoint-1", "cluster-connectivity", False),
    "broken-2": ("checkpoint-2.3", "repo-rollout", True),
    "broken-3": ("checkpoint-3.1", "metrics-endpoints", False),
    "broken-4": ("checkpoint-4.2", "recovery-sync", True),
    "broken-5": ("checkpoint-5.2", "e2e-deployment", False),
}


def run_sh(label, world, extra, env_extra=None):
    """simulator/run.sh WORLD: its own simulator, metrics, Prometheus and
    Prometheus Operator stand-in, Alertmanager and its receiver; nginx,
    dnsmasq and the test Prometheus (with the Grafana stand-in and its
    token) are the ctest fixtures. env_extra is added to run.sh's
    environment. Returns (rc, results, texts, out, token)."""
    work = os.path.join(BUILD, "tests", "suites", label)
    out = os.path.join(work, "out")
    shutil.rmtree(work, ignore_errors=True)
    env = base_env()
    env.pop("ARGOCD_AUTH_TOKEN", None)  # run.sh uses the simulator's own
    env.pop("GRAFANA_TOKEN", None)  # and the Grafana stand-in's
    env.update(env_extra or {})
    env.update({"PG_BINARY": BIN, "PG_NET_EXTERNAL": "1", "SIM_WORK": os.path.join(work, "sim"),
                "PG_PYTHON3": PY, "PG_BUILD_DIR": BUILD})
    if os.environ.get("PG_SUITE_PORT"):  # this test's own block of ports
        env["SIM_PORT"] = os.environ["PG_SUITE_PORT"]
    r = subprocess.run(["bash", RUN_SH, world] + extra + ["--out", out], env=env,
                       capture_output=True, text=True, timeout=900)
    print(r.stdout[-2500:])
    if r.returncode not in (0, 1) or "Sanitizer" in r.stderr:
        print("stderr:\n" + r.stderr[-6000:])
    res, texts = None, {"stdout": r.stdout, "stderr": r.stderr}
    if os.path.exists(os.path.join(out, "results.json")):
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            res = json.load(f)
        for name in ("results.json", "junit.xml", "report.md"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                texts[name] = f.read()
    token = ""
    tok = os.path.join(work, "sim", "pki", "argocd-tokens.json")
    if os.path.exists(tok):
        with open(tok, encoding="utf-8") as f:
            token = json.load(f).get("admin", "")
    return r.returncode, res, texts, out, token


def all_checks(res):
    for ph in res["phases"]:
        for st in ph["steps"]:
            for c in st["checks"]:
                yield ph, st, c


def common_asserts(label, texts, out, token=TOKEN):
    x = subprocess.run(["xmllint", "--noout", "--schema", XSD, os.path.join(out, "junit.xml")],
                       capture_output=True, text=True)
    check(x.returncode == 0, "%s: junit.xml validates against junit-10.xsd %s" %
          (label, x.stderr.strip()[:300]))
    check(bool(token), "%s: the Argo CD token is known to the test" % label)
    for name, text in texts.items():
        check(token not in text, "%s: the Argo CD token is not in %s" % (label, name))
    grafana = grafana_token()
    for name, text in texts.items():
        check(not grafana or grafana not in text,
              "%s: the Grafana token is not in %s" % (label, name))


def grafana_token():
    """The Grafana stand-in's token (tests/net/prometheus.sh), or ""."""
    try:
        with open(os.path.join(BUILD, "net-prom", "grafana-token"), encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


# ---- shared with tests/suites/stabilization_b.py (phases 6-9) ----------

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


def run_healthy():
    """Phases 1-5 (this suite's own part against the healthy world): every
    gate passes, the only open item is the logging sign-off, the verdict is
    PARTIAL (phases 6-9 not selected)."""
    rc, res, texts, out, token = run_sh("suites-healthy", "healthy",
                                        ["--until", "5.2", "--allow-destructive"])
    if not check(res is not None, "healthy: results.json written"):
        finish()
    check(rc == 0, "healthy: exit code 0 (got %d)" % rc)
    check(res["verdict"] == "PARTIAL", "healthy: verdict PARTIAL (got %s)" % res["verdict"])
    ran = [(ph, c) for ph, _, c in all_checks(res) if ph["id"] in "12345"]
    bad = [c["id"] for _, c in ran if c["kind"] in ("check", "action") and c["gate"]
           and c["module"] != "manual" and c["status"] != "pass"]
    check(len(ran) >= 100 and not bad,
          "healthy: every gating check and action of phases 1-5 passes (%d; failing %s)"
          % (len(ran), bad))
    rolled = [c["id"] for _, c in ran if c["kind"] == "rollback" and c["status"] != "not_selected"
              and c["status"] != "skip"]
    check(not rolled, "healthy: no rollback ran (%s)" % rolled)
    pend = [c["id"] for _, c in ran if c["status"] == "pending"]
    check(pend == ["scripts-logging"], "healthy: the one sign-off of phases 1-5 is open (%s)" % pend)
    byid = {c["id"]: c for _, c in ran}
    fail = byid.get("failing-sync", {})
    check(fail.get("status") == "pass" and "Failed" in (fail.get("seen") or ""),
          "healthy: the provoked sync failure was seen failing (%s)" % fail.get("seen"))
    check(byid.get("observe-repo-outage", {}).get("status") == "pass",
          "healthy: the NetworkPolicy outage was seen as a ComparisonError")
    check(byid.get("provoke-conflict", {}).get("status") == "pass",
          "healthy: the second field manager met the 409 conflict")
    check("## Not run" in texts["report.md"], "healthy: the report lists phases 6-9 as not run")
    common_asserts("healthy", texts, out, token)

    # without --allow-destructive: step 4.2 (it deletes what it made) is
    # named and nothing runs; step 4.1 alone is read-only and runs
    rc, res, texts, out, token = run_sh("suites-refused", "healthy", ["--phase", "4"])
    check(rc == 2 and res is None and "end-repo-outage" in texts["stderr"]
          and "--allow-destructive" in texts["stderr"],
          "--phase 4 without --allow-destructive: exit 2, the deletion named, nothing run "
          "(%d %s)" % (rc, texts["stderr"][-300:]))
    rc, res, texts, out, token = run_sh("suites-step-4.1", "healthy", ["--step", "4.1"])
    check(rc == 0 and res and res["verdict"] == "PARTIAL",
          "--step 4.1: exit 0, PARTIAL (got %d %s)" % (rc, res and res["verdict"]))
    if res:
        ran = [c["id"] for _, st, c in all_checks(res)
               if c["kind"] in ("action", "rollback", "collector") and c["status"] != "not_selected"]
        check(not ran, "--step 4.1: no action, rollback or collector ran (%s)" % ran)
    finish()


def run_broken(world):
    """A broken world stops exactly its phase's gate, for the right reason,
    with the remedy in the report (and the rollback, where the step has one
    that the fault reaches)."""
    gate, failing, rollback = BROKEN[world]
    rc, res, texts, out, token = run_sh("suites-" + world, world,
                                        ["--until", "5.2", "--allow-destructive"])
    if not check(res is not None, "%s: results.json written" % world):
        finish()
    check(rc == 1, "%s: exit code 1 (got %d)" % (world, rc))
    check(res["verdict"] == "NO-GO", "%s: verdict NO-GO (got %s)" % (world, res["verdict"]))
    check(res["blocking_gate"] == gate, "%s: the failing gate is %s (got %s)"
          % (world, gate, res["blocking_gate"]))
    phase = world[-1]
    early = [c["id"] for ph, _, c in all_checks(res) if ph["id"] < phase and c["gate"]
             and c["kind"] in ("check", "action") and c["status"] not in ("pass", "pending")]
    check(not early, "%s: every gate before phase %s passes (failing: %s)" % (world, phase, early))
    step = [st for _, st, _ in all_checks(res) if st["checkpoint_id"] == gate][0]
    entries = {c["id"]: c for c in step["checks"]}
    bad = [c["id"] for c in step["checks"] if c["kind"] in ("check", "action") and c["gate"]
           and c["status"] in ("fail", "error")]
    check(failing in bad, "%s: %s fails (failing: %s)" % (world, failing, bad))
    remedy = entries.get(failing, {}).get("remedy") or ""
    # the report escapes Markdown and HTML; read it back as text
    shown = html.unescape(re.sub(r"\\(.)", r"\1", texts["report.md"]))
    if entries.get(failing, {}).get("kind") == "check":
        check(remedy and ("**Remedy:** " + remedy) in shown,
              "%s: the remedy of %s is in the report (%s)" % (world, failing, remedy[:60]))
    esc = res.get("escalation") or {}
    want_level = "Level 1" if phase in "13" else "Level"
    check(esc.get("level", "").startswith(want_level) and esc.get("respond_within")
          and "**Escalate**" in texts["report.md"],
          "%s: the NO-GO names the plan's escalation level for the failed check (%s)"
          % (world, esc))
    coll = [c for c in step["checks"] if c["kind"] == "collector"]
    check(coll and all(c["status"] != "not_selected" for c in coll),
          "%s: the step's evidence was collected (%d collectors)" % (world, len(coll)))
    rb = [c for c in step["checks"] if c["kind"] == "rollback"]
    if rollback:
        check(rb and all(c["status"] == "pass" for c in rb),
              "%s: the step's rollback ran (%s)" % (world, [(c["id"], c["status"]) for c in rb]))
    later = [c for ph, st, c in all_checks(res) if ph["id"] > phase and ph["id"] in "12345"
             and c["kind"] in ("check", "action")]
    check(phase == "5" or (later and all(c["status"] == "skip" for c in later)),
          "%s: every check and action after phase %s is skipped" % (world, phase))
    common_asserts(world, texts, out, token)
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
    if mode in BROKEN:
        run_broken(mode)
    else:
        {"coverage": run_coverage, "healthy": run_healthy, "secret": run_secret}.get(
            mode, lambda: sys.exit("usage: argocd_suite.py coverage|healthy|broken-1..5|secret"))()
