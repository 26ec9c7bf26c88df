"""Runs one data-driven case of the k8s module: prepares a running kubesim
instance (reset, paused clock, clock advance, fault rules), runs the real CLI
on a suite whose k8s settings point at that instance, and compares the exit
code, each check's status and message, and the output with the case file:

  {"sim": "healthy",                 instance: k8s-<sim> under PG_BUILD_DIR/tests/sim
   "reset": true,                    POST /_sim/reset first ("paused": clock stopped)
   "paused": true,
   "advance": "5s",                  then move the simulator clock forward
   "resume_after": 1.0,              with "paused": start the clock this many seconds
                                     into the run (changes come while checks wait)
   "faults": [{...}],                fault rules for this case (cleared after)
   "objects": [{...}],               objects put in place through POST /_sim/objects
                                     (use with "reset": the next reset removes them)
   "watch": {"expireAfterEvents": 0, watch expiry (POST /_sim/watch; cleared after)
             "times": 1},
   "requests": [{"match": "re",      lines of the simulator's request log written during
                 "count": 1,         the run matching the regular expression: exactly,
                 "min": 1, "max": 3}],  at least, at most
   "kubeconfig": "bad.yaml",         use this file (relative to the case) instead
   "kubeconfig_set": {"server": x},  change every cluster of the instance's kubeconfig
   "kubeconfig_drop": ["key"],       remove keys from every cluster
   "service_account": {"token": t,   an in-cluster service account directory (token,
                       "namespace": n},  the simulator's ca.crt, namespace) in K8S_SA_DIR,
                                     KUBERNETES_SERVICE_HOST/PORT set, no kubeconfig
   "kubeconfig_user": {"admin": {}}, replace users' definitions (@CASE_DIR@ and
                                     @OUT@ in strings are the case and output dirs)
   "suite": "read.yaml",             relative to the case file
   "args": ["--var", "x=1"],         extra arguments (@KUBECONFIG@: the instance's)
   "exit": 0,
   "every": "pass",                  status of every check not listed
   "checks": {"id": "pass", "id2": {"status": "error", "message": ["part"]},
              "id3": {"status": "pass", "attempts_ge": 2}},
   "output": ["part"],               parts of stdout+stderr
   "never": ["secret"],              text that must appear in no output or report
   "idp": {"refresh_token": "rt",    an OIDC provider (fixtures/oidc/idp.py) for the
           "client_secret": "s",     run, trusted by the simulator (POST /_sim/oidc);
           "delay": 0.3, ...},       other keys: rotate, no_id_token, form_auth, ttl
   "idp_expect": {"refreshed": 1},   its counters after the run (key_ge: at least)
   "proxy": {"user": u,              a CONNECT/SOCKS5 proxy (fixtures/proxy/proxy.py),
             "password": p},         {} for one without authentication
   "proxy_expect": {"connect": 1}}   its counters after the run (key_ge: at least)

In every string of the case, @IDP@ is the provider's issuer URL, @IDP_CA@ the
file and @IDP_CA_DATA@ the Base64 of its CA, @JWT_VALID@ and @JWT_EXPIRED@
id-tokens it would have signed (an hour ahead, an hour ago), @PROXY@ the
proxy's host:port and @SIM_PORT@ the simulator's port.

The suite reads the instance's kubeconfig from ${env.K8S_KUBECONFIG}; the
simulator's directory is in K8S_SIM_DIR. Needs PG_BINARY and PG_BUILD_DIR.
Usage: run_case.py CASE.json"""
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures")
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(FIXTURES, "oidc"))
import casecheck  # noqa: E402
from idp import jwt_hs256  # noqa: E402

IDP_KEY = "kubesim-oidc-hmac-key"
IDP_CLIENT = "kubernetes"
IDP_USER = "oidc-admin@example.com"


def sim_paths(name):
    base = os.path.join(os.environ["PG_BUILD_DIR"], "tests", "sim", "k8s-" + name)
    with open(os.path.join(base, "pki", "port")) as f:
        port = int(f.read().strip())
    return base, port


def ctl(base, port, method, path, body=None):
    return casecheck.sim_call(os.path.join(base, "tls", "ca.crt"), port, method, path, body)


def start_helper(argv, work):
    """Starts a helper server that writes its port to work/port."""
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    proc = subprocess.Popen([sys.executable] + argv + ["--dir", work])
    for _ in range(200):
        if os.path.exists(os.path.join(work, "port")):
            with open(os.path.join(work, "port")) as f:
                return proc, int(f.read())
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("helper %s did not start" % argv[0])


