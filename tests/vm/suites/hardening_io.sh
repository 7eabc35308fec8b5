# shellcheck shell=dash
# Issue 8 on real block devices. Item 10: luksFormat, luksHeaderRestore and repair refuse a
# device that is mapped (dm-crypt, or any dm target holding it) with exit 5 and cryptsetup's
# message, and write nothing; luksAddKey, which cryptsetup allows on a mapped device, still
# works; once the device is free the same verbs work. Item 14: a device smaller than its own
# metadata is refused, as stock cryptsetup refuses it.
. /zc/volume_checks.sh

IN_USE='in use \(already mapped or mounted\)'

# metadata_sum DEV MIB: checksum of the first MIB MiB (the metadata zones or area).
metadata_sum() { dd if="$1" bs=1M count="$2" iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }

# refusals_while_held DEV WHAT MIB: the three writing verbs refuse DEV and change nothing.
refusals_while_held() {
  _dev=$1 _what=$2 _mib=$3
  _before=$(metadata_sum "$_dev" "$_mib")
  printf %s "$ZC_PASS" | check_exit 5 "$_what: luksFormat refused, exit 5" \
    zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$_dev"
  printf %s "$ZC_PASS" | check_output "$_what: ... with cryptsetup's message" "$IN_USE" \
    zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$_dev"
  check_exit 5 "$_what: luksHeaderRestore refused, exit 5" \
    zcryptsetup luksHeaderRestore -q "$_dev" --header-backup-file /tmp/hio.backup
  check_exit 5 "$_what: repair refused, exit 5" zcryptsetup repair "$_dev"
  check "$_what: the metadata is byte-identical after the refusals" \
    test "$(metadata_sum "$_dev" "$_mib")" = "$_before"
  check "$_what: luksFormat --dry-run still looks at it" \
    zcryptsetup luksFormat --dry-run "$_dev"
}

check "load dm-crypt" load_dm_crypt
dmesg_mark

# --- A host-managed zoned drive mapped by dm-crypt ----------------------------------------
zdev=$(make_nullb_zoned zone_size=64 gb=1)
check "zoned: drive created" test -b "$zdev"
check "zoned: format" zc_format "$zdev"
check "zoned: header backup" zcryptsetup luksHeaderBackup "$zdev" --header-backup-file /tmp/hio.backup
check "zoned: open" zc_open "$zdev" hio
refusals_while_held "$zdev" "zoned, open" 128
check "zoned: the mapping is still there" dm_exists hio
printf '%s\n%s' "$ZC_PASS" another-passphrase >/tmp/hio.keys
check "zoned: luksAddKey on the mapped drive works, as with cryptsetup" \
  sh -c "printf %s another-passphrase > /tmp/hio.new && printf %s '$ZC_PASS' | zcryptsetup luksAddKey $ZC_FAST_PBKDF --key-file - '$zdev' /tmp/hio.new"
check "zoned: close" cryptsetup close hio
check "zoned: repair works once the drive is free" zcryptsetup repair "$zdev"
check "zoned: restore works once the drive is free" \
  zcryptsetup luksHeaderRestore -q "$zdev" --header-backup-file /tmp/hio.backup
check "zoned: format works once the drive is free" zc_format "$zdev"
printf %s "$ZC_PASS" | check "zoned: stock cryptsetup opens the new header" \
  cryptsetup open --test-passphrase --key-file - "$zdev"
check_no_io_errors "zoned: no kernel I/O error"
rm -f /tmp/hio.backup
remove_nullb "$zdev"

# --- An ordinary disk held by another dm target -------------------------------------------
dmesg_mark
dev=$(make_brd 64)
check "brd: created" test -b "$dev"
check "brd: format" zc_format "$dev"
check "brd: header backup" zcryptsetup luksHeaderBackup "$dev" --header-backup-file /tmp/hio.backup
check "brd: a linear mapping holds the disk" \
  dmsetup create hio_hold --table "0 8 linear $dev 0"
refusals_while_held "$dev" "brd, held by dm linear" 17
check "brd: remove the holder" dmsetup remove hio_hold
check "brd: open" zc_open "$dev" hio
refusals_while_held "$dev" "brd, open" 17
check "brd: close" cryptsetup close hio
check "brd: restore works once the disk is free" \
  zcryptsetup luksHeaderRestore -q "$dev" --header-backup-file /tmp/hio.backup
check "brd: format works once the disk is free" zc_format "$dev"
check_no_io_errors "brd: no kernel I/O error"

# --- Item 14: a device smaller than its metadata --------------------------------------------
# The first 8 MiB of the disk, whose header declares 16 MiB of metadata.
check "small: an 8 MiB window on the formatted disk" \
  dmsetup create hio_small --table "0 16384 linear $dev 0"
check_output "small: stock cryptsetup refuses it as too small" 'too small' \
  cryptsetup luksDump /dev/mapper/hio_small
check_exit 1 "small: zcryptsetup isLuks says no (exit 1)" zcryptsetup isLuks /dev/mapper/hio_small
check_exit 4 "small: zcryptsetup luksDump refuses (exit 4)" \
  zcryptsetup luksDump /dev/mapper/hio_small
check_output "small: ... saying how much the metadata needs" 'too small.*16777216' \
  zcryptsetup luksDump /dev/mapper/hio_small
printf %s "$ZC_PASS" | check_exit 4 "small: open --test-passphrase refuses (exit 4)" \
  zcryptsetup open --test-passphrase --key-file - /dev/mapper/hio_small
check "small: remove the window" dmsetup remove hio_small
rm -f /tmp/hio.backup /tmp/hio.new /tmp/hio.keys
remove_brd
