# shellcheck shell=dash
# Guest-side helpers for the zcryptsetup VM suites. Sourced by /init and by each suite;
# POSIX sh as busybox ash runs it (no bashisms; busybox awk has no strtonum).
#
# Result lines, one per check, read by tests/vm/run.sh on the host:
#   ZC-RESULT PASS <suite>: <name>
#   ZC-RESULT FAIL <suite>: <name>      followed by the command's output, indented
#   ZC-RESULT SKIP <suite>: <name> (reason)   not counted as passed or failed
# ZC_SUITE is set by /init to the running suite's name.
#
# Checks (CMD may be a program or a shell function; it inherits stdin, so
# `echo -n pass | check NAME cryptsetup ... --key-file -` works):
#   check NAME CMD...                 PASS if CMD exits 0
#   check_exit CODE NAME CMD...       PASS if CMD exits with status CODE; CODE may be "nonzero"
#   check_output NAME PATTERN CMD...  PASS if CMD's stdout+stderr matches grep -E PATTERN
#                                     (exit status ignored; use check for that)
#   skip NAME REASON                  prints a SKIP line
#   info TEXT...                      prints "ZC-INFO <suite>: TEXT" (not a result)
# Drives (each make_* prints the /dev path on stdout, diagnostics on stderr, non-zero on error):
#   make_nullb_zoned [key=value...]   null_blk; defaults zoned=1 zone_size=64 (MiB)
#                                     zone_nr_conv=0 gb=2 bs=4096 memory_backed=1; any null_blk
#                                     attribute works (zone_capacity, zone_max_open,
#                                     zone_max_active, irqmode, completion_nsec, zoned=0, ...).
#                                     Uses configfs, so several can coexist; falls back to
#                                     module parameters (one device) without configfs.
#                                     The name is the kernel's: Debian's 6.1.0-56 names configfs
#                                     disks after the directory (/dev/zc0, zc1...), older ones
#                                     /dev/nullbN; use what it prints.
#   remove_nullb DEV
#   make_brd [SIZE_MB]                /dev/ram0, default 256 MiB (one at a time)
#   remove_brd
#   make_scsi_debug [PARAM=VALUE...]  loads sd_mod then scsi_debug with the params, prints
#                                     /dev/sdX (one line per disk if it makes several)
#   remove_scsi_debug
#   load_dm_crypt                     dm-mod, dm-crypt and the xts/aes-ni crypto modules
#   dm_exists NAME                    true if the device-mapper mapping NAME exists
#   zc_cleanup_all                    removes every mapping and emulated drive (init calls it
#                                     after each suite)
# Kernel log:
#   dmesg_mark                        writes a marker into the kernel log
#   dmesg_since_mark                  prints the kernel log after the last marker
#   check_no_io_errors NAME           FAIL if the log since the mark has "I/O error" lines
# Zones (ZONE_INDEX counts from 0; values in 512-byte sectors):
#   zone_wp DEV ZONE_INDEX            write pointer relative to the zone start
#   zone_cond DEV ZONE_INDEX          condition as blkzone abbreviates it: nw em oi eo cl ro fu ol
#   zone_type DEV ZONE_INDEX          CONVENTIONAL, SEQ_WRITE_REQUIRED or SEQ_WRITE_PREFERRED
#   zone_sectors DEV                  zone size

: "${ZC_SUITE:=unknown}"
ZC_CHECK_MAX_LINES=${ZC_CHECK_MAX_LINES:-40}

# ---------------------------------------------------------------- results

# _zc_fail_details FILE STATUS CMD...: the failing command, its status and its output.
_zc_fail_details() {
  _zc_f=$1 _zc_st=$2
  shift 2
  echo "    command: $*"
  echo "    exit status: $_zc_st"
  _zc_n=$(wc -l < "$_zc_f")
  head -n "$ZC_CHECK_MAX_LINES" "$_zc_f" | sed 's/^/    | /'
  if [ "$_zc_n" -gt "$ZC_CHECK_MAX_LINES" ]; then
    echo "    | ... ($((_zc_n - ZC_CHECK_MAX_LINES)) more lines)"
  fi
}

