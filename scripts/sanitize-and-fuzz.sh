#!/usr/bin/env bash
# The sanitizer and fuzzing run, as CI does it after scripts/test.sh's own build: one clang
# build, build-sanitize (ZCRYPTSETUP_SANITIZE=ON and ZCRYPTSETUP_FUZZ=ON), in which every
# target carries ASan + UBSan (no recovery) and libFuzzer's coverage instrumentation, and only
# the fuzz targets link libFuzzer's main. Then:
#   1. its whole ctest suite (unit tests, CLI contract tests, generator test, differential test,
#      and each fuzz target's seeds replayed once, the fuzz_*_seeds tests); a sanitizer report
#      aborts the program, so the test that ran it fails;
#   2. each fuzz target fuzzed for a few seconds (tests/fuzz/run.sh).
# Ends with one line, `sanitize-and-fuzz: N passed, N failed` (ctest tests plus fuzz targets).
#
#   scripts/sanitize-and-fuzz.sh [SECONDS_PER_FUZZ_TARGET]     (default 20)
#
# Needs clang, libclang-rt-14-dev and llvm besides the build packages (scripts/install-deps.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
jobs=$(nproc)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
passed=0 failed=0
started=$SECONDS

phase() { echo "== $* ($((SECONDS - started)) s)"; }
# count_ctest LOG: adds ctest's "N tests failed out of M" to the totals (one failure if absent).
count_ctest() {
  local total failures
  total=$(sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\2/p' "$1" | tail -1)
  failures=$(sed -n 's/.*tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1/p' "$1" | tail -1)
  if [[ -z $total ]]; then failed=$((failed + 1)); return; fi
  passed=$((passed + total - failures))
  failed=$((failed + failures))
}

phase "build-sanitize: configure and build (clang; ZCRYPTSETUP_SANITIZE, ZCRYPTSETUP_FUZZ)"
# -O2 with line tables only (what a sanitizer report's stack trace needs; full debug info
# doubled the compile time of the larger files) and without NDEBUG: the library's assert()s
# of what a caller must never do are checked here too.
if CC=clang CXX=clang++ cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only" \
     -DZCRYPTSETUP_SANITIZE=ON -DZCRYPTSETUP_FUZZ=ON "${launcher[@]}" >/dev/null &&
   cmake --build build-sanitize -j "$jobs" >build-sanitize/build.log 2>&1; then
  phase "build-sanitize: ctest (the whole suite, fuzz seeds replayed)"
  # The sanitizer options are compiled into the programs (CMakeLists.txt: a report aborts, so
  # even a test expecting a non-zero exit fails on it).
  # ASan's slowdown, and in scripts/test.sh a low priority beside the guests: the differential
  # test's hang limit (20 s for a command that takes one) gets room. The source-tree structure
  # checks run no program of this build (python over the sources): the plain ctest has them.
  (cd build-sanitize && ZC_DIFFERENTIAL_TIMEOUT=90 ctest --output-on-failure -j "$jobs" \
     -E '^check_structure') 2>&1 |
    tee build-sanitize/ctest.log
  count_ctest build-sanitize/ctest.log
  phase "build-sanitize: fuzzing, ${seconds} s per target, ${jobs} at once"
  fuzz_log=build-sanitize/fuzz.log
  FUZZ_JOBS=$jobs tests/fuzz/run.sh build-sanitize "$seconds" 2>&1 | tee "$fuzz_log"
  fuzz_passed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$fuzz_log")
  fuzz_failed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$fuzz_log")
  passed=$((passed + ${fuzz_passed:-0}))
  failed=$((failed + ${fuzz_failed:-1}))
else
  tail -30 build-sanitize/build.log
  echo "build-sanitize: build failed"
  failed=$((failed + 1))
fi

phase "done"
echo "sanitize-and-fuzz: ${passed} passed, ${failed} failed"
((failed == 0))
