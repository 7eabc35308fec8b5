#!/usr/bin/env bash
# The CLI contract on regular files (no root, no device-mapper needed): option and action
# tables, cryptsetup's exit codes, refusals that leave the target untouched, and interop with
# stock cryptsetup on the header where it is installed. Usage: cli_test.sh PATH/TO/zcryptsetup
set -uo pipefail
Z=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
. "$(dirname "$0")/proc_lib.sh"

# expect CODE NAME CMD...: CMD exits with CODE.
expect() {
  local code=$1 name=$2
  shift 2
  local out rc
  out=$("$@" 2>&1 </dev/null)
  rc=$?
  if [[ $rc == "$code" ]]; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name (exit $rc, wanted $code)"; sed 's/^/    | /' <<<"$out" | head -20
  fi
}
# expect_output PATTERN NAME CMD...: CMD's output matches PATTERN (grep -E).
expect_output() {
  local pattern=$1 name=$2
  shift 2
  local out
  out=$("$@" 2>&1 </dev/null)
  if grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name (no match for $pattern)"; sed 's/^/    | /' <<<"$out" | head -20
  fi
}
with_key() { local key=$1; shift; printf %s "$key" | "$@"; }
digest() { sha256sum "$1" | cut -d' ' -f1; }

disk=$work/disk.img
truncate -s 64M "$disk"
printf %s secret >"$work/key"

# Parsing and the tables.
expect 0 "--help exits 0" "$Z" --help
expect_output 'luksFormat' "--help lists the actions" "$Z" --help
expect_output '^  open\|luksOpen <device> <name> +open a LUKS2 device' \
  "--help: an action's synopsis and summary come from the action table" "$Z" --help
expect_output '^  crypttab check +report every bad crypttab line' \
  "--help: crypttab's sub-verbs come from its sub-verb table" "$Z" --help
expect_output '^ +persistent --perf-force_inline\[=off\]$' "--help: a summary's second line is indented" \
  "$Z" --help
expect_output 'Usage: zcryptsetup crypttab open\|close <name>\|--all, check\|list' \
  "crypttab without a sub-verb: the usage names them all" "$Z" crypttab
expect_output 'Usage: zcryptsetup crypttab check \[--crypttab <file>\]' \
  "crypttab check with a name: its own usage" "$Z" crypttab check x
expect 1 "unknown crypttab sub-verb: exit 1" "$Z" crypttab frobnicate
expect 1 "crypttab check --test-passphrase: exit 1, only open takes it" \
  "$Z" crypttab check --test-passphrase --crypttab /dev/null
expect_output 'zcryptsetup [0-9]' "--version" "$Z" --version
expect 1 "no action: exit 1" "$Z"
expect 1 "unknown action: exit 1" "$Z" frobnicate "$disk"
expect 1 "unknown option: exit 1" "$Z" luksDump --no-such-option "$disk"
expect_output 'Option --perf-force_inline is not allowed with luksDump action' \
  "an option another action owns is refused by name" "$Z" luksDump --perf-force_inline "$disk"
expect 1 "... with exit 1" "$Z" luksDump --perf-force_inline "$disk"
expect_output 'Usage: zcryptsetup open' "too few arguments print the usage" "$Z" open
expect 1 "bad --perf-force_inline mode: exit 1" "$Z" open --perf-force_inline=bogus "$disk" x
expect 1 "--type luks1 is refused: exit 1" "$Z" isLuks --type luks1 "$disk"
expect 1 "luksFormat --perf-force_inline=native is refused" "$Z" luksFormat -q \
  --perf-force_inline=native --key-file "$work/key" "$disk"

# Numbers are parsed strictly: no sign, no wrap-around, no unit product past 64 bits.
expect 1 "--luks2-metadata-size 18014398509482000k (wraps to 16k when unchecked): exit 1" \
  "$Z" luksFormat -q --dry-run --luks2-metadata-size 18014398509482000k "$disk"
expect_output "Invalid size '18014398509482000k' for --luks2-metadata-size" "... named in the message" \
  "$Z" luksFormat -q --dry-run --luks2-metadata-size 18014398509482000k "$disk"
expect 1 "--keyfile-offset -1: exit 1" "$Z" luksFormat -q --dry-run --keyfile-offset -1 "$disk"
expect 1 "--keyfile-offset 2^64: exit 1" "$Z" luksFormat -q --dry-run \
  --keyfile-offset 18446744073709551616 "$disk"
expect 1 "--offset -1: exit 1" "$Z" luksFormat -q --dry-run --offset -1 "$disk"
expect 1 "--offset whose bytes overflow: exit 1" "$Z" luksFormat -q --dry-run \
  --offset 36028797018963968 "$disk"
