# shellcheck shell=dash
# Figures, not assertions, for time: what each verb costs with zcryptsetup against stock
# cryptsetup in the same guest, on the same header (issue 12). Bytes read and written, which do
# not drift, are checked: no more than stock's. Time under TCG emulation only means something
# as a ratio within one run, so every figure is a ratio; rounds alternate the two tools so drift
# hits both alike. Bytes read and written come from the drive's own counters (/sys/block/X/stat).
#  1. open, close, status, luksDump on a host-managed null_blk (64 MiB zones, cheap PBKDF);
#     the floor's open in the same rounds (tests/bench/open_floor.c: the least such an open
#     does); and where an open's time goes, phase by phase, in all three (the phase hook).
#  2. luksFormat, luksAddKey, luksChangeKey, luksRemoveKey on an ordinary disk.
#  3. format + add-key on the host-managed null_blk: zcryptsetup alone (stock cannot), with
#     the bytes read and written and zones reset that --debug reports.
. /zc/volume_checks.sh

BENCH_ROUNDS=${ZC_BENCH_OPS_ROUNDS:-8}
UPDATE_ROUNDS=${ZC_BENCH_OPS_UPDATE_ROUNDS:-5}
PHASE_ROUNDS=${ZC_BENCH_OPS_PHASE_ROUNDS:-6}

# now_us: microseconds since boot. busybox date has no %N and /proc/uptime counts in 10 ms
# steps, a coarse grain against an open of about 500 ms; the first line of /proc/timer_list
# ("now at N nsecs") gives the kernel's clock to the nanosecond.
CLOCK="/proc/uptime (10 ms steps)"
now_us() { awk '{ printf "%d", $1 * 1000000 }' /proc/uptime; }
if date +%s%N 2>/dev/null | grep -qv N; then
  CLOCK="date +%s%N"
  now_us() { _ns=$(date +%s%N); echo $((_ns / 1000)); }
elif grep -q '^now at [0-9]* nsecs' /proc/timer_list 2>/dev/null; then
  CLOCK="/proc/timer_list"
  now_us() { awk '/^now at/ { printf "%d", $3 / 1000; exit }' /proc/timer_list; }
fi

# stat_field DEV N: field N of the drive's stat file (3 sectors read, 7 sectors written).
stat_field() { awk -v f="$2" '{ print $f }' "/sys/block/${1#/dev/}/stat"; }

# Accumulators, one per tool and figure: T_<key> microseconds, R_<key>/W_<key> sectors, and
# L_<key> the time of each run, in order (one per round).
T_reset() { eval "T_$1=0 R_$1=0 W_$1=0 L_$1=''"; }
# timed KEY DEV CMD...: runs CMD (passphrase on stdin), adds its time and the drive's sectors.
timed() {
  _key=$1 _dev=$2
  shift 2
  _r0=$(stat_field "$_dev" 3) _w0=$(stat_field "$_dev" 7) _t0=$(now_us)
  printf %s "$ZC_PASS" | "$@" >/dev/null 2>&1
  _rc=$?
  _t1=$(now_us) _r1=$(stat_field "$_dev" 3) _w1=$(stat_field "$_dev" 7)
  eval "L_$_key=\"\$L_$_key $((_t1 - _t0))\""
  eval "T_$_key=\$((T_$_key + _t1 - _t0)) R_$_key=\$((R_$_key + _r1 - _r0)) W_$_key=\$((W_$_key + _w1 - _w0))"
  return $_rc
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# median_ratio "A1 A2 ..." "B1 B2 ...": the median of the rounds' ratios Ai/Bi. One stalled
# round (the guest's timer, a host hiccup) moves the ratio of the sums by up to 0.2; it moves the
# median little.
median_ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); m = 0
    for (i = 1; i <= n; i++) if (y[i] > 0) r[++m] = x[i] / y[i]
    if (m == 0) { print "n/a"; exit }
    for (i = 2; i <= m; i++) { v = r[i]; for (j = i - 1; j >= 1 && r[j] > v; j--) r[j + 1] = r[j]; r[j + 1] = v }
    printf "%.2f", (m % 2) ? r[(m + 1) / 2] : (r[m / 2] + r[m / 2 + 1]) / 2
  }'
}
# figure WHAT ZCKEY STOCKKEY: one line, time ratio (of the sums, and the median of the rounds)
# and bytes of each tool.
figure() {
  eval "_tz=\$T_$2 _ts=\$T_$3 _rz=\$R_$2 _rs=\$R_$3 _wz=\$W_$2 _ws=\$W_$3 _lz=\$L_$2 _ls=\$L_$3"
  info "FIGURE $1: zcryptsetup/stock time $(ratio "$_tz" "$_ts") ($((_tz / 1000)) ms vs $((_ts / 1000)) ms, median of rounds $(median_ratio "$_lz" "$_ls")); read KiB $((_rz / 2)) vs $((_rs / 2)); written KiB $((_wz / 2)) vs $((_ws / 2))"
}

