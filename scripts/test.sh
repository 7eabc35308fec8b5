#!/usr/bin/env bash
# The whole test run, as CI does it (.ci/run calls this): installs what is needed, builds,
# runs the unit, CLI and differential tests (ctest), the real-kernel suites in a QEMU guest,
# the package checks (scripts/package-check.sh: the .deb, lintian, install paths, man pages),
# the boot suite (tests/boot/run.sh: that .deb in a real Debian 12 booted with systemd, NVMe
# ZNS, crypttab, ask-password, power cuts), and the same unit and CLI tests under ASan+UBSan
# with a short run of every fuzz target (scripts/sanitize-and-fuzz.sh). The package build and
# the sanitizer run go in the background, niced, beside the vm suites' guest; the boot suite's
# guest starts when one of those two long runs is done (see below).
# Run as root from anywhere; a fresh Debian 12 machine is enough.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
# phase NAME: one line per phase with the time so far, so a slow run shows where it went.
phase() {
  echo "== test.sh: $* ($((SECONDS - started)) s)"
  phases+=("$((SECONDS - started)) s  $*")
}
phases=()

phase "install-deps"
bash scripts/install-deps.sh
# The boot suite's Debian root file system (cached outside the repo) takes a few minutes to
# build the first time, mostly downloading and unpacking: it runs while the build and the
# other suites do.
rootfs_log=$(mktemp)
bash tests/boot/build-rootfs.sh >"$rootfs_log" 2>&1 &
rootfs_pid=$!
phase "build"
bash scripts/build.sh

status=0
phase "ctest"
ctest_log=build/ctest.log
(cd build && ctest --output-on-failure -j "$(nproc)") 2>&1 | tee "$ctest_log" || status=1
# The figures ctest prints (tests/bench/code_footprint.sh, phase_hook_test.sh): ctest keeps a
# passing test's output in its own log only.
grep -h -e '^FIGURE code footprint' -e '^FIGURE open phases' build/Testing/Temporary/LastTest.log 2>/dev/null || true

# Each suite boots its own guest; see tests/vm/README.md. Suites for issues still open are
# added as they land.
vm_log=build/vm.log
# native_inline needs dm-crypt with force_inline, built by dkms for the guest kernel (cached in
# /var/cache/zcryptsetup-vm: about 30 s the first time, under a second after). Built here first,
# so a failure (no network for apt-get, a kernel without its linux-source) fails that suite
# alone. It runs last: it swaps the dm-crypt module (and puts the stock one back).
phase "vm: native module"
native_suite=(native_inline)
native_log=build/native-module.log
native_build_failed=0
if ! tests/vm/build-native-module.sh >"$native_log" 2>&1; then
  cat "$native_log"
  echo "vm: ERROR: tests/vm/build-native-module.sh failed; native_inline not run" | tee -a "$native_log"
  native_suite=()
  native_build_failed=1
fi
# CI has 2 cores and the run must stay within 40 minutes. The guest of the vm suites keeps
# about one core busy. The package build and the sanitizer run take the other one: they start
# now in the background at a lower priority (nice), so the guest's timings are barely touched.
# The boot suite (which needs the .deb) boots its own guest once the package is built and one
# of the two long runs, the sanitizer run or the vm suites, is done: beside the rest of the vm
# suites if the sanitizer run ends first, beside the rest of the niced sanitizer run if the vm
# suites do. Never beside both: two guests take both cores, and the niced sanitizer run then
# starves until one of them ends (a trial of that order ran past 40 minutes); nor after both,
# which left a core idle for the whole boot suite. The benchmark suites go first, so that
# they share the machine with the niced builds only, never with the boot suite's guest.
pkg_log=build/package.log
san_log=build/sanitize-and-fuzz.log
phase "package and sanitize-and-fuzz started in the background (nice)"
nice -n 10 bash scripts/package-check.sh >"$pkg_log" 2>&1 &
pkg_pid=$!
nice -n 10 bash scripts/sanitize-and-fuzz.sh 12 >"$san_log" 2>&1 &
san_pid=$!

phase "vm suites started in the background (log: $vm_log)"
tests/vm/run.sh --timeout 3000 --suite-timeout 900 smoke stock_cryptsetup bench bench_ops \
  bench_scale zoned_hm plain_brd updates_hm drive_kinds crypttab hardening_io hardening_dm \
  differential_zoned "${native_suite[@]}" >"$vm_log" 2>&1 &
vm_pid=$!

# The Debian package: built once (build-deb/), and the boot suite installs that .deb.
phase "package (waiting for it)"
wait "$pkg_pid" || status=1
cat "$pkg_log"

# Sanitizers and fuzzing (their own clang build, build-sanitize, their own closing line), or
# the vm suites, whichever ends first; the other is waited for after the boot suite.
phase "sanitize-and-fuzz or the vm suites (waiting for the first)"
# Polled with kill -0: bash's `wait -n` skips a job that ended before it was called (say,
# while the package was waited for) and waits for the next one instead; `wait PID` still gives
# an ended job's status.
san_done=0 vm_done=0
while kill -0 "$san_pid" 2>/dev/null && kill -0 "$vm_pid" 2>/dev/null; do sleep 5; done
if ! kill -0 "$san_pid" 2>/dev/null; then
  san_done=1
  wait "$san_pid" || status=1
  phase "sanitize-and-fuzz done"
  cat "$san_log"
