# shellcheck shell=dash
# Differential test against stock cryptsetup on a host-managed zoned drive (issue 8): malformed
# home (zone 0) and journal (zone 1) copies, written into the zones sequentially, then
# zcryptsetup's and stock cryptsetup's isLuks, luksDump and open --test-passphrase compared.
#
# Needs tests/differential/make_corpus in the image (build-initramfs.sh adds it from the build
# tree; with another build, ZC_BUILD_DIR=build-diff tests/vm/run.sh differential_zoned)
# (found through zc.make_corpus=PATH on the kernel command line, PATH, or a search of /).
#
# Stock cryptsetup reads home only. Per variant and command (a cell):
#   agree       both exit 0, or both non-zero
#   z-stricter  stock accepts, zcryptsetup refuses (allowed; listed)
#   z-journal   stock refuses home, zcryptsetup accepts, stock accepts the same command on the
#               journal copy alone (as a detached header), and zcryptsetup's luksDump says it
#               uses the journal: the designed fallback
#   z-home      as z-journal, but zcryptsetup went by home (a copy stock refuses): allowed by
#               the rule (a valid journal exists), listed
#   DEFECT      zcryptsetup accepts where stock refuses home AND the journal, or crashes or
#               hangs, or writes to a metadata zone during these read-only verbs
# Every command runs on freshly written zones (stock cryptsetup repairs a copy in place when it
# can, which a sequential zone may even accept at its write pointer). zcryptsetup runs first
# for every variant, so its pass alone is checked for kernel I/O errors.
. /zc/volume_checks.sh

DZ=/tmp/dz
mkdir -p "$DZ"
TMO=20

find_make_corpus() {
  _p=
  # shellcheck disable=SC2013
  for _w in $(cat /proc/cmdline); do
    case "$_w" in zc.make_corpus=*) _p=${_w#*=} ;; esac
  done
  [ -n "$_p" ] && [ -x "$_p" ] && { echo "$_p"; return 0; }
  _p=$(command -v make_corpus 2>/dev/null) && { echo "$_p"; return 0; }
  _p=$(find / -xdev -type f -name make_corpus 2>/dev/null | head -n 1)
  [ -n "$_p" ] && [ -x "$_p" ] && { echo "$_p"; return 0; }
  return 1
}

if ! mc=$(find_make_corpus); then
  _zc_fail "make_corpus is in the image (run with ZC_VM_EXTRA_BINS=.../tests/differential/make_corpus)"
  return 0
fi
info "make_corpus: $mc"
info "$(cryptsetup --version)"

dev=$(make_nullb_zoned zone_size=4 zone_nr_conv=0 gb=1 bs=4096)
check "host-managed null_blk with 4 MiB zones" test -b "$dev" || { return 0; }
zs=$(zone_sectors "$dev")
zbytes=$((zs * 512))
info "drive $dev: $(( $(blockdev --getsz "$dev") / zs )) zones of $((zbytes / 1048576)) MiB"

printf %s "$ZC_PASS" > "$DZ/key"
printf %s "not-the-passphrase" > "$DZ/wrongkey"
check "zcryptsetup luksFormat with 16 KiB headers and a 256 KiB keyslots area" \
  zc_format "$dev" --luks2-metadata-size 16k --luks2-keyslots-size 256k
zcryptsetup luksDump "$dev" 2>&1 | sed -n '/placement/,/Flags/p' | while read -r l; do info "base: $l"; done
check "stock cryptsetup opens the base" \
  cryptsetup open --test-passphrase --key-file "$DZ/key" "$dev"
check "save the home zone" dd if="$dev" of="$DZ/home.bin" bs=65536 count=$((zbytes / 65536))
check "save the journal zone" \
  dd if="$dev" of="$DZ/journal.bin" bs=65536 skip=$((zbytes / 65536)) count=$((zbytes / 65536))
