# shellcheck shell=bash
# shellcheck disable=SC2154  # n, cuts, ZC... come from driver.sh and lib.sh
# Scenario 6: TPM2, recovery keys, clevis and PKCS#11 on a ZNS namespace formatted by
# zcryptsetup, every header change made through `zcryptsetup enroll DEV -- TOOL ... {}`.
# The TPM is swtpm behind QEMU's tpm-tis (run.sh); it keeps its state across the reboots.
#   tpm_boot1 (the last cut boot): the TPM is seen; the second namespace gets persistent
#     force-inline flags, a passphrase and 8 MiB of data; (a) TPM2 enrolled, (b) a recovery
#     key, (d) stock cryptsetup opens it with the token, (c) clevis binds and unlocks; then a
#     crypttab entry "force-inline,tpm2-device=auto" without a key file, and a reboot.
#   tpm_boot2: (a) it was opened at boot, nothing asked, inline, data intact; (b) --wipe-slot=
#     tpm2 removes keyslot and token; (f) PKCS#11 on SoftHSM2 enrolled, opened, wiped;
#     (e) a power cut while an enrollment writes its result back.
#   tpm_boot3: (e) checked: the old or the new key set, no token without its keyslot, the
#     passphrase opens it (after repair when a copy is stale).
ZTPM=$ZPLAIN                      # nvme0n2: free once the cut boots dropped its crypttab line
ZTPM_PW=/etc/zcboot/ztpm.pw       # the passphrase, as a key file (no newline)
ZTPM_RK=/etc/zcboot/ztpm.recovery # the recovery key systemd-cryptenroll printed
P11=/usr/lib/softhsm/libsofthsm2.so
P11_PIN=1234
T=/run/zcboot
not() { ! "$@"; }
# The 8 MiB written at the start of the mapping in tpm_boot1, read back later.
ztpm_sum() { dd if="/dev/mapper/$1" bs=1M count=8 iflag=direct status=none | sha256sum | cut -d' ' -f1; }
same_data() { [ "$(ztpm_sum "$1")" = "$(cat "$ZB/ztpm.sum")" ]; }
inline_yes() { "$ZC" status "$1" | grep '^  inline:' >&2; "$ZC" status "$1" | grep -q '^  inline:  yes'; }
json() { cryptsetup luksDump --dump-json-metadata "$ZTPM"; }

