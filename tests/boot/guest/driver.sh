#!/bin/bash
# zcboot-driver.service: what each boot does, by its number (kept on the root disk).
#   boot 1          formats the drives, writes /etc/crypttab and /etc/fstab, reboots
#   boots 2-4       scenario 1 (crypttab + force-inline + zoned btrfs) on every boot;
#                   boot 2 also scenarios 2 (asked, wrong twice then right), 3 (stock
#                   systemd-cryptsetup), 8 (crypttab header=) and 5 (units, verify,
#                   stop/start, journal);
#                   boot 3 scenario 2's exhausted tries and 7 (refresh under the mounted
#                   btrfs); boot 4 starts the power cuts
#   boots 5-(4+N)   scenario 4: checks the previous cut, then cuts again; the last one prints
#                   the power-cut table and starts scenario 6 (TPM2, recovery key, clevis)
#   boot 5+N        scenario 6: the TPM2 unlock at boot, wipe, PKCS#11, a cut in an enrollment
#   boot 6+N        scenario 6: that cut checked; the package removed; powers off
set -u
here=/usr/local/lib/zcboot
. "$here/lib.sh"
. "$here/scenarios.sh"
. "$here/cuts.sh"
. "$here/tpm.sh"
mkdir -p "$ZB"
n=$(($(boot_number) + 1))
put "$ZB/boot" "$n"
cuts=$(cat /etc/zcboot/cuts 2>/dev/null || echo 20)
say "boot $n begins ($(uname -r), systemd $(systemctl --version | head -n1 | cut -d' ' -f2), $(cut -d' ' -f1 /proc/uptime) s after the kernel started)"

# The package as installed by dpkg -i in the image: files in place, man pages found by man.
package_installed() {
  check "package: dpkg says zcryptsetup is installed" \
    test "$(dpkg-query -W -f='${Status}' zcryptsetup)" = "install ok installed"
  check "package: the generator is in systemd's generator directory" \
    test -x "$(pkg-config --variable=systemdsystemgeneratordir systemd 2>/dev/null ||
               echo /lib/systemd/system-generators)/zcryptsetup-generator"
  check "package: man zcryptsetup shows the page" sh -c 'MANPAGER=cat man zcryptsetup | grep -q luksFormat'
  check "package: man zcryptsetup-generator shows the page" \
    sh -c 'MANPAGER=cat man zcryptsetup-generator | grep -q crypttab'
  check "package: bash completion installed" test -f /usr/share/bash-completion/completions/zcryptsetup
}

# Last boot: the package removes and purges cleanly, and its units are gone after a reload.
package_removed() {
  check "package: dpkg -r then dpkg -P zcryptsetup (volume closed first)" sh -c '
    systemctl stop mnt-zns.mount zcryptsetup@zns.service && dpkg -r zcryptsetup && dpkg -P zcryptsetup'
  check "package: no file of it is left" sh -c '
    ! ls /usr/sbin/zcryptsetup /lib/systemd/system-generators/zcryptsetup-generator \
       /usr/lib/systemd/system-generators/zcryptsetup-generator \
       /usr/share/man/man8/zcryptsetup.8.gz /usr/share/bash-completion/completions/zcryptsetup 2>/dev/null &&
    ! dpkg-query -W -f="\${Status}" zcryptsetup 2>/dev/null | grep -q installed'
  check "package: after daemon-reload no zcryptsetup unit is generated" sh -c '
    systemctl daemon-reload && ! ls /run/systemd/generator/zcryptsetup@* 2>/dev/null'
}

