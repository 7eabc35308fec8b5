#!/usr/bin/env bash
# The sanitizer and fuzzing run, as CI does it after scripts/test.sh's own build:
#   1. build-asan: every target built with ASan + UBSan (ZCRYPTSETUP_SANITIZE=ON, gcc), and
#      its whole ctest suite (unit tests, CLI contract tests, generator test); a sanitizer
#      report aborts the program, so the test that ran it fails;
#   2. build-fuzz: the libFuzzer targets (ZCRYPTSETUP_FUZZ=ON, clang), each seed replayed
#      once (ctest -R fuzz_), then each target fuzzed for a few seconds (tests/fuzz/run.sh).
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

phase "build-asan: configure and build (ZCRYPTSETUP_SANITIZE=ON)"
if cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZCRYPTSETUP_SANITIZE=ON \
     "${launcher[@]}" >/dev/null && cmake --build build-asan -j "$jobs" >build-asan/build.log 2>&1; then
  phase "build-asan: ctest"
  # The sanitizer options are compiled into the programs (CMakeLists.txt: a report aborts, so
  # even a test expecting a non-zero exit fails on it).
  # ASan's slowdown, and in scripts/test.sh a low priority beside the guests: the differential
  # test's hang limit (20 s for a command that takes one) gets room.
  (cd build-asan && ZC_DIFFERENTIAL_TIMEOUT=90 ctest --output-on-failure -j "$jobs") 2>&1 |
    tee build-asan/ctest.log
  count_ctest build-asan/ctest.log
else
  tail -30 build-asan/build.log
  echo "build-asan: build failed"
  failed=$((failed + 1))
fi

phase "build-fuzz: configure and build (ZCRYPTSETUP_FUZZ=ON, clang)"
if CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DZCRYPTSETUP_FUZZ=ON "${launcher[@]}" >/dev/null &&
   cmake --build build-fuzz -j "$jobs" --target fuzzers >build-fuzz/build.log 2>&1; then
  phase "build-fuzz: seeds replayed"
  (cd build-fuzz && ctest --output-on-failure -R '^fuzz_') 2>&1 | tee build-fuzz/ctest.log
  count_ctest build-fuzz/ctest.log
  phase "build-fuzz: ${seconds} s per target, ${jobs} at once"
  FUZZ_JOBS=$jobs tests/fuzz/run.sh build-fuzz "$seconds" 2>&1 | tee build-fuzz/fuzz.log
  fuzz_passed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' build-fuzz/fuzz.log)
  fuzz_failed=$(sed -n 's/^fuzz: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' build-fuzz/fuzz.log)
  passed=$((passed + ${fuzz_passed:-0}))
  failed=$((failed + ${fuzz_failed:-1}))
else
  tail -30 build-fuzz/build.log
  echo "build-fuzz: build failed"
  failed=$((failed + 1))
fi

phase "done"
echo "sanitize-and-fuzz: ${passed} passed, ${failed} failed"
((failed == 0))
