# shellcheck shell=dash
# Metadata updates on a host-managed null_blk drive with no conventional zones: luksAddKey,
# luksChangeKey, luksRemoveKey, luksKillSlot, config, luksHeaderBackup/Restore and repair
# rewrite the home copy (zone 0) and the journal copy (zone 1) with sequential writes only,
# keep both copies equal, leave the data zones alone, and stay readable by stock cryptsetup.
# Also: refusals that write nothing, a torn home copy, and two updaters at once.
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
info "$(cryptsetup --version)"
# A verb this binary does not know exits 1 like a refusal would; name the missing ones first.
verbs_listed() {
  _missing=
  for _v in luksAddKey luksRemoveKey luksKillSlot luksChangeKey luksConvertKey config \
    luksHeaderBackup luksHeaderRestore repair; do
    zcryptsetup --help | grep -qw -- "$_v" || _missing="$_missing $_v"
  done
  [ -z "$_missing" ] || { echo "not in zcryptsetup --help:$_missing"; return 1; }
}
check "zcryptsetup --help lists the update verbs" verbs_listed

dev=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=2 bs=4096)
check "host-managed null_blk created" test -b "$dev"
zs=$(zone_sectors "$dev")
zones=$(( $(blockdev --getsz "$dev") / zs ))
info "drive $dev: $zones zones of $((zs / 2048)) MiB"
dmesg_mark

# Passphrases in files: k1 is the format passphrase (ZC_PASS, so zc_open/stock_open use it).
printf %s "$ZC_PASS" > /tmp/k1
for k in 2 3 4 5 9 10 11 12 13; do printf %s "zc-key-$k" > "/tmp/k$k"; done
printf %s "not-any-key" > /tmp/kwrong

# ------------------------------------------------------------------ helpers

# add_key KEYFILE_EXISTING NEWKEYFILE [OPTIONS...]
add_key() {
  _old=$1 _new=$2
  shift 2
  # shellcheck disable=SC2086
  zcryptsetup luksAddKey --key-file "$_old" $ZC_FAST_PBKDF "$@" "$dev" "$_new"
}
# opens KEYFILE [OPTIONS...]: stock cryptsetup accepts the passphrase in KEYFILE.
opens() {
  _k=$1
  shift
  cryptsetup open --type luks2 --test-passphrase --key-file "$_k" "$@" "$dev"
}
# slot_of KEYFILE: the keyslot stock cryptsetup unlocks with it ("Key slot N unlocked.").
slot_of() {
  cryptsetup open --type luks2 --test-passphrase -v --key-file "$1" "$dev" 2>&1 |
    sed -n 's/^Key slot \([0-9]*\) unlocked.*/\1/p'
}
# meta_md5: checksum of the two metadata zones (home and journal, 128 MiB).
meta_md5() { dd if="$dev" bs=1M count=128 2>/dev/null | md5sum | cut -d' ' -f1; }
meta_unchanged() {
  _now=$(meta_md5)
  [ "$_now" = "$1" ] || { echo "metadata zones changed: md5 $1 -> $_now"; return 1; }
}
# copy_seqid home|journal: the seqid luksDump shows for that copy.
copy_seqid() {
  zcryptsetup luksDump "$dev" 2>/dev/null |
    sed -n "s/^ *$1 copy: .*seqid \([0-9]*\),.*/\1/p"
}
# copies_agree: both copies valid with commit records, equal seqids, "Copies agree: yes".
copies_agree() {
  _dump=$(zcryptsetup luksDump "$dev" 2>&1)
  _h=$(echo "$_dump" | sed -n 's/^ *home copy: .*seqid \([0-9]*\), headers valid, commit record ok.*/\1/p')
  _j=$(echo "$_dump" | sed -n 's/^ *journal copy: .*seqid \([0-9]*\), headers valid, commit record ok.*/\1/p')
  if [ -n "$_h" ] && [ "$_h" = "$_j" ] && echo "$_dump" | grep -q 'Copies agree: yes'; then
    return 0
  fi
  echo "home seqid '$_h', journal seqid '$_j'"
  echo "$_dump" | grep -E 'copy|agree'
  return 1
}
# layout_intact WP2: zones 0 and 1 FULL, zone 2's write pointer WP2, zones 3.. empty.
# One zone report for the whole drive (busybox awk: no strtonum, so the shell converts hex).
layout_intact() {
  _want=$1
  _bad=0 _i=0
  blkzone report "$dev" | grep 'start:' > /tmp/zones.txt
  while read -r _line; do
    _wp=$(( 0x$(echo "$_line" | sed -n 's/.*wptr 0x\([0-9a-fA-F]*\).*/\1/p') ))
    _c=$(echo "$_line" | sed -n 's/.*zcond: *[0-9]*(\([a-z]*\)).*/\1/p')
    case $_i in
      0|1) [ "$_c" = fu ] || { echo "zone $_i: $_c, want fu"; _bad=1; } ;;
      2) [ "$_wp" -eq "$_want" ] || { echo "zone 2: wp $_wp, want $_want ($_c)"; _bad=1; } ;;
      *) [ "$_c" = em ] && [ "$_wp" -eq 0 ] || { echo "zone $_i: $_c wp $_wp, want em"; _bad=1; } ;;
    esac
    _i=$((_i + 1))
  done < /tmp/zones.txt
  [ "$_i" -eq "$zones" ] || { echo "report had $_i zones, want $zones"; _bad=1; }
  return "$_bad"
}
# after_update WHAT [first|same]: the checks every metadata update must pass. The seqid both
# copies show must have gone up since the last call (both copies rewritten), unless "first"
# (a fresh format), "same" (nothing was updated: it must not have moved) or "any" (repair: the
# contract does not say whether it keeps the journal's seqid).
last_seq=
after_update() {
  check "$1: zones 0,1 FULL, zone 2 write pointer unchanged ($wp2), zones 3.. empty" \
    layout_intact "$wp2"
  check "$1: luksDump: home and journal seqids equal, commit records, copies agree" copies_agree
  _s=$(copy_seqid journal)
  case ${2:-} in
    first|any) ;;
    same) check "$1: seqid unchanged ($last_seq)" test "${_s:-0}" -eq "${last_seq:-0}" ;;
    *) check "$1: seqid went up ($last_seq -> $_s)" test "${_s:-0}" -gt "${last_seq:-0}" ;;
  esac
  last_seq=$_s
}
# replay OUTFILE STATUS: shows a background command's output and returns its status.
replay() { cat "$1"; return "$2"; }
# stderr_of OUTFILE CMD...: runs CMD with stderr to OUTFILE, stdout discarded.
stderr_of() {
  _f=$1
  shift
  "$@" 2>"$_f" >/dev/null
}

