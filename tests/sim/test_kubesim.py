"""Unit tests of kubesim's internals: selectors, patches, server-side apply
ownership, RBAC evaluation, scripted steps, faults, time templates.
Run with /usr/bin/python3 (Debian's python3-yaml); PG_SOURCE_DIR locates
the simulator, else the path relative to this file."""
import http.client
import json
import os
import ssl
import sys
import tempfile
import textwrap
import threading
import time
import unittest

SRC = os.environ.get("PG_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(SRC, "fixtures", "kubesim"))
import kubesim  # noqa: E402

DEPLOY = kubesim.BY_PATH[("apps", "v1", "deployments")]
PODS = kubesim.BY_PATH[("", "v1", "pods")]
EVENTS = kubesim.BY_PATH[("", "v1", "events")]
APPS = kubesim.BY_PATH[("argoproj.io", "v1alpha1", "applications")]


class Selectors(unittest.TestCase):
    def test_label_operators(self):
        labels = {"app": "web", "tier": "front", "empty": ""}
        cases = [("app=web", True), ("app==web", True), ("app!=web", False),
                 ("app in (api, web)", True), ("app notin (web)", False),
                 ("tier", True), ("!tier", False), ("!missing", True),
                 ("missing!=x", True), ("app=web,tier=back", False),
                 ("app in (web),!missing,tier", True), ("", True)]
        for sel, want in cases:
            self.assertEqual(kubesim.parse_label_selector(sel)(labels), want, sel)

    def test_label_selector_handles_no_labels(self):
        self.assertTrue(kubesim.parse_label_selector("!a")(None))
        self.assertFalse(kubesim.parse_label_selector("a")(None))

    def test_bad_label_selector_is_400(self):
        with self.assertRaises(kubesim.ApiError) as cm:
            kubesim.parse_label_selector("app in web")
        self.assertEqual(cm.exception.code, 400)

    def test_field_selector(self):
        pod = {"metadata": {"name": "p", "namespace": "ns"},
               "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
        self.assertTrue(kubesim.parse_field_selector(PODS, "status.phase=Running")(pod))
        self.assertFalse(kubesim.parse_field_selector(
            PODS, "status.phase=Running,spec.nodeName!=n1")(pod))
        self.assertTrue(kubesim.parse_field_selector(PODS, "metadata.name==p")(pod))

    def test_event_source_field(self):
        ev = {"metadata": {"name": "e"}, "source": {"component": "kubelet"},
              "involvedObject": {"kind": "Pod"}}
        self.assertTrue(kubesim.parse_field_selector(EVENTS, "source=kubelet")(ev))
        self.assertTrue(kubesim.parse_field_selector(EVENTS, "involvedObject.kind=Pod")(ev))

    def test_unsupported_field_is_400_with_real_wording(self):
        with self.assertRaises(kubesim.ApiError) as cm:
            kubesim.parse_field_selector(DEPLOY, "status.phase=Running")
        self.assertEqual(cm.exception.code, 400)
        self.assertEqual(cm.exception.message, "field label not supported: status.phase")
        with self.assertRaises(kubesim.ApiError) as cm:
            kubesim.parse_field_selector(APPS, "spec.project=x")
        self.assertIn('is not a known field selector', cm.exception.message)


class Patches(unittest.TestCase):
    def test_merge_patch_removes_nulls(self):
        out = kubesim.merge_patch({"a": {"b": 1, "c": 2}, "l": [1]},
                                  {"a": {"b": None, "d": 3}, "l": [2]})
        self.assertEqual(out, {"a": {"c": 2, "d": 3}, "l": [2]})

    def test_json_patch_ops(self):
        doc = {"spec": {"replicas": 1, "list": ["a"]}}
        out = kubesim.json_patch(doc, [
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/spec/list/-", "value": "b"},
            {"op": "add", "path": "/metadata", "value": {"x~y": 1}},
            {"op": "remove", "path": "/metadata/x~0y"}])
        self.assertEqual(out, {"spec": {"replicas": 3, "list": ["a", "b"]}, "metadata": {}})
        self.assertEqual(doc["spec"]["replicas"], 1, "input not modified")

    def test_json_patch_test_failure_is_422(self):
        with self.assertRaises(kubesim.ApiError) as cm:
            kubesim.json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
        self.assertEqual(cm.exception.code, 422)


class Times(unittest.TestCase):
    def test_now_templates(self):
        base = 1_700_000_000
        out = kubesim.expand_times({"a": "$now-5m", "b": ["$now+1h"], "c": "$now",
                                    "d": "$nowhere"}, base)
        self.assertEqual(out["a"], kubesim.iso(base - 300))
        self.assertEqual(out["b"], [kubesim.iso(base + 3600)])
        self.assertEqual(out["c"], kubesim.iso(base))
        self.assertEqual(out["d"], "$nowhere")

    def test_durations(self):
        self.assertEqual(kubesim.parse_duration("250ms"), 0.25)
        self.assertEqual(kubesim.parse_duration("2d"), 172800)
        self.assertRaises(ValueError, kubesim.parse_duration, "soon")

    def test_human_age(self):
        self.assertEqual(kubesim.human_age(45), "45s")
        self.assertEqual(kubesim.human_age(150), "2m30s")
        self.assertEqual(kubesim.human_age(3000), "50m")
        self.assertEqual(kubesim.human_age(5 * 3600), "5h")
        self.assertEqual(kubesim.human_age(3 * 86400), "3d")


WORLD = {
    "ns.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata: {name: argocd}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: argocd}
        spec: {replicas: 2, template: {spec: {containers: [{name: c, image: x}]}}}
        status: {observedGeneration: 1, replicas: 2}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: argocd}
        status: {containerStatuses: [{name: c, restartCount: 1}]}
        """,
    "_sim/rbac.yaml": """
        bindings:
        - name: admins
          groups: [system:masters]
          rules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"]}]
        - name: viewer
          users: [bob]
          rules:
          - {verbs: [get, list], apiGroups: [apps], resources: [deployments], namespaces: [argocd]}
          - {verbs: [get], apiGroups: [""], resources: [pods/log], resourceNames: [p]}
        """,
    "_sim/tokens.yaml": """
        tokens:
        - {name: bob, token: bob-token, user: bob}
        """,
    "_sim/script.yaml": """
        - after: 1s
          every: 2s
          times: 3
          patch:
            apiVersion: v1
            kind: Pod
            namespace: argocd
            name: p
            increment: [{path: "status.containerStatuses[0].restartCount", by: 2}]
        """,
}


class WithWorld(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        for rel, text in WORLD.items():
            path = os.path.join(self.tmp.name, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        self.store = kubesim.Store(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def cm(self, value, extra=None):
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "argocd"}, "data": {"k": value}}
        if extra:
            body["data"].update(extra)
        return body

    def test_apply_create_update_conflict_force(self):
        cms = kubesim.BY_PATH[("", "v1", "configmaps")]
        _, code = self.store.apply(cms, "argocd", "c", self.cm("1", {"own": "a"}), "a",
                                   False, False)
        self.assertEqual(code, 201)
        # Same value from another manager: shared ownership, no conflict.
        self.store.apply(cms, "argocd", "c", self.cm("1"), "b", False, False)
        with self.assertRaises(kubesim.ApiError) as cm:
            self.store.apply(cms, "argocd", "c", self.cm("2"), "b", False, False)
        self.assertEqual(cm.exception.code, 409)
        self.assertIn('conflict with "a": .data.k', cm.exception.message)
        self.assertEqual(cm.exception.details["causes"][0]["field"], ".data.k")
        obj, code = self.store.apply(cms, "argocd", "c", self.cm("2"), "b", True, False)
        self.assertEqual((code, obj["data"]["k"]), (200, "2"))
        # Manager a no longer owns data.k; dropping "own" from its intent
        # removes that field (nobody else owns it).
        obj, _ = self.store.apply(cms, "argocd", "c", self.cm("2"), "a", False, False)
        self.assertNotIn("own", obj["data"])
        managers = {m["manager"] for m in obj["metadata"]["managedFields"]}
        self.assertEqual(managers, {"a", "b"})

    def test_apply_dry_run_changes_nothing(self):
        obj, code = self.store.apply(DEPLOY, "argocd", "web", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 5}}, "x", True, True)
        self.assertEqual(obj["spec"]["replicas"], 5)
        self.assertEqual(self.store.get(DEPLOY, "argocd", "web")["spec"]["replicas"], 2)

    def test_apply_spec_change_bumps_generation_and_reconciles(self):
        obj, _ = self.store.apply(DEPLOY, "argocd", "web", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 4}}, "x", True, False)
        self.assertEqual(obj["metadata"]["generation"], 2)
        self.assertEqual(obj["status"]["observedGeneration"], 2)
        self.assertEqual(obj["status"]["availableReplicas"], 4)

    def test_apply_rejects_wrong_kind_and_managed_fields(self):
        with self.assertRaises(kubesim.ApiError):
            self.store.apply(DEPLOY, "argocd", "web", {"apiVersion": "v1", "kind": "Pod"},
                             "x", False, False)
        with self.assertRaises(kubesim.ApiError):
            self.store.apply(DEPLOY, "argocd", "web", {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"managedFields": []}}, "x", False, False)

    def test_create_in_missing_namespace_is_404(self):
        with self.assertRaises(kubesim.ApiError) as cm:
            self.store.apply(DEPLOY, "nope", "web", {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}},
                "x", False, False)
        self.assertEqual(cm.exception.message, 'namespaces "nope" not found')

    def test_namespace_delete_cascades_after_terminating(self):
        self.store.ns_terminate = 0
        obj = self.store.delete(kubesim.BY_PATH[("", "v1", "namespaces")], "", "argocd")
        self.assertEqual(obj["status"]["phase"], "Terminating")
        self.assertIn(("apps", "deployments", "argocd", "web"), self.store.objects)
        self.store.tick()
        self.assertEqual(self.store.objects, {})
        kinds = [e[1] for e in self.store.events]
        self.assertEqual(kinds.count("DELETED"), 3)

    def test_argocd_tokens_and_rbac(self):
        # the Argo CD API (argocd_api.py; served end to end in tests/argocd)
        import argocd_api
        argocd_api.attach(kubesim)
        tok = argocd_api.jwt_encode(b"key", {"sub": "ci", "exp": time.time() + 60})
        self.assertEqual(argocd_api.jwt_decode(b"key", tok)["sub"], "ci")
        for secret, claims, why in ((b"other", {"sub": "ci"}, "signature is invalid"),
                                    (b"key", {"sub": "ci", "exp": time.time() - 1},
                                     "token is expired")):
            with self.assertRaises(argocd_api.ArgoError) as e:
                argocd_api.jwt_decode(b"key", argocd_api.jwt_encode(secret, claims))
            self.assertEqual((e.exception.http, e.exception.grpc), (401, 16))
            self.assertIn(why, e.exception.message)
        proj = {"metadata": {"name": "shop"}, "spec": {"roles": [{"name": "ci", "policies": [
            "p, proj:shop:ci, applications, sync, shop/*, allow"]}]}}
        pol = argocd_api.Policy("g, viewer, role:readonly\n"
                                "p, bob, applications, *, */*, allow\n"
                                "p, bob, applications, delete, */*, deny", "", [proj])
        self.assertTrue(pol.enforce("viewer", [], "applications", "get", "shop/x"))
        self.assertFalse(pol.enforce("viewer", [], "applications", "sync", "shop/x"))
        self.assertTrue(pol.enforce("proj:shop:ci", [], "applications", "sync", "shop/x"))
        self.assertFalse(pol.enforce("proj:shop:ci", [], "applications", "sync", "other/x"))
        self.assertTrue(pol.enforce("bob", [], "applications", "sync", "a/b"))
        self.assertFalse(pol.enforce("bob", [], "applications", "delete", "a/b"),
                         "deny wins over allow")

    def test_rbac(self):
        admin = kubesim.Identity("root", ["system:masters"])
        bob = kubesim.Identity("bob", [])
        az = kubesim.authorize
        self.assertTrue(az(self.store, admin, "*", "", "*", "")[0])
        masters = kubesim.Identity("root", ["system:masters"])
        self.assertTrue(az(self.store, masters, "get", "", "pods", "x")[0])
        self.assertTrue(az(self.store, bob, "list", "apps", "deployments", "argocd")[0])
        self.assertFalse(az(self.store, bob, "list", "apps", "deployments", "")[0],
                         "a namespaced rule does not cover all namespaces")
        self.assertFalse(az(self.store, bob, "delete", "apps", "deployments", "argocd")[0])
        self.assertFalse(az(self.store, bob, "list", "", "deployments", "argocd")[0])
        self.assertTrue(az(self.store, bob, "get", "", "pods/log", "argocd", "p")[0])
        self.assertFalse(az(self.store, bob, "get", "", "pods/log", "argocd", "q")[0])
        err = kubesim.forbidden(bob, "get", DEPLOY, "argocd", "web")
        self.assertEqual(err.message, 'deployments.apps "web" is forbidden: User "bob" cannot '
                         'get resource "deployments" in API group "apps" in the namespace '
                         '"argocd"')

    def test_script_runs_on_the_paused_clock(self):
        rc = lambda: self.store.objects[("", "pods", "argocd", "p")]["status"][
            "containerStatuses"][0]["restartCount"]
        self.store.set_clock(pause=True)
        self.store.paused_at = 0.0
        self.store.tick()
        self.assertEqual(rc(), 1)
        self.store.set_clock(advance=1.0)
        self.assertEqual(rc(), 3)
        self.store.set_clock(advance=10.0)
        self.assertEqual(rc(), 7, "times: 3 caps the repetitions")
        self.store.reset(paused=True)
        self.assertEqual(rc(), 1)


class LiveServer(unittest.TestCase):
    """The HTTP layer in-process on 127.0.0.1:16446: one kept-alive TLS
    connection stays usable after error answers that left a body unread."""

    PORT = 16446

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        world = os.path.join(self.tmp.name, "world")
        for rel, text in WORLD.items():
            path = os.path.join(world, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(text))
        store = kubesim.Store(world)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server = kubesim.TLSServer(("127.0.0.1", self.PORT), kubesim.KubeHandler, ctx, store)
        pki = os.path.join(self.tmp.name, "pki")
        ca, crt, key = kubesim.make_pki(pki, pki, store, self.server.port)
        ctx.load_cert_chain(crt, key)
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        client = ssl.create_default_context(cafile=ca)
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.server.port, context=client,
                                                timeout=10)

    def tearDown(self):
        self.conn.close()
        self.server.shutdown()
        self.server.server_close()
        self.tmp.cleanup()

    def call(self, method, path, body=None, token="bob-token", ctype="application/json"):
        headers = {"Authorization": "Bearer " + token, "Content-Type": ctype}
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")

    def test_connection_reuse_after_errors(self):
        apply = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "x"}, "data": {"k": "v" * 5000}})
        code, body = self.call("PATCH", "/api/v1/namespaces/argocd/configmaps/x?fieldManager=t",
                               apply, ctype="application/apply-patch+yaml")
        self.assertEqual((code, body["reason"]), (403, "Forbidden"))
        code, body = self.call("POST", "/api/v1/namespaces/argocd/configmaps", apply,
                               token="nobody")
        self.assertEqual((code, body["reason"]), (401, "Unauthorized"))
        code, body = self.call("GET", "/apis/apps/v1/namespaces/argocd/deployments/web")
        self.assertEqual((code, body["metadata"]["name"]), (200, "web"))
        code, body = self.call("GET", "/apis/apps/v1/deployments?limit=1")
        self.assertEqual((code, body["kind"]), (403, "Status"),
                         "bob may list only in argocd, not all namespaces")

    def test_ssar_and_paging(self):
        review = json.dumps({"apiVersion": "authorization.k8s.io/v1",
                             "kind": "SelfSubjectAccessReview",
                             "spec": {"resourceAttributes": {"verb": "list", "group": "apps",
                                                             "resource": "deployments",
                                                             "namespace": "argocd"}}})
        code, body = self.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                               review)
        self.assertEqual((code, body["status"]["allowed"]), (201, True))
        # An admin token added at run time creates three ConfigMaps, then
        # pages through them one at a time.
        self.server.store.tokens["root"] = {"user": "root", "groups": ["system:masters"]}
        for name in ("c3", "c1", "c2"):
            code, _ = self.call("POST", "/api/v1/namespaces/argocd/configmaps", json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}),
                token="root")
            self.assertEqual(code, 201)
        names, path, remaining = [], "/api/v1/namespaces/argocd/configmaps?limit=1", []
        while True:
            code, body = self.call("GET", path, token="root")
            self.assertEqual(code, 200)
            names += [o["metadata"]["name"] for o in body["items"]]
            tok = body["metadata"].get("continue")
            if not tok:
                break
            remaining.append(body["metadata"]["remainingItemCount"])
            path = "/api/v1/namespaces/argocd/configmaps?limit=1&continue=" + tok
        self.assertEqual(names, ["c1", "c2", "c3"])
        self.assertEqual(remaining, [2, 1])
        code, body = self.call("GET", "/api/v1/pods?limit=1&continue=garbage", token="root")
        self.assertEqual(code, 400)


    def watch(self, path, token="root"):
        """A whole watch stream (it must end): its events."""
        self.conn.request("GET", path, headers={"Authorization": "Bearer " + token})
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            return resp.status, json.loads(body)
        return 200, [json.loads(line) for line in body.splitlines() if line.strip()]

    def test_watch_expiry_forbidden_and_too_old_versions(self):
        self.server.store.tokens["root"] = {"user": "root", "groups": ["system:masters"]}
        code, body = self.call("GET", "/api/v1/namespaces/argocd/configmaps", token="root")
        rv = body["metadata"]["resourceVersion"]
        for name in ("w1", "w2"):
            code, _ = self.call("POST", "/api/v1/namespaces/argocd/configmaps", json.dumps(
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}),
                token="root")
            self.assertEqual(code, 201)
        code, body = self.call("POST", "/_sim/watch", json.dumps(
            {"expireAfterEvents": 1, "times": 1}))
        self.assertEqual(body["watchExpiry"]["expireAfterEvents"], 1)
        path = "/api/v1/namespaces/argocd/configmaps?watch=1&timeoutSeconds=1&resourceVersion="
        code, events = self.watch(path + rv)
        self.assertEqual([e["type"] for e in events], ["ADDED", "ERROR"])
        self.assertEqual((events[1]["object"]["code"], events[1]["object"]["reason"]),
                         (410, "Expired"))
        self.assertIn("too old resource version", events[1]["object"]["message"])
        # the setting was for one watch: the next one sees both objects
        code, events = self.watch(path + rv)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in events],
                         [("ADDED", "w1"), ("ADDED", "w2")])
        # a version from before the event log (a reset) has expired
        self.server.store.reset()
        self.server.store.tokens["root"] = {"user": "root", "groups": ["system:masters"]}
        code, events = self.watch(path + rv)
        self.assertEqual([(e["type"], e["object"]["code"]) for e in events], [("ERROR", 410)])
        code, body = self.call("GET", path + "abc", token="root")
        self.assertEqual((code, body["reason"]), (400, "BadRequest"))
        # RBAC: bob may get and list deployments, not watch them
        code, body = self.watch("/apis/apps/v1/namespaces/argocd/deployments?watch=1", "bob-token")
        self.assertEqual(code, 403)
        self.assertIn('cannot watch resource "deployments"', body["message"])
        code, body = self.call("POST", "/_sim/watch", json.dumps({"expireAfterEvents": -1}))
        self.assertEqual(code, 400)


class Faults(unittest.TestCase):
    def test_match_method_and_times(self):
        t = kubesim.FaultTable([{"path_regex": "^/a$", "method": "GET", "status": 503,
                                 "times": 1}, {"path_regex": "^/a", "latency_ms": 5}])
        self.assertEqual(t.match("POST", "/a")["latency_ms"], 5)
        self.assertEqual(t.match("GET", "/a")["status"], 503)
        self.assertEqual(t.match("GET", "/a")["latency_ms"], 5)
        self.assertIsNone(t.match("GET", "/b"))

    def test_bad_rules(self):
        self.assertRaises(kubesim.ApiError, kubesim.FaultTable, [{"path_regex": "("}])
        self.assertRaises(kubesim.ApiError, kubesim.FaultTable, [{"status": 500}])
        self.assertRaises(kubesim.ApiError, kubesim.FaultTable, {"path_regex": "x"})


class Versions(unittest.TestCase):
    """The per-version shape table (fixtures/kubesim/versions.py)."""

    PLC = ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration")

    def plc(self, version, shares, annotations=None):
        obj = {"apiVersion": "flowcontrol.apiserver.k8s.io/" + version,
               "kind": "PriorityLevelConfiguration", "metadata": {"name": "p"},
               "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": shares}}}
        if annotations is not None:
            obj["metadata"]["annotations"] = annotations
        return obj

    def test_zero_shares_keep_their_meaning(self):
        key = kubesim.version_shapes.PRESERVE_ZERO
        down = kubesim.version_shapes.convert(self.plc("v1", 0), self.PLC[0], "v1beta3",
                                              self.PLC[1])
        self.assertEqual(down["metadata"]["annotations"], {key: ""})
        self.assertEqual(down["spec"]["limited"]["nominalConcurrencyShares"], 0)
        back = kubesim.version_shapes.convert(down, self.PLC[0], "v1", self.PLC[1])
        self.assertEqual(back, self.plc("v1", 0))
        # a v1beta3 zero without the annotation is the default
        up = kubesim.version_shapes.convert(self.plc("v1beta3", 0), self.PLC[0], "v1",
                                            self.PLC[1])
        self.assertEqual(up["spec"]["limited"]["nominalConcurrencyShares"], 30)
        self.assertNotIn("annotations", up["metadata"])
        # other values and other annotations pass unchanged
        down = kubesim.version_shapes.convert(self.plc("v1", 5, {"a": "b"}), self.PLC[0],
                                              "v1beta3", self.PLC[1])
        self.assertEqual(down["metadata"]["annotations"], {"a": "b"})

    def test_hpa_through_the_hub_and_none_strategy(self):
        hpa = {"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
               "spec": {"targetCPUUtilizationPercentage": 70}}
        v2 = kubesim.version_shapes.convert(hpa, "autoscaling", "v2", "HorizontalPodAutoscaler")
        self.assertEqual(v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
                         70)
        self.assertEqual(kubesim.version_shapes.convert(v2, "autoscaling", "v1",
                                                        "HorizontalPodAutoscaler"), hpa)
        # a kind without an entry (a CRD, conversion None): apiVersion only
        w = {"apiVersion": "example.phasegate.dev/v1alpha1", "kind": "Gadget",
             "spec": {"size": 3}}
        self.assertEqual(kubesim.version_shapes.convert(w, "example.phasegate.dev", "v1",
                                                        "Gadget"),
                         dict(w, apiVersion="example.phasegate.dev/v1"))
def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(text))


BASE = {
    "ns.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata: {name: argocd}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, namespace: argocd}
        data: {k: base}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b, namespace: argocd}
        data: {k: base}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: argocd}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx:1.27
                env: [{name: MODE, valueFrom: {configMapKeyRef: {name: argocd-cmd-params-cm, key: mode}}}]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: argocd-cmd-params-cm, namespace: argocd}
        data: {mode: one}
        """,
    "_sim/config.yaml": """
        namespaceTerminationSeconds: 7
        controller: {stepSeconds: 1, startSeconds: 1, crashBackoffSeconds: 10}
        """,
    "_sim/logs/argocd/web.log": "$now-1m base log line\n",
}


class Layers(unittest.TestCase):
    """A world made of others: include, replace, exclude, patches, the
    merged config and _sim files found in included worlds."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        write_tree(os.path.join(self.tmp.name, "base"), BASE)

    def tearDown(self):
        self.tmp.cleanup()

    def world(self, files):
        write_tree(os.path.join(self.tmp.name, "top"), files)
        return kubesim.Store(os.path.join(self.tmp.name, "top"))

    def test_include_replace_exclude_patch(self):
        store = self.world({
            "_sim/config.yaml": """
                include: [../base]
                namespaceTerminationSeconds: 3
                exclude: [ConfigMap/argocd/b]
                patches:
                - target: Deployment/argocd/web
                  patch: {spec: {replicas: 3}}
                - target: ConfigMap/argocd/a
                  type: json
                  patch: [{op: add, path: /data/extra, value: "x"}]
                """,
            "cm.yaml": """
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: a, namespace: argocd}
                data: {k: top}
                """})
        objs = store.objects
        self.assertEqual(objs[("", "configmaps", "argocd", "a")]["data"],
                         {"k": "top", "extra": "x"})
        self.assertNotIn(("", "configmaps", "argocd", "b"), objs)
        self.assertEqual(objs[("apps", "deployments", "argocd", "web")]["spec"]["replicas"], 3)
        self.assertEqual(store.ns_terminate, 3)  # the including world's key wins
        self.assertIsNotNone(store.controller)   # the base's controller: section
        pods = [k for k in objs if k[1] == "pods"]
        self.assertEqual(3, len(pods))
        lines = kubesim.pod_log_lines(store, "argocd", pods[0][3], "")
        self.assertIn("base log line", [t for _, t in lines])
        self.assertIn("mode=one", " ".join(t for _, t in lines))

    def test_errors_name_the_file(self):
        cases = [
            ({"_sim/config.yaml": "include: [../nowhere]\n"}, "is not a directory"),
            ({"_sim/config.yaml": "include: [../base]\nexclude: [ConfigMap/argocd/zz]\n"},
             "exclude: ConfigMap/argocd/zz is not in the world"),
            ({"_sim/config.yaml": "include: [../base]\nexclude: [ConfigMap/zz]\n"},
             "is not Kind/namespace/name"),
            ({"_sim/config.yaml": "include: [../base]\npatches: [{target: ConfigMap/argocd/a}]\n"},
             "patches[0]: needs target and patch"),
            ({"_sim/config.yaml": "include: [.]\n"}, "include cycle"),
        ]
        for files, want in cases:
            with self.subTest(want=want):
                with self.assertRaises(SystemExit) as cm:
                    self.world(files)
                self.assertIn(want, str(cm.exception))

    def test_same_name_twice_in_one_world_is_still_an_error(self):
        dup = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: argocd}\n"
        with self.assertRaises(SystemExit) as cm:
            self.world({"_sim/config.yaml": "include: [../base]\n", "x.yaml": dup,
                        "y.yaml": dup})
        self.assertIn("defined twice", str(cm.exception))


class ControllerLoop(unittest.TestCase):
    """The controller on a paused clock: each advance is one step."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        write_tree(self.tmp.name, BASE)
        self.store = kubesim.Store(self.tmp.name)
        self.store.set_clock(pause=True)
        self.dep = kubesim.BY_PATH[("apps", "v1", "deployments")]

    def tearDown(self):
        self.tmp.cleanup()

    def advance(self, seconds, steps=1):
        for _ in range(steps):
            self.store.set_clock(advance=seconds)
            self.store.controller.last_tick = 0
            self.store.tick()

    def web(self):
        return self.store.objects[("apps", "deployments", "argocd", "web")]

    def pods(self):
        return [o for k, o in sorted(self.store.objects.items()) if k[1] == "pods"]

    def test_converged_at_load(self):
        st = self.web()["status"]
        self.assertEqual((st["replicas"], st["readyReplicas"], st["updatedReplicas"]), (2, 2, 2))
        self.assertEqual(self.web()["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%")

    def test_rolling_update_keeps_availability(self):
        self.store.patch(self.dep, "argocd", "web", "application/strategic-merge-patch+json",
                         {"spec": {"template": {"spec": {"containers": [
                             {"name": "web", "image": "nginx:1.28"}]}}}}, "t", False)
        seen_min_ready = 2
        for _ in range(20):
            self.advance(1)
            ready = sum(1 for p in self.pods() if kubesim.pod_ready(p) == "1/1")
            seen_min_ready = min(seen_min_ready, ready)
        st = self.web()["status"]
        self.assertEqual(["nginx:1.28"] * 2, [p["spec"]["containers"][0]["image"]
                                              for p in self.pods()])
        self.assertEqual((st["updatedReplicas"], st["availableReplicas"]), (2, 2))
        # maxUnavailable 25% of 2 rounds down to 0: never fewer than 2 ready
        self.assertEqual(2, seen_min_ready)

    def test_image_that_never_pulls_and_the_deadline(self):
        self.store.patch(self.dep, "argocd", "web", "application/merge-patch+json",
                         {"spec": {"progressDeadlineSeconds": 5, "template": {"spec": {
                             "containers": [{"name": "web", "image":
                                             "registry.invalid/nginx:1.28"}]}}}}, "t", False)
        self.advance(1, 3)
        waiting = [p["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")
                   for p in self.pods()]
        self.assertEqual(1, waiting.count("ErrImagePull") + waiting.count("ImagePullBackOff"))
        self.advance(2, 4)
        prog = [c for c in self.web()["status"]["conditions"] if c["type"] == "Progressing"][0]
        self.assertEqual(prog["reason"], "ProgressDeadlineExceeded")
        self.assertEqual(2, self.web()["status"]["availableReplicas"])

    def test_crash_loop_backoff_doubles(self):
        self.store.controller.faults.set([{"fault": "CrashLoopBackOff",
                                           "workload": "Deployment/argocd/web"}])
        self.advance(1)
        counts = []
        for _ in range(4):
            self.advance(10)
            counts.append(self.pods()[0]["status"]["containerStatuses"][0]["restartCount"])
        # crashes at 1s, +10s, +20s, +40s: the count climbs ever more slowly
        self.assertEqual(counts, sorted(counts))
        self.assertLess(counts[-1], 5)
        self.assertGreater(counts[-1], counts[0])

    def test_bad_controller_faults(self):
        f = self.store.controller.faults
        self.assertRaises(kubesim.ApiError, f.set, [{"fault": "Nope"}])
        self.assertRaises(kubesim.ApiError, f.set, [{"fault": "ImagePullBackOff", "image": "("}])
        self.assertRaises(kubesim.ApiError, f.set, {"fault": "SyncFails"})

    def test_egress_policy_cuts_git(self):
        ctl = self.store.controller
        self.assertIsNone(ctl.repo_error("https://github.com/a/b.git"))
        pol = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "p", "namespace": "argocd"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                        "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}}
        npres = kubesim.BY_PATH[("networking.k8s.io", "v1", "networkpolicies")]
        self.store.create(npres, "argocd", pol)
        self.assertIn("dial tcp 140.82.121.4:443: i/o timeout",
                      ctl.repo_error("https://github.com/a/b.git"))
        self.store.delete(npres, "argocd", "p")
        pol["spec"]["egress"] = []
        self.store.create(npres, "argocd", pol)
        self.assertIn("lookup github.com", ctl.repo_error("https://github.com/a/b.git"))
        pol["metadata"]["name"] = "allow"
        pol["spec"]["egress"] = [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]
        self.store.create(npres, "argocd", pol)
        self.assertIsNone(ctl.repo_error("https://github.com/a/b.git"))  # additive


if __name__ == "__main__":
    unittest.main(verbosity=1)
