#!/usr/bin/env bash
# The phase hook (tests/bench/phase_hook.cc) and the guest's phase arithmetic
# (tests/vm/guest/phases.sh) on the host: preloaded into zcryptsetup and stock cryptsetup, an
# `open --test-passphrase` on a file still succeeds, leaves every mark in order, and its six
# phases add up to the time the run took. Prints the host's phases as a figure (native, no
# emulation: what the guest's bench_ops prints under TCG is the figure that matters).
#
# Usage: phase_hook_test.sh PHASE_HOOK_SO ZCRYPTSETUP. Exits 77 without stock cryptsetup.
set -uo pipefail
hook=$(realpath "$1")
zc=$(realpath "$2")
stock=$(command -v cryptsetup) || { echo "phase_hook_test: SKIP: stock cryptsetup not found"; exit 77; }
passed=0 failed=0
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/../cli/cli_lib.sh"
# shellcheck disable=SC1091
. "$here/../vm/guest/phases.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/zc-phase.XXXXXX")
trap 'rm -rf "$work"' EXIT
printf 'phase-pass' >"$work/key"
chmod 600 "$work/key"
truncate -s 64M "$work/vol.img"
"$stock" luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  "$work/vol.img" "$work/key" || { not_ok "stock luksFormat"; exit 1; }

# The hook's clock, CLOCK_MONOTONIC: the kernel's "now" in /proc/timer_list (root only), else
# Python's time.monotonic (a slower start, which lands in the start and end phases). %.0f, not
# %d: mawk's %d stops at 2^31.
if awk '/^now at/ { found = 1 } END { exit !found }' /proc/timer_list 2>/dev/null; then
  now_us() { awk '/^now at/ { printf "%.0f\n", $3 / 1000; exit }' /proc/timer_list; }
else
  now_us() { python3 -c 'import time; print(int(time.monotonic() * 1000000))'; }
fi

# It must add nothing to a process but itself: libc is all it needs.
needed=$(readelf -d "$hook" | awk '/NEEDED/ { print $NF }' | tr -d '[]' | tr '\n' ' ')
if [[ $needed == "libc.so.6 " ]]; then ok "the hook needs libc only"; else not_ok "the hook needs libc only (needs: $needed)"; fi

# Without ZC_PHASE_LOG the hook passes the calls on and writes nothing: run from the work
# directory, the run leaves no file beside the key and the volume.
expect 0 "zcryptsetup opens with the hook preloaded and no log asked for" \
  env -C "$work" -u ZC_PHASE_LOG LD_PRELOAD="$hook" "$zc" open --test-passphrase \
  --key-file "$work/key" "$work/vol.img"
left=$(ls -A "$work" | tr '\n' ' ')
if [[ $left == "key vol.img " ]]; then ok "no log without ZC_PHASE_LOG"; else not_ok "no log without ZC_PHASE_LOG (files: $left)"; fi

expect 1 "a wrong argument still fails with the hook preloaded" \
  env LD_PRELOAD="$hook" ZC_PHASE_LOG="$work/bad.log" "$zc" open --no-such-option "$work/vol.img"
if grep -q 'ctor=' "$work/bad.log" && ! grep -q 'unlock<' "$work/bad.log"; then
  ok "a run that never unlocks logs no unlock mark"
else
  not_ok "a run that never unlocks logs no unlock mark" "$(cat "$work/bad.log" 2>&1)"
fi
if [[ -z $(phase_split 0 1 "$(tail -n1 "$work/bad.log")") ]]; then
  ok "phase_split gives nothing for a line without every mark"
else
  not_ok "phase_split gives nothing for a line without every mark"
fi

for round in 1 2 3; do
  for tool in z s; do
    bin=$zc
    [[ $tool == s ]] && bin=$stock
    log="$work/$tool.log"
    t0=$(now_us)
    env LD_PRELOAD="$hook" ZC_PHASE_LOG="$log" "$bin" open --test-passphrase \
      --key-file "$work/key" "$work/vol.img" </dev/null
    rc=$?
    t1=$(now_us)
    line=$(tail -n1 "$log" 2>/dev/null)
    name="$(basename "$bin") round $round"
    if [[ $rc == 0 ]]; then ok "$name: open with the hook succeeds"; else not_ok "$name: open with the hook succeeds (exit $rc)"; fi
    # Marks in the order the calls happen.
    if awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[i] = kv[2] + 0 }
              for (i = 2; i <= NF; i++) if (v[i] < v[i - 1]) exit 1
              exit NF == 7 ? 0 : 1 }' <<<"$line"; then
      ok "$name: seven marks, in time order"
    else
      not_ok "$name: seven marks, in time order" "$line"
    fi
    phases=$(phase_split "$t0" "$t1" "$line")
    if awk -v total="$(((t1 - t0) / 1000))" '{ s = 0; for (i = 1; i <= NF; i++) { if ($i < 0) exit 1; s += $i }
                                               exit (NF == 6 && s - total < 2 && total - s < 2) ? 0 : 1 }' <<<"$phases"; then
      ok "$name: six phases, none negative, adding up to the run ($phases)"
    else
      not_ok "$name: six phases, none negative, adding up to the run" "phases '$phases', total $(((t1 - t0) / 1000)) ms, line $line"
    fi
    [[ -n $phases ]] && phase_add "$tool" "$phases"
  done
done
echo "FIGURE open phases on the host, medians of 3 runs in ms, zcryptsetup vs stock: $(phase_figure z s)"

echo "phase_hook_test: $passed passed, $failed failed"
((failed == 0))
