#!/usr/bin/env bash
# Fuzzes every parser of outside data with libFuzzer (clang, ASan, UBSan):
# the YAML loader, the expectation path parser, the Prometheus text parser,
# the DNS reply parser, results.json, kubeconfig and attestation loading,
# the reader of Kubernetes watch streams (tests/fuzz/).
#   scripts/fuzz.sh [SECONDS]   seconds for the loader (default 60); the
#                               other harnesses get half of that each
# Crashing inputs are written to build-fuzz/artifacts/ and make this fail.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPHASEGATE_FUZZ=ON -DPHASEGATE_TESTS=OFF >/dev/null
names=(node expect_path promtext dns_reply results kubeconfig attest watch_stream)
cmake --build build-fuzz -j "$(nproc)" --target "${names[@]/#/fuzz_}"
mkdir -p build-fuzz/artifacts
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
  echo "== fuzz_$name for ${t}s"
  "$bin" -max_total_time="$t" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
    "${extra[@]}" -artifact_prefix="build-fuzz/artifacts/$name-" "$corpus"
done
