"""Count the objects of each kind in a world directory (the oracle for
the kubectl listing tests; it reads the YAML itself, not the simulator).
Prints one line per kind: '<kubectl resource argument> <count>'."""
import collections
import os
import sys

import yaml

counts = collections.Counter()
world = sys.argv[1]
for root, dirs, files in os.walk(world):
    dirs[:] = [d for d in dirs if d != "_sim"]
    for name in files:
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(root, name), encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    counts[(doc["apiVersion"], doc["kind"])] += 1
for (api_version, kind), n in sorted(counts.items()):
    group = api_version.rpartition("/")[0]
    arg = kind.lower() + ("." + group if group else "")
    print(arg, n)
