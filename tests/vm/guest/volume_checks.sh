# shellcheck shell=dash
# Check sequences shared by the zcryptsetup suites (sourced after lib.sh). They run the same
# user story on any drive: zcryptsetup formats, stock cryptsetup reads and opens, inline
# activation shows in the dm table, data round-trips, persisted flags apply to both tools.

ZC_PASS=zc-test-passphrase
# Small PBKDF: these tests are about I/O and metadata, not key stretching under TCG.
ZC_FAST_PBKDF="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"

# zc_format DEV [OPTIONS...]: zcryptsetup luksFormat in batch mode with the test passphrase.
zc_format() {
  _dev=$1
  shift
  # shellcheck disable=SC2086
  printf %s "$ZC_PASS" | zcryptsetup luksFormat -q $ZC_FAST_PBKDF --key-file - "$@" "$_dev"
}

# zc_open DEV NAME [OPTIONS...] / stock_open DEV NAME [OPTIONS...]
zc_open() {
  _dev=$1 _name=$2
  shift 2
  printf %s "$ZC_PASS" | zcryptsetup open --key-file - "$@" "$_dev" "$_name"
}
stock_open() {
  _dev=$1 _name=$2
  shift 2
  printf %s "$ZC_PASS" | cryptsetup open --type luks2 --key-file - "$@" "$_dev" "$_name"
}

# table_has NAME WORD: the active dm table of NAME contains WORD.
table_has() { dmsetup table "$1" | grep -qw -- "$2"; }
table_lacks() { ! dmsetup table "$1" | grep -qw -- "$2"; }

# write_pattern NAME MIB SEEK_MIB: writes MIB MiB of a fixed pattern at SEEK_MIB through the
# mapping, sequentially and direct (a zoned mapping accepts nothing else), keeps a copy in /tmp.
write_pattern() {
  _name=$1 _mib=$2 _seek=$3
  dd if=/dev/urandom of="/tmp/pattern-$_seek" bs=1M count="$_mib" 2>/dev/null &&
    dd if="/tmp/pattern-$_seek" of="/dev/mapper/$_name" bs=1M seek="$_seek" oflag=direct \
      conv=notrunc 2>/dev/null
}
# read_pattern NAME MIB SEEK_MIB: the data at SEEK_MIB equals what write_pattern wrote there.
read_pattern() {
  _name=$1 _mib=$2 _seek=$3
  dd if="/dev/mapper/$_name" of="/tmp/readback-$_seek" bs=1M skip="$_seek" count="$_mib" \
    iflag=direct 2>/dev/null && cmp "/tmp/pattern-$_seek" "/tmp/readback-$_seek"
}

# kib_read_to_unlock DEV CMD...: KiB the kernel read from DEV while CMD unlocked it (the test
# passphrase on CMD's standard input), page cache dropped first. Fails when CMD fails.
kib_read_to_unlock() {
  _dev=$1
  shift
  sync
  echo 3 >/proc/sys/vm/drop_caches
  _before=$(awk '{ print $3 }' "/sys/block/${_dev#/dev/}/stat")
  printf %s "$ZC_PASS" | "$@" >/dev/null 2>&1 || return 1
  _after=$(awk '{ print $3 }' "/sys/block/${_dev#/dev/}/stat")
  echo $(( (_after - _before) * 512 / 1024 ))
}

# zone_is DEV INDEX COND: zone INDEX of DEV is in condition COND (blkzone's em, fu, oi...).
zone_is() { [ "$(zone_cond "$1" "$2")" = "$3" ]; }

# close_if_open NAME
close_if_open() { dm_exists "$1" && cryptsetup close "$1"; true; }

