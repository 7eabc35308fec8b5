# shellcheck shell=dash
# Issue 12 "Scale": figures, not timed assertions (timing under TCG emulation is only
# meaningful as ratios within one run); `check` only says that each step worked.
#  1. Many drives: 16 host-managed null_blk drives (1 GiB, 64 MiB zones, memory-backed: only
#     the written metadata takes RAM), each with one argon2id keyslot of 16 MiB, 4 iterations
#     (--pbkdf-force-iterations 4, the minimum for argon2, so nothing is benchmarked), parallel
#     1 (one lane: the parallelism measured is the scheduler's, not argon2's), a 1 MiB keyslots
#     area (see below), and one crypttab
#     of 16 entries sharing a key file. 16 MiB rather than 32 keeps the suite near 2 minutes:
#     each open under TCG costs about a second besides the PBKDF. Timed: `zcryptsetup crypttab
#     open --all` (parallel openers within the default memory budget, MemAvailable/2) against a
#     serial loop of `zcryptsetup open` (as systemd-cryptsetup serialises them) and of stock
#     `cryptsetup open`; closed between runs. Peak memory of each run two ways: GNU time's %M
#     (ru_maxrss: the largest single process of the run, as wait4 reports it, shared library
#     pages included) and cgroup2 memory.peak (everything the run's processes charged at once,
#     page cache and kernel memory included, but not the library pages the initramfs already
#     holds, so a serial loop can show less than %M; a fresh cgroup per run, as 6.1 cannot
#     reset memory.peak). Also the CPU time (user+system) of each run, which other guests
#     sharing the host's cores move much less than the elapsed time.
#  2. Drive size: a 20 TB host-managed null_blk (256 MiB zones, 81920 of them) against a
#     1 GiB one with the same zones, plus the 20 TB one with an active/open zone limit of 14
#     (the path where a metadata write reports every zone): luksFormat (pbkdf2, 1 MiB keyslots
#     area), open --test-passphrase, open+close (zcryptsetup and stock), 3 rounds each,
#     alternated, with the 20TB/1GiB ratios (the limited drive in the format rounds only).
#     Then, once each and untimed: KiB the kernel read from the drive (/sys/block/X/stat) and
#     the zone reports the process asked for (strace's count of BLKREPORTZONE calls, and every
#     other ioctl).
# memory_backed=1 allocates null_blk pages only on write, so a 20 TB drive costs the guest
# its zone array (~80k zones) plus the metadata written; the suite prints MemAvailable around
# it. memory_backed=0 would keep RAM use at zero too, but it drops every write and returns no
# data on reads, so the header luksFormat writes could never be read back.
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
dmesg_mark
suite_t0=$(awk '{printf "%d", $1 * 1000}' /proc/uptime)

# busybox date has no %N: milliseconds since boot from /proc/uptime (10 ms resolution).
ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
mem_available_kib() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

# ---------------------------------------------------------------- peak memory
GNU_TIME=/usr/bin/time
check "GNU time is in the image (peak RSS)" sh -c "$GNU_TIME -f %M true"
CG=/sys/fs/cgroup
cg_setup() {
  grep -q " $CG cgroup2 " /proc/mounts || mount -t cgroup2 none "$CG" || return 1
  echo +memory >"$CG/cgroup.subtree_control" || return 1
  mkdir "$CG/zc-probe" || return 1
  _r=1
  [ -f "$CG/zc-probe/memory.peak" ] && _r=0
  rmdir "$CG/zc-probe"
  return $_r
}
if check "cgroup2 with memory.peak (whole-run peak memory)" cg_setup; then CG_OK=1; else CG_OK=; fi

# measure LABEL CMD...: runs CMD (a program: wrap shell loops in a script) under GNU time, in a
# cgroup of its own when cgroup2 works. Sets M_MS (elapsed), M_RSS_KIB (largest process),
# M_CG_KIB (whole run, or "n/a"); returns CMD's status.
measure() {
  _label=$1
  shift
  _cg=
  if [ -n "$CG_OK" ]; then
    _cg=$CG/zc-$_label
    rmdir "$_cg" 2>/dev/null
    mkdir "$_cg"
  fi
  _t0=$(ms)
  # shellcheck disable=SC2016
  "$GNU_TIME" -f '%M %U %S' -o /tmp/measure.time sh -c \
    'if [ -n "$0" ]; then echo $$ >"$0/cgroup.procs" || exit 99; fi; exec "$@"' "$_cg" "$@"
  _rc=$?
  M_MS=$(($(ms) - _t0))
  M_RSS_KIB=$(tail -n 1 /tmp/measure.time | cut -d' ' -f1)
  # CPU seconds of the whole run (user + system, every process waited for): unlike elapsed
  # time, barely moved by other guests sharing the host's cores.
  M_CPU_MS=$(tail -n 1 /tmp/measure.time | awk '{ printf "%d", ($2 + $3) * 1000 }')
  M_CG_KIB=n/a
  if [ -n "$_cg" ]; then
    M_CG_KIB=$(($(cat "$_cg/memory.peak") / 1024))
    rmdir "$_cg"
  fi
  return $_rc
}

