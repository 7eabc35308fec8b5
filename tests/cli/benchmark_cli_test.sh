#!/usr/bin/env bash
# benchmark (issue 12): what it refuses, and with which exit code, before it maps anything.
# No device-mapper is touched: every command here fails in option or device checks.
#
#   benchmark_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: benchmark_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/benchmark_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

. "$(dirname "$0")/cli_lib.sh"

expect 0 "--help lists benchmark" "$Z" --help
matches '^  benchmark ' "... as an action"
matches -- '--benchmark-modes' "... and its options"

# --- options that need --inline, options benchmark does not take ------------------------------
for extra in "--json" "--rounds 2" "--benchmark-seconds 2" "--benchmark-modes inline" "/dev/null"; do
  # shellcheck disable=SC2086
  expect 1 "benchmark $extra without --inline: exit 1" "$Z" benchmark $extra
done
matches 'need --inline' "... and says it needs --inline"
expect 1 "benchmark --label: exit 1" "$Z" benchmark --label x
matches 'not allowed with benchmark' "... not allowed with benchmark"
expect 1 "benchmark --cipher without a mode: exit 1" "$Z" benchmark --cipher aes
expect 1 "benchmark --inline with two devices: exit 1" "$Z" benchmark --inline /dev/a /dev/b
matches 'Usage: zcryptsetup benchmark' "... prints the usage"

# --- bad values -----------------------------------------------------------------------------
for modes in foo inline,inline inline, ,inline Inline auto,native; do
  expect 1 "--benchmark-modes '$modes': exit 1" "$Z" benchmark --inline --benchmark-modes "$modes"
done
for bad in "--benchmark-seconds 0" "--benchmark-seconds 3601" "--benchmark-seconds -1" \
  "--benchmark-seconds 2s" "--rounds 0" "--rounds 101" "--rounds x" "--cipher aes" \
  "--cipher -xts" "--key-size 100" "--key-size 0" "--key-size 2048"; do
  # shellcheck disable=SC2086
  expect 1 "benchmark --inline $bad: exit 1" "$Z" benchmark --inline $bad
done

# --- devices --------------------------------------------------------------------------------
truncate -s 8M "$work/file.img"
if [[ $(id -u) == 0 ]]; then
  expect 4 "--inline on a missing device: exit 4" "$Z" benchmark --inline "$work/none"
  expect 4 "--inline on a regular file: exit 4" "$Z" benchmark --inline "$work/file.img"
  matches 'not a block device' "... says it is not a block device"
else
  expect 2 "--inline as a user: exit 2" "$Z" benchmark --inline "$work/file.img"
  matches 'as root' "... says it needs root"
fi

echo "benchmark: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
