#!/usr/bin/env bash
# `zcryptsetup enroll` on regular files (issue 11): the real systemd-cryptenroll (--password,
# --recovery-key, --wipe-slot) and stock cryptsetup as the tools, run on the private copy; the
# "{}" rule; the copy's place, mode and lock; every refusal leaves the volume byte for byte as
# it was. Zoned drives: tests/unit/metadata (emulator, power cuts) and tests/boot (NVMe ZNS,
# TPM2, clevis). No device-mapper needed.
#
#   enroll_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: enroll_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/enroll_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

. "$(dirname "$0")/cli_lib.sh"
unchanged() {
  if cmp -s "$disk" "$work/before.img"; then ok "$1: the volume is byte for byte as it was"; else
    not_ok "$1: the volume changed"; fi
}
opens() {  # opens NAME PASSPHRASE: zcryptsetup and stock cryptsetup both accept it
  local rc1 rc2
  printf %s "$2" | "$Z" open --test-passphrase --key-file - "$disk" >/dev/null 2>&1; rc1=$?
  printf %s "$2" | cryptsetup open --test-passphrase --key-file - "$disk" >/dev/null 2>&1; rc2=$?
  [[ $rc1 == 0 && $rc2 == 0 ]] && ok "$1" || not_ok "$1 (zcryptsetup $rc1, cryptsetup $rc2)"
}
refuses() {
  local rc
  printf %s "$2" | "$Z" open --test-passphrase --key-file - "$disk" >/dev/null 2>&1; rc=$?
  [[ $rc == 2 ]] && ok "$1" || not_ok "$1 (zcryptsetup exit $rc, wanted 2)"
}

if ! command -v systemd-cryptenroll >/dev/null; then
  echo "# systemd-cryptenroll is missing (package systemd): skipped"
  exit 77
fi

disk=$work/disk.img
truncate -s 64M "$disk"
printf %s first >"$work/key"
chmod 600 "$work/key"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$disk" || { echo "not ok - setup"; exit 1; }
cp "$disk" "$work/before.img"

# --- the command line ----------------------------------------------------------------------
expect 1 "enroll without a command: exit 1" "$Z" enroll "$disk"
matches 'Usage: zcryptsetup enroll <device> -- <command>' "... with the usage"
expect 1 "enroll with '--' and nothing after it: exit 1" "$Z" enroll "$disk" --
expect 4 "enroll on a file that is not LUKS: exit 4" "$Z" enroll "$work/key" -- true
expect 1 "a tool that does not exist: exit 1" "$Z" enroll "$disk" -- /nonexistent/tool {}
matches 'Cannot run /nonexistent/tool' "... says it cannot run it"
unchanged "a missing tool"
expect 1 "a tool naming the device itself is refused at once" timeout 60 "$Z" enroll "$disk" -- \
  systemd-cryptenroll --password "$disk"
matches 'names .* itself' "... and says to write {}"
unchanged "a tool naming the device"

# --- "{}", the private copy and the lock ----------------------------------------------------
export DISK=$disk
expect 0 "only the first {} is replaced (clevis's pin configuration '{}' survives)" \
  "$Z" enroll "$disk" -- bash -c 'printf "%s\n" "$@" >"$0.args"; stat -c "%a %U %F" "$1" >"$0.stat"
    df --output=fstype "$1" | tail -1 >"$0.fs"
    if flock -n -s "$DISK" true; then echo free; else echo locked; fi >"$0.lock"' \
  "$work/tool" {} tpm2 '{}'
args=$(cat "$work/tool.args" 2>/dev/null)
[[ $(sed -n 1p <<<"$args") =~ ^/(run|dev/shm)/zcryptsetup/enroll-[0-9a-f]{24}\.img$ &&
  $(sed -n 2,3p <<<"$args" | tr '\n' ' ') == "tpm2 {} " ]] &&
  ok "... the tool got the image path, then 'tpm2' and '{}'" || not_ok "... arguments" "$args"
[[ $(cat "$work/tool.stat") == "600 root regular file" ]] && ok "... the image is a 0600 regular file" ||
  not_ok "... the image's mode" "$(cat "$work/tool.stat")"
[[ $(cat "$work/tool.fs") == tmpfs ]] && ok "... on tmpfs" || not_ok "... on tmpfs" "$(cat "$work/tool.fs")"
[[ $(cat "$work/tool.lock") == locked ]] && ok "... while cryptsetup's lock of the device is held" ||
  not_ok "... the lock was free while the tool ran"
image=$(sed -n 1p <<<"$args")
[[ -n $image && ! -e $image ]] && ok "... the image is gone afterwards" || not_ok "... $image is still there"
matches 'changed nothing; nothing was written' "... a tool that changes nothing: nothing written"
unchanged "a tool that changed nothing"

expect 1 "a tool that fails after changing the copy: exit 1" "$Z" enroll "$disk" -- \
  bash -c 'printf %s first | cryptsetup luksAddKey -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$0" "$1" && exit 3' \
  {} "$work/key"