# interop_checks DEV LABEL: the user story of issue 2 on one drive.
interop_checks() {
  dev=$1 what=$2
  dmesg_mark
  check "$what: zcryptsetup luksFormat" zc_format "$dev"
  check "$what: stock cryptsetup isLuks" cryptsetup isLuks "$dev"
  check_output "$what: stock cryptsetup luksDump reads our header" '^Version:[[:space:]]+2' \
    cryptsetup luksDump "$dev"
  check_output "$what: zcryptsetup luksDump shows the placement" 'Data segment: offset' \
    zcryptsetup luksDump "$dev"
  check_output "$what: zcryptsetup luksDump --dump-json-metadata" '"segments"' \
    zcryptsetup luksDump --dump-json-metadata "$dev"
  check "$what: zcryptsetup luksUUID equals stock" \
    sh -c "[ \"\$(zcryptsetup luksUUID $dev)\" = \"\$(cryptsetup luksUUID $dev)\" ]"

  # Stock cryptsetup opens what zcryptsetup wrote; data goes in.
  check "$what: stock cryptsetup open" stock_open "$dev" zc_stock
  check "$what: write 4 MiB through the stock mapping" write_pattern zc_stock 4 0
  check "$what: stock cryptsetup close" cryptsetup close zc_stock

  # zcryptsetup opens inline; the data stock cryptsetup wrote reads back; more data goes in.
  check "$what: zcryptsetup open --perf-force_inline" zc_open "$dev" zc_inline --perf-force_inline
  check "$what: table has no_read_workqueue" table_has zc_inline no_read_workqueue
  check "$what: table has no_write_workqueue" table_has zc_inline no_write_workqueue
  check_output "$what: status says inline" 'inline: +yes' zcryptsetup status zc_inline
  check "$what: data written by stock cryptsetup reads back" read_pattern zc_inline 4 0
  check "$what: write 4 MiB more through the inline mapping" write_pattern zc_inline 4 4
  check "$what: and it reads back" read_pattern zc_inline 4 4
  check "$what: zcryptsetup close" zcryptsetup close zc_inline
  check_exit 4 "$what: status of a closed mapping exits 4" zcryptsetup status zc_inline

  # Without the option and without a persisted flag, nothing inline is asked for.
  check "$what: plain zcryptsetup open" zc_open "$dev" zc_plain
  check "$what: no persisted flag, no no_read_workqueue from us" \
    sh -c "zcryptsetup luksDump $dev | grep -q 'Flags: *(no flags)'"
  check "$what: data still reads back" read_pattern zc_plain 4 4
  check "$what: close" zcryptsetup close zc_plain

  # Persist with open --perf-force_inline --persistent; then plain opens by both tools apply it.
  check "$what: open --perf-force_inline --persistent" \
    zc_open "$dev" zc_persist --perf-force_inline --persistent
  check "$what: close" zcryptsetup close zc_persist
  check_output "$what: luksDump shows force-inline" 'Flags: .*force-inline' zcryptsetup luksDump "$dev"
  check_output "$what: stock luksDump shows the upstream flags" \
    'no-read-workqueue no-write-workqueue' cryptsetup luksDump "$dev"
  check "$what: plain zcryptsetup open applies the persisted flag" zc_open "$dev" zc_p1
  check "$what: ... no_read_workqueue" table_has zc_p1 no_read_workqueue
  check "$what: ... no_write_workqueue" table_has zc_p1 no_write_workqueue
  check "$what: ... data reads back" read_pattern zc_p1 4 0
  check "$what: close" zcryptsetup close zc_p1
  check "$what: plain stock cryptsetup open applies the persisted flag" stock_open "$dev" zc_p2
  check "$what: ... no_read_workqueue (stock)" table_has zc_p2 no_read_workqueue
  check "$what: ... no_write_workqueue (stock)" table_has zc_p2 no_write_workqueue
  check "$what: ... data reads back (stock)" read_pattern zc_p2 4 4
  check "$what: stock close" cryptsetup close zc_p2

  # luksFormat --perf-force_inline persists it from the start.
  check "$what: luksFormat --perf-force_inline" zc_format "$dev" --perf-force_inline
  check_output "$what: ... flags persisted" 'Flags: .*no-read-workqueue no-write-workqueue force-inline' \
    zcryptsetup luksDump "$dev"
  check "$what: ... stock open" stock_open "$dev" zc_p3
  check "$what: ... stock mapping runs inline" table_has zc_p3 no_write_workqueue
  check "$what: ... close" cryptsetup close zc_p3

  check_no_io_errors "$what: no kernel I/O errors"
}

