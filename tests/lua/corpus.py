#!/usr/bin/env python3
"""Argo CD's own Lua health test cases (PG_SHARED_DIR/reference/argocd/
resource_customizations/<group>/<Kind>/health_test.yaml, read in place) run
through `phasegate health --customizations DIR`: every case must get the
status and the message Argo CD's tests expect."""
import json
import os
import subprocess
import sys

import yaml

binary = os.environ["PG_BINARY"]
root = os.path.join(os.environ["PG_SHARED_DIR"], "reference", "argocd", "resource_customizations")
if not os.path.isdir(root):
    print(f"no Argo CD resource_customizations at {root}", file=sys.stderr)
    sys.exit(1)

# Every case of every kind, in one run of the command.
suites = []  # (kind directory, its tests)
for dirpath, dirnames, filenames in sorted(os.walk(root)):
    dirnames.sort()
    if "health_test.yaml" not in filenames:
        continue
    with open(os.path.join(dirpath, "health_test.yaml")) as f:
        tests = (yaml.safe_load(f) or {}).get("tests") or []
    if tests:
        suites.append((dirpath, tests))
inputs = [os.path.join(d, t["inputPath"]) for d, tests in suites for t in tests]
p = subprocess.run([binary, "health", "--customizations", root] + inputs,
                   capture_output=True, text=True, timeout=600)
lines = p.stdout.splitlines()
if p.returncode != 0 or len(lines) != len(inputs):
    print(f"exit {p.returncode}, {len(lines)} verdicts for {len(inputs)} objects (each test "
          f"file holds one): {p.stderr.strip()[:2000]}")
    print(f"0 passed, {len(inputs)} failed")
    sys.exit(1)

kinds, cases, agreed = len(suites), len(inputs), 0
failures = []
verdicts = iter(lines)
for dirpath, tests in suites:
    rel = os.path.relpath(dirpath, root)
    for t in tests:
        want = t.get("healthStatus") or {}
        got = json.loads(next(verdicts))
        ws, wm = want.get("status", ""), want.get("message", "") or ""
        if got["status"] == ws and got["message"] == wm:
            agreed += 1
        else:
            failures.append(f"{rel}/{t['inputPath']}: want {ws!r} {wm!r}, "
                            f"got {got['status']!r} {got['message']!r}")

for f in failures:
    print("DISAGREE", f)
print(f"{agreed} of {cases} cases across {kinds} kinds agree with Argo CD "
      f"(status and message)")
print(f"{agreed} passed, {cases - agreed} failed")
sys.exit(0 if cases > 0 and agreed == cases else 1)