# ------------------------------------------------------------------ 1. format, data

check "zcryptsetup luksFormat" zc_format "$dev"
check "open" zc_open "$dev" zc_upd
check "write 8 MiB at 0" write_pattern zc_upd 8 0
check "close" zcryptsetup close zc_upd
wp2=$(zone_wp "$dev" 2)
check "zone 2 write pointer is 8 MiB ($wp2 sectors)" test "$wp2" -eq 16384
after_update "after format and data" first

# ------------------------------------------------------------------ 2. key updates

check "luksAddKey k2" add_key /tmp/k1 /tmp/k2
check "... stock cryptsetup opens with k2" opens /tmp/k2
check "... and with k1" opens /tmp/k1
after_update "luksAddKey k2"
check "luksAddKey k3" add_key /tmp/k2 /tmp/k3
check "... stock cryptsetup opens with k3" opens /tmp/k3
after_update "luksAddKey k3"
slot3=$(slot_of /tmp/k3)
info "k1 in slot $(slot_of /tmp/k1), k2 in slot $(slot_of /tmp/k2), k3 in slot $slot3"

# shellcheck disable=SC2086
check "luksChangeKey k3 -> k4" \
  zcryptsetup luksChangeKey --key-file /tmp/k3 $ZC_FAST_PBKDF "$dev" /tmp/k4
check_exit 2 "... stock cryptsetup: k3 no longer opens (exit 2)" opens /tmp/k3
check "... stock cryptsetup opens with k4" opens /tmp/k4
check "... k1 still opens" opens /tmp/k1
check "... k2 still opens" opens /tmp/k2
after_update "luksChangeKey"

