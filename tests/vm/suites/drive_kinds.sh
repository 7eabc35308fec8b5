# shellcheck shell=dash
# The same user story on every kind of drive the kernel can emulate: SCSI ZBC host-managed and
# host-aware (scsi_debug), null_blk host-managed with and without conventional zones, ZNS-like
# (zone capacity below zone size, 4 open/active zones), 512-byte blocks, an ordinary disk
# (brd), and zones too small for the default metadata: one line each in the drive table
# (drive_table below), which one loop runs. Each drive is created, tested and removed in turn:
#   layout (the plan) and luksFormat --dry-run write nothing; luksFormat places the copies as
#   planned; stock cryptsetup reads and opens the volume; zcryptsetup opens it inline; data
#   round-trips; with every active zone held by data zones (ZNS-like) luksAddKey refuses with
#   exit 5 and changes nothing; luksAddKey rewrites the metadata zones only; stock cryptsetup
#   accepts the new key; the data still reads back; no kernel I/O errors. 4 KiB drives refuse
#   --sector-size 512. Zones of 2 MiB are refused (nothing written).
# The end prints a table (one row per drive, one column per step) as ZC-INFO lines.
. /zc/volume_checks.sh

STEPS="layout dryrun format stockopen inline data addkey stocknewkey dataafter noio"
KINDS=
MiB=1048576
ZERO_MD5=$(dd if=/dev/zero bs=1M count=1 2>/dev/null | md5sum | cut -d' ' -f1)
printf %s "$ZC_PASS" > /tmp/k1
printf %s "zc-second-key" > /tmp/k2

# ------------------------------------------------------------------ per-step status

# mark STEP RC: the step of the current drive ($K) fails if any of its checks failed.
mark() {
  _cur=
  eval "_cur=\${R_${K}_$1:-}"
  if [ "$2" -ne 0 ]; then
    eval "R_${K}_$1=FAIL"
  elif [ "$_cur" != FAIL ]; then
    eval "R_${K}_$1=PASS"
  fi
}
# ck STEP NAME CMD... / ck_exit STEP CODE NAME CMD... / ck_out STEP NAME PATTERN CMD...
# The lib.sh checks, named "<drive>: NAME", recorded under STEP. Never pipe into these (ash
# runs the last command of a pipeline in a subshell, and the mark would be lost).
ck() {
  _s=$1 _n=$2
  shift 2
  check "$K: $_n" "$@"
  _rc=$?
  mark "$_s" "$_rc"
  return "$_rc"
}
ck_exit() {
  _s=$1 _c=$2 _n=$3
  shift 3
  check_exit "$_c" "$K: $_n" "$@"
  _rc=$?
  mark "$_s" "$_rc"
  return "$_rc"
}
ck_out() {
  _s=$1 _n=$2 _p=$3
  shift 3
  check_output "$K: $_n" "$_p" "$@"
  _rc=$?
  mark "$_s" "$_rc"
  return "$_rc"
}

# ------------------------------------------------------------------ drive state

