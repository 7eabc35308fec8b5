# shellcheck shell=dash
# Issue 2 on an ordinary (not zoned) disk: zcryptsetup behaves like cryptsetup's luksFormat
# and open, and adds inline activation; stock cryptsetup reads and opens what it writes.
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
dev=$(make_brd 256)
check "brd created" test -b "$dev"

interop_checks "$dev" "brd"
check_output "standard placement: data at 16 MiB like cryptsetup" 'offset: +16777216 \[bytes\]' \
  cryptsetup luksDump "$dev"
bad_input_checks "$dev" "brd"
perf_flag_checks "$dev" "brd"
suspend_checks "$dev" "brd"
resize_checks "$dev" "brd" 8
detached_header_checks "$dev" "brd" /tmp/zc-detached-header
rm -f /tmp/zc-detached-header

# A LUKS1 device and a non-LUKS device are refused by open with a clear message.
printf %s "$ZC_PASS" | check "stock cryptsetup makes a LUKS1 header" \
  cryptsetup luksFormat --type luks1 -q $ZC_FAST_PBKDF --key-file - "$dev"
printf %s "$ZC_PASS" | check_output "open of LUKS1 says LUKS1" 'LUKS1' \
  zcryptsetup open --key-file - "$dev" zc_l1
printf %s "$ZC_PASS" | check_exit 4 "... exit 4" zcryptsetup open --key-file - "$dev" zc_l1
check "wipe the header" dd if=/dev/zero of="$dev" bs=1M count=20 conv=notrunc
printf %s "$ZC_PASS" | check_exit 4 "open of a non-LUKS device exits 4" \
  zcryptsetup open --key-file - "$dev" zc_none
check_exit 1 "isLuks of a non-LUKS device exits 1" zcryptsetup isLuks "$dev"
