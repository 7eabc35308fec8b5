# shellcheck shell=bash
# shellcheck disable=SC2154  # n comes from driver.sh
# Scenarios 1, 2, 3, 5, 7 and 8 (see driver.sh for which boot runs which).

# Scenario 1: the ZNS entry (UUID=, key file, force-inline) opened by our unit, the mapping
# inline, the zoned btrfs from /etc/fstab mounted, every file of earlier boots intact.
scenario1() {
  local dm
  check "S1 boot $n: zcryptsetup@zns.service opened the ZNS drive" systemctl is-active zcryptsetup@zns.service
  check "S1 boot $n: the mapping runs inline (table: $(mapping_flags zns))" is_inline zns
  dm=$(basename "$(readlink -f /dev/mapper/zns)")
  check "S1 boot $n: the mapping is a host-managed zoned device" \
    test "$(cat /sys/block/$dm/queue/zoned 2>/dev/null)" = host-managed
  check "S1 boot $n: zoned btrfs from fstab is mounted on /mnt/zns" \
    test "$(findmnt -n -o FSTYPE /mnt/zns)" = btrfs
  check "S1 boot $n: files of earlier boots read back ($(wc -l < "$ZB/sums") files)" \
    sh -c "cd /mnt/zns && sha256sum --quiet -c $ZB/sums"
  check "S1 boot $n: a new file written" sh -c "head -c 4M /dev/urandom > /mnt/zns/boot$n.bin &&
    cd /mnt/zns && sha256sum boot$n.bin >> $ZB/sums && sync -f /mnt/zns && sync $ZB/sums"
  show_journal -u zcryptsetup@zns.service -u mnt-zns.mount
}

