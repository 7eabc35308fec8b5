# shellcheck shell=bash
# shellcheck disable=SC2034  # the names are used by the scripts that source this one
# Shared by the zcboot guest scripts: result lines, state on the root disk, the drives.
# Every result is one console line "ZCBOOT ok - NAME" or "ZCBOOT not ok - NAME"; the host
# counts them (tests/boot/run.sh).
ZB=/var/lib/zcboot           # state that survives reboots (the root disk)
ZC=/usr/sbin/zcryptsetup
ZNS=/dev/nvme0n1             # force-inline, key file, zoned btrfs, the power-cut drive
ZPLAIN=/dev/nvme0n2          # formatted by zcryptsetup, opened by stock systemd-cryptsetup
ZHDR=/dev/nvme0n3            # data of a detached header in a file (crypttab header=)
ZHDR_HEADER=/etc/zcboot/zhdr.hdr
ASKED=/dev/vdb               # ordinary disk, no key file: asked through the agent
PASSPHRASE='correct horse zoned staple'
# Cheap but real argon2id: TCG is slow, and wrong-passphrase tries cost one unlock each.
KDF=(--pbkdf argon2id --pbkdf-memory 32768 --pbkdf-parallel 1 --pbkdf-force-iterations 4)
# The power-cut drive's and the asked disk's slots: a cheap KDF, so an update is mostly its
# metadata writes and a random cut falls in them as often as in the key derivation, and each
# wrong answer costs little. The stock-opened namespace keeps argon2id.
FAST_KDF=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)

say() { echo "ZCBOOT $*"; }
ok() { say "ok - $*"; }
notok() { say "not ok - $*"; }

# check NAME CMD...: runs CMD; its output goes to the boot's check log, shown when it fails.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; return 0; fi
  notok "$name"
  printf '%s\n' "$out" | tail -n 15 | sed 's/^/ZCBOOT   | /'
  return 1
}

# Writes a small file on the root disk durably, so a power cut right after still finds it.
put() { printf '%s\n' "$2" > "$1.tmp" && sync "$1.tmp" && mv "$1.tmp" "$1" && sync "$(dirname "$1")"; }

boot_number() { cat "$ZB/boot" 2>/dev/null || echo 0; }

# Shows a unit's journal lines of this boot on the console: the evidence for the closing note.
show_journal() { journalctl -b -o short-monotonic --no-pager "$@" | sed 's/^/ZCBOOT log: /'; }

# Where the boot's time went (the driver's own start ends the boot: it is Type=simple).
show_boot_time() {
  local i=0
  while ! systemd-analyze time >/dev/null 2>&1 && ((i++ < 50)); do sleep 0.2; done
  systemd-analyze time 2>&1 | head -n 1 | sed 's/^/ZCBOOT /'
  systemd-analyze blame --no-pager 2>&1 | head -n 8 | sed 's/^ */ZCBOOT blame: /'
}

mapping_flags() { dmsetup table "$1" 2>/dev/null | grep -o 'no_[a-z_]*workqueue' | sort | tr '\n' ' '; }
is_inline() { [[ $(mapping_flags "$1") == "no_read_workqueue no_write_workqueue " ]]; }

asks() { if [ -f /run/zcboot/asks ]; then wc -l < /run/zcboot/asks; else echo 0; fi; }

reboot_now() { sync; say "rebooting (end of boot $(boot_number))"; systemctl reboot; exit 0; }
