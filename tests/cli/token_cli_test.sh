#!/usr/bin/env bash
# token import|export|add|remove on regular files (issue 11): each sub-verb, cryptsetup's exit
# codes, JSON from standard input and its size bound, refusals that leave the file untouched,
# and interop with stock cryptsetup on the same image where it is installed. No root needed.
#
#   token_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: token_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/token_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

. "$(dirname "$0")/cli_lib.sh"
# expect_in CODE NAME INPUT CMD...: the same with INPUT on standard input.
expect_in() {
  local code=$1 name=$2 input=$3 rc
  shift 3
  OUT=$(printf %s "$input" | "$@" 2>&1)
  rc=$?
  if [[ $rc == "$code" ]]; then ok "$name"; else not_ok "$name (exit $rc, wanted $code)" "$OUT"; fi
}
# stdout_is TEXT NAME CMD...: CMD's standard output is exactly TEXT.
stdout_is() {
  local want=$1 name=$2 got
  shift 2
  got=$("$@" 2>/dev/null </dev/null; printf .)
  got=${got%.}
  if [[ $got == "$want" ]]; then ok "$name"; else not_ok "$name" "got: $got"$'\n'"wanted: $want"; fi
}
digest() { sha256sum "$1" | cut -d' ' -f1; }
unchanged() { if [[ $(digest "$disk") == "$1" ]]; then ok "$2"; else not_ok "$2"; fi; }

disk=$work/disk.img
truncate -s 64M "$disk"
printf %s secret >"$work/key"
chmod 600 "$work/key"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$disk" || { echo "not ok - setup: luksFormat"; exit 1; }
t0='{"type":"zc-test","keyslots":["0"],"note":"a/b"}'
t1='{"type":"zc-other","keyslots":[]}'

# --- the tables --------------------------------------------------------------------------------
expect 0 "--help" "$Z" --help
matches '^  token import .*store a token' "--help lists token import from its sub-verb table"
matches '^  token remove --token-id <id> <device> +remove a token' "... and token remove"
matches '^  token add --key-description <text> <device> +add a luks2-keyring' "... and token add"
expect 1 "token without a sub-verb: exit 1" "$Z" token "$disk"
matches 'Usage: zcryptsetup token import \[--json-file <file>\] <device>, export\|remove --token-id <id> <device>, add' \
  "... with the usage of every sub-verb"
expect 1 "an unknown token sub-verb: exit 1" "$Z" token frobnicate "$disk"
matches 'Unknown token action frobnicate' "... named"
expect 1 "token add without --key-description: exit 1" "$Z" token add "$disk"
matches 'key-description parameter is mandatory' "... with cryptsetup's message"
expect 1 "token export without --token-id: exit 1" "$Z" token export "$disk"
matches 'Use --token-id' "... with cryptsetup's message"
expect 1 "token remove without --token-id: exit 1" "$Z" token remove "$disk"
expect 1 "--token-id 32: exit 1" "$Z" token remove --token-id 32 "$disk"
expect 1 "--token-id -1: exit 1" "$Z" token remove --token-id -1 "$disk"
expect 1 "--json-file with token remove: exit 1" "$Z" token remove --token-id 0 --json-file x "$disk"
matches 'Option --json-file is not allowed with token remove' "... named"
expect 1 "--token-id with luksDump: exit 1" "$Z" luksDump --token-id 0 "$disk"
expect 4 "token import on a missing device: exit 4" "$Z" token import --json-file /dev/null "$work/none.img"
expect 4 "token export of a non-LUKS file: exit 4" "$Z" token export --token-id 0 "$work/key"
# Standard input that never ends (a FIFO this shell holds open and never writes): had import
# waited for its JSON first, it would hang until the 60-s guard (exit 124).
mkfifo "$work/json.fifo"
exec 7<>"$work/json.fifo"
expect 4 "token import names a missing device before waiting for its JSON" \
  bash -c 'timeout 60 "$1" token import "$2" <"$3" 7>&-' _ "$Z" "$work/none.img" "$work/json.fifo"