matches 'failed \(exit code 3\)\. Nothing was written' "... says so"
unchanged "a failed tool"
expect 1 "a tool that changes the UUID: refused" "$Z" enroll "$disk" -- \
  cryptsetup luksUUID -q --uuid 11111111-2222-3333-4444-555555555555 {}
matches 'changed the volume itself \(UUID\)' "... as another volume"
unchanged "another UUID"
expect 1 "a tool that reformats the copy: refused" "$Z" enroll "$disk" -- \
  bash -c 'printf %s x | cryptsetup luksFormat -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file - "$0"' {}
unchanged "a reformatted copy"
expect 1 "a tool that truncates the copy: refused" "$Z" enroll "$disk" -- truncate -s 4096 {}
matches 'must not change the metadata size' "... says why"
unchanged "a truncated copy"
ls /run/zcryptsetup /dev/shm/zcryptsetup 2>/dev/null | grep -q enroll- &&
  not_ok "an image file was left behind" || ok "no image file is left behind after the refusals"

# --- systemd-cryptenroll, the real one ------------------------------------------------------
expect 0 "systemd-cryptenroll --password (no {}: the image path is appended)" \
  env PASSWORD=first NEWPASSWORD=second "$Z" enroll "$disk" -- systemd-cryptenroll --password
matches 'keyslots: 0 -> 0,1' "... reports the new keyslot"
opens "... the new passphrase opens the volume" second
opens "... the first one still does" first

OUT=$(PASSWORD=first "$Z" enroll "$disk" -- systemd-cryptenroll --recovery-key {} 2>"$work/err" </dev/null)
rc=$?
recovery=$(grep -Eo '^[a-z]{8}(-[a-z]{8}){7}$' <<<"$OUT" | head -1)
[[ $rc == 0 && -n $recovery ]] && ok "systemd-cryptenroll --recovery-key: the key is on standard output" ||
  not_ok "systemd-cryptenroll --recovery-key (exit $rc)" "$OUT$(cat "$work/err")"
OUT=$(cat "$work/err")
matches 'tokens: +none -> 0: systemd-recovery \(keyslot 2\)' "... reports the token and its keyslot"
opens "... the recovery key opens the volume" "$recovery"
expect 0 "stock cryptsetup sees the token" cryptsetup token export --token-id 0 "$disk"
matches '"type":"systemd-recovery"' "... of type systemd-recovery"

expect 0 "systemd-cryptenroll --wipe-slot=recovery" \
  env PASSWORD=first "$Z" enroll "$disk" -- systemd-cryptenroll --wipe-slot=recovery {}
matches 'tokens: +0: systemd-recovery \(keyslot 2\) -> none' "... removes the token"
refuses "... the recovery key no longer opens the volume" "$recovery"
opens "... the passphrases still do" second
expect 1 "... stock cryptsetup finds no token 0" cryptsetup token export --token-id 0 "$disk"
matches 'Failed to get token 0' "... and says so"

expect 0 "systemd-cryptenroll --wipe-slot=1 (by number)" \
  env PASSWORD=first "$Z" enroll "$disk" -- systemd-cryptenroll --wipe-slot=1 {}
refuses "... the wiped passphrase no longer opens" second
opens "... the other one does" first

expect 1 "systemd-cryptenroll with a wrong current passphrase fails: nothing written" \
  env PASSWORD=wrong NEWPASSWORD=third "$Z" enroll "$disk" -- systemd-cryptenroll --password {}
refuses "... no keyslot was added" third

# --- a data offset beyond the metadata, as on every zoned drive (data at a zone boundary) -----
# The private copy ends with the keyslots area, long before the data: the tool must accept it
# (libcryptsetup checks a header file's length against its keyslots area, not the data offset).
far=$work/far.img
truncate -s 200M "$far"
"$Z" luksFormat -q "${pbkdf[@]}" --offset 262144 --key-file "$work/key" "$far" >/dev/null 2>&1 ||
  not_ok "setup: luksFormat --offset 262144"
expect 0 "systemd-cryptenroll --password on a volume whose data starts at 128 MiB" \
  env PASSWORD=first NEWPASSWORD=far "$Z" enroll "$far" -- systemd-cryptenroll --password {}
printf %s far | cryptsetup open --test-passphrase --key-file - "$far" >/dev/null 2>&1 &&
  ok "... stock cryptsetup opens it with the new passphrase" || not_ok "... the new passphrase"

# --- a token by stock cryptsetup, run through enroll ----------------------------------------
printf '{"type":"zcryptsetup-cli-test","keyslots":["0"],"note":"x"}' >"$work/token.json"
expect 0 "cryptsetup token import through enroll" \
  "$Z" enroll "$disk" -- cryptsetup token import --json-file "$work/token.json" {}
expect 0 "... zcryptsetup's dump shows it" "$Z" luksDump "$disk"
matches 'zcryptsetup-cli-test' "... by type"

echo "enroll: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
