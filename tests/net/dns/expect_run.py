"""Runs one data-driven case of the dns and prometheus tests: the real CLI on
a suite, then the exit code, each check's status and message, and the
absence of secrets are compared with a case file (JSON):

  {"suite": "records.yaml",          suite path, relative to the case file
   "args": ["--var", "x=1"],         extra arguments (optional)
   "env": {"NAME": "value"},         extra environment (optional)
   "exit": 0,                        expected exit code
   "every": "pass",                  status of every check not listed (optional)
   "checks": {"id": "pass",          per check: a status, or
              "id2": {"status": "error", "message": ["part", ...]}},
   "output": ["part", ...],          parts of stdout+stderr (optional)
   "report": ["part", ...],          parts of the Markdown report (optional)
   "never": ["s3cret"]}              text that must appear in no output or report

Usage: expect_run.py CASE.json [extra phasegate arguments...]
Needs PG_BINARY and PG_BUILD_DIR (set by tests/CMakeLists.txt)."""
import json
import os
import subprocess
import sys


def checks_of(results):
    for phase in results.get("phases", []):
        for step in phase.get("steps", []):
            for check in step.get("checks", []):
                yield check


def main():
    case_path = sys.argv[1]
    with open(case_path) as f:
        case = json.load(f)
    here = os.path.dirname(os.path.abspath(case_path))
    name = os.path.splitext(os.path.basename(case_path))[0]
    out = os.path.join(os.environ["PG_BUILD_DIR"], "net-results", os.path.basename(here) + "-" + name)
    os.makedirs(out, exist_ok=True)
    json_path = os.path.join(out, "results.json")
    if os.path.exists(json_path):
        os.remove(json_path)
    cmd = [os.environ["PG_BINARY"], "run", os.path.join(here, case["suite"]), "--out", out]
    cmd += case.get("args", []) + sys.argv[2:]
    env = dict(os.environ)
    env.update(case.get("env", {}))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    output = proc.stdout + proc.stderr
    problems = []
    if proc.returncode != case["exit"]:
        problems.append("exit code %d, expected %d" % (proc.returncode, case["exit"]))
    for part in case.get("output", []):
        if part not in output:
            problems.append("output lacks %r" % part)

    if case.get("report"):
        try:
            with open(os.path.join(out, "report.md")) as f:
                report = f.read()
        except OSError as e:
            report = ""
            problems.append("cannot read report.md: %s" % e)
        for part in case["report"]:
            if part not in report:
                problems.append("report.md lacks %r" % part)

    seen = {}
    if case["exit"] in (0, 1):
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
            for part in want.get("message", []):
                if part not in (got.get("message") or ""):
                    problems.append("check %s: message %r lacks %r" % (cid, got.get("message"), part))
        if "every" in case:
            for cid, got in seen.items():
                if cid not in case.get("checks", {}) and got.get("status") != case["every"]:
                    problems.append("check %s: status %s, expected %s (message: %s)" %
                                    (cid, got.get("status"), case["every"], got.get("message")))
            if not seen:
                problems.append("no checks in the results")

    for secret in case.get("never", []):
        if secret in output:
            problems.append("the console output shows %r" % secret)
        for root, _dirs, files in os.walk(out):
            for fn in files:
                with open(os.path.join(root, fn), errors="replace") as f:
                    if secret in f.read():
                        problems.append("%s shows %r" % (fn, secret))

    if problems:
        print("$ " + " ".join(cmd))
        print(output)
        for p in problems:
            print("FAIL: " + p)
        return 1
    print("ok: %s (%d checks)" % (name, len(seen)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
