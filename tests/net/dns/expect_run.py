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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
import casecheck  # noqa: E402


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
    problems, seen = casecheck.judge(case, proc.returncode, output, out)
    return casecheck.report(cmd, output, problems, name, seen)

if __name__ == "__main__":
    sys.exit(main())