# zone_table DEV: one line per zone, "INDEX TYPE COND WP" (WP in sectors, relative), from a
# single report (busybox awk has no strtonum, so the shell converts the hex).
zone_table() {
  blkzone report "$1" |
    sed -n 's/.*wptr 0x\([0-9a-fA-F]*\).*zcond: *[0-9]*(\([a-z]*\)).*type: *[0-9]*(\([A-Z_]*\)).*/\1 \2 \3/p' |
    {
      _i=0
      while read -r _wp _c _t; do
        echo "$_i $_t $_c $((0x$_wp))"
        _i=$((_i + 1))
      done
    }
}
# md5_mib DEV MIB: checksum of the 1 MiB at MIB.
md5_mib() { dd if="$1" bs=1M skip="$2" count=1 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
# snap: what luksFormat could touch on $DEV. On a zoned drive: the zone report (a write to a
# sequential zone moves its write pointer, a reset or finish changes its condition) and, for
# each conventional zone up to the data zone, a checksum of its first 17 MiB (a whole metadata
# copy) or, for the data zone, of its first MiB. On an ordinary disk: the first 20 MiB.
snap() {
  if [ "$ZONED" = 1 ]; then
    zone_table "$DEV" > /tmp/snap.zt
    cat /tmp/snap.zt
    echo "MiB 0: $(md5_mib "$DEV" 0)"
    while read -r _i _t _c _wp; do
      [ "$_i" -le "$DZ" ] || break
      [ "$_t" = CONVENTIONAL ] || continue
      _n=17
      [ "$_n" -gt "$ZMIB" ] && _n=$ZMIB
      [ "$_i" -eq "$DZ" ] && _n=1
      echo "conventional zone $_i, first $_n MiB:" \
        "$(dd if="$DEV" bs=1M skip=$((_i * ZMIB)) count="$_n" iflag=direct 2>/dev/null | md5sum)"
    done < /tmp/snap.zt
  else
    echo "MiB 0..19: $(dd if="$DEV" bs=1M count=20 iflag=direct 2>/dev/null | md5sum)"
  fi
}
# unchanged SNAPFILE: $DEV is as the snapshot says.
unchanged() {
  snap > /tmp/snap.now
  cmp -s "$1" /tmp/snap.now && return 0
  echo "drive changed:"
  diff "$1" /tmp/snap.now
  return 1
}
# meta_zones_ok: every zone before the data segment is FULL (sequential: reset, append, finish)
# or, if conventional, still "nw" (conventional zones are never reset or finished).
meta_zones_ok() {
  zone_table "$DEV" > /tmp/zt
  _bad=0
  while read -r _i _t _c _wp; do
    [ "$_i" -lt "$DZ" ] || break
    case $_t in
      CONVENTIONAL) [ "$_c" = nw ] || { echo "zone $_i conventional but $_c"; _bad=1; } ;;
      *) [ "$_c" = fu ] || { echo "zone $_i ($_t) is $_c wp $_wp, want fu"; _bad=1; } ;;
    esac
  done < /tmp/zt
  [ "$_bad" = 0 ] || cat /tmp/zt
  return "$_bad"
}
# data_untouched: nothing at or past the data offset was written: sequential zones empty with
# the write pointer at 0, the first MiB of conventional data zones (or, on an ordinary disk, of
# the data segment) still zero as the emulated drive started.
data_untouched() {
  _bad=0
  if [ "$ZONED" = 1 ]; then
    zone_table "$DEV" > /tmp/zt
    while read -r _i _t _c _wp; do
      [ "$_i" -ge "$DZ" ] || continue
      case $_t in
        CONVENTIONAL)
          [ "$(md5_mib "$DEV" $((_i * ZMIB)))" = "$ZERO_MD5" ] ||
            { echo "conventional data zone $_i: first MiB not zero"; _bad=1; } ;;
        *) [ "$_c" = em ] && [ "$_wp" -eq 0 ] ||
             { echo "data zone $_i ($_t): $_c wp $_wp, want em 0"; _bad=1; } ;;
      esac
    done < /tmp/zt
  else
    [ "$(md5_mib "$DEV" $((DOFF / MiB)))" = "$ZERO_MD5" ] ||
      { echo "first MiB of the data segment not zero"; _bad=1; }
  fi
  return "$_bad"
}
# data_zones_as FILE: the zones at and past the data offset are as in FILE (a zone_table).
data_zones_now() { zone_table "$DEV" | awk -v dz="$DZ" '$1 >= dz'; }
data_zones_as() {
  data_zones_now > /tmp/dz.now
  cmp -s "$1" /tmp/dz.now && return 0
  echo "data zones changed:"
  diff "$1" /tmp/dz.now
  return 1
}

# ------------------------------------------------------------------ layout text