setup() {
  package_installed
  install -d -m 700 /etc/zcboot
  head -c 64 /dev/urandom > /etc/zcboot/zns.key
  head -c 64 /dev/urandom > /etc/zcboot/zplain.key
  head -c 32 /dev/urandom > /etc/zcboot/extra.key
  head -c 64 /dev/urandom > /etc/zcboot/zhdr.key
  chmod 400 /etc/zcboot/*.key
  check "setup: blkzone sees $ZNS host-managed, zone capacity below zone size" \
    sh -c "blkzone report -c 1 $ZNS | grep -q 'cap 0x018000' && [ \$(cat /sys/block/nvme0n1/queue/zoned) = host-managed ]"
  check "setup: zcryptsetup luksFormat --perf-force_inline on the ZNS drive" \
    "$ZC" luksFormat -q --perf-force_inline "${FAST_KDF[@]}" --key-file /etc/zcboot/zns.key "$ZNS"
  check "setup: zcryptsetup luksFormat on the second ZNS namespace" \
    "$ZC" luksFormat -q "${KDF[@]}" --key-file /etc/zcboot/zplain.key "$ZPLAIN"
  check "setup: zcryptsetup luksFormat --header: a header file, the third ZNS namespace as data" \
    "$ZC" luksFormat -q "${FAST_KDF[@]}" --key-file /etc/zcboot/zhdr.key --header "$ZHDR_HEADER" "$ZHDR"
  check "setup: zcryptsetup luksFormat on the virtio disk (passphrase)" \
    sh -c "printf %s '$PASSPHRASE' | $ZC luksFormat -q ${FAST_KDF[*]} --key-file - $ASKED"
  check "setup: open and mkfs.btrfs -O zoned on the mapping" sh -c "
    $ZC open --key-file /etc/zcboot/zns.key $ZNS zns && mkfs.btrfs -q -f -O zoned /dev/mapper/zns"
  mkdir -p /mnt/zns
  check "setup: first files written" sh -c "mount /dev/mapper/zns /mnt/zns &&
    head -c 8M /dev/urandom > /mnt/zns/boot1.bin && cd /mnt/zns && sha256sum boot1.bin > $ZB/sums &&
    sync && cd / && umount /mnt/zns && $ZC close zns"
  local u1 u2 u3
  u1=$("$ZC" luksUUID "$ZNS") u2=$("$ZC" luksUUID "$ZPLAIN") u3=$("$ZC" luksUUID "$ASKED")
  cat > /etc/crypttab <<EOT
# zcboot: scenario 1 (force-inline, key file), 3 (stock), 2 (asked), 8 (detached header)
zns     UUID=$u1  /etc/zcboot/zns.key     luks,force-inline
zplain  UUID=$u2  /etc/zcboot/zplain.key  luks
asked   UUID=$u3  none                    luks,force-inline,tries=3,nofail
zhdr    $ZHDR     /etc/zcboot/zhdr.key    luks,force-inline,header=$ZHDR_HEADER
EOT
  echo "/dev/mapper/zns /mnt/zns btrfs defaults,nofail 0 0" >> /etc/fstab
  sed 's/^/ZCBOOT crypttab: /' /etc/crypttab
  printf '%s\n' 'wrong one' 'wrong two' "$PASSPHRASE" > /etc/zcboot/answers
  put "$ZB/asked-expected" 3
}

case $n in
  1) setup; reboot_now ;;
  2) show_boot_time
     scenario1; scenario2_retried; scenario3; scenario8_header; scenario5
     printf '%s\n' 'wrong one' 'wrong two' 'wrong three' > /etc/zcboot/answers
     reboot_now ;;
  3) scenario1; scenario2_exhausted; scenario7_refresh
     printf '%s\n' "$PASSPHRASE" > /etc/zcboot/answers
     reboot_now ;;
  4) scenario1
     # The power-cut boots need only the ZNS entry: the others would cost an unlock each boot.
     sed -i '/^zplain\|^asked\|^zhdr/d' /etc/crypttab && sync /etc/crypttab
     time_one_round
     cut_start 1 ;;
  *) k=$((n - 4))
     if ((k <= cuts)); then
       ((k == 1)) && show_boot_time
       cut_check "$k"
       if ((k < cuts)); then cut_start $((k + 1)); fi
       cut_table
       tpm_boot1
       reboot_now
     elif ((k == cuts + 1)); then
       show_boot_time
       tpm_boot2
     else
       tpm_boot3
       package_removed
       say "DONE after $n boots"
       sync; systemctl poweroff
     fi ;;
esac
