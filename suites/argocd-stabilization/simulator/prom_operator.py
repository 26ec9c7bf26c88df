#!/usr/bin/env python3
"""The Prometheus Operator's part, for runs against the cluster simulator.

A real Prometheus (started by simulator/run.sh with --web.enable-lifecycle)
evaluates and scrapes what this loop makes of the simulated cluster, the way
the Prometheus Operator does it for a real one:

- every PrometheusRule of the namespace that carries the selection label
  becomes a rule file (its spec.groups as written);
- every ServiceMonitor with the label becomes a scrape job per selected
  Service (job = the Service's name, as the Operator names it), scraping
  the address that stands in for that Service's endpoints (--target
  SERVICE=HOST:PORT); a ServiceMonitor that selects no Service, or a
  Service without a stand-in, gives no job;
- with --alertmanager HOST:PORT, Prometheus sends its alerts to that
  Alertmanager (the Operator's `alerting.alertmanagers`) and scrapes its
  metrics as job `alertmanager-main` (kube-prometheus' ServiceMonitor), so
  its notification counters can be queried;
- whenever the result changes, Prometheus is told to reload (POST
  /-/reload).

Usage: prom_operator.py --api URL --ca FILE --cert FILE --key FILE
       --namespace NS --selector KEY=VALUE --dir DIR --prometheus URL
       [--target SERVICE=HOST:PORT ...] [--alertmanager HOST:PORT]
It reads the cluster every second until it is stopped (SIGTERM)."""
import argparse
import json
import os
import signal
import ssl
import sys
import time
import urllib.request

import yaml


def get(ctx, url):
    with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
        return json.load(r)


def matches(sel, labels):
    return all(labels.get(k) == v for k, v in (sel.get("matchLabels") or {}).items())


def render(args, ctx):
    """(prometheus.yml text, {rule file name: text}) for the cluster now."""
    base = "%s/apis/monitoring.coreos.com/v1/namespaces/%s" % (args.api, args.namespace)
    key, _, value = args.selector.partition("=")
    q = "?labelSelector=" + urllib.request.quote("%s=%s" % (key, value))
    rules = {}
    for pr in get(ctx, base + "/prometheusrules" + q).get("items", []):
        name = "%s-%s.yml" % (args.namespace, pr["metadata"]["name"])
        rules[name] = yaml.safe_dump({"groups": (pr.get("spec") or {}).get("groups") or []},
                                     sort_keys=False)
    services = get(ctx, "%s/api/v1/namespaces/%s/services" % (args.api, args.namespace))
    targets = dict(t.split("=", 1) for t in args.target)
    jobs = []
    for sm in get(ctx, base + "/servicemonitors" + q).get("items", []):
        spec = sm.get("spec") or {}
        for svc in services.get("items", []):
            sname = svc["metadata"]["name"]
            if not matches(spec.get("selector") or {}, svc["metadata"].get("labels") or {}):
                continue
            if sname not in targets:
                continue
            for ep in spec.get("endpoints") or [{}]:
                jobs.append({"job_name": sname, "metrics_path": ep.get("path", "/metrics"),
                             "scrape_interval": "2s",
                             "static_configs": [{"targets": [targets[sname]],
                                                 "labels": {"namespace": args.namespace,
                                                            "service": sname}}]})
    if args.alertmanager:
        jobs.append({"job_name": "alertmanager-main", "scrape_interval": "2s",
                     "static_configs": [{"targets": [args.alertmanager],
                                         "labels": {"namespace": "monitoring",
                                                    "service": "alertmanager-main"}}]})
    conf = {"global": {"scrape_interval": "2s", "evaluation_interval": "2s"},
            "rule_files": [os.path.join(args.dir, "rules", "*.yml")],
            "scrape_configs": sorted(jobs, key=lambda j: j["job_name"])}
    if args.alertmanager:
        conf["alerting"] = {"alertmanagers": [{"static_configs": [
            {"targets": [args.alertmanager]}]}]}
    return yaml.safe_dump(conf, sort_keys=False), rules


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def main():
    ap = argparse.ArgumentParser()
    for k in ("api", "ca", "cert", "key", "namespace", "selector", "dir", "prometheus"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--target", action="append", default=[])
    ap.add_argument("--alertmanager", default="",
                    help="HOST:PORT of the Alertmanager Prometheus alerts and scrapes")
    ap.add_argument("--once", action="store_true", help="write the configuration once and exit")
    args = ap.parse_args()
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.load_cert_chain(args.cert, args.key)
    os.makedirs(os.path.join(args.dir, "rules"), exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            conf, rules = render(args, ctx)
            changed = write_if_changed(os.path.join(args.dir, "prometheus.yml"), conf)
            rdir = os.path.join(args.dir, "rules")
            for name in os.listdir(rdir):
                if name.endswith(".yml") and name not in rules:
                    os.remove(os.path.join(rdir, name))
                    changed = True
            for name, text in rules.items():
                changed |= write_if_changed(os.path.join(rdir, name), text)
            if args.once:
                return
            if changed:
                req = urllib.request.Request(args.prometheus + "/-/reload", method="POST")
                urllib.request.urlopen(req, timeout=5).close()
        except (OSError, ValueError) as e:  # the cluster or Prometheus not there (yet)
            print("prom_operator: %s" % e, file=sys.stderr, flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
