# shellcheck shell=bash
# shellcheck disable=SC2154  # cuts, n, ZC... come from driver.sh and lib.sh
# Scenario 4: power cuts on the real kernel. A loop of luksAddKey / config / luksKillSlot runs
# on the ZNS drive (mapped, btrfs mounted) and the machine is cut with sysrq b after a random
# delay: no sync, what the drive acknowledged stays, the rest is lost. The op about to run is
# written durably to the root disk first, so the next boot knows where the cut fell.

# One update, logged before it starts.
op() {
  local name=$1
  shift
  put "$ZB/cut-op" "$name"
  "$@" >/dev/null 2>>"$ZB/cut-errors.$cut" || put "$ZB/cut-failed.$cut" "$name exited $?"
}

update_loop() {
  local i=0
  while :; do
    i=$((i + 1))
    op "luksAddKey (slot 7), round $i" "$ZC" luksAddKey -q --key-slot 7 "${FAST_KDF[@]}" \
      --key-file /etc/zcboot/zns.key "$ZNS" /etc/zcboot/extra.key
    op "config --label, round $i" "$ZC" config --label "cut$cut-$i" "$ZNS"
    op "luksKillSlot 7, round $i" "$ZC" luksKillSlot -q --key-file /etc/zcboot/zns.key "$ZNS" 7
  done
}

# One uncut round first (boot 4): the ops work, and how long a round takes sets the range
# the cut delays are drawn from, so cuts fall across all three ops and not only the first.
time_one_round() {
  local t0 t1
  cut=0
  t0=$(date +%s%N)
  op "luksAddKey (slot 7), timing round" "$ZC" luksAddKey -q --key-slot 7 "${FAST_KDF[@]}" \
    --key-file /etc/zcboot/zns.key "$ZNS" /etc/zcboot/extra.key
  op "config --label, timing round" "$ZC" config --label timing "$ZNS"
  op "luksKillSlot 7, timing round" "$ZC" luksKillSlot -q --key-file /etc/zcboot/zns.key "$ZNS" 7
  t1=$(date +%s%N)
  check "scenario 4: one uncut round of luksAddKey/config/luksKillSlot works" \
    test ! -e "$ZB/cut-failed.0"
  put "$ZB/round-ms" $(((t1 - t0) / 1000000))
  say "scenario 4: one round takes $(cat "$ZB/round-ms") ms"
}

cut_start() {
  cut=$1
  local round ms
  round=$(cat "$ZB/round-ms" 2>/dev/null || echo 1000)
  ms=$((200 + SRANDOM % round))
  put "$ZB/cut-op" "before the first update"
  put "$ZB/cut-delay.$cut" "$ms"
  echo 1 > /proc/sys/kernel/sysrq
  say "cut $cut: updates start; sysrq b in $ms ms"
  update_loop &
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  echo b > /proc/sysrq-trigger
  sleep 30
  notok "cut $cut: sysrq b did not reboot the machine"
}

# The copy lines of luksDump DEVICE, one line: "home: seqid 9 ..., journal: ...".
copies_text() {
  "$ZC" luksDump "$1" 2>&1 | sed -n 's/^ *\(home\|journal\) copy: *[^:]*: */\1: /p' | paste -sd';'
}

# Healthy: both copies listed, both with a valid header and commit record, same seqid.
copies_healthy() {
  local text=$1 seqids
  [[ $text == *"home: "* && $text == *"journal: "* ]] || return 1
  [[ $(grep -o 'commit record ok' <<<"$text" | wc -l) == 2 ]] || return 1
  [[ $text != *"("* ]] || return 1
  seqids=$(grep -o 'seqid [0-9]*' <<<"$text" | sort -u | wc -l)
  [[ $seqids == 1 ]]
}

cut_check() {
  cut=$1
  local fell delay copies after outcome=intact
  fell=$(cat "$ZB/cut-op") delay=$(cat "$ZB/cut-delay.$cut")
  say "cut $cut: the cut fell during: $fell (after $delay ms)"
  check "cut $cut: crypttab opened the ZNS drive at boot" systemctl is-active zcryptsetup@zns.service
  check "cut $cut: inline mapping" is_inline zns
  check "cut $cut: btrfs mounted, every file's checksum matches" \
    sh -c "findmnt /mnt/zns >/dev/null && cd /mnt/zns && sha256sum --quiet -c $ZB/sums"
  check "cut $cut: no update failed before the cut" test ! -e "$ZB/cut-failed.$cut"
  copies=$(copies_text "$ZNS")
  say "cut $cut: luksDump: $copies"
  check "cut $cut: luksDump names the home and journal copies" \
    sh -c "echo '$copies' | grep -q 'home: ' && echo '$copies' | grep -q 'journal: '"
  show_journal -u zcryptsetup@zns.service | grep -iv 'starting\|finished' || true
  if ! copies_healthy "$copies"; then
    outcome=repaired
    check "cut $cut: repair (mapping closed first) rewrites the copy" sh -c "
      systemctl stop mnt-zns.mount zcryptsetup@zns.service && $ZC repair -q $ZNS &&
      systemctl start mnt-zns.mount"
    after=$(copies_text "$ZNS")
    say "cut $cut: after repair: $after"
    check "cut $cut: both copies complete and equal after repair" copies_healthy "$after"
  fi
  # Put slot 7 back to free so the next loop starts from the same state.
  if "$ZC" luksDump "$ZNS" | grep -q '^  7: luks2'; then
    "$ZC" luksKillSlot -q --key-file /etc/zcboot/zns.key "$ZNS" 7 || notok "cut $cut: clean slot 7"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$cut" "$delay" "$fell" "$copies" "$outcome" >> "$ZB/cuts.tsv"
  sync "$ZB/cuts.tsv"
}

cut_table() {
  say "power-cut table (cut, delay ms, the op the cut fell in, copies at next boot, outcome):"
  sed 's/^/ZCBOOT cut-row: /' "$ZB/cuts.tsv"
  check "scenario 4: all $cuts cuts were made and checked on the next boot" \
    test "$(wc -l < "$ZB/cuts.tsv")" = "$cuts"
}
