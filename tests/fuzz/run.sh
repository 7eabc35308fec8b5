#!/usr/bin/env bash
# Runs every fuzz target of a ZCRYPTSETUP_FUZZ=ON build for a bounded time, each on a scratch
# copy of its seed corpus (the committed corpus is never written), and fails if any crashes.
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
#
# TARGET defaults to all of them (binary_header image commit_record copy_reader crypttab number).
# Prints one line per target with libFuzzer's executions and coverage, then
# `fuzz: N passed, N failed`. Work files (logs, grown corpora, crash inputs) go to
# $FUZZ_OUT (default BUILD_DIR/fuzz-run). A crash input is kept as
# $FUZZ_OUT/artifacts/TARGET-crash-<sha1>; replay it with BUILD_DIR/tests/fuzz/fuzz_TARGET FILE.
#
# FUZZ_KEEP_GOING=1 (for long campaigns) runs libFuzzer's fork mode with one job and goes on
# after a crash, collecting every crashing input instead of stopping at the first.
# FUZZ_JOBS=N runs N targets at once (default 1).
set -uo pipefail

usage() { echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2; exit 2; }
(($# >= 2)) || usage
build=$(cd "$1" && pwd) || usage
seconds=$2
shift 2
[[ $seconds =~ ^[0-9]+$ ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
((${#targets[@]})) || targets=(binary_header image commit_record copy_reader crypttab number key_set)
out=${FUZZ_OUT:-$build/fuzz-run}
jobs=${FUZZ_JOBS:-1}
mkdir -p "$out/artifacts"

# Where the sanitizers find symbols, and what they do on a report (libFuzzer saves the input).
symbolizer=$(command -v llvm-symbolizer || ls /usr/lib/llvm-*/bin/llvm-symbolizer 2>/dev/null | tail -1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1${symbolizer:+:external_symbolizer_path=$symbolizer}}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1${symbolizer:+:external_symbolizer_path=$symbolizer}}

run_one() {
  local target=$1
  local binary=$build/tests/fuzz/fuzz_$target
  local corpus=$out/corpus/$target log=$out/$target.log
  if [[ ! -x $binary ]]; then
    echo "fuzz: $target MISSING ($binary; build with -DZCRYPTSETUP_FUZZ=ON --target fuzzers)"
    return 1
  fi
  rm -rf "$corpus"
  mkdir -p "$corpus"
  cp -r "$here/corpus/$target/." "$corpus/" 2>/dev/null
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$out/artifacts/$target-")
  [[ -f $here/$target.dict ]] && args+=(-dict="$here/$target.dict")
  [[ ${FUZZ_KEEP_GOING:-0} == 1 ]] &&
    args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  local start=$SECONDS rc
  "$binary" "${args[@]}" "$corpus" >"$log" 2>&1
  rc=$?
  local elapsed=$((SECONDS - start))
  # Executions: the final stats line (normal mode) or the last status line's "#N" (fork mode).
  local execs cov ft corp crashes
  execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -1)
  [[ -n $execs ]] || execs=$(grep -E '^#[0-9]+:? ' "$log" | tail -1 | sed -E 's/^#([0-9]+).*/\1/')
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$out/artifacts" -name "$target-*" -type f | wc -l)
  local verdict=ok
  ((rc == 0)) || verdict="CRASH (libFuzzer exit $rc, log $log)"
  ((rc == 0 && crashes > 0)) && [[ ${FUZZ_KEEP_GOING:-0} == 1 ]] && verdict="CRASHES FOUND"
  printf 'fuzz: %-14s %-10s execs %-10s cov %-6s ft %-6s corpus %-6s crash inputs %s, %ss\n' \
    "$target" "$verdict" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$crashes" "$elapsed"
  [[ $verdict == ok ]]
}

# With FUZZ_JOBS > 1 several targets run at once; the lines come out in target order.
passed=0 failed=0
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
  rm -f "$out/$target.rc"
  { run_one "$target"; echo $? >"$out/$target.rc"; } >"$out/$target.summary" &
done
wait
for target in "${targets[@]}"; do
  if [[ $(cat "$out/$target.rc" 2>/dev/null) == 0 ]]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  cat "$out/$target.summary"
done
for target in "${targets[@]}"; do
  for crash in "$out/artifacts/$target"-*; do
    [[ -f $crash ]] && echo "fuzz: crash input $crash"
  done
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
