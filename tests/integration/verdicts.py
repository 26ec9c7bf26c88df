#!/usr/bin/env python3
"""Verdicts an approver can sign: the real CLI on the suites in verdicts/.

  verdicts.py selection     every selector form: the files that exist are
                            exactly those of the selected entries, and
                            --dry-run lists exactly those
  verdicts.py destructive   destructive actions refuse to run without
                            --allow-destructive (exit 2, nothing run)
  verdicts.py attest-bad    a table of bad attestation inputs: exit 2 before
                            anything runs, with file:line:column
  verdicts.py attest-flow   `attest` writes sign-offs; `report --attest`
                            turns PENDING into GO without running anything;
                            --require go
  verdicts.py attest-signed ssh-keygen -Y signed sign-offs verify; a tampered
                            one is refused
  verdicts.py waits         eventually tries at its deadline; --timeout cuts
                            a wait with "run deadline reached"
  verdicts.py files         report files: planted links, devices, '-', a
                            failure in the middle of a set, stale temporaries
  verdicts.py digest        the suite digest: shown everywhere, stable across
                            copies, changed by an edit; sign-offs scoped to it
  verdicts.py report-rules  report --attest judges with the suite's stored
                            attestation rules (max_age, allowed_signers)
  verdicts.py escalation    who to call for the failed gate, in every report
  verdicts.py remedies      validate warns, --strict and require: refuse
  verdicts.py prior         --prior: missing, wrong suite, wrong environment,
                            NO-GO, stale, good
  verdicts.py when          when: on actions, rollbacks and collectors: true,
                            false, literal, not a boolean, undefined; refused on
                            checks; every report and --dry-run
Timing checks use generous bounds and never assert speed."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

BIN = os.environ["PG_BINARY"]
HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verdicts")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def finish():
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        sys.exit(1)


def pg(*args, env=None, cwd=None, timeout=60):
    e = dict(os.environ)
    e["NO_COLOR"] = "1"
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e, cwd=cwd,
                          timeout=timeout)


def results(out):
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        return json.load(f)


def entries(res):
    for ph in res["phases"]:
        for st in ph["steps"]:
            for c in st["checks"]:
                yield st, c


# ---- selection ----------------------------------------------------------

STEPS = ["s1.1", "s1.2", "s2.1", "s2.2", "s3.1", "s3.2"]
PHASE = {s: s[1] for s in STEPS}
TAGS = {"s1.1": {"alpha"}, "s1.2": {"slow"}, "s2.1": {"beta"}, "s2.2": {"beta", "slow"},
        "s3.1": set(), "s3.2": {"alpha", "slow"}}


def expected(phases=(), steps=(), tags=(), skip=(), frm=None, until=None):
    """The rule of runner/select.c, written again independently."""
    lo = STEPS.index(frm) if frm else 0
    hi = STEPS.index(until) if until else len(STEPS) - 1
    files = set()
    for i, s in enumerate(STEPS):
        if phases and PHASE[s] not in phases:
            continue
        if steps and s not in steps:
            continue
        if not lo <= i <= hi:
            continue
        t = TAGS[s]
        if (tags and not (t & set(tags))) or (t & set(skip)):
            continue  # the check is out, and with it the step's other entries
        files |= {p + "-" + s for p in "acfr"}
    return files


def run_selection(label, args, want):
    tmp = tempfile.mkdtemp(prefix="pg-sel-")
    files = os.path.join(tmp, "files")
    os.mkdir(files)
    try:
        r = pg("run", os.path.join(HERE, "matrix.yaml"), "--var", "dir=" + files,
               "--keep-going", "--out", os.path.join(tmp, "out"), *args)
        got = set(os.listdir(files))
        check(got == want, "%s: exactly the selected entries ran (extra %s, missing %s)" %
              (label, sorted(got - want), sorted(want - got)))
        check(r.returncode == 1, "%s: exit 1 (every selected gate fails here), got %d %s" %
              (label, r.returncode, r.stderr[-300:]))
        res = results(os.path.join(tmp, "out"))
        nsel = {c["id"] for _, c in entries(res) if c["status"] == "not_selected"}
        allk = {p + "-" + st for p in "acfr" for st in STEPS}
        ran = {c["id"] for _, c in entries(res) if c["status"] != "not_selected"}
        check(ran == want, "%s: results.json has the selected entries as run (%s)" %
              (label, sorted(ran ^ want)))
        want_nsel = {i for i in allk if i not in want}
        check(nsel == want_nsel, "%s: every other check, action, collector and rollback is "
              "'not selected' (%s)" %
              (label, sorted(nsel ^ want_nsel)))
        if len(want) < 24:
            check(res["verdict"] == "NO-GO" and "selection" in json.dumps(res),
                  "%s: the verdict is NO-GO (a gate failed)" % label)
        d = pg("run", os.path.join(HERE, "matrix.yaml"), "--var", "dir=" + files, "--dry-run",
               *args)
        listed = set()
        for line in d.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("would", "check", "on-fail", "rollbk"):
                listed.add(parts[1])
        check(listed == want, "%s: --dry-run lists exactly what would run (%s)" %
              (label, sorted(listed ^ want)))
        check(set(os.listdir(files)) == want, "%s: --dry-run ran nothing" % label)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_selection():
    cases = [
        ("whole suite", [], expected()),
        ("--phase 1", ["--phase", "1"], expected(phases="1")),
        ("--phase 1,3", ["--phase", "1,3"], expected(phases="13")),
        ("--phase 1 --phase 3", ["--phase", "1", "--phase", "3"], expected(phases="13")),
        ("--step s2.1", ["--step", "s2.1"], expected(steps=["s2.1"])),
        ("--step s1.2,s3.1", ["--step", "s1.2,s3.1"], expected(steps=["s1.2", "s3.1"])),
        ("--tag alpha", ["--tag", "alpha"], expected(tags=["alpha"])),
        ("--tag alpha,beta", ["--tag", "alpha,beta"], expected(tags=["alpha", "beta"])),
        ("--skip-tag slow", ["--skip-tag", "slow"], expected(skip=["slow"])),
        ("--from s2.2", ["--from", "s2.2"], expected(frm="s2.2")),
        ("--until s1.2", ["--until", "s1.2"], expected(until="s1.2")),
        ("--from s1.2 --until s2.1", ["--from", "s1.2", "--until", "s2.1"],
         expected(frm="s1.2", until="s2.1")),
        ("--phase 2 --tag beta", ["--phase", "2", "--tag", "beta"],
         expected(phases="2", tags=["beta"])),
        ("--from s2.1 --skip-tag slow", ["--from", "s2.1", "--skip-tag", "slow"],
         expected(frm="s2.1", skip=["slow"])),
        ("--phase 2,3 --skip-tag alpha", ["--phase", "2,3", "--skip-tag", "alpha"],
         expected(phases="23", skip=["alpha"])),
    ]
    for label, args, want in cases:
        run_selection(label, args, want)
    # a partial run whose gates pass is PARTIAL, never GO
    tmp = tempfile.mkdtemp(prefix="pg-sel-")
    try:
        r = pg("run", os.path.join(HERE, "signoff.yaml"), "--var", "dir=" + tmp, "--phase", "1",
               "--out", os.path.join(tmp, "out"))
        res = results(os.path.join(tmp, "out"))
        check(r.returncode == 0 and res["verdict"] == "PARTIAL",
              "--phase 1 of a passing suite: exit 0, PARTIAL (%d %s)" %
              (r.returncode, res["verdict"]))
        md = open(os.path.join(tmp, "out", "report.md"), encoding="utf-8").read()
        check(md.startswith("# Go-live verdict: PARTIAL\n\n**Why:**"),
              "PARTIAL: the report leads with the verdict and why")
        check("- ➖ phase 2 — People: not selected" in md, "PARTIAL: the report lists what did not run")
        r = pg("run", os.path.join(HERE, "signoff.yaml"), "--var", "dir=" + tmp, "--phase", "1",
               "--require", "go", "--out", os.path.join(tmp, "out"))
        check(r.returncode == 4, "--require go on a PARTIAL run: exit 4 (got %d)" % r.returncode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # selectors that match nothing, or leave nothing: exit 2, nothing run
    for args, msg in ((["--phase", "9"], "--phase '9' matches no phase id or name (the suite "
                       "has 1, 2, 3)"),
                      (["--step", "s1.3"], "--step 's1.3' matches no step id or name (did you "
                       "mean 's1.1'?)"),
                      (["--tag", "alpah"], "--tag 'alpah' matches no check or action in the "
                       "selected steps (did you mean 'alpha'?)"),
                      (["--step", "s1.1,nope"], "--step 'nope' matches no step"),
                      (["--tag", "gamma"], "--tag 'gamma' matches no check"),
                      (["--from", "s3.1", "--until", "s1.1"], "comes after --until"),
                      (["--from", "zzz"], "--from 'zzz' matches no step"),
                      (["--step", "s3.2", "--skip-tag", "alpha"], "leaves nothing to run"),
                      (["--phase", "3", "--tag", "beta"], "--tag 'beta' matches no check"),
                      (["--phase", "1,"], "needs a value")):
        tmp = tempfile.mkdtemp(prefix="pg-sel-")
        r = pg("run", os.path.join(HERE, "matrix.yaml"), "--var", "dir=" + tmp, *args)
        check(r.returncode == 2 and msg in r.stderr and not os.listdir(tmp),
              "%s: exit 2, '%s', nothing run (%d %s)" % (" ".join(args), msg, r.returncode,
                                                         r.stderr.strip()[-200:]))
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- destructive -----------------------------------------------------------

def test_destructive():
    suite = os.path.join(HERE, "destructive.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-destr-")
    try:
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "out"))
        check(r.returncode == 2, "without --allow-destructive: exit 2 (got %d)" % r.returncode)
        check("wipe-all" in r.stderr and "destructive.yaml:" in r.stderr and
              "--allow-destructive" in r.stderr, "the refusal names the action and its place")
        check(not os.path.exists(os.path.join(tmp, "safe")) and
              not os.path.exists(os.path.join(tmp, "out")), "nothing ran, no report written")
        r = pg("run", suite, "--var", "dir=" + tmp, "--step", "safe",
               "--out", os.path.join(tmp, "out"))
        check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "safe")) and
              not os.path.exists(os.path.join(tmp, "wiped")),
              "a selection without the destructive step runs without the flag (%d)" %
              r.returncode)
        check(results(os.path.join(tmp, "out"))["verdict"] == "PARTIAL", "... and is PARTIAL")
        d = pg("run", suite, "--var", "dir=" + tmp, "--dry-run")
        check(d.returncode == 0 and "[DESTRUCTIVE]" in d.stdout and
              "1 destructive action" in d.stdout, "--dry-run marks it")
        v = pg("validate", suite)
        check(v.returncode == 0 and "wipe-all" in v.stdout, "validate lists it")
        r = pg("run", suite, "--var", "dir=" + tmp, "--allow-destructive",
               "--out", os.path.join(tmp, "out2"))
        check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "wiped")),
              "with --allow-destructive it runs (%d)" % r.returncode)
        res = results(os.path.join(tmp, "out2"))
        check(res["verdict"] == "GO" and res["allow_destructive"], "GO, the permission recorded")
        wipe = [c for _, c in entries(res) if c["id"] == "wipe-all"][0]
        check(wipe["destructive"], "results.json marks the action destructive")
        md = open(os.path.join(tmp, "out2", "report.md"), encoding="utf-8").read()
        check("**DESTRUCTIVE** action: Delete everything" in md, "the report marks it")
        xml = open(os.path.join(tmp, "out2", "junit.xml"), encoding="utf-8").read()
        check("[destructive]" in xml, "JUnit marks it")
        # a destructive entry may only stand under actions: or rollback:
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("name: bad\nphases:\n  - steps:\n      - checks:\n          - id: x\n"
                    "            destructive: true\n            exec: {argv: [\"true\"]}\n")
        v = pg("validate", bad)
        check(v.returncode == 2 and "bad.yaml:7:13" in v.stderr and "destructive" in v.stderr,
              "a destructive check is a suite error with its position (%s)" % v.stderr.strip())
        test_destructive_deferred(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


DEFERRED = """name: deferred
phases:
  - id: "1"
    steps:
      - id: "1.1"
        actions:
          - id: pick
            exec: {argv: [echo, "%s"]}
            save: {victim: '.stdout | rtrimstr("\\n")'}
      - id: "1.2"
        actions:
          - id: zap
            k8s: {delete: "%s", namespace: default}
        checks:
          - id: after
            exec: {argv: ["true"]}
