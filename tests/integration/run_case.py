#!/usr/bin/env python3
"""Runs one data-driven integration case: the real phasegate CLI on a suite,
then checks exit code, verdict, per-check statuses and report contents.

A case is a directory holding case.json:
  {
    "args": ["run", "{case}/suite", "--out", "{out}"],   # {case}, {out}, {tmp} expand
    "env": {"NAME": "value"},                              # added to the environment
    "setup": [["sh", "-c", "..."]],                        # argv lists run before
    "signal": {"after_s": 1.0, "signo": 15},               # optional: signal the run
                                                           # ("when_file": "{tmp}/x": once x exists, then after_s)
    "tty": true, "color": true,                            # run on a pseudo-terminal (NO_COLOR unset)
    "exit_code": 1,
    "verdict": "NO-GO",
    "statuses": {"check-id": "fail"},                      # from results.json
    "messages": {"check-id": "substring of its message"},
    "attempts": {"check-id": 3},
    "contains": {"stdout": ["..."], "report.md": ["..."], "junit.xml": ["..."], "results.json": ["..."], "stderr": ["..."]},
    "absent":   {"stdout": ["secret"], ...},               # must not appear anywhere named ("*": all)
    "absent_outside_code": {"report.md": ["<b>"]},         # must not appear outside fenced code
    "junit_counts": {"tests": 9, "failures": 1, "errors": 0, "skipped": 5},
    "files_absent": ["{tmp}/marker"],                      # must not exist afterwards
    "rerender": true                                       # phasegate report gives the same JUnit
  }
Every JUnit file produced is validated with xmllint against the Jenkins xUnit
schema and read back with junitparser (an independent reader)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ["PG_BINARY"]
SHARED = os.environ.get("PG_SHARED_DIR", "")
XSD = os.path.join(SHARED, "reference", "junit-10.xsd")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def expand(s, ctx):
    for k, v in ctx.items():
        s = s.replace("{" + k + "}", v)
    return s


def junit_check(path, want):
    r = subprocess.run(["xmllint", "--noout", "--schema", XSD, path],
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("JUnit %s does not validate against junit-10.xsd:\n%s" % (path, r.stderr))
    from junitparser import JUnitXml, Failure, Error, Skipped
    xml = JUnitXml.fromfile(path)
    tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    names = set()
    for suite in xml:
        for case in suite:
            tot["tests"] += 1
            key = (case.classname, case.name)
            if key in names:
                fail("duplicate testcase classname+name %r" % (key,))
            names.add(key)
            for res in case.result:
                if isinstance(res, Failure):
                    tot["failures"] += 1
                elif isinstance(res, Error):
                    tot["errors"] += 1
                elif isinstance(res, Skipped):
                    tot["skipped"] += 1
                if not res.message:
                    fail("testcase %r has a result with an empty message" % (key,))
    for k, v in (want or {}).items():
        if tot[k] != v:
            fail("JUnit %s: %s is %d, expected %d (all: %r)" % (path, k, tot[k], v, tot))
    return tot


def strip_fences(text):
    """Markdown without its fenced code blocks (where markup is inert)."""
    out, fence = [], None
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence is None and stripped.startswith("```"):
            fence = stripped[:len(stripped) - len(stripped.lstrip("`"))]
            continue
        if fence is not None:
            if stripped.startswith(fence) and stripped.strip("`") == "":
                fence = None
            continue
        out.append(line)
    return "\n".join(out)


def all_checks(results):
    for ph in results.get("phases", []):
        for st in ph.get("steps", []):
            for c in st.get("checks", []):
                yield c


def main():
    case = os.path.abspath(sys.argv[1])
    spec = json.load(open(os.path.join(case, "case.json")))
    tmp = tempfile.mkdtemp(prefix="pg-case-")
    out = os.path.join(tmp, "out")
    ctx = {"case": case, "out": out, "tmp": tmp, "source": os.environ.get("PG_SOURCE_DIR", "")}
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    for k, v in spec.get("env", {}).items():
        env[k] = expand(v, ctx)
    try:
        for argv in spec.get("setup", []):
            subprocess.run([expand(a, ctx) for a in argv], check=True, env=env, cwd=tmp)
        args = [BIN] + [expand(a, ctx) for a in spec["args"]]
        if spec.get("tty"):
            # a pseudo-terminal, as an engineer at a keyboard has
            import shlex
            args = ["script", "-qefc", shlex.join(args), "/dev/null"]
            if spec.get("color"):
                env.pop("NO_COLOR", None)
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, cwd=tmp)
        sig = spec.get("signal")
        if sig:
            if sig.get("when_file"):
                # the run says it got there (a loaded machine may take long)
                marker = expand(sig["when_file"], ctx)
                deadline = time.monotonic() + spec.get("max_seconds", 60)
                while not os.path.exists(marker) and p.poll() is None \
                        and time.monotonic() < deadline:
                    time.sleep(0.02)
            time.sleep(sig["after_s"])
            p.send_signal(sig["signo"])
        try:
            stdout, stderr = p.communicate(timeout=spec.get("max_seconds", 60))
        except subprocess.TimeoutExpired:
            p.kill()
            fail("phasegate did not finish within %ss" % spec.get("max_seconds", 60))
        texts = {"stdout": stdout, "stderr": stderr}
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if bad in stderr:
                fail("sanitizer report:\n" + stderr)
        if "exit_code" in spec and p.returncode != spec["exit_code"]:
            fail("exit code %d, expected %d\nstdout:\n%s\nstderr:\n%s" %
                 (p.returncode, spec["exit_code"], stdout, stderr))
        results = None
        rpath = os.path.join(out, "results.json")
        if os.path.exists(rpath):
            texts["results.json"] = open(rpath).read()
            results = json.loads(texts["results.json"])
        for name in ("report.md", "junit.xml"):
            path = os.path.join(out, name)
            if os.path.exists(path):
                texts[name] = open(path, encoding="utf-8", errors="replace").read()
        leftovers = [f for f in os.listdir(out)] if os.path.isdir(out) else []
        for f in leftovers:
            if ".tmp." in f:
                fail("a temporary report file was left behind: " + f)
        if "verdict" in spec:
            if not results:
                fail("no results.json written")
            if results.get("verdict") != spec["verdict"]:
                fail("verdict %r, expected %r" % (results.get("verdict"), spec["verdict"]))
        checks = {c["id"]: c for c in all_checks(results)} if results else {}
        for cid, st in spec.get("statuses", {}).items():
            if cid not in checks:
                fail("check %r missing from results (have %s)" % (cid, sorted(checks)))
            if checks[cid]["status"] != st:
                fail("check %r is %r, expected %r (message: %r)" %
                     (cid, checks[cid]["status"], st, checks[cid].get("message")))
        for cid, sub in spec.get("messages", {}).items():
            msg = checks.get(cid, {}).get("message") or ""
            if sub not in msg:
                fail("check %r message %r does not contain %r" % (cid, msg, sub))
        for cid, n in spec.get("attempts", {}).items():
            if checks.get(cid, {}).get("attempts") != n:
                fail("check %r made %r attempts, expected %d" %
                     (cid, checks.get(cid, {}).get("attempts"), n))
        for name, subs in spec.get("contains", {}).items():
            if name not in texts:
                fail("%s was not produced" % name)
            for s in subs:
                if s not in texts[name]:
                    fail("%s does not contain %r:\n%s" % (name, s, texts[name][:4000]))
        for name, subs in spec.get("absent", {}).items():
            names = list(texts) if name == "*" else [name]
            for n in names:
                for s in subs:
                    if s in texts.get(n, ""):
                        fail("%s contains %r, which must not appear" % (n, s))
        for name, subs in spec.get("absent_outside_code", {}).items():
            prose = strip_fences(texts.get(name, ""))
            for s in subs:
                if s in prose:
                    fail("%s contains %r outside code blocks:\n%s" % (name, s, prose[:3000]))
        for f in spec.get("files_absent", []):
            if os.path.exists(expand(f, ctx)):
                fail("%s exists but must not (was something run?)" % expand(f, ctx))
        jpath = os.path.join(out, "junit.xml")
        if os.path.exists(jpath):
            junit_check(jpath, spec.get("junit_counts"))
        if spec.get("rerender"):
            out2 = os.path.join(tmp, "again")
            r = subprocess.run([BIN, "report", rpath, "--out", out2], capture_output=True, text=True)
            if r.returncode != 0:
                fail("phasegate report failed: " + r.stderr)
            for name in ("junit.xml", "report.md"):
                a = open(os.path.join(out, name)).read()
                b = open(os.path.join(out2, name)).read()
                if a != b:
                    fail("re-rendered %s differs from the original" % name)
        print("ok: " + os.path.basename(case))
    finally:
        if not os.environ.get("PG_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
