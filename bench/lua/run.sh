#!/bin/bash
# bench/lua/run.sh - Argo CD's Lua health checks over many objects, two ways:
#   phasegate  one `phasegate health --customizations DIR FILE...` over the
#              objects of Argo CD's own health test cases (each script in
#              the sandbox: worker process, memory, instruction and time
#              limits, YAML read and JSON converted each time)
#   lua5.1     a bash loop running the stand-alone Lua 5.1 interpreter once
#              per object on a file holding the object (already converted
#              to a Lua table, which the loop is not charged for) and the
#              kind's health.lua: how one tries a script by hand
# Objects whose script uses goto are left out of both (Lua 5.1 has none).
# Prints a Markdown table: wall time, peak RSS, objects per second, ratio.
#
# Usage: bench/lua/run.sh [R]   (each object R times, default 5)
# Environment: PG_BINARY (default build/phasegate), PG_SHARED_DIR (default
# ../shared beside the checkout), PG_PYTHON3.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
R=${1:-5}
PG_BINARY=${PG_BINARY:-$ROOT/build/phasegate}
SHARED=${PG_SHARED_DIR:-$ROOT/../shared}
PY=${PG_PYTHON3:-python3}
DIR="$SHARED/reference/argocd/resource_customizations"
for tool in lua5.1 bc /usr/bin/time "$PG_BINARY"; do
  command -v "$tool" >/dev/null || { echo "bench/lua: $tool is needed" >&2; exit 2; }
done
[ -d "$DIR" ] || { echo "bench/lua: no $DIR" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/pg-bench-lua.XXXXXX")
trap 'rm -rf "$work"' EXIT
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

"$PY" - "$DIR" "$R" "$work" <<'PYEOF'
import datetime, json, os, sys, yaml
root, reps, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def lua(v):
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, (datetime.date, datetime.datetime)):
        v = v.isoformat()
    if isinstance(v, str):
        return json.dumps(v)  # JSON escapes are Lua escapes for these texts
    if isinstance(v, list):
        return "{" + ",".join(lua(x) for x in v if x is not None) + "}"
    return "{" + ",".join("[%s]=%s" % (json.dumps(str(k)), lua(x))
                          for k, x in v.items() if x is not None) + "}"

files, loop = [], ["#!/bin/bash", "set -e"]
n = 0
for d, _, names in sorted(os.walk(root)):
    if "health_test.yaml" not in names:
        continue
    script = open(os.path.join(d, "health.lua")).read()
    if "goto" in script:
        continue
    for t in yaml.safe_load(open(os.path.join(d, "health_test.yaml")))["tests"]:
        path = os.path.join(d, t["inputPath"])
        obj = next(d for d in yaml.safe_load_all(open(path)) if d)
        n += 1
        lf = os.path.join(work, "o%04d.lua" % n)
        with open(lf, "w") as f:
            f.write("obj = " + lua(obj) + "\nlocal function run()\n" + script +
                    "\nend\nlocal hs = run()\n")
        files.append((path, lf))
args = []
for _ in range(reps):
    for path, lf in files:
        args.append(path)
        loop.append("lua5.1 " + lf)
open(os.path.join(work, "args.txt"), "w").write("\n".join(args) + "\n")
open(os.path.join(work, "loop.sh"), "w").write("\n".join(loop) + "\n")
print(len(args))
PYEOF
N=$(wc -l <"$work/args.txt")
mapfile -t ARGS <"$work/args.txt"

measure phasegate "$PG_BINARY" health --customizations "$DIR" "${ARGS[@]}"
got=$(wc -l <"$work/phasegate.out")
[ "$got" -eq "$N" ] || { echo "phasegate judged $got of $N objects" >&2; exit 1; }
measure lua5.1 bash "$work/loop.sh"

echo "| $N objects (Argo CD's health test cases x$R) | wall | peak RSS | objects/s |"
echo "|---|---|---|---|"
for name in phasegate lua5.1; do
  printf '| %s | %.2f s | %.1f MB | %.0f |\n' "$name" "${wall[$name]}" \
    "$(echo "${rss[$name]} / 1024" | bc -l)" "$(echo "$N / ${wall[$name]}" | bc -l)"
done
printf '\nphasegate is %.1fx the interpreter-per-object loop\n' \
  "$(echo "${wall[lua5.1]} / ${wall[phasegate]}" | bc -l)"
