"""Fidelity of the k8s module against the real kubectl, on one running
kubesim instance: for every kind in the world, `kubectl get -o json` lists
the objects (the world's, and manifests/versioned-objects.yaml put in place
for the run: kinds served in several versions with differing shapes, and a
CRD with two versions and conversion None), and a generated suite asks
phasegate for each object (by kind
and apiVersion, and again in every other served version of its group) and
checks that its facts hold the very same object; for
every Deployment, StatefulSet and DaemonSet, `kubectl rollout status
--watch=false` gives the verdict and wording that phasegate's rollout check
must agree with. The simulator clock is paused so that nothing changes
between the two readings.

Usage: fidelity.py INSTANCE WORLD   (e.g. fidelity.py healthy argocd-healthy)
Needs PG_BINARY, PG_BUILD_DIR, PG_SOURCE_DIR and kubectl on PATH."""
import json
import os
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_case import ctl, sim_paths  # noqa: E402


EXTRA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "manifests",
                     "versioned-objects.yaml")


def extra_objects():
    with open(EXTRA, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def world_kinds(world_dir):
    kinds = set()
    for root, dirs, files in os.walk(world_dir):
        dirs[:] = [d for d in dirs if d != "_sim"]
        for name in files:
            if name.endswith((".yaml", ".yml")):
                with open(os.path.join(root, name), encoding="utf-8") as f:
                    for doc in yaml.safe_load_all(f):
                        if doc:
                            kinds.add((doc["apiVersion"], doc["kind"]))
    return sorted(kinds)


def other_versions(kcfg, cache, api_version, kind):
    """[(apiVersion, plural)] of the other served versions of kind's group
    that serve kind too (an autoscaling/v1 HorizontalPodAutoscaler beside
    the preferred v2), from the server's discovery documents."""
    group, _, version = api_version.rpartition("/")
    if not group:
        return []
    r = kubectl(kcfg, cache, "get", "--raw", "/apis/" + group)
    if r.returncode != 0:
        return []
    out = []
    for v in json.loads(r.stdout).get("versions", []):
        if v["version"] == version:
            continue
        rl = kubectl(kcfg, cache, "get", "--raw", "/apis/%s/%s" % (group, v["version"]))
        if rl.returncode != 0:
            continue
        for res in json.loads(rl.stdout).get("resources", []):
            if res.get("kind") == kind and "/" not in res["name"]:
                out.append((group + "/" + v["version"], res["name"]))
    return out


def kubectl(kcfg, cache, *args):
    return subprocess.run(["kubectl", "--kubeconfig", kcfg, "--cache-dir", cache] + list(args),
                          capture_output=True, text=True, timeout=60)


def main():
    inst, world = sys.argv[1], sys.argv[2]
    base, port = sim_paths(inst)
    kcfg = os.path.join(base, "pki", "kubeconfig")
    out = os.path.join(os.environ["PG_BUILD_DIR"], "k8s-results", "fidelity-" + inst)
    os.makedirs(out, exist_ok=True)
    cache = os.path.join(out, "kube-cache")
    shutil.rmtree(cache, ignore_errors=True)  # discovery changes with the extra objects
    ctl(base, port, "POST", "/_sim/reset?paused=true")
    ctl(base, port, "DELETE", "/_sim/faults")
    extra = extra_objects()
    ctl(base, port, "POST", "/_sim/objects", json.dumps(extra))
    try:
        return compare(inst, world, base, port, kcfg, out, cache, extra)
    finally:
        ctl(base, port, "POST", "/_sim/reset")  # the extra objects go


def compare(inst, world, base, port, kcfg, out, cache, extra):

    checks = []
    problems = []
    n_objects = n_rollouts = 0
    # every kind of the world in its own version, and again in each other
    # version its group serves (kubectl names those plural.version.group)
    targets = []
    kinds = set(world_kinds(os.path.join(os.environ["PG_SOURCE_DIR"], "fixtures", "worlds",
                                         world)))
    kinds |= {(d["apiVersion"], d["kind"]) for d in extra}
    for api_version, kind in sorted(kinds):
        group = api_version.rpartition("/")[0]
        targets.append((api_version, kind, kind.lower() + ("." + group if group else "")))
        for other, plural in other_versions(kcfg, cache, api_version, kind):
            targets.append((other, kind, "%s.%s.%s" % (plural, other.rpartition("/")[2],
                                                       group)))
    seen_targets = set()
    for api_version, kind, arg in targets:
        if (api_version, kind) in seen_targets:
            continue  # listed in two versions: each reads the other too
        seen_targets.add((api_version, kind))
        r = kubectl(kcfg, cache, "get", arg, "-A", "-o", "json")
        if r.returncode != 0:
            problems.append("kubectl get %s -A -o json failed: %s" % (arg, r.stderr.strip()))
            continue
        for item in json.loads(r.stdout)["items"]:
            meta = item["metadata"]
            item.get("metadata", {}).pop("managedFields", None)
            if kind == "Secret":
                # phasegate's facts never hold secret values: the same
                # object with each value replaced by its redaction note
                for field in ("data", "stringData"):
                    for k, v in (item.get(field) or {}).items():
                        n = len(v) // 4 * 3 if field == "data" else len(v)
                        item[field][k] = "(redacted, about %d bytes)" % n
                ann = meta.get("annotations") or {}
                ann.pop("kubectl.kubernetes.io/last-applied-configuration", None)
            n_objects += 1
            cfg = {"get": True, "kind": kind, "apiVersion": api_version, "name": meta["name"]}
            if meta.get("namespace"):
                cfg["namespace"] = meta["namespace"]
            cid = "get-%s-%s-%s-%s" % (kind.lower(), api_version.replace("/", "-"),
                                       meta.get("namespace", "cluster"), meta["name"])
            checks.append({"id": cid[:120], "k8s": cfg, "expect": [
                {"path": "exists", "equals": True},
                {"jq": "(.object | del(.metadata.managedFields)) == " + json.dumps(item, sort_keys=True),
                 "message": "phasegate's object differs from kubectl's"}]})
            if kind in ("Deployment", "StatefulSet", "DaemonSet") and not any(
                    c["id"].startswith("rollout-%s-%s" % (kind.lower(), meta["name"]))
                    for c in checks):
                n_rollouts += 1
                rr = kubectl(kcfg, cache, "rollout", "status", "%s/%s" % (kind.lower(), meta["name"]),
                             "-n", meta["namespace"], "--watch=false")
                text = (rr.stdout + rr.stderr).strip()
                done_words = ("successfully rolled out", "partitioned roll out complete",
                              "rolling update complete")
                if rr.returncode == 0 and any(w in text for w in done_words):
                    verdict = "complete"
                elif rr.returncode == 0:
                    verdict = "progressing"
                elif "exceeded its progress deadline" in text:
                    verdict = "failed"
                else:
                    problems.append("kubectl rollout status %s/%s: rc %d: %s" %
                                    (kind, meta["name"], rr.returncode, text))
                    continue
                if text.startswith("error: "):
                    text = text[len("error: "):]
                rcfg = {"rollout": "%s/%s" % (kind.lower(), meta["name"]),
                        "namespace": meta["namespace"]}
                checks.append({"id": ("rollout-%s-%s" % (kind.lower(), meta["name"]))[:120],
                               "k8s": rcfg,
                               "expect": [{"path": "status", "equals": verdict},
                                          {"path": "message", "equals": text}]})
    suite = {
        "name": "k8s-fidelity-" + inst,
        "modules": {"k8s": {"kubeconfig": kcfg, "context": "admin"}},
        "defaults": {"timeout": "20s", "gate": False},
        "phases": [{"id": "1", "name": "kubectl agreement", "steps": [
            {"id": "1.1", "name": "objects and rollouts",
             "checkpoint": {"id": "agree", "checks": checks}}]}],
    }
    suite_path = os.path.join(out, "suite.yaml")
    with open(suite_path, "w") as f:
        json.dump(suite, f, indent=1)
    proc = subprocess.run([os.environ["PG_BINARY"], "run", suite_path, "--out", out, "--jobs", "8"],
                          capture_output=True, text=True, timeout=300)
    try:
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        print(proc.stdout + proc.stderr)
        print("PROBLEM: cannot read results: %s" % e)
        return 1
    seen = 0
    for phase in results["phases"]:
        for step in phase["steps"]:
            for c in step["checks"]:
                seen += 1
                if c["status"] != "pass":
                    problems.append("%s: %s: %s (seen %s)" % (c["id"], c["status"], c.get("message"),
                                                             (c.get("seen") or "")[:300]))
    if seen != len(checks):
        problems.append("%d checks in the results, %d generated" % (seen, len(checks)))
    if n_objects == 0 or n_rollouts == 0:
        problems.append("the world gave %d objects and %d rollouts" % (n_objects, n_rollouts))
    for p in problems:
        print("PROBLEM: " + p)
    print("%s: %d objects and %d rollout verdicts compared with kubectl, %d problems" %
          (inst, n_objects, n_rollouts, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
