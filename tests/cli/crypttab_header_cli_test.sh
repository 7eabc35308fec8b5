#!/usr/bin/env bash
# crypttab entries with header= (a detached LUKS2 header, crypttab(5)): `crypttab open` reads
# the metadata from the header and takes the entry's device as the data drive. Checked with
# --test-passphrase on regular files (no device-mapper needed); stock cryptsetup judges the
# header/data pair zcryptsetup formats.
#
#   crypttab_header_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: crypttab_header_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/crypttab_header_cli_test.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

. "$(dirname "$0")/cli_lib.sh"

hdr=$work/hdr.img data=$work/data.img
truncate -s 32M "$data"
printf %s secret >"$work/key"
printf %s wrong >"$work/wrong.key"
chmod 600 "$work/key" "$work/wrong.key"
"$Z" luksFormat -q "${pbkdf[@]}" --header "$hdr" "$data" --key-file "$work/key" ||
  { echo "not ok - setup: luksFormat --header"; exit 1; }
data_sum=$(sha256sum <"$data")

if command -v cryptsetup >/dev/null; then
  expect 0 "stock cryptsetup takes the pair (open --test-passphrase --header)" \
    cryptsetup open --test-passphrase --header "$hdr" --key-file "$work/key" "$data"
  expect 1 "... and finds no LUKS header on the data file alone" cryptsetup isLuks "$data"
else
  echo "# stock cryptsetup not installed: its checks are skipped"
fi

mkfifo "$work/fifo"
ct=$work/crypttab
cat >"$ct" <<EOT
good $data $work/key header=$hdr
wrong $data $work/wrong.key header=$hdr
nohdr $data $work/key
absent $data $work/key header=$work/absent.hdr
fifo $data $work/key header=$work/fifo
dir $data $work/key header=$work
notluks $data $work/key header=$work/key
EOT
open_entry() { "$Z" crypttab open --test-passphrase --crypttab "$ct" "$@"; }

expect 0 "header=: the key unlocks through the detached header" open_entry good
expect 2 "header= with a wrong key: exit 2" open_entry wrong
matches 'No key available' "... no key available"
expect 4 "the same data file without header=: not LUKS, exit 4" open_entry nohdr
expect 4 "a header that does not exist: exit 4" open_entry absent
matches "absent: header $work/absent.hdr does not exist" "... naming the entry and the header"
expect 4 "a FIFO as header: exit 4, without waiting for a writer" timeout 60 "$Z" crypttab open \
  --test-passphrase --crypttab "$ct" fifo
matches 'not a regular file or block device' "... and says why"
expect 4 "a directory as header: exit 4" open_entry dir
expect 4 "a header that is not LUKS: exit 4" open_entry notluks
printf 'relative %s %s header=hdr.img\n' "$data" "$work/key" >"$work/relative.crypttab"
expect 1 "a relative header path: a bad line, exit 1" \
  "$Z" crypttab open --test-passphrase --crypttab "$work/relative.crypttab" relative
matches 'header= needs an absolute path' "... reported as the line's problem"

# --all runs the same preparation and openers.
printf 'good %s %s header=%s\n' "$data" "$work/key" "$hdr" >"$work/one.crypttab"
expect 0 "open --all --test-passphrase with header=" \
  "$Z" crypttab open --all --test-passphrase --crypttab "$work/one.crypttab"

[[ $(sha256sum <"$data") == "$data_sum" ]] && ok "the data file was not written" ||
  not_ok "the data file was not written"

echo "crypttab_header: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
