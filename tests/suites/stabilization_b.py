#!/usr/bin/env python3
"""Tests of phases 6-9 of suites/argocd-stabilization (backup and restore,
domain routing, production readiness, go-live checklists).

    stabilization_b.py dr-finalizer   step 8.2 refuses to delete the namespace
                                      while an Application holds Argo CD's
                                      resources finalizer: NO-GO at the guard,
                                      the deletion never ran, the namespace and
                                      every Application are still there, the
                                      rollback ran
    stabilization_b.py restore        a restore reproduces every exported
                                      object: each object the simulator holds
                                      after phase 6's isolated restore equals
                                      the backup's file (read here, not by
                                      phasegate); a backup changed after the
                                      export is refused before anything is sent
    stabilization_b.py alerting       step 9.3 through simulator/run.sh: with the
                                      webhook receiver refusing, "Alert
                                      notifications working" fails (the
                                      Watchdog reached Alertmanager and its
                                      receiver, but nothing was delivered);
                                      with a wrong Grafana token, the
                                      dashboards check fails with Grafana's
                                      401 and neither token is in any output;
                                      with both right, both pass and the
                                      receiver recorded the Watchdog
    stabilization_b.py routing-conflict
                                      step 7.2 on argocd-routing-conflict
                                      (web-frontend owned by another field
                                      manager with another targetPort,
                                      api-backend missing): the server-side
                                      apply without force fails on the
                                      conflict with its remedy, web-frontend
                                      keeps its value, and the rollback
                                      deletes only api-backend (7.2 made it)
    stabilization_b.py broken 8-load  steps 3.1 and 8.1 on argocd-broken-8-load (a slow
                                      application controller): NO-GO at 8.1's gate
                                      with only the reconciliation p99 failing,
                                      the load's figures and the window's p99
                                      in the go-live report
    stabilization_b.py broken N       the suite from phase N on (9: from 6), on the
                                      world fixtures/worlds/argocd-broken-N
                                      (argocd-healthy and one fault): NO-GO at
                                      phase N's gate, for the reason the overlay
                                      plants, with the failing check's remedy in
                                      the go-live report

The broken worlds run through simulator/run.sh (argocd_suite.run_sh, on
the test's own ports from PG_SUITE_PORT); dr-finalizer and restore start their
own kubesim (ports 16525, 16526) and run phasegate on it directly: step 8.2
and phase 6 need only the Kubernetes API. The helpers come from
argocd_suite.py (same directory).

Environment: PG_BINARY, PG_SOURCE_DIR, PG_SHARED_DIR, PG_BUILD_DIR, PG_PYTHON3."""
import base64
import html
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import argocd_suite as A  # noqa: E402  (shared runner of this suite's tests)

import yaml  # noqa: E402  (Debian's python3-yaml, as kubesim)

# broken world -> (the selection, the blocking gate, the failing entry, its
# words in the message, or one of several); phase 9 runs its last checklists (9.3 on): the
# earlier ones read what phases 1-8 configured
BROKEN = {
    "6": (["--from", "6.1"], "checkpoint-6.1", "backup-components", "Secret/argocd-secret"),
    "7": (["--from", "7.1"], "checkpoint-7.1", "tunnel-running",
          ("replicas are available", "exceeded its progress deadline")),
    # (8.1 reads Argo CD's metrics in Prometheus: phase 3.1 makes them scraped)
    "8": (["--step", "3.1,8.1,8.2"], "checkpoint-8.2", "dr-no-cascade",
          "cloudtolocalllm-api-backend"),
    # a slow controller: the load exposes it in the reconciliation p99
    "8-load": (["--step", "3.1,8.1"], "checkpoint-8.1", "no-perf-degradation",
               "expected value <= 2"),
    "9": (["--from", "9.3"], "checklist-post-deployment", "post-backups",
          "lastSuccessfulTime"),
}
WORLD = "argocd-stabilization"  # the suite's healthy world