_zc_pass() { echo "ZC-RESULT PASS $ZC_SUITE: $1"; }
_zc_fail() { echo "ZC-RESULT FAIL $ZC_SUITE: $1"; }

check() {
  local name out st
  name=$1; shift
  out=$(mktemp /tmp/zc-check.XXXXXX)
  "$@" >"$out" 2>&1
  st=$?
  if [ "$st" -eq 0 ]; then
    _zc_pass "$name"
  else
    _zc_fail "$name"
    _zc_fail_details "$out" "$st" "$@"
  fi
  rm -f "$out"
  return "$st"
}

check_exit() {
  local want name out st ok
  want=$1 name=$2; shift 2
  out=$(mktemp /tmp/zc-check.XXXXXX)
  "$@" >"$out" 2>&1
  st=$?
  ok=0
  if [ "$want" = nonzero ]; then
    [ "$st" -ne 0 ] && ok=1
  elif [ "$st" -eq "$want" ]; then
    ok=1
  fi
  if [ "$ok" = 1 ]; then
    _zc_pass "$name"
  else
    _zc_fail "$name"
    echo "    expected exit status: $want"
    _zc_fail_details "$out" "$st" "$@"
  fi
  rm -f "$out"
  [ "$ok" = 1 ]
}

check_output() {
  local name pattern out st ok
  name=$1 pattern=$2; shift 2
  out=$(mktemp /tmp/zc-check.XXXXXX)
  "$@" >"$out" 2>&1
  st=$?
  if grep -Eq -- "$pattern" "$out"; then
    ok=1
    _zc_pass "$name"
  else
    ok=0
    _zc_fail "$name"
    echo "    expected output matching: $pattern"
    _zc_fail_details "$out" "$st" "$@"
  fi
  rm -f "$out"
  [ "$ok" = 1 ]
}

skip() { echo "ZC-RESULT SKIP $ZC_SUITE: $1 (${2:-no reason given})"; }
info() { echo "ZC-INFO $ZC_SUITE: $*"; }

# ---------------------------------------------------------------- kernel log

ZC_DMESG_MARK=

dmesg_mark() {
  # A unique string in the kernel log; written to /dev/kmsg, so it keeps its place in order
  # with the kernel's own messages. printk=1 keeps it off the console.
  ZC_DMESG_MARK="ZC-MARK $ZC_SUITE $$ $(date +%s) $(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  echo "$ZC_DMESG_MARK" > /dev/kmsg
}

dmesg_since_mark() {
  if [ -z "$ZC_DMESG_MARK" ]; then
    dmesg
  else
    dmesg | awk -v m="$ZC_DMESG_MARK" 'seen { print } index($0, m) { seen = 1 }'
  fi
}

check_no_io_errors() {
  local name out
  name=$1
  out=$(mktemp /tmp/zc-check.XXXXXX)
  dmesg_since_mark | grep 'I/O error' >"$out"
  if [ -s "$out" ]; then
    _zc_fail "$name"
    echo "    kernel log since the mark has I/O errors:"
    _zc_fail_details "$out" 1 "dmesg since mark | grep 'I/O error'"
    rm -f "$out"
    return 1
  fi
  _zc_pass "$name"
  rm -f "$out"
}

# ---------------------------------------------------------------- modules, mappings

load_dm_crypt() {
  # modprobe does not know the on-demand crypto modules are needed; load them ourselves.
  modprobe dm-mod && modprobe dm-crypt || return 1
  local m
  for m in xts aesni-intel essiv af_alg algif_skcipher algif_hash; do
    modprobe "$m" 2>/dev/null
  done
  return 0
}

