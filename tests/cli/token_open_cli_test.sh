#!/usr/bin/env bash
# open by LUKS2 token (issue 11): tokens are tried first, as cryptsetup 2.6.1 does; a token that
# does not unlock falls back to the passphrase unless --token-only; exit codes as cryptsetup's.
# Real token unlocks use libcryptsetup's built-in luks2-keyring token (a passphrase in the
# kernel keyring); systemd-cryptenroll --recovery-key makes a systemd-recovery token, which has
# no plugin, so it never unlocks. --test-passphrase only: no device-mapper needed. PIN tokens
# (TPM2, FIDO2) cannot be made here; the boot suite covers TPM2.
#
#   token_open_cli_test.sh ZCRYPTSETUP [GENERATOR]
set -uo pipefail
Z=$(readlink -f "${1:?usage: token_open_cli_test.sh ZCRYPTSETUP [GENERATOR]}")
work=$(mktemp -d /tmp/token_open_cli_test.XXXXXX)
key_id=
cleanup() {
  [[ -n $key_id ]] && keyctl unlink "$key_id" @u >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
pbkdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

. "$(dirname "$0")/cli_lib.sh"
# expect_fed CODE NAME INPUT CMD...: as expect, with INPUT (one line) on standard input.
expect_fed() {
  local code=$1 name=$2 input=$3 rc
  shift 3
  OUT=$(printf '%s\n' "$input" | "$@" 2>&1)
  rc=$?
  if [[ $rc == "$code" ]]; then ok "$name"; else not_ok "$name (exit $rc, wanted $code)" "$OUT"; fi
}

disk=$work/disk.img
truncate -s 64M "$disk"
printf %s secret >"$work/key"
chmod 600 "$work/key"
printf %s wrong >"$work/wrong.key"
chmod 600 "$work/wrong.key"
"$Z" luksFormat -q "${pbkdf[@]}" --key-file "$work/key" "$disk" || { echo "not ok - setup: luksFormat"; exit 1; }

# --- the options --------------------------------------------------------------------------------
expect 1 "--token-id past 31 is refused" "$Z" open --test-passphrase --token-id 32 "$disk"
expect 1 "--token-only is not allowed with luksAddKey" "$Z" luksAddKey --token-only "$disk"
expect 1 "--token-type is not allowed with luksFormat" "$Z" luksFormat -q --token-type x "$disk"

# --- no token at all ------------------------------------------------------------------------------
expect 1 "no token, --token-only: exit 1 (cryptsetup's code for -ENOENT)" \
  "$Z" open --test-passphrase --token-only "$disk"
matches 'No usable token is available' "... and says why"
expect_fed 0 "no token: the passphrase is asked as before" secret "$Z" open --test-passphrase "$disk"
lacks 'token' "... without a word about tokens (cryptsetup says it only with -v)"
expect_fed 0 "-v says why no token unlocked before the passphrase" secret \
  "$Z" open --test-passphrase -v "$disk"
matches 'No usable token is available' "... 'No usable token is available'"
expect 2 "a wrong key file, no token: still exit 2" \
  "$Z" open --test-passphrase --key-file "$work/wrong.key" "$disk"

# --- a token without a plugin (systemd-recovery) --------------------------------------------------
if command -v systemd-cryptenroll >/dev/null &&
  PASSWORD=secret timeout 120 systemd-cryptenroll --recovery-key "$disk" >"$work/recovery" 2>&1; then
  expect 1 "systemd-recovery token (no plugin), --token-only: exit 1" \
    "$Z" open --test-passphrase --token-only "$disk"
  matches 'No usable token is available' "... no usable token"
  expect 1 "--token-type systemd-recovery --token-only: exit 1, naming the type" \
    "$Z" open --test-passphrase --token-only --token-type systemd-recovery "$disk"
  matches 'No usable token \(type systemd-recovery\) is available' "... names the type"
  expect_fed 0 "--token-id 0 without --token-only falls back to the passphrase" secret \
    "$Z" open --test-passphrase --token-id 0 "$disk"
  matches 'No usable token is available' "... saying why (a token was asked for)"
  expect_fed 0 "any token: falls back to the passphrase silently" secret \
    "$Z" open --test-passphrase "$disk"
  lacks 'token' "... without a word about tokens"
  expect 0 "a key file still unlocks after the token is tried" \
    "$Z" open --test-passphrase --key-file "$work/key" "$disk"
  if command -v cryptsetup >/dev/null; then
    for args in "--token-only" "--token-only --token-id 0" "--token-only --token-type systemd-recovery" \
      "--token-only --token-id 5"; do
      # shellcheck disable=SC2086
      cryptsetup open --test-passphrase $args "$disk" </dev/null >/dev/null 2>&1
      want=$?
      # shellcheck disable=SC2086
      expect "$want" "same exit code as cryptsetup for $args ($want)" "$Z" open --test-passphrase $args "$disk"
    done
  fi
else
  echo "# systemd-cryptenroll missing or failed: the systemd-recovery checks are skipped"
  sed 's/^/#   /' "$work/recovery" 2>/dev/null | head -5
fi

# --- a token that unlocks: luks2-keyring ----------------------------------------------------------
description=zcryptsetup-token-cli-$$
if command -v keyctl >/dev/null && command -v cryptsetup >/dev/null &&
  cryptsetup token add --key-description "$description" --key-slot 0 "$disk" 2>"$work/token.err" &&
  key_id=$(printf %s secret | keyctl padd user "$description" @u 2>/dev/null) &&
  keyctl search @u user "$description" >/dev/null 2>&1; then
  # luksDump's "Tokens:" section: "  N: luks2-keyring" (systemd-recovery took token 0 above).
  token=$("$Z" luksDump "$disk" | sed -n 's/^ *\([0-9]*\): luks2-keyring$/\1/p' | head -1)
  expect 0 "luks2-keyring token unlocks with --token-only, nothing on standard input" \
    "$Z" open --test-passphrase --token-only "$disk"
  expect 0 "... with --token-id $token" "$Z" open --test-passphrase --token-only --token-id "$token" "$disk"
  expect 0 "... with --token-type luks2-keyring" \
    "$Z" open --test-passphrase --token-only --token-type luks2-keyring "$disk"
  expect 0 "... with --disable-external-tokens (luks2-keyring is built in)" \
    "$Z" open --test-passphrase --token-only --disable-external-tokens "$disk"
  expect 0 "without --token-only: the token unlocks, no passphrase asked" \
    "$Z" open --test-passphrase "$disk"
  expect 1 "--token-type systemd-tpm2 --token-only: no such token, exit 1" \
    "$Z" open --test-passphrase --token-only --token-type systemd-tpm2 "$disk"
  expect 0 "a wrong key file: the token is tried first and unlocks (as cryptsetup 2.6.1)" \
    "$Z" open --test-passphrase --key-file "$work/wrong.key" "$disk"
  keyctl update "$key_id" wrong
  expect 2 "a wrong passphrase in the keyring, --token-only: exit 2" \
    "$Z" open --test-passphrase --token-only "$disk"
  matches 'cannot unlock assigned keyslot' "... wrong keyslot passphrase"
  expect_fed 0 "... without --token-only the passphrase follows and unlocks" secret \
    "$Z" open --test-passphrase "$disk"
  expect_fed 2 "... and a wrong one too is exit 2" nope "$Z" open --test-passphrase "$disk"
  # crypttab open, as systemd-cryptsetup 252: without a key file the tokens come first.
  keyctl update "$key_id" secret
  ct=$work/crypttab
  {
    echo "tok $disk none force-inline"
    echo "tokhl $disk none force-inline,headless=yes"
    echo "toktpm $disk none force-inline,tpm2-device=auto,token-timeout=0,headless"
    echo "tokkf $disk $work/wrong.key force-inline"
  } >"$ct"
  expect 0 "crypttab open: the token unlocks, nothing asked (stdin /dev/null)" \
    "$Z" crypttab open --test-passphrase --crypttab "$ct" tok
  lacks 'ask-password|passphrase' "... no passphrase question"
  expect 0 "crypttab open, headless=yes: the token unlocks" \
    "$Z" crypttab open --test-passphrase --crypttab "$ct" tokhl
  expect 2 "crypttab open with a key file: tokens are not tried (systemd), the wrong key is exit 2" \
    "$Z" crypttab open --test-passphrase --crypttab "$ct" tokkf
  keyctl update "$key_id" wrong
  expect 2 "crypttab open, headless, the token fails: exit 2 without asking" \
    timeout 20 "$Z" crypttab open --test-passphrase --crypttab "$ct" tokhl
  matches 'headless= forbids asking' "... says headless= forbids asking"
  expect 2 "crypttab open, tpm2-device=auto, no systemd-tpm2 token, headless: exit 2" \
    timeout 20 "$Z" crypttab open --test-passphrase --crypttab "$ct" toktpm
  matches 'No usable token \(type systemd-tpm2\)' "... says no systemd-tpm2 token is there"
  expect_fed 0 "crypttab open, the token fails: the passphrase from standard input follows" secret \
    "$Z" crypttab open --test-passphrase --crypttab "$ct" tok
  for args in "--token-only" "--token-only --token-id $token" "--token-only --token-type luks2-keyring"; do
    # shellcheck disable=SC2086
    cryptsetup open --test-passphrase $args "$disk" </dev/null >/dev/null 2>&1
    want=$?
    # shellcheck disable=SC2086
    expect "$want" "same exit code as cryptsetup for $args, wrong keyring secret ($want)" \
      "$Z" open --test-passphrase $args "$disk"
  done
else
  echo "# keyctl, cryptsetup or a usable user keyring missing: the luks2-keyring checks are skipped"
  sed 's/^/#   /' "$work/token.err" 2>/dev/null | head -5
fi

# --- crypttab entries left to systemd-cryptsetup --------------------------------------------------
printf 'sd %s none force-inline,tpm2-device=/dev/tpmrm0\nsd2 %s none force-inline,tpm2-device=auto,tpm2-pcrs=7\n' \
  "$disk" "$disk" >"$work/systemd.crypttab"
expect 1 "crypttab open refuses tpm2-device=PATH (systemd-cryptsetup's)" \
  "$Z" crypttab open --test-passphrase --crypttab "$work/systemd.crypttab" sd
matches 'tpm2-device=/dev/tpmrm0 needs systemd-cryptsetup' "... naming the option"
expect 1 "crypttab open refuses tpm2-pcrs=" \
  "$Z" crypttab open --test-passphrase --crypttab "$work/systemd.crypttab" sd2
matches 'tpm2-pcrs=7' "... naming the option"

echo "token_open: ${passed} passed, ${failed} failed"
[[ $failed == 0 ]]