class Sim:
    """One kubesim instance of this file, started as simulator/run.sh starts
    it (no state file: the controller loop's churn would rewrite it after
    every change)."""

    def __init__(self, name, world, port):
        self.name, self.world, self.port = name, world, port
        self.dir = os.path.join(A.BUILD, "tests", "sim", name)
        self.work = os.path.join(A.BUILD, "tests", "suites", name)
        self.proc = None

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        log = open(os.path.join(self.dir, "sim.log"), "w")
        self.proc = subprocess.Popen(
            [A.PY, os.path.join(A.SRC, "fixtures", "kubesim", "kubesim.py"), "--world",
             os.path.join(A.SRC, "fixtures", "worlds", self.world), "--port", str(self.port),
             "--tls-dir", os.path.join(self.dir, "tls"), "--pki-out",
             os.path.join(self.dir, "pki")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(self.dir, "pki", "port")):
            if self.proc.poll() is not None or time.time() > deadline:
                print(open(os.path.join(self.dir, "sim.log")).read())
                raise SystemExit("the simulator did not start")
            time.sleep(0.1)
        return os.path.join(self.dir, "pki", "kubeconfig")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def state(self):
        """Every object the simulator holds (its control API)."""
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "tls", "ca.crt"))
        with urllib.request.urlopen("https://127.0.0.1:%d/_sim/state" % self.port,
                                    context=ctx, timeout=30) as r:
            return json.load(r)["objects"]

    def run(self, label, kubeconfig, extra):
        """phasegate run of the suite on this simulator."""
        out = os.path.join(self.work, label)
        backup = os.path.join(self.work, label + "-backup")
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(backup, ignore_errors=True)
        env = A.base_env()
        env["KUBECONFIG"] = kubeconfig
        r = subprocess.run([A.BIN, "run", A.SUITE, "--env-file", A.ENV_FILE, "--var",
                            "backup_dir=" + backup, "--out", out] + extra, env=env,
                           capture_output=True, text=True, timeout=600)
        print(r.stdout[-1500:])
        with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
            res = json.load(f)
        texts = {"stdout": r.stdout, "stderr": r.stderr}
        for name in ("results.json", "junit.xml", "report.md"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                texts[name] = f.read()
        return r.returncode, res, texts, out


def entries(res):
    return {c["id"]: c for _, _, c in A.all_checks(res)}


# ---- disaster recovery refuses while an Application holds the finalizer ----

def run_dr_finalizer():
    sim = Sim("stab-dr-finalizer", "argocd-broken-8", 16525)
    try:
        kcfg = sim.start()
        rc, res, texts, out = sim.run("dr", kcfg, ["--step", "8.2", "--allow-destructive"])
        state = sim.state()
    finally:
        sim.stop()
    e = entries(res)
    A.check(rc == 1 and res["verdict"] == "NO-GO",
            "dr: exit 1, NO-GO (%d %s)" % (rc, res["verdict"]))
    A.check(res["blocking_gate"] == "checkpoint-8.2", "dr: blocked at checkpoint-8.2 (%s)"
            % res["blocking_gate"])
    guard = e.get("dr-no-cascade", {})
    A.check(guard.get("status") == "fail" and "cloudtolocalllm-api-backend" in
            json.dumps(guard), "dr: the guard fails and names the Application (%s)" %
            guard.get("message"))
    for aid in ("dr-delete-namespace", "dr-restore"):
        A.check(e.get(aid, {}).get("status") == "skip",
                "dr: %s did not run (%s)" % (aid, e.get(aid, {}).get("status")))
    ns = [o for o in state if o["kind"] == "Namespace" and o["metadata"]["name"] == "argocd"]
    A.check(ns and not ns[0]["metadata"].get("deletionTimestamp"),
            "dr: the argocd namespace was never deleted")
    apps = [o for o in state if o["kind"] == "Application"]
    A.check(len(apps) >= 8, "dr: every Application is still there (%d)" % len(apps))
    rb = e.get("dr-rollback-restore", {})
    A.check(rb.get("kind") == "rollback" and rb.get("status") == "pass",
            "dr: the rollback ran and put back nothing that was there (%s %s)" %
            (rb.get("status"), rb.get("message") or rb.get("seen")))
    A.check("kubectl patch application" in html.unescape(texts["report.md"]),
            "dr: the guard's remedy is in the go-live report")
    A.common_asserts("dr", texts, out)

    # and the destructive step itself is refused without --allow-destructive
    env = A.base_env()
    r = subprocess.run([A.BIN, "run", A.SUITE, "--env-file", A.ENV_FILE, "--step", "8.2",
                        "--out", os.path.join(sim.work, "refused")], env=env,
                       capture_output=True, text=True, timeout=120)
    A.check(r.returncode == 2 and "dr-delete-namespace" in r.stderr,
            "dr: --step 8.2 without --allow-destructive is exit 2 (%d)" % r.returncode)
    A.finish()


# ---- a restore reproduces every exported object ---------------------------

def strip(o):
    o = json.loads(json.dumps(o))
    m = o.get("metadata", {})
    for k in ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
              "selfLink", "namespace", "finalizers"):
        m.pop(k, None)
    ann = m.get("annotations") or {}
    ann.pop("deployment.kubernetes.io/revision", None)
    ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    if not ann:
        m.pop("annotations", None)
    o.pop("status", None)
    if o.get("kind") == "Service":
        for k in ("clusterIP", "clusterIPs", "healthCheckNodePort"):
            o.get("spec", {}).pop(k, None)
        for p in o.get("spec", {}).get("ports", []):
            p.pop("nodePort", None)
    if o.get("kind") in ("Deployment", "StatefulSet"):
        o.get("spec", {}).pop("replicas", None)
    return o