dm_exists() { dmsetup info "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- null_blk

ZC_NULLB_CFS=/sys/kernel/config/nullb

# Loads null_blk without a default device and mounts configfs; true if configfs is usable.
_zc_nullb_configfs() {
  if [ ! -d /sys/module/null_blk ]; then
    modprobe null_blk nr_devices=0 >/dev/null 2>&1 || return 1
  fi
  if [ ! -d "$ZC_NULLB_CFS" ]; then
    modprobe configfs >/dev/null 2>&1
    grep -q ' /sys/kernel/config ' /proc/mounts ||
      mount -t configfs configfs /sys/kernel/config 2>/dev/null
  fi
  [ -d "$ZC_NULLB_CFS" ]
}

# _zc_wait_for PATH [TENTHS]: waits for a file to exist (default 10 s).
_zc_wait_for() {
  local i=0 max="${2:-100}"
  while [ ! -e "$1" ]; do
    [ "$i" -ge "$max" ] && return 1
    sleep 0.1
    i=$((i + 1))
  done
}

make_nullb_zoned() {
  # Defaults first; later key=value pairs (the caller's) override earlier ones.
  local params kv key val dir n dev
  params="zoned=1 zone_size=64 zone_nr_conv=0 gb=2 bs=4096 memory_backed=1 $*"
  if _zc_nullb_configfs; then
    n=0
    while [ -e "$ZC_NULLB_CFS/zc$n" ]; do n=$((n + 1)); done
    dir=$ZC_NULLB_CFS/zc$n
    mkdir "$dir" || return 1
    for kv in $params; do
      key=${kv%%=*} val=${kv#*=}
      # Module parameter names that configfs spells differently.
      case "$key" in
        gb) key=size val=$((val * 1024)) ;;   # configfs size is in MiB
        bs) key=blocksize ;;
      esac
      if [ ! -e "$dir/$key" ]; then
        echo "make_nullb_zoned: null_blk has no attribute '$key'" >&2
        rmdir "$dir"; return 1
      fi
      if ! echo "$val" > "$dir/$key"; then
        echo "make_nullb_zoned: cannot set $key=$val" >&2
        rmdir "$dir"; return 1
      fi
    done
    if ! echo 1 > "$dir/power"; then
      echo "make_nullb_zoned: power on failed (check dmesg)" >&2
      rmdir "$dir"; return 1
    fi
    # 6.1 names the disk nullb<index>; later kernels may use the configfs directory name.
    dev=/dev/nullb$(cat "$dir/index")
    [ -e /dev/zc$n ] && [ ! -e "$dev" ] && dev=/dev/zc$n
    _zc_wait_for "$dev" || { echo "make_nullb_zoned: $dev did not appear" >&2; return 1; }
    echo "$dev"
    return 0
  fi
  # Fallback: module parameters; one device per module load.
  if [ -d /sys/module/null_blk ]; then
    rmmod null_blk || { echo "make_nullb_zoned: null_blk in use, no configfs" >&2; return 1; }
  fi
  # shellcheck disable=SC2086
  modprobe null_blk nr_devices=1 $params || return 1
  _zc_wait_for /dev/nullb0 || return 1
  echo /dev/nullb0
}

