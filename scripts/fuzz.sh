#!/usr/bin/env bash
# Fuzzes every parser of outside data with libFuzzer (clang, ASan, UBSan):
# the YAML loader, the expectation path parser, the Prometheus text parser,
# the DNS reply parser, results.json, kubeconfig and attestation loading,
# the reader of Kubernetes watch streams and the goto rewrite of Lua health
# scripts (tests/fuzz/).
#   scripts/fuzz.sh [SECONDS]   seconds for the loader (default 60); the
#                               other harnesses get half of that each
# Each harness is one single-threaded process, so FUZZ_JOBS of them (default:
# the number of cores) run at once; every harness gets its full time.
# Crashing inputs are written to build-fuzz/artifacts/ and make this fail.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
scripts/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPHASEGATE_FUZZ=ON -DPHASEGATE_TESTS=OFF >/dev/null
# the loader first: it runs longest
names=(node expect_path promtext dns_reply results kubeconfig attest watch_stream luagoto)
cmake --build build-fuzz -j "$(nproc)" --target "${names[@]/#/fuzz_}"
mkdir -p build-fuzz/artifacts
logs=build-fuzz/logs
rm -rf "$logs" && mkdir -p "$logs"
running=0
for name in "${names[@]}"; do
  seeds=tests/fuzz/corpus-$name
  t=$((secs / 2))
  extra=()
  if [ "$name" = node ]; then
    seeds=tests/fuzz/corpus
    t=$secs
    extra=(-dict=tests/fuzz/yaml.dict)
  fi
  corpus=build-fuzz/corpus-$name
  mkdir -p "$corpus"
  cp "$seeds"/* "$corpus/"
  bin=$(find build-fuzz -name "fuzz_$name" -type f -perm -u+x | head -1)
  # at most $jobs harnesses at once (each records its exit status)
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  running=$((running + 1))
  echo "== fuzz_$name for ${t}s"
  (
    set +e
    "$bin" -max_total_time="$t" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
      "${extra[@]}" -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus" \
      >"$logs/$name.log" 2>&1
    echo $? >"$logs/$name.rc"
  ) &
done
wait
rc=0
for name in "${names[@]}"; do
  code=$(cat "$logs/$name.rc" 2>/dev/null || echo missing)
  if [ "$code" = 0 ]; then
    echo "== fuzz_$name: no crash ($(grep -E '^(Done|stat::number_of_executed_units)' \
      "$logs/$name.log" | tr '\n' ' '))"
  else
    echo "== fuzz_$name failed (exit $code):"
    cat "$logs/$name.log"
    rc=1
  fi
done
exit $rc
