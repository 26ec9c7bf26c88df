#!/usr/bin/env python3
"""docs/ci.md's recipes are sound: each YAML example parses and keeps the
reports when the suite fails and publishes out/junit.xml; the documented
command line runs (on a suite whose gate fails) and writes what the recipes
publish; and that JUnit report meets GitLab's rules (a unique classname+name
per test case, a message attribute on every failure, error and skipped)."""
import os
import re
import shlex
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

import yaml

SRC = os.environ["PG_SOURCE_DIR"]
BIN = os.environ["PG_BINARY"]


def blocks(text, lang):
    return re.findall(r"```%s\n(.*?)```" % lang, text, re.S)


def main():
    text = open(os.path.join(SRC, "docs", "ci.md"), encoding="utf-8").read()
    docs = [yaml.safe_load(b) for b in blocks(text, "yaml")]
    gh = next(d for d in docs if "jobs" in d)
    gl = next(d for d in docs if "go-live" in d)
    steps = gh["jobs"]["verify"]["steps"]
    kept = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert kept and kept[0].get("if") == "${{ !cancelled() }}", "GitHub: reports not kept on failure"
    assert kept[0]["with"]["path"] == "out/"
    junit = [s for s in steps if "junit" in s.get("uses", "")]
    assert junit and junit[0]["with"]["report_paths"] == "out/junit.xml" and junit[0].get("if")
    job = gl["go-live"]
    assert job["artifacts"]["when"] == "always", "GitLab: artifacts not kept on failure"
    assert job["artifacts"]["reports"]["junit"] == "out/junit.xml"
    for d in (gh, gl):
        assert "--out out" in str(d) and "--require go" in str(d)

    # the documented command, on a suite whose second gate fails
    cmd = shlex.split(blocks(text, "sh")[0].replace("\\\n", " "))
    assert cmd[:2] == ["phasegate", "run"], cmd
    args = [a for a in cmd[3:]]
    i = args.index("--env-file")
    del args[i:i + 2]
    with tempfile.TemporaryDirectory() as tmp:
        p = subprocess.run([BIN, "run", os.path.join(SRC, "tests", "cli", "suite.yaml")] + args,
                           cwd=tmp, capture_output=True, text=True)
        assert p.returncode == 1, "want exit 1 (NO-GO; --require go adds 4 only to PENDING and PARTIAL), got %d: %s" % (p.returncode, p.stderr)
        for f in ("junit.xml", "report.md", "results.json", "report.html"):
            assert os.path.getsize(os.path.join(tmp, "out", f)) > 0, f
        root = ET.parse(os.path.join(tmp, "out", "junit.xml")).getroot()
        seen = set()
        cases = root.iter("testcase")
        n = 0
        for tc in cases:
            n += 1
            key = (tc.get("classname"), tc.get("name"))
            assert all(key), "a test case without classname or name: %s" % (key,)
            assert key not in seen, "classname+name not unique: %s" % (key,)
            seen.add(key)
            for tag in ("failure", "error", "skipped"):
                for el in tc.findall(tag):
                    assert el.get("message"), "<%s> without message in %s" % (tag, key)
        assert n == 2 and root.find(".//failure") is not None, "want 2 cases and a failure"
    print("ok: the CI recipes parse, their command runs, the JUnit meets GitLab's rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