expect_output "offset: '-1' is not a decimal number" "... named in the message" \
  "$Z" luksFormat -q --dry-run --offset -1 "$disk"
expect 1 "--key-size 2^32+8: exit 1" "$Z" luksFormat -q --dry-run --key-size 4294967304 "$disk"
expect 1 "--key-slot 32: exit 1" "$Z" luksFormat -q --dry-run --key-slot 32 "$disk"
expect 1 "--tries 0: exit 1" "$Z" open --tries 0 "$disk" x
expect 1 "--memory-budget 20000000000G: exit 1" "$Z" crypttab open --all \
  --memory-budget 20000000000G --crypttab /dev/null
expect 1 "luksKillSlot with a keyslot number past 31: exit 1" "$Z" luksKillSlot -q "$disk" 4294967296

# A device smaller than its own metadata is refused, as stock refuses it ("too small").
small_luks=$work/small-luks.img
truncate -s 64M "$small_luks"
expect 0 "format a file to shrink" "$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$small_luks"
truncate -s 12M "$small_luks"
expect 1 "isLuks of a file smaller than its metadata: exit 1" "$Z" isLuks "$small_luks"
expect 4 "luksDump of a file smaller than its metadata: exit 4" "$Z" luksDump "$small_luks"
expect_output 'too small.*16777216' "... naming the bytes the metadata needs" "$Z" luksDump "$small_luks"
expect 4 "open --test-passphrase of it: exit 4" "$Z" open --test-passphrase \
  --key-file "$work/key" "$small_luks"
if command -v cryptsetup >/dev/null; then
  expect 1 "... stock cryptsetup refuses it too" cryptsetup luksDump "$small_luks"
fi

# Refusals leave the file as it was.
before=$(digest "$disk")
expect 1 "--offset inside the metadata: exit 1" "$Z" luksFormat -q "${pbkdf[@]}" --offset 64 \
  --key-file "$work/key" "$disk"
expect 1 "bad --luks2-metadata-size: exit 1" "$Z" luksFormat -q "${pbkdf[@]}" \
  --luks2-metadata-size 20k --key-file "$work/key" "$disk"
truncate -s 8M "$work/small.img"
expect 4 "a file too small for metadata and data: exit 4" "$Z" luksFormat -q "${pbkdf[@]}" \
  --key-file "$work/key" "$work/small.img"
expect 4 "missing device: exit 4" "$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" \
  "$work/none.img"
expect 1 "missing key file: exit 1" "$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/nokey" "$disk"
[[ $(digest "$disk") == "$before" ]] && { passed=$((passed + 1)); echo "ok - refusals wrote nothing"; } ||
  { failed=$((failed + 1)); echo "not ok - refusals wrote nothing"; }

# layout and --dry-run plan without writing.
expect_output 'Placement: +standard \(planned\)' "layout of an empty file shows the plan" "$Z" layout "$disk"
expect_output 'Data segment: offset 16777216' "... data at 16 MiB like cryptsetup" "$Z" layout "$disk"
expect_output 'Data segment: offset 33554432' "layout honours --offset" "$Z" layout --offset 65536 "$disk"
expect 0 "luksFormat --dry-run" "$Z" luksFormat --dry-run "$disk"
[[ $(digest "$disk") == "$before" ]] && { passed=$((passed + 1)); echo "ok - layout and --dry-run wrote nothing"; } ||
  { failed=$((failed + 1)); echo "not ok - layout and --dry-run wrote nothing"; }

# Format and read back.
expect 0 "luksFormat with a positional key file" "$Z" luksFormat -q "${pbkdf[@]}" \
  --label backup --uuid 4a1e0b6c-3f0e-4d7e-9d8c-0a2b3c4d5e6f "$disk" "$work/key"
expect 0 "isLuks" "$Z" isLuks "$disk"
expect_output '^4a1e0b6c-3f0e-4d7e-9d8c-0a2b3c4d5e6f$' "luksUUID prints --uuid" "$Z" luksUUID "$disk"
expect_output 'Label:.*backup' "luksDump shows --label" "$Z" luksDump "$disk"
expect_output 'Placement: +standard \(on disk\)' "luksDump shows the standard placement" "$Z" luksDump "$disk"
expect_output 'Placement: +standard \(on disk\)' "layout of a formatted file shows it" "$Z" layout "$disk"
expect_output '"keyslots"' "--dump-json-metadata prints the JSON" "$Z" luksDump --dump-json-metadata "$disk"
expect 0 "the key file unlocks (--test-passphrase)" "$Z" open --test-passphrase --key-file "$work/key" "$disk"
expect 0 "the passphrase from stdin, one line, unlocks" with_key $'secret\n' "$Z" open --test-passphrase "$disk"
expect 2 "a wrong passphrase: exit 2" with_key wrong "$Z" open --test-passphrase --key-file - "$disk"
expect 2 "--keyfile-size cuts the key: exit 2" "$Z" open --test-passphrase --key-file "$work/key" \
  --keyfile-size 3 "$disk"