else
  vm_done=1
  wait "$vm_pid" || status=1
  phase "vm suites done"
fi

phase "boot (waiting for the root file system)"
boot_log=build/boot.log
if wait "$rootfs_pid"; then
  if ((san_done)); then phase "boot, beside the vm suites"
  else phase "boot, beside the sanitizer run"; fi
  debs=(build-deb/zcryptsetup_*_amd64.deb)
  # 4 power cuts (run.sh's default is 20; every write point is cut on the emulator by the unit
  # tests): each real-kernel cut is a boot of 30 to 50 s, about 70 s beside the other guest.
  # 6 cuts made the whole run 2,618 s on a slow day, past the 40 minutes it must keep to.
  # Alone the suite takes about 12 minutes; beside the other guest it is slower, hence the
  # 45-minute limit (and run.sh stops a boot that prints nothing for 10 minutes).
  tests/boot/run.sh --deb "${debs[0]}" --cuts 4 --timeout 2700 2>&1 | tee "$boot_log" || status=1
else
  cat "$rootfs_log"
  echo "boot: ERROR: the root file system could not be built" | tee "$boot_log"
  status=1
fi
rm -f "$rootfs_log"

if ((!san_done)); then
  phase "sanitize-and-fuzz (waiting for it)"
  wait "$san_pid" || status=1
  cat "$san_log"
fi
if ((!vm_done)); then
  phase "vm suites (waiting for them)"
  wait "$vm_pid" || status=1
fi
cat "$vm_log"

# One closing line over all the runs.
unit_total=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\2/p' "$ctest_log" | tail -1)
unit_failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1/p' "$ctest_log" | tail -1)
vm_passed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$vm_log" | tail -1)
vm_failed=$(sed -n 's/^vm: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$vm_log" | tail -1)
san_passed=$(sed -n 's/^sanitize-and-fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$san_log" | tail -1)
san_failed=$(sed -n 's/^sanitize-and-fuzz: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$san_log" | tail -1)
pkg_passed=$(sed -n 's/^package: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$pkg_log" | tail -1)
pkg_failed=$(sed -n 's/^package: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$pkg_log" | tail -1)
boot_passed=$(sed -n 's/^boot: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$boot_log" | tail -1)
boot_failed=$(sed -n 's/^boot: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$boot_log" | tail -1)
: "${unit_total:=0}" "${unit_failed:=1}" "${vm_passed:=0}" "${vm_failed:=1}"
: "${san_passed:=0}" "${san_failed:=1}" "${pkg_passed:=0}" "${pkg_failed:=1}"
: "${boot_passed:=0}" "${boot_failed:=1}"
passed=$((unit_total - unit_failed + vm_passed + pkg_passed + boot_passed + san_passed))
failed=$((unit_failed + vm_failed + pkg_failed + boot_failed + san_failed + native_build_failed))
phase "done"
# The closing block: CI shows only the end of the output, and the vm suites' log printed above
# is long, so everything needed to see what failed and where the time went comes last.
echo "== test.sh: summary"
printf '  %s\n' "${phases[@]}"
printf '  %-18s %s passed, %s failed\n' ctest "$((unit_total - unit_failed))" "$unit_failed" \
  package "$pkg_passed" "$pkg_failed" sanitize-and-fuzz "$san_passed" "$san_failed" \
  "vm" "$vm_passed" "$vm_failed" boot "$boot_passed" "$boot_failed"
grep -h '^boot: timing\|^boot: per boot\|^vm: timing' "$boot_log" "$vm_log" 2>/dev/null |
  sed 's/^/  /' || true
# What failed, from every log in its own words (at most 40 lines). Each grep may find nothing.
list_failures() {
  sed -n '/The following tests FAILED:/,/^Errors while running/p' "$ctest_log" "$san_log" |
    sed -n 's/^[[:space:]]*\([0-9]* - \)/ctest: \1/p' || true
  # The failing checks inside them (a CLI test's "not ok", a GoogleTest case), the ctest logs'
  # own words for what broke: CI keeps no log but this output's end.
  grep -hE '^not ok - |^\[  FAILED  \] [A-Z]' "$ctest_log" "$san_log" | sort -u | sed 's/^/  check: /' || true
  grep -hE '^fuzz: [^ ]+ +(CRASH|MISSING)|^build-sanitize: build failed' "$san_log" || true
  grep -hE '^not ok - ' "$pkg_log" | sed 's/^/package: /' || true
  grep -hE '^FAIL |^vm: ERROR' "$vm_log" "$native_log" || true
  grep -hE 'ZCBOOT not ok - |^boot: ERROR' "$boot_log" || true
}
list_failures 2>/dev/null | head -40 | sed 's/^/  FAILED /' || true
echo "total: ${passed} passed, ${failed} failed"
if ((failed > 0)); then status=1; fi
exit "$status"