# ================================================================ 1. many drives
N=16
ARGON_KIB=16384
# A 1 MiB keyslots area (room for 4 keyslots) instead of 16 MiB: filling the area is most of
# what a format costs (0.23 s against 0.05 s natively, seconds under TCG), and an open reads
# only its own keyslot's 256 KiB, so the opens measured here are the same.
argon="--pbkdf argon2id --pbkdf-memory $ARGON_KIB --pbkdf-parallel 1 --pbkdf-force-iterations 4 --luks2-keyslots-size 1M"
key=/tmp/scale.key
tab=/tmp/crypttab.scale
printf %s scale-key-file >"$key"
chmod 600 "$key"
: >"$tab"
devs=
t0=$(ms)
i=0
while [ $i -lt $N ]; do
  d=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=1 bs=4096)
  # In the background: the guest has 2 CPUs and each format runs one argon2 lane.
  # shellcheck disable=SC2086
  { zcryptsetup luksFormat -q $argon "$d" "$key" >"/tmp/scale-format.$i" 2>&1 &&
    echo ok >>"/tmp/scale-format.$i"; } &
  printf 'scale%02d %s %s luks\n' "$i" "$d" "$key" >>"$tab"
  devs="$devs $d"
  i=$((i + 1))
done
wait
formatted=$(cat /tmp/scale-format.* | grep -c '^ok$')
format_ms=$(($(ms) - t0))
check "$N drives created and formatted (argon2id)" test "$formatted" -eq "$N"
info "FIGURE many drives: formatted $N drives, all at once, in $format_ms ms ($ARGON_KIB KiB argon2id, 4 iterations, parallel 1, 1 MiB keyslots area)"
check "crypttab check of the $N entries" zcryptsetup crypttab check --crypttab "$tab"

# The serial loops as scripts, so that measure can run them in their own cgroup.
cat >/tmp/serial-zc.sh <<EOF
#!/bin/sh
i=0
for d in $devs; do
  zcryptsetup open --key-file $key "\$d" "\$(printf scale%02d \$i)" || exit 1
  i=\$((i + 1))
done
EOF
sed 's|zcryptsetup open|cryptsetup open --type luks2|' /tmp/serial-zc.sh >/tmp/serial-stock.sh
chmod 755 /tmp/serial-zc.sh /tmp/serial-stock.sh

mapped() { dmsetup ls 2>/dev/null | grep -c '^scale'; }
close_all() { zcryptsetup crypttab close --all --crypttab "$tab" >/dev/null 2>&1; [ "$(mapped)" -eq 0 ]; }

# run_many KIND: one timed open of all drives, checked and closed. Sets K_MS, K_RSS, K_CG.
run_many() {
  case $1 in
    parallel) measure "$1" zcryptsetup crypttab open --all --crypttab "$tab" >/tmp/scale-all.out 2>&1 ;;
    zc) measure "$1" /tmp/serial-zc.sh >/tmp/scale-all.out 2>&1 ;;
    stock) measure "$1" /tmp/serial-stock.sh >/tmp/scale-all.out 2>&1 ;;
  esac
  _rc=$?
  K_MS=$M_MS K_RSS=$M_RSS_KIB K_CG=$M_CG_KIB K_CPU=$M_CPU_MS
  check "$1 round $round: exit 0 and $N mappings" test "$_rc" -eq 0 -a "$(mapped)" -eq "$N" ||
    sed 's/^/    /' /tmp/scale-all.out | head -20
  [ "$1" = parallel ] && summary=$(grep '^Opened' /tmp/scale-all.out)
  check "$1 round $round: closed" close_all
}

rounds=${ZC_SCALE_ROUNDS:-1}
round=1
sum_par=0 sum_zc=0 sum_stock=0
while [ $round -le "$rounds" ]; do
  run_many parallel; sum_par=$((sum_par + K_MS)); par_rss=$K_RSS par_cg=$K_CG par_cpu=$K_CPU
  run_many zc; sum_zc=$((sum_zc + K_MS)); zc_rss=$K_RSS zc_cg=$K_CG zc_cpu=$K_CPU
  run_many stock; sum_stock=$((sum_stock + K_MS)); stock_rss=$K_RSS stock_cg=$K_CG stock_cpu=$K_CPU
  info "round $round (ms, cumulative): crypttab open --all $sum_par, serial zcryptsetup $sum_zc, serial stock $sum_stock"
  round=$((round + 1))