# same_status_as_stock NAME [STOCK OPTIONS...]: zcryptsetup status prints stock cryptsetup's
# lines, byte for byte, and adds only its inline line.
same_status_as_stock() {
  _ours=$(zcryptsetup status "$1" | grep -v '^  inline:') || return 1
  _name=$1
  shift
  # Stock needs a detached header named (--header) to know the type and sector size.
  _stock=$(cryptsetup status "$@" "$_name") || return 1
  [ "$_ours" = "$_stock" ] || { echo "ours:"; echo "$_ours"; echo "stock:"; echo "$_stock"; false; }
}
# zc_refresh NAME [OPTIONS...]: zcryptsetup refresh with the test passphrase.
zc_refresh() {
  _name=$1
  shift
  printf %s "$ZC_PASS" | zcryptsetup refresh --key-file - "$@" "$_name"
}
# stock_flags DEV: the Flags line of stock cryptsetup's luksDump (without its trailing blank).
stock_flags() { cryptsetup luksDump "$1" | sed -n 's/^Flags:[[:space:]]*\(.*[^[:space:]]\)[[:space:]]*$/\1/p'; }

# perf_flag_checks DEV LABEL: cryptsetup's --perf-* flags one by one, --persistent replacing
# the stored flags as cryptsetup's does, refresh of a live mapping held open, status in
# cryptsetup's words; stock cryptsetup is the judge.
perf_flag_checks() {
  dev=$1 what=$2
  check "$what: format for the perf-flag checks" zc_format "$dev"
  for flag in same_cpu_crypt submit_from_crypt_cpus no_read_workqueue no_write_workqueue; do
    check "$what: open --perf-$flag" zc_open "$dev" zc_perf "--perf-$flag"
    check "$what: ... the table has $flag" table_has zc_perf "$flag"
    check "$what: ... status equals stock's status" same_status_as_stock zc_perf
    check "$what: ... close" zcryptsetup close zc_perf
  done

  # --disable-keyring: the key goes in the table, and status says so as stock's does.
  check "$what: open --disable-keyring" zc_open "$dev" zc_perf --disable-keyring
  check_output "$what: ... key location: dm-crypt" 'key location: dm-crypt' zcryptsetup status zc_perf
  check "$what: ... status equals stock's status" same_status_as_stock zc_perf
  check "$what: ... close" zcryptsetup close zc_perf

  # --persistent stores what this open asked for, replacing what was stored (cryptsetup's way).
  check "$what: open --persistent --perf-same_cpu_crypt --perf-submit_from_crypt_cpus" \
    zc_open "$dev" zc_perf --persistent --perf-same_cpu_crypt --perf-submit_from_crypt_cpus
  check "$what: ... close" zcryptsetup close zc_perf
  check "$what: ... stock luksDump shows both stored" \
    test "$(stock_flags "$dev")" = "same-cpu-crypt submit-from-crypt-cpus"
  check "$what: ... a plain stock open applies them" stock_open "$dev" zc_perf
  check "$what: ... same_cpu_crypt in stock's table" table_has zc_perf same_cpu_crypt
  check "$what: ... submit_from_crypt_cpus in stock's table" table_has zc_perf submit_from_crypt_cpus
  check "$what: ... stock close" cryptsetup close zc_perf
  check "$what: open --persistent --perf-no_read_workqueue" \
    zc_open "$dev" zc_perf --persistent --perf-no_read_workqueue
  check "$what: ... close" zcryptsetup close zc_perf
  check "$what: ... only no-read-workqueue is stored now" \
    test "$(stock_flags "$dev")" = "no-read-workqueue"
  check "$what: open --persistent without flags" zc_open "$dev" zc_perf --persistent
  check "$what: ... close" zcryptsetup close zc_perf
  check "$what: ... clears the stored flags" test "$(stock_flags "$dev")" = "(no flags)"

  # refresh: the same mapping (same device number), held open the whole time, gets new flags;
  # the data stays readable. At 128 MiB: on a zoned drive, a data zone nothing wrote yet.
  check "$what: open for refresh" zc_open "$dev" zc_live
  check "$what: write 4 MiB" write_pattern zc_live 4 128
  exec 3</dev/mapper/zc_live
  devno=$(dmsetup info -c --noheadings -o major,minor zc_live)
  check_output "$what: status says in use while held" 'is active and is in use' \
    zcryptsetup status zc_live
  check "$what: refresh --perf-force_inline" zc_refresh zc_live --perf-force_inline
  check "$what: ... no_read_workqueue now" table_has zc_live no_read_workqueue
  check "$what: ... no_write_workqueue now" table_has zc_live no_write_workqueue
  check_output "$what: ... status says inline" 'inline: +yes' zcryptsetup status zc_live
  check "$what: ... the same device" test "$(dmsetup info -c --noheadings -o major,minor zc_live)" = "$devno"
  check "$what: ... data reads back" read_pattern zc_live 4 128
  check "$what: ... status equals stock's status" same_status_as_stock zc_live
  check "$what: refresh without flags: back to the workqueues" zc_refresh zc_live
  check "$what: ... no no_read_workqueue" table_lacks zc_live no_read_workqueue
  check "$what: ... data reads back" read_pattern zc_live 4 128
  printf %s wrong-passphrase | check_exit 2 "$what: refresh with a wrong passphrase exits 2" \
    zcryptsetup refresh --key-file - --perf-force_inline zc_live
  check "$what: ... and leaves the table alone" table_lacks zc_live no_read_workqueue
  check "$what: refresh --persistent --perf-force_inline" zc_refresh zc_live --persistent --perf-force_inline
  check "$what: ... inline" table_has zc_live no_read_workqueue
  check_output "$what: ... stored, force-inline too" 'Flags: .*no-read-workqueue no-write-workqueue force-inline' \
    zcryptsetup luksDump "$dev"
  check "$what: refresh without flags keeps the stored inline flags" zc_refresh zc_live
  check "$what: ... still no_read_workqueue" table_has zc_live no_read_workqueue
  check "$what: ... the same device" test "$(dmsetup info -c --noheadings -o major,minor zc_live)" = "$devno"
  check "$what: ... data reads back" read_pattern zc_live 4 128
  printf %s "$ZC_PASS" | check_exit 4 "$what: refresh naming another device exits 4" \
    zcryptsetup refresh --key-file - /dev/null zc_live
  exec 3<&-
  check "$what: close" zcryptsetup close zc_live
}

