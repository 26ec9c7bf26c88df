"""Judges one run of the real CLI against a data-driven case file; shared by
the case runners of the dns/prometheus tests (tests/net/dns/expect_run.py)
and of the k8s module (tests/k8s/run_case.py). Keys of a case:

  "exit": 0,                          expected exit code
  "output": ["part"],                 parts of stdout+stderr
  "report": ["part"],                 parts of the Markdown report
  "every": "pass",                    status of every selected check not listed
  "checks": {"id": "pass",            per check: a status, or
             "id2": {"status": "error", "message": ["part"],
                     "attempts": 1, "attempts_ge": 2}},
  "never": ["s3cret"]                 text in no output and no file of the run"""
import json
import os
import ssl
import urllib.request


def checks_of(results):
    for phase in results.get("phases", []):
        for step in phase.get("steps", []):
            for check in step.get("checks", []):
                yield check


def judge(case, returncode, output, out_dir):
    """Returns (problems, checks seen by id)."""
    problems = []
    if returncode != case["exit"]:
        problems.append("exit code %d, expected %d" % (returncode, case["exit"]))
    for part in case.get("output", []):
        if part not in output:
            problems.append("output lacks %r" % part)
    if case.get("report"):
        try:
            with open(os.path.join(out_dir, "report.md")) as f:
                report = f.read()
        except OSError as e:
            report = ""
            problems.append("cannot read report.md: %s" % e)
        for part in case["report"]:
            if part not in report:
                problems.append("report.md lacks %r" % part)

    seen = {}
    if case["exit"] in (0, 1) and ("checks" in case or "every" in case):
        json_path = os.path.join(out_dir, "results.json")
        try:
            with open(json_path) as f:
                results = json.load(f)
        except (OSError, ValueError) as e:
            results = {}
            problems.append("cannot read %s: %s" % (json_path, e))
        for check in checks_of(results):
            seen[check["id"]] = check
        for cid, want in case.get("checks", {}).items():
            if isinstance(want, str):
                want = {"status": want}
            got = seen.get(cid)
            if got is None:
                problems.append("check %s is not in the results" % cid)
                continue
            if got.get("status") != want["status"]:
                problems.append("check %s: status %s, expected %s (message: %s)" %
                                (cid, got.get("status"), want["status"], got.get("message")))
            if got.get("attempts", 0) < want.get("attempts_ge", 0):
                problems.append("check %s: %s attempts, expected at least %d" %
                                (cid, got.get("attempts"), want["attempts_ge"]))
            if "attempts" in want and got.get("attempts") != want["attempts"]:
                problems.append("check %s: %s attempts, expected %d" %
                                (cid, got.get("attempts"), want["attempts"]))
            for part in want.get("message", []):
                if part not in (got.get("message") or ""):
                    problems.append("check %s: message %r lacks %r" %
                                    (cid, got.get("message"), part))
        if "every" in case:
            for cid, got in seen.items():
                if got.get("status") == "not_selected":
                    continue  # outside the case's --phase/--step: reported, never run
                if cid not in case.get("checks", {}) and got.get("status") != case["every"]:
                    problems.append("check %s: status %s, expected %s (message: %s)" %
                                    (cid, got.get("status"), case["every"], got.get("message")))
            if not seen:
                problems.append("no checks in the results")

    for secret in case.get("never", []):
        if secret in output:
            problems.append("the console output shows %r" % secret)
        for root, _dirs, files in os.walk(out_dir):
            for fn in files:
                with open(os.path.join(root, fn), errors="replace") as f:
                    if secret in f.read():
                        problems.append("%s shows %r" % (fn, secret))
    return problems, seen


def report(cmd, output, problems, name, seen):
    """Prints the verdict of a case; returns the exit code for the runner."""
    if problems:
        print("$ " + " ".join(cmd))
        print(output)
        for p in problems:
            print("FAIL: " + p)
        return 1
    print("ok: %s (%d checks)" % (name, len(seen)))
    return 0


def sim_call(ca_file, port, method, path, body=None):
    """One call to a simulator's control endpoint (/_sim/...) over TLS on
    127.0.0.1:port; body is YAML or JSON text. Returns the answer's bytes."""
    ctx = ssl.create_default_context(cafile=ca_file)
    data = body.encode() if body is not None else None
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (port, path), data=data,
                                 method=method, headers={"Content-Type": "application/yaml"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.read()