expect 0 "--keyfile-offset/--keyfile-size select the key" with_key xxsecretyy "$Z" open \
  --test-passphrase --key-file - --keyfile-offset 2 --keyfile-size 6 "$disk"
expect 1 "isLuks of a non-LUKS file: exit 1" "$Z" isLuks "$work/small.img"
expect 4 "luksDump of a non-LUKS file: exit 4" "$Z" luksDump "$work/small.img"

if command -v cryptsetup >/dev/null; then
  expect 0 "stock cryptsetup reads our header" cryptsetup luksDump "$disk"
  expect 0 "stock cryptsetup unlocks it" cryptsetup open --test-passphrase --key-file "$work/key" "$disk"
  truncate -s 64M "$work/stock.img"
  cryptsetup luksFormat -q --type luks2 "${pbkdf[@]}" --key-file "$work/key" "$work/stock.img"
  expect 0 "zcryptsetup unlocks a header stock cryptsetup wrote" "$Z" open --test-passphrase \
    --key-file "$work/key" "$work/stock.img"
  expect_output '^'"$(cryptsetup luksUUID "$work/stock.img")"'$' "same UUID as stock" "$Z" luksUUID "$work/stock.img"
  # luksUUID --uuid: set on a header stock wrote, read back by stock; a malformed UUID is
  # refused with exit 1 and the file unchanged; no terminal means no question, as cryptsetup.
  new_uuid=5e7f0a2b-0c1d-4e2f-8a9b-0c1d2e3f4a5b
  expect 0 "luksUUID --uuid sets a UUID" "$Z" luksUUID --uuid "$new_uuid" "$work/stock.img"
  expect_output "^$new_uuid\$" "stock cryptsetup reads the new UUID" cryptsetup luksUUID "$work/stock.img"
  expect 0 "stock cryptsetup still unlocks it" cryptsetup open --test-passphrase \
    --key-file "$work/key" "$work/stock.img"
  stock_before=$(digest "$work/stock.img")
  expect 1 "luksUUID --uuid with a malformed UUID: exit 1" "$Z" luksUUID --uuid 5e7f0a2b-xyz "$work/stock.img"
  expect_output 'Wrong LUKS UUID format' "... says why" "$Z" luksUUID --uuid 5e7f0a2b-xyz "$work/stock.img"
  [[ $(digest "$work/stock.img") == "$stock_before" ]] && { passed=$((passed + 1)); echo "ok - ... and writes nothing"; } ||
    { failed=$((failed + 1)); echo "not ok - ... and writes nothing"; }
  expect 0 "luksUUID --uuid with the same UUID" "$Z" luksUUID --uuid "$new_uuid" "$work/stock.img"
  [[ $(digest "$work/stock.img") == "$stock_before" ]] && { passed=$((passed + 1)); echo "ok - ... writes nothing"; } ||
    { failed=$((failed + 1)); echo "not ok - ... writes nothing"; }
  # luksConvertKey: stock's keyslot 0 (pbkdf2) to argon2id; stock sees the change and opens.
  expect 0 "luksConvertKey to argon2id" "$Z" luksConvertKey --key-file "$work/key" -S 0 \
    --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 32 --pbkdf-parallel 1 "$work/stock.img"
  expect_output 'PBKDF: +argon2id' "... stock luksDump shows argon2id" cryptsetup luksDump "$work/stock.img"
  expect 0 "... stock still unlocks it" cryptsetup open --test-passphrase --key-file "$work/key" "$work/stock.img"
  stock_before=$(digest "$work/stock.img")
  expect 2 "luksConvertKey with a wrong passphrase: exit 2" with_key wrong "$Z" luksConvertKey \
    --key-file - "${pbkdf[@]}" "$work/stock.img"
  expect 1 "luksConvertKey of an inactive keyslot: exit 1" "$Z" luksConvertKey -S 5 \
    --key-file "$work/key" "${pbkdf[@]}" "$work/stock.img"
  [[ $(digest "$work/stock.img") == "$stock_before" ]] && { passed=$((passed + 1)); echo "ok - ... neither wrote"; } ||
    { failed=$((failed + 1)); echo "not ok - ... neither wrote"; }
  # erase: every keyslot gone (stock sees none, neither tool opens); luksErase is its alias;
  # without a terminal no question is asked, as cryptsetup.
  cp "$work/stock.img" "$work/erase.img"
  expect 0 "erase" "$Z" erase "$work/erase.img"
  expect 1 "... zcryptsetup no longer opens it: exit 1" "$Z" open --test-passphrase \
    --key-file "$work/key" "$work/erase.img"
  expect_output 'No usable keyslot' "... and says why" "$Z" open --test-passphrase \
    --key-file "$work/key" "$work/erase.img"
  expect_output_not_stock_keyslot() { ! cryptsetup luksDump "$1" | grep -qE '^  [0-9]+: luks2'; }
  expect 0 "... stock luksDump lists no keyslot" expect_output_not_stock_keyslot "$work/erase.img"
  expect 1 "... stock no longer opens it" cryptsetup open --test-passphrase --key-file "$work/key" "$work/erase.img"
  cp "$work/stock.img" "$work/erase.img"
  expect 0 "luksErase (the alias)" "$Z" luksErase -q "$work/erase.img"
  expect 0 "... stock luksDump lists no keyslot" expect_output_not_stock_keyslot "$work/erase.img"
  # Where the new passphrase comes from: --new-keyfile with its offset and size (stock opens
  # with the same slice), --new-key-slot; refusals write nothing.
  cp "$work/stock.img" "$work/newkey.img"
  head -c 100 /dev/urandom > "$work/newkey.bin"
  expect 0 "luksAddKey --new-keyfile --new-keyfile-offset 10 --new-keyfile-size 32 --new-key-slot 5" \
    "$Z" luksAddKey --key-file "$work/key" --new-keyfile "$work/newkey.bin" --new-keyfile-offset 10 \
    --new-keyfile-size 32 --new-key-slot 5 "${pbkdf[@]}" "$work/newkey.img"
  expect_output '^  5: luks2' "... stock luksDump lists keyslot 5" cryptsetup luksDump "$work/newkey.img"
  expect 0 "... stock opens keyslot 5 with the same 32 bytes at offset 10" cryptsetup open \
    --test-passphrase -S 5 --key-file "$work/newkey.bin" --keyfile-offset 10 --keyfile-size 32 \
    "$work/newkey.img"
  expect 2 "... and not with the whole file" cryptsetup open --test-passphrase -S 5 \
    --key-file "$work/newkey.bin" "$work/newkey.img"
  newkey_before=$(digest "$work/newkey.img")
  expect 1 "luksAddKey with --new-keyfile and a key file argument: exit 1" "$Z" luksAddKey \
    --key-file "$work/key" --new-keyfile "$work/newkey.bin" "$work/newkey.img" "$work/newkey.bin"
  expect 1 "luksAddKey -S beside --new-key-slot: exit 1" "$Z" luksAddKey --key-file "$work/key" \
    -S 1 --new-key-slot 6 --new-keyfile "$work/newkey.bin" "$work/newkey.img"
  expect 1 "--new-keyfile-offset without a new key file: exit 1" "$Z" luksAddKey \
    --key-file "$work/key" --new-keyfile-offset 4 "$work/newkey.img"
  expect 1 "--new-key-slot is not luksChangeKey's: exit 1" "$Z" luksChangeKey \
    --key-file "$work/key" --new-key-slot 6 "$work/newkey.img"
  [[ $(digest "$work/newkey.img") == "$newkey_before" ]] && { passed=$((passed + 1)); echo "ok - ... none wrote"; } ||
    { failed=$((failed + 1)); echo "not ok - ... none wrote"; }
  expect 0 "luksChangeKey --new-keyfile" "$Z" luksChangeKey --key-file "$work/newkey.bin" \
    --keyfile-offset 10 --keyfile-size 32 --new-keyfile "$work/key" "${pbkdf[@]}" "$work/newkey.img"
  expect 0 "... stock opens with the new key" cryptsetup open --test-passphrase \
    --key-file "$work/key" "$work/newkey.img"
  expect 2 "... the old slice no longer opens" cryptsetup open --test-passphrase \
    --key-file "$work/newkey.bin" --keyfile-offset 10 --keyfile-size 32 "$work/newkey.img"

  # config --priority: stock luksDump shows it, an ignored keyslot opens only when named.
  cp "$work/stock.img" "$work/prio.img"
  expect 0 "config --priority prefer -S 0" "$Z" config --priority prefer -S 0 "$work/prio.img"
  expect_output 'Priority: +preferred' "... stock luksDump shows it" cryptsetup luksDump "$work/prio.img"
  prio_before=$(digest "$work/prio.img")
  expect 1 "config --priority without -S: exit 1" "$Z" config --priority prefer "$work/prio.img"
  expect_output 'Keyslot specification is required' "... cryptsetup's words" "$Z" config \
    --priority prefer "$work/prio.img"
  expect 1 "config --priority bogus: exit 1" "$Z" config --priority bogus -S 0 "$work/prio.img"
  expect 1 "config --priority of an inactive keyslot: exit 1" "$Z" config --priority prefer -S 9 "$work/prio.img"
  [[ $(digest "$work/prio.img") == "$prio_before" ]] && { passed=$((passed + 1)); echo "ok - ... none wrote"; } ||
    { failed=$((failed + 1)); echo "not ok - ... none wrote"; }
  expect 0 "config --priority ignore -S 0" "$Z" config --priority ignore -S 0 "$work/prio.img"
  expect 1 "... stock no longer tries it unnamed" cryptsetup open --test-passphrase \
    --key-file "$work/key" "$work/prio.img"
  expect 0 "... but opens it named" cryptsetup open --test-passphrase -S 0 --key-file "$work/key" \
    "$work/prio.img"

  # Detached headers (--header): the header file is created, the data file is never written;
  # stock cryptsetup opens the pair with --header; key verbs, dump, UUID and backup work on the
  # header; a header with data at 0 is never opened as its own data; a failed format leaves
  # no header file behind.
  truncate -s 64M "$work/det-data.img"
  head -c 1M /dev/urandom | dd of="$work/det-data.img" conv=notrunc status=none
  det_before=$(digest "$work/det-data.img")
  expect 0 "luksFormat --header (a new file)" "$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" \
    --header "$work/det-hdr.img" "$work/det-data.img"
  [[ $(digest "$work/det-data.img") == "$det_before" ]] && { passed=$((passed + 1)); echo "ok - ... the data file is not written"; } ||
    { failed=$((failed + 1)); echo "not ok - ... the data file is not written"; }
  expect_output '^-rw-------' "... the header file is created 0600" ls -l "$work/det-hdr.img"
  expect_output 'offset: +0 \[bytes\]' "... stock luksDump: data at offset 0" cryptsetup luksDump "$work/det-hdr.img"
  expect 0 "... stock opens it with --header" cryptsetup open --test-passphrase \
    --header "$work/det-hdr.img" --key-file "$work/key" "$work/det-data.img"
  expect 0 "open --test-passphrase --header" "$Z" open --test-passphrase \
    --header "$work/det-hdr.img" --key-file "$work/key" "$work/det-data.img"
  expect 1 "open --header naming the data device itself: exit 1" "$Z" open \
    --header "$work/det-hdr.img" --key-file "$work/key" "$work/det-hdr.img" zc_never
  expect_output 'is the data device itself' "... and says why" "$Z" open \
    --header "$work/det-hdr.img" --key-file "$work/key" "$work/det-hdr.img" zc_never
  expect_output 'Reduced data offset is allowed only for detached LUKS header' \
    "open of a detached header without --header: stock's refusal" "$Z" open \
    --key-file "$work/key" "$work/det-hdr.img" zc_never
  expect 0 "luksAddKey --header" "$Z" luksAddKey --key-file "$work/key" --header "$work/det-hdr.img" \
    "${pbkdf[@]}" "$work/det-data.img" "$work/newkey.bin"
  expect 0 "... stock opens with the new key" cryptsetup open --test-passphrase \
    --header "$work/det-hdr.img" --key-file "$work/newkey.bin" "$work/det-data.img"
  expect_output '^[0-9a-f-]{36}$' "luksUUID --header" "$Z" luksUUID --header "$work/det-hdr.img" "$work/det-data.img"
  expect 0 "isLuks --header" "$Z" isLuks --header "$work/det-hdr.img" "$work/det-data.img"
  expect 1 "isLuks of the data file alone: exit 1" "$Z" isLuks "$work/det-data.img"
  expect 0 "luksHeaderBackup --header" "$Z" luksHeaderBackup --header "$work/det-hdr.img" \
    --header-backup-file "$work/det-backup.img" "$work/det-data.img"
  expect 1 "luksHeaderRestore of that backup onto the data file itself: exit 1" "$Z" \
    luksHeaderRestore -q --header-backup-file "$work/det-backup.img" "$work/det-data.img"
  [[ $(digest "$work/det-data.img") == "$det_before" ]] && { passed=$((passed + 1)); echo "ok - ... the data file is still not written"; } ||
    { failed=$((failed + 1)); echo "not ok - ... the data file is still not written"; }
  expect 0 "luksKillSlot --header" "$Z" luksKillSlot -q --header "$work/det-hdr.img" "$work/det-data.img" 1
  expect 2 "... stock no longer opens with that key" cryptsetup open --test-passphrase \
    --header "$work/det-hdr.img" --key-file "$work/newkey.bin" "$work/det-data.img"
  expect 0 "luksHeaderRestore --header" "$Z" luksHeaderRestore -q --header "$work/det-hdr.img" \
    --header-backup-file "$work/det-backup.img" "$work/det-data.img"
  expect 0 "... the killed key opens again" cryptsetup open --test-passphrase \
    --header "$work/det-hdr.img" --key-file "$work/newkey.bin" "$work/det-data.img"
  expect 0 "luksFormat --header --perf-force_inline" "$Z" luksFormat -q "${pbkdf[@]}" \
    --key-file "$work/key" --perf-force_inline --header "$work/det-hdr2.img" "$work/det-data.img"
  expect_output 'no-read-workqueue no-write-workqueue force-inline' "... stock luksDump shows the flags" \
    cryptsetup luksDump "$work/det-hdr2.img"
  expect 1 "luksFormat --header with a key size the format refuses: exit 1" "$Z" luksFormat -q \
    "${pbkdf[@]}" --key-file "$work/key" --key-size 12 --header "$work/det-hdr3.img" \
    "$work/det-data.img"
  expect 0 "... and leaves no header file behind" test ! -e "$work/det-hdr3.img"
  expect 1 "luksFormat --header with an offset inside the headers: exit 1" "$Z" luksFormat -q \
    "${pbkdf[@]}" --key-file "$work/key" --offset 8 --header "$work/det-hdr3.img" "$work/det-data.img"
  expect 0 "... and creates no header file" test ! -e "$work/det-hdr3.img"
  expect_output 'Header: +.*det-hdr3.img \(16 MiB image, written in place\), created' \
    "luksFormat --dry-run --header says what it would do" "$Z" luksFormat --dry-run \
    --header "$work/det-hdr3.img" "$work/det-data.img"
  [[ $(digest "$work/det-data.img") == "$det_before" ]] && { passed=$((passed + 1)); echo "ok - ... and the data file was never written"; } ||
    { failed=$((failed + 1)); echo "not ok - ... and the data file was never written"; }

  # The --perf-* flags one by one: open and refresh take them, other verbs refuse them;
  # high_priority is refused with the reason; refresh of a name not mapped is exit 4.
  expect 1 "--perf-same_cpu_crypt is not a luksDump option: exit 1" "$Z" luksDump \
    --perf-same_cpu_crypt "$work/stock.img"
  expect 1 "--perf-high_priority: exit 1" "$Z" open --perf-high_priority --key-file "$work/key" \
    "$work/stock.img" zc_never
  expect_output 'high_priority only from Linux 6.10' "... and says why" "$Z" open \
    --perf-high_priority --key-file "$work/key" "$work/stock.img" zc_never
  expect 4 "refresh of a name that is not mapped: exit 4" "$Z" refresh --perf-no_read_workqueue \
    --key-file "$work/key" zc_not_mapped
  expect_output 'Device zc_not_mapped is not active' "... and says so" "$Z" refresh zc_not_mapped
  expect 1 "refresh --perf-force_inline=native: exit 1" "$Z" refresh --perf-force_inline=native \
    zc_not_mapped
  expect 1 "refresh --readonly is refused, as cryptsetup" "$Z" refresh --readonly zc_not_mapped
  expect 4 "resize of a name that is not mapped: exit 4" "$Z" resize --size 8 zc_not_mapped
  expect 1 "resize --size with --device-size: exit 1" "$Z" resize --size 8 --device-size 4096 zc_not_mapped
  expect 1 "resize --device-size not a sector multiple: exit 1" "$Z" resize --device-size 513 zc_not_mapped
  expect 4 "luksSuspend of a name that is not mapped: exit 4" "$Z" luksSuspend zc_not_mapped
  expect 4 "luksResume of a name that is not mapped: exit 4" "$Z" luksResume --key-file \
    "$work/key" zc_not_mapped
  truncate -s 64M "$work/luks1.img"
  cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 --key-file "$work/key" "$work/luks1.img"
  expect_output 'LUKS1' "a LUKS1 header is named as such" "$Z" luksDump "$work/luks1.img"
  expect 4 "... exit 4" "$Z" luksDump "$work/luks1.img"