check "luksRemoveKey k2" zcryptsetup luksRemoveKey "$dev" /tmp/k2
check_exit 2 "... stock cryptsetup: k2 no longer opens (exit 2)" opens /tmp/k2
check "... k1 still opens" opens /tmp/k1
check "... k4 still opens" opens /tmp/k4
after_update "luksRemoveKey"

slot4=$(slot_of /tmp/k4)
info "k4 in slot $slot4"
check "slot of k4 found" test -n "$slot4"
check "luksKillSlot $slot4 (k4) with remaining passphrase k1" \
  zcryptsetup luksKillSlot --key-file /tmp/k1 "$dev" "$slot4"
check_exit 2 "... stock cryptsetup: k4 no longer opens (exit 2)" opens /tmp/k4
check "... k1 still opens" opens /tmp/k1
after_update "luksKillSlot"

# config: label, subsystem, persisted inline flags, read back by stock cryptsetup.
check "config --label --subsystem" zcryptsetup config "$dev" --label zc-label --subsystem zc-sub
check_output "... stock luksDump shows the label" '^Label:[[:space:]]+zc-label$' cryptsetup luksDump "$dev"
check_output "... stock luksDump shows the subsystem" '^Subsystem:[[:space:]]+zc-sub$' cryptsetup luksDump "$dev"
after_update "config --label"
check "config --perf-force_inline" zcryptsetup config "$dev" --perf-force_inline
check_output "... stock luksDump shows the upstream flags" \
  'no-read-workqueue no-write-workqueue' cryptsetup luksDump "$dev"
after_update "config --perf-force_inline"
check "config --perf-force_inline=off" zcryptsetup config "$dev" --perf-force_inline=off
check "... stock luksDump: flags gone" \
  sh -c "! cryptsetup luksDump $dev | grep -q no-read-workqueue"
after_update "config --perf-force_inline=off"
slot1=$(slot_of /tmp/k1)
check "config --priority prefer -S $slot1" zcryptsetup config "$dev" --priority prefer -S "$slot1"
check_output "... stock luksDump shows it preferred" 'Priority:[[:space:]]+preferred' \
  cryptsetup luksDump "$dev"
after_update "config --priority"
check "config --priority normal -S $slot1" zcryptsetup config "$dev" --priority normal -S "$slot1"
check "... stock luksDump: no preferred keyslot" \
  sh -c "! cryptsetup luksDump $dev | grep -q preferred"
after_update "config --priority normal"

# luksUUID --uuid: the new UUID in both copies, read by stock and by blkid; both tools open the
# drive found by it (zcryptsetup through a crypttab UUID= line, stock through blkid -U: its own
# UUID= needs udev's /dev/disk/by-uuid, which this guest has not).
new_uuid=0badc0de-5eed-4bad-9ace-0123456789ab
check "luksUUID --uuid" zcryptsetup luksUUID -q --uuid "$new_uuid" "$dev"
check_output "... stock luksUUID reads the new UUID" "^$new_uuid\$" cryptsetup luksUUID "$dev"
check_output "... blkid finds the drive by it" "^$dev\$" blkid -U "$new_uuid"
printf 'byuuid UUID=%s /tmp/k1 luks\n' "$new_uuid" >/tmp/uuid.tab
check "... zcryptsetup crypttab opens UUID=$new_uuid" \
  zcryptsetup crypttab open byuuid --crypttab /tmp/uuid.tab
check "... close" zcryptsetup close byuuid
check "... stock opens the device blkid -U names" \
  sh -c "cryptsetup open --type luks2 --test-passphrase --key-file /tmp/k1 \$(blkid -U $new_uuid)"
after_update "luksUUID --uuid"
md5=$(meta_md5)
check_exit 1 "luksUUID --uuid with a malformed UUID exits 1" \
  zcryptsetup luksUUID -q --uuid not-a-uuid "$dev"
check "... metadata zones byte-identical" meta_unchanged "$md5"

# luksConvertKey: k1's keyslot to argon2id; stock sees it and k1 still opens.
check "luksConvertKey k1 to argon2id" zcryptsetup luksConvertKey --key-file /tmp/k1 \
  --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32 --pbkdf-parallel 1 "$dev"
check_output "... stock luksDump shows argon2id" 'PBKDF:[[:space:]]+argon2id' cryptsetup luksDump "$dev"
check "... k1 still opens (stock)" opens /tmp/k1
after_update "luksConvertKey"