def run_restore():
    sim = Sim("stab-restore", WORLD, 16526)
    try:
        kcfg = sim.start()
        rc, res, texts, out = sim.run("restore", kcfg, ["--phase", "6"])
        backup = os.path.join(sim.work, "restore-backup", "go-live")
        state = sim.state()

        # phasegate's verdict
        A.check(rc == 0 and res["verdict"] == "PARTIAL",
                "restore: phase 6 alone passes, PARTIAL (%d %s)" % (rc, res["verdict"]))
        e = entries(res)
        A.check(e.get("restore-no-data-loss", {}).get("status") == "pass",
                "restore: 'No data loss' passes")

        # read here: every file of the manifest against the simulator's object
        man = json.load(open(os.path.join(backup, "manifest.json")))
        live = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
                for o in state}
        kinds = {x["kind"] for x in man["objects"]}
        A.check({"ConfigMap", "Secret", "ServiceAccount", "Service", "Deployment", "StatefulSet",
                 "Role", "RoleBinding", "Application", "AppProject", "NetworkPolicy"} <= kinds,
                "restore: the discovered backup holds every kind of the namespace (%s)"
                % sorted(kinds))
        A.check(not any(k in kinds for k in ("Pod", "ReplicaSet", "Event", "Endpoints")),
                "restore: nothing the cluster derives is in the backup")
        bad = []
        for x in man["objects"]:
            if not x["namespace"]:
                continue
            saved = yaml.safe_load(open(os.path.join(backup, x["file"])))
            got = live.get((x["kind"], "argocd-restore-test", x["name"]))
            if got is None or strip(got) != strip(saved):
                bad.append(x["file"])
        A.check(man["count"] >= 40 and not bad,
                "restore: all %d namespaced objects of the backup are reproduced in the "
                "isolated namespace %s" % (man["count"], bad[:5]))
        # Secrets kept their data (the restore sends what was exported)
        sec = live.get(("Secret", "argocd-restore-test", "argocd-secret"), {})
        A.check(base64.b64decode(sec.get("data", {}).get("server.secretkey", "")) != b"",
                "restore: argocd-secret's server key is restored")
        modes = {os.path.relpath(os.path.join(r, f), backup): os.stat(os.path.join(r, f)).st_mode & 0o777
                 for r, _, fs in os.walk(backup) for f in fs}
        A.check(all(m == 0o600 for p, m in modes.items() if "/secret/" in p),
                "restore: Secrets are written 0600")
        A.check(all(os.stat(r).st_mode & 0o777 == 0o700 for r, _, _ in os.walk(backup)),
                "restore: the backup's directories are 0700")

        # a backup changed after the export is refused before anything is sent
        victim = [x for x in man["objects"] if x["kind"] == "ConfigMap"][0]
        with open(os.path.join(backup, victim["file"]), "a") as f:
            f.write("# changed\n")
        suite = os.path.join(sim.work, "tampered.yaml")
        with open(suite, "w") as f:
            f.write("name: tampered\nphases:\n- id: '1'\n  steps:\n  - id: '1.1'\n"
                    "    actions:\n    - id: restore\n      k8s: {restore: %s, "
                    "target_namespace: tampered-copy}\n" % json.dumps(backup))
        env = A.base_env()
        env["KUBECONFIG"] = kcfg
        r = subprocess.run([A.BIN, "run", suite, "--out", os.path.join(sim.work, "tampered")],
                           env=env, capture_output=True, text=True, timeout=120)
        after = sim.state()
    finally:
        sim.stop()
    A.check(r.returncode == 1 and "changed after the export" in r.stdout,
            "restore: a changed backup is refused (%d %s)" % (r.returncode, r.stdout[-300:]))
    A.check(not [o for o in after if o["metadata"].get("namespace") == "tampered-copy" or
                 (o["kind"] == "Namespace" and o["metadata"]["name"] == "tampered-copy")],
            "restore: nothing was applied from the changed backup")
    A.common_asserts("restore", texts, out)
    A.finish()


