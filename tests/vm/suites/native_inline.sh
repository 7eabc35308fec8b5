# shellcheck shell=dash
# Issue 12: --perf-force_inline=native on a kernel that accepts it. run.sh carries the dm-crypt
# built by dkms from dkms/dm-crypt-force-inline (tests/vm/build-native-module.sh) as
# /zc/ko/dm-crypt.ko; this suite swaps it in for the stock module and checks:
#  - "dmsetup targets" reports crypt v1.24.1 (the patched target; stock 6.1 is 1.24.0);
#  - open --perf-force_inline=native: the table has force_inline and the key as a keyring
#    reference, a synchronous cipher is used, status says native, data round-trips, stock
#    cryptsetup (workqueues) reads the same data, zcryptsetup close leaves no mapping and no
#    key (stock cryptsetup close cannot: libcryptsetup 2.6 does not parse force_inline);
#  - figures: fio QD1 4 KiB random write/read over a null_blk with 20 us timer completions,
#    stock workqueues / upstream flags (--perf-force_inline) / native, alternated over 2 rounds.
# It ends by loading the stock module again, for the suites after it in the same boot. The stock
# module's refusal of =native is in hardening_dm.
. /zc/volume_checks.sh

ZC=/usr/local/bin/zcryptsetup
KO=/zc/ko/dm-crypt.ko
PATCHED_VERSION=v1.24.1

check "the patched dm-crypt is in the image" test -f "$KO"
# dm-crypt's dependencies and the crypto modules, then the patched module in place of the stock
# one (which must not be loaded: the kernel would keep it).
modprobe dm-mod
for m in xts aesni-intel essiv af_alg algif_skcipher algif_hash; do modprobe "$m" 2>/dev/null; done
[ -d /sys/module/dm_crypt ] && rmmod dm_crypt
check "the stock dm_crypt is not loaded" test ! -d /sys/module/dm_crypt
check "insmod the patched dm-crypt.ko" insmod "$KO"
crypt_target() { dmsetup targets | awk '$1 == "crypt" { print $2 }'; }
info "dmsetup targets: crypt $(crypt_target)"
check_output "dmsetup targets: crypt $PATCHED_VERSION" "^$PATCHED_VERSION\$" crypt_target

# ---------------------------------------------------------------- the volume
dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$dev"
check "zcryptsetup luksFormat" zc_format "$dev"
uuid=$(cryptsetup luksUUID "$dev")

check "open --perf-force_inline=native" zc_open "$dev" zn --perf-force_inline=native
info "native table: $(dmsetup table zn)"
check "... the table has force_inline" table_has zn force_inline
key_field() { dmsetup table --showkeys "$1" | awk '{ print $5 }'; }
check_output "... the key is a keyring reference (:64:logon:cryptsetup:<uuid>-d0)" \
  "^:64:logon:cryptsetup:$uuid-d0\$" key_field zn
check_output "... status: inline: yes, native (force_inline)" \
  '^  inline:  yes, native \(force_inline' "$ZC" status zn
check_output "... status: key location keyring" 'key location: +keyring' "$ZC" status zn
# CRYPTO_ALG_ASYNC in the mask: dm-crypt got a synchronous xts(aes) (async: no in /proc/crypto).
sync_xts() {
  awk -F' *: *' '/^name/ { n = $2 } /^driver/ { d = $2 } /^async/ { a = $2 }
                 /^$/ { if (n == "xts(aes)" && a == "no") print d; n = d = a = "" }' /proc/crypto
}
info "synchronous xts(aes) implementations: $(sync_xts | tr '\n' ' ')"
check_output "... a synchronous xts(aes) is instantiated" . sync_xts
check "... write 4 MiB through it" write_pattern zn 4 0
check "... read it back through it" read_pattern zn 4 0
check "... close" "$ZC" close zn
check_exit 1 "... nothing is left mapped" dm_exists zn
check_exit 1 "... no cryptsetup key is left in the keyring" grep -q "cryptsetup:$uuid" /proc/keys

