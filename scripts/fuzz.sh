#!/usr/bin/env bash
# Fuzzes the YAML loader with libFuzzer (clang, ASan, UBSan) for a while.
#   scripts/fuzz.sh [SECONDS]   (default 60)
# Crashing inputs are written to build-fuzz/artifacts/ and make this fail.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/install-deps.sh
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DPHASEGATE_FUZZ=ON -DPHASEGATE_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_node
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/artifacts
cp tests/fuzz/corpus/* "$corpus/"
bin=$(find build-fuzz -name fuzz_node -type f -perm -u+x | head -1)
"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict=tests/fuzz/yaml.dict -artifact_prefix=build-fuzz/artifacts/ "$corpus"