# ---- alert delivery and Grafana's token ----------------------------------------

def received(label):
    """The receiver's record of one run.sh run: [{status, alerts, ...}]."""
    path = os.path.join(A.BUILD, "tests", "suites", label, "sim", "alert-receiver.jsonl")
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(x) for x in f if x.strip()]
    except OSError:
        return []


def run_alerting():
    sel = ["--step", "9.3"]
    wrong = "glsa_wrong-token-3f9d2c81e7"
    runs = [("stab-alert-refused", {"SIM_ALERT_RECEIVER": "refuse"}),
            ("stab-grafana-wrong-token", {"GRAFANA_TOKEN": wrong}),
            ("stab-alert-delivered", {})]
    for label, extra in runs:
        rc, res, texts, out, token = A.run_sh(label, "healthy", sel, extra)
        if not A.check(res is not None, "%s: results.json written" % label):
            continue
        e = entries(res)
        status = {k: e.get(k, {}).get("status") for k in
                  ("post-alert-notifications", "post-alert-routed", "post-dashboards",
                   "post-grafana-healthy")}
        bad = sorted(k for k, c in e.items() if c.get("kind") == "check"
                     and c.get("status") in ("fail", "error"))
        rec = received(label)
        watchdog = [r for r in rec if "Watchdog" in (r.get("alerts") or [])]
        if label == "stab-alert-refused":
            A.check(rc == 1 and res["verdict"] == "NO-GO" and bad == ["post-alert-notifications"],
                    "%s: NO-GO, only post-alert-notifications fails (%d %s %s)"
                    % (label, rc, res["verdict"], bad))
            msg = e.get("post-alert-notifications", {}).get("message") or ""
            A.check("accepted notifications" in msg or "failed" in msg,
                    "%s: the failure says no notification was delivered (%s)" % (label, msg[:300]))
            A.check(status["post-alert-routed"] == "pass",
                    "%s: the Watchdog still reached Alertmanager and its route" % label)
            A.check(watchdog and all(r["status"] == 503 for r in watchdog),
                    "%s: Alertmanager tried the receiver, which refused (%d attempts)"
                    % (label, len(watchdog)))
        elif label == "stab-grafana-wrong-token":
            A.check(rc == 1 and res["verdict"] == "NO-GO" and bad == ["post-dashboards"],
                    "%s: NO-GO, only post-dashboards fails (%d %s %s)"
                    % (label, rc, res["verdict"], bad))
            f = e.get("post-dashboards", {})
            said = (f.get("message") or "") + " " + str(f.get("seen") or "")
            A.check("401" in said and "GRAFANA_TOKEN" in said,
                    "%s: the failure names Grafana's 401 and the token variable (%s)"
                    % (label, said[:300]))
            for name, text in texts.items():
                A.check(wrong not in text, "%s: the wrong token is not in %s" % (label, name))
        else:
            A.check(rc == 0 and not bad, "%s: step 9.3 passes (%d %s)" % (label, rc, bad))
            A.check(all(v == "pass" for v in status.values()),
                    "%s: notifications, routing and Grafana pass (%s)" % (label, status))
            A.check(any(r["status"] == 200 and r.get("receiver") == "phasegate-webhook"
                        for r in watchdog),
                    "%s: the receiver got the Watchdog from Alertmanager (%d records)"
                    % (label, len(watchdog)))
        A.common_asserts(label, texts, out, token)
    A.finish()