remove_nullb() {
  local dev d
  dev=$1
  for d in "$ZC_NULLB_CFS"/*; do
    [ -f "$d/index" ] || continue
    if [ "/dev/nullb$(cat "$d/index")" = "$dev" ] || [ "/dev/$(basename "$d")" = "$dev" ]; then
      echo 0 > "$d/power" 2>/dev/null
      rmdir "$d"
      return $?
    fi
  done
  # Made through module parameters: unload the module.
  [ -d /sys/module/null_blk ] && rmmod null_blk
}

# ---------------------------------------------------------------- brd

make_brd() {
  local mb="${1:-256}"
  if [ -d /sys/module/brd ]; then
    rmmod brd || { echo "make_brd: brd already loaded and in use" >&2; return 1; }
  fi
  modprobe brd rd_nr=1 rd_size=$((mb * 1024)) max_part=0 || return 1   # rd_size in KiB
  _zc_wait_for /dev/ram0 || return 1
  echo /dev/ram0
}

remove_brd() { [ ! -d /sys/module/brd ] || rmmod brd; }

# ---------------------------------------------------------------- scsi_debug

make_scsi_debug() {
  local i found b
  # No udev: sd_mod must be present before the scsi_debug host scans, or no disk attaches.
  modprobe sd_mod || return 1
  if [ -d /sys/module/scsi_debug ]; then
    echo "make_scsi_debug: scsi_debug already loaded; remove_scsi_debug first" >&2
    return 1
  fi
  modprobe scsi_debug "$@" || return 1
  # The disk shows up asynchronously; TCG is slow, so allow 30 s.
  i=0
  while :; do
    found=
    for b in /sys/bus/pseudo/drivers/scsi_debug/adapter*/host*/target*/*/block/*; do
      [ -e "$b" ] && found="$found /dev/$(basename "$b")"
    done
    if [ -n "$found" ]; then
      for b in $found; do _zc_wait_for "$b" || return 1; echo "$b"; done
      return 0
    fi
    [ "$i" -ge 300 ] && { echo "make_scsi_debug: no disk appeared" >&2; return 1; }
    sleep 0.1
    i=$((i + 1))
  done
}

remove_scsi_debug() {
  [ -d /sys/module/scsi_debug ] || return 0
  local i=0
  # The sd device may still be settling right after use; retry for a few seconds.
  until rmmod scsi_debug 2>/dev/null; do
    [ "$i" -ge 50 ] && { rmmod scsi_debug; return 1; }
    sleep 0.1
    i=$((i + 1))
  done
}

# ---------------------------------------------------------------- zones

# /sys/block/<name> for a /dev path (follows /dev/mapper symlinks to dm-N).
_zc_sysblock() { echo "/sys/block/$(basename "$(readlink -f "$1")")"; }

zone_sectors() { cat "$(_zc_sysblock "$1")/queue/chunk_sectors"; }

# _zc_zone_line DEV IDX: the blkzone report line of zone IDX, e.g.
#   start: 0x000020000, len 0x020000, cap 0x020000, wptr 0x000008 reset:0 non-seq:0, zcond: 2(oi) [type: 2(SEQ_WRITE_REQUIRED)]
_zc_zone_line() {
  local zs line
  zs=$(zone_sectors "$1") || return 1
  [ "$zs" -gt 0 ] 2>/dev/null || { echo "$1: not zoned" >&2; return 1; }
  line=$(blkzone report -o $(($2 * zs)) -c 1 "$1" | grep 'start:') || return 1
  [ -n "$line" ] || return 1
  echo "$line"
}

zone_wp() {
  local line hex
  line=$(_zc_zone_line "$1" "$2") || return 1
  hex=$(echo "$line" | sed -n 's/.*wptr 0x\([0-9a-fA-F]*\).*/\1/p')
  [ -n "$hex" ] || return 1
  echo $((0x$hex))
}

zone_cond() {
  local line
  line=$(_zc_zone_line "$1" "$2") || return 1
  echo "$line" | sed -n 's/.*zcond: *[0-9]*(\([a-z]*\)).*/\1/p'
}

zone_type() {
  local line
  line=$(_zc_zone_line "$1" "$2") || return 1
  echo "$line" | sed -n 's/.*type: *[0-9]*(\([A-Z_]*\)).*/\1/p'
}

# ---------------------------------------------------------------- cleanup

zc_cleanup_all() {
  local d
  if [ -d /sys/module/dm_mod ]; then
    dmsetup remove_all --force >/dev/null 2>&1
  fi
  for d in "$ZC_NULLB_CFS"/*; do
    [ -d "$d" ] || continue
    echo 0 > "$d/power" 2>/dev/null
    rmdir "$d" 2>/dev/null
  done
  for d in null_blk brd scsi_debug; do
    [ -d "/sys/module/$d" ] && rmmod "$d" 2>/dev/null
  done
  return 0
}
