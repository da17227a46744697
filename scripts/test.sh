#!/usr/bin/env bash
# The second README command (and what CI runs): installs dependencies, then
#   1. Release build (-O2 -Wall -Wextra -Werror) and the whole ctest suite;
#   2. the suite again under AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. valgrind over the unit tests;
#   4. a short libFuzzer run of every fuzz target (clang);
#   5. the demo, which must print alerts and exit 0.
# Every test starts its own redis-server on a private unix socket.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
JOBS=$(nproc)
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

echo "== browser test dependencies (tests/browser: playwright-core, pinned in package-lock.json)"
if command -v npm >/dev/null; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error) \
    || echo "npm ci failed: test_console_browser will be skipped" >&2
else
  echo "npm not found: test_console_browser will be skipped" >&2
fi

echo "== release build and tests"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
(cd build && ctest --output-on-failure -j"$JOBS")

echo "== sanitizer build (ASan+UBSan) and tests"
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DWW_SANITIZE=ON -DWW_BENCH=OFF >/dev/null
cmake --build build-san -j"$JOBS"
(cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   LSAN_OPTIONS=suppressions="$PWD/../tests/lsan.supp" \
   ctest --output-on-failure -j"$JOBS")

echo "== valgrind (unit tests of the release build)"
for src in tests/unit/test_*.c; do
  t=build/tests/$(basename "$src" .c)
  case "$t" in *test_rules) continue ;; esac   # its property test takes minutes under valgrind (ASan covers it)
  valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite "$t" >"$t.valgrind.log" 2>&1 \
    || { tail -40 "$t.valgrind.log"; echo "valgrind: $(basename "$t") FAILED"; exit 1; }
done
echo "valgrind: clean"

echo "== fuzzing (${FUZZ_SECONDS}s per target)"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DWW_FUZZ=ON >/dev/null
targets=$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)
cmake --build build-fuzz -j"$JOBS" --target $targets
for f in build-fuzz/bin/fuzz_*; do
  name=$(basename "$f"); corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d); [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  "$f" -max_total_time="$FUZZ_SECONDS" -max_len=65536 -rss_limit_mb=2048 "$work" >"$work.log" 2>&1 \
    || { tail -40 "$work.log"; echo "fuzz target $name FAILED"; exit 1; }
  echo "$name: $(grep -E '^#[0-9]+.*DONE' "$work.log" | tail -1 || true)"
  rm -rf "$work" "$work.log"
done

echo "== demo"
build/bin/wirewatch up --demo > build/demo.out
grep -q "alerts" build/demo.out
tail -2 build/demo.out
echo "all test stages passed"