fi

# Updates: keys, label, flags, backup and restore, with stock cryptsetup as the judge.
upd=$work/upd.img
truncate -s 64M "$upd"
for k in k1 k2 k3 k4 k5; do printf %s "$k-secret" >"$work/$k"; done
stock_unlocks() { cryptsetup open --test-passphrase --key-file "$1" "$upd" >/dev/null 2>&1; }
zc_unlocks() { "$Z" open --test-passphrase --key-file "$1" "$upd" >/dev/null 2>&1; }
unlocks() { if command -v cryptsetup >/dev/null; then stock_unlocks "$1"; else zc_unlocks "$1"; fi; }
expect 0 "format for the update checks" "$Z" luksFormat -q "${pbkdf[@]}" "$upd" "$work/k1"
expect 0 "luksAddKey" "$Z" luksAddKey "${pbkdf[@]}" --key-file "$work/k1" "$upd" "$work/k2"
expect 0 "... the new key unlocks" unlocks "$work/k2"
upd_before=$(digest "$upd")
expect 2 "luksAddKey with a wrong existing passphrase: exit 2" "$Z" luksAddKey "${pbkdf[@]}" \
  --key-file "$work/k5" "$upd" "$work/k3"
[[ $(digest "$upd") == "$upd_before" ]] && { passed=$((passed + 1)); echo "ok - ... and changes nothing"; } ||
  { failed=$((failed + 1)); echo "not ok - ... and changes nothing"; }
