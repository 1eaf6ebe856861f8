#!/bin/sh
# Sets everything up and runs every test tier of dfly:
#   1. build + make check          (unit, system, fuzz-corpus replay, export check)
#   2. the unit tests under valgrind (no definite leaks, no memory errors)
#   3. ASan + UBSan build + make check
#   4. libFuzzer targets, a bounded time each
#   5. make distcheck
#   6. the benchmarks in tests/bench/ (figures against a baseline; a step
#      fails only if a benchmark cannot run, never on a time)
# and ends with one line: "tests: N passed, N failed".
# BUILD_ROOT (default ./build) holds the build trees; FUZZ_SECONDS (default 20).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
root=$(mkdir -p "${BUILD_ROOT:-$top/build}" && cd "${BUILD_ROOT:-$top/build}" && pwd)
fuzz_seconds=${FUZZ_SECONDS:-20}
jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0

say () { printf '\n== %s ==\n' "$*"; }

# Adds the PASS and FAIL/ERROR/XPASS counts of a test-suite.log to the totals.
count_suite () {
  log=$1
  if [ ! -f "$log" ]; then
    failed=$((failed + 1))
    echo "run-all: no $log (the tier did not run its tests)"
    return
  fi
  p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
  f=$(sed -n 's/^# \(FAIL\|ERROR\|XPASS\): *//p' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + ${p:-0}))
  failed=$((failed + f))
  echo "run-all: $log: ${p:-0} passed, $f failed"
}

# One test per non-suite step: it passes when the command succeeds.
step () {
  name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "run-all: ok - $name"
  else
    failed=$((failed + 1))
    echo "run-all: FAILED - $name"
  fi
}

"$top/tests/setup.sh" || { echo "tests: 0 passed, 1 failed"; exit 1; }
(cd "$top" && NOCONFIGURE=1 ./autogen.sh >/dev/null 2>&1) || {
  echo "run-all: autogen.sh failed"; echo "tests: 0 passed, 1 failed"; exit 1; }

configure_and_build () {
  dir=$1
  shift
  mkdir -p "$dir" && cd "$dir" && "$top/configure" -q "$@" >/dev/null &&
    make -s -j"$jobs" >build.log 2>&1 || { tail -40 "$dir/build.log" 2>/dev/null; return 1; }
}

say "1. build and make check"
rm -rf "$root/main/test-suite.log"
if step "build" configure_and_build "$root/main"; then
  make -C "$root/main" -s -j"$jobs" check >/dev/null 2>&1
  count_suite "$root/main/test-suite.log"
  grep -h '^\(not ok\|ERROR\|FAIL\)' "$root/main"/tests/*.log "$root/main"/tests/*/*.log \
    "$root/main"/plugins/*/*/*.log 2>/dev/null | head -30

  say "2. unit tests under valgrind"
  unit=$(make -C "$root/main" -s print-unit-tests)
  rm -f "$root/main/test-suite.log"
  DFLY_VALGRIND=1 make -C "$root/main" -s check TESTS="$unit" >/dev/null 2>&1
  count_suite "$root/main/test-suite.log"
fi

say "3. AddressSanitizer + UndefinedBehaviorSanitizer"
if step "sanitizer build" configure_and_build "$root/asan" --enable-sanitizers; then
  rm -f "$root/asan/test-suite.log"
  # The same checks on a smaller swarm file: sanitized daemons are several
  # times slower, and tier 1 already moved 256 MiB.
  SWARM_BIG_MIB=64 make -C "$root/asan" -s -j"$jobs" check >/dev/null 2>&1
  count_suite "$root/asan/test-suite.log"
fi

say "4. fuzz targets, ${fuzz_seconds}s each"
fuzz () {
  log="$root/main/fuzz-$1.log"
  sh "$top/tests/fuzz/run.sh" "$1" "$fuzz_seconds" "$root/main" >"$log" 2>&1 ||
    { tail -40 "$log"; return 1; }
  grep '^Done [0-9]* runs' "$log"
}
for target in $(sh "$top/tests/fuzz/run.sh" --list); do
  step "fuzz $target" fuzz "$target"
done

say "5. make distcheck"
# The packaging is what this tier checks; tier 1 already moved the 256 MiB swarm file.
step "distcheck" sh -c "cd '$root/main' && SWARM_BIG_MIB=64 make -s -j$jobs distcheck >distcheck.log 2>&1 || { tail -60 distcheck.log; exit 1; }"

say "6. benchmarks (figures, not pass/fail)"
bench () {
  log="$root/main/bench-$1.log"
  sh "$top/tests/bench/$1.sh" "$root/main" >"$log" 2>&1 || { tail -40 "$log"; return 1; }
  grep '^bench ' "$log"
}
for script in "$top"/tests/bench/bench-*.sh; do
  name=$(basename "$script" .sh)
  step "$name" bench "$name"
done

echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