"""


def test_destructive_deferred(tmp):
    """A k8s delete whose target is a value saved during the run is still
    destructive: judged at load with a placeholder where it can be, else
    refused at run time without --allow-destructive (nothing is sent)."""
    kc = os.path.join(tmp, "kubeconfig")
    with open(kc, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "
                "'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: abcdefgh}}]\n"
                "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
    env = dict(os.environ, KUBECONFIG=kc)
    at_load = os.path.join(tmp, "deferred-load.yaml")
    with open(at_load, "w") as f:
        f.write(DEFERRED % ("victim", "configmap/${victim}"))
    r = subprocess.run([BIN, "run", at_load, "--out", os.path.join(tmp, "o-load")],
                       capture_output=True, text=True, timeout=60, env=env)
    check(r.returncode == 2 and "zap" in r.stderr and "--allow-destructive" in r.stderr and
          not os.path.exists(os.path.join(tmp, "o-load")),
          "a delete of a saved name is refused before anything runs (%d %s)" %
          (r.returncode, r.stderr.strip()[-300:]))
    at_run = os.path.join(tmp, "deferred-run.yaml")
    with open(at_run, "w") as f:
        f.write(DEFERRED % ("configmap/victim", "${victim}"))
    out = os.path.join(tmp, "o-run")
    r = subprocess.run([BIN, "run", at_run, "--out", out], capture_output=True, text=True,
                       timeout=60, env=env)
    zap = [c for _, c in entries(results(out)) if c["id"] == "zap"]
    check(r.returncode == 1 and zap and zap[0]["status"] == "error" and
          "--allow-destructive" in zap[0].get("message", ""),
          "a target only known at run time is refused then, as an error (%d %s)" %
          (r.returncode, zap and zap[0].get("message")))


# ---- attestations ------------------------------------------------------------

GOOD = {"trained": {"by": "Jane Doe", "at": None, "note": "walkthrough"},
        "approve-ops": {"by": "Ops Lead", "at": None}}


def now_iso(delta_s=0):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + delta_s))


def test_attest_bad():
    suite = os.path.join(HERE, "signoff.yaml")
    recent = now_iso(-3600)
    table = [
        # (label, files {name: text}, message, position "name:line:col" or None)
        ("missing file", {}, "cannot", None),
        ("malformed YAML", {"a.yaml": "trained: {by: Jane\n"}, "a.yaml:", None),
        ("not a map", {"a.yaml": "- trained\n"}, "is a map of id", "a.yaml:1:1"),
        ("entry not a map", {"a.yaml": "trained: yes\n"}, "must be a map", "a.yaml:1:10"),
        ("unknown id", {"a.yaml": 'traned: {by: J, at: "%s"}\n' % recent},
         "unknown id 'traned' (did you mean 'trained'?)", "a.yaml:1:1"),
        ("automated check", {"a.yaml": 'ready: {by: J, at: "%s"}\n' % recent},
         "attestation for 'ready', an automated check", "a.yaml:1:1"),
        ("no by", {"a.yaml": 'trained: {at: "%s"}\n' % recent}, "has no 'by'", "a.yaml:1:10"),
        ("empty by", {"a.yaml": 'trained: {by: "", at: "%s"}\n' % recent}, "has no 'by'", None),
        ("no at", {"a.yaml": "trained: {by: Jane}\n"}, "has no 'at'", "a.yaml:1:10"),
        ("at not a time", {"a.yaml": 'trained: {by: Jane, at: "not a time"}\n'},
         "not an RFC 3339 time", "a.yaml:1:25"),
        ("at invalid date", {"a.yaml": 'trained: {by: Jane, at: "2026-02-30T10:00:00Z"}\n'},
         "not an RFC 3339 time", None),
        ("at in the future", {"a.yaml": 'trained: {by: Jane, at: "2099-01-01T00:00:00Z"}\n'},
         "is in the future", "a.yaml:1:25"),
        ("at before max_age", {"a.yaml": 'trained: {by: Jane, at: "2020-01-01T00:00:00Z"}\n'},
         "too old", "a.yaml:1:25"),
        ("unknown field", {"a.yaml": 'trained: {by: J, at: "%s", sgined: x}\n' % recent},
         "unknown attestation field 'sgined'", None),
        ("by is a list", {"a.yaml": 'trained: {by: [a, b], at: "%s"}\n' % recent},
         "must be text", None),
        ("same id twice", {"a.yaml": 'trained: {by: J, at: "%s"}\n' % recent,
                           "b.yaml": 'trained: {by: K, at: "%s"}\n' % recent},
         "given twice", "b.yaml:1:1"),
        ("signed, no allowed_signers", {"a.yaml": 'trained: {by: J, at: "%s", signature: x}\n' %
                                        recent}, "no allowed_signers", None),
    ]
    check(len(table) >= 12, "at least 12 bad inputs (%d)" % len(table))
    for label, files, msg, pos in table:
        tmp = tempfile.mkdtemp(prefix="pg-att-")
        try:
            args = []
            for name, text in files.items():
                with open(os.path.join(tmp, name), "w") as f:
                    f.write(text)
                args += ["--attest", os.path.join(tmp, name)]
            if not files:
                args = ["--attest", os.path.join(tmp, "missing.yaml")]
            for cmd in (["run"], ["validate"], ["run", "--dry-run"]):
                out = [] if cmd[0] == "validate" else ["--out", os.path.join(tmp, "out")]
                r = pg(cmd[0], suite, "--var", "dir=" + tmp, *out, *(cmd[1:] + args))
                ok = (r.returncode == 2 and msg in r.stderr and
                      not os.path.exists(os.path.join(tmp, "marker")) and
                      not os.path.exists(os.path.join(tmp, "out")) and
                      (pos is None or pos in r.stderr))
                check(ok, "%s (%s): exit 2, '%s'%s, nothing run (%d: %s)" %
                      (label, cmd[-1], msg, " at " + pos if pos else "", r.returncode,
                       r.stderr.strip()[-300:]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    finish()


def test_attest_flow():
    suite = os.path.join(HERE, "signoff.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-att-")
    try:
        out = os.path.join(tmp, "out")
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", out, "--require", "go")
        res = results(out)
        check(r.returncode == 4 and res["verdict"] == "PENDING",
              "PENDING with --require go: exit 4 (%d %s)" % (r.returncode, res["verdict"]))
        check("2 sign-offs are open (1 manual check, 1 approval)" in res["reason"],
              "the reason counts manual checks and approvals (%s)" % res["reason"])
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", out)
        check(r.returncode == 0, "PENDING without --require: exit 0")
        os.unlink(os.path.join(tmp, "marker"))
        att = os.path.join(tmp, "signoffs.yaml")
        a = pg("attest", att, "trained", "--by", "Jane Doe", "--note", "walkthrough on Monday")
        check(a.returncode == 0 and os.path.exists(att), "attest writes an entry (%s)" % a.stderr)
        a = pg("attest", att, "approve-ops", "--by", "Ops \"Lead\": yes")
        check(a.returncode == 0, "attest appends a second entry (%s)" % a.stderr)
        a = pg("attest", att, "trained", "--by", "Someone else")
        check(a.returncode == 2 and "already" in a.stderr, "attest refuses a second sign-off")
        a = pg("attest", att, "x")
        check(a.returncode == 2 and "--by" in a.stderr, "attest needs --by")
        r = pg("report", os.path.join(out, "results.json"), "--attest", att)
        check(r.returncode == 0, "report --attest: exit 0 (%d %s)" % (r.returncode, r.stderr))
        check(not os.path.exists(os.path.join(tmp, "marker")),
              "report --attest ran nothing (the action's marker was not made again)")
        res = results(out)
        check(res["verdict"] == "GO", "report --attest turned PENDING into GO (%s)" %
              res["verdict"])
        tr = [c for _, c in entries(res) if c["id"] == "trained"][0]
        check(tr["status"] == "pass" and tr["attest_by"] == "Jane Doe", "the manual check passed")
        check(res["approvals"][0]["attested"] and res["approvals"][0]["by"] == 'Ops "Lead": yes',
              "the approval is signed off, its text kept exactly")
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        check(md.startswith("# Go-live verdict: GO"), "report.md was rewritten with GO")
        xml = open(os.path.join(out, "junit.xml"), encoding="utf-8").read()
        check('name="verdict" value="GO"' in xml, "junit.xml was rewritten with GO")
        r = pg("report", os.path.join(out, "results.json"), "--attest", att, "--require", "go",
               "--json", os.path.join(tmp, "again.json"))
        check(r.returncode == 0, "report --attest --require go on GO: exit 0")
        # an attestation scoped to another run does not count
        res0_run = res["run_id"]
        scoped = os.path.join(tmp, "scoped.yaml")
        a = pg("attest", scoped, "trained", "--by", "Jane", "--run-id", "another-run")
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "o2"),
               "--attest", scoped)
        t2 = [c for _, c in entries(results(os.path.join(tmp, "o2"))) if c["id"] == "trained"]
        check(t2[0]["status"] == "pending", "a sign-off for another run id does not count")
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "o3"),
               "--attest", scoped, "--run-id", "another-run")
        t3 = [c for _, c in entries(results(os.path.join(tmp, "o3"))) if c["id"] == "trained"]
        check(t3[0]["status"] == "pass", "... and counts for its own run")
        check(res0_run, "the run id is recorded")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


def test_attest_signed():
    suite = os.path.join(HERE, "signoff.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-sig-")
    try:
        key = os.path.join(tmp, "ops_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ops", "-f", key],
                       check=True)
        other = os.path.join(tmp, "other_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other], check=True)
        pub = open(key + ".pub").read().split()
        signers = os.path.join(tmp, "allowed_signers")
        with open(signers, "w") as f:
            f.write("ops@example.org %s %s\n" % (pub[0], pub[1]))
        att = os.path.join(tmp, "signed.yaml")
        a = pg("attest", att, "approve-ops", "--by", "ops@example.org", "--sign", key,
               "--note", "go for release 2.0")
        check(a.returncode == 0 and "BEGIN SSH SIGNATURE" in open(att).read(),
              "attest --sign stores an ssh-keygen -Y signature (%s)" % a.stderr)
        a = pg("attest", att, "trained", "--by", "Jane")
        out = os.path.join(tmp, "out")
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", out, "--attest", att,
               "--allowed-signers", signers)
        res = results(out)
        check(r.returncode == 0 and res["verdict"] == "GO", "signed sign-offs: GO (%d %s %s)" %
              (r.returncode, res["verdict"], r.stderr[-300:]))
        check(res["approvals"][0]["signed_by"] == "ops@example.org",
              "the approval is signed by its principal")
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        check("signed by ops@example.org" in md, "the report says who signed")
        # tampered: the note changed after signing
        text = open(att).read().replace("go for release 2.0", "go for release 3.0")
        bad = os.path.join(tmp, "tampered.yaml")
        with open(bad, "w") as f:
            f.write(text)
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "o2"),
               "--attest", bad, "--allowed-signers", signers)
        check(r.returncode == 2 and "bad signature" in r.stderr and
              not os.path.exists(os.path.join(tmp, "o2")),
              "a tampered signed sign-off: exit 2, nothing run (%d %s)" %
              (r.returncode, r.stderr.strip()[-300:]))
        # signed by a key that is not allowed
        att2 = os.path.join(tmp, "stranger.yaml")
        pg("attest", att2, "approve-ops", "--by", "ops@example.org", "--sign", other)
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "o3"),
               "--attest", att2, "--allowed-signers", signers)
        check(r.returncode == 2 and "bad signature" in r.stderr,
              "a signature by a key not in allowed_signers: exit 2 (%d)" % r.returncode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- waits -------------------------------------------------------------------

def test_waits():
    tmp = tempfile.mkdtemp(prefix="pg-wait-")
    try:
        flag = os.path.join(tmp, "flag")
        helper = subprocess.Popen(["sh", "-c", 'sleep 0.8; touch "$0"', flag])
        out = os.path.join(tmp, "out")
        r = pg("run", os.path.join(HERE, "waits.yaml"), "--var", "flag=" + flag, "--out", out)
        helper.wait()
        res = results(out)
        c = {k["id"]: k for _, k in entries(res)}
        check(c["soon"]["status"] == "pass",
              "eventually: 2s passes a condition true at 0.8s (%s, %s attempts)" %
              (c["soon"]["message"], c["soon"]["attempts"]))
        check(c["short-window"]["status"] == "pass" and c["short-window"]["attempts"] <= 2,
              "within 3s, every 5s: an attempt at the start and one at the deadline (%s, %s)" %
              (c["short-window"]["status"], c["short-window"]["attempts"]))
        check(c["never"]["status"] == "fail" and c["never"]["duration_s"] >= 1.0 and
              c["never"]["attempts"] >= 3,
              "an always-false wait takes at least its deadline (%s %.2fs, %d attempts)" %
              (c["never"]["status"], c["never"]["duration_s"], c["never"]["attempts"]))
        check(r.returncode == 0, "the run passes (the failing wait is non-gating)")
        check(c["soon"]["seen"] == "exited with code 0",
              "a passed check keeps what was seen (%s)" % c["soon"]["seen"])
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        check(c["measured"]["seen"] == "0.997" and "| Sync rate | &gt;99.5% | 0.997 | yes |" in md,
              "a metric shows the measured number next to its target (%s)" %
              c["measured"]["seen"])
        out2 = os.path.join(tmp, "out2")
        r = pg("run", os.path.join(HERE, "longwait.yaml"), "--timeout", "1s", "--out", out2)
        res = results(out2)
        f = [k for _, k in entries(res) if k["id"] == "forever"][0]
        check(r.returncode == 1 and f["timed_out"] and "run deadline reached" in f["message"],
              "--timeout cuts a wait: 'run deadline reached', timed_out true (%s)" %
              f["message"])
        check(res["timed_out"] and "--timeout" in res["reason"], "the run says it timed out")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- report files ----------------------------------------------------------

def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_files():
    suite = os.path.join(HERE, "destructive.yaml")
    base = ["run", suite, "--var", "dir=/tmp", "--step", "safe"]
    tmp = tempfile.mkdtemp(prefix="pg-files-")
    try:
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        victim = os.path.join(tmp, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        # a planted link at the target: refused, the victim untouched, no
        # half set (report.md is not written either)
        os.symlink(victim, os.path.join(out, "results.json"))
        r = pg(*base, "--out", out)
        check(r.returncode == 3 and "symbolic link" in r.stderr,
              "a link at the target: exit 3, said (%d %s)" % (r.returncode, r.stderr.strip()))
        check(open(victim).read() == "precious\n", "the link's target was not written")
        check(not os.path.exists(os.path.join(out, "report.md")) and
              not os.path.exists(os.path.join(out, "junit.xml")),
              "no report of the set was written")
        os.unlink(os.path.join(out, "results.json"))
        # a planted link at the old predictable temporary name of this pid
        plant = ('ln -s "$0" "$1/results.json.tmp.$$" && '
                 'exec "$2" run "$3" --var dir=/tmp --step safe --out "$1"')
        r = subprocess.run(["sh", "-c", plant, victim, out, BIN, suite],
                           capture_output=True, text=True)
        check(r.returncode == 0 and open(victim).read() == "precious\n" and
              stat.S_ISREG(os.lstat(os.path.join(out, "results.json")).st_mode),
              "a link at the temporary name is never followed (%d %s)" % (r.returncode,
                                                                          r.stderr))
        for f in os.listdir(out):
            if f.startswith("results.json.tmp."):
                os.unlink(os.path.join(out, f))
        # each report names the run
        res = results(out)
        for name in ("junit.xml", "report.md"):
            check(res["run_id"] in open(os.path.join(out, name), encoding="utf-8").read(),
                  "%s carries the run id %s" % (name, res["run_id"]))
        # a failure in the middle of the set leaves the old set as it was
        old = {n: open(os.path.join(out, n)).read() for n in ("report.md", "junit.xml")}
        r = pg(*base, "--out", out, "--json", os.path.join(tmp, "no-such-dir", "r.json"))
        check(r.returncode == 3 and "no report was changed" in r.stderr,
              "a report that cannot be written: exit 3 (%d %s)" % (r.returncode, r.stderr))
        check(all(open(os.path.join(out, n)).read() == t for n, t in old.items()),
              "the other reports of the set were not replaced")
        check(not [f for f in os.listdir(out) if ".tmp." in f], "no temporary left behind")
        # stale temporaries of processes that are gone are removed
        pid = dead_pid()
        stale = [os.path.join(out, ".report.md.%d.tmp.abcdef" % pid),
                 os.path.join(out, "junit.xml.tmp.%d" % pid)]
        for s in stale:
            with open(s, "w") as f:
                f.write("stale")
        r = pg(*base, "--out", out)
        check(r.returncode == 0 and not any(os.path.exists(s) for s in stale),
              "stale temporaries of dead processes are removed (%s)" % os.listdir(out))
        # devices and '-' are written through
        if os.geteuid() == 0:
            r = pg(*base, "--junit", "/dev/null")
            st = os.stat("/dev/null")
            check(r.returncode == 0 and stat.S_ISCHR(st.st_mode),
                  "--junit /dev/null as root: /dev/null stays a device")
        r = pg(*base, "--json", "/dev/stdout", "--quiet")
        check(r.returncode == 0 and '"schema_version": 1' in r.stdout and
              os.path.islink("/dev/stdout"),
              "--json /dev/stdout prints the JSON (%d %s)" % (r.returncode, r.stderr))
        r = pg(*base, "--json", "-", "--quiet")
        check(r.returncode == 0 and r.stdout.lstrip().startswith("{"), "--json - prints it")
        fifo = os.path.join(tmp, "fifo")
        os.mkfifo(fifo)
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)
        r = pg(*base, "--markdown", fifo)
        got = reader.communicate(timeout=30)[0]
        check(r.returncode == 0 and got.startswith("# Go-live verdict"),
              "a FIFO is written through")
        d = os.path.join(tmp, "adir")
        os.mkdir(d)
        r = pg(*base, "--json", d)
        check(r.returncode == 3 and "directory" in r.stderr, "a directory is refused")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


def test_rollback():
    tmp = tempfile.mkdtemp(prefix="pg-rb-")
    try:
        out = os.path.join(tmp, "out")
        r = pg("run", os.path.join(HERE, "rollback.yaml"), "--var", "dir=" + tmp, "--out", out)
        res = results(out)
        c = {k["id"]: k for _, k in entries(res)}
        check(r.returncode == 1 and res["verdict"] == "NO-GO", "the failed gate is NO-GO")
        check(c["healthy"]["message"].startswith("exited with code 1; stderr: readiness probe "
                                                 "failed"),
              "the failure names its cause (%s)" % c["healthy"]["message"])
        check(c["healthy"]["expected"] is None, "no internal program as 'expected'")
        check(os.path.exists(os.path.join(tmp, "undone-1")),
              "the rollbacks ran after the evidence was collected")
        check(c["undo-1"]["kind"] == "rollback" and c["undo-1"]["status"] == "pass",
              "a rollback is reported as one")
        check(c["undo-2"]["status"] == "fail" and
              c["undo-2"]["message"].startswith("ROLLBACK FAILED: exited with code 3; stderr: "
                                                "config store unreachable"),
              "a failed rollback is loud and says why (%s)" % c["undo-2"]["message"])
        check(c["undo-3"]["status"] == "skip" and
              not os.path.exists(os.path.join(tmp, "undone-3")),
              "the rollbacks after a failed one do not run")
        check(c["later"]["status"] == "skip" and c["later"]["blocked_by"] == "checkpoint-1.1",
              "later steps are blocked, not run")
        check("rollback" in r.stdout and "ROLLBACK FAILED" in r.stdout, "the console says so")
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        check("rollback: Restore the config — ROLLBACK FAILED" in md, "the report says so")
        check("exited with code 1" in md.split("## Open")[0], "the report's first part names the cause")
        # a failed rollback is loud in every report and leads the headline
        head = "NO-GO — rollback of step 1.1 FAILED: manual recovery needed"
        check(res["rollback_failed"] == "1.1", "results.json names the step whose rollback failed")
        check(head in r.stdout, "the console headline says so (%s)" % r.stdout[-300:])
        check(md.startswith("# Go-live verdict: " + head + "\n") and
              "**ROLLBACK FAILED — manual recovery needed.**" in md.split("## Failures")[0],
              "the Markdown headline and first screen say so")
        xml = open(os.path.join(out, "junit.xml"), encoding="utf-8").read()
        check(('name="headline" value="%s"' % head) in xml and
              'name="rollback_failed" value="1.1"' in xml and "ROLLBACK FAILED" in xml,
              "JUnit says so")
        html_path = os.path.join(tmp, "r.html")
        pg("report", os.path.join(out, "results.json"), "--html", html_path)
        html = open(html_path, encoding="utf-8").read()
        check(("<h1>Go-live verdict: %s</h1>" % head) in html and
              "<title>Go-live verdict: " + head in html and "ROLLBACK FAILED" in html,
              "the HTML report (rendered again from results.json) says so")
        # rollbacks of a step that is not selected are "not selected", never run
        for f in ("undone-1", "undone-3", "collected", "deployed"):
            if os.path.exists(os.path.join(tmp, f)):
                os.unlink(os.path.join(tmp, f))
        ns = os.path.join(tmp, "ns")
        r = pg("run", os.path.join(HERE, "rollback.yaml"), "--var", "dir=" + tmp, "--out", ns,
               "--step", "2.1")
        c = {k["id"]: k for _, k in entries(results(ns))}
        check(r.returncode == 0 and all(c[i]["status"] == "not_selected" for i in
                                        ("undo-1", "undo-2", "undo-3", "collect", "deploy")) and
              not os.path.exists(os.path.join(tmp, "undone-1")) and
              results(ns).get("rollback_failed") is None,
              "the rollbacks of an unselected step are 'not selected' and never run")
        d = pg("run", os.path.join(HERE, "rollback.yaml"), "--var", "dir=" + tmp, "--dry-run")
        check("rollbk undo-1" in d.stdout, "--dry-run lists the rollbacks that could run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- the suite digest ---------------------------------------------------------

def make_dir_suite(root, phase_text="    - id: ok\n        exec: {argv: [\"true\"]}\n"):
    os.makedirs(os.path.join(root, "phases"))
    with open(os.path.join(root, "suite.yaml"), "w") as f:
        f.write("name: dsuite\nvars: {dir: /nonexistent}\napprovals:\n"
                "  - {id: approve, role: Lead}\ninclude: common.yaml\n"
                "phases: [phases/one.yaml]\n")
    with open(os.path.join(root, "common.yaml"), "w") as f:
        f.write("defaults: {timeout: 10s}\n")
    with open(os.path.join(root, "phases", "one.yaml"), "w") as f:
        f.write("id: \"1\"\nsteps:\n  - id: \"1.1\"\n    checks:\n  " + phase_text)


def digest_of_files(root, names):
    """The documented rule, computed independently: sha256 over each file in
    load order as '<length>\n<bytes>'."""
    import hashlib
    h = hashlib.sha256()
    for n in names:
        data = open(os.path.join(root, n), "rb").read()
        h.update(b"%d\n" % len(data))
        h.update(data)
    return h.hexdigest()


def test_digest():
    tmp = tempfile.mkdtemp(prefix="pg-dig-")
    try:
        a = os.path.join(tmp, "a")
        make_dir_suite(a)
        want = digest_of_files(a, ["suite.yaml", "common.yaml", "phases/one.yaml"])
        v = pg("validate", a)
        check(v.returncode == 0 and ("suite digest " + want) in v.stdout,
              "validate prints the digest of the files in load order (%s)" % v.stdout.strip())
        l = pg("list", a)
        check(("suite digest " + want) in l.stdout, "list prints it")
        out = os.path.join(tmp, "out")
        r = pg("run", a, "--out", out)
        check(("suite digest " + want) in r.stdout, "the console header prints it")
        check(results(out)["suite_digest"] == want, "results.json records it")
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        xml = open(os.path.join(out, "junit.xml"), encoding="utf-8").read()
        check(want in md and ('name="suite_digest" value="%s"' % want) in xml,
              "report.md and junit.xml carry it")
        # the same suite elsewhere, run with other values: the same digest
        b = os.path.join(tmp, "b")
        shutil.copytree(a, b)
        v = pg("validate", b, "--var", "dir=/elsewhere")
        check(("suite digest " + want) in v.stdout, "a copy with other --var values: same digest")
        # an edit to a phase file changes it
        with open(os.path.join(b, "phases", "one.yaml"), "a") as f:
            f.write("# reviewed\n")
        v = pg("validate", b)
        other = digest_of_files(b, ["suite.yaml", "common.yaml", "phases/one.yaml"])
        check(other != want and ("suite digest " + other) in v.stdout,
              "an edited phase file changes the digest")
        # sign-offs scoped to a suite
        att = os.path.join(tmp, "for-a.yaml")
        w = pg("attest", att, "approve", "--by", "Jane", "--for-suite", a)
        check(w.returncode == 0 and ('suite: "%s"' % want) in open(att).read(),
              "attest --for-suite writes the suite's digest (%s)" % w.stderr)
        r = pg("run", a, "--out", os.path.join(tmp, "o1"), "--attest", att)
        check(r.returncode == 0 and results(os.path.join(tmp, "o1"))["verdict"] == "GO",
              "a sign-off for this suite counts (%d %s)" % (r.returncode, r.stderr[-200:]))
        r = pg("run", b, "--out", os.path.join(tmp, "o2"), "--attest", att)
        check(r.returncode == 2 and "for-a.yaml:4:10" in r.stderr and want in r.stderr and
              other in r.stderr and not os.path.exists(os.path.join(tmp, "o2")),
              "a sign-off for another suite: exit 2 at file:line:column naming both digests, "
              "nothing run (%d %s)" % (r.returncode, r.stderr.strip()))
        pre = os.path.join(tmp, "prefix.yaml")
        pg("attest", pre, "approve", "--by", "Jane", "--suite-digest", want[:12])
        r = pg("run", a, "--out", os.path.join(tmp, "o3"), "--attest", pre)
        check(r.returncode == 0 and results(os.path.join(tmp, "o3"))["verdict"] == "GO",
              "a 12-digit prefix of the digest counts (%d %s)" % (r.returncode, r.stderr))
        r = pg("validate", b, "--attest", pre)
        check(r.returncode == 2 and "another suite" in r.stderr,
              "... and is refused by another suite, in validate too")
        w = pg("attest", os.path.join(tmp, "x.yaml"), "approve", "--by", "J",
               "--suite-digest", want[:11])
        check(w.returncode == 2 and "12 to 64" in w.stderr, "a digest shorter than 12: exit 2")
        w = pg("attest", os.path.join(tmp, "x.yaml"), "approve", "--by", "J",
               "--suite-digest", want, "--for-suite", a)
        check(w.returncode == 2 and "not both" in w.stderr, "--suite-digest with --for-suite")
        bad = os.path.join(tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write('approve: {by: J, at: "%s", suite: "XYZ"}\n' % now_iso(-60))
        r = pg("validate", a, "--attest", bad)
        check(r.returncode == 2 and "bad.yaml:1:" in r.stderr and "not a suite digest" in r.stderr,
              "a malformed suite: value is exit 2 with its position (%s)" % r.stderr.strip())
        # report --attest: the stored digest judges the sign-off
        out4 = os.path.join(tmp, "o4")
        pg("run", b, "--out", out4)
        r = pg("report", os.path.join(out4, "results.json"), "--attest", att)
        check(r.returncode == 2 and "another suite" in r.stderr,
              "report --attest refuses a sign-off for another suite (%d)" % r.returncode)
        r = pg("report", os.path.join(out4, "results.json"), "--attest",
               os.path.join(tmp, "for-b.yaml"))
        w = pg("attest", os.path.join(tmp, "for-b.yaml"), "approve", "--by", "J",
               "--for-suite", b)
        r = pg("report", os.path.join(out4, "results.json"), "--attest",
               os.path.join(tmp, "for-b.yaml"))
        check(r.returncode == 0 and results(out4)["verdict"] == "GO",
              "... and accepts one for its own suite (%d %s)" % (r.returncode, r.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- report --attest with the suite's own rules ----------------------------------

def test_report_rules():
    tmp = tempfile.mkdtemp(prefix="pg-rules-")
    try:
        sdir = os.path.join(tmp, "suite")
        os.mkdir(sdir)
        key = os.path.join(tmp, "ops_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
        pub = open(key + ".pub").read().split()
        with open(os.path.join(sdir, "signers"), "w") as f:
            f.write("ops@example.org %s %s\n" % (pub[0], pub[1]))
        text = open(os.path.join(HERE, "signoff.yaml")).read().replace(
            "attestations: {max_age: 30d}",
            "attestations: {max_age: 30d, allowed_signers: signers}")
        with open(os.path.join(sdir, "suite.yaml"), "w") as f:
            f.write(text)
        out = os.path.join(tmp, "out")
        r = pg("run", "suite", "--var", "dir=" + tmp, "--out", out, cwd=tmp)
        res = results(out)
        rules = res["attestation_rules"]
        check(res["verdict"] == "PENDING" and rules["max_age_s"] == 30 * 86400 and
              rules["allowed_signers"] == os.path.join(sdir, "signers"),
              "results.json stores the suite's rules, the path resolved (%s)" % rules)
        # stale: older than the suite's max_age (30d), though report has no suite
        stale = os.path.join(tmp, "stale.yaml")
        with open(stale, "w") as f:
            f.write('trained: {by: Jane, at: "%s"}\n' % now_iso(-40 * 86400))
        r = pg("report", os.path.join(out, "results.json"), "--attest", stale)
        check(r.returncode == 2 and "too old" in r.stderr and "stale.yaml:1:" in r.stderr,
              "report --attest: a sign-off older than the suite's max_age is exit 2 (%d %s)" %
              (r.returncode, r.stderr.strip()))
        check(results(out)["verdict"] == "PENDING", "... and nothing was rewritten")
        # signed: verified with the allowed_signers the suite named, from elsewhere
        att = os.path.join(tmp, "signed.yaml")
        pg("attest", att, "approve-ops", "--by", "ops@example.org", "--sign", key)
        pg("attest", att, "trained", "--by", "Jane")
        r = pg("report", os.path.join(out, "results.json"), "--attest", att, cwd="/")
        res = results(out)
        check(r.returncode == 0 and res["verdict"] == "GO" and
              res["approvals"][0]["signed_by"] == "ops@example.org",
              "report --attest verifies a signature with the suite's allowed_signers "
              "(%d %s %s)" % (r.returncode, res["verdict"], r.stderr.strip()))
        # tampered: refused by the same stored rule
        bad = os.path.join(tmp, "tampered.yaml")
        with open(bad, "w") as f:
            f.write(open(att).read().replace("ops@example.org", "eve@example.org", 1))
        r = pg("report", os.path.join(out, "results.json"), "--attest", bad)
        check(r.returncode == 2 and "bad signature" in r.stderr,
              "report --attest refuses a tampered one (%d %s)" % (r.returncode, r.stderr))
        # a results file without the rules keeps the old behaviour
        old = json.load(open(os.path.join(out, "results.json")))
        for k in ("attestation_rules", "suite_digest"):
            old.pop(k, None)
        legacy = os.path.join(tmp, "legacy")
        os.mkdir(legacy)
        with open(os.path.join(legacy, "results.json"), "w") as f:
            json.dump(old, f)
        r = pg("report", os.path.join(legacy, "results.json"), "--attest", stale)
        check(r.returncode == 0, "a results file without rules: no max_age (%d %s)" %
              (r.returncode, r.stderr))
        r = pg("report", os.path.join(legacy, "results.json"), "--attest", att)
        check(r.returncode == 2 and "no allowed_signers" in r.stderr,
              "... and no allowed_signers unless given (%d %s)" % (r.returncode, r.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- escalation ------------------------------------------------------------------

def test_escalation():
    suite = os.path.join(HERE, "protocol.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-esc-")
    try:
        out = os.path.join(tmp, "out")
        r = pg("run", suite, "--var", "dir=" + tmp, "--var", "fail=1", "--out", out,
               "--html", os.path.join(tmp, "report.html"))
        res = results(out)
        esc = res.get("escalation") or {}
        check(r.returncode == 1 and esc.get("severity") == "critical" and
              esc.get("check") == "healthy" and esc.get("level") == "Level 3 - emergency" and
              esc.get("respond_within") == "15m" and
              esc.get("contacts") == ["pager <oncall@example.org>", "Ops lead <b>now</b>"],
              "results.json: who to call for the failed gate, vars expanded (%s)" % esc)
        check("escalate (severity critical of check healthy): Level 3 - emergency — respond "
              "within 15m — contacts: pager <oncall@example.org>, Ops lead" in r.stdout,
              "the console says who to call (%s)" % r.stdout[-300:])
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        first = md.split("## Open")[0]
        check("**Escalate** (severity critical of check healthy): Level 3 - emergency — "
              "respond within 15m — contacts: pager &lt;oncall@example.org&gt;" in first,
              "the Markdown NO-GO section says who to call, escaped")
        check("kubectl -n argocd rollout undo" in first, "... next to the remedy")
        html = open(os.path.join(tmp, "report.html"), encoding="utf-8").read()
        check("<strong>Escalate</strong>" in html and "Level 3 - emergency" in html and
              "Ops lead &lt;b&gt;now&lt;/b&gt;" in html and "<b>now</b>" not in html,
              "the HTML report too, escaped")
        xml = open(os.path.join(out, "junit.xml"), encoding="utf-8").read()
        check('name="escalation_level" value="Level 3 - emergency"' in xml, "JUnit too")
        # a passing run has nothing to escalate
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "ok"))
        check(r.returncode == 0 and results(os.path.join(tmp, "ok"))["escalation"] is None,
              "a GO run names no escalation")
        # a secret in the contacts is masked in every output
        sec = os.path.join(tmp, "sec.yaml")
        with open(sec, "w") as f:
            f.write("name: sec\nsecrets: {pager: {env: PG_PAGER_TOKEN}}\nescalation:\n"
                    "  high: {level: L2, contacts: \"https://pager/${secrets.pager}\"}\n"
                    "phases:\n  - steps:\n      - checks:\n          - remedy: x\n"
                    "            exec: {argv: [\"false\"]}\n")
        so = os.path.join(tmp, "so")
        r = pg("run", sec, "--out", so, env={"PG_PAGER_TOKEN": "supersecret123"})
        leaked = [n for n in os.listdir(so)
                  if "supersecret123" in open(os.path.join(so, n), encoding="utf-8").read()]
        check(r.returncode == 1 and results(so)["escalation"]["contacts"] ==
              ["https://pager/••••••"] and not leaked and "supersecret123" not in r.stdout,
              "a secret in the contacts is masked everywhere (%s %s)" %
              (results(so)["escalation"], leaked))
        # unknown severities and bad entries: exit 2 with their place
        for text, msg, pos in (
                ("  critcal: {level: L}\n", "unknown severity 'critcal' (did you mean "
                 "'critical'?)", "e.yaml:3:3"),
                ("  urgent: {level: L}\n", "unknown severity 'urgent'", "e.yaml:3:3"),
                ("  high: {respond_within: 1h}\n", "level", "e.yaml:3:"),
                ("  high: {level: L, respond_within: soon}\n", "duration", "e.yaml:3:"),
                ("  high: {level: L, contacts: \"${nobody}\"}\n", "nobody", "e.yaml:3:")):
            bad = os.path.join(tmp, "e.yaml")
            with open(bad, "w") as f:
                f.write("name: e\nescalation:\n" + text +
                        "phases:\n  - steps:\n      - checks:\n          - exec: "
                        "{argv: [\"true\"]}\n")
            v = pg("validate", bad)
            check(v.returncode == 2 and msg in v.stderr and pos in v.stderr,
                  "escalation %s: exit 2, '%s' at %s (%s)" % (text.strip(), msg, pos,
                                                             v.stderr.strip()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- when: conditional actions, rollbacks and collectors ---------------------------

WHEN_SUITE = os.path.join(HERE, "when.yaml")
WHEN_BAD = os.path.join(HERE, "when-bad.yaml")


def junit_valid(path):
    xsd = os.path.join(os.environ.get("PG_SHARED_DIR", ""), "reference", "junit-10.xsd")
    r = subprocess.run(["xmllint", "--noout", "--schema", xsd, path], capture_output=True,
                       text=True)
    return r.returncode == 0


def test_when():
    tmp = tempfile.mkdtemp(prefix="pg-when-")
    try:
        touched = {"create-marker", "existed-branch", "literal-false", "literal-true", "from-var",
                   "from-var-off", "deploy", "collect-deploy", "collect-config",
                   "restore-config", "remove-deploy", "act", "undo"}
        made = lambda: sorted(f for f in os.listdir(tmp) if f in touched)
        # the marker is missing: only what the record says is needed runs
        out = os.path.join(tmp, "out")
        r = pg("run", WHEN_SUITE, "--var", "dir=" + tmp, "--out", out)
        check(r.returncode == 0 and "GO — every gate" in r.stdout,
              "false conditions never make a run PARTIAL or NO-GO (%s)" % r.stdout[-200:])
        check(made() == ["create-marker", "deploy", "from-var", "literal-true"],
              "exactly the entries whose when: is true ran (%s)" % made())
        res = results(out)
        c = {k["id"]: k for _, k in entries(res)}
        want = {"create-marker": "pass", "existed-branch": "not_needed",
                "literal-false": "not_needed", "literal-true": "pass", "from-var": "pass",
                "from-var-off": "not_needed"}
        check(all(c[i]["status"] == s for i, s in want.items()),
              "results.json: each entry's status (%s)" %
              {i: c[i]["status"] for i in want})
        check(c["existed-branch"]["message"] ==
              "not needed: when '${marker_existed}' is false" and
              c["from-var-off"]["message"] == "not needed: when '${off}' is false" and
              c["literal-false"]["message"] == "not needed: its when: is false",
              "the message says why in words")
        check(c["existed-branch"]["started_at"] is None,
              "an entry that was not needed has no start time")
        check(res["verdict"] == "GO" and res["totals"]["actions_not_needed"] == 3 and
              res["totals"]["actions_run"] == 5,
              "totals count not-needed actions apart (%s)" % res["totals"])
        check("NONE  action existed-branch  Note that the marker was there before — not needed: "
              "when '${marker_existed}' is false" in r.stdout and
              "3 not needed (when: false)" in r.stdout, "the console says so")
        for f in made():
            os.unlink(os.path.join(tmp, f))
        # the marker exists now: the other branch runs
        open(os.path.join(tmp, "marker"), "w").close()
        r = pg("run", WHEN_SUITE, "--var", "dir=" + tmp, "--out", out)
        check(r.returncode == 0 and "existed-branch" in made() and
              "create-marker" not in made(), "the other branch runs when the record differs")
        os.unlink(os.path.join(tmp, "marker"))
        for f in made():
            os.unlink(os.path.join(tmp, f))

        # a failed gate: collectors and rollbacks with conditions
        r = pg("run", WHEN_SUITE, "--var", "dir=" + tmp, "--var", "health_exit=1", "--out", out)
        res = results(out)
        c = {k["id"]: k for _, k in entries(res)}
        check(r.returncode == 1 and res["verdict"] == "NO-GO" and
              res["blocking_check"] == "healthy" and res.get("rollback_failed") is None,
              "the failed check is the cause; a rollback not needed is no failed rollback")
        check("collect-deploy" in made() and "collect-config" not in made() and
              "remove-deploy" in made() and "restore-config" not in made(),
              "only the collectors and rollbacks whose when: is true ran (%s)" % made())
        check(c["restore-config"]["status"] == "not_needed" and
              c["restore-config"]["kind"] == "rollback" and
              c["collect-config"]["status"] == "not_needed" and
              c["remove-deploy"]["status"] == "pass",
              "results.json: rollbacks and collectors (%s)" %
              [(i, c[i]["status"]) for i in ("restore-config", "collect-config")])
        check("not collected collect-config — not needed: when '${config_changed}' is false"
              in r.stdout and "NONE  rollback restore-config" in r.stdout and
              "ROLLBACK FAILED" not in r.stdout, "the console shows both")
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        check("- [ ] ⚪ rollback: Put the previous configuration back — not needed: when "
              "'\\${config\\_changed}' is false" in md and
              "**Not collected: collect-config** — not needed" in md and
              "- [ ] ⚪ action: Note that the marker was there before — not needed" in md and
              "4 not needed (when: false)" in md and "blocked" not in md.split("## Checklist")[1]
              .split("Phase 2")[0],
              "the go-live report says 'not needed', never 'blocked'")
        xml_path = os.path.join(out, "junit.xml")
        xml = open(xml_path, encoding="utf-8").read()
        check(junit_valid(xml_path), "JUnit validates against junit-10.xsd")
        check('<skipped message="not needed: when \'${config_changed}\' is false"/>' in xml and
              '<skipped message="not needed: when \'${marker_existed}\' is false"/>' in xml and
              "its when: was false" in xml, "JUnit: skipped with the reason")
        # read back: the same reports from results.json
        again = os.path.join(tmp, "again")
        rr = pg("report", os.path.join(out, "results.json"), "--out", again, "--html",
                os.path.join(tmp, "r.html"))
        a = results(again)
        ca = {k["id"]: k for _, k in entries(a)}
        check(rr.returncode == 0 and ca["restore-config"]["status"] == "not_needed" and
              a["totals"]["actions_not_needed"] == 4 and a["verdict"] == "NO-GO",
              "report RESULTS.json reads not_needed back (rc %d %s)" % (rr.returncode,
                                                                         rr.stderr[-300:]))
        html = open(os.path.join(tmp, "r.html"), encoding="utf-8").read()
        check("NOT NEEDED" in html and "Not collected: collect-config" in html and
              "not needed: when &#39;${config_changed}&#39; is false" in html, "HTML says so")
        check(junit_valid(os.path.join(again, "junit.xml")), "JUnit from report validates")
        # a check with not_needed is not a file phasegate wrote
        bad = json.loads(open(os.path.join(out, "results.json"), encoding="utf-8").read())
        for ph in bad["phases"]:
            for st in ph["steps"]:
                for k in st["checks"]:
                    if k["id"] == "healthy":
                        k["status"] = "not_needed"
        badp = os.path.join(tmp, "bad.json")
        json.dump(bad, open(badp, "w"))
        rb = pg("report", badp, "--markdown", os.path.join(tmp, "bad.md"))
        check(rb.returncode == 2 and "not_needed is for actions" in rb.stderr,
              "a check marked not_needed in results.json is refused (%s)" % rb.stderr[-200:])

        # --dry-run and list print the condition; validate shows what load decided
        for f in made():
            os.unlink(os.path.join(tmp, f))
        d = pg("run", WHEN_SUITE, "--var", "dir=" + tmp, "--dry-run")
        check(d.returncode == 0 and
              "would run when ${marker_missing} is true" in d.stdout and
              "not needed: when 'false' is false (decided at load): would not run" in d.stdout and
              "when '${flag}' is true (decided at load): would run" in d.stdout and
              "would run when ${config_changed} is true" in d.stdout and made() == [],
              "--dry-run prints each condition and runs nothing")
        lst = pg("list", WHEN_SUITE)
        check("would run when ${deploy_created} is true" in lst.stdout, "list prints it")
        v = pg("validate", WHEN_SUITE)
        check(v.returncode == 0 and
              "when: step 1.1, from-var-off: not needed: '${off}' is false (decided at load)"
              in v.stdout and "when: 6 entries are decided at run time" in v.stdout,
              "validate shows what it decided at load (%s)" % v.stdout)

        # not a boolean once expanded, and a value nothing saved: errors of the entry
        r = pg("run", WHEN_BAD, "--var", "dir=" + tmp, "--out", out)
        c = {k["id"]: k for _, k in entries(results(out))}
        check(r.returncode == 1 and c["act"]["status"] == "error" and
              c["act"]["message"] == "when '${word}' is 'maybe' once expanded (word = maybe); "
              "it must be exactly true or false" and not os.path.exists(os.path.join(tmp, "act")),
              "a text that is not true or false is an error naming it and its variable (%s)" %
              c["act"]["message"])
        check(c["undo"]["status"] == "error" and
              c["undo"]["message"].startswith("ROLLBACK FAILED: when '${word}' is 'maybe'") and
              results(out)["rollback_failed"] == "1.2",
              "a rollback whose condition cannot be decided is a failed rollback")
        long_msg = c["collect-long"]["message"]
        check(c["collect-long"]["status"] == "error" and len(long_msg) < 400 and
              "xxx…" in long_msg and results(out)["blocking_check"] == "act",
              "a long value is cut in the message; a collector's error changes nothing (%d: %s)"
              % (len(long_msg), long_msg[:200]))
        r = pg("run", WHEN_BAD, "--var", "dir=" + tmp, "--out", out, "--step", "1.2")
        c = {k["id"]: k for _, k in entries(results(out))}
        check(r.returncode == 1 and c["act"]["status"] == "error" and
              "undefined variable 'word'" in c["act"]["message"] and
              "nothing in this run saved it" in c["act"]["message"],
              "a value nothing saved is an error naming the variable (%s)" % c["act"]["message"])

        # refused at load, each at its file:line:column
        cases = [
            ("on a check", "checks", '"true"',
             ":9:19: error: when: is not allowed on a check: a check that may not run cannot "
             "be evidence for its gate"),
            ("not a boolean", "actions", "maybe",
             ":9:19: error: when: must be exactly true or false, not 'maybe'"),
            ("a suite variable that is not a boolean", "actions", '"${flag}"',
             ":9:19: error: when: '${flag}' expands to 'yes'; it must be exactly true or false"),
            ("a list", "actions", "[true]",
             ":9:19: error: when: must be a text that expands to true or false"),
            ("empty", "actions", "",
             ":9:18: error: when: must be a text that expands to true or false"),
            ("an undefined variable", "actions", '"${nothing}"',
             ":9:19: error: undefined variable 'nothing'"),
            ("a value saved later", "actions", '"${later}"',
             ":9:19: error: variable 'later' is saved by check 'ok' which runs later"),
        ]
        for what, kind, value, want in cases:
            p = os.path.join(tmp, "bad.yaml")
            with open(p, "w") as f:
                f.write('name: bad\nvars: {flag: "yes"}\nphases:\n  - id: "1"\n    steps:\n'
                        '      - id: "1.1"\n        %s:\n          - id: x1\n'
                        '            when:%s\n            exec: {argv: ["true"]}\n'
                        '        %s:\n          - id: ok\n            exec: {argv: ["true"]}\n'
                        '            save: {later: "true"}\n'
                        % (kind, " " + value if value else "",
                           "actions" if kind == "checks" else "checks"))
            v = pg("validate", p)
            check(v.returncode == 2 and (p + want) in v.stderr,
                  "when: %s is refused at load (%s)" % (what, v.stderr.strip()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- remedies --------------------------------------------------------------------

def test_remedies():
    suite = os.path.join(HERE, "remedies.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-rem-")
    try:
        v = pg("validate", suite)
        warned = [l for l in v.stderr.splitlines() if ": warning: " in l]
        check(v.returncode == 0 and len(warned) == 2 and
              "remedies.yaml:15:13: warning: check 'without-remedy' has no remedy" in v.stderr
              and "check 'also-without'" in v.stderr,
              "validate warns once per automated check without a remedy, with its place "
              "(not actions, collectors, rollbacks or manual checks) (%s)" % v.stderr)
        v = pg("validate", suite, "--strict")
        check(v.returncode == 2 and "remedies.yaml:15:13: error: check 'without-remedy'" in
              v.stderr and "2 problems found" in v.stderr,
              "validate --strict: each is an error, exit 2 (%s)" % v.stderr.strip())
        req = os.path.join(tmp, "req.yaml")
        with open(req, "w") as f:
            f.write(open(suite).read().replace("name: remedies\n",
                                               "name: remedies\nrequire: {remedy: true}\n"))
        marker = os.path.join(tmp, "marker")
        with open(req, "a") as f:
            f.write("  - id: \"3\"\n    steps:\n      - id: \"3.1\"\n        actions:\n"
                    "          - exec: {argv: [touch, \"%s\"]}\n" % marker)
        for cmd in (["validate"], ["run"]):
            r = pg(*cmd, req, "--out", os.path.join(tmp, "out")) if cmd == ["run"] else \
                pg(*cmd, req)
            check(r.returncode == 2 and "check 'without-remedy' has no remedy" in r.stderr and
                  not os.path.exists(marker) and not os.path.exists(os.path.join(tmp, "out")),
                  "require: {remedy: true}: %s is exit 2, nothing run (%d)" %
                  (cmd[0], r.returncode))
        r = pg("validate", os.path.join(HERE, "protocol.yaml"), "--strict")
        check(r.returncode == 0 and "warning" not in r.stderr,
              "a suite whose checks all have remedies passes --strict")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


# ---- test environment first ------------------------------------------------------

def test_prior():
    suite = os.path.join(HERE, "protocol.yaml")
    tmp = tempfile.mkdtemp(prefix="pg-prior-")
    try:
        good = os.path.join(tmp, "test-run")
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", good)
        check(r.returncode == 0 and results(good)["verdict"] == "GO", "the test run is GO")
        os.unlink(os.path.join(tmp, "marker"))
        prod = ["run", suite, "--var", "dir=" + tmp, "--var", "env=production"]

        def refused(label, args, msg):
            out = os.path.join(tmp, "prod-out")
            r = pg(*prod, "--out", out, *args)
            check(r.returncode == 2 and msg in r.stderr and "nothing was run" in r.stderr and
                  not os.path.exists(os.path.join(tmp, "marker")) and not os.path.exists(out),
                  "%s: exit 2, '%s', nothing run (%d %s)" % (label, msg, r.returncode,
                                                              r.stderr.strip()[-300:]))

        refused("missing prior", [], "needs --prior RESULTS.json")
        r = pg(*prod, "--dry-run")
        check(r.returncode == 2, "--dry-run of a production run also needs it")
        # wrong suite: a GO run of another suite
        other = os.path.join(tmp, "other-run")
        pg("run", os.path.join(HERE, "destructive.yaml"), "--var", "dir=" + tmp, "--step",
           "safe", "--out", other)
        refused("wrong suite", ["--prior", os.path.join(other, "results.json")],
                "a run of another suite")

        def variant(name, **change):
            d = os.path.join(tmp, name)
            os.mkdir(d)
            res = results(good)
            res.update(change)
            with open(os.path.join(d, "results.json"), "w") as f:
                json.dump(res, f)
            return os.path.join(d, "results.json")

        refused("wrong environment", ["--prior", variant("staging", environment="staging")],
                "ran in environment 'staging'; the suite needs a run in 'test'")
        refused("NO-GO prior", ["--prior", variant("nogo", verdict="NO-GO", reason="x")],
                "verdict is NO-GO, not GO")
        refused("PENDING prior", ["--prior", variant("pending", verdict="PENDING")],
                "verdict is PENDING, not GO")
        refused("stale prior", ["--prior", variant("stale", finished_at=now_iso(-8 * 86400))],
                "too old")
        refused("future prior", ["--prior", variant("future", finished_at=now_iso(86400))],
                "in the future")
        refused("no digest", ["--prior", variant("nodigest", suite_digest=None)],
                "a run of another suite")
        refused("not a results file", ["--prior", os.path.join(HERE, "protocol.yaml")],
                "--prior")
        # the good prior: the run starts and every report names it
        res0 = results(good)
        out = os.path.join(tmp, "prod")
        r = pg(*prod, "--prior", os.path.join(good, "results.json"), "--out", out,
               "--html", os.path.join(tmp, "prod.html"))
        res = results(out)
        pr = res.get("prior") or {}
        check(r.returncode == 0 and res["verdict"] == "GO" and
              os.path.exists(os.path.join(tmp, "marker")),
              "a good prior: the production run runs (%d %s)" % (r.returncode, r.stderr))
        check(pr.get("run_id") == res0["run_id"] and pr.get("environment") == "test" and
              pr.get("finished_at") == res0["finished_at"] and
              pr.get("suite_digest") == res0["suite_digest"],
              "results.json names the prior run (%s)" % pr)
        md = open(os.path.join(out, "report.md"), encoding="utf-8").read()
        html = open(os.path.join(tmp, "prod.html"), encoding="utf-8").read()
        xml = open(os.path.join(out, "junit.xml"), encoding="utf-8").read()
        check(("**Prior run:** %s in environment test, GO" % res0["run_id"]) in md,
              "report.md names it")
        check(res0["run_id"] in html and ('name="prior_run_id" value="%s"' % res0["run_id"])
              in xml and ("prior run " + res0["run_id"]) in r.stdout,
              "the HTML report, JUnit and the console name it")
        # a run outside required_for needs no prior, and a prior given is still checked
        r = pg("run", suite, "--var", "dir=" + tmp, "--out", os.path.join(tmp, "t2"),
               "--prior", variant("nogo2", verdict="NO-GO"))
        check(r.returncode == 2, "a bad --prior is refused even where none is required")
        r = pg("validate", suite, "--var", "env=production")
        check(r.returncode == 0, "validate does not need the prior")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


TESTS = {"rollback": test_rollback, "selection": test_selection, "destructive": test_destructive,
         "attest-bad": test_attest_bad, "attest-flow": test_attest_flow,
         "attest-signed": test_attest_signed, "waits": test_waits, "files": test_files,
         "digest": test_digest, "report-rules": test_report_rules, "escalation": test_escalation,
         "remedies": test_remedies, "prior": test_prior, "when": test_when}

if __name__ == "__main__":
    TESTS[sys.argv[1]]()