check "make_corpus zoned" "$mc" zoned "$DZ/home.bin" "$DZ/journal.bin" "$DZ/corpus"
rm -f "$DZ/home.bin" "$DZ/journal.bin"
manifest=$DZ/corpus/MANIFEST
[ -f "$manifest" ] || { return 0; }
image_size=$(sed -n 's/^# zoned M=\([0-9]*\) .*/\1/p' "$manifest")
info "image M = $image_size bytes; $(grep -vc '^#' "$manifest") variants"

# ------------------------------------------------------------------ helpers

# write_zone FILE INDEX FINISH: writes FILE from the start of zone INDEX (already reset).
write_zone() {
  _sz=$(stat -c %s "$1")
  if [ "$_sz" -gt 0 ]; then
    # One direct write per MiB from the zone start (a copy is under 1 MiB here).
    dd if="$1" of="$dev" bs=1M seek=$(($2 * zbytes / 1048576)) oflag=direct 2>/dev/null || return 1
  fi
  if [ "$3" = 1 ]; then blkzone finish -o $(($2 * zs)) -c 1 "$dev" || return 1; fi
}
# restore NAME HFIN JFIN: zones 0 and 1 hold the variant NAME.
restore() {
  blkzone reset -o 0 -c 2 "$dev" &&
    write_zone "$DZ/corpus/$1.home" 0 "$2" &&
    write_zone "$DZ/corpus/$1.journal" 1 "$3"
}
zones_report() { blkzone report -o 0 -c 2 "$dev"; }

# run_cmd TOOL CMD KEY TARGET [HEADER]: one verb under a timeout; output in $DZ/out, sets rc.
run_cmd() {
  _hdr=
  [ -n "${5:-}" ] && _hdr="--header $5"
  case "$2" in
    isLuks) timeout "$TMO" "$1" isLuks "$4" >"$DZ/out" 2>&1 ;;
    luksDump) timeout "$TMO" "$1" luksDump "$4" >"$DZ/out" 2>&1 ;;
    open) # shellcheck disable=SC2086
      timeout "$TMO" "$1" open --test-passphrase --key-file "$3" $_hdr "$4" >"$DZ/out" 2>&1 ;;
  esac
  rc=$?
}

# oracle NAME CMD KEY: stock cryptsetup's verdict (exit status) on the journal copy alone, as a
# header file (zero-padded to M, as reads past a write pointer return zeros).
oracle() {
  rm -f "$DZ/journal.img"
  dd if="$DZ/corpus/$1.journal" of="$DZ/journal.img" bs=4096 count=$((image_size / 4096)) 2>/dev/null
  truncate -s "$image_size" "$DZ/journal.img"
  case "$2" in
    open) run_cmd cryptsetup open "$3" "$dev" "$DZ/journal.img" ;;
    *) run_cmd cryptsetup "$2" "$3" "$DZ/journal.img" ;;
  esac
}

describe() {
  if [ "$1" -eq 143 ] || [ "$1" -eq 137 ]; then echo "hang (killed by timeout)"
  elif [ "$1" -ge 128 ]; then echo "crash (signal $(($1 - 128)))"
  else echo "exit $1"; fi
}

cmds="isLuks luksDump open"
names=$(grep -v '^#' "$manifest" | cut -f1)

# centiseconds since boot (no fork: busybox date has no %N)
now_cs() { read -r _up _ < /proc/uptime; echo "${_up%.*}${_up#*.}"; }