# run_to FILE CMD...: CMD's stdout+stderr in FILE, its status returned (and FILE shown if not 0).
run_to() {
  _f=$1
  shift
  "$@" > "$_f" 2>&1 < /dev/null
  _st=$?
  [ "$_st" -eq 0 ] || cat "$_f"
  return "$_st"
}
# layout_ok FILE STATE: the placement FILE shows is the expected one for this drive ($MODEL,
# $ZMIB, $CAPMIB, $NZONES, $NCONV, $BS, $PLACE, $JOFF, $DOFF), "planned" or "on disk".
layout_ok() {
  _f=$1 _state=$2 _bad=0
  want() { grep -Eq -- "$1" "$_f" || { echo "no line matching: $1"; _bad=1; }; }
  unwanted() { ! grep -Eq -- "$1" "$_f" || { echo "unexpected line matching: $1"; _bad=1; }; }
  want "^ *Zone model: +$MODEL\$"
  if [ "$ZONED" = 1 ]; then
    want "^ *Zone size: +$ZMIB MiB \\(capacity $CAPMIB MiB, $NZONES zones[,)]"
    want "^ *Conventional: +$NCONV zones at LBA 0"
    want "^ *journal copy: +offset $JOFF \\(zone $((JOFF / (ZMIB * MiB)))\\)"
    want "^ *home copy: +offset 0 \\(zone 0\\)"
    want "^ *Data segment: +offset $DOFF \\(zone $DZ\\)\$"
  else
    unwanted "^ *(Zone size|Conventional):"
    unwanted "^ *journal copy: +offset"
    want "^ *home copy: +offset 0(\$|:)"
    want "^ *Data segment: +offset $DOFF\$"
  fi
  want "^ *Block size: +$BS bytes logical, $PBS physical"
  want "^ *Placement: +$PLACE \\($_state\\)"
  want "^ *Reserved: +$DOFF bytes before the data segment"
  [ "$_bad" = 0 ] || { echo "--- output:"; cat "$_f"; }
  return "$_bad"
}
# rows FILE: the "  Name: value" rows of a placement print-out.
rows() { grep -E '^  [A-Z][A-Za-z ]*: ' "$1"; }
same_rows() {
  rows "$1" > /tmp/rows.a
  rows "$2" > /tmp/rows.b
  cmp -s /tmp/rows.a /tmp/rows.b && [ -s /tmp/rows.a ] && return 0
  echo "rows differ (or are missing):"
  diff /tmp/rows.a /tmp/rows.b
  return 1
}
# placement_of FILE: the placement facts (model, placement, copy offsets, data offset) as
# key=value lines, whether FILE is a plan, a layout of a volume on disk or a luksDump.
placement_of() {
  sed -n -E \
    -e 's/^ *(Zone model|Zone size|Conventional|Block size|Data segment|Reserved): *(.*)$/\1=\2/p' \
    -e 's/^ *(home copy|journal copy): *(offset [0-9]+( \(zone [0-9]+\))?).*$/\1=\2/p' \
    -e 's/^ *Placement: +([a-z-]+).*$/Placement=\1/p' "$1"
}
same_placement() {
  placement_of "$1" > /tmp/pl.a
  placement_of "$2" > /tmp/pl.b
  cmp -s /tmp/pl.a /tmp/pl.b && [ -s /tmp/pl.a ] && return 0
  echo "placement differs: < $1, > $2"
  diff /tmp/pl.a /tmp/pl.b
  return 1
}
# size_text BYTES: as zcryptsetup writes sizes (GiB, MiB, KiB or bytes).
size_text() {
  if [ $(($1 % (1024 * MiB))) -eq 0 ]; then echo "$(($1 / 1024 / MiB)) GiB"
  elif [ $(($1 % MiB)) -eq 0 ]; then echo "$(($1 / MiB)) MiB"
  elif [ $(($1 % 1024)) -eq 0 ]; then echo "$(($1 / 1024)) KiB"
  else echo "$1 bytes"; fi
}
# stock_dump_ok: stock cryptsetup's luksDump reads the header: LUKS2, data segment at $DOFF,
# encryption sector = the drive's physical block size, at most 4096 and never below the
# logical one (docs/zcryptsetup.md, cryptsetup's rule; brd: 512 logical, 4096 physical), and the keyslots area: the
# default (16744448), or on zones too small for it ($SMALLKS=1) smaller, still room for 8
# keyslots of a 512-bit key (8 x 252 KiB), and copy (2 x 16 KiB headers + area + 4 KiB
# commit record) within one zone; zcryptsetup's luksDump names the same area size.
KS_DEFAULT=16744448
KS_MIN8=2064384
stock_dump_ok() {
  cryptsetup luksDump "$DEV" > /tmp/sdump 2>&1 || { cat /tmp/sdump; return 1; }
  _bad=0
  _sec=$PBS
  [ "$_sec" -lt "$BS" ] && _sec=$BS
  [ "$_sec" -gt 4096 ] && _sec=4096
  grep -Eq '^Version:[[:space:]]+2$' /tmp/sdump || { echo "not Version 2"; _bad=1; }
  grep -Eq "^[[:space:]]+offset:[[:space:]]+$DOFF \\[bytes\\]" /tmp/sdump ||
    { echo "no data segment offset $DOFF"; _bad=1; }
  grep -Eq "^[[:space:]]+sector:[[:space:]]+$_sec \\[bytes\\]" /tmp/sdump ||
    { echo "encryption sector is not $_sec"; _bad=1; }
  _ks=$(sed -n 's/^Keyslots area:[[:space:]]*\([0-9]*\) \[bytes\].*/\1/p' /tmp/sdump)
  KS=$_ks
  if [ -z "$_ks" ]; then
    echo "no keyslots area line"; _bad=1
  elif [ "$SMALLKS" = 1 ]; then
    [ "$_ks" -lt "$KS_DEFAULT" ] || { echo "keyslots area $_ks not below the default"; _bad=1; }
    [ "$_ks" -ge "$KS_MIN8" ] || { echo "keyslots area $_ks holds fewer than 8 keyslots"; _bad=1; }
    [ $((32768 + _ks + 4096)) -le $((CAPMIB * MiB)) ] ||
      { echo "copy of $((32768 + _ks + 4096)) bytes does not fit a $CAPMIB MiB zone"; _bad=1; }
  else
    [ "$_ks" -eq "$KS_DEFAULT" ] || { echo "keyslots area $_ks, want the default $KS_DEFAULT"; _bad=1; }
  fi
  if [ -n "$_ks" ]; then
    zcryptsetup luksDump "$DEV" > /tmp/zdump 2>&1
    grep -Eq "^ *Metadata: .*keyslots area $(size_text "$_ks")\\)" /tmp/zdump ||
      { echo "zcryptsetup luksDump does not say keyslots area $(size_text "$_ks")"; grep Metadata /tmp/zdump; _bad=1; }
  fi
  [ "$_bad" = 0 ] || cat /tmp/sdump
  return "$_bad"
}
# copies_agree: luksDump shows both copies valid with commit records and "Copies agree: yes".
copies_agree() {
  zcryptsetup luksDump "$DEV" > /tmp/zdump 2>&1
  _n=$(grep -cE '^ *(home|journal) copy: .*headers valid, commit record ok' /tmp/zdump)
  [ "$_n" -eq 2 ] && grep -Eq '^ *Copies agree: +yes' /tmp/zdump && return 0
  grep -E 'copy|agree' /tmp/zdump
  return 1
}
# inline_table NAME: the mapping runs without dm-crypt's workqueues.
inline_table() {
  dmsetup table "$1"
  table_has "$1" no_read_workqueue && table_has "$1" no_write_workqueue
}
# meta_snap: the metadata zones' report lines and the first MiB of each.
meta_snap() {
  zone_table "$DEV" | awk -v dz="$DZ" '$1 < dz'
  _z=0
  while [ "$_z" -lt "$DZ" ]; do
    echo "zone $_z first MiB $(md5_mib "$DEV" $((_z * ZMIB)))"
    _z=$((_z + 1))
  done
}
# active_data_zones: how many zones at or past the data segment hold an active resource
# (implicitly or explicitly open, or closed).
active_data_zones() { data_zones_now | awk '$3 ~ /^(oi|oe|cl)$/ { n++ } END { print n + 0 }'; }
# budget_used_up: the drive limits active zones and the data zones hold every one of them, so
# a metadata zone, once reset, could not be written again.
budget_used_up() {
  _max=$(cat "$(_zc_sysblock "$DEV")/queue/max_active_zones")
  _act=$(active_data_zones)
  echo "max_active_zones $_max, active data zones $_act"
  [ "$_max" -gt 0 ] && [ "$_act" -eq "$_max" ]
}
# addkey_when_busy: luksAddKey (key 3) with no active zone left for the metadata must refuse
# before any reset, as device busy: exit status 5 with a message naming the active zones, the
# metadata zones (report and first MiB of each) and the data zones unchanged, both copies
# valid and agreeing, and the key not added.
printf %s "zc-third-key" > /tmp/k3
addkey_when_busy() {
  meta_snap > /tmp/meta.before
  data_zones_now > /tmp/dz.busy
  # shellcheck disable=SC2086
  zcryptsetup luksAddKey --key-file /tmp/k1 $ZC_FAST_PBKDF "$DEV" /tmp/k3 > /tmp/busy.out 2>&1
  _st=$?
  echo "$_st" > /tmp/busy.st
  echo "luksAddKey exited $_st:"
  cat /tmp/busy.out
  _bad=0
  [ "$_st" -eq 5 ] || { echo "want exit status 5 (device busy)"; _bad=1; }
  grep -q 'active zones' /tmp/busy.out || { echo "no message about the active zones"; _bad=1; }
  meta_snap > /tmp/meta.after
  cmp -s /tmp/meta.before /tmp/meta.after ||
    { echo "the metadata zones changed:"; diff /tmp/meta.before /tmp/meta.after; _bad=1; }
  data_zones_as /tmp/dz.busy || _bad=1
  copies_agree || _bad=1
  ! cryptsetup open --type luks2 --test-passphrase --key-file /tmp/k3 "$DEV" 2>/dev/null ||
    { echo "the refused key opens the volume"; _bad=1; }
  return "$_bad"
}
add_key2() {
  # shellcheck disable=SC2086
  zcryptsetup luksAddKey --key-file /tmp/k1 $ZC_FAST_PBKDF "$DEV" /tmp/k2
}
newkey_opens() { cryptsetup open --type luks2 --test-passphrase --key-file /tmp/k2 "$DEV"; }
# write_data / read_data MAPPING: $DATA_MIB MiB at each MiB offset of $DATA_AT in the mapping
# (2 MiB at 0, or on the ZNS-like drive 1 MiB at the start of four data zones).
write_data() {
  for _o in $DATA_AT; do write_pattern zc_dk "$DATA_MIB" "$_o" || { echo "write at $_o MiB failed"; return 1; }; done
}
read_data() {
  _m=$1
  for _o in $DATA_AT; do read_pattern "$_m" "$DATA_MIB" "$_o" || { echo "read at $_o MiB differs"; return 1; }; done
}

