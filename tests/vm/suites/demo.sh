# shellcheck shell=dash
# The README's demo: the main job, narrated on the console. Each step prints the command and
# its output; the checks make the demo fail loudly if a step does not do what it says.
. /zc/volume_checks.sh

say() { printf '\n=== %s\n' "$*"; }
show() {
  printf '$ %s\n' "$*"
  "$@" 2>&1
}

load_dm_crypt >/dev/null 2>&1
say "An emulated 2 GiB host-managed SMR drive: 64 MiB zones, none conventional, 4 KiB blocks"
dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
show cat "/sys/block/${dev#/dev/}/queue/zoned"
show sh -c "blkzone report $dev | head -4"

say "Stock cryptsetup $(cryptsetup --version | cut -d' ' -f2) cannot format it (its header wipe writes out of order):"
dmesg_mark
printf %s "$ZC_PASS" | show cryptsetup luksFormat --type luks2 -q $ZC_FAST_PBKDF --key-file - "$dev"
show sh -c "dmesg | grep -m1 'I/O error'"

say "zcryptsetup formats it with sequential writes only (journal copy in zone 1, data from zone 2)"
dmesg_mark
printf %s "$ZC_PASS" | show zcryptsetup luksFormat -q -v $ZC_FAST_PBKDF --key-file - "$dev"
check "demo: format" zcryptsetup isLuks "$dev"
show sh -c "blkzone report $dev | head -4"
show sh -c "zcryptsetup luksDump $dev | head -40"

say "Open it with inline dm-crypt (no kcryptd workqueues)"
printf %s "$ZC_PASS" | show zcryptsetup open --key-file - --perf-force_inline "$dev" smr
check "demo: open --perf-force_inline" dm_exists smr
show zcryptsetup status smr
show dmsetup table smr
check "demo: table runs inline" table_has smr no_write_workqueue

say "Write 16 MiB sequentially through the mapping, read it back"
show dd if=/dev/urandom of=/tmp/data bs=1M count=16
show dd if=/tmp/data of=/dev/mapper/smr bs=1M oflag=direct
show dd if=/dev/mapper/smr of=/tmp/back bs=1M count=16 iflag=direct
show sh -c "md5sum /tmp/data /tmp/back"
check "demo: data round trip" cmp /tmp/data /tmp/back
show sh -c "blkzone report $dev | sed -n 3,4p"

say "Stock cryptsetup reads the same header"
show zcryptsetup close smr
printf %s "$ZC_PASS" | show cryptsetup open --key-file - "$dev" smr_stock
check "demo: stock open" dm_exists smr_stock
show sh -c "dd if=/dev/mapper/smr_stock bs=1M count=16 iflag=direct 2>/dev/null | md5sum"
show cryptsetup close smr_stock
check_no_io_errors "demo: the kernel saw no illegal write from zcryptsetup"
