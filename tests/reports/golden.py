#!/usr/bin/env python3
"""golden.py - the report writers produce byte-identical reports on the
recorded cases.

Two kinds of case, both rendered with all four writers (JUnit, Markdown,
JSON, HTML):
  * the test models (tests/reports/model.c and a large one), written by the
    golden_render program straight from the in-memory model;
  * demo runs (suites/examples/basic, passing and failing): their recorded
    results JSON (run-specific fields already normalised when recorded) is
    rendered again with `phasegate report`.
Every output is compared byte for byte with tests/reports/golden/. With
--record the outputs replace the recorded ones instead (only when a writer's
output is meant to change).

Environment: PG_BINARY, PG_GOLDEN_RENDER, PG_SOURCE_DIR."""
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("PG_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(SRC, "tests", "reports", "golden")
OUTPUTS = ("junit.xml", "report.md", "results.json", "report.html")


def render_demos(work):
    """Renders every recorded demo results file with phasegate report."""
    for name in sorted(os.listdir(os.path.join(GOLDEN, "demo"))):
        if not name.endswith(".input.json"):
            continue
        case = name[: -len(".input.json")]
        out = os.path.join(work, "demo-" + case)
        os.mkdir(out)
        cmd = [os.environ["PG_BINARY"], "report", os.path.join(GOLDEN, "demo", name),
               "--out", out, "--html", os.path.join(out, "report.html")]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            sys.exit("FAIL: %s exited %d: %s" % (" ".join(cmd), proc.returncode, proc.stderr))
        for o in OUTPUTS:
            os.rename(os.path.join(out, o), os.path.join(work, "demo-%s.%s" % (case, o)))
        os.rmdir(out)


def main():
    record = "--record" in sys.argv[1:]
    work = tempfile.mkdtemp(prefix="pg-golden-")
    try:
        proc = subprocess.run([os.environ["PG_GOLDEN_RENDER"], work], capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            sys.exit("FAIL: golden_render exited %d: %s" % (proc.returncode, proc.stderr))
        render_demos(work)
        produced = sorted(os.listdir(work))
        expected_dir = os.path.join(GOLDEN, "out")
        if record:
            os.makedirs(expected_dir, exist_ok=True)
            for f in produced:
                shutil.copyfile(os.path.join(work, f), os.path.join(expected_dir, f))
            print("recorded %d reports in %s" % (len(produced), expected_dir))
            return
        expected = sorted(os.listdir(expected_dir))
        if produced != expected:
            sys.exit("FAIL: reports produced %s, recorded %s" % (produced, expected))
        failed = []
        for f in produced:
            with open(os.path.join(work, f), "rb") as a, open(os.path.join(expected_dir, f), "rb") as b:
                got, want = a.read(), b.read()
            if got != want:
                failed.append(f)
                diff = difflib.unified_diff(
                    want.decode("utf-8", "replace").splitlines(),
                    got.decode("utf-8", "replace").splitlines(),
                    "recorded/" + f, "now/" + f, lineterm="", n=2)
                print("\n".join(list(diff)[:40]))
        if failed:
            sys.exit("FAIL: %d of %d reports differ from the recorded ones: %s"
                     % (len(failed), len(produced), ", ".join(failed)))
        print("ok: %d reports byte-identical to the recorded ones" % len(produced))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
