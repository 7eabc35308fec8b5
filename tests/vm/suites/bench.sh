# shellcheck shell=dash
# Figures, not assertions (timing under TCG emulation is only meaningful as ratios in one run):
#  1. fio QD1 4 KiB random write/read through dm-crypt over a null_blk with 20 us timer
#     completions: stock cryptsetup's default mapping (kcryptd workqueues) against
#     zcryptsetup --perf-force_inline, alternated so drift hits both alike.
#  2. bytes read from a host-managed drive to unlock it: zcryptsetup against stock cryptsetup
#     (design: open must not read more than cryptsetup does).
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
check "fio is in the image" command -v fio

# terse output: field 8 is read IOPS, 49 write IOPS (fio's terse format v3).
fio_iops() {
  _name=$1 _rw=$2 _field=$3
  fio --name=bench --filename="/dev/mapper/$_name" --rw="$_rw" --bs=4k --iodepth=1 \
    --direct=1 --ioengine=psync --runtime="${ZC_BENCH_SECONDS:-4}" --time_based --size=256M \
    --minimal 2>/dev/null | awk -F';' -v f="$_field" '{printf "%d", $f}'
}

lat=$(make_nullb_zoned zoned=0 gb=1 bs=4096 memory_backed=1 irqmode=2 completion_nsec=20000)
check "latency null_blk created" test -b "$lat"
check "format it" zc_format "$lat"

for pattern in randwrite:49 randread:8; do
  rw=${pattern%%:*} field=${pattern##*:}
  stock_total=0 inline_total=0
  for round in 1 2; do
    stock_open "$lat" b_stock && s=$(fio_iops b_stock "$rw" "$field") && cryptsetup close b_stock
    zc_open "$lat" b_inline --perf-force_inline && i=$(fio_iops b_inline "$rw" "$field") &&
      zcryptsetup close b_inline
    info "$rw round $round: stock workqueues ${s:-0} IOPS, zcryptsetup inline ${i:-0} IOPS"
    stock_total=$((stock_total + ${s:-0})) inline_total=$((inline_total + ${i:-0}))
  done
  check "$rw: both configurations measured" test "$stock_total" -gt 0 -a "$inline_total" -gt 0
  if [ "$stock_total" -gt 0 ]; then
    info "FIGURE $rw QD1 4k: inline/stock IOPS ratio $(awk -v a="$inline_total" -v b="$stock_total" 'BEGIN{printf "%.3f", a/b}') (inline $((inline_total / 2)), stock $((stock_total / 2)) IOPS, mean of 2)"
  fi
done
remove_nullb "$lat"

# Bytes read to unlock (--test-passphrase: the metadata reads only), caches dropped first.
dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "format the zoned drive" zc_format "$dev"
stock_kib=$(kib_read_to_unlock "$dev" cryptsetup open --test-passphrase --key-file - "$dev")
zc_kib=$(kib_read_to_unlock "$dev" zcryptsetup open --test-passphrase --key-file - "$dev")
check "both tools unlock the drive" test -n "$stock_kib" -a -n "$zc_kib"
info "FIGURE unlock reads: zcryptsetup ${zc_kib} KiB, stock cryptsetup ${stock_kib} KiB"
