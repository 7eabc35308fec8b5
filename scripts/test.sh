#!/usr/bin/env bash
# The whole test run, as CI does it (.ci/run calls this): installs what is needed, builds,
# runs the unit, CLI and differential tests (ctest), the real-kernel suites in a QEMU guest,
# then the same unit and CLI tests under ASan+UBSan and a short run of every fuzz target
# (scripts/sanitize-and-fuzz.sh).
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
tests/vm/run.sh --timeout 2700 --suite-timeout 900 smoke stock_cryptsetup zoned_hm plain_brd \
  updates_hm drive_kinds crypttab hardening_io hardening_dm differential_zoned bench 2>&1 |
  tee "$vm_log" || status=1

# Sanitizers and fuzzing: their own builds (build-asan, build-fuzz), their own closing line.
san_log=build/sanitize-and-fuzz.log
bash scripts/sanitize-and-fuzz.sh 20 2>&1 | tee "$san_log" || status=1

# One closing line over both runs.
unit_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log" | tail -1)
unit_failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
vm_passed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$vm_log" | tail -1)
vm_failed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$vm_log" | tail -1)
san_passed=$(sed -n 's/^sanitize-and-fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$san_log" | tail -1)
san_failed=$(sed -n 's/^sanitize-and-fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$san_log" | tail -1)
: "${unit_total:=0}" "${unit_failed:=1}" "${vm_passed:=0}" "${vm_failed:=1}"
: "${san_passed:=0}" "${san_failed:=1}"
passed=$((unit_total - unit_failed + vm_passed + san_passed))
failed=$((unit_failed + vm_failed + san_failed))
echo "total: ${passed} passed, ${failed} failed"
if ((failed > 0)); then status=1; fi
exit "$status"
