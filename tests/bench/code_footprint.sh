#!/usr/bin/env bash
# Figures, counted rather than timed: how many distinct instructions each verb runs, zcryptsetup
# against stock cryptsetup on the same header, under QEMU's user-mode emulator (qemu-x86_64
# -d in_asm logs every block of guest code it translates, once).
#
# Why count: under TCG, where the VM suites run, each instruction's first run in a process (its
# translation, the code page's fault) costs a few microseconds, hundreds of times its later
# runs. Where both tools run the same libcryptsetup steps (open, luksDump, isLuks), the
# difference in this count is zcryptsetup's own code, and it is the part of bench_ops' time
# ratio that does not wander by 0.1 from run to run (docs/performance.md, "Known gaps"). It is
# a count of code, not a forecast of time: an update's time also depends on its I/O, and
# luksAddKey runs more distinct instructions than stock's yet takes less time in the guest.
# The count moves by a few tens from run to run on one machine.
#
# Usage: code_footprint.sh ZCRYPTSETUP. Prints "FIGURE code footprint ..." lines and one check
# per command (every command must succeed under both tools); exits 77 when qemu-x86_64 or
# stock cryptsetup is missing (scripts/install-deps.sh installs both).
set -uo pipefail
zc=$(realpath "$1")
skip() { echo "code_footprint: SKIP: $1"; exit 77; }
stock=$(command -v cryptsetup) || skip "stock cryptsetup not found"
qemu=$(command -v qemu-x86_64) || skip "qemu-x86_64 not found (qemu-user)"
passed=0 failed=0
. "$(dirname "${BASH_SOURCE[0]}")/../cli/cli_lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/zc-footprint.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'footprint-pass' >"$work/key"
printf 'footprint-second' >"$work/key2"
chmod 600 "$work/key" "$work/key2"  # a world-readable key file adds a warning's code
cheap=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

# count TOOL LOGNAME ARGS...: runs TOOL ARGS under the emulator; prints the number of distinct
# instruction addresses it translated, or nothing when the command failed (its output in
# $work/LOGNAME.out).
count() {
  local tool=$1 name=$2
  shift 2
  "$qemu" -d in_asm -D "$work/$name.log" "$tool" "$@" </dev/null >"$work/$name.out" 2>&1 || return 1
  grep -oE '^0x[0-9a-f]+:' "$work/$name.log" | sort -u | wc -l
  rm -f "$work/$name.log"
}

# figure VERB ARGS...: the verb once with each tool (ARGS may name @FILE@, each tool's own copy
# of the volume, made by the setup function `prepare`, if it is set).
figure() {
  local verb=$1 z s
  shift
  local -a args_z=() args_s=()
  for a in "$@"; do args_z+=("${a//@FILE@/$work/z.img}"); args_s+=("${a//@FILE@/$work/s.img}"); done
  if [[ -n ${prepare:-} ]]; then "$prepare" "$work/z.img"; "$prepare" "$work/s.img"; fi
  if ! z=$(count "$zc" "z-$verb" "${args_z[@]}"); then
    not_ok "$verb runs under the emulator (zcryptsetup)" "$(cat "$work/z-$verb.out")"
    return
  fi
  if ! s=$(count "$stock" "s-$verb" "${args_s[@]}"); then
    not_ok "$verb runs under the emulator (stock cryptsetup)" "$(cat "$work/s-$verb.out")"
    return
  fi
  ok "$verb runs under the emulator with both tools"
  echo "FIGURE code footprint $verb: zcryptsetup/stock distinct instructions" \
    "$(awk -v a="$z" -v b="$s" 'BEGIN { printf "%.2f", a / b }') ($z vs $s)"
}

# One stock-formatted volume, copied for each tool, for the verbs that read or change one.
truncate -s 64M "$work/base.img"
"$stock" luksFormat -q --type luks2 "${cheap[@]}" "$work/base.img" "$work/key" ||
  { not_ok "stock luksFormat of the shared volume"; exit 1; }
formatted() { cp --sparse=always "$work/base.img" "$1"; }
blank() { rm -f "$1"; truncate -s 64M "$1"; }

prepare=
figure --version --version
prepare=formatted
figure isLuks isLuks @FILE@
figure luksDump luksDump @FILE@
figure open open --test-passphrase --key-file "$work/key" @FILE@
figure luksAddKey luksAddKey -q "${cheap[@]}" --key-file "$work/key" @FILE@ "$work/key2"
prepare=blank
figure luksFormat luksFormat -q --type luks2 "${cheap[@]}" @FILE@ "$work/key"

echo "code_footprint: $passed passed, $failed failed"
((failed == 0))