# suspend_checks DEV LABEL: luksSuspend and luksResume, each tool resuming what the other
# suspended; data written before reads back after. At 192 MiB: on a zoned drive, a data zone
# nothing wrote yet.
suspend_checks() {
  dev=$1 what=$2
  check "$what: open for suspend" zc_open "$dev" zc_susp
  check "$what: write 4 MiB" write_pattern zc_susp 4 192
  check "$what: luksSuspend" zcryptsetup luksSuspend zc_susp
  check "$what: ... dm says suspended" sh -c 'dmsetup info zc_susp | grep -q SUSPENDED'
  check_output "$what: ... status says (suspended)" 'mode: +read/write \(suspended\)' \
    zcryptsetup status zc_susp
  check "$what: ... status equals stock's status" same_status_as_stock zc_susp
  check_exit 1 "$what: luksSuspend again exits 1" zcryptsetup luksSuspend zc_susp
  printf %s wrong-passphrase | check_exit 2 "$what: luksResume with a wrong passphrase exits 2" \
    zcryptsetup luksResume --key-file - zc_susp
  check "$what: ... still suspended" sh -c 'dmsetup info zc_susp | grep -q SUSPENDED'
  printf %s "$ZC_PASS" | check "$what: luksResume" zcryptsetup luksResume --key-file - zc_susp
  check "$what: ... running again" sh -c '! dmsetup info zc_susp | grep -q SUSPENDED'
  check "$what: ... data reads back" read_pattern zc_susp 4 192
  printf %s "$ZC_PASS" | check_exit 1 "$what: luksResume of a running mapping exits 1" \
    zcryptsetup luksResume --key-file - zc_susp
  check "$what: stock luksSuspend" cryptsetup luksSuspend zc_susp
  printf %s "$ZC_PASS" | check "$what: ... zcryptsetup luksResume resumes it" \
    zcryptsetup luksResume --key-file - zc_susp
  check "$what: zcryptsetup luksSuspend" zcryptsetup luksSuspend zc_susp
  printf %s "$ZC_PASS" | check "$what: ... stock luksResume resumes it" \
    cryptsetup luksResume --key-file - zc_susp
  check "$what: ... data reads back" read_pattern zc_susp 4 192
  check "$what: close" zcryptsetup close zc_susp
  check_exit 4 "$what: luksSuspend of a name not mapped exits 4" zcryptsetup luksSuspend zc_susp
}

