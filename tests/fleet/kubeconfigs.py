#!/usr/bin/env python3
"""Makes the fleet tests' kubeconfigs from simulator instances: one file per
cluster in DIR (for --kubeconfig-dir) and one merged file whose contexts are
the cluster names (for --context). Usage: kubeconfigs.py DIR NAME=KUBECONFIG..."""
import os
import sys

import yaml


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "dir"), exist_ok=True)
    merged = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        kc = yaml.safe_load(open(path))
        ctx = next(c for c in kc["contexts"] if c["name"] == kc["current-context"])
        cluster = next(c for c in kc["clusters"] if c["name"] == ctx["context"]["cluster"])
        user = next(u for u in kc["users"] if u["name"] == ctx["context"]["user"])
        # file paths in the kubeconfig are relative to it: make them absolute
        base = os.path.dirname(os.path.abspath(path))
        for sec, keys in ((cluster["cluster"], ["certificate-authority"]),
                          (user["user"], ["client-certificate", "client-key", "tokenFile"])):
            for k in keys:
                if k in sec and not os.path.isabs(sec[k]):
                    sec[k] = os.path.join(base, sec[k])
        one = {"apiVersion": "v1", "kind": "Config", "current-context": name,
               "clusters": [{"name": name, "cluster": cluster["cluster"]}],
               "users": [{"name": name, "user": user["user"]}],
               "contexts": [{"name": name, "context": {"cluster": name, "user": name}}]}
        with open(os.path.join(out, "dir", name + ".yaml"), "w") as f:
            yaml.safe_dump(one, f)
        for k in ("clusters", "users", "contexts"):
            merged[k] += one[k]
    merged["current-context"] = merged["contexts"][0]["name"]
    with open(os.path.join(out, "merged.yaml"), "w") as f:
        yaml.safe_dump(merged, f)


if __name__ == "__main__":
    main()
