#!/usr/bin/env python3
"""`phasegate health` as a user runs it: multi-document files, kind: List,
a customizations directory, the JSON line per object, and the exit code
and file:line:col message for input that is not Kubernetes objects."""
import json
import os
import subprocess
import sys
import tempfile

binary = os.environ["PG_BINARY"]
failures = []
checks = 0


def check(name, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        failures.append(f"{name}: {detail}")


def run(*args):
    return subprocess.run([binary, "health", *args], capture_output=True, text=True, timeout=60)


with tempfile.TemporaryDirectory() as tmp:
    custom = os.path.join(tmp, "custom")
    os.makedirs(os.path.join(custom, "example.com", "Widget"))
    with open(os.path.join(custom, "example.com", "Widget", "health.lua"), "w") as f:
        f.write('local hs = {}\n'
                'if obj.status and obj.status.ready then hs.status = "Healthy"\n'
                'else hs.status = "Progressing" hs.message = "waiting for " .. obj.metadata.name end\n'
                'return hs\n')
    os.makedirs(os.path.join(custom, "example.com", "Looper"))
    with open(os.path.join(custom, "example.com", "Looper", "health.lua"), "w") as f:
        f.write("while true do end\n")
    objs = os.path.join(tmp, "objs.yaml")
    with open(objs, "w") as f:
        f.write("# a comment before the first document\n"
                "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: a, namespace: ns1}\n"
                "status: {ready: true}\n"
                "---\n"
                "---\n"
                "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: \"b \\\"q\\\"\"}\n"
                "---\n"
                "apiVersion: v1\nkind: List\nitems:\n"
                "- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata: {name: c}\n"
                "  status: {phase: Bound}\n"
                "- apiVersion: example.com/v1\n  kind: Looper\n  metadata: {name: d}\n")
    p = run("--customizations", custom, objs)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    check("exit 0 for readable files", p.returncode == 0, f"{p.returncode} {p.stderr}")
    check("one line per object", len(lines) == 4, p.stdout)
    if len(lines) == 4:
        check("keys in order", list(lines[0]) ==
              ["apiVersion", "kind", "name", "namespace", "status", "message"], lines[0])
        check("script healthy", lines[0]["status"] == "Healthy" and lines[0]["namespace"] == "ns1",
              lines[0])
        check("script progressing", lines[1]["status"] == "Progressing" and
              lines[1]["message"] == 'waiting for b "q"', lines[1])
        check("List items, built-in rules", lines[2]["kind"] == "PersistentVolumeClaim" and
              lines[2]["status"] == "Healthy", lines[2])
        check("endless script is Unknown", lines[3]["status"] == "Unknown" and
              "the script ran" in lines[3]["message"], lines[3])

    # scripts that fail: Unknown with the reason, never a crash or a hang
    bad_scripts = {
        "Loop": ("while true do end", "the script ran"),
        "Bomb": ("local t = {} for i = 1, 1000 do t[i] = string.rep('x', 2^20 * i) end",
                 "MiB of memory"),
        "Exec": ("os.execute('touch /tmp/pg-lua-escaped') return {status = 'Healthy'}",
                 "attempt to call field 'execute'"),
        "Io": ("local f = io.open('/etc/passwd') return {status = 'Healthy'}",
               "attempt to index global 'io'"),
        "Require": ("local io = require('io') return {status = 'Healthy'}",
                    "module 'io' not found"),
        "Dofile": ("dofile('/etc/passwd') return {status = 'Healthy'}",
                   "attempt to call global 'dofile'"),
        "Loadstring": ("loadstring('return 1')() return {status = 'Healthy'}",
                       "attempt to call global 'loadstring'"),
        "Boom": ("local hs = {}\nhs.status = obj.status.phase\nreturn hs",
                 "health.lua:2: attempt to index field 'status'"),
    }
    docs = []
    for kind, (script, _) in bad_scripts.items():
        os.makedirs(os.path.join(custom, "bad.example.com", kind))
        with open(os.path.join(custom, "bad.example.com", kind, "health.lua"), "w") as f:
            f.write(script + "\n")
        docs.append(f"apiVersion: bad.example.com/v1\nkind: {kind}\nmetadata: {{name: x}}\n")
    badobjs = os.path.join(tmp, "badobjs.yaml")
    with open(badobjs, "w") as f:
        f.write("---\n".join(docs))
    p = run("--customizations", custom, badobjs)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    check("failing scripts: exit 0", p.returncode == 0, f"{p.returncode} {p.stderr}")
    check("failing scripts: one line each", len(lines) == len(bad_scripts), p.stdout)
    for line, (kind, (_, part)) in zip(lines, bad_scripts.items()):
        check(f"{kind} is Unknown", line["kind"] == kind and line["status"] == "Unknown" and
              part in line["message"], line)
    check("os.execute ran nothing", not os.path.exists("/tmp/pg-lua-escaped"))

    # without a customizations directory only the built-in rules apply
    p = run(objs)
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    check("no dir: built-in", p.returncode == 0 and len(lines) == 4 and
          all(l["status"] == "Healthy" for l in lines), p.stdout)

    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n- just\n- a list\n"
                "---\nmetadata: {name: x}\n")
    p = run(bad)
    check("exit 2 for something else than objects", p.returncode == 2, p.returncode)
    check("the good object is still judged", len(p.stdout.splitlines()) == 1, p.stdout)
    check("file:line:col for a list", f"{bad}:5:1:" in p.stderr and "not a Kubernetes object"
          in p.stderr, p.stderr)
    check("file:line:col for no kind", f"{bad}:8:1:" in p.stderr and "apiVersion is missing"
          in p.stderr, p.stderr)

    broken = os.path.join(tmp, "broken.yaml")
    with open(broken, "w") as f:
        f.write("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed\n")
    p = run(broken)
    check("exit 2 for bad YAML", p.returncode == 2 and f"{broken}:" in p.stderr, p.stderr)

    p = run(os.path.join(tmp, "missing.yaml"))
    check("exit 2 for a missing file", p.returncode == 2 and "missing.yaml" in p.stderr, p.stderr)
    p = run("--customizations", os.path.join(tmp, "nodir"), objs)
    check("exit 2 for a missing directory", p.returncode == 2 and "nodir" in p.stderr, p.stderr)
    p = run("--frobnicate", objs)
    check("exit 2 for an unknown option", p.returncode == 2 and "--frobnicate" in p.stderr,
          p.stderr)
    p = run()
    check("exit 2 without files", p.returncode == 2, p.stderr)

for f in failures:
    print("FAIL", f)
print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