# resize_checks DEV LABEL STEP: resize shrinks the live mapping by STEP sectors (a zone on a
# zoned drive) and grows it back, unlocking when the key is in the keyring and not when it is
# in the table; the data suspend_checks wrote at 192 MiB reads back throughout.
resize_checks() {
  dev=$1 what=$2 step=$3
  check "$what: open for resize" zc_open "$dev" zc_size
  full=$(blockdev --getsz /dev/mapper/zc_size)
  small=$((full - step))
  printf %s "$ZC_PASS" | check "$what: resize --size $small" \
    zcryptsetup resize --key-file - --size "$small" zc_size
  check "$what: ... the mapping has $small sectors" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$small"
  check "$what: ... status equals stock's status" same_status_as_stock zc_size
  check "$what: ... data reads back" read_pattern zc_size 4 192
  printf %s wrong-passphrase | check_exit 2 "$what: resize with a wrong passphrase exits 2" \
    zcryptsetup resize --key-file - zc_size
  check "$what: ... and leaves the size alone" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$small"
  if [ "$step" -gt 8 ]; then
    printf %s "$ZC_PASS" | check_exit 1 "$what: a size ending inside a zone exits 1" \
      zcryptsetup resize --key-file - --size $((small - 8)) zc_size
    check "$what: ... and leaves the size alone" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$small"
  fi
  printf %s "$ZC_PASS" | check "$what: resize without a size fills the device again" \
    zcryptsetup resize --key-file - zc_size
  check "$what: ... $full sectors" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$full"
  check "$what: ... data reads back" read_pattern zc_size 4 192
  check "$what: close" zcryptsetup close zc_size
  check "$what: open --disable-keyring" zc_open "$dev" zc_size --disable-keyring
  check "$what: resize of a key-in-table mapping asks no passphrase" \
    sh -c "zcryptsetup resize --size $small zc_size </dev/null"
  check "$what: ... $small sectors" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$small"
  check "$what: stock resize grows it back" cryptsetup resize zc_size
  check "$what: ... $full sectors" test "$(blockdev --getsz /dev/mapper/zc_size)" = "$full"
  check "$what: close" zcryptsetup close zc_size
  check_exit 4 "$what: resize of a name not mapped exits 4" zcryptsetup resize zc_size
}

