# shellcheck shell=dash
# THROWAWAY: strace -r -T of opens
. /zc/volume_checks.sh
check "load dm-crypt" load_dm_crypt
hm=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "format it" zc_format "$hm"
for round in 1 2 3; do
  for tool in cryptsetup zcryptsetup; do
    echo 3 >/proc/sys/vm/drop_caches
    printf %s "$ZC_PASS" | strace -r -T -o /tmp/st.$tool $tool open --key-file - "$hm" b_ops >/dev/null 2>&1
    $tool close b_ops
    if [ $round = 3 ]; then while read -r line; do info "TRACE-$tool $line"; done </tmp/st.$tool; fi
  done
done
remove_nullb "$hm"
