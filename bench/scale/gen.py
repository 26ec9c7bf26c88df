#!/usr/bin/env python3
"""gen.py - writes a suite of N checks of one kind for bench/scale: 10
phases x 10 steps, N/100 checks per step, each step a checkpoint (gate); one file
per phase (OUTDIR/phases/pN.yaml), since a suite file is capped at 8 MiB.

usage: gen.py KIND N OUTDIR [ARG] [--one-step]
  --one-step puts all N checks in one checkpoint of one phase instead
  file  ARG = the file every check stats (size > 0)
  http  ARG = the test nginx's /bench URL; check i GETs ARG?n=i and expects
        200 and {"n": i}
  k8s   ARG = kubeconfig; checks cycle over the objects listed one per line
        ("kind namespace name") in OUTDIR/objects.txt, path expectations"""
import json
import os
import sys


def check(kind, i, arg, objs):
    c = {"id": "c%06d" % i, "name": "check %d" % i}
    if kind == "file":
        c["file"] = {"path": arg}
        c["expect"] = [{"path": "size", "gt": 0}]
    elif kind == "http":
        c["http"] = {"url": "%s?n=%d" % (arg, i)}
        c["expect"] = [{"status": 200}, {"path": "json.n", "equals": i}]
    else:
        k, ns, name = objs[i % len(objs)]
        c["k8s"] = {"get": "%s/%s" % (k.lower(), name), "namespace": ns}
        c["expect"] = [{"path": "object.metadata.name", "equals": name}]
    return c


def main():
    argv = [a for a in sys.argv[1:] if a != "--one-step"]
    one = len(argv) < len(sys.argv) - 1
    kind, n, out = argv[0], int(argv[1]), argv[2]
    arg = argv[3] if len(argv) > 3 else ""
    objs = []
    if kind == "k8s":
        with open(os.path.join(out, "objects.txt")) as f:
            objs = [l.split() for l in f if l.strip()]
    nphases, nsteps = (1, 1) if one else (10, 10)
    per = n if one else max(1, n // 100)
    phases, i = [], 0
    for p in range(1, nphases + 1):
        steps = []
        for s in range(1, nsteps + 1):
            checks = [check(kind, i + j, arg, objs) for j in range(per)]
            i += per
            steps.append({"id": "%d.%d" % (p, s), "name": "step %d.%d" % (p, s),
                          "checkpoint": {"id": "gate-%d-%d" % (p, s), "checks": checks}})
        os.makedirs(os.path.join(out, "phases"), exist_ok=True)
        with open(os.path.join(out, "phases", "p%d.yaml" % p), "w") as f:
            json.dump({"id": str(p), "name": "phase %d" % p, "steps": steps}, f)
        phases.append("phases/p%d.yaml" % p)
    suite = {"name": "scale-%s-%d" % (kind, n), "defaults": {"timeout": "30s"},
             "phases": phases}
    if kind == "k8s":
        suite["modules"] = {"k8s": {"kubeconfig": arg, "context": "admin"}}
    with open(os.path.join(out, "suite.yaml"), "w") as f:
        json.dump(suite, f, indent=None)


main()
