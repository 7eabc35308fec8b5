#!/usr/bin/env bash
# The whole test run, as CI does it (.ci/run calls this): installs what is needed, builds,
# runs the unit and CLI tests (ctest), then the real-kernel suites in a QEMU guest.
# Run as root from anywhere; a fresh Debian 12 machine is enough.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build.sh

status=0
ctest_log=build/ctest.log
(cd build && ctest --output-on-failure -j "$(nproc)") 2>&1 | tee "$ctest_log" || status=1

# Each suite boots its own guest; see tests/vm/README.md. Suites for issues still open are
# added as they land.
vm_log=build/vm.log
tests/vm/run.sh --timeout 2700 --suite-timeout 900 smoke stock_cryptsetup zoned_hm plain_brd updates_hm drive_kinds crypttab bench 2>&1 | tee "$vm_log" || status=1

# One closing line over both runs.
unit_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log" | tail -1)
unit_failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
vm_passed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$vm_log" | tail -1)
vm_failed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$vm_log" | tail -1)
: "${unit_total:=0}" "${unit_failed:=1}" "${vm_passed:=0}" "${vm_failed:=1}"
passed=$((unit_total - unit_failed + vm_passed))
failed=$((unit_failed + vm_failed))
echo "total: ${passed} passed, ${failed} failed"
if ((failed > 0)); then status=1; fi
exit "$status"
