# shellcheck shell=dash
# Issue 8 on a real kernel (device-mapper, keyring, modules, cryptsetup's lock):
#  - dm_crypt is loaded through libkmod: the first inline open works with dm_crypt unloaded and
#    PATH=/nonexistent (no modprobe looked up, none spawned);
#  - =native hands dm-crypt the volume key through the kernel keyring (the table's key field
#    is ":64:logon:cryptsetup:<uuid>-d0"), and fails cleanly on a kernel without the RFC patch;
#  - an open under a name that exists, or that another process creates during the unlock,
#    exits 5 and leaves that mapping alone (its table unchanged);
#  - cryptsetup's lock is held from the header read to the keyslot read;
#  - figures: bytes read to unlock, zcryptsetup against stock cryptsetup.
# The keyring check needs a build with -DZCRYPTSETUP_TEST_HOOKS=ON (ZCRYPTSETUP_NATIVE_FEATURE_ARG
# replaces force_inline by a flag this kernel knows); other builds skip it.
. /zc/volume_checks.sh

ZC=/usr/local/bin/zcryptsetup

# ---------------------------------------------------------------- dm_crypt through libkmod
# Everything an open needs except dm_crypt itself: dm-mod for dmsetup, the crypto modules the
# kernel would otherwise request through /sbin/modprobe.
modprobe dm-mod
for m in xts aesni-intel essiv af_alg algif_skcipher algif_hash dm-zero; do
  modprobe "$m" 2>/dev/null
done
[ -d /sys/module/dm_crypt ] && rmmod dm_crypt
check "dm_crypt is not loaded before the first open" test ! -d /sys/module/dm_crypt

dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$dev"
check "zcryptsetup luksFormat" zc_format "$dev"
check "luksFormat left dm_crypt unloaded" test ! -d /sys/module/dm_crypt
printf %s "$ZC_PASS" | check "open --perf-force_inline with PATH=/nonexistent and dm_crypt unloaded" \
  env PATH=/nonexistent "$ZC" open --key-file - --perf-force_inline "$dev" zc_kmod
check "... dm_crypt is loaded now" test -d /sys/module/dm_crypt
check "... the mapping runs inline (no_read_workqueue)" table_has zc_kmod no_read_workqueue
check "... and no_write_workqueue" table_has zc_kmod no_write_workqueue
check "close" "$ZC" close zc_kmod

# ---------------------------------------------------------------- =native
uuid=$(cryptsetup luksUUID "$dev")
# Without the RFC patch the kernel refuses force_inline: exit 1, nothing mapped.
printf %s "$ZC_PASS" | check_exit 1 "=native on this kernel exits 1" \
  "$ZC" open --key-file - --perf-force_inline=native "$dev" zc_rfc
printf %s "$ZC_PASS" | check_output "... and says why" "rejected dm-crypt's 'force_inline'" \
  "$ZC" open --key-file - --perf-force_inline=native "$dev" zc_rfc
check_exit 1 "... and nothing is left mapped" dm_exists zc_rfc

if grep -q ZCRYPTSETUP_NATIVE_FEATURE_ARG "$ZC"; then
  # The hand-built table with a feature argument this kernel knows: the key goes through the
  # kernel keyring, named as libcryptsetup names it, and the data is right.
  printf %s "$ZC_PASS" | ZCRYPTSETUP_NATIVE_FEATURE_ARG=no_read_workqueue check \
    "=native (test hook: no_read_workqueue) opens" \
    "$ZC" open --key-file - --perf-force_inline=native "$dev" zc_native
  key_field() { dmsetup table --showkeys "$1" | awk '{ print $5 }'; }
  check "... the table's key field is a keyring reference (starts with ':')" \
    sh -c "dmsetup table --showkeys zc_native | awk '{ print \$5 }' | grep -q '^:'"
  check_output "... a 64-byte logon key named cryptsetup:<LUKS UUID>-d0" \
    "^:64:logon:cryptsetup:$uuid-d0\$" key_field zc_native
  info "native table: $(dmsetup table zc_native)"
  check_output "... status: key location keyring" 'key location: +keyring' "$ZC" status zc_native
  check "... write 4 MiB through it" write_pattern zc_native 4 0
  check "... close" "$ZC" close zc_native
  check "stock cryptsetup opens the same volume" stock_open "$dev" zc_stock
  check "... and reads what the keyring-keyed mapping wrote" read_pattern zc_stock 4 0
  check "... close" cryptsetup close zc_stock
else
  skip "=native keyring key" "zcryptsetup built without ZCRYPTSETUP_TEST_HOOKS"
fi

# ---------------------------------------------------------------- a mapping that is not ours
check "dmsetup creates 'victim' (dm-zero)" dmsetup create victim --table "0 8192 zero"
victim_table=$(dmsetup table victim)
check_output "status of a mapping that is not dm-crypt says so (not 'inactive')" \
  'is not a dm-crypt device' "$ZC" status victim
