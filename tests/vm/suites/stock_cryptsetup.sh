# shellcheck shell=dash
# Sourced by /init after guest/lib.sh (run in busybox ash inside the VM).
# Why zcryptsetup exists, on a real kernel: stock cryptsetup cannot format a host-managed
# zoned drive (its header wipe writes out of order, which the drive rejects), while the very
# same command works on an ordinary disk.

pass=zc-test-passphrase
# Small PBKDF so the test is about I/O, not key stretching under TCG.
format_opts="--type luks2 -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file -"

check "load dm-crypt" load_dm_crypt
info "$(cryptsetup --version)"

# --- host-managed null_blk, no conventional zones: luksFormat must fail ---
nullb=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$nullb"
dmesg_mark
# shellcheck disable=SC2086
printf %s "$pass" | check_exit nonzero "stock luksFormat fails on host-managed null_blk" \
  cryptsetup luksFormat $format_opts "$nullb"
# shellcheck disable=SC2086
printf %s "$pass" | check_output "the failure is the device wipe" '[Ww]ipe' \
  cryptsetup luksFormat $format_opts "$nullb"
check_output "kernel log shows the rejected write" \
  "I/O error, dev ${nullb#/dev/}, .*op 0x1:\(WRITE\)" dmesg_since_mark
check_exit nonzero "no LUKS header was left on the zoned drive" \
  cryptsetup isLuks "$nullb"
check "remove null_blk" remove_nullb "$nullb"

# --- brd (not zoned): the same command works, and data goes through dm-crypt ---
ram=$(make_brd 64)
check "brd created" test -b "$ram"
dmesg_mark
# shellcheck disable=SC2086
printf %s "$pass" | check "stock luksFormat succeeds on brd" \
  cryptsetup luksFormat $format_opts "$ram"
check "brd is LUKS now" cryptsetup isLuks "$ram"
check_output "header is LUKS2" '^Version:[[:space:]]+2' cryptsetup luksDump "$ram"
printf %s "$pass" | check "cryptsetup open" \
  cryptsetup open --type luks2 --key-file - "$ram" zc_stock
check "mapping zc_stock exists" dm_exists zc_stock
check_output "mapping is a crypt target" ' crypt ' dmsetup table zc_stock

# Only write when the mapping really exists: dd to a missing /dev/mapper node would create a
# regular file in devtmpfs instead.
if dm_exists zc_stock; then
  head -c $((4 * 1024 * 1024)) /dev/urandom > /tmp/pattern
  check "write 4 MiB through the mapping" \
    dd if=/tmp/pattern of=/dev/mapper/zc_stock bs=1M oflag=direct
  check "read it back identical" \
    sh -c 'dd if=/dev/mapper/zc_stock bs=1M count=4 iflag=direct 2>/dev/null | cmp - /tmp/pattern'
  # The ciphertext on the disk under the data segment must not be the plaintext.
  offset=$(cryptsetup luksDump "$ram" | awk '/^Data segments:/ { d = 1 } d && /offset:/ { print $2; exit }')
  info "data segment offset: $offset bytes"
  check "ciphertext on brd differs from the plaintext" \
    sh -c "! dd if=$ram bs=4096 skip=$((offset / 4096)) count=1024 2>/dev/null | cmp -s - /tmp/pattern"
  rm -f /tmp/pattern
fi
check "cryptsetup close" cryptsetup close zc_stock
check_exit nonzero "mapping is gone after close" dm_exists zc_stock
check_no_io_errors "no I/O errors on brd"
check "remove brd" remove_brd