# ------------------------------------------------------------------ one drive

# run_drive: the story on $DEV, with the expectations the drive table set:
#   K (row name), ZONED, MODEL, ZMIB, CAPMIB, NZONES, NCONV, BS, PLACE, JOFF, DOFF, SMALLKS,
#   DATA_AT, DATA_MIB, BUSY.
run_drive() {
  DZ=0
  [ "$ZONED" = 1 ] && DZ=$((DOFF / (ZMIB * MiB)))
  PBS=$(cat "$(_zc_sysblock "$DEV")/queue/physical_block_size")
  dmesg_mark
  snap > /tmp/snap.fresh

  # layout before format: the plan, and nothing written.
  ck layout "layout (plan) exits 0" run_to /tmp/plan zcryptsetup layout "$DEV"
  ck layout "layout shows the expected plan" layout_ok /tmp/plan planned
  ck layout "layout wrote nothing" unchanged /tmp/snap.fresh

  # luksFormat --dry-run: the same plan, and not one byte written.
  ck dryrun "luksFormat --dry-run exits 0" run_to /tmp/dry zcryptsetup luksFormat --dry-run "$DEV"
  ck dryrun "--dry-run prints the same plan as layout" same_rows /tmp/plan /tmp/dry
  ck dryrun "--dry-run with a key file and -q exits 0" \
    run_to /tmp/dry2 zcryptsetup luksFormat --dry-run -q --key-file /tmp/k1 "$DEV"
  ck dryrun "--dry-run wrote nothing" unchanged /tmp/snap.fresh
  check_exit 1 "$K: isLuks after --dry-run: still no LUKS header" zcryptsetup isLuks "$DEV"
  mark dryrun $?

  if [ "$BS" -ge 4096 ]; then
    ck_exit format 1 "--sector-size 512 on a $BS-byte-block drive is refused (exit 1)" \
      zc_format "$DEV" --sector-size 512
    ck format "... and wrote nothing" unchanged /tmp/snap.fresh
  fi

  # Format; the placement is the plan.
  ck format "zcryptsetup luksFormat" zc_format "$DEV"
  if [ "$ZONED" = 1 ]; then
    ck format "metadata zones 0..$((DZ - 1)): sequential FULL, conventional untouched (nw)" meta_zones_ok
  fi
  ck format "format wrote nothing at or past the data offset ($DOFF)" data_untouched
  ck format "zcryptsetup luksDump" run_to /tmp/dump zcryptsetup luksDump "$DEV"
  ck format "... luksDump: expected placement (on disk)" layout_ok /tmp/dump "on disk"
  ck format "... luksDump placement equals layout's plan" same_placement /tmp/plan /tmp/dump
  ck format "layout after format: on disk, same placement" run_to /tmp/ondisk zcryptsetup layout "$DEV"
  ck format "... layout shows it on disk" layout_ok /tmp/ondisk "on disk"

  # Stock cryptsetup reads and opens it.
  ck stockopen "stock luksDump: LUKS2, data offset, sector size, keyslots area" stock_dump_ok
  info "$K: keyslots area $KS bytes"
  ck stockopen "stock cryptsetup open" stock_open "$DEV" zc_stock
  ck stockopen "stock cryptsetup close" cryptsetup close zc_stock

  # zcryptsetup opens inline; data round trip (sequential, direct, at the write pointer).
  ck inline "zcryptsetup open --perf-force_inline" zc_open "$DEV" zc_dk --perf-force_inline
  ck inline "table has no_read_workqueue and no_write_workqueue" inline_table zc_dk
  ck data "write ${DATA_MIB} MiB at each of $DATA_AT MiB through the inline mapping" write_data
  ck data "... reads back" read_data zc_dk
  ck data "zcryptsetup close" zcryptsetup close zc_dk
  if [ "$ZONED" = 1 ]; then
    info "$K: data zones after the writes: $(data_zones_now | awk '$4 > 0 { printf "%s:%s:%s ", $1, $3, $4 }')"
  fi

  # Busy (ZNS-like): the data zones now hold all the active zones the drive allows. An update
  # needs one more, so it must refuse as device busy and change nothing. Then one data zone is
  # finished (as a filesystem does with a zone it is done with) and the update proper.
  if [ "$BUSY" = 1 ]; then
    info "$K: active data zones: $(active_data_zones);" \
      "max_active_zones $(cat "$(_zc_sysblock "$DEV")/queue/max_active_zones")," \
      "max_open_zones $(cat "$(_zc_sysblock "$DEV")/queue/max_open_zones")"
    ck addkey "the data zones hold every active zone the drive allows" budget_used_up
    ck addkey "luksAddKey with no active zone left: exit 5 (busy), message, nothing changed" \
      addkey_when_busy
    info "$K: luksAddKey with no active zone left exited $(cat /tmp/busy.st): $(tr '\n' ' ' < /tmp/busy.out)"
    _zs=$(zone_sectors "$DEV")
    ck addkey "finish the last written data zone (zone $((DZ + 3))) to free an active zone" \
      blkzone finish -o $(((DZ + 3) * _zs)) -c 1 "$DEV"
  fi

  # luksAddKey: metadata zones rewritten, data zones left alone.
  [ "$ZONED" = 1 ] && data_zones_now > /tmp/dz.before
  ck addkey "luksAddKey a second key" add_key2
  if [ "$ZONED" = 1 ]; then
    ck addkey "... metadata zones: sequential FULL, conventional nw" meta_zones_ok
    ck addkey "... data zones unchanged by the update" data_zones_as /tmp/dz.before
    ck addkey "... both copies valid and agree" copies_agree
  fi
  ck stocknewkey "stock cryptsetup open --test-passphrase with the new key" newkey_opens
  ck dataafter "stock cryptsetup open after the update" stock_open "$DEV" zc_after
  ck dataafter "... the data reads back" read_data zc_after
  ck dataafter "... close" cryptsetup close zc_after
  check_no_io_errors "$K: no kernel I/O errors on this drive"
  mark noio $?
  dmesg_since_mark | grep -iE 'error|fail|warn' | tail -10 | sed "s/^/    $K dmesg: /"
}