def start_idp(spec, work):
    argv = [os.path.join(FIXTURES, "oidc", "idp.py"), "--client-id", IDP_CLIENT,
            "--refresh-token", spec["refresh_token"], "--key", IDP_KEY, "--user", IDP_USER,
            "--groups", "system:masters", "--delay", str(spec.get("delay", 0)),
            "--ttl", str(spec.get("ttl", 3600))]
    if spec.get("client_secret"):
        argv += ["--client-secret", spec["client_secret"]]
    for flag in ("rotate", "no_id_token", "form_auth"):
        if spec.get(flag):
            argv.append("--" + flag.replace("_", "-"))
    proc, port = start_helper(argv, work)
    issuer = "https://127.0.0.1:%d" % port
    ca = os.path.join(work, "ca.crt")
    with open(ca, "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    now = int(time.time())

    def jwt(exp):
        return jwt_hs256({"iss": issuer, "aud": IDP_CLIENT, "sub": IDP_USER, "email": IDP_USER,
                          "groups": ["system:masters"], "iat": now, "exp": exp}, IDP_KEY)
    subst = {"@IDP@": issuer, "@IDP_CA@": ca, "@IDP_CA_DATA@": ca_data,
             "@JWT_VALID@": jwt(now + 3600), "@JWT_EXPIRED@": jwt(now - 3600)}
    return proc, issuer, subst


def idp_stats(issuer, ca):
    ctx = ssl.create_default_context(cafile=ca)
    with urllib.request.urlopen(issuer + "/_idp/stats", context=ctx, timeout=10) as r:
        return json.load(r)


def expect_counts(what, stats, want, problems):
    for key, n in want.items():
        if key.endswith("_ge"):
            got = stats.get(key[:-3], 0)
            if got < n:
                problems.append("%s %s: %d, expected at least %d" % (what, key[:-3], got, n))
        elif stats.get(key, 0) != n:
            problems.append("%s %s: %d, expected %d" % (what, key, stats.get(key, 0), n))


def main():
    case_path = sys.argv[1]
    with open(case_path) as f:
        case = json.load(f)
    here = os.path.dirname(os.path.abspath(case_path))
    name = os.path.splitext(os.path.basename(case_path))[0]
    base, port = sim_paths(case["sim"])
    helpers = []
    try:
        return run(case, here, name, base, port, helpers)
    finally:
        for proc in helpers:
            proc.kill()
            proc.wait()
        if case.get("idp"):
            ctl(base, port, "DELETE", "/_sim/oidc")


def run(case, here, name, base, port, helpers):
    out = os.path.join(os.environ["PG_BUILD_DIR"], "k8s-results", name)
    subst = {"@SIM_PORT@": str(port)}
    if case.get("idp"):
        proc, issuer, more = start_idp(case["idp"], out + ".idp")
        helpers.append(proc)
        subst.update(more)
        ctl(base, port, "POST", "/_sim/oidc", json.dumps({
            "issuer": issuer, "client_id": IDP_CLIENT, "key": IDP_KEY,
            "username_claim": "email", "groups_claim": "groups"}))
    if case.get("proxy") is not None:
        argv = [os.path.join(FIXTURES, "proxy", "proxy.py")]
        if case["proxy"].get("user"):
            argv += ["--user", case["proxy"]["user"], "--password", case["proxy"]["password"]]
        proc, pport = start_helper(argv, out + ".proxy")
        helpers.append(proc)
        subst["@PROXY@"] = "127.0.0.1:%d" % pport
    text = json.dumps(case)
    for k, v in subst.items():
        text = text.replace(k, v)
    case = json.loads(text)
    if case.get("reset"):
        ctl(base, port, "POST", "/_sim/reset" + ("?paused=true" if case.get("paused") else ""))
        ctl(base, port, "DELETE", "/_sim/faults")
    if case.get("advance"):
        ctl(base, port, "POST", "/_sim/clock", "advance: %s\n" % case["advance"])
    if case.get("faults"):
        ctl(base, port, "POST", "/_sim/faults", json.dumps(case["faults"]))
    if case.get("objects"):
        ctl(base, port, "POST", "/_sim/objects", json.dumps(case["objects"]))
    if case.get("watch"):
        ctl(base, port, "POST", "/_sim/watch", json.dumps(case["watch"]))
    log_path = os.path.join(base, "requests.log")
    log_from = os.path.getsize(log_path) if os.path.exists(log_path) else 0

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    json_path = os.path.join(out, "results.json")
    if os.path.exists(json_path):
        os.remove(json_path)
    cmd = [os.environ["PG_BINARY"], "run", os.path.join(here, case["suite"]), "--out", out]
    cmd += [a.replace("@KUBECONFIG@", os.path.join(base, "pki", "kubeconfig"))
            for a in case.get("args", [])]
    env = dict(os.environ)
    env["K8S_KUBECONFIG"] = os.path.join(base, "pki", "kubeconfig")
    if case.get("kubeconfig"):
        env["K8S_KUBECONFIG"] = os.path.join(here, case["kubeconfig"])
    elif case.get("kubeconfig_set") or case.get("kubeconfig_drop") or case.get("kubeconfig_user"):
        import yaml
        with open(env["K8S_KUBECONFIG"]) as f:
            kc = yaml.safe_load(f)
        for cl in kc.get("clusters", []):
            cl["cluster"].update(case.get("kubeconfig_set", {}))
            for key in case.get("kubeconfig_drop", []):
                cl["cluster"].pop(key, None)
        users = json.dumps(case.get("kubeconfig_user", {}))
        users = json.loads(users.replace("@CASE_DIR@", here).replace("@OUT@", out))
        for u in kc.get("users", []):
            if u["name"] in users:
                u["user"] = users[u["name"]]
        # beside the output, whose files are searched for secrets
        env["K8S_KUBECONFIG"] = out + ".kubeconfig.yaml"
        with open(env["K8S_KUBECONFIG"], "w") as f:
            yaml.safe_dump(kc, f)
    env["K8S_SIM_DIR"] = base
    env["K8S_OUT"] = out
    env.pop("KUBECONFIG", None)
    sa = case.get("service_account")
    if sa:
        sa_dir = out + ".serviceaccount"
        shutil.rmtree(sa_dir, ignore_errors=True)
        os.makedirs(sa_dir)
        shutil.copy(os.path.join(base, "tls", "ca.crt"), os.path.join(sa_dir, "ca.crt"))
        for key in ("token", "namespace"):
            with open(os.path.join(sa_dir, key), "w") as f:
                f.write(sa[key] + "\n")
        env["K8S_SA_DIR"] = sa_dir
        env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1"
        env["KUBERNETES_SERVICE_PORT"] = str(port)
        env["HOME"] = out  # no ~/.kube/config: the service account is used
    env.update(case.get("env", {}))
    resume = None
    if case.get("resume_after") is not None:
        resume = threading.Timer(float(case["resume_after"]), ctl,
                                 (base, port, "POST", "/_sim/clock", "paused: false\n"))
        resume.start()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=150, env=env)
    finally:
        if resume:
            resume.join()
        if case.get("faults"):
            ctl(base, port, "DELETE", "/_sim/faults")
        if case.get("watch"):
            ctl(base, port, "DELETE", "/_sim/watch")
    output = proc.stdout + proc.stderr
    problems, seen = casecheck.judge(case, proc.returncode, output, out)
    if case.get("idp_expect"):
        expect_counts("identity provider", idp_stats(subst["@IDP@"], subst["@IDP_CA@"]),
                      case["idp_expect"], problems)
    if case.get("proxy_expect"):
        with open(out + ".proxy/stats.json") as f:
            stats = json.load(f)
        expect_counts("proxy", stats, case["proxy_expect"], problems)
        output += "\nproxy: %s" % json.dumps(stats)
    problems += judge_requests(case.get("requests", []), log_path, log_from)
    return casecheck.report(cmd, output, problems, name, seen)

def judge_requests(wants, log_path, log_from):
    """Counts the request log's lines of this run against "requests"."""
    if not wants:
        return []
    # the simulator logs a request when it ends: a watch the run stopped
    # at its exit is written a moment later
    time.sleep(0.5)
    with open(log_path, "rb") as f:
        f.seek(log_from)
        lines = f.read().decode("utf-8", "replace").splitlines()
    problems = []
    for want in wants:
        rx = re.compile(want["match"])
        n = sum(1 for line in lines if rx.search(line))
        if "count" in want and n != want["count"]:
            problems.append("%d requests match %r, expected %d" % (n, want["match"],
                                                                   want["count"]))
        if n < want.get("min", 0):
            problems.append("%d requests match %r, expected at least %d" % (
                n, want["match"], want["min"]))
        if "max" in want and n > want["max"]:
            problems.append("%d requests match %r, expected at most %d" % (
                n, want["match"], want["max"]))
    if problems:
        problems.append("requests of the run:\n  " + "\n  ".join(lines))
    return problems


if __name__ == "__main__":
    sys.exit(main())
