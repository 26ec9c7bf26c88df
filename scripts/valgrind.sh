#!/usr/bin/env bash
# Runs the local modules (exec, file, tcp, manual), the loader and the
# masker under valgrind on one small suite (tests/valgrind/): any invalid
# access, use of uninitialised memory or definite leak fails.
#   scripts/valgrind.sh [BUILD_DIR]   (default build/, built by scripts/test.sh)
# --run-libc-freeres=no: glibc frees getaddrinfo_a's request list at exit
# reading memory it never initialised (its bug, reported against glibc's
# own free_res); phasegate's memory is checked all the same.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
bin=$dir/phasegate
[ -x "$bin" ] || { echo "valgrind.sh: build $bin first (scripts/test.sh)" >&2; exit 1; }
out=$(mktemp -d "${TMPDIR:-/tmp}/pg-valgrind.XXXXXX")
trap 'rm -rf "$out"' EXIT
export PG_VALGRIND_TOKEN=valgrind-s3cret
rc=0
for suite in tests/valgrind/*.yaml; do
  echo "== valgrind: $suite"
  set +e
  valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --track-origins=yes --trace-children=no --run-libc-freeres=no \
    "$bin" run "$suite" --out "$out/$(basename "$suite" .yaml)" >"$out/log" 2>&1
  code=$?
  set -e
  # 99: valgrind found something; 0 or 1 is the suite's own verdict; the
  # suite must have run (results written)
  if [ ! -s "$out/$(basename "$suite" .yaml)/results.json" ] || [ "$code" -gt 1 ]; then
    echo "valgrind.sh: $suite did not run (exit $code)" >&2
    cat "$out/log"
    rc=1
  elif [ "$code" -eq 99 ] || grep -q "==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|definitely lost\)" "$out/log"; then
    cat "$out/log"
    rc=1
  fi
done
exit $rc
