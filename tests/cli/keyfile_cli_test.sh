#!/usr/bin/env bash
# Key files and `crypttab open --all` on regular files (issue 8, items 11 and 12): what a key
# file may be (a FIFO must not hang the boot), the world-readable/writable warning, keyfile-offset
# and keyfile-size bounds, and the summary and exit status of `open --all` when openers fail
# early, fail, cannot be started, or are reaped behind its back. No device-mapper needed.
#
#   keyfile_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: keyfile_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/keyfile_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

. "$(dirname "$0")/cli_lib.sh"

disk=$work/disk.img
truncate -s 64M "$disk"
printf %s secret >"$work/key"
chmod 600 "$work/key"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$disk" || { echo "not ok - setup: luksFormat"; exit 1; }

# --- what a key file may be -------------------------------------------------------------------
# No writer ever opens the FIFO: a tool that waited for one would hang until the 60-s guard
# (exit 124), so the exit code alone shows it did not wait. The guards below are the same:
# generous, since a check must not fail because the machine is slow.
mkfifo "$work/fifo"
expect 1 "a FIFO key file is refused with exit 1, without waiting for a writer" \
  timeout 60 "$Z" open --test-passphrase --key-file "$work/fifo" "$disk"
matches 'not a regular file' "... and says why"
printf 'fifovol %s %s\n' "$disk" "$work/fifo" >"$work/fifo.crypttab"
expect 1 "crypttab open with a FIFO key file: exit 1, no hang" \
  timeout 60 "$Z" crypttab open --crypttab "$work/fifo.crypttab" fifovol
expect 1 "a character device key file (/dev/zero) is refused" \
  timeout 60 "$Z" open --test-passphrase --key-file /dev/zero "$disk"
matches 'not a regular file' "... and says why"
mkdir "$work/keydir"
expect 1 "a directory key file is refused" "$Z" open --test-passphrase --key-file "$work/keydir" "$disk"
ln -s "$work/key" "$work/key.link"
expect 0 "a symlink to a regular key file is followed" \
  "$Z" open --test-passphrase --key-file "$work/key.link" "$disk"
expect 0 "'-' (standard input, a pipe) is still read" \
  bash -c 'printf secret | "$1" open --test-passphrase --key-file - "$2"' _ "$Z" "$disk"

# --- permissions: warned about, as systemd-cryptsetup does, and still used ----------------------
expect 0 "a key file only root can read: unlocks" "$Z" open --test-passphrase --key-file "$work/key" "$disk"
lacks 'not a good idea' "... without a warning"
chmod 606 "$work/key"
expect 0 "a world-writable key file still unlocks" "$Z" open --test-passphrase --key-file "$work/key" "$disk"
matches "Key file $work/key is world-readable and world-writable\. This is not a good idea!" \
  "... with the warning"
chmod 602 "$work/key"
expect 0 "a world-writable (not readable) key file unlocks" "$Z" open --test-passphrase --key-file "$work/key" "$disk"
matches "Key file $work/key is world-writable\. This is not a good idea!" "... with the warning"
chmod 644 "$work/key"
expect 0 "a world-readable key file unlocks" "$Z" open --test-passphrase --key-file "$work/key" "$disk"
matches "Key file $work/key is world-readable\. This is not a good idea!" "... with the warning"
chmod 600 "$work/key"

# --- keyfile-offset and keyfile-size ----------------------------------------------------------
# The key is the bytes `tail -c +OFFSET+1 | head -c SIZE` selects.
big=$work/big.key
head -c 2097152 /dev/urandom >"$big"
chmod 600 "$big"
off=1048576
tail -c +$((off + 1)) "$big" | head -c 4096 >"$work/part.key"
tail -c +$((off + 1)) "$big" >"$work/rest.key"
off_disk=$work/off.img rest_disk=$work/rest.img
truncate -s 64M "$off_disk" "$rest_disk"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/part.key" "$off_disk"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/rest.key" "$rest_disk"
expect 0 "offset 1 MiB, size 4 KiB into a 2 MiB file selects tail|head's bytes" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-offset $off --keyfile-size 4096 "$off_disk"
expect 2 "... one byte later does not unlock" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-offset $((off + 1)) --keyfile-size 4096 "$off_disk"
expect 0 "offset 1 MiB without a size reads the rest of the file" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-offset $off "$rest_disk"
expect 0 "the same offset on standard input (a pipe, read and discarded)" \
  bash -c 'cat "$2" | "$1" open --test-passphrase --key-file - --keyfile-offset 1048576 --keyfile-size 4096 "$3"' \
  _ "$Z" "$big" "$off_disk"
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
  strace -f -e trace=read -o "$work/strace.log" \
    "$Z" open --test-passphrase --key-file "$big" --keyfile-offset $off --keyfile-size 4096 "$off_disk" \
    >/dev/null 2>&1
  reads=$(grep -c 'read(' "$work/strace.log")
  (( reads < 1000 )) && ok "a 1 MiB offset in a regular file is a seek ($reads reads)" ||
    not_ok "a 1 MiB offset in a regular file is a seek ($reads reads, wanted < 1000)"
else
  echo "# strace unavailable: the read count check is skipped"
fi
expect 1 "an offset past the end: exit 1" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-offset 3000000 "$disk"
matches 'keyfile offset' "... with a clear message"
expect 1 "the largest offset: exit 1 at once" \
  timeout 60 "$Z" open --test-passphrase --key-file "$big" --keyfile-offset 18446744073709551615 --keyfile-size 1 "$disk"
