#!/usr/bin/env bash
# Builds phasegate and runs every test (unit, integration against real
# nginx, dnsmasq and Prometheus, and the cluster simulator).
#   scripts/test.sh              normal build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
dir=build
flags=(-DPHASEGATE_WERROR=ON)
skip=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  # tests that run none of phasegate's code, so a sanitizer build cannot
  # change them: the simulator's own (sim.*: kubesim against kubectl and
  # upstream's data), the check of the simulator's Argo CD answers against
  # Argo CD's API description, and the shell test of the pid files
  skip=(-E '^sim\.|^argocd\.swagger$|^net\.pidlib$')
  flags+=(-DPHASEGATE_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
shared="$(cd .. && pwd)/shared"
cmake -S . -B "$dir" "${flags[@]}" -DPG_SHARED_DIR="$shared" >/dev/null
cmake --build "$dir" -j "$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j 2 --timeout 300 "${skip[@]}"