# ---- 7.2 without force ---------------------------------------------------------

def run_routing_conflict():
    label = "stab-routing-conflict"
    rc, res, texts, out, token = A.run_sh(label, "routing-conflict",
                                          ["--step", "7.2", "--allow-destructive"])
    if not A.check(res is not None, "%s: results.json written" % label):
        A.finish()
    A.check(rc == 1 and res["verdict"] == "NO-GO" and res["blocking_gate"] == "checkpoint-7.2",
            "%s: NO-GO at checkpoint-7.2 (%d %s %s)"
            % (label, rc, res["verdict"], res["blocking_gate"]))
    e = entries(res)
    fix = e.get("fix-services", {})
    msg = fix.get("message") or ""
    A.check(fix.get("status") in ("fail", "error") and "conflict" in msg
            and "kubectl-client-side-apply" in msg and "web-frontend" in msg,
            "%s: fix-services fails on the conflict, naming the object and its manager (%s)"
            % (label, msg[:300]))
    shown = html.unescape(re.sub(r"\\(.)", r"\1", texts["report.md"]))
    A.check("--force-conflicts" in (fix.get("remedy") or "") and fix["remedy"] in shown,
            "%s: the remedy (change the owner's source, or force deliberately) is in the report"
            % label)
    later = [k for k in ("fix-tunnel-config", "fix-network-policies", "restart-tunnel")
             if e.get(k, {}).get("status") != "skip"]
    A.check(not later, "%s: nothing after the failed apply ran (%s)" % (label, later))
    after = e.get("routing-services-after", {})
    svcs = {}
    for ev in after.get("evidence") or []:
        try:
            for item in json.loads(ev.get("text") or "{}").get("items", []):
                svcs[item["metadata"]["name"]] = item
        except ValueError:
            pass
    ports = [p.get("targetPort") for p in
             (svcs.get("web-frontend", {}).get("spec") or {}).get("ports", [])]
    A.check(ports == [8081], "%s: web-frontend keeps the other manager's targetPort 8081 (%s)"
            % (label, ports))
    A.check("api-backend" in svcs, "%s: api-backend was created by the apply" % label)
    rb = {k: e.get(k, {}) for k in ("services-created-remove", "app-service-created-remove",
                                    "policy-created-remove", "tunnel-config-restore")}
    # web-frontend existed before 7.2: its deletion is not needed (when: false)
    want = {"services-created-remove": "pass", "app-service-created-remove": "not_needed",
            "policy-created-remove": "pass", "tunnel-config-restore": "pass"}
    A.check(all(c.get("kind") == "rollback" for c in rb.values()) and
            {k: c.get("status") for k, c in rb.items()} == want,
            "%s: the rollback ran where needed (%s)"
            % (label, {k: c.get("status") for k, c in rb.items()}))
    A.check("api-backend" in (rb["services-created-remove"].get("seen") or "")
            and "deleted" in (rb["services-created-remove"].get("seen") or ""),
            "%s: the rollback deleted api-backend, which 7.2 created (%s)"
            % (label, rb["services-created-remove"].get("seen")))
    A.check(rb["app-service-created-remove"].get("message") ==
            "not needed: when '${app_service_created}' is false"
            and not rb["app-service-created-remove"].get("started_at"),
            "%s: the rollback left web-frontend alone, and says why (%s)"
            % (label, rb["app-service-created-remove"].get("message")))
    A.check("rollback: Delete the Service web-frontend if 7.2 created it — not needed: when"
            in shown and "service/none" not in shown and "service/none" not in texts["stdout"],
            "%s: the go-live report says the deletion was not needed; no 'none' anywhere"
            % label)
    A.check("ROLLBACK FAILED" not in texts["stdout"], "%s: no rollback failed" % label)
    A.common_asserts(label, texts, out, token)
    A.finish()


