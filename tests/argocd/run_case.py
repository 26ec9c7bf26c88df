"""Runs one data-driven case of the argocd module: prepares a running
kubesim instance with the Argo CD API (tests/argocd/sim_ctl.sh), runs the
real CLI on a suite, and judges the result with tests/lib/casecheck.py:

  {"sim": "read",                    instance under PG_BUILD_DIR/tests/argocd
   "reset": true,                    POST /_sim/reset first ("paused": clock stopped)
   "paused": true,
   "faults": [{...}],                fault rules for this case (cleared after)
   "stream_cut": 2,                  the next watch stream is cut after 2 events
   "health_change": {"app": a, "resource": "Kind/name", "health": h, "after": 1},
   "token": "admin",                 ARGOCD_AUTH_TOKEN = that token of
                                     pki/argocd-tokens.json (none: unset)
   "server": "127.0.0.1:1",          ARGOCD_SERVER instead of the instance's
   "config": {...},                  an argocd CLI config file written for the
                                     case (@SERVER@ and @TOKEN:name@ replaced),
                                     named by ARGOCD_CONFIG
   "config_dir": {...},              the same as ARGOCD_CONFIG_DIR/config
   "env": {"NAME": "value"},
   "suite": "read.yaml", "args": [...],
   then casecheck's keys: exit, every, checks, output, report, never.
   "never" may name tokens as "@TOKEN:name@".}

The suite gets ARGOCD_CA (the instance's CA), KUBECONFIG and ARGOCD_SIM_DIR.
Usage: run_case.py CASE.json"""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import casecheck  # noqa: E402


def sim(name):
    base = os.path.join(os.environ["PG_BUILD_DIR"], "tests", "sim", "argocd-" + name)
    with open(os.path.join(base, "pki", "argocd-port")) as f:
        port = int(f.read().strip())
    return base, port


def ctl(base, port, method, path, body=None):
    return casecheck.sim_call(os.path.join(base, "tls", "ca.crt"), port, method, path, body)


def tokens_of(base):
    with open(os.path.join(base, "pki", "argocd-tokens.json")) as f:
        return json.load(f)


def fill(text, base, port):
    text = text.replace("@SERVER@", "127.0.0.1:%d" % port)
    for name, tok in tokens_of(base).items():
        text = text.replace("@TOKEN:%s@" % name, tok)
    return text


def main():
    case_path = sys.argv[1]
    with open(case_path) as f:
        case = json.loads(f.read())
    here = os.path.dirname(os.path.abspath(case_path))
    name = os.path.splitext(os.path.basename(case_path))[0]
    base, port = sim(case["sim"])
    if case.get("reset"):
        ctl(base, port, "POST", "/_sim/reset" + ("?paused=true" if case.get("paused") else ""))
        ctl(base, port, "DELETE", "/_sim/faults")
        time.sleep(0.1)  # the new tokens file is written by the reset
    if case.get("faults"):
        ctl(base, port, "POST", "/_sim/faults", json.dumps(case["faults"]))
    if case.get("stream_cut"):
        ctl(base, port, "POST", "/_sim/argocd/stream-cut", json.dumps({"after": case["stream_cut"]}))
    if case.get("health_change"):
        ctl(base, port, "POST", "/_sim/argocd/health", json.dumps(case["health_change"]))
    case = json.loads(fill(json.dumps(case), base, port))

    out = os.path.join(os.environ["PG_BUILD_DIR"], "argocd-results", name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    cmd = [os.environ["PG_BINARY"], "run", os.path.join(here, case["suite"]), "--out", out]
    cmd += case.get("args", [])
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("ARGOCD_"):
            del env[k]
    env["HOME"] = out  # no ~/.config/argocd/config of the machine
    env["ARGOCD_SERVER"] = case.get("server", "127.0.0.1:%d" % port)
    env["ARGOCD_CA"] = os.path.join(base, "tls", "ca.crt")
    env["ARGOCD_SIM_DIR"] = base
    env["KUBECONFIG"] = os.path.join(base, "pki", "kubeconfig")
    if case.get("token"):
        env["ARGOCD_AUTH_TOKEN"] = tokens_of(base)[case["token"]]
    if "config" in case:
        if "server" not in case:
            del env["ARGOCD_SERVER"]
        path = out + ".argocd-config.yaml"
        with open(path, "w") as f:
            json.dump(case["config"], f)  # JSON is YAML
        env["ARGOCD_CONFIG"] = path
    if "config_dir" in case:
        if "server" not in case:
            del env["ARGOCD_SERVER"]
        cdir = out + ".argocd"
        os.makedirs(cdir, exist_ok=True)
        with open(os.path.join(cdir, "config"), "w") as f:
            json.dump(case["config_dir"], f)
        env["ARGOCD_CONFIG_DIR"] = cdir
    env.update(case.get("env", {}))
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=env)
    finally:
        if case.get("faults"):
            ctl(base, port, "DELETE", "/_sim/faults")
    output = proc.stdout + proc.stderr
    problems, seen = casecheck.judge(case, proc.returncode, output, out)
    return casecheck.report(cmd, output, problems, name, seen)


if __name__ == "__main__":
    sys.exit(main())
