#!/usr/bin/env python3
"""Checks "phasegate schema" with an independent validator (python3-jsonschema):
the schema is a valid draft-07 schema; every shipped suite (suite.yaml, its
phase files and include files under suites/) validates against it; and each
suite the loader refuses for an unknown or mistyped key is refused by the
schema too (while the unmodified base suite passes both).

Usage: check_schema.py  (PG_BINARY, PG_SOURCE_DIR from ctest)."""
import copy
import json
import os
import subprocess
import sys
import tempfile

import jsonschema
import yaml

BIN = os.environ["PG_BINARY"]
SRC = os.environ["PG_SOURCE_DIR"]


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def validator(schema, definition):
    """A validator for one definition of the schema (suite, phase, include)."""
    sub = dict(schema)
    sub.pop("anyOf")
    sub["$ref"] = "#/definitions/" + definition
    return jsonschema.Draft7Validator(sub)


def errors(v, doc):
    return sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))


def shipped_files():
    """(path, definition) for every suite file shipped under suites/."""
    out = []
    for root, _, files in os.walk(os.path.join(SRC, "suites")):
        if "suite.yaml" not in files:
            continue
        suite = os.path.join(root, "suite.yaml")
        out.append((suite, "suite"))
        doc = load_yaml(suite)
        for p in doc.get("phases") or []:
            if isinstance(p, str):
                out.append((os.path.join(root, p), "phase"))
        inc = doc.get("include") or []
        for p in [inc] if isinstance(inc, str) else inc:
            out.append((os.path.join(root, p), "include"))
    return out


BASE = {
    "name": "schema-probe",
    "vars": {"port": 17181},
    "defaults": {"timeout": "5s", "severity": "high"},
    "phases": [{
        "id": "one",
        "steps": [{
            "id": "s1",
            "checks": [
                {"id": "c1", "exec": {"argv": ["true"]}, "timeout": "2s", "gate": True,
                 "eventually": {"within": "10s", "every": "1s"}, "tags": ["smoke"]},
                {"id": "c2", "tcp": {"host": "127.0.0.1", "port": "${port}"}, "retry": 2},
            ],
        }],
    }],
}


def mutate(path, value=None, delete=None):
    """A copy of BASE with one key set (path = list of keys/indexes)."""
    doc = copy.deepcopy(BASE)
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    if delete:
        del node[delete]
    return doc


C1 = ["phases", 0, "steps", 0, "checks", 0]
C2 = ["phases", 0, "steps", 0, "checks", 1]
BAD = [
    ("unknown suite key", mutate(["phasez"], [])),
    ("unknown phase key", mutate(["phases", 0, "stepz"], [])),
    ("unknown step key", mutate(["phases", 0, "steps", 0, "chekcs"], [])),
    ("unknown entry key", mutate(C1 + ["gaet"], True)),
    ("unknown module", mutate(C1 + ["exek"], {"argv": ["true"]}, delete="exec")),
    ("unknown module key", mutate(C1 + ["exec"], {"argvv": ["true"]})),
    ("two module keys", mutate(C1 + ["tcp"], {"host": "h", "port": 1})),
    ("no module key", mutate(C1 + ["name"], "x", delete="exec")),
    ("mistyped duration", mutate(C1 + ["timeout"], "soon")),
    ("mistyped bool", mutate(C1 + ["gate"], "maybe")),
    ("mistyped int in a module", mutate(C2 + ["tcp"], {"host": "h", "port": "eighty"})),
    ("list where text belongs", mutate(C2 + ["tcp"], {"host": ["h"], "port": 1})),
    ("unknown severity", mutate(["defaults", "severity"], "urgent")),
    ("unknown eventually key", mutate(C1 + ["eventually"], {"within": "5s", "evry": "1s"})),
    ("missing required key", mutate(["phases", 0, "steps", 0, "checks", 1, "tcp"], {"host": "h"})),
    ("text map value is a list", mutate(["vars"], {"port": [1, 2]})),
]


def loader_refuses(doc, tmp):
    path = os.path.join(tmp, "suite.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(doc, f)
    p = subprocess.run([BIN, "validate", path], capture_output=True, text=True)
    return p.returncode, p.stderr.strip()


def main():
    p = subprocess.run([BIN, "schema"], capture_output=True, text=True, check=True)
    schema = json.loads(p.stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    failures = []

    files = shipped_files()
    assert len(files) >= 10, "found only %d shipped suite files" % len(files)
    for path, kind in files:
        errs = errors(validator(schema, kind), load_yaml(path))
        for e in errs[:3]:
            failures.append("%s (%s): %s at %s" % (os.path.relpath(path, SRC), kind,
                                                   e.message[:200], list(e.absolute_path)))
        # the root schema (what an editor uses) accepts it too
        if not errs and list(jsonschema.Draft7Validator(schema).iter_errors(load_yaml(path))):
            failures.append("%s: refused by the root schema" % path)

    suite_v = validator(schema, "suite")
    with tempfile.TemporaryDirectory() as tmp:
        rc, err = loader_refuses(BASE, tmp)
        if rc != 0 or errors(suite_v, BASE):
            failures.append("the base probe suite must pass both: loader rc %d %s; schema %s"
                            % (rc, err, [e.message for e in errors(suite_v, BASE)]))
        for what, doc in BAD:
            rc, err = loader_refuses(doc, tmp)
            if rc != 2:
                failures.append("%s: the loader accepted it (rc %d)" % (what, rc))
                continue
            if not errors(suite_v, doc) or not list(jsonschema.Draft7Validator(schema).iter_errors(doc)):
                failures.append("%s: the loader refuses it (%s) but the schema accepts it"
                                % (what, err.splitlines()[0]))
    for f in failures:
        print("FAIL:", f)
    if failures:
        return 1
    print("ok: %d shipped suite files validate; %d refused suites are refused by the schema too"
          % (len(files), len(BAD)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