check "zcryptsetup open after the updates" zc_open "$dev" zc_upd
check "... data written before the updates reads back" read_pattern zc_upd 8 0
check "... close" zcryptsetup close zc_upd
check "stock cryptsetup open after the updates" stock_open "$dev" zc_upd
check "... data reads back (stock)" read_pattern zc_upd 8 0
check "... close" cryptsetup close zc_upd
after_update "after opening" same

# ------------------------------------------------------------------ 3. refusals

md5=$(meta_md5)
check_exit 2 "luksAddKey with a wrong passphrase exits 2" add_key /tmp/kwrong /tmp/k5
check "... metadata zones byte-identical" meta_unchanged "$md5"
check_exit 2 "... k5 does not open" opens /tmp/k5

check_exit nonzero "luksRemoveKey of the last keyslot without -q is refused" \
  zcryptsetup luksRemoveKey "$dev" /tmp/k1
check "... metadata zones byte-identical" meta_unchanged "$md5"
slot1=$(slot_of /tmp/k1)
info "k1, the last passphrase, in slot $slot1"
check_exit nonzero "luksKillSlot of the last keyslot without -q is refused" \
  zcryptsetup luksKillSlot --key-file /tmp/k1 "$dev" "$slot1"
check "... metadata zones byte-identical" meta_unchanged "$md5"
check "... k1 still opens" opens /tmp/k1
check "luksKillSlot -q of the last keyslot" zcryptsetup luksKillSlot -q "$dev" "$slot1"
check_exit nonzero "... k1 no longer opens" opens /tmp/k1
check "... stock luksDump lists no keyslot" \
  sh -c "! cryptsetup luksDump $dev | grep -qE '^  [0-9]+: luks2'"
after_update "luksKillSlot -q (last)"

# ------------------------------------------------------------------ 4. torn home copy

check "reset all zones" blkzone reset "$dev"
check "format again" zc_format "$dev"
check "luksAddKey k2" add_key /tmp/k1 /tmp/k2
check "open" zc_open "$dev" zc_torn
check "write 4 MiB at 0" write_pattern zc_torn 4 0
check "close" zcryptsetup close zc_torn
wp2=$(zone_wp "$dev" 2)
after_update "format, addkey, data" first
seq_before=$(copy_seqid home)

check "save the first 4 KiB of home" dd if="$dev" of=/tmp/home4k bs=4096 count=1
check "reset zone 0 (home)" blkzone reset -o 0 -c 1 "$dev"
check "write back only the first 4 KiB of home" \
  dd if=/tmp/home4k of="$dev" bs=4096 count=1 oflag=direct
check "zone 0 is open with 4 KiB written" test "$(zone_wp "$dev" 0)" -eq 8
check_output "luksDump: home headers invalid" '^ *home copy: .*headers invalid' \
  zcryptsetup luksDump "$dev"
check_output "luksDump: journal is read" "^ *journal copy: .*seqid $seq_before, headers valid.*\\[read\\]" \
  zcryptsetup luksDump "$dev"
check_output "luksDump: copies do not agree" 'Copies agree: no' zcryptsetup luksDump "$dev"
check "zcryptsetup open with a torn home" stderr_of /tmp/torn.err zc_open "$dev" zc_torn
check_output "... warns on stderr, naming the journal" 'journal' cat /tmp/torn.err
check "... data reads back" read_pattern zc_torn 4 0
check "... close" zcryptsetup close zc_torn
check_exit nonzero "stock cryptsetup open --test-passphrase fails (home torn)" opens /tmp/k1
check "zcryptsetup repair" zcryptsetup repair "$dev"
check "... stock cryptsetup opens with k1" opens /tmp/k1
check "... and with k2" opens /tmp/k2
check "... stock open" stock_open "$dev" zc_torn
check "... data reads back (stock)" read_pattern zc_torn 4 0
check "... close" cryptsetup close zc_torn
after_update "repair" any
check_output "... home copy has its commit record" '^ *home copy: .*headers valid, commit record ok' \
  zcryptsetup luksDump "$dev"
check_output "... journal copy has its commit record" '^ *journal copy: .*headers valid, commit record ok' \
  zcryptsetup luksDump "$dev"
check_no_io_errors "no kernel I/O errors so far (torn home, repair)"

