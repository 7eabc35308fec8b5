# shellcheck shell=dash
# Issue 2 on a host-managed null_blk drive with no conventional zones (the case stock
# cryptsetup cannot format): zcryptsetup formats it with sequential writes only, stock
# cryptsetup opens it, inline activation, persisted flags, refusals that write nothing.
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
info "$(cryptsetup --version); dm-crypt $(dmsetup targets | grep crypt)"

dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$dev"
zones=$(( $(blockdev --getsz "$dev") / $(zone_sectors "$dev") ))
info "drive $dev: $zones zones of $(( $(zone_sectors "$dev") / 2048 )) MiB"

# The reason for the project, on this very drive: stock luksFormat fails. The kernel rate-limits
# "I/O error" lines (a burst per 5 s window); an earlier suite in the same boot may just have
# used the burst, so wait the window out before provoking the errors we look for.
sleep 6
dmesg_mark
printf %s "$ZC_PASS" | check_exit nonzero "stock cryptsetup luksFormat fails on this drive" \
  cryptsetup luksFormat --type luks2 -q $ZC_FAST_PBKDF --key-file - "$dev"
check_output "... with an illegal write in the kernel log" 'I/O error.*WRITE' dmesg_since_mark

# Layout on disk after our format: zones 0 and 1 full (home, journal), zone 2.. untouched.
dmesg_mark
check "zcryptsetup luksFormat" zc_format "$dev"
check_no_io_errors "format made no illegal write"
check "zone 0 (home) is FULL (finished)" zone_is "$dev" 0 fu
check "zone 1 (journal) is FULL (finished)" zone_is "$dev" 1 fu
untouched() {
  i=2
  while [ "$i" -lt "$zones" ]; do
    [ "$(zone_cond "$1" "$i")" = em ] && [ "$(zone_wp "$1" "$i")" -eq 0 ] || return 1
    i=$((i + 1))
  done
}
check "no zone at or past the data offset was written (zones 2..$((zones - 1)) empty)" untouched "$dev"
check_output "data segment at zone 2 (128 MiB)" 'offset: +134217728 \[bytes\]' cryptsetup luksDump "$dev"
check_output "luksDump: zone model" 'Zone model: +host-managed' zcryptsetup luksDump "$dev"
check_output "luksDump: home and journal copies" 'journal copy: +offset 67108864 \(zone 1\)' zcryptsetup luksDump "$dev"

interop_checks "$dev" "host-managed"
bad_input_checks "$dev" "host-managed"
perf_flag_checks "$dev" "host-managed"
suspend_checks "$dev" "host-managed"
resize_checks "$dev" "host-managed" 131072

# Detached headers: the FAQ's answer for zoned drives. The drive carries data only, from
# sector 0; the header lives in a file, then on an ordinary disk.
check "reset all zones for the detached header" blkzone reset "$dev"
detached_header_checks "$dev" "host-managed" /tmp/zc-detached-header
rm -f /tmp/zc-detached-header
hdr=$(make_brd 32)
check "reset all zones" blkzone reset "$dev"
detached_header_checks "$dev" "host-managed, header on brd" "$hdr"
check "reset all zones" blkzone reset "$dev"
printf %s "$ZC_PASS" | check_exit 4 "a zoned drive as the detached header is refused (exit 4)" \
  zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - --header "$dev" "$hdr"
check "... zone 0 still empty" zone_is "$dev" 0 em
printf %s "$ZC_PASS" | check_exit 1 "--offset inside a zone of the data drive is refused (exit 1)" \
  zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - --header /tmp/zc-det-h2 --offset 8 "$dev"
check "... and no header file is left behind" test ! -e /tmp/zc-det-h2
check "remove the brd header disk" remove_brd

# Refusals that must write nothing: zone-unaligned offset, read-only drive, drive too small.
check "reset all zones" blkzone reset "$dev"
printf %s "$ZC_PASS" | check_exit 1 "--offset not a zone multiple is refused (exit 1)" \
  zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - --offset 300000 "$dev"
check "... zone 0 still empty" zone_is "$dev" 0 em
check "set the drive read-only" blockdev --setro "$dev"
printf %s "$ZC_PASS" | check_exit 4 "read-only drive is refused (exit 4)" \
  zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$dev"
check "... zone 0 still empty" zone_is "$dev" 0 em
blockdev --setrw "$dev"
check "remove the drive" remove_nullb "$dev"

small=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 size=128 bs=4096)
check "two-zone drive created" test -b "$small"
printf %s "$ZC_PASS" | check_output "a drive with no room for a data zone is refused" \
  'too small' zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$small"
printf %s "$ZC_PASS" | check_exit 4 "... with exit 4" \
  zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$small"
check "... zone 0 still empty" zone_is "$small" 0 em
check "... zone 1 still empty" zone_is "$small" 1 em