# run_pass TOOL: every command on every variant. The zones are written once per variant and
# again only when a command changed them: in a host-managed zone any successful write moves a
# write pointer, so an unchanged zone report means unchanged zones. Changes are logged to
# $DZ/TOOL.wrote; exit statuses to $DZ/TOOL.rc; time spent writing zones vs in commands to
# $DZ/TOOL.time.
run_pass() {
  _tool=$1 _short=$2
  _restore_cs=0 _cmd_cs=0 _restores=0
  while IFS='	' read -r name keykind hfin jfin what; do
    key=$DZ/key
    [ "$keykind" = wrong ] && key=$DZ/wrongkey
    _dirty=1
    for cmd in $cmds; do
      if [ "$_dirty" = 1 ]; then
        _a=$(now_cs)
        restore "$name" "$hfin" "$jfin" || echo "restore $name" >> "$DZ/restore_failures"
        zones_report > "$DZ/zones.written"
        _restores=$((_restores + 1))
        _restore_cs=$((_restore_cs + $(now_cs) - _a))
      fi
      _a=$(now_cs)
      run_cmd "$_tool" "$cmd" "$key" "$dev"
      _cmd_cs=$((_cmd_cs + $(now_cs) - _a))
      echo "$name $cmd $rc" >> "$DZ/$_short.rc"
      if [ "$_short" = z ]; then
        if [ "$cmd" = luksDump ]; then
          used=home
          [ "$rc" -ne 0 ] && used=-
          grep -q 'using the journal copy' "$DZ/out" && used=journal
          echo "$name $used" >> "$DZ/z.used"
        fi
        # Keep what zcryptsetup said where it accepted or crashed (for the defect report).
        if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then cp "$DZ/out" "$DZ/z.$name.$cmd.out"; fi
      fi
      zones_report > "$DZ/zones.now"
      if cmp -s "$DZ/zones.written" "$DZ/zones.now"; then
        _dirty=0
      else
        _dirty=1
        echo "$name $cmd" >> "$DZ/$_short.wrote"
      fi
    done
  done < "$DZ/variants"
  echo "$_restores $_restore_cs $_cmd_cs" > "$DZ/$_short.time"
}
grep -v '^#' "$manifest" > "$DZ/variants"

# ------------------------------------------------------------------ pass 1: zcryptsetup

dmesg_mark
t0=$(now_cs)
run_pass zcryptsetup z
t1=$(now_cs)
check_no_io_errors "zcryptsetup pass (isLuks, luksDump, open on every variant): no kernel I/O errors"
check "every variant was written into the zones" test ! -s "$DZ/restore_failures"
if [ -s "$DZ/z.wrote" ]; then
  _zc_fail "zcryptsetup's read-only verbs left the zones as they were"
  sed 's/^/    changed after: /' "$DZ/z.wrote"
else
  _zc_pass "zcryptsetup's read-only verbs left the zones as they were"
fi

# ------------------------------------------------------------------ pass 2: stock cryptsetup

# The kernel rate-limits "I/O error" lines; let the window pass so the count below is honest.
sleep 6
dmesg_mark
t2=$(now_cs)
run_pass cryptsetup s
t3=$(now_cs)
stock_io=$(dmesg_since_mark | grep -c 'I/O error')
info "stock cryptsetup pass: $stock_io kernel 'I/O error' lines (its in-place header repair on sequential zones; rate-limited, so a lower bound)"
dmesg_since_mark | grep 'I/O error' | head -n 3 | while read -r l; do info "  e.g. $l"; done
if [ -s "$DZ/s.wrote" ]; then
  info "stock cryptsetup changed the zones (a repair write landed at a write pointer) after:" \
    "$(tr '\n' ',' < "$DZ/s.wrote")"
fi

# The journal oracle, only for the cells where it decides the verdict: zcryptsetup accepts,
# stock refuses home.
while IFS='	' read -r name keykind hfin jfin what; do
  key=$DZ/key
  [ "$keykind" = wrong ] && key=$DZ/wrongkey
  for cmd in $cmds; do
    z=$(awk -v n="$name" -v c="$cmd" '$1 == n && $2 == c { print $3 }' "$DZ/z.rc")
    s=$(awk -v n="$name" -v c="$cmd" '$1 == n && $2 == c { print $3 }' "$DZ/s.rc")
    if [ "$z" = 0 ] && [ "$s" != 0 ]; then
      oracle "$name" "$cmd" "$key"
      echo "$name $cmd $rc" >> "$DZ/j.rc"
    fi
  done
done < "$DZ/variants"
t4=$(now_cs)

# ------------------------------------------------------------------ the table

