# shellcheck shell=dash
# Sourced by /init after guest/lib.sh (run in busybox ash inside the VM).
# Smoke test of the VM itself: device-mapper with dm-crypt, a zoned null_blk, brd and a
# host-managed scsi_debug disk all work on this kernel.

check "modprobe dm-mod and dm-crypt" load_dm_crypt
check_output "dmsetup targets lists crypt with a version" '^crypt +v[0-9]+\.[0-9]+\.[0-9]+' \
  dmsetup targets
info "$(dmsetup targets | grep '^crypt')"

nullb=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 bs=4096)
check "zoned null_blk created" test -b "$nullb"
check_output "null_blk is host-managed" '^host-managed$' \
  cat "/sys/block/${nullb#/dev/}/queue/zoned"
check_output "blkzone report shows sequential-write-required zones" 'SEQ_WRITE_REQUIRED' \
  blkzone report -c 4 "$nullb"
check_output "null_blk has 32 zones of 64 MiB" '^32$' \
  cat "/sys/block/${nullb#/dev/}/queue/nr_zones"
check_output "null_blk logical block size is 4096" '^4096$' \
  cat "/sys/block/${nullb#/dev/}/queue/logical_block_size"
check_output "zone 0 is empty" '^em$' zone_cond "$nullb" 0
check_output "zone 0 write pointer at 0" '^0$' zone_wp "$nullb" 0

# A second, differently configured null_blk in the same boot (configfs): 4 conventional zones.
nullb2=$(make_nullb_zoned zone_nr_conv=4 gb=1)
check "second null_blk with conventional zones" test -b "$nullb2"
check_output "its zone 0 is conventional" '^CONVENTIONAL$' zone_type "$nullb2" 0
check_output "its zone 4 is sequential" '^SEQ_WRITE_REQUIRED$' zone_type "$nullb2" 4

# Writes advance the write pointer; zone_wp is relative to the zone start, in 512 B sectors.
dmesg_mark
check "write 8 KiB at the start of zone 1" \
  dd if=/dev/zero of="$nullb" bs=4096 count=2 seek=$((64 * 256)) oflag=direct
check_output "zone 1 write pointer is 16 sectors" '^16$' zone_wp "$nullb" 1
check_output "zone 1 is implicitly open" '^oi$' zone_cond "$nullb" 1
check_no_io_errors "sequential write caused no I/O error"
check "remove second null_blk" remove_nullb "$nullb2"
check "remove first null_blk" remove_nullb "$nullb"

ram=$(make_brd 64)
check "brd disk exists" test -b "$ram"
check_output "brd disk is 64 MiB" "^$((64 * 1024 * 1024))\$" blockdev --getsize64 "$ram"
check "remove brd" remove_brd

sd=$(make_scsi_debug zbc=host-managed zone_size_mb=32 zone_nr_conv=0 dev_size_mb=768 sector_size=4096)
check "scsi_debug disk appeared" test -b "$sd"
check_output "scsi_debug disk is host-managed" '^host-managed$' \
  cat "/sys/block/${sd#/dev/}/queue/zoned"
check_output "blkzone report on scsi_debug shows sequential zones" 'SEQ_WRITE_REQUIRED' \
  blkzone report -c 2 "$sd"
check "remove scsi_debug" remove_scsi_debug

# zcryptsetup is in the image only once it has been built; its shared libraries must resolve.
if command -v zcryptsetup >/dev/null; then
  check "zcryptsetup's shared libraries resolve in the guest" \
    /lib64/ld-linux-x86-64.so.2 --list "$(command -v zcryptsetup)"
else
  skip "zcryptsetup's shared libraries resolve in the guest" "zcryptsetup not built"
fi