# row_for KIND: the drive's row; a step that never recorded a check is FAIL (it did not run).
TABLE_FMT='%-14s %-7s %-8s %-7s %-10s %-11s %-5s %-7s %-12s %-10s %-12s'
row_for() {
  _k=$1
  set --
  for _s in $STEPS; do
    _v=
    eval "_v=\${R_${_k}_$_s:-FAIL}"
    set -- "$@" "$_v"
  done
  # shellcheck disable=SC2059
  printf "$TABLE_FMT" "$_k" "$@"
}
begin_kind() { K=$1; KINDS="$KINDS $1"; }

# ------------------------------------------------------------------ the drives

# One line per drive, in the order they run; '#' lines and blank lines are comments. Columns:
#   kind       row name in the results table
#   maker      scsi_debug, null_blk or brd
#   model      expected zone model (none: an ordinary disk)
#   zmib cap   zone size and zone capacity in MiB
#   zones conv zone count, conventional zones at LBA 0 (auto: as the drive reports them, and
#              the placement follows: conventional-zones if any, else sequential-zones)
#   bs         logical block size in bytes
#   placement  expected placement (auto: see conv)
#   joff doff  journal copy and data segment offsets in MiB
#   smallks    1: zones too small for the default keyslots area, a smaller one expected
#   data_at    MiB offsets in the mapping where the data checks write, comma-separated
#   dmib       MiB written at each of them
#   busy       1: a drive with an active-zone limit; its data zones take every active zone
#              and luksAddKey must refuse (addkey_when_busy) before one is finished
#   params     creation parameters, comma-separated (brd: its size in MiB)
# '-' leaves a column empty (what an ordinary disk does not have).
drive_table() {
  cat <<'TABLE'
# kind      maker      model        zmib cap zones conv bs   placement          joff doff smallks data_at      dmib busy params
# SCSI ZBC host-managed (a SAS/SATA SMR disk): 24 zones of 32 MiB, none conventional.
sd_hm       scsi_debug host-managed 32   32  24    0    4096 sequential-zones   32   64   0       0            2    0    zbc=host-managed,zone_size_mb=32,zone_nr_conv=0,dev_size_mb=768,sector_size=4096
# SCSI ZBC host-aware, scsi_debug's default number of conventional zones.
sd_ha       scsi_debug host-aware   32   32  24    auto 4096 auto               32   64   0       0            2    0    zbc=host-aware,zone_size_mb=32,dev_size_mb=768,sector_size=4096
# null_blk host-managed with 4 conventional zones at LBA 0: both copies written in place, the
# data segment starts in conventional zone 2.
nb_hm_conv4 null_blk   host-managed 64   64  32    4    4096 conventional-zones 64   128  0       0            2    0    zone_size=64,zone_nr_conv=4,gb=2,bs=4096
# ZNS-like: capacity 48 of 64 MiB, 4 open / 4 active zones. Data goes into four different
# zones, which works only if the metadata zones hold no open or active resource.
nb_zns      null_blk   host-managed 64   48  32    0    4096 sequential-zones   64   128  0       0,64,128,192 1    1    zone_size=64,zone_capacity=48,zone_max_active=4,zone_max_open=4,zone_nr_conv=0,gb=2,bs=4096
# null_blk host-managed with 512-byte blocks: sector size 512 by default.
nb_hm_512   null_blk   host-managed 64   64  32    0    512  sequential-zones   64   128  0       0            2    0    zone_size=64,zone_nr_conv=0,gb=2,bs=512
# An ordinary disk: standard placement, data at 16 MiB like cryptsetup, no journal copy.
brd         brd        none         -    -   -     -    512  standard           -    16   0       0            2    0    256
# 16 MiB zones: a default copy (16 MiB + 4 KiB) does not fit, so a smaller keyslots area.
nb_zone16   null_blk   host-managed 16   16  64    0    4096 sequential-zones   16   32   1       0            2    0    zone_size=16,zone_nr_conv=0,gb=1,bs=4096
# 4 MiB zones: still room for 15 keyslots of a 512-bit key (>= 8), so a smaller area again.
nb_zone4    null_blk   host-managed 4    4   256   0    4096 sequential-zones   4    8    1       0            2    0    zone_size=4,zone_nr_conv=0,gb=1,bs=4096
TABLE
}