# ------------------------------------------------------------------ 5. header backup/restore

rm -f /tmp/hdr.img
check "luksHeaderBackup" zcryptsetup luksHeaderBackup "$dev" --header-backup-file /tmp/hdr.img
check "... backup is 16 MiB (the LUKS2 metadata size)" \
  test "$(stat -c %s /tmp/hdr.img 2>/dev/null)" = 16777216
check_output "... stock cryptsetup luksDump reads the backup" '^Version:[[:space:]]+2' \
  cryptsetup luksDump /tmp/hdr.img
check "... and its UUID is the drive's" \
  test "$(cryptsetup luksUUID /tmp/hdr.img)" = "$(cryptsetup luksUUID "$dev")"
check "luksAddKey k9" add_key /tmp/k1 /tmp/k9
check "... k9 opens" opens /tmp/k9
after_update "luksAddKey k9"
seq_before=$(copy_seqid home)
check "luksHeaderRestore -q" zcryptsetup luksHeaderRestore -q "$dev" --header-backup-file /tmp/hdr.img
check_exit 2 "... k9 no longer opens (exit 2)" opens /tmp/k9
check "... k1 opens" opens /tmp/k1
check "... k2 opens" opens /tmp/k2
after_update "luksHeaderRestore"
seq_home=$(copy_seqid home) seq_journal=$(copy_seqid journal)
info "seqid before restore $seq_before; after: home $seq_home, journal $seq_journal"
check "... home seqid higher than before the restore" test "${seq_home:-0}" -gt "$seq_before"
check "... journal seqid higher than before the restore" test "${seq_journal:-0}" -gt "$seq_before"
check "... open" zc_open "$dev" zc_rst
check "... data reads back" read_pattern zc_rst 4 0
check "... close" zcryptsetup close zc_rst

rm -f /tmp/hdr-stock.img
check "stock cryptsetup luksHeaderBackup of the drive" \
  cryptsetup luksHeaderBackup "$dev" --header-backup-file /tmp/hdr-stock.img
t0=$(date +%s)
check "luksAddKey k10" add_key /tmp/k1 /tmp/k10
t_plain=$(( $(date +%s) - t0 ))
info "luksAddKey without contention took $t_plain s"
check "... k10 opens" opens /tmp/k10
check "luksHeaderRestore -q of the stock backup" \
  zcryptsetup luksHeaderRestore -q "$dev" --header-backup-file /tmp/hdr-stock.img
check_exit 2 "... k10 no longer opens (exit 2)" opens /tmp/k10
check "... k1 opens" opens /tmp/k1
check "... k2 opens" opens /tmp/k2
after_update "restore of the stock backup"

dd if=/tmp/hdr.img of=/tmp/hdr-trunc.img bs=1M count=8 2>/dev/null
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin' \
  'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' > /tmp/passwd-junk
md5=$(meta_md5)
check_exit nonzero "luksHeaderRestore of a truncated backup (8 of 16 MiB) is refused" \
  zcryptsetup luksHeaderRestore -q "$dev" --header-backup-file /tmp/hdr-trunc.img
check "... metadata zones byte-identical" meta_unchanged "$md5"
check_exit nonzero "luksHeaderRestore of /etc/passwd-like junk is refused" \
  zcryptsetup luksHeaderRestore -q "$dev" --header-backup-file /tmp/passwd-junk
check "... metadata zones byte-identical" meta_unchanged "$md5"
check "... k1 still opens" opens /tmp/k1

# ------------------------------------------------------------------ 6. concurrency

add_key /tmp/k1 /tmp/k11 -S 5 > /tmp/add11.out 2>&1 &
p11=$!
add_key /tmp/k1 /tmp/k12 -S 6 > /tmp/add12.out 2>&1 &
p12=$!
wait "$p11"; r11=$?
wait "$p12"; r12=$?
check "concurrent luksAddKey -S 5 (k11) exits 0" replay /tmp/add11.out "$r11"
check "concurrent luksAddKey -S 6 (k12) exits 0" replay /tmp/add12.out "$r12"
check "... k11 opens from slot 5" opens /tmp/k11 -S 5
check "... k12 opens from slot 6" opens /tmp/k12 -S 6
check "... k1 opens" opens /tmp/k1
after_update "two concurrent luksAddKey"
md5=$(meta_md5)
check_exit nonzero "luksAddKey -S 5 (a slot in use) is refused" add_key /tmp/k1 /tmp/k5 -S 5
check "... metadata zones byte-identical" meta_unchanged "$md5"
check "... k11 still opens from slot 5" opens /tmp/k11 -S 5