check_exit 4 "... with exit 4" "$ZC" status victim
for mode in "" "--perf-force_inline" "--perf-force_inline=native"; do
  # shellcheck disable=SC2086
  printf %s "$ZC_PASS" | check_exit 5 "open ${mode:-(plain)} under the existing name 'victim' exits 5" \
    "$ZC" open --key-file - $mode "$dev" victim
  check "... 'victim' still exists with its table unchanged" \
    sh -c "[ \"\$(dmsetup table victim)\" = \"$victim_table\" ]"
done

# The same name created by another process while zcryptsetup unlocks (after its "does it
# exist" check, before its create): a slow PBKDF2 keyslot widens that window to seconds.
slow=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=1 bs=4096)
printf %s "$ZC_PASS" | check "format a drive with a slow keyslot" \
  "$ZC" luksFormat -q --pbkdf pbkdf2 --pbkdf-force-iterations "${ZC_SLOW_ITERATIONS:-150000}" \
  --key-file - "$slow"
t0=$(cut -d' ' -f1 /proc/uptime)
printf %s "$ZC_PASS" | "$ZC" open --test-passphrase --key-file - "$slow"
t1=$(cut -d' ' -f1 /proc/uptime)
info "slow keyslot: one unlock takes $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
for mode in "--perf-force_inline=native" "--perf-force_inline"; do
  rm -f /tmp/race.out /tmp/race.rc
  ( printf %s "$ZC_PASS" | "$ZC" --verbose open --key-file - $mode "$slow" late_victim \
      >/tmp/race.out 2>&1; echo $? >/tmp/race.rc ) &
  sleep 1.5
  dmsetup create late_victim --table "0 4096 zero"
  late_table=$(dmsetup table late_victim)
  wait
  if grep -q 'create ioctl' /tmp/race.out; then
    check "race ($mode): the name appeared during the unlock; exit 5" \
      test "$(cat /tmp/race.rc)" = 5
    check "... the other process's 'late_victim' still exists with its table" \
      sh -c "[ \"\$(dmsetup table late_victim 2>&1)\" = \"$late_table\" ]"
  else
    # Stock libcryptsetup says nothing about the create ioctl: tell by its exit status.
    if [ "$mode" = "--perf-force_inline" ] && [ "$(cat /tmp/race.rc)" = 5 ]; then
      check "race ($mode): exit 5" true
      check "... the other process's 'late_victim' still exists with its table" \
        sh -c "[ \"\$(dmsetup table late_victim 2>&1)\" = \"$late_table\" ]"
    else
      skip "race ($mode)" "the window was missed (exit $(cat /tmp/race.rc)): $(tr '\n' ' ' </tmp/race.out)"
    fi
  fi
  dmsetup remove late_victim 2>/dev/null
done
remove_nullb "$slow"

# ---------------------------------------------------------------- cryptsetup's lock
# Held from the header read to the keyslot read: the passphrase prompt lies between them, so
# while zcryptsetup waits for it another process cannot take the exclusive lock.
lock_file=/run/cryptsetup/L_$(cat "/sys/block/${dev#/dev/}/dev")
( sleep 4; printf %s "$ZC_PASS" ) | "$ZC" open --test-passphrase --key-file - "$dev" &
opener=$!
sleep 2
check_exit 1 "cryptsetup's lock ($lock_file) is held while open waits for the passphrase" \
  flock -n -x "$lock_file" true
wait "$opener"
check "... open --test-passphrase then succeeds" test $? -eq 0
check "... and the lock is free afterwards" flock -n -x "$lock_file" true
check "open --persistent (shared lock, then the update's exclusive one) does not hang" \
  timeout 120 sh -c "printf %s '$ZC_PASS' | $ZC open --key-file - --perf-force_inline --persistent $dev zc_persist"
check "... close" "$ZC" close zc_persist
check_output "... the flag was persisted" 'Flags: .*force-inline' "$ZC" luksDump "$dev"
printf %s second-passphrase >/tmp/second.key
check "luksAddKey after Open's shared lock does not hang" \
  timeout 120 sh -c "printf %s '$ZC_PASS' | $ZC luksAddKey $ZC_FAST_PBKDF --key-file - $dev /tmp/second.key"

# ---------------------------------------------------------------- figures
check "format again for the figure" zc_format "$dev"
# Three rounds, alternated: a single reading can be off by a readahead page.
zc_all= stock_all=
for round in 1 2 3; do
  stock_kib=$(kib_read_to_unlock "$dev" cryptsetup open --test-passphrase --key-file - "$dev")
  zc_kib=$(kib_read_to_unlock "$dev" "$ZC" open --test-passphrase --key-file - "$dev")
  check "round $round: both tools unlock the drive" test -n "$stock_kib" -a -n "$zc_kib"
  zc_all="$zc_all ${zc_kib:-?}" stock_all="$stock_all ${stock_kib:-?}"
done
info "FIGURE unlock reads (KiB, 3 rounds): zcryptsetup$zc_all; stock cryptsetup$stock_all"
remove_nullb "$dev"