# The key set as one line, from stock cryptsetup's --dump-json-metadata, leaving out keyslot
# $1 and the tokens that name it: "keyslots 0,1,2 tokens systemd-tpm2:2 systemd-recovery:3".
key_set() {
  json 2>/dev/null | jq -r --arg x "${1:-}" '
    del(.keyslots[$x]) | .tokens |= with_entries(select([.value.keyslots[] | select(. == $x)] == [])) |
    "keyslots " + ([.keyslots | keys[]] | sort_by(tonumber) | join(",")) + " tokens " +
    ([.tokens | to_entries[] | .value.type + ":" + (.value.keyslots | join(","))] | join(" "))'
}
# Every token's keyslots exist (a token without its keyslot is the torn state to rule out).
tokens_have_keyslots() {
  local bad
  bad=$(json | jq -r '(.keyslots | keys) as $k | .tokens | to_entries[] | .key as $t |
    .value.keyslots[] | select(. as $s | [$k[] | select(. == $s)] == []) |
    "token \($t) names keyslot \(.), which does not exist"') || return 1
  [ -z "$bad" ] || { echo "$bad"; return 1; }
}
# The keyslot of the (first) token of a type, or nothing.
token_slot() { json | jq -r --arg t "$1" '[.tokens[] | select(.type == $t) | .keyslots[]] | first // empty'; }
has_token() { [ -n "$(token_slot "$1")" ]; }
has_keyslot() { json | jq -e --arg s "$1" '.keyslots | has($s)' >/dev/null; }
# Some token that stock cryptsetup token export prints (ids 0..31) has this type.
exported_token() {
  local i
  # Each export ends without a newline; jq reads the objects one after another (slurped: jq
  # 1.6's -e looks only at the output for the last input).
  for i in $(seq 0 31); do cryptsetup token export --token-id "$i" "$ZTPM" 2>/dev/null; done |
    tee /dev/stderr | jq -s -e --arg t "$1" 'any(.type == $t)' >/dev/null
}
stock_dump_shows() { cryptsetup luksDump "$ZTPM" | sed -n '/^Tokens:/,/^Digests:/p' | grep -q ": $1\$"; }

# Runs a zcryptsetup enroll command line in the background (stdout and stderr in
# $T/enroll.out and $T/enroll.err) and times its two phases: tool_ms, until the tool (its
# child) has exited, and wb_ms, from then until enroll exits: the checks of the result and the
# crash-safe write-back. With cut_ms set, cuts the power that many ms after the tool exited.
enroll_watched() {
  local epid kids='' tool state t0 t1 t2 ms
  t0=$(date +%s%N)
  "$@" >"$T/enroll.out" 2>"$T/enroll.err" &
  epid=$!
  while :; do
    read -r kids < "/proc/$epid/task/$epid/children" 2>/dev/null
    [ -n "$kids" ] && break
    state=$(cut -d' ' -f3 "/proc/$epid/stat" 2>/dev/null)
    [ -z "$state" ] || [ "$state" = Z ] && break
    sleep 0.005
  done
  tool=${kids%% *}
  if [ -n "$tool" ]; then while [ -e "/proc/$tool" ]; do sleep 0.005; done; fi
  t1=$(date +%s%N)
  if [ -n "${cut_ms:-}" ]; then
    ms=$cut_ms
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    echo b > /proc/sysrq-trigger
    sleep 30
    notok "tpm cut: sysrq b did not reboot the machine"
    return 1
  fi
  wait "$epid"
  enroll_rc=$?
  t2=$(date +%s%N)
  tool_ms=$(((t1 - t0) / 1000000)) wb_ms=$(((t2 - t1) / 1000000))
  sed 's/^/ZCBOOT enroll: /' "$T/enroll.err"
  return "$enroll_rc"
}

# A passphrase or recovery key check must not pass through the TPM2 token: both openers try
# tokens first, even with a key file. Keeps them to the keyslots' passphrases.
notokens() { "$1" --disable-external-tokens "${@:2}"; }
# The lines of enroll's report of what it wrote.
show_written() { sed -n 's/^\(Written to\|  keyslots\|  tokens\)/ZCBOOT enroll: \1/p' "$@"; }

# Opens $ZTPM as NAME with a stock opener (the rest of the command line), checks the data and
# that the mapping runs inline (the persistent flags), closes it.
stock_opens() {
  local name=$1 rc=0
  shift
  "$@" || return 1
  same_data "$name" || { echo "the data of $name differs"; rc=1; }
  dmsetup table "$name" | grep -q 'no_read_workqueue no_write_workqueue' ||
    { echo "$name is not inline: $(dmsetup table "$name")"; rc=1; }
  cryptsetup close "$name" || rc=1
  return "$rc"
}
zc_opens() {
  local name=$1 rc=0
  shift
  "$@" || return 1
  same_data "$name" || { echo "the data of $name differs"; rc=1; }
  inline_yes "$name" || rc=1
  "$ZC" close "$name" || rc=1
  return "$rc"
}

tpm_boot1() {
  mkdir -p "$T"
  check "T0: the guest has a TPM2: /dev/tpmrm0 (tpm_tis on QEMU's tpm-tis, swtpm)" test -c /dev/tpmrm0
  check "T0: systemd-cryptenroll --tpm2-device=list lists /dev/tpmrm0" \
    sh -c 'systemd-cryptenroll --tpm2-device=list 2>&1 | tee /dev/stderr | grep -q /dev/tpmrm0'

  printf %s "$PASSPHRASE" > "$ZTPM_PW"
  chmod 400 "$ZTPM_PW"
  check "T0: $ZTPM: zcryptsetup config --perf-force_inline, a passphrase added (luksAddKey)" sh -c "
    $ZC config --perf-force_inline $ZTPM &&
    $ZC luksAddKey -q ${FAST_KDF[*]} --key-file /etc/zcboot/zplain.key $ZTPM $ZTPM_PW"
  check "T0: 8 MiB written through the mapping (direct I/O, from the first zone)" sh -c "
    $ZC open --key-file $ZTPM_PW $ZTPM ztpm && head -c 8M /dev/urandom > $T/ztpm.data &&
    dd if=$T/ztpm.data of=/dev/mapper/ztpm bs=1M oflag=direct status=none &&
    sha256sum < $T/ztpm.data | cut -d' ' -f1 > $ZB/ztpm.sum && sync $ZB/ztpm.sum &&
    rm $T/ztpm.data && $ZC close ztpm"

  # (a) TPM2, bound to no PCR (the swtpm's PCRs are not those of a measured boot).
  PASSWORD=$PASSPHRASE enroll_watched "$ZC" enroll -q "$ZTPM" -- \
    systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs= {}
  check "T(a): zcryptsetup enroll $ZTPM -- systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs= {}" \
    test "$enroll_rc" = 0
  say "T(a): the enrollment took $tool_ms ms in systemd-cryptenroll, then $wb_ms ms (checks, write-back)"
  put "$ZB/tpm-wb-ms" "$wb_ms"
  check "T(a): the header has a systemd-tpm2 token and its keyslot" has_token systemd-tpm2
  put "$ZB/tpm-slot" "$(token_slot systemd-tpm2)"

  # (b) A recovery key: systemd-cryptenroll prints it on standard output.
  local rk
  rk=$(PASSWORD=$PASSPHRASE "$ZC" enroll -q "$ZTPM" -- systemd-cryptenroll --recovery-key {} \
         2>"$T/rk.err" | grep -o '[cbdefghijklnrtuv]\{8\}\(-[cbdefghijklnrtuv]\{8\}\)\{7\}')
  show_written "$T/rk.err"
  check "T(b): zcryptsetup enroll $ZTPM -- systemd-cryptenroll --recovery-key {} printed a key" \
    test -n "$rk"
  (umask 077 && printf %s "$rk" > "$ZTPM_RK")
  sync "$ZTPM_RK"
  check "T(b): the header has a systemd-recovery token and its keyslot" has_token systemd-recovery
  check "T(b): zcryptsetup open --test-passphrase takes the recovery key on standard input" \
    notokens "$ZC" open --test-passphrase --key-file - "$ZTPM" < "$ZTPM_RK"
  check "T(b): stock cryptsetup open --test-passphrase takes it from a key file" \
    notokens cryptsetup open --test-passphrase --key-file "$ZTPM_RK" "$ZTPM"

  # (d) Interop: stock cryptsetup shows the token and opens the volume with it (systemd's
  # libcryptsetup-token-systemd-tpm2.so plugin), without a passphrase.
  check "T(d): stock cryptsetup luksDump shows the systemd-tpm2 token" stock_dump_shows systemd-tpm2
  check "T(d): stock cryptsetup token export prints it" exported_token systemd-tpm2
  check "T(d): stock cryptsetup open --token-only opens it; data intact; inline" \
    stock_opens ztpmstock cryptsetup open --token-only "$ZTPM" ztpmstock
  check "T(d): zcryptsetup open --token-only opens it with the TPM2 token; inline: yes" \
    zc_opens ztpmzc "$ZC" open --token-only "$ZTPM" ztpmzc

  # (c) clevis with its tpm2 pin: only the first {} is the image, the pin's '{}' stays.
  enroll_watched "$ZC" enroll -q "$ZTPM" -- clevis luks bind -y -k "$ZTPM_PW" -d {} tpm2 '{}'
  check "T(c): zcryptsetup enroll $ZTPM -- clevis luks bind -y -k KEYFILE -d {} tpm2 '{}'" \
    test "$enroll_rc" = 0
  say "T(c): the bind took $tool_ms ms in clevis, then $wb_ms ms"
  check "T(c): the header has a clevis token and its keyslot" has_token clevis
  check "T(c): clevis luks unlock -d $ZTPM -n zclevis opens it; data intact; inline" \
    stock_opens zclevis clevis luks unlock -d "$ZTPM" -n zclevis
  check "T: every token's keyslot exists ($(key_set))" tokens_have_keyslots

  # The boot-time unlock: no key file, the TPM2. The answering agent gives a wrong answer, so
  # a question for this volume shows as a failure, not as a silent unlock.
  local uuid
  uuid=$("$ZC" luksUUID "$ZTPM")
  echo "ztpm    UUID=$uuid  none  luks,force-inline,tpm2-device=auto" >> /etc/crypttab
  sync /etc/crypttab
  sed -n 's/^ztpm/ZCBOOT crypttab: ztpm/p' /etc/crypttab
  printf '%s\n' 'not the passphrase: ztpm must not ask' > /etc/zcboot/answers
  sync /etc/zcboot/answers
}

tpm_boot2() {
  mkdir -p "$T"
  # zcryptsetup@ztpm.service opens it, systemd-cryptsetup@ztpm.service then only follows; or,
  # for an entry zcryptsetup leaves to systemd, systemd-cryptsetup@ztpm.service opens it.
  local unit='' s
  for s in systemd-cryptsetup@ztpm.service zcryptsetup@ztpm.service; do
    systemctl is-active -q "$s" && unit=$s
  done
  say "T(a): ztpm was opened by ${unit:-no unit}"
  sed 's/^/ZCBOOT ask-password Id seen: /' /run/zcboot/asks 2>/dev/null
  check "T(a): the crypttab entry force-inline,tpm2-device=auto opened $ZTPM at boot" \
    sh -c "[ -n '$unit' ] && dmsetup info ztpm >/dev/null"
  check "T(a): no passphrase was asked (the answering agent saw $(asks) questions)" test "$(asks)" = 0
  say "T(a): zcryptsetup status ztpm: $("$ZC" status ztpm 2>&1 | grep 'inline:' | sed 's/^ *//')"
  check "T(a): zcryptsetup status ztpm says inline: yes" inline_yes ztpm
  check "T(a): the data written before the reboot reads back" same_data ztpm
  show_journal -u zcryptsetup@ztpm.service -u systemd-cryptsetup@ztpm.service
  systemctl stop zcryptsetup@ztpm.service systemd-cryptsetup@ztpm.service
  check "T(a): systemctl stop closed the mapping" not dmsetup info ztpm ||
    "$ZC" close ztpm
  sed -i '/^ztpm /d' /etc/crypttab && sync /etc/crypttab

  # (b) Removing the TPM2 enrollment: keyslot and token go together.
  local slot
  slot=$(cat "$ZB/tpm-slot")
  PASSWORD=$PASSPHRASE enroll_watched "$ZC" enroll -q "$ZTPM" -- \
    systemd-cryptenroll --wipe-slot=tpm2 {}
  check "T(b): zcryptsetup enroll $ZTPM -- systemd-cryptenroll --wipe-slot=tpm2 {}" test "$enroll_rc" = 0
  check "T(b): stock cryptsetup luksDump shows no systemd-tpm2 token" not stock_dump_shows systemd-tpm2
  check "T(b): its keyslot $slot is gone" not has_keyslot "$slot"
  check "T(b): stock cryptsetup token export finds no systemd-tpm2 token" not exported_token systemd-tpm2
  check "T(b): the recovery key still opens it (stock cryptsetup --test-passphrase)" \
    notokens cryptsetup open --test-passphrase --key-file "$ZTPM_RK" "$ZTPM"

  tpm_pkcs11

  # (e) A power cut while an enrollment writes its result: TPM2 again. The cut falls a random
  # time after systemd-cryptenroll exited, within what the write-back took in the first TPM
  # boot (and a quarter more), so it lands in zcryptsetup's checks and writes or just after.
  local wb ms
  wb=$(cat "$ZB/tpm-wb-ms" 2>/dev/null || echo 500)
  ms=$((SRANDOM % (wb + wb / 4 + 1)))
  put "$ZB/tpm-before" "$(key_set)"
  put "$ZB/tpm-cut-ms" "$ms"
  say "T(e): key set before: $(cat "$ZB/tpm-before")"
  say "T(e): enrolling TPM2 again; sysrq b $ms ms after systemd-cryptenroll exits (write-back took $wb ms)"
  echo 1 > /proc/sys/kernel/sysrq
  sync
  PASSWORD=$PASSPHRASE cut_ms=$ms enroll_watched "$ZC" enroll -q "$ZTPM" -- \
    systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs= {}
}

# (f) PKCS#11: a SoftHSM2 token with an RSA key and a self-signed certificate for it.
p11_token() {
  local uri=$1
  softhsm2-util --init-token --free --label zcboot --pin "$P11_PIN" --so-pin 5678 &&
  pkcs11-tool --module "$P11" --login --pin "$P11_PIN" --keypairgen --key-type rsa:2048 \
    --id 01 --label zcboot &&
  printf 'cn = zcboot\nexpiration_days = 3650\nsigning_key\nencryption_key\n' > "$T/cert.tmpl" &&
  GNUTLS_PIN=$P11_PIN certtool --generate-self-signed --template "$T/cert.tmpl" \
    --outfile "$T/cert.pem" --load-privkey "$uri;object=zcboot;type=private" \
    --load-pubkey "$uri;object=zcboot;type=public" &&
  GNUTLS_PIN=$P11_PIN p11tool --login --write --load-certificate "$T/cert.pem" --label zcboot \
    --id 01 "$uri" &&
  p11tool --list-all-certs "$uri" | grep 'X.509 Certificate (RSA-2048)'
}
tpm_pkcs11() {
  local uri=pkcs11:token=zcboot
  check "T(f): SoftHSM2 token, RSA key (pkcs11-tool), self-signed certificate (certtool) on it" \
    p11_token "$uri"
  # The PIN in $PIN: systemd-cryptenroll logs into the token to find the certificate (without
  # it, it asks through systemd-ask-password).
  PIN=$P11_PIN PASSWORD=$PASSPHRASE enroll_watched "$ZC" enroll -q "$ZTPM" -- \
    systemd-cryptenroll "--pkcs11-token-uri=$uri" {}
  check "T(f): PIN=... zcryptsetup enroll $ZTPM -- systemd-cryptenroll --pkcs11-token-uri=$uri {}" \
    test "$enroll_rc" = 0
  check "T(f): the header has a systemd-pkcs11 token and its keyslot" has_token systemd-pkcs11
  printf %s "$P11_PIN" > "$T/pin"
  check "T(f): stock cryptsetup open --token-only --token-type systemd-pkcs11, the PIN on stdin" \
    stock_opens zp11 sh -c "cryptsetup open --token-only --token-type systemd-pkcs11 $ZTPM zp11 < $T/pin"
  check "T(f): zcryptsetup open --token-only --token-type systemd-pkcs11, the PIN on stdin; inline: yes" \
    zc_opens zp11zc sh -c "$ZC open --token-only --token-type systemd-pkcs11 $ZTPM zp11zc < $T/pin"
  PASSWORD=$PASSPHRASE enroll_watched "$ZC" enroll -q "$ZTPM" -- \
    systemd-cryptenroll --wipe-slot=pkcs11 {}
  check "T(f): --wipe-slot=pkcs11 through enroll removes the token and its keyslot" \
    sh -c "[ $enroll_rc = 0 ] && [ -z '$(token_slot systemd-pkcs11)' ]"
  check "T(f): every token's keyslot exists ($(key_set))" tokens_have_keyslots
}

tpm_boot3() {
  local before after copies outcome=intact slot
  before=$(cat "$ZB/tpm-before")
  say "T(e): the cut fell $(cat "$ZB/tpm-cut-ms") ms after systemd-cryptenroll exited"
  copies=$(copies_text "$ZTPM")
  say "T(e): luksDump: $copies"
  if ! copies_healthy "$copies"; then
    outcome=repaired
    check "T(e): zcryptsetup repair rewrites the stale or torn copy" "$ZC" repair -q "$ZTPM"
    say "T(e): after repair: $(copies_text "$ZTPM")"
    check "T(e): both copies complete and equal after repair" copies_healthy "$(copies_text "$ZTPM")"
  fi
  after=$(key_set)
  slot=$(token_slot systemd-tpm2)
  say "T(e): key set before the cut: $before"
  say "T(e): key set after the cut:  $after"
  if [ "$after" = "$before" ]; then
    outcome="$outcome, old key set"
  elif [ -n "$slot" ] && [ "$(key_set "$slot")" = "$before" ]; then
    outcome="$outcome, new key set (TPM2 in keyslot $slot)"
  else
    outcome="$outcome, NEITHER"
  fi
  check "T(e): the old key set or the new one (the old + a TPM2 keyslot and its token): $outcome" \
    test "${outcome%NEITHER}" = "$outcome"
  check "T(e): every token's keyslot exists (--dump-json-metadata)" tokens_have_keyslots
  check "T(e): the passphrase still opens it (zcryptsetup open --test-passphrase)" \
    notokens "$ZC" open --test-passphrase --key-file "$ZTPM_PW" "$ZTPM"
  check "T(e): so does the recovery key (stock cryptsetup)" \
    notokens cryptsetup open --test-passphrase --key-file "$ZTPM_RK" "$ZTPM"
  if [ -n "$slot" ]; then
    check "T(e): the new TPM2 token opens it (stock cryptsetup open --token-only)" \
      stock_opens ztpm cryptsetup open --token-only "$ZTPM" ztpm
  fi
  put "$ZB/tpm-outcome" "$outcome"
}