expect 0 "luksChangeKey k2 -> k3" "$Z" luksChangeKey "${pbkdf[@]}" --key-file "$work/k2" "$upd" "$work/k3"
expect 2 "... k2 no longer unlocks" unlocks "$work/k2"
expect 0 "... k3 does" unlocks "$work/k3"
expect 0 "luksRemoveKey k3" "$Z" luksRemoveKey "$upd" "$work/k3"
expect 2 "... k3 no longer unlocks" unlocks "$work/k3"
expect 1 "removing the last key without -q is refused" "$Z" luksRemoveKey "$upd" "$work/k1"
expect 0 "... k1 still unlocks" unlocks "$work/k1"
expect 1 "luksKillSlot of an inactive slot: exit 1" "$Z" luksKillSlot -q "$upd" 7
expect 0 "config --label --perf-force_inline" "$Z" config "$upd" --label vault --perf-force_inline
expect_output 'Flags: .*no-read-workqueue no-write-workqueue force-inline' "... flags persisted" "$Z" luksDump "$upd"
expect_output 'Label:.*vault' "... label set" "$Z" luksDump "$upd"
expect 0 "config --perf-force_inline=off" "$Z" config "$upd" --perf-force_inline=off
expect_output 'Flags: +\(no flags\)' "... flags cleared" "$Z" luksDump "$upd"
expect 1 "config with nothing to change: exit 1" "$Z" config "$upd"
expect 0 "luksHeaderBackup" "$Z" luksHeaderBackup "$upd" --header-backup-file "$work/hdr.bak"
expect 5 "luksHeaderBackup to an existing file: exit 5" "$Z" luksHeaderBackup "$upd" \
  --header-backup-file "$work/hdr.bak"