info "clock: $CLOCK"
check "load dm-crypt" load_dm_crypt

# --- 1. read-only verbs on a host-managed drive ---
hm=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$hm"
check "format it" zc_format "$hm"
for k in zo so zc sc zs ss zd sd zv sv; do T_reset $k; done
# tools_in_order I: "s z" in even rounds, "z s" in odd ones, so that neither tool always runs
# first after the caches are dropped (the first of a pair pays for a cold guest more often).
tools_in_order() { if [ $(($1 % 2)) -eq 0 ]; then echo "s z"; else echo "z s"; fi; }
tool_cmd() { if [ "$1" = z ]; then echo zcryptsetup; else echo cryptsetup; fi; }
# The floor: tests/bench/open_floor.c, the least an open of this volume must do (the zone
# report, the lock, home's headers and the journal's seqid, libcryptsetup's load and unlock),
# in plain C. zcryptsetup's open does all of it and more, so floor/stock is the lowest
# zcryptsetup/stock this guest can show. Left out of the rounds when the image has none.
FLOOR=
[ ! -x /zc/open_floor ] || FLOOR=f
# open_order I: the two tools and the floor, each first in every third round.
open_order() { case $(($1 % 3)) in 0) echo "s z $FLOOR" ;; 1) echo "z $FLOOR s" ;; *) echo "$FLOOR s z" ;; esac; }
# open_argv TOOL: the open each runs (the passphrase on standard input), as words.
open_argv() {
  case $1 in
    s) echo "cryptsetup open --type luks2 --key-file - $hm b_ops" ;;
    z) echo "zcryptsetup open --key-file - $hm b_ops" ;;
    f) echo "/zc/open_floor $hm b_ops" ;;
  esac
}
T_reset fo
opened_s=0 opened_z=0 opened_f=0
i=0
while [ $i -lt "$BENCH_ROUNDS" ]; do
  for tool in $(open_order $i); do
    echo 3 >/proc/sys/vm/drop_caches
    # shellcheck disable=SC2046  # the open's words, split on purpose
    timed ${tool}o "$hm" $(open_argv $tool) && eval "opened_$tool=\$((opened_$tool + 1))"
    if [ $tool = f ]; then
      cryptsetup close b_ops
      continue
    fi
    cmd=$(tool_cmd $tool)
    timed ${tool}s "$hm" $cmd status b_ops
    timed ${tool}c "$hm" $cmd close b_ops
  done
  for tool in $(tools_in_order $i); do
    echo 3 >/proc/sys/vm/drop_caches
    timed ${tool}d "$hm" $(tool_cmd $tool) luksDump "$hm"
  done
  for tool in $(tools_in_order $i); do
    timed ${tool}v "$hm" $(tool_cmd $tool) --version
  done
  i=$((i + 1))
done
check "every open of both tools worked" test $((opened_s + opened_z)) -eq $((2 * BENCH_ROUNDS))
check "open on host-managed reads no more than stock ($((R_zo / 2)) vs $((R_so / 2)) KiB)" test "$R_zo" -le "$R_so"
figure "open (host-managed, $BENCH_ROUNDS rounds)" zo so
if [ -n "$FLOOR" ]; then
  check "the floor opened the volume in every round ($opened_f of $BENCH_ROUNDS)" test "$opened_f" -eq "$BENCH_ROUNDS"
  check "the floor reads no more than stock ($((R_fo / 2)) vs $((R_so / 2)) KiB)" test "$R_fo" -le "$R_so"
  figure "open floor (the least a host-managed open does, same rounds)" fo so
