#!/usr/bin/env bash
# Runs VM test suites on Debian's real kernel under QEMU (TCG) and tallies the results.
#
# Usage: tests/vm/run.sh [--timeout SECS] [--suite-timeout SECS] [--shell] SUITE...
#   SUITE is a name from tests/vm/suites/NAME.sh (e.g. smoke stock_cryptsetup).
#   --timeout SECS        wall-clock limit for the whole VM run (default 900)
#   --suite-timeout SECS  per-suite limit inside the guest (default: --timeout minus 30)
#   --shell               interactive: leave a shell on the console after the suites
# Environment:
#   ZC_VM_LOG_DIR   console logs go to $ZC_VM_LOG_DIR/<suite+suite>.log (default build/vm-logs)
#   ZC_VM_CACHE     kernel cache (see fetch-kernel.sh)
#   ZC_BUILD_DIR    build tree whose src/zcryptsetup goes into the guest (default: build/ in this checkout)
#   ZC_VM_MEM       guest memory in MiB (default 2048)
#   ZC_VM_APPEND    extra kernel command line
#   ZC_VM_EXTRA_KO  out-of-tree modules for the image (see build-initramfs.sh); with the
#                   native_inline suite, build-native-module.sh's dm-crypt.ko is added to it
# Output: the console, then one line per check and finally "vm: N passed, N failed".
# Exit status: 0 only if at least one check ran, none failed and the guest printed ZC-ALL-DONE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

timeout_s=900
suite_timeout=
shell=0
suites=()
while (($#)); do
  case $1 in
    --timeout) timeout_s=$2; shift 2 ;;
    --timeout=*) timeout_s=${1#*=}; shift ;;
    --suite-timeout) suite_timeout=$2; shift 2 ;;
    --suite-timeout=*) suite_timeout=${1#*=}; shift ;;
    --shell) shell=1; shift ;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) suites+=("$1"); shift ;;
  esac
done
((${#suites[@]})) || { echo "usage: $0 [--timeout SECS] SUITE..." >&2; exit 2; }
[[ -n $suite_timeout ]] || suite_timeout=$((timeout_s > 60 ? timeout_s - 30 : timeout_s))

suite_files=()
for s in "${suites[@]}"; do
  f=$here/suites/$s.sh
  [[ -f $f ]] || { echo "run.sh: no suite $f" >&2; exit 2; }
  suite_files+=("$f")
done

log_dir=${ZC_VM_LOG_DIR:-build/vm-logs}
[[ $log_dir == /* ]] || log_dir=$repo/$log_dir
mkdir -p "$log_dir"
name=$(IFS=+; echo "${suites[*]}")
log=$log_dir/$name.log
initrd=$log_dir/$name.initramfs.cpio

# shellcheck disable=SC1090
source "$("$here/fetch-kernel.sh" --env-file)"
source "$here/kernel-faults.sh"
t0=$(date +%s.%N)
# native_inline needs dm-crypt with force_inline, built by dkms (cached: fast when warm).
for s in "${suites[@]}"; do
  if [[ $s == native_inline ]]; then
    ko=$("$here/build-native-module.sh")
    export ZC_VM_EXTRA_KO="${ZC_VM_EXTRA_KO:+$ZC_VM_EXTRA_KO }$ko"
  fi
done
"$here/build-initramfs.sh" "$initrd" "${suite_files[@]}"
t1=$(date +%s.%N)

# watchdog_thresh=60: the soft-lockup detector counts host time, and the guest shares two
# cores with the builds and the boot suite's guest; a vCPU the host does not run for 20 s is
# no kernel bug (tests/boot/run.sh saw one). A real lockup is still reported, after 2 minutes.
append="console=ttyS0 quiet panic=-1 log_buf_len=4M watchdog_thresh=60 zc.suites=$(IFS=,; echo "${suites[*]}")"
append+=" zc.timeout=$suite_timeout"
((shell)) && append+=" zc.shell=1"
[[ -n ${ZC_VM_APPEND:-} ]] && append+=" $ZC_VM_APPEND"

qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "${ZC_VM_MEM:-2048}" -smp 2
      -nographic -no-reboot -kernel "$ZC_VM_VMLINUZ" -initrd "$initrd" -append "$append")
echo "run.sh: booting $ZC_VM_KVER with suites: ${suites[*]} (log: $log)" >&2

set +e
if ((shell)); then
  "${qemu[@]}" 2>&1 | tee "$log"
  qrc=${PIPESTATUS[0]}
else
  # stdin from /dev/null: nothing to type, and QEMU leaves the caller's terminal alone.
  timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
  qrc=${PIPESTATUS[0]}
fi
set -e
t2=$(date +%s.%N)

# The serial console ends lines with \r\n.
results=$(tr -d '\r' < "$log" | grep -E '^ZC-RESULT (PASS|FAIL|SKIP) ' || true)
passed=$(grep -c '^ZC-RESULT PASS ' <<<"$results" || true)
failed=$(grep -c '^ZC-RESULT FAIL ' <<<"$results" || true)
skipped=$(grep -c '^ZC-RESULT SKIP ' <<<"$results" || true)

echo
echo "==== results ($name) ===="
[[ -n $results ]] && sed 's/^ZC-RESULT //' <<<"$results"

problems=()
if ((qrc == 124 || qrc == 137)); then
  problems+=("VM timed out after ${timeout_s}s")
elif ((qrc != 0)); then
  problems+=("qemu exited with status $qrc")
fi
tr -d '\r' < "$log" | grep -q '^ZC-ALL-DONE' || problems+=("guest did not print ZC-ALL-DONE")
fault=$(kernel_fault_problem "$log")
[[ -z $fault ]] || problems+=("$fault")
((passed + failed > 0)) || problems+=("no check ran")
for p in "${problems[@]}"; do echo "vm: ERROR: $p"; done
((skipped)) && echo "vm: $skipped skipped"
awk -v a="$t0" -v b="$t1" -v c="$t2" \
  'BEGIN { printf "vm: timing: initramfs %.1fs, VM %.1fs\n", b - a, c - b }'
echo "vm: $passed passed, $failed failed"

((failed == 0 && ${#problems[@]} == 0))