expect 0 "luksAddKey k4 after the backup" "$Z" luksAddKey "${pbkdf[@]}" --key-file "$work/k1" "$upd" "$work/k4"
head -c 100000 "$work/hdr.bak" >"$work/short.bak"
upd_before=$(digest "$upd")
expect 1 "restore of a truncated backup: exit 1" "$Z" luksHeaderRestore -q "$upd" --header-backup-file "$work/short.bak"
expect 1 "restore of a non-LUKS file: exit 1" "$Z" luksHeaderRestore -q "$upd" --header-backup-file "$work/key"
[[ $(digest "$upd") == "$upd_before" ]] && { passed=$((passed + 1)); echo "ok - ... and nothing changed"; } ||
  { failed=$((failed + 1)); echo "not ok - ... and nothing changed"; }
expect 0 "luksHeaderRestore" "$Z" luksHeaderRestore -q "$upd" --header-backup-file "$work/hdr.bak"
expect 2 "... k4 (added after the backup) no longer unlocks" unlocks "$work/k4"
expect 0 "... k1 does" unlocks "$work/k1"
expect_output 'Nothing to repair' "repair of a healthy device" "$Z" repair "$upd"

# Concurrency: two updates at once are serialized by cryptsetup's lock, and both land; an
# update waits while another process holds the lock.
"$Z" luksAddKey "${pbkdf[@]}" -S 5 --key-file "$work/k1" "$upd" "$work/k2" & first=$!
"$Z" luksAddKey "${pbkdf[@]}" -S 6 --key-file "$work/k1" "$upd" "$work/k3" & second=$!
wait $first; rc1=$?; wait $second; rc2=$?
expect 0 "two concurrent luksAddKey both succeed" test "$rc1$rc2" = 00
expect 0 "... the first key unlocks" unlocks "$work/k2"
expect 0 "... and the second" unlocks "$work/k3"
if command -v flock >/dev/null; then
  # This shell holds the lock; the update is seen blocked in flock(2), not timed, then
  # finishes once the lock is let go.
  exec 8<"$upd"
  flock 8
  "$Z" config "$upd" --label waited 8<&- & updater=$!
  expect 0 "an update while another process holds the lock waits for it" blocked_in "$updater" flock
  flock -u 8
  exec 8<&-
  wait $updater
  expect 0 "... and succeeds once it is let go" test $? = 0
  expect 0 "... having written its label" sh -c "'$Z' luksDump '$upd' | grep -q '^Label:.*waited'"
