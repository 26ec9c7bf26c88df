#!/usr/bin/env bash
# bench/core: what the core itself costs. Generates a suite of N checks
# (default 10,000: 10 phases x 10 steps x 100 checks) and measures, with
# /usr/bin/time, the wall time and peak RSS of
#   1. phasegate validate   (load, expand, validate, compile every expectation)
#   2. phasegate run        (trivial file checks, all reports written)
#   3. a bash loop doing the same 10,000 file tests with `test -e` and jq
#      (what a folder of scripts does), for scale.
# Usage: bench/core/run.sh [PHASEGATE_BINARY] [N_PER_STEP]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pg=${1:-$root/build/phasegate}
per_step=${2:-100}
work=${BENCH_WORK:-$root/bench/_out/core}
rm -rf "$work" && mkdir -p "$work/suite/phases"
[ -x "$pg" ] || { echo "build phasegate first (cmake -S . -B build && cmake --build build)"; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)"; exit 2; }

echo "payload" > "$work/target.txt"
{
  echo "name: core-bench"
  echo "vars: {target: $work/target.txt}"
  echo "phases:"
  for p in $(seq 1 10); do echo "  - phases/p$p.yaml"; done
} > "$work/suite/suite.yaml"
for p in $(seq 1 10); do
  {
    echo "id: \"$p\""
    echo "name: Phase $p"
    echo "steps:"
    for s in $(seq 1 10); do
      echo "  - id: \"$p.$s\""
      echo "    checks:"
      for c in $(seq 1 "$per_step"); do
        echo "      - id: c$p-$s-$c"
        echo "        name: Check $c of step $p.$s"
        echo "        file: {path: \"\${target}\"}"
        echo "        expect:"
        echo "          - {path: size, gt: 0}"
      done
    done
  } > "$work/suite/phases/p$p.yaml"
done
n=$((10 * 10 * per_step))

measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" || true
  read -r wall rss < "$work/time.txt"
  printf '| %s | %s s | %s MB |\n' "$label" "$wall" "$(awk -v k="$rss" 'BEGIN{printf "%.1f", k/1024}')"
}

cat > "$work/loop.sh" <<LOOP
#!/usr/bin/env bash
for i in \$(seq 1 $n); do
  s=\$(stat -c %s "$work/target.txt"); echo "{\"size\": \$s}" | jq -e '.size > 0' >/dev/null || echo "fail \$i"
done
LOOP
chmod +x "$work/loop.sh"

echo "## core: $n checks"
echo
echo "| what | wall time | peak RSS |"
echo "|---|---|---|"
measure "phasegate validate ($n checks)" "$pg" validate "$work/suite"
measure "phasegate run ($n trivial file checks, --jobs 8, all reports)" "$pg" run "$work/suite" --jobs 8 --quiet --out "$work/out"
measure "bash loop: stat + jq per check ($n)" "$work/loop.sh"
echo
echo "rerun: bench/core/run.sh [path/to/phasegate] [checks per step]"