devnum=$(cat "$(_zc_sysblock "$dev")/dev")
lock=/run/cryptsetup/L_$devnum
info "cryptsetup lock file $lock"
if command -v flock >/dev/null 2>&1; then
  flock "$lock" sleep 5 &
  pl=$!
  # Wait until the holder has the lock (a non-blocking attempt fails), at most 10 s.
  i=0
  while flock -n "$lock" true; do
    [ "$i" -ge 100 ] && break
    sleep 0.1
    i=$((i + 1))
  done
  check "another process holds $lock" sh -c "! flock -n $lock true"
  t0=$(date +%s)
  check "luksAddKey k13 while another process holds the lock" add_key /tmp/k1 /tmp/k13
  t1=$(date +%s)
  info "luksAddKey under a held lock took $((t1 - t0)) s"
  check "... it waited for the lock (>= 4 s)" test $((t1 - t0)) -ge 4
  check "... at least 3 s longer than without contention ($t_plain s)" \
    test $((t1 - t0 - t_plain)) -ge 3
  wait "$pl"
  check "... k13 opens" opens /tmp/k13
  after_update "luksAddKey after waiting for the lock"
else
  skip "luksAddKey waits for a held lock" "no flock in the image: ZC_VM_EXTRA_BINS=flock"
fi

# ------------------------------------------------------------------ 7. erase

# Each active keyslot's area, as stock luksDump places it (4 KiB-aligned), in home (zone 0)
# and journal (zone 1).
zone_bytes=$((64 * 1048576))
areas=$(cryptsetup luksDump "$dev" | sed -n 's/^[[:space:]]*Area offset:[[:space:]]*\([0-9]*\) \[bytes\]/\1/p')
area_len=$(cryptsetup luksDump "$dev" | sed -n 's/^[[:space:]]*Area length:[[:space:]]*\([0-9]*\) \[bytes\]/\1/p' | head -n 1)
info "keyslot areas before erase: $(echo "$areas" | tr '\n' ' ')(length $area_len)"
# area_sums: md5 of every keyslot area in both copies, one line each.
area_sums() {
  for _a in $areas; do
    for _base in 0 "$zone_bytes"; do
      dd if="$dev" bs=4096 skip=$(((_base + _a) / 4096)) count=$((area_len / 4096)) 2>/dev/null |
        md5sum | cut -d' ' -f1
    done
  done
}
sums_before=$(area_sums)
check "keyslot areas found" test -n "$areas"
check "erase" zcryptsetup erase -q "$dev"
after_update "erase"
# none_left: no line of the old sums is among the new ones, position by position.
none_left() {
  _new=$(area_sums)
  _i=1
  for _old in $sums_before; do
    [ "$(echo "$_new" | sed -n "${_i}p")" = "$_old" ] && { echo "area $_i unchanged"; return 1; }
    _i=$((_i + 1))
  done
}
check "... the bytes of every old keyslot area are gone from both metadata zones" none_left
zero_md5=$(dd if=/dev/zero bs=4096 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
last_block_random() {
  _sum=$(dd if="$dev" bs=4096 skip=$(($1 / 4096 - 1)) count=1 2>/dev/null | md5sum | cut -d' ' -f1)
  [ "$_sum" != "$zero_md5" ]
}
check "... zone 0 written to its end (random fill, not a finish's zeros)" last_block_random "$zone_bytes"
check "... zone 1 written to its end" last_block_random $((2 * zone_bytes))
check_exit nonzero "... stock cryptsetup no longer opens with k1" opens /tmp/k1
check_exit 1 "... zcryptsetup no longer opens with k1 (no usable keyslot)" \
  zcryptsetup open --test-passphrase --key-file /tmp/k1 "$dev"
check "... stock luksDump lists no keyslot" \
  sh -c "! cryptsetup luksDump $dev | grep -qE '^  [0-9]+: luks2'"

# ------------------------------------------------------------------ 8. kernel log

check_no_io_errors "no kernel I/O errors in the whole suite"
