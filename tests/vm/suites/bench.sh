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
    --direct=1 --ioengine=psync --runtime="${ZC_BENCH_SECONDS:-3}" --time_based --size=256M \
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

# 3. zcryptsetup benchmark: libcryptsetup's in-memory speeds in stock cryptsetup's shape, then
#    --inline (workqueue against inline dm-crypt mappings, liburing 4 KiB O_DIRECT I/O) on its
#    own scratch RAM disk, and read-only on a given null_blk whose bytes must not change.
out=/tmp/zc-bench.txt
check "benchmark (cipher and PBKDF, in memory)" sh -c "zcryptsetup benchmark > $out"
check "benchmark prints cryptsetup's header line" \
  grep -q '^# Tests are approximate using memory only (no storage IO).$' "$out"
check "benchmark prints the cipher table" grep -q '^#     Algorithm |       Key |' "$out"
check "benchmark prints PBKDF lines" grep -q '^PBKDF2-sha256 .* iterations per second' "$out"
sed 's/^/    /' "$out"
info "FIGURE cipher (memory only): $(grep 'aes-xts *512b' "$out" | tr -s ' ')"

# bench_iops FILE MODE WORKLOAD: the IOPS the JSON report gives that mode and workload.
bench_iops() {
  awk -v m="\"$2\":" -v w="\"$3\":" '
    !mode && index($0, m) { mode = 1; next }
    mode && index($0, w) { wl = 1; next }
    mode && wl && index($0, "\"iops\"") { sub(/.*"iops" *: */, ""); sub(/,.*/, ""); print; exit }
  ' "$1"
}
positive() { awk -v v="${1:-0}" 'BEGIN { exit !(v > 0) }'; }
no_bench_leftovers() { ! dmsetup ls 2>/dev/null | grep -q zcryptsetup-bench && [ ! -d /sys/module/brd ]; }

json=/tmp/zc-bench.json
check "benchmark --inline --json on the scratch RAM disk" sh -c \
  "zcryptsetup benchmark --inline --json --benchmark-seconds 2 --rounds 2 > $json"
sed 's/^/    /' "$json"
check "no mapping left, brd unloaded" no_bench_leftovers
for w in randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32; do
  wq=$(bench_iops "$json" workqueue "$w") in=$(bench_iops "$json" inline "$w")
  check "$w: workqueue IOPS positive" positive "$wq"
  check "$w: inline IOPS positive" positive "$in"
  if positive "$wq"; then
    info "FIGURE zcryptsetup benchmark --inline $w (brd): inline/workqueue IOPS ratio $(awk -v a="$in" -v b="$wq" 'BEGIN{printf "%.3f", a/b}') (inline $in, workqueue $wq)"
  fi
done
info "FIGURE zcryptsetup benchmark verdict: $(sed -n 's/.*"verdict" *: *"\(.*\)".*/\1/p' "$json")"
info "native mode: $(grep -A2 '"native"' "$json" | tr -s ' \n' ' ')"

# The text report, one short round of inline only: the table and a verdict line (none here,
# since workqueue mode is not measured).
txt=/tmp/zc-bench-text.txt
check "benchmark --inline text report (inline only)" sh -c \
  "zcryptsetup benchmark --inline --benchmark-modes inline --benchmark-seconds 1 --rounds 1 > $txt"
sed 's/^/    /' "$txt"
check "... has the table and a verdict line" grep -q '^Verdict: no verdict' "$txt"
# native asked for explicitly on a kernel without the patch: reported, not an error.
check "benchmark --inline --benchmark-modes workqueue,native" sh -c \
  "zcryptsetup benchmark --inline --benchmark-modes workqueue,native --benchmark-seconds 1 --rounds 1 > $txt"
sed 's/^/    /' "$txt"
check "... says native is not supported by this kernel" \
  grep -q 'native: not supported by this kernel' "$txt"
check "no mapping left, brd unloaded (text runs)" no_bench_leftovers
# The hand-built native table (key in the kernel keyring) on this stock kernel: the test build
# swaps the force_inline argument for one dm-crypt knows, so the mapping must come up and run.
check "native mode's hand-built table runs (test hook: same_cpu_crypt for force_inline)" sh -c \
  "ZCRYPTSETUP_NATIVE_FEATURE_ARG=same_cpu_crypt zcryptsetup benchmark --inline --json \
     --benchmark-modes native --benchmark-seconds 1 --rounds 1 > $txt"
check "... native supported, IOPS positive" positive "$(bench_iops "$txt" native randwrite-qd1)"
check "no mapping left, brd unloaded (native run)" no_bench_leftovers

# Read-only on a user's device: both mappings read-only, nothing written, bytes unchanged.
ro=$(make_nullb_zoned zoned=0 size=128 bs=4096 memory_backed=1)
check "read-only null_blk created" test -b "$ro"
dd if=/dev/urandom of="$ro" bs=1M count=16 2>/dev/null && sync
echo 3 > /proc/sys/vm/drop_caches
before=$(sha256sum "$ro" | cut -d' ' -f1)
check "benchmark --inline on a given device (read-only)" sh -c \
  "zcryptsetup benchmark --inline $ro --json --benchmark-seconds 1 --rounds 1 > $json"
echo 3 > /proc/sys/vm/drop_caches
after=$(sha256sum "$ro" | cut -d' ' -f1)
check "the device's bytes are unchanged (sha256)" test "$before" = "$after"
check "only reads were measured on it" sh -c "! grep -q randwrite $json"
check "the report says read-only" grep -q '"read_only": *true' "$json"
check "read-only run: inline randread-qd1 IOPS positive" \
  positive "$(bench_iops "$json" inline randread-qd1)"
check "no mapping left after the read-only run" no_bench_leftovers
check_exit 4 "benchmark --inline on a missing device: exit 4" \
  zcryptsetup benchmark --inline /dev/zc-no-such-device
remove_nullb "$ro"

# SIGINT in the middle: the mapping and the scratch disk go away, the exit status says so.
zcryptsetup benchmark --inline --benchmark-seconds 30 --rounds 1 >/dev/null 2>&1 &
pid=$!
sleep 4
kill -INT "$pid"
wait "$pid"
rc=$?
check "SIGINT stops the benchmark with exit 1" test "$rc" -eq 1
check "no mapping left after SIGINT, brd unloaded" no_bench_leftovers