# ---- broken worlds -----------------------------------------------------------

def run_broken(n):
    sel, gate, failing, words = BROKEN[n]
    rc, res, texts, out, token = A.run_sh("stab-broken-%s" % n, "broken-%s" % n,
                                          sel + ["--allow-destructive"])
    if not A.check(res is not None, "broken-%s: results.json written" % n):
        A.finish()
    A.check(rc == 1 and res["verdict"] == "NO-GO",
            "broken-%s: exit 1, NO-GO (%d %s)" % (n, rc, res["verdict"]))
    A.check(res["blocking_gate"] == gate,
            "broken-%s: blocked at %s (%s)" % (n, gate, res["blocking_gate"]))
    e = entries(res)
    bad = [c["id"] for _, st, c in A.all_checks(res)
           if st["checkpoint_id"] == gate and c["kind"] in ("check", "action")
           and c["status"] in ("fail", "error")]
    A.check(bad == [failing], "broken-%s: exactly %s fails (%s)" % (n, failing, bad))
    f = e.get(failing, {})
    said = json.dumps(f)
    A.check(any(w in said for w in ((words,) if isinstance(words, str) else words)),
            "broken-%s: %s says why (%s)" %
            (n, failing, (f.get("message") or "")[:300]))
    shown = html.unescape(re.sub(r"\\(.)", r"\1", texts["report.md"]))
    A.check(f.get("remedy") and f["remedy"] in shown,
            "broken-%s: its remedy is in the go-live report" % n)
    if n == "8":  # the DR step's rollback ran after its gate failed
        rb = e.get("dr-rollback-restore", {})
        A.check(rb.get("kind") == "rollback" and rb.get("status") == "pass",
                "broken-8: the rollback dr-rollback-restore ran (%s)" % rb.get("status"))
    if n == "8-load":  # the load ran concurrently, and the report shows its figures
        load = e.get("load-refresh", {})
        A.check(load.get("status") == "pass" and "up to 32 at once (32 seen)" in
                (load.get("seen") or ""), "broken-8-load: the load ran 32 calls at once (%s)"
                % load.get("seen"))
        A.check("hard refreshes of 7 applications" in shown,
                "broken-8-load: the load's figures are in the go-live report")
        for cid in ("concurrent-load", "queue-depth", "queue-drained", "resource-usage",
                    "resource-usage-cpu", "resource-scaling"):
            A.check(e.get(cid, {}).get("status") == "pass",
                    "broken-8-load: %s passes (%s)" % (cid, e.get(cid, {}).get("status")))
    before = [ph["id"] for ph in res["phases"] if ph["id"] < n[0] and ph["status"] not in
              ("pass", "not_selected")]
    A.check(not before, "broken-%s: the phases before %s pass (%s)" % (n, n, before))
    A.common_asserts("broken-%s" % n, texts, out, token)
    A.finish()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "broken" and len(sys.argv) > 2 and sys.argv[2] in BROKEN:
        run_broken(sys.argv[2])
    elif mode in ("dr-finalizer", "restore", "alerting", "routing-conflict"):
        {"dr-finalizer": run_dr_finalizer, "restore": run_restore,
         "alerting": run_alerting, "routing-conflict": run_routing_conflict}[mode]()
    else:
        sys.exit("usage: stabilization_b.py dr-finalizer|restore|alerting|routing-conflict"
                 "|broken 6|7|8|8-load|9")