done
info "FIGURE $N drives, open all (mean of $rounds): crypttab open --all $((sum_par / rounds)) ms, serial zcryptsetup open $((sum_zc / rounds)) ms, serial stock cryptsetup open $((sum_stock / rounds)) ms"
info "FIGURE $N drives, speed-up of --all: $(ratio "$sum_zc" "$sum_par") x over serial zcryptsetup, $(ratio "$sum_stock" "$sum_par") x over serial stock"
info "FIGURE $N drives, peak memory (last round; largest process by GNU time %M / whole run by cgroup memory.peak): --all ${par_rss} / ${par_cg} KiB, serial zcryptsetup ${zc_rss} / ${zc_cg} KiB, serial stock ${stock_rss} / ${stock_cg} KiB"
info "FIGURE $N drives, CPU time (user+system, last round): --all ${par_cpu} ms, serial zcryptsetup ${zc_cpu} ms, serial stock ${stock_cpu} ms"
info "--all said: $summary"
for d in $devs; do remove_nullb "$d"; done
t_many=$(ms)

# ================================================================ 2. drive size
avail0=$(mem_available_kib)
small=$(make_nullb_zoned zone_size=256 zone_nr_conv=0 gb=1 bs=4096)
check "1 GiB host-managed drive (256 MiB zones) created" test -b "$small"
big=$(make_nullb_zoned zone_size=256 zone_nr_conv=0 gb=20480 bs=4096)
check "20 TB host-managed drive (256 MiB zones) created" test -b "$big"
avail1=$(mem_available_kib)
lim=$(make_nullb_zoned zone_size=256 zone_nr_conv=0 gb=20480 bs=4096 zone_max_active=14 zone_max_open=14)
check "20 TB drive with 14 active/open zones created" test -b "$lim"
sysb() { echo "/sys/block/${1#/dev/}"; }
info "drives: 1 GiB $small ($(cat "$(sysb "$small")/queue/nr_zones") zones), 20 TB $big ($(cat "$(sysb "$big")/queue/nr_zones") zones), 20 TB limited $lim (max_active $(cat "$(sysb "$lim")/queue/max_active_zones"))"

# timed KIND DEV: one operation, its milliseconds on stdout; nothing if it failed.
timed() {
  _t0=$(ms)
  case $1 in
    format) zc_format "$2" $KS1M ;;
    test) printf %s "$ZC_PASS" | zcryptsetup open --test-passphrase --key-file - "$2" ;;
    openclose) zc_open "$2" scale_sz && zcryptsetup close scale_sz ;;
    stockopenclose) stock_open "$2" scale_sz && cryptsetup close scale_sz ;;
  esac >/tmp/scale-op.out 2>&1 || { sed 's/^/    /' /tmp/scale-op.out >&2; return 1; }
  echo $(($(ms) - _t0))
}

# Formats here use the 1 MiB keyslots area too: filling 16 MiB is a fixed cost of seconds
# under TCG that would only dilute the 20TB/1GiB ratio.
KS1M="--luks2-keyslots-size 1M"
ops="format test openclose stockopenclose"
dev='' s='' b='' l='' as='' ab='' al=''
for op in $ops; do for k in small big lim; do eval "sum_${op}_$k=0 all_${op}_$k="; done; done
failed_ops=0
round=1
while [ $round -le 3 ]; do
  for op in $ops; do
    for k in small big lim; do
      # The active-limited drive differs only where a metadata write checks the active zones.
      [ "$k" = lim ] && [ "$op" != format ] && continue
      eval "dev=\$$k"
      if t=$(timed "$op" "$dev"); then
        eval "sum_${op}_$k=\$((sum_${op}_$k + t)); all_${op}_$k=\"\$all_${op}_$k $t\""
      else
        failed_ops=$((failed_ops + 1))
        info "round $round: $op on $k ($dev) failed"
      fi
    done
  done
  round=$((round + 1))
done
check "every format/open/close of the 3 rounds worked" test "$failed_ops" -eq 0
t_rounds=$(ms)
avail2=$(mem_available_kib)
info "FIGURE guest MemAvailable: $((avail0 / 1024)) MiB before the big drives, $((avail1 / 1024)) MiB with the 20 TB one created, $((avail2 / 1024)) MiB with all three formatted 3 times (null_blk memory_backed=1 allocates on write)"
for op in $ops; do
  eval "s=\$sum_${op}_small b=\$sum_${op}_big l=\$sum_${op}_lim as=\$all_${op}_small ab=\$all_${op}_big al=\$all_${op}_lim"
  lim_part=
  [ "$op" = format ] && lim_part=" 20 TB active-limited [$al ];"
  info "FIGURE size $op (ms, 3 rounds): 1 GiB [$as ] 20 TB [$ab ];$lim_part 20TB/1GiB ratio $(ratio "$b" "$s")${lim_part:+, limited/1GiB $(ratio "$l" "$s")}"
