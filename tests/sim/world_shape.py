"""sim.world_shape: the upstream worlds have the shape of Argo CD 3.6's own
install manifests (read in place from PG_SHARED_DIR/reference/argocd).

For fixtures/worlds/argocd-upstream against install.yaml and
fixtures/worlds/argocd-upstream-ha against ha-install.yaml, every upstream
object of the argocd namespace and of cluster scope must be in the world
(as kubesim loads it, includes and patches applied) with the same kind,
namespace, name and labels, and:
  Services         the same selector and ports (name, port, targetPort, protocol)
  Deployments,
  StatefulSets     the same replicas, selector, pod labels, service account,
                   containers and init containers (names, ports, probes)
  NetworkPolicies  the same podSelector, policy types, ingress and egress
  Roles, bindings  the same rules, roleRef and subjects
  CRDs             the same group, scope, names and versions
  argocd-cmd-params-cm  the same data
and the world has no workload in the argocd namespace that upstream lacks.
Every workload of the world is converged (ready pods owned by its
ReplicaSet or StatefulSet). Run with /usr/bin/python3.
"""
import os
import sys
import unittest

import yaml

SRC = os.environ.get("PG_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SHARED = os.environ.get("PG_SHARED_DIR") or os.path.join(SRC, "..", "shared")
sys.path.insert(0, os.path.join(SRC, "fixtures", "kubesim"))
import kubesim  # noqa: E402

CLUSTER_KINDS = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"}
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")


def upstream(name):
    path = os.path.join(SHARED, "reference", "argocd", name)
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    out = {}
    for d in docs:
        ns = "" if d["kind"] in CLUSTER_KINDS else (d["metadata"].get("namespace") or "argocd")
        out[(d["kind"], ns, d["metadata"]["name"])] = d
    return out


def world(name):
    store = kubesim.Store(os.path.join(SRC, "fixtures", "worlds", name))
    out = {}
    for key, obj in store.objects.items():
        out[(obj["kind"], key[2], key[3])] = obj
    return store, out


def ports_of(svc):
    return sorted((p.get("name", ""), p["port"], str(p.get("targetPort", p["port"])),
                   p.get("protocol", "TCP")) for p in (svc.get("spec") or {}).get("ports") or [])


def containers_of(spec, field):
    out = []
    for c in spec.get(field) or []:
        out.append({"name": c["name"],
                    "ports": sorted((p["containerPort"], p.get("name", ""),
                                     p.get("protocol", "TCP")) for p in c.get("ports") or []),
                    "readinessProbe": c.get("readinessProbe"),
                    "livenessProbe": c.get("livenessProbe")})
    return out


def netpol_rules(spec, field):
    """Rules with ports normalised (protocol TCP when omitted)."""
    out = []
    for r in spec.get(field) or []:
        r = dict(r)
        if "ports" in r:
            r["ports"] = sorted(({"port": p.get("port"), "protocol": p.get("protocol", "TCP")}
                                 for p in r["ports"]), key=lambda p: (str(p["port"]),
                                                                      p["protocol"]))
        out.append(r)
    return out


class Shape:
    """Mixed into one TestCase per world."""
    WORLD = INSTALL = None

    @classmethod
    def setUpClass(cls):
        cls.up = upstream(cls.INSTALL)
        cls.store, cls.w = world(cls.WORLD)

    def each(self, kinds):
        """[(key, upstream object, world object)] of these kinds (presence
        is test_every_upstream_object_is_in_the_world_with_its_labels')."""
        out = [(key, u, self.w[key]) for key, u in sorted(self.up.items())
               if key[0] in kinds and key in self.w]
        self.assertGreater(len(out), 0, "no %s to compare" % ", ".join(sorted(kinds)))
        return out

    def test_every_upstream_object_is_in_the_world_with_its_labels(self):
        self.assertGreater(len(self.up), 50)
        for key, u in sorted(self.up.items()):
            with self.subTest(object="%s %s/%s" % key):
                self.assertIn(key, self.w, "missing from the world")
                self.assertEqual(u["metadata"].get("labels") or {},
                                 self.w[key]["metadata"].get("labels") or {})

    def test_services(self):
        for key, u, w in self.each({"Service"}):
            with self.subTest(object="%s %s/%s" % key):
                self.assertEqual(u["spec"].get("selector"), w["spec"].get("selector"))
                self.assertEqual(ports_of(u), ports_of(w))
                self.assertEqual(u["spec"].get("clusterIP") == "None",
                                 w["spec"].get("clusterIP") == "None", "headless or not")

    def test_workloads(self):
        for key, u, w in self.each(set(WORKLOADS)):
            with self.subTest(object="%s %s/%s" % key):
                us, ws = u["spec"], w["spec"]
                self.assertEqual(us.get("replicas", 1), ws.get("replicas", 1), "replicas")
                self.assertEqual(us["selector"], ws["selector"], "selector")
                self.assertEqual(us["template"]["metadata"].get("labels"),
                                 ws["template"]["metadata"].get("labels"), "pod labels")
                self.assertEqual(us["template"]["spec"].get("serviceAccountName"),
                                 ws["template"]["spec"].get("serviceAccountName"))
                for field in ("containers", "initContainers"):
                    self.assertEqual(containers_of(us["template"]["spec"], field),
                                     containers_of(ws["template"]["spec"], field), field)
                if key[0] == "StatefulSet":
                    self.assertEqual(us.get("serviceName"), ws.get("serviceName"))
                strategy = "strategy" if key[0] == "Deployment" else "updateStrategy"
                self.assertEqual((us.get(strategy) or {}).get("type", "RollingUpdate"),
                                 (ws.get(strategy) or {}).get("type", "RollingUpdate"))

    def test_network_policies(self):
        for key, u, w in self.each({"NetworkPolicy"}):
            with self.subTest(object="%s %s/%s" % key):
                self.assertEqual(u["spec"]["podSelector"], w["spec"]["podSelector"])
                self.assertEqual(u["spec"].get("policyTypes"), w["spec"].get("policyTypes"))
                for field in ("ingress", "egress"):
                    self.assertEqual(netpol_rules(u["spec"], field), netpol_rules(w["spec"], field),
                                     field)

    def test_rbac(self):
        for key, u, w in self.each({"Role", "ClusterRole"}):
            with self.subTest(object="%s %s/%s" % key):
                self.assertEqual(u.get("rules"), w.get("rules"))
        for key, u, w in self.each({"RoleBinding", "ClusterRoleBinding"}):
            with self.subTest(object="%s %s/%s" % key):
                self.assertEqual(u["roleRef"], w["roleRef"])
                self.assertEqual(u["subjects"], w["subjects"])

    def test_crds(self):
        for key, u, w in self.each({"CustomResourceDefinition"}):
            with self.subTest(object="%s %s/%s" % key):
                self.assertEqual(u["spec"]["group"], w["spec"]["group"])
                self.assertEqual(u["spec"]["scope"], w["spec"]["scope"])
                self.assertEqual(u["spec"]["names"], w["spec"]["names"])
                self.assertEqual([(v["name"], v["served"], v["storage"])
                                  for v in u["spec"]["versions"]],
                                 [(v["name"], v["served"], v["storage"])
                                  for v in w["spec"]["versions"]])

    def test_cmd_params(self):
        key = ("ConfigMap", "argocd", "argocd-cmd-params-cm")
        self.assertEqual(self.up[key].get("data") or {}, self.w[key].get("data") or {})

    def test_no_workload_upstream_lacks(self):
        extra = [k for k in self.w if k[0] in WORKLOADS and k[1] == "argocd"
                 and k not in self.up]
        self.assertEqual([], extra)

    def test_converged(self):
        """Each workload's pods exist, are owned by it (through a
        ReplicaSet for a Deployment) and are ready; its status says so."""
        objs = self.store.objects
        for key, w in sorted(self.w.items()):
            if key[0] not in ("Deployment", "StatefulSet"):
                continue
            with self.subTest(workload="%s %s/%s" % key):
                want = w["spec"].get("replicas", 1)
                owners = {w["metadata"]["uid"]}
                if key[0] == "Deployment":
                    owners = {o["metadata"]["uid"] for k, o in objs.items()
                              if k[1] == "replicasets" and any(
                                  r["uid"] in owners for r in o["metadata"]["ownerReferences"])}
                    self.assertEqual(1, len(owners), "one ReplicaSet")
                pods = [o for k, o in objs.items() if k[1] == "pods" and any(
                    r.get("uid") in owners for r in o["metadata"].get("ownerReferences") or [])]
                self.assertEqual(want, len(pods))
                for p in pods:
                    self.assertEqual("Running", p["status"]["phase"])
                    self.assertEqual("%d/%d" % (len(p["spec"]["containers"]),
                                                len(p["spec"]["containers"])),
                                     kubesim.pod_ready(p))
                    sel = w["spec"]["selector"]["matchLabels"]
                    self.assertTrue(all(p["metadata"]["labels"].get(k) == v
                                        for k, v in sel.items()), "selector matches the pod")
                self.assertEqual(want, w["status"].get("readyReplicas"))
                self.assertEqual(w["metadata"]["generation"], w["status"]["observedGeneration"])


class NonHA(Shape, unittest.TestCase):
    WORLD, INSTALL = "argocd-upstream", "install.yaml"


class HA(Shape, unittest.TestCase):
    WORLD, INSTALL = "argocd-upstream-ha", "ha-install.yaml"

    def test_ha_has_no_plain_redis(self):
        self.assertNotIn(("Deployment", "argocd", "argocd-redis"), self.w)
        self.assertIn(("StatefulSet", "argocd", "argocd-redis-ha-server"), self.w)


if __name__ == "__main__":
    unittest.main(verbosity=1)