# col VALUE: a table cell, '-' for empty.
col() { [ "$1" = - ] && echo "" || echo "$1"; }
# make_drive MAKER PARAMS: creates the drive, prints its /dev path.
make_drive() {
  # shellcheck disable=SC2046
  case $1 in
    scsi_debug) make_scsi_debug $(echo "$2" | tr , ' ') ;;
    null_blk) make_nullb_zoned $(echo "$2" | tr , ' ') ;;
    brd) make_brd "$2" ;;
    *) echo "make_drive: no maker $1" >&2; return 1 ;;
  esac
}
# remove_drive MAKER CREATED: scsi_debug and brd are unloaded whatever happened (the module
# may be loaded even if no disk appeared), null_blk only removes what was created.
remove_drive() {
  case $1 in
    scsi_debug) remove_scsi_debug ;;
    null_blk) [ "$2" = 1 ] && remove_nullb "$DEV" ;;
    brd) remove_brd ;;
  esac
  return 0
}

check "load dm-crypt" load_dm_crypt
info "$(cryptsetup --version); kernel $(uname -r)"
check "zcryptsetup --help lists layout" sh -c 'zcryptsetup --help | grep -qw layout'
check "zcryptsetup --help lists --dry-run" sh -c 'zcryptsetup --help | grep -q -- --dry-run'