# --- import, export, replace, add, remove ------------------------------------------------------
expect_in 0 "token import from standard input" "$t0" "$Z" token import "$disk"
stdout_is "$t0" "token export prints it as stored, no newline (as cryptsetup)" \
  "$Z" token export --token-id 0 "$disk"
expect_in 0 "token import -v into the next free id" "$t1" "$Z" -v token import "$disk"
matches 'Token 1 created' "... says which"
stdout_is "$t1" "... token 1" "$Z" token export --token-id 1 "$disk"
before=$(digest "$disk")
expect_in 1 "token import to an id in use: exit 1" "$t1" "$Z" token import --token-id 0 "$disk"
matches 'Token 0 in use' "... named"
unchanged "$before" "... and the file is untouched"
printf %s "$t1" >"$work/t1.json"
expect 0 "token import --token-replace from --json-file, assigned with --key-slot" \
  "$Z" token import --token-id 0 --token-replace --key-slot 0 --json-file "$work/t1.json" "$disk"
stdout_is '{"type":"zc-other","keyslots":["0"]}' "... replaced and assigned" \
  "$Z" token export --token-id 0 "$disk"
expect 0 "token export --json-file" "$Z" token export --token-id 0 --json-file "$work/out.json" "$disk"
[[ $(cat "$work/out.json") == '{"type":"zc-other","keyslots":["0"]}' ]] && ok "... the file holds it" ||
  not_ok "... the file holds it" "$(cat "$work/out.json")"
[[ $(stat -c %a "$work/out.json") == 600 ]] && ok "... created 0600" || not_ok "... created 0600"
printf 'much longer old contents than the token' >"$work/old.json"
expect 0 "token export over an existing file (cryptsetup truncates it)" \
  "$Z" token export --token-id 1 --json-file "$work/old.json" "$disk"
[[ $(cat "$work/old.json") == "$t1" ]] && ok "... replaced whole" || not_ok "... replaced whole" "$(cat "$work/old.json")"
expect 1 "token export --json-file in a missing directory: exit 1" \
  "$Z" token export --token-id 0 --json-file "$work/none/x.json" "$disk"
expect 0 "token add --key-description" "$Z" token add --key-description zc:test "$disk"
stdout_is '{"type":"luks2-keyring","keyslots":["0"],"key_description":"zc:test"}' \
  "... a luks2-keyring token on every keyslot" "$Z" token export --token-id 2 "$disk"
expect 1 "token add to an id in use: exit 1" "$Z" token add --key-description x --token-id 2 "$disk"
expect 0 "token add --token-replace" "$Z" token add --key-description zc:new --token-id 2 --token-replace "$disk"
stdout_is '{"type":"luks2-keyring","keyslots":["0"],"key_description":"zc:new"}' "... replaced" \
  "$Z" token export --token-id 2 "$disk"
expect 0 "token remove" "$Z" token remove --token-id 1 "$disk"
expect 1 "... token export of it: exit 1" "$Z" token export --token-id 1 "$disk"
expect 1 "... token remove again: exit 1" "$Z" token remove --token-id 1 "$disk"
matches 'Token 1 is not in use' "... named"
expect 0 "the key still unlocks" "$Z" open --test-passphrase --key-file "$work/key" "$disk"