else
  skip "the floor's open" "no /zc/open_floor (a sanitizer build does not build it)"
fi
figure "close" zc sc
figure "status" zs ss
figure "luksDump" zd sd
figure "start-up (--version)" zv sv
# Where an open's time goes, phase by phase, both tools in the same rounds: the phase hook
# (tests/bench/phase_hook.cc), preloaded, notes when each process reaches the libcryptsetup
# calls both make; tests/vm/guest/phases.sh cuts the run there. Separate rounds, so that the
# timed ones above run the tools exactly as users do.
if [ -r /zc/phase_hook.so ]; then
  . /zc/phases.sh
  i=0 phased=0 phase_tools=0
  while [ $i -lt "$PHASE_ROUNDS" ]; do
    for tool in $(open_order $i); do
      phase_tools=$((phase_tools + 1))
      echo 3 >/proc/sys/vm/drop_caches
      rm -f /tmp/phase.log
      _t0=$(now_us)
      # shellcheck disable=SC2046,SC2091  # the open's words, split and run on purpose
      printf %s "$ZC_PASS" | LD_PRELOAD=/zc/phase_hook.so ZC_PHASE_LOG=/tmp/phase.log \
        $(open_argv $tool) >/dev/null 2>&1
      _rc=$?
      _t1=$(now_us)
      cryptsetup close b_ops
      _ph=$(phase_split "$_t0" "$_t1" "$(cat /tmp/phase.log 2>/dev/null)")
      if [ $_rc -eq 0 ] && [ -n "$_ph" ]; then phase_add $tool "$_ph" && phased=$((phased + 1)); fi
    done
    i=$((i + 1))
  done
  # The hook must not break an open: each round's open succeeded and reached every mark.
  check "every open with the phase hook ran to the end ($phased of $phase_tools)" test "$phased" -eq "$phase_tools"
  info "FIGURE open phases (host-managed, medians of $PHASE_ROUNDS rounds, ms, zcryptsetup vs stock): $(phase_figure z s)"
  [ -z "$FLOOR" ] ||
    info "FIGURE open phases (the same rounds, ms, floor vs stock): $(phase_figure f s)"
fi
# Where the time goes, when strace is in the image (ZC_VM_EXTRA_BINS=strace): syscall counts.
if command -v strace >/dev/null; then
  for tool in cryptsetup zcryptsetup; do
    printf %s "$ZC_PASS" | strace -f -c -o /tmp/strace.$tool $tool open --key-file - "$hm" b_ops >/dev/null 2>&1
    $tool close b_ops
    info "strace $tool open: $(sort -k4 -n -r /tmp/strace.$tool | awk 'NR<=14 && $NF != "total" { printf "%s=%s ", $NF, $4 }') total=$(awk '$NF == "total" { print $3 }' /tmp/strace.$tool)"
  done
  if [ -n "${ZC_BENCH_TRACE:-}" ]; then
    for tool in cryptsetup zcryptsetup; do
      printf %s "$ZC_PASS" | strace -f -r -o /tmp/strace.trace $tool open --key-file - "$hm" b_ops >/dev/null 2>&1
      $tool close b_ops
      while read -r line; do info "TRACE-$tool $line"; done </tmp/strace.trace
    done
  fi
fi
remove_nullb "$hm"