drive_table | grep -Ev '^[[:space:]]*(#|$)' > /tmp/drives
while read -r _kind _maker MODEL _zmib _cap _zones _conv BS PLACE _joff _doff SMALLKS _data_at \
  DATA_MIB BUSY _params <&3; do
  begin_kind "$_kind"
  ZONED=1
  [ "$MODEL" = none ] && ZONED=0
  ZMIB=$(col "$_zmib") CAPMIB=$(col "$_cap") NZONES=$(col "$_zones") NCONV=$(col "$_conv")
  JOFF='' DOFF=$((_doff * MiB))
  [ "$_joff" != - ] && JOFF=$((_joff * MiB))
  DATA_AT=$(echo "$_data_at" | tr , ' ')
  DEV=$(make_drive "$_maker" "$_params")
  if check "$K: $_maker $_params created ($DEV)" test -b "$DEV"; then
    if [ "$NCONV" = auto ]; then
      NCONV=$(zone_table "$DEV" | awk '$2 == "CONVENTIONAL" { n++ } END { print n + 0 }')
      info "$K: scsi_debug default zone_nr_conv=$(cat /sys/module/scsi_debug/parameters/zone_nr_conv 2>/dev/null);" \
        "zones: $(zone_table "$DEV" | awk '{ print $2 }' | sort | uniq -c | tr -s ' \n' '  ');" \
        "queue/zoned: $(cat "$(_zc_sysblock "$DEV")/queue/zoned")"
    fi
    if [ "$PLACE" = auto ]; then
      PLACE=sequential-zones
      [ "$NCONV" -gt 0 ] && PLACE=conventional-zones
    fi
    run_drive
    remove_drive "$_maker" 1
  else
    [ "$_maker" = null_blk ] && info "$K: null_blk refused $_params: $(dmesg | tail -3 | tr '\n' ' ')"
    remove_drive "$_maker" 0
  fi