# bad_input_checks DEV LABEL: refusals that must not map or write anything.
bad_input_checks() {
  dev=$1 what=$2
  check "$what: format for the refusal checks" zc_format "$dev"
  before=$(dd if="$dev" bs=1M count=1 2>/dev/null | md5sum)
  printf %s wrong-passphrase | check_exit 2 "$what: wrong passphrase exits 2" \
    zcryptsetup open --key-file - "$dev" zc_bad
  check_exit 1 "$what: ... and maps nothing" dm_exists zc_bad
  check "$what: ... and writes nothing" \
    sh -c "[ \"\$(dd if=$dev bs=1M count=1 2>/dev/null | md5sum)\" = \"$before\" ]"
  printf %s "$ZC_PASS" | check_exit 4 "$what: missing device exits 4" \
    zcryptsetup open --key-file - /dev/does-not-exist zc_bad
  check "$what: open a mapping" zc_open "$dev" zc_busy
  printf %s "$ZC_PASS" | check_exit 5 "$what: name already mapped exits 5" \
    zcryptsetup open --key-file - "$dev" zc_busy
  check "$what: close" zcryptsetup close zc_busy
  printf %s "$ZC_PASS" | check_output "$what: native force_inline is refused by this kernel" \
    "rejected dm-crypt's 'force_inline'" zcryptsetup open --key-file - --perf-force_inline=native "$dev" zc_native
  check_exit 1 "$what: ... and nothing is left mapped" dm_exists zc_native
  # The hand-built native table equals libcryptsetup's: with a feature argument this kernel
  # knows in place of force_inline, data written through libcryptsetup's mapping reads back.
  # At 64 MiB: on a zoned drive that is the start of a data zone nothing has written yet.
  # The switch exists only in builds with -DZCRYPTSETUP_TEST_HOOKS=ON (scripts/build.sh).
  if ! grep -q ZCRYPTSETUP_NATIVE_FEATURE_ARG "$(command -v zcryptsetup)"; then
    skip "$what: native table comparison" "zcryptsetup built without ZCRYPTSETUP_TEST_HOOKS"
    return 0
  fi
  check "$what: stock open for the native comparison" stock_open "$dev" zc_ref
  check "$what: write through stock mapping" write_pattern zc_ref 2 64
  check "$what: close" cryptsetup close zc_ref
  printf %s "$ZC_PASS" | ZCRYPTSETUP_NATIVE_FEATURE_ARG=no_read_workqueue check \
    "$what: native table with a known feature argument" \
    zcryptsetup open --key-file - --perf-force_inline=native "$dev" zc_native
  check "$what: ... reads what libcryptsetup's mapping wrote" read_pattern zc_native 2 64
  check "$what: ... stock cryptsetup status knows it" cryptsetup status zc_native
  check "$what: ... stock cryptsetup close closes it" cryptsetup close zc_native
}

# table_offset NAME: the data offset (sectors) of NAME's dm-crypt table.
table_offset() { dmsetup table "$1" | awk '{ print $8 }'; }

