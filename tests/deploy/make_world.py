#!/usr/bin/env python3
"""A simulator world for the in-cluster test: the healthy world plus the
ServiceAccount phasegate/phasegate as a token user whose only rights are the
rules of deploy/rbac.yaml (what "phasegate rbac" generated), so the run
proves the generated RBAC is enough. Usage: make_world.py SRC-WORLD RBAC.yaml OUT-DIR TOKEN"""
import shutil
import sys

import yaml

SA_USER = "system:serviceaccount:phasegate:phasegate"


def main():
    src, rbac, out, token = sys.argv[1:5]
    shutil.copytree(src, out)
    tokens_path = out + "/_sim/tokens.yaml"
    tokens = yaml.safe_load(open(tokens_path))
    tokens.setdefault("tokens", []).append(
        {"name": "phasegate-sa", "token": token, "user": SA_USER,
         "groups": ["system:serviceaccounts", "system:serviceaccounts:phasegate"]})
    yaml.safe_dump(tokens, open(tokens_path, "w"))
    rbac_path = out + "/_sim/rbac.yaml"
    table = yaml.safe_load(open(rbac_path))
    for doc in yaml.safe_load_all(open(rbac)):
        if not doc or doc["kind"] not in ("Role", "ClusterRole"):
            continue
        subjects = [d for d in yaml.safe_load_all(open(rbac))
                    if d and d["kind"] == doc["kind"] + "Binding"
                    and d["metadata"].get("namespace") == doc["metadata"].get("namespace")]
        assert subjects and subjects[0]["subjects"][0]["name"] == "phasegate", "no binding"
        rules = []
        for r in doc["rules"]:
            rule = {"verbs": r["verbs"], "apiGroups": r["apiGroups"], "resources": r["resources"]}
            if r.get("resourceNames"):
                rule["resourceNames"] = r["resourceNames"]
            if doc["kind"] == "Role":
                rule["namespaces"] = [doc["metadata"]["namespace"]]
            rules.append(rule)
        table["bindings"].append({"name": "%s-%s" % (doc["kind"], doc["metadata"].get("namespace", "")),
                                  "users": [SA_USER], "rules": rules})
    yaml.safe_dump(table, open(rbac_path, "w"))


if __name__ == "__main__":
    main()
