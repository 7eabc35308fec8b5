# shellcheck shell=dash
# Issue 5 on the real kernel: crypttab entries by path and by UUID= open with their options
# applied (inline table flags, read-only), close; check reports a broken line by number; an
# unknown name maps nothing; --all opens several drives in parallel within a PBKDF memory
# budget (reserved and measured peaks printed) and faster than one at a time (ratio printed);
# a luks2-keyring token opens an entry with nothing asked.
. /zc/volume_checks.sh

check "load dm-crypt" load_dm_crypt
dmesg_mark  # this suite's kernel log starts here, not at boot (earlier suites provoke errors)

# Four zoned drives with argon2id keyslots of 64 MiB each: what the memory budget is about.
argon="--pbkdf argon2id --pbkdf-memory 65536 --pbkdf-parallel 1 --pbkdf-force-iterations 4"
tab=/tmp/crypttab
: >"$tab"
i=0
while [ $i -lt 4 ]; do
  d=$(make_nullb_zoned zone_size=64 zone_nr_conv=0 gb=1 bs=4096)
  printf %s "key-$i" >"/tmp/key$i"
  # shellcheck disable=SC2086
  check "format drive $i (argon2id, 64 MiB)" zcryptsetup luksFormat -q $argon "$d" "/tmp/key$i"
  eval "dev$i=$d"
  i=$((i + 1))
done
uuid1=$(zcryptsetup luksUUID "$dev1")
info "drives: $dev0 $dev1 $dev2 $dev3; $dev1 has UUID $uuid1"
cat >"$tab" <<TAB
# name      device          key file     options
inline0     $dev0           /tmp/key0    luks,force-inline
byuuid1	UUID=$uuid1	/tmp/key1	luks,read-only,x-systemd.device-timeout=10
plain2      $dev2           /tmp/key3    luks,nofail
later3      $dev3           /tmp/key3    luks,noauto,force-inline
TAB

check "crypttab check of a good file" zcryptsetup crypttab check --crypttab "$tab"
check_output "... warns about the unknown option" "warning: unknown option 'x-systemd.device-timeout=10'" \
  zcryptsetup crypttab check --crypttab "$tab"
check_output "crypttab list" 'byuuid1 +UUID=' zcryptsetup crypttab list --crypttab "$tab"

check "open an entry by path" zcryptsetup crypttab open inline0 --crypttab "$tab"
check "... force-inline gives no_read_workqueue" table_has inline0 no_read_workqueue
check "... and no_write_workqueue" table_has inline0 no_write_workqueue
check "open an entry by UUID=" zcryptsetup crypttab open byuuid1 --crypttab "$tab"
check_output "... read-only applied" 'READ-ONLY' dmsetup info byuuid1
check_output "... backed by the right drive" "${dev1#/dev/}" zcryptsetup status byuuid1
check_exit 2 "an entry whose key file does not unlock exits 2" \
  zcryptsetup crypttab open plain2 --crypttab "$tab"
check_exit 1 "... and maps nothing" dm_exists plain2
check_exit 1 "an unknown name exits 1" zcryptsetup crypttab open nosuch --crypttab "$tab"
check_exit 1 "... and maps nothing" dm_exists nosuch
check "close by name" zcryptsetup crypttab close inline0 --crypttab "$tab"
check "close --all" zcryptsetup crypttab close --all --crypttab "$tab"
check_exit 1 "... nothing left mapped" dm_exists byuuid1

broken=/tmp/crypttab.broken
{ cat "$tab"; echo "lonely"; echo "bad/name /dev/null"; } >"$broken"
check_exit 1 "check of a broken file exits 1" zcryptsetup crypttab check --crypttab "$broken"
check_output "... names line 6" "$broken:6: " zcryptsetup crypttab check --crypttab "$broken"
check_output "... and line 7" "$broken:7: " zcryptsetup crypttab check --crypttab "$broken"