# Scenario 7: refresh switches the live ZNS mapping between the workqueues and inline under the
# mounted zoned btrfs: same dm device, the mount stays, files read back and new ones go in; the
# stored flags follow --persistent as cryptsetup's do. It ends as it began (inline, stored), so
# later boots see the same volume.
scenario7_refresh() {
  local devno key=/etc/zcboot/zns.key
  devno=$(dmsetup info -c --noheadings -o major,minor zns)
  check "S7: the mapping starts inline" is_inline zns
  s7_unchanged() {
    check "S7: $1: the btrfs is still mounted" test "$(findmnt -n -o FSTYPE /mnt/zns)" = btrfs
    check "S7: $1: the same dm device" \
      test "$(dmsetup info -c --noheadings -o major,minor zns)" = "$devno"
    check "S7: $1: every file reads back" sh -c "cd /mnt/zns && sha256sum --quiet -c $ZB/sums"
    check "S7: $1: a new file written and synced" sh -c "head -c 2M /dev/urandom > /mnt/zns/$2.bin &&
      cd /mnt/zns && sha256sum $2.bin >> $ZB/sums && sync -f /mnt/zns && sync $ZB/sums"
  }
  # As cryptsetup's: the stored flags still apply to the refresh that clears them, so going
  # back to the workqueues is --persistent without flags, then a plain refresh.
  check "S7: refresh --persistent without flags" "$ZC" refresh --persistent --key-file "$key" zns
  check "S7: ... stock luksDump shows no stored flag" \
    sh -c "cryptsetup luksDump $ZNS | grep -Eq '^Flags:[[:space:]]+[(]no flags[)]'"
  check "S7: ... the stored flags applied to it: still inline" is_inline zns
  check "S7: refresh" "$ZC" refresh --key-file "$key" zns
  say "S7: table flags after it: $(mapping_flags zns)"
  check "S7: ... reads go through the workqueue again" \
    sh -c '! dmsetup table zns | grep -qw no_read_workqueue'
  s7_unchanged "workqueues" "refresh-wq$n"
  check "S7: refresh --persistent --perf-force_inline" \
    "$ZC" refresh --persistent --perf-force_inline --key-file "$key" zns
  check "S7: ... inline again" is_inline zns
  check "S7: ... stored: stock luksDump shows both workqueue flags" \
    sh -c "cryptsetup luksDump $ZNS | grep -Eq '^Flags:.*no-read-workqueue no-write-workqueue'"
  check "S7: ... zcryptsetup luksDump shows force-inline" \
    sh -c "$ZC luksDump $ZNS | grep -Eq '^Flags:.*force-inline'"
  s7_unchanged "inline" "refresh-inline$n"
  check "S7: zcryptsetup status is stock's, plus its inline line" sh -c "
    [ \"\$($ZC status zns | grep -v '^  inline:')\" = \"\$(cryptsetup status zns)\" ]"
  check "S7: ... which says in use (the mount)" sh -c "$ZC status zns | grep -q 'is active and is in use'"
}

# Scenario 2, first half: wrong, wrong, right: asked three times through the agent, opened.
scenario2_retried() {
  check "S2: asked through ask-password 3 times (2 wrong answers, then right)" test "$(asks)" = 3
  sed 's/^/ZCBOOT ask-password Id seen: /' /run/zcboot/asks | sort -u
  check "S2: zcryptsetup@asked.service active after the retries" systemctl is-active zcryptsetup@asked.service
  check "S2: the asked mapping runs inline" is_inline asked
  show_journal -u zcryptsetup@asked.service
}

# Scenario 2, second half: tries=3 wrong answers: asked exactly 3 times, the unit failed with
# exit status 2 and no mapping; the boot went on (nofail).
scenario2_exhausted() {
  check "S2: asked exactly tries=3 times with wrong answers" test "$(asks)" = 3
  check "S2: zcryptsetup@asked.service failed" systemctl is-failed zcryptsetup@asked.service
  check "S2: it exited with status 2 (bad passphrase)" \
    test "$(systemctl show -P ExecMainStatus zcryptsetup@asked.service)" = 2
  check "S2: no mapping named asked" sh -c '! dmsetup info asked'
  check "S2: the boot still reached multi-user.target (nofail)" systemctl is-active multi-user.target
  show_journal -u zcryptsetup@asked.service
}

# Scenario 3: a plain entry on a zoned drive formatted by zcryptsetup is systemd-cryptsetup's.
scenario3() {
  check "S3: systemd-cryptsetup@zplain.service opened the second ZNS namespace" \
    systemctl is-active systemd-cryptsetup@zplain.service
  check "S3: no zcryptsetup unit was generated for it" \
    test ! -e /run/systemd/generator/zcryptsetup@zplain.service
  check "S3: no drop-in silences it" \
    test ! -e /run/systemd/generator/systemd-cryptsetup@zplain.service.d
  check "S3: the mapping is a dm-crypt target" sh -c 'dmsetup table zplain | grep -q " crypt "'
  show_journal -u systemd-cryptsetup@zplain.service
}

# Scenario 5: every generated unit verifies; stop/start round trips; no errors in the journal.
scenario5() {
  local unit
  for unit in /run/systemd/generator/zcryptsetup@*.service; do
    check "S5: systemd-analyze verify $(basename "$unit")" systemd-analyze verify "$unit"
  done
  check "S5: systemctl stop zcryptsetup@asked.service closes the mapping and its follower" sh -c '
    systemctl stop zcryptsetup@asked.service && ! dmsetup info asked >/dev/null 2>&1 &&
    ! systemctl is-active systemd-cryptsetup@asked.service'
  local before
  before=$(asks)
  check "S5: systemctl start zcryptsetup@asked.service opens it again" sh -c '
    systemctl start zcryptsetup@asked.service && dmsetup info asked >/dev/null'
  check "S5: the restart took the passphrase from the kernel keyring (no new question)" \
    test "$(asks)" = "$before"
  check "S5: stop the mount and zcryptsetup@zns.service, then start the mount again" sh -c "
    systemctl stop mnt-zns.mount zcryptsetup@zns.service && ! dmsetup info zns >/dev/null 2>&1 &&
    systemctl start mnt-zns.mount && systemctl is-active zcryptsetup@zns.service &&
    cd /mnt/zns && sha256sum --quiet -c $ZB/sums"
  check "S5: no error from our units or generator in this boot's journal" sh -c '
    out=$(journalctl -b -p err --no-pager -o cat -u "zcryptsetup@*" -u "systemd-cryptsetup@*";
          journalctl -b -p warning --no-pager -o cat | grep -i zcryptsetup-generator)
    [ -z "$out" ] || { echo "$out"; false; }'
}

# Scenario 8: a crypttab entry with header= (the LUKS2 metadata in a file on the root file
# system, the data on the third ZNS namespace from sector 0) and force-inline, opened at boot
# by the generated unit; stock cryptsetup reads the same pair.
scenario8_header() {
  local unit=/run/systemd/generator/zcryptsetup@zhdr.service dm data=/run/zcboot-zhdr.bin
  check "S8: zcryptsetup@zhdr.service opened the detached-header entry" \
    systemctl is-active zcryptsetup@zhdr.service
  check "S8: its unit waits for the mount that holds the header file" \
    grep -qxF "RequiresMountsFor=$ZHDR_HEADER" "$unit"
  check "S8: the mapping runs inline (table: $(mapping_flags zhdr))" is_inline zhdr
  check "S8: the table maps the data namespace from sector 0" sh -c "
    [ \"\$(dmsetup table zhdr | awk '{ print \$7, \$8 }')\" = \"\$(cat /sys/block/nvme0n3/dev) 0\" ]"
  dm=$(basename "$(readlink -f /dev/mapper/zhdr)")
  check "S8: the mapping is a host-managed zoned device" \
    test "$(cat "/sys/block/$dm/queue/zoned" 2>/dev/null)" = host-managed
  check "S8: 4 MiB written at the first zone's start read back through the mapping" sh -c "
    head -c 4M /dev/urandom > $data &&
    dd if=$data of=/dev/mapper/zhdr bs=1M oflag=direct status=none &&
    [ \"\$(dd if=/dev/mapper/zhdr bs=1M count=4 iflag=direct status=none | sha256sum)\" = \
      \"\$(sha256sum < $data)\" ]"
  check "S8: stock cryptsetup takes the key with --header on the same pair" \
    cryptsetup open --test-passphrase --header "$ZHDR_HEADER" --key-file /etc/zcboot/zhdr.key "$ZHDR"
  check "S8: systemctl stop closes the mapping, start opens it again" sh -c '
    systemctl stop zcryptsetup@zhdr.service && ! dmsetup info zhdr >/dev/null 2>&1 &&
    systemctl start zcryptsetup@zhdr.service && dmsetup info zhdr >/dev/null'
  check "S8: ... and the data reads back" sh -c "
    [ \"\$(dd if=/dev/mapper/zhdr bs=1M count=4 iflag=direct status=none | sha256sum)\" = \
      \"\$(sha256sum < $data)\" ]"
  show_journal -u zcryptsetup@zhdr.service
}