# Waiting for its JSON, import holds no lock: another update goes through meanwhile. Import
# reads from the FIFO above (fd 7 keeps it open); it is seen blocked in read(0, ...) before the
# update starts, and gets its JSON only after the update is done.
"$Z" token import --token-id 6 "$disk" <"$work/json.fifo" 7>&- & importer=$!
if blocked_in "$importer" read 0x0; then ok "token import waits for its JSON on standard input"
else not_ok "token import waits for its JSON on standard input ($(cat /proc/$importer/syscall 2>&1))"; fi
expect 0 "an update while token import waits for its JSON" timeout 60 "$Z" config --label waited "$disk"
printf %s '{"type":"zc-late","keyslots":[]}' >&7
exec 7>&-
wait $importer && ok "... and the import then succeeds" || not_ok "... and the import then succeeds"
stdout_is '{"type":"zc-late","keyslots":[]}' "... token 6 is there" "$Z" token export --token-id 6 "$disk"
dump=$("$Z" luksDump "$disk" 2>&1)
grep -Eq 'Label:[[:space:]]+waited' <<<"$dump" && ok "... and so is the label" ||
  not_ok "... and so is the label" "$dump"
expect 0 "token remove 6" "$Z" token remove --token-id 6 "$disk"

# --- refused input writes nothing ----------------------------------------------------------------
before=$(digest "$disk")
expect_in 1 "not JSON: exit 1" '{"type"' "$Z" token import "$disk"
expect_in 1 "not an object: exit 1" '["type"]' "$Z" token import "$disk"
expect_in 1 "no type: exit 1" '{"keyslots":[]}' "$Z" token import "$disk"
expect_in 1 "no keyslots array: exit 1" '{"type":"zc"}' "$Z" token import "$disk"
expect_in 1 "a token naming a missing keyslot: exit 1" '{"type":"zc","keyslots":["5"]}' \
  "$Z" token import "$disk"
matches 'keyslot 5, which does not exist' "... named"
expect_in 1 "--key-slot of an inactive keyslot: exit 1" "$t1" "$Z" token import --key-slot 4 "$disk"
matches 'Keyslot 4 is not active' "... named"
expect 1 "empty standard input: exit 1" "$Z" token import "$disk"
expect 1 "a missing --json-file: exit 1" "$Z" token import --json-file "$work/none.json" "$disk"
{ printf '{"type":"zc","keyslots":[],"pad":"'; head -c 5000000 /dev/zero | tr '\0' x; printf '"}'; } >"$work/huge.json"
expect 1 "JSON over the 4 MiB bound: exit 1" "$Z" token import --json-file "$work/huge.json" "$disk"
matches 'longer than 4190208 bytes' "... says so"
expect 1 "... also from standard input" bash -c '"$1" token import "$2" <"$3"' _ "$Z" "$disk" "$work/huge.json"
{ printf '{"type":"zc","keyslots":[],"pad":"'; head -c 100000 /dev/zero | tr '\0' x; printf '"}'; } >"$work/large.json"
expect 1 "JSON the volume's JSON area cannot hold: exit 1" \
  "$Z" token import --json-file "$work/large.json" "$disk"
unchanged "$before" "refused imports wrote nothing"

# --- interop with stock cryptsetup on the same image ----------------------------------------------
if command -v cryptsetup >/dev/null; then
  expect_in 0 "zcryptsetup imports token 3" "$t0" "$Z" token import --token-id 3 "$disk"
  stdout_is "$t0" "stock cryptsetup exports the token zcryptsetup imported" \
    cryptsetup token export --token-id 3 "$disk"
  expect_in 0 "stock cryptsetup imports a token" '{"type":"stock-made","keyslots":["0"],"n":7}' \
    cryptsetup token import --token-id 5 "$disk"
  stdout_is '{"type":"stock-made","keyslots":["0"],"n":7}' "... zcryptsetup exports it" \
    "$Z" token export --token-id 5 "$disk"
  expect 0 "zcryptsetup removes it" "$Z" token remove --token-id 5 "$disk"
  expect 1 "... stock cryptsetup no longer finds it" cryptsetup token export --token-id 5 "$disk"
  stdout_is "$("$Z" token export --token-id 2 "$disk")" "both export token 2 alike" \
    cryptsetup token export --token-id 2 "$disk"
  expect 0 "stock cryptsetup reads the header" cryptsetup luksDump "$disk"
  matches '2: luks2-keyring' "... and lists the keyring token"
fi

echo "token cli: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