done 3< /tmp/drives
[ -n "$KINDS" ] || check "the drive table lists drives" false

# The refusal, not a row of the table: in 2 MiB zones 2 x 16 KiB headers + 8 keyslots
# (8 x 252 KiB) + 4 KiB do not fit: refused, with the sizes named, and nothing written.
K=nb_zone2
ZONED=1 ZMIB=2 DZ=2
DEV=$(make_nullb_zoned zone_size=2 zone_nr_conv=0 gb=1 bs=4096)
if check "$K: null_blk 2 MiB zones created ($DEV)" test -b "$DEV"; then
  dmesg_mark
  # What a plan would cover: a 2 MiB home zone, a 2 MiB journal zone, the first data MiB.
  DOFF=$((4 * MiB))
  snap > /tmp/snap.fresh
  R2_layout=0 R2_dry=0 R2_fmt=0
  check_exit nonzero "$K: layout refuses" run_to /tmp/l2 zcryptsetup layout "$DEV" || R2_layout=1
  check_output "$K: ... naming the zone size and what the metadata needs" \
    '2 MiB.*needs [0-9]+ (KiB|MiB|bytes)' cat /tmp/l2 || R2_layout=1
  check_exit nonzero "$K: luksFormat --dry-run refuses" \
    run_to /tmp/d2 zcryptsetup luksFormat --dry-run "$DEV" || R2_dry=1
  check "$K: ... and wrote nothing" unchanged /tmp/snap.fresh || R2_dry=1
  check_exit nonzero "$K: luksFormat refuses" run_to /tmp/f2 zc_format "$DEV" || R2_fmt=1
  info "$K: luksFormat said (exit $(zc_format "$DEV" >/dev/null 2>&1; echo $?)): $(tr '\n' ' ' < /tmp/f2)"
  check_output "$K: ... naming the zone size and what the metadata needs" \
    '2 MiB.*needs [0-9]+ (KiB|MiB|bytes)' cat /tmp/f2 || R2_fmt=1
  check "$K: ... and wrote nothing" unchanged /tmp/snap.fresh || R2_fmt=1
  check_no_io_errors "$K: no kernel I/O errors"
  remove_nullb "$DEV"
fi

# ------------------------------------------------------------------ the table

pf() { [ "${1:-1}" = 0 ] && echo PASS || echo FAIL; }
info "results per drive and step (a step is FAIL if any of its checks failed or it did not run;"
info "format includes the --sector-size 512 refusal on 4 KiB drives):"
# shellcheck disable=SC2059,SC2086
info "$(printf "$TABLE_FMT" drive layout dry-run format stock-open inline-open data addkey \
  stock-newkey data-after no-io-errors)"
for _k in $KINDS; do info "$(row_for "$_k")"; done
info "nb_zone2 (refusal): layout-refused $(pf "${R2_layout:-}"), dry-run-refused $(pf "${R2_dry:-}")," \
  "format-refused-wrote-nothing $(pf "${R2_fmt:-}")"