done

# Bytes read, untimed: the page cache dropped first (kib_read_to_unlock, volume_checks.sh).
kib_read_openclose() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
  _b=$(awk '{ print $3 }' "$(sysb "$1")/stat")
  zc_open "$1" scale_sz >/dev/null 2>&1 && zcryptsetup close scale_sz || return 1
  _a=$(awk '{ print $3 }' "$(sysb "$1")/stat")
  echo $(((_a - _b) * 512 / 1024))
}
for k in small big; do  # the active-limited drive reads the same
  eval "dev=\$$k"
  # shellcheck disable=SC2086
  zc_format "$dev" $KS1M >/dev/null 2>&1
  r_test=$(kib_read_to_unlock "$dev" zcryptsetup open --test-passphrase --key-file - "$dev")
  r_stock=$(kib_read_to_unlock "$dev" cryptsetup open --test-passphrase --key-file - "$dev")
  r_open=$(kib_read_openclose "$dev")
  info "FIGURE size reads $k: open --test-passphrase ${r_test:-?} KiB (stock ${r_stock:-?} KiB), open+close ${r_open:-?} KiB"
done

t_reads=$(ms)
# Zone reports the process itself asks for (the kernel's own report when a zoned dm table
# loads, blk_revalidate_disk_zones, is not a system call and does not show here). strace 6.1
# prints BLKREPORTZONE's argument as a bare pointer, so calls are counted, not zones; libzbd
# asks for a large report in chunks (one call per 8192 zones in 1.2), so a report of every
# zone of the 81920-zone drive shows as about 10 extra calls.
if command -v strace >/dev/null; then
  zone_reports() {  # zone_reports OUT CMD...: "N BLKREPORTZONE calls [every ioctl counted]"
    _out=$1
    shift
    _t0=$(ms)
    # Bounded, and only ioctls stop the process (--seccomp-bpf): under ptrace in TCG a fully
    # traced command can take minutes.
    timeout -s KILL 60 strace -f -qq --seccomp-bpf -e trace=ioctl -o "$_out" "$@" >/dev/null 2>&1 ||
      { echo "failed or over 60 s ($(($(ms) - _t0)) ms)"; return 1; }
    _calls=$(grep -c BLKREPORTZONE "$_out")
    # Every ioctl by name, counted: resets or finishes of data zones would show here.
    _all=$(sed -n 's/^[0-9]* *ioctl([0-9]*, \([A-Z_0-9]*\).*/\1/p' "$_out" | sort | uniq -c |
      awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
    echo "$_calls BLKREPORTZONE [ioctls: $_all]"
  }
  printf %s "$ZC_PASS" >/tmp/scale-pass
  for k in small big lim; do
    eval "dev=\$$k"
    # shellcheck disable=SC2086
    zr_format=$(printf %s "$ZC_PASS" | zone_reports /tmp/st.format zcryptsetup luksFormat -q \
      $ZC_FAST_PBKDF $KS1M --key-file - "$dev")
    printf %s "added-key-$k" >/tmp/scale-new
    # shellcheck disable=SC2086
    zr_addkey=$(zone_reports /tmp/st.addkey zcryptsetup luksAddKey -q $ZC_FAST_PBKDF \
      --key-file /tmp/scale-pass "$dev" /tmp/scale-new)
    opens=
    if [ "$k" != lim ]; then  # opens write nothing: the active limit changes nothing there
      zr_open=$(printf %s "$ZC_PASS" | zone_reports /tmp/st.open zcryptsetup open --key-file - "$dev" scale_sz)
      close_if_open scale_sz
      opens="; open $zr_open"
    fi
    info "FIGURE size zone reports $k: luksFormat $zr_format; luksAddKey $zr_addkey$opens"
  done
  info "a zone report as strace shows it: $(grep -m 1 BLKREPORTZONE /tmp/st.addkey | cut -c 1-160)"
else
  skip "zone reports by strace" "strace not in the image"
fi

for d in "$small" "$big" "$lim"; do remove_nullb "$d"; done
check_no_io_errors "no kernel I/O errors"
t_end=$(ms)
info "FIGURE bench_scale ran for $((t_end - suite_t0)) ms in the guest: many drives $((t_many - suite_t0)) (format $format_ms), size rounds $((t_rounds - t_many)), reads $((t_reads - t_rounds)), zone reports $((t_end - t_reads))"