fi

# Interactive luksFormat on a pseudo-terminal (script(1)): the signature warning, cryptsetup's
# question, and the passphrase asked twice without echo.
if command -v script >/dev/null && command -v mkfs.ext4 >/dev/null; then
  on_tty() { local input=$1; shift; printf "$input" | script -qec "$*" /dev/null; }
  fs=$work/fs.img
  truncate -s 64M "$fs" && mkfs.ext4 -q "$fs"
  fs_before=$(digest "$fs")
  expect_output "already contains a 'ext4' superblock signature" "an existing signature is reported" \
    on_tty 'no\n' "$Z" luksFormat "${pbkdf[@]}" "$fs"
  expect 2 "answering no aborts with exit 2" on_tty 'no\n' "$Z" luksFormat "${pbkdf[@]}" "$fs"
  expect 2 "passphrases that differ: exit 2" on_tty 'YES\npw1\npw2\n' "$Z" luksFormat "${pbkdf[@]}" "$fs"
  [[ $(digest "$fs") == "$fs_before" ]] && { passed=$((passed + 1)); echo "ok - aborted formats left the filesystem alone"; } ||
    { failed=$((failed + 1)); echo "not ok - aborted formats left the filesystem alone"; }
  expect 0 "YES and the passphrase twice formats" on_tty 'YES\npw1\npw1\n' "$Z" luksFormat "${pbkdf[@]}" "$fs"
  expect 0 "... and that passphrase unlocks" with_key pw1 "$Z" open --test-passphrase --key-file - "$fs"
  expect 0 "-q asks nothing" on_tty '' "$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$fs"
  # --timeout: a prompt nobody answers gives up after that many seconds, exit 1.
  # Standard input is a FIFO this shell holds open and never writes: it stays silent and open
  # however slowly the prompt comes up.
  mkfifo "$work/silent.fifo"
  exec 6<>"$work/silent.fifo"
  timed_out() { script -qec "$Z open --test-passphrase --timeout 1 $fs" /dev/null <"$work/silent.fifo"; }
  expect 1 "--timeout 1 with nobody typing: exit 1" timed_out
  expect_output 'Timed out waiting for the passphrase' "... and says why" timed_out
  exec 6>&-
fi

# The bash completion is written by hand: every verb --help lists and every long option it
# lists must be in it.
completion=$(dirname "$0")/../../completion/zcryptsetup
if [[ -f $completion ]]; then
  missing=()
  while read -r word; do
    # A whole word between blanks, bars or quotes: --header must not pass as a part of
    # --header-backup-file.
    grep -qE -- "(^|[ |'\"])${word}($|[ |'\"=)])" "$completion" || missing+=("$word")
  done < <("$Z" --help | sed -n 's/^  \([a-zA-Z]*\)\(|\([a-zA-Z]*\)\)\{0,1\} .*/\1 \3/p' | tr ' ' '\n' | grep . | sort -u;
           "$Z" --help | grep -oE -- '--[a-z0-9_-]*[a-z0-9_](-\*)?' | grep -v -- '-\*$' | sort -u)
  if ((${#missing[@]} == 0)); then
    passed=$((passed + 1)); echo "ok - the bash completion knows every verb and long option"
  else
    failed=$((failed + 1)); echo "not ok - the bash completion lacks: ${missing[*]}"
  fi
fi

echo "cli: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