lookup() { awk -v n="$2" -v c="$3" '$1 == n && $2 == c { print $3 }' "$1"; }
info ""
info "$(printf '%-38s %-4s | %-20s | %-20s | %-20s' variant used 'isLuks s/z' 'luksDump s/z' 'open s/z')"
n_agree=0 n_stricter=0 n_journal=0 n_home=0 n_defect=0 homes='' stricters=''
for name in $names; do
  what=$(awk -F '	' -v n="$name" '$1 == n { print $NF }' "$manifest")
  used=$(awk -v n="$name" '$1 == n { print $2 }' "$DZ/z.used")
  row=$(printf '%-38s %-4s' "$name" "$used")
  bad=
  for cmd in $cmds; do
    s=$(lookup "$DZ/s.rc" "$name" "$cmd")
    z=$(lookup "$DZ/z.rc" "$name" "$cmd")
    if [ "$z" -ge 128 ]; then
      v="DEFECT"
      bad="$bad
    $cmd: zcryptsetup $(describe "$z") (stock $(describe "$s"))"
    elif [ "$z" -eq 0 ] && [ "$s" -ne 0 ]; then
      j=$(lookup "$DZ/j.rc" "$name" "$cmd")
      if [ "$j" = 0 ] && [ "$used" = journal ]; then
        v="z-journal"
      elif [ "$j" = 0 ]; then
        # Allowed (a valid journal exists), but zcryptsetup went by a home copy stock refuses.
        v="z-home"
        homes="$homes $name:$cmd"
      else
        v="DEFECT"
        bad="$bad
    $cmd: zcryptsetup accepts; stock refuses home ($(describe "$s")) and the journal ($(describe "${j:-1}"))"
      fi
    elif [ "$z" -ne 0 ] && [ "$s" -eq 0 ]; then
      v="z-stricter"
      stricters="$stricters $name:$cmd"
    else
      v="agree"
    fi
    case $v in
      agree) n_agree=$((n_agree + 1)) ;;
      z-stricter) n_stricter=$((n_stricter + 1)) ;;
      z-journal) n_journal=$((n_journal + 1)) ;;
      z-home) n_home=$((n_home + 1)) ;;
      DEFECT) n_defect=$((n_defect + 1)) ;;
    esac
    row="$row | $(printf '%3s %3s %-12s' "$s" "$z" "$v")"
  done
  info "$row"
  if grep -qx "$name [a-zA-Z]*" "$DZ/z.wrote" 2>/dev/null; then
    bad="$bad
    zcryptsetup changed the zones: $(grep "^$name " "$DZ/z.wrote" | cut -d' ' -f2 | tr '\n' ' ')"
  fi
  if [ -z "$bad" ]; then
    _zc_pass "$name: no defect ($what)"
  else
    _zc_fail "$name: ($what)"
    echo "$bad" | sed '/^$/d'
    for cmd in $cmds; do
      [ -f "$DZ/z.$name.$cmd.out" ] && head -n 4 "$DZ/z.$name.$cmd.out" | sed "s/^/    z $cmd | /"
    done
  fi
done
info ""
info "cells: agree $n_agree, z-stricter $n_stricter, z-journal $n_journal, z-home $n_home, DEFECT $n_defect"
[ -n "$stricters" ] && info "z-stricter (stock opens home, zcryptsetup refuses):$stricters"
[ -n "$homes" ] && info "z-home (zcryptsetup accepted by a home copy stock refuses; the journal is valid):$homes"
read -r zr zrc zcc < "$DZ/z.time"
read -r sr src scc < "$DZ/s.time"
info "timing: zcryptsetup pass $(((t1 - t0) / 100))s ($zr zone writes $((zrc / 100))s, commands $((zcc / 100))s)," \
  "stock pass $(((t3 - t2) / 100))s ($sr zone writes $((src / 100))s, commands $((scc / 100))s)," \
  "journal oracle $(((t4 - t3) / 100))s"
check "remove the drive" remove_nullb "$dev"