# --all: three auto entries with good keys (plain2's key is fixed for this part).
sed -i "s|/tmp/key3    luks,nofail|/tmp/key2    luks,nofail|" "$tab"
run_all() {
  budget=$1
  # busybox date has no %N: milliseconds since boot from /proc/uptime.
  start=$(awk '{printf "%d", $1 * 1000}' /proc/uptime)
  zcryptsetup crypttab open --all --memory-budget "$budget" --crypttab "$tab" >/tmp/all.out 2>&1
  rc=$?
  end=$(awk '{printf "%d", $1 * 1000}' /proc/uptime)
  cat /tmp/all.out
  zcryptsetup crypttab close --all --crypttab "$tab" >/dev/null 2>&1
  echo "elapsed_ms $((end - start))"
  return $rc
}
run_all 70M >/tmp/serial.out 2>&1; serial_rc=$?
run_all 1G >/tmp/parallel.out 2>&1; parallel_rc=$?
check "--all with a 70M budget succeeds" test "$serial_rc" -eq 0
check "--all with a 1G budget succeeds" test "$parallel_rc" -eq 0
check_output "--all opened the three auto entries (not noauto)" 'Opened 3 of 3 drives' cat /tmp/parallel.out
check_output "... progress is printed as drives come up" '\[3/3\]' cat /tmp/parallel.out
check_output "70M budget: never more than one 64 MiB opener reserved at once" 'most reserved at once 64 MiB' cat /tmp/serial.out
check_output "1G budget: openers overlapped" 'most reserved at once (128|192) MiB' cat /tmp/parallel.out
check_exit 1 "noauto entry was not opened" dm_exists later3
serial_ms=$(sed -n 's/^elapsed_ms //p' /tmp/serial.out)
parallel_ms=$(sed -n 's/^elapsed_ms //p' /tmp/parallel.out)
info "FIGURE crypttab --all: serial $serial_ms ms, parallel $parallel_ms ms, ratio $(awk -v a="$serial_ms" -v b="$parallel_ms" 'BEGIN{printf "%.2f", a/b}') x"
info "$(grep Opened /tmp/serial.out) [budget 70M]"
info "$(grep Opened /tmp/parallel.out) [budget 1G]"
# A LUKS2 token (issue 11): libcryptsetup's built-in luks2-keyring token, its passphrase in
# root's user keyring, opens a real dm-crypt mapping with no passphrase asked (standard input
# /dev/null), inline; a wrong one in the keyring falls back to the key file's absence: exit 2.
tokdev=$(make_brd 64)
printf %s token-key >/tmp/tokkey
check "format a brd drive for the token" zcryptsetup luksFormat -q --pbkdf pbkdf2 \
  --pbkdf-force-iterations 1000 "$tokdev" /tmp/tokkey
check "cryptsetup token add (luks2-keyring)" cryptsetup token add --key-description zc-vm-token "$tokdev"
tokid=$(keyctl padd user zc-vm-token @u </tmp/tokkey)
check "the token's passphrase is in the keyring" test -n "$tokid"
printf 'tok %s none force-inline\n' "$tokdev" >/tmp/crypttab.token
check "crypttab open by token, nothing asked" zcryptsetup crypttab open tok --crypttab /tmp/crypttab.token </dev/null
check "... force-inline gives no_read_workqueue" table_has tok no_read_workqueue
check "... and no_write_workqueue" table_has tok no_write_workqueue
check "close it" zcryptsetup close tok
check "open --token-only maps it" zcryptsetup open --token-only "$tokdev" tok2 </dev/null
check "... close" zcryptsetup close tok2
keyctl update "$tokid" wrong
check_exit 2 "a wrong token secret with --token-only: exit 2" \
  zcryptsetup open --token-only "$tokdev" tok3 </dev/null
check_exit 1 "... and maps nothing" dm_exists tok3
keyctl unlink "$tokid" @u >/dev/null
remove_brd

check_no_io_errors "no kernel I/O errors"