check "stock cryptsetup opens the same volume (workqueues)" stock_open "$dev" zs
check "... the table has no force_inline" table_lacks zs force_inline
check "... reads what the native mapping wrote" read_pattern zs 4 0
check "... writes more" write_pattern zs 4 4
check "... close" cryptsetup close zs
check "native again reads what stock wrote" zc_open "$dev" zn --perf-force_inline=native
check "... read" read_pattern zn 4 4
# libcryptsetup 2.6 does not parse force_inline: stock cryptsetup cannot close the mapping
# (zcryptsetup close removes it through device-mapper).
check_exit nonzero "stock cryptsetup close refuses a force_inline mapping" cryptsetup close zn
check "... it is still there" dm_exists zn
check "zcryptsetup close" "$ZC" close zn
check_output "no mapping is left" '^No devices found' dmsetup ls
remove_nullb "$dev"

# ---------------------------------------------------------------- figures
check "fio is in the image" command -v fio
# terse output: field 8 is read IOPS, 49 write IOPS (fio's terse format v3).
fio_iops() {
  fio --name=bench --filename="/dev/mapper/$1" --rw="$2" --bs=4k --iodepth=1 \
    --direct=1 --ioengine=psync --runtime="${ZC_BENCH_SECONDS:-3}" --time_based --size=256M \
    --minimal 2>/dev/null | awk -F';' -v f="$3" '{printf "%d", $f}'
}
# open_mode MODE DEV NAME: wq (stock cryptsetup), flags (--perf-force_inline), native.
open_mode() {
  case $1 in
    wq) stock_open "$2" "$3" ;;
    flags) zc_open "$2" "$3" --perf-force_inline ;;
    native) zc_open "$2" "$3" --perf-force_inline=native ;;
  esac
}
lat=$(make_nullb_zoned zoned=0 gb=1 bs=4096 memory_backed=1 irqmode=2 completion_nsec=20000)
check "latency null_blk created" test -b "$lat"
check "format it" zc_format "$lat"
for pattern in randwrite:49 randread:8; do
  rw=${pattern%%:*} field=${pattern##*:}
  t_wq=0 t_flags=0 t_native=0
  for round in 1 2; do
    line="$rw round $round:"
    for mode in wq flags native; do
      v=0
      if open_mode "$mode" "$lat" "b_$mode"; then
        v=$(fio_iops "b_$mode" "$rw" "$field")
        "$ZC" close "b_$mode"
      fi
      line="$line $mode ${v:-0}"
      eval "t_$mode=\$((t_$mode + ${v:-0}))"
    done
    info "$line IOPS"
  done
  check "$rw: all three mappings measured" test "$t_wq" -gt 0 -a "$t_flags" -gt 0 -a "$t_native" -gt 0
  if [ "$t_wq" -gt 0 ]; then
    info "FIGURE $rw QD1 4k IOPS (mean of 2): workqueue $((t_wq / 2)), upstream flags $((t_flags / 2)), native force_inline $((t_native / 2)); native/workqueue $(awk -v a="$t_native" -v b="$t_wq" 'BEGIN{printf "%.3f", a/b}'), native/flags $(awk -v a="$t_native" -v b="$t_flags" 'BEGIN{printf "%.3f", a/b}')"
  fi
done
remove_nullb "$lat"

# ---------------------------------------------------------------- back to the stock module
# Later suites in the same boot expect the stock dm-crypt (hardening_dm: =native is refused).
for n in zn zs b_wq b_flags b_native; do dm_exists "$n" && "$ZC" close "$n"; done
check "rmmod the patched dm_crypt" rmmod dm_crypt
check "modprobe loads the stock dm-crypt again" modprobe dm-crypt
check_output "dmsetup targets: crypt v1.24.0 (stock)" '^v1\.24\.0$' crypt_target