# detached_header_checks DEV LABEL HEADER: cryptsetup --header with the header on HEADER (a
# file or another disk) and DEV holding data only, from offset 0: zcryptsetup formats without
# writing to DEV, opens inline, data round-trips from sector 0 of DEV; stock cryptsetup opens
# it with --header; a key change, refresh, suspend/resume and resize name the header. DEV must
# be blank (zones reset) when zoned.
detached_header_checks() {
  dev=$1 what="$2, detached header" header=$3
  zoned=0
  [ "$(zone_sectors "$dev" 2>/dev/null || echo 0)" -gt 0 ] && zoned=1
  before=$(dd if="$dev" bs=1M count=4 2>/dev/null | md5sum)
  check "$what: luksFormat --header" zc_format "$dev" --header "$header"
  check "$what: ... nothing written to the data drive" \
    test "$(dd if="$dev" bs=1M count=4 2>/dev/null | md5sum)" = "$before"
  [ "$zoned" = 1 ] && check "$what: ... zone 0 still empty" zone_is "$dev" 0 em
  check_output "$what: ... stock luksDump of the header: data at offset 0" \
    'offset: +0 \[bytes\]' cryptsetup luksDump "$header"
  check_output "$what: zcryptsetup luksDump --header shows it too" 'offset: +0 \[bytes\]' \
    zcryptsetup luksDump --header "$header" "$dev"
  check "$what: open --header --perf-force_inline" \
    zc_open "$dev" zc_det --header "$header" --perf-force_inline
  check "$what: ... the table maps the drive from sector 0" test "$(table_offset zc_det)" = 0
  check "$what: ... inline (no_read_workqueue)" table_has zc_det no_read_workqueue
  check "$what: ... status equals stock's status --header" \
    same_status_as_stock zc_det --header "$header"
  check "$what: write 4 MiB at offset 0" write_pattern zc_det 4 0
  check "$what: ... reads back" read_pattern zc_det 4 0
  [ "$zoned" = 1 ] && check "$what: ... zone 0's write pointer moved to 4 MiB" \
    test "$(zone_wp "$dev" 0)" = 8192
  check "$what: ... the drive holds ciphertext at offset 0" \
    sh -c "! dd if=$dev bs=1M count=4 2>/dev/null | cmp -s - /tmp/pattern-0"
  check "$what: refresh --header back to the workqueues" zc_refresh zc_det --header "$header"
  check "$what: ... no_read_workqueue gone" table_lacks zc_det no_read_workqueue
  check_exit 4 "$what: refresh without --header exits 4" zc_refresh zc_det
  check "$what: luksSuspend" zcryptsetup luksSuspend zc_det
  printf %s "$ZC_PASS" | check "$what: luksResume --header" \
    zcryptsetup luksResume --key-file - --header "$header" zc_det
  check "$what: ... data reads back" read_pattern zc_det 4 0
  if [ "$zoned" = 1 ]; then
    step=$(zone_sectors "$dev")
  else
    step=8
  fi
  small=$(( $(blockdev --getsz /dev/mapper/zc_det) - step ))
  printf %s "$ZC_PASS" | check "$what: resize --header --size $small" \
    zcryptsetup resize --key-file - --header "$header" --size "$small" zc_det
  check "$what: ... $small sectors" test "$(blockdev --getsz /dev/mapper/zc_det)" = "$small"
  check "$what: close" zcryptsetup close zc_det
  check_exit 4 "$what: open of the data drive without --header exits 4" zc_open "$dev" zc_det
  check_exit 1 "$what: open of the header as the device exits 1 (its data would be the header)" \
    zc_open "$header" zc_det
  check_exit 1 "$what: ... and maps nothing" dm_exists zc_det
  check "$what: stock open --header" stock_open "$dev" zc_det --header "$header"
  check "$what: ... data reads back" read_pattern zc_det 4 0
  check "$what: ... close" cryptsetup close zc_det
  printf %s new-detached-pass >/tmp/zc-det-new
  printf %s "$ZC_PASS" | check "$what: luksChangeKey --header (new key from a file)" \
    zcryptsetup luksChangeKey -q $ZC_FAST_PBKDF --header "$header" --key-file - "$dev" /tmp/zc-det-new
  check "$what: ... stock opens with the new key" \
    cryptsetup open --test-passphrase --header "$header" --key-file /tmp/zc-det-new "$dev"
  printf %s "$ZC_PASS" | check_exit 2 "$what: ... and not with the old one (exit 2)" \
    cryptsetup open --test-passphrase --header "$header" --key-file - "$dev"
  check "$what: zcryptsetup opens with the new key" \
    zcryptsetup open --header "$header" --key-file /tmp/zc-det-new "$dev" zc_det
  check "$what: ... data reads back" read_pattern zc_det 4 0
  check "$what: ... close" zcryptsetup close zc_det
  rm -f /tmp/zc-det-backup
  check "$what: luksHeaderBackup --header" \
    zcryptsetup luksHeaderBackup --header "$header" --header-backup-file /tmp/zc-det-backup "$dev"
  check_exit 1 "$what: restoring that backup onto the data drive itself is refused (exit 1)" \
    zcryptsetup luksHeaderRestore -q --header-backup-file /tmp/zc-det-backup "$dev"
  check "$what: ... which still holds the data" sh -c "! dd if=$dev bs=1M count=4 2>/dev/null | cmp -s - /tmp/pattern-0"
  check "$what: luksHeaderRestore --header" \
    zcryptsetup luksHeaderRestore -q --header "$header" --header-backup-file /tmp/zc-det-backup "$dev"
  check "$what: ... opens, data reads back" sh -c "zcryptsetup open --header $header \
    --key-file /tmp/zc-det-new $dev zc_det && dd if=/dev/mapper/zc_det bs=1M count=4 iflag=direct 2>/dev/null | cmp - /tmp/pattern-0"
  close_if_open zc_det
  rm -f /tmp/zc-det-new /tmp/zc-det-backup
}