# --- 2. updates on an ordinary disk ---
# A memory-backed null_blk that is not zoned: an ordinary disk that, unlike brd, keeps I/O
# statistics.
ram=$(make_nullb_zoned zoned=0 gb=1 bs=4096)
check "ordinary disk created" test -b "$ram"
for k in zf sf za sa zk sk zr sr; do T_reset $k; done
NEWPASS=zc-second-passphrase
printf %s "$NEWPASS" >/tmp/newkey
printf %s "zc-third-passphrase" >/tmp/thirdkey
ok=0
i=0
while [ $i -lt "$UPDATE_ROUNDS" ]; do
  # shellcheck disable=SC2086
  for tool in $(tools_in_order $i); do
    cmd=$(tool_cmd $tool)
    timed ${tool}f $ram $cmd luksFormat -q --type luks2 $ZC_FAST_PBKDF --key-file - $ram &&
      timed ${tool}a $ram $cmd luksAddKey $ZC_FAST_PBKDF --key-file - $ram /tmp/newkey &&
      timed ${tool}k $ram $cmd luksChangeKey $ZC_FAST_PBKDF --key-file /tmp/newkey $ram /tmp/thirdkey &&
      timed ${tool}r $ram $cmd luksRemoveKey $ram /tmp/thirdkey && ok=$((ok + 1))
  done
  i=$((i + 1))
done
check "every update of both tools worked" test "$ok" -eq $((2 * UPDATE_ROUNDS))
figure "luksFormat (ordinary disk, $UPDATE_ROUNDS rounds)" zf sf
figure "luksAddKey (ordinary disk)" za sa
figure "luksChangeKey (ordinary disk)" zk sk
figure "luksRemoveKey (ordinary disk)" zr sr
# Bytes, unlike time, do not drift: each update on an ordinary disk reads and writes no more
# than stock's (the drive's own counters, summed over the rounds). luksRemoveKey is allowed its
# own read of the headers (32 KiB a round), a known excess: stock's reads are libcryptsetup's
# alone, which zcryptsetup's removal repeats exactly after reading the headers itself.
for pair in f:luksFormat:0 a:luksAddKey:0 k:luksChangeKey:0 r:luksRemoveKey:64; do
  k=${pair%%:*} verb=${pair#*:} extra=${pair##*:}
  verb=${verb%:*}
  eval "_rz=\$R_z$k _rs=\$R_s$k _wz=\$W_z$k _ws=\$W_s$k"
  _allowed=$((_rs + extra * UPDATE_ROUNDS))
  check "$verb on an ordinary disk reads no more than stock$([ "$extra" -eq 0 ] || echo " and its header read") ($((_rz / 2)) vs $((_rs / 2)) KiB)" test "$_rz" -le "$_allowed"
  check "$verb on an ordinary disk writes no more than stock ($((_wz / 2)) vs $((_ws / 2)) KiB)" test "$_wz" -le "$_ws"
done
check "stock opens what zcryptsetup left" sh -c "printf %s '$ZC_PASS' | cryptsetup open --test-passphrase --key-file - $ram"
remove_nullb "$ram"

# --- 3. updates on a host-managed drive: zcryptsetup's own cost ---
hm=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
for k in hf ha; do T_reset $k; done
ok=0
i=0
# shellcheck disable=SC2086
while [ $i -lt 3 ]; do
  timed hf "$hm" zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$hm" &&
    timed ha "$hm" zcryptsetup luksAddKey $ZC_FAST_PBKDF --key-file - "$hm" /tmp/newkey &&
    ok=$((ok + 1))
  i=$((i + 1))
done
check "format and add-key on host-managed" test "$ok" -eq 3
info "FIGURE luksFormat (host-managed, 3 rounds): $((T_hf / 1000)) ms; read KiB $((R_hf / 2)); written KiB $((W_hf / 2))"
info "FIGURE luksAddKey (host-managed, 3 rounds): $((T_ha / 1000)) ms; read KiB $((R_ha / 2)); written KiB $((W_ha / 2))"
# shellcheck disable=SC2086
out=$(printf %s "$ZC_PASS" | zcryptsetup luksAddKey --debug $ZC_FAST_PBKDF --key-file - "$hm" /tmp/thirdkey 2>&1)
check "a key change reports what it read, wrote and reset" sh -c "echo \"\$1\" | grep -q 'I/O on .*read .* bytes.*zones reset: 1 (offset'" _ "$out"
info "FIGURE add-key I/O (--debug): $(echo "$out" | grep -E 'bytes read|zones reset' | tr '\n' ' ')"
remove_nullb "$hm"