expect 1 "the largest offset on a pipe: exit 1 at EOF" \
  timeout 60 bash -c 'head -c 100 "$2" | "$1" open --test-passphrase --key-file - --keyfile-offset 18446744073709551615 "$3"' \
  _ "$Z" "$big" "$disk"
expect 1 "offset + size past the end: exit 1" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-offset $off --keyfile-size 1048577 "$disk"
matches 'requested amount' "... cannot read the requested amount"
expect 1 "a keyfile-size over the 8 MiB limit is refused before reading (stdin endless)" \
  timeout 60 bash -c 'yes | "$1" open --test-passphrase --key-file - --keyfile-size 1073741824 "$2"' _ "$Z" "$disk"
matches '8 MiB' "... naming the limit"
expect 1 "... and from a regular file" \
  "$Z" open --test-passphrase --key-file "$big" --keyfile-size 8388609 "$disk"

# --- crypttab open --all: the summary counts what happened ------------------------------------
# Wrong keys: every opener fails, whatever the machine (no mapping is ever created).
printf wrong >"$work/wrong.key"
chmod 600 "$work/wrong.key"
a_img=$work/a.img b_img=$work/b.img
truncate -s 64M "$a_img" "$b_img"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$a_img"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$b_img"
printf 'zct-early-1 /dev/zcryptsetup-test-absent-1 -\nzct-early-2 /dev/zcryptsetup-test-absent-2 -\n' \
  >"$work/early.crypttab"
expect 4 "open --all, every entry failing before its opener: exit 4" \
  "$Z" crypttab open --all --crypttab "$work/early.crypttab"
matches '^Opened 0 of 2 drives' "... summary: Opened 0 of 2"
printf 'zct-a %s %s\nzct-b %s %s\nzct-c /dev/zcryptsetup-test-absent-3 -\n' \
  "$a_img" "$work/wrong.key" "$b_img" "$work/wrong.key" >"$work/all.crypttab"
"$Z" crypttab open --all --crypttab "$work/all.crypttab" >"$work/all.out" 2>&1 </dev/null
rc=$?; OUT=$(cat "$work/all.out")
[[ $rc != 0 ]] && ok "open --all, openers failing: non-zero exit ($rc)" || not_ok "open --all, openers failing: exit $rc" "$OUT"
matches '^Opened 0 of 3 drives' "... summary: Opened 0 of 3"
matches '^\[1/2\] zct-[ab]: failed' "... each opener reported"
# SIGCHLD ignored by whoever started zcryptsetup (inherited through exec): the kernel reaps
# the openers itself and wait4() fails with ECHILD; that must not read as success.
if command -v perl >/dev/null; then
  perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or exit 127' \
    "$Z" crypttab open --all --crypttab "$work/all.crypttab" >"$work/ign.out" 2>&1 </dev/null
  rc=$?; OUT=$(cat "$work/ign.out")
  [[ $rc != 0 ]] && ok "open --all with SIGCHLD ignored: non-zero exit ($rc)" ||
    not_ok "open --all with SIGCHLD ignored: exit $rc" "$OUT"
  lacks 'Opened [1-9]' "... never counts a lost opener as opened"
  matches '^Opened 0 of 3 drives' "... summary: Opened 0 of 3"
fi
# fork() failing: as an unprivileged user with RLIMIT_NPROC 2 (itself and one opener), the
# first opener starts and the second cannot. The first must still be waited for and reported.
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then
  chmod 755 "$work"
  chmod 644 "$a_img" "$b_img" "$work/wrong.key" "$work/all.crypttab"
  for nproc in 1 2; do
    setpriv --reuid=65534 --regid=65534 --clear-groups prlimit --nproc=$nproc -- \
      "$Z" crypttab open --all --crypttab "$work/all.crypttab" >"$work/fork.out" 2>&1 </dev/null
    rc=$?; OUT=$(cat "$work/fork.out")
    [[ $rc != 0 ]] && ok "fork failing (nproc $nproc): non-zero exit ($rc)" ||
      not_ok "fork failing (nproc $nproc): exit $rc" "$OUT"
    matches 'not opened: .*opener' "... (nproc $nproc) the drive not started is reported"
    matches '^Opened 0 of 3 drives' "... (nproc $nproc) summary: Opened 0 of 3"
    # Everything about the openers comes before the summary: they were waited for.
    late=$(awk '/^Opened / { summary = 1; next } summary && /zct-[ab]/' <<<"$OUT")
    grep -q '^Opened ' <<<"$OUT" && [[ -z $late ]] && ok "... (nproc $nproc) no opener outlives zcryptsetup" ||
      not_ok "... (nproc $nproc) no opener outlives zcryptsetup (after the summary: $late)" "$OUT"
  done
  [[ $(grep -c '^\[1/2\] zct-a: failed' "$work/fork.out") == 1 ]] &&
    ok "... (nproc 2) the opener that started is reaped and reported" ||
    not_ok "... (nproc 2) the opener that started is reaped and reported" "$(cat "$work/fork.out")"
  chmod 600 "$work/wrong.key"
else
  echo "# not root, or setpriv/prlimit missing: the fork failure checks are skipped"
fi

echo "keyfile: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
