"""Validates every Argo CD API response the simulator logged (kubesim
--argocd-response-log: one JSON line {method, path, status, body} per body,
one per line of a stream) against Argo CD's own API description, a Swagger
2.0 document, with python3-jsonschema:

- the path must match one of the description's path templates and the
  method one of its operations (the simulator serves a subset of them);
- the body must validate against the operation's schema for that status,
  or its "default" (runtimeError) when the status is not listed.  Swagger
  2.0 schemas are JSON Schema draft 4 with "#/definitions/..." references,
  so the description's definitions are handed to a Draft4Validator as they
  are (Swagger-only keywords such as "title" or "format" are annotations).

It also checks, with --routes ARGOCD_API.py, that every route the simulator
declares (ArgoCD.ROUTES: method and path pattern) is an operation of the
description, so the paths it serves are a subset of Argo CD's.

Usage: validate_responses.py [--routes ARGOCD_API.py] SWAGGER.json LOG.jsonl...
Prints one line per failure and a closing "N passed, N failed" line; exits 1
when a response does not validate or when no response was logged at all."""
import json
import re
import sys

import jsonschema


def templates(swagger):
    out = []
    for tpl, ops in swagger["paths"].items():
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(tpl)) + "$"
        out.append((tpl.count("{"), re.compile(rx), tpl, ops))
    out.sort(key=lambda t: (t[0], -len(t[2])))  # literal paths before templates
    return out


def route_shapes(path):
    """ROUTES of argocd_api.py as (METHOD, "/api/v1/applications/{}") pairs,
    read from the source text (the module needs kubesim to import)."""
    with open(path) as f:
        text = f.read()
    block = text[text.index("ROUTES = ["):]
    block = block[:block.index("\n    ]")]
    out = []
    for m in re.finditer(r'\("(GET|POST|PUT|PATCH|DELETE)",\s*((?:r"[^"]*"\s*)+),', block):
        rx = "".join(re.findall(r'r"([^"]*)"', m.group(2)))
        shape = re.sub(r"\(\?P<\w+>[^)]*\)", "{}", rx.strip("^$"))
        out.append((m.group(1), shape))
    return out


def main():
    argv = sys.argv[1:]
    routes = None
    if argv[:1] == ["--routes"]:
        routes, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        swagger = json.load(f)
    tpls = templates(swagger)
    defs = swagger["definitions"]
    passed = failed = 0
    seen = set()
    if routes:
        shapes = {(m.upper(), re.sub(r"\{[^}]+\}", "{}", tpl))
                  for tpl, ops in swagger["paths"].items() for m in ops}
        declared = route_shapes(routes)
        if not declared:
            print("FAIL %s: no routes found" % routes)
            failed += 1
        for method, shape in declared:
            if (method, shape) in shapes:
                passed += 1
            else:
                print("FAIL route %s %s is not an operation of the description" % (method, shape))
                failed += 1
    for log in argv[1:]:
        with open(log) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        for i, rec in enumerate(lines):
            where = "%s:%d %s %s (%s)" % (log, i + 1, rec["method"], rec["path"], rec["status"])
            match = next(((tpl, ops) for _, rx, tpl, ops in tpls
                          if rx.match(rec["path"]) and rec["method"].lower() in ops), None)
            if match is None:
                print("FAIL %s: no such path and method in the description" % where)
                failed += 1
                continue
            tpl, ops = match
            op = ops[rec["method"].lower()]
            resp = op["responses"].get(str(rec["status"])) or op["responses"].get("default")
            if resp is None or "schema" not in resp:
                print("FAIL %s: the description has no schema for status %s" % (
                    where, rec["status"]))
                failed += 1
                continue
            schema = dict(resp["schema"])
            schema["definitions"] = defs
            errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(rec["body"]),
                            key=lambda e: list(e.path))
            if errors:
                e = errors[0]
                print("FAIL %s: %s at %s" % (where, e.message[:300],
                                             "/".join(str(p) for p in e.path)))
                failed += 1
                continue
            seen.add("%s %s %s" % (rec["method"], tpl, rec["status"]))
            passed += 1
    for s in sorted(seen):
        print("ok   %s" % s)
    if not seen:
        print("no response was logged: nothing validated")
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
