#!/bin/bash
# zcryptsetup-generator, run the way systemd runs it (three fresh output directories), on
# sample crypttab files; checks the units, links and drop-ins it writes, and has
# systemd-analyze verify them when it is installed.
#
#   generator_test.sh GENERATOR SBINDIR [ZCRYPTSETUP]
#
# SBINDIR is where the units expect zcryptsetup (the build's install sbindir); ZCRYPTSETUP, an
# executable standing in for it when systemd-analyze checks the ExecStart= commands.
set -u

GEN=${1:?usage: generator_test.sh GENERATOR SBINDIR [ZCRYPTSETUP]}
SBINDIR=${2:?usage: generator_test.sh GENERATOR SBINDIR [ZCRYPTSETUP]}
TOOL=$(readlink -f "${3:-/bin/true}")

PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/generator_test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass; else fail "$what"; fi
}
# has_line FILE LINE: FILE holds LINE exactly, as a whole line.
has_line() { grep -qxF -- "$2" "$1" 2>/dev/null; }
lacks_line() { [ -f "$1" ] && ! grep -qxF -- "$2" "$1"; }
# link_to LINK TARGET: LINK is a symlink whose text is TARGET.
link_to() { [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }

# run NAME [GENERATOR ARGS BEFORE THE DIRS...]: runs in $WORK/NAME/{normal,early,late},
# stderr in $WORK/NAME/stderr, status in RC.
run() {
  local name=$1; shift
  D=$WORK/$name
  mkdir -p "$D/normal" "$D/early" "$D/late"
  "$GEN" "$@" "$D/normal" "$D/early" "$D/late" 2>"$D/stderr"
  RC=$?
}

# --- a crypttab with every case -------------------------------------------------------------
CT=$WORK/crypttab
cat >"$CT" <<'EOF'
# name   device   keyfile   options
home	UUID=ab-cd	/etc/keys/home.key	force-inline,discard,luks

plain /dev/sdb none luks,discard
lazy   /dev/sdc   -   force-inline,noauto
opt /var/img/a.img - force-inline,nofail
hdr /dev/sdf - force-inline,header=/dev/disk/by-partlabel/hdr
my-vol.2 /dev/disk/by-id/ata-X_Y-part1 - force-inline,x-unknown=1
we$rd%1 LABEL=my/label none force-inline,readonly
broken
crlf /dev/sdd - force-inline,noauto,nofail
slow /dev/sdg /dev/disk/by-partlabel/usbkey force-inline,timeout=2min30s,keyfile-timeout=10s
usb /dev/sdh /dev/disk/by-partlabel/usbkey force-inline
EOF
sed -i 's/^crlf .*$/&\r/' "$CT"

run main --crypttab "$CT"
N=$D/normal
check "generator exits 0 despite a bad line (rc=$RC)" [ "$RC" -eq 0 ]
check "bad line 10 reported" grep -q "crypttab line 10: Missing device" "$D/stderr"
check "unknown option of a force-inline entry reported" grep -q "line 8: ignoring unknown option x-unknown=1" "$D/stderr"
check "early dir untouched" [ -z "$(ls -A "$D/early")" ]
check "late dir untouched" [ -z "$(ls -A "$D/late")" ]

# home: a required volume by UUID with a key file.
U=$N/zcryptsetup@home.service
check "home unit written" [ -f "$U" ]
check "home ExecStart" has_line "$U" "ExecStart=$SBINDIR/zcryptsetup crypttab open --crypttab \"$CT\" -- \"home\""
check "home ExecStop" has_line "$U" "ExecStop=$SBINDIR/zcryptsetup crypttab close --crypttab \"$CT\" -- \"home\""
check "home Type=oneshot" has_line "$U" "Type=oneshot"
check "home RemainAfterExit" has_line "$U" "RemainAfterExit=yes"
check "home DefaultDependencies=no" has_line "$U" "DefaultDependencies=no"
check "home After=cryptsetup-pre" has_line "$U" "After=cryptsetup-pre.target systemd-udevd-kernel.socket"
check "home BindsTo device" has_line "$U" 'BindsTo=dev-disk-by\x2duuid-ab\x2dcd.device'
check "home After device" has_line "$U" 'After=dev-disk-by\x2duuid-ab\x2dcd.device'
check "home Before=cryptsetup.target" has_line "$U" "Before=cryptsetup.target"
check "home Conflicts=umount.target" has_line "$U" "Conflicts=umount.target"
check "home Before=umount.target" has_line "$U" "Before=umount.target"
check "home blockdev target" has_line "$U" "Before=blockdev@dev-mapper-home.target"
check "home key file mount" has_line "$U" "RequiresMountsFor=/etc/keys/home.key"
check "home requires link" link_to "$N/cryptsetup.target.requires/zcryptsetup@home.service" "../zcryptsetup@home.service"
check "home no wants link" absent "$N/cryptsetup.target.wants/zcryptsetup@home.service"
check "home mapper device link" link_to "$N/dev-mapper-home.device.requires/zcryptsetup@home.service" "../zcryptsetup@home.service"
DROP=$N/systemd-cryptsetup@home.service.d/90-zcryptsetup-force-inline.conf
check "home systemd-cryptsetup drop-in" [ -f "$DROP" ]
check "drop-in binds to ours" has_line "$DROP" "BindsTo=zcryptsetup@home.service"
check "drop-in after ours" has_line "$DROP" "After=zcryptsetup@home.service"
check "drop-in resets ExecStart" has_line "$DROP" "ExecStart="
check "drop-in resets ExecStop" has_line "$DROP" "ExecStop="
check "systemd-cryptsetup unit itself left to its generator" absent "$N/systemd-cryptsetup@home.service"

# plain: no force-inline, left to systemd-cryptsetup.
check "plain: no unit" absent "$N/zcryptsetup@plain.service"
check "plain: no drop-in" absent "$N/systemd-cryptsetup@plain.service.d"
check "plain: no mapper link" absent "$N/dev-mapper-plain.device.requires"

# lazy: noauto.
U=$N/zcryptsetup@lazy.service
check "lazy unit written" [ -f "$U" ]
check "lazy BindsTo" has_line "$U" "BindsTo=dev-sdc.device"
check "lazy not required by cryptsetup.target" absent "$N/cryptsetup.target.requires/zcryptsetup@lazy.service"
check "lazy not wanted by cryptsetup.target" absent "$N/cryptsetup.target.wants/zcryptsetup@lazy.service"
check "lazy still started by its mapper device" link_to "$N/dev-mapper-lazy.device.requires/zcryptsetup@lazy.service" "../zcryptsetup@lazy.service"

# opt: nofail, a volume in a file.
U=$N/zcryptsetup@opt.service
check "opt wants link" link_to "$N/cryptsetup.target.wants/zcryptsetup@opt.service" "../zcryptsetup@opt.service"
check "opt no requires link" absent "$N/cryptsetup.target.requires/zcryptsetup@opt.service"
check "opt not ordered before cryptsetup.target" lacks_line "$U" "Before=cryptsetup.target"
check "opt file volume waits for its mount" has_line "$U" "RequiresMountsFor=/var/img/a.img"
check "opt binds to no device" bash -c '! grep -q "^BindsTo=" "$1"' _ "$U"

# hdr: a detached header on a device. The unit binds to the data device and, as
# systemd-cryptsetup-generator writes it, requires and comes after the header's device.
U=$N/zcryptsetup@hdr.service
check "hdr: unit written" [ -f "$U" ]
check "hdr: binds to the data device" has_line "$U" "BindsTo=dev-sdf.device"
check "hdr: requires the header device" has_line "$U" 'Requires=dev-disk-by\x2dpartlabel-hdr.device'
check "hdr: after the header device" has_line "$U" 'After=dev-disk-by\x2dpartlabel-hdr.device'
check "hdr: not bound to the header device" lacks_line "$U" 'BindsTo=dev-disk-by\x2dpartlabel-hdr.device'
check "hdr: no mount ordering" bash -c '! grep -q "^RequiresMountsFor=" "$1"' _ "$U"
check "hdr: systemd-cryptsetup silenced" [ -f "$N/systemd-cryptsetup@hdr.service.d/90-zcryptsetup-force-inline.conf" ]
check "hdr: requires link" link_to "$N/cryptsetup.target.requires/zcryptsetup@hdr.service" "../zcryptsetup@hdr.service"
check "hdr: no notice on stderr" bash -c '! grep -q "hdr" "$1"' _ "$D/stderr"

# slow: timeout= and keyfile-timeout=. As systemd-cryptsetup's units, TimeoutSec=0: zcryptsetup
# bounds its own waits. With keyfile-timeout= the unit wants the key's device but does not wait
# for its job (zcryptsetup waits for the key file itself); usb, without, waits for it.
U=$N/zcryptsetup@slow.service
check "slow unit written" [ -f "$U" ]
check "slow TimeoutSec=0" has_line "$U" "TimeoutSec=0"
check "slow wants its key device" has_line "$U" 'Wants=dev-disk-by\x2dpartlabel-usbkey.device'
check "slow not ordered after its key device" lacks_line "$U" 'After=dev-disk-by\x2dpartlabel-usbkey.device'
U=$N/zcryptsetup@usb.service
check "usb wants its key device" has_line "$U" 'Wants=dev-disk-by\x2dpartlabel-usbkey.device'
check "usb ordered after its key device" has_line "$U" 'After=dev-disk-by\x2dpartlabel-usbkey.device'

# my-vol.2: escaping of a '-' in the name and of the device path.
U=$N/'zcryptsetup@my\x2dvol.2.service'
check "my-vol.2 unit name escaped" [ -f "$U" ]
check "my-vol.2 ExecStart unescaped name" has_line "$U" "ExecStart=$SBINDIR/zcryptsetup crypttab open --crypttab \"$CT\" -- \"my-vol.2\""
check "my-vol.2 device escaped" has_line "$U" 'BindsTo=dev-disk-by\x2did-ata\x2dX_Y\x2dpart1.device'
check "my-vol.2 mapper link" [ -L "$N"/'dev-mapper-my\x2dvol.2.device.requires/zcryptsetup@my\x2dvol.2.service' ]

# we$rd%1: specifier and variable characters in the name; a label with a '/'.
U=$N/'zcryptsetup@we\x24rd\x251.service'
check "we\$rd%1 unit name escaped" [ -f "$U" ]
check "we\$rd%1 ExecStart quoted" has_line "$U" "ExecStart=$SBINDIR/zcryptsetup crypttab open --crypttab \"$CT\" -- \"we\$\$rd%%1\""
check "label with / encoded by udev, then escaped" has_line "$U" 'BindsTo=dev-disk-by\x2dlabel-my\x5cx2flabel.device'

# crlf: the CR is not part of the options.
U=$N/zcryptsetup@crlf.service
check "crlf unit written" [ -f "$U" ]
check "crlf noauto honoured" absent "$N/cryptsetup.target.wants/zcryptsetup@crlf.service"
check "crlf no CR in units" bash -c '! grep -rq $'"'"'\r'"'"' "$1"' _ "$N"

# Names agree with systemd-escape itself, when it is there.
if command -v systemd-escape >/dev/null; then
  for name in home lazy opt my-vol.2 'we$rd%1' crlf; do
    check "systemd-escape agrees on $name" [ -f "$N/zcryptsetup@$(systemd-escape -- "$name").service" ]
  done
  check "systemd-escape --path agrees on the device" \
    has_line "$N/zcryptsetup@my\\x2dvol.2.service" "BindsTo=$(systemd-escape --path /dev/disk/by-id/ata-X_Y-part1).device"
else
  echo "generator: systemd-escape not installed, its cross-check skipped"
fi

# Exactly the expected units, nothing more.
UNITS=$(cd "$N" && ls -1 -- *.service | sort | tr '\n' ' ')
check "only force-inline units ($UNITS)" [ "$UNITS" = 'zcryptsetup@crlf.service zcryptsetup@hdr.service zcryptsetup@home.service zcryptsetup@lazy.service zcryptsetup@my\x2dvol.2.service zcryptsetup@opt.service zcryptsetup@slow.service zcryptsetup@usb.service zcryptsetup@we\x24rd\x251.service ' ]

# --- $SYSTEMD_CRYPTTAB, a missing crypttab, bad arguments ----------------------------------
printf 'envvol /dev/sde - force-inline\n' >"$WORK/env.crypttab"
D=$WORK/env; mkdir -p "$D/n" "$D/e" "$D/l"
SYSTEMD_CRYPTTAB=$WORK/env.crypttab "$GEN" "$D/n" "$D/e" "$D/l" 2>"$D/stderr"
check "SYSTEMD_CRYPTTAB run exits 0" [ $? -eq 0 ]
check "SYSTEMD_CRYPTTAB honoured" [ -f "$D/n/zcryptsetup@envvol.service" ]
check "SYSTEMD_CRYPTTAB file passed on, options before --" has_line "$D/n/zcryptsetup@envvol.service" \
  "ExecStart=$SBINDIR/zcryptsetup crypttab open --crypttab \"$WORK/env.crypttab\" -- \"envvol\""
check "--crypttab wins over SYSTEMD_CRYPTTAB" bash -c \
  'd=$(mktemp -d) && SYSTEMD_CRYPTTAB=$2 "$1" --crypttab "$3" "$d" "$d" "$d" && [ -f "$d/zcryptsetup@home.service" ] && [ ! -e "$d/zcryptsetup@envvol.service" ]; r=$?; rm -rf "$d"; exit $r' \
  _ "$GEN" "$WORK/env.crypttab" "$CT" 2>/dev/null

run missing --crypttab "$WORK/does-not-exist"
check "missing crypttab exits 0" [ "$RC" -eq 0 ]
check "missing crypttab generates nothing" [ -z "$(ls -A "$D/normal")" ]

printf '# nothing inline here\nplain /dev/sdb none luks\n' >"$WORK/none.crypttab"
run none --crypttab "$WORK/none.crypttab"
check "no force-inline entries: nothing generated" [ -z "$(ls -A "$D/normal")" ]

"$GEN" --crypttab "$CT" "$WORK" 2>/dev/null
check "one directory instead of three is refused" [ $? -ne 0 ]
"$GEN" 2>/dev/null
check "no arguments refused" [ $? -ne 0 ]

# --- control characters: no crypttab byte may start a new unit line (issue 8) ---------------
# systemd ends a unit-file line at LF, CR or NUL: a CR in any field would add a line such as
# ExecStartPre=. Such lines are bad lines, reported and skipped.
INJ=$WORK/inject.crypttab
{
  printf 'crkey /dev/sdx /k\rExecStartPre=/bin/evil force-inline\n'
  printf 'crname\rExecStartPre=evil /dev/sdx - force-inline\n'
  printf 'nulkey /dev/sdx /k\0ExecStartPre=/bin/evil force-inline\n'
  printf 'escdev /dev/sdx\033[2J - force-inline\n'
  printf 'crhdr /dev/sdx - force-inline,header=/h\rExecStartPre=/bin/evil\n'
  printf 'delname\177 /dev/sdx - force-inline\n'
  printf 'good /dev/sdy - force-inline\n'
  printf 'crlf2 /dev/sdz - force-inline\r\n'
} >"$INJ"
run inject --crypttab "$INJ"
check "control characters: generator exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
for n in 1 2 3 4 5 6; do
  check "control characters: line $n reported" grep -q "inject.crypttab line $n: .*control character" "$D/stderr"
done
UNITS=$(cd "$D/normal" && ls -1 -- *.service | sort | tr '\n' ' ')
check "control characters: only the clean lines generated ($UNITS)" \
  [ "$UNITS" = 'zcryptsetup@crlf2.service zcryptsetup@good.service ' ]
check "control characters: no injected command anywhere" bash -c '! grep -rqa "ExecStartPre=.*evil" "$1"' _ "$D/normal"
check "control characters: no control byte in any generated file" \
  bash -c '! grep -rqaP "[\\x00-\\x08\\x0b-\\x1f\\x7f]" "$1"' _ "$D/normal"
check "control characters: not echoed to the log either" bash -c '! grep -qaP "[\\x00\\x0d\\x1b\\x7f]" "$1"' _ "$D/stderr"
# crypttab check applies the same rule (the same parser).
if [ "$(basename "$TOOL")" = zcryptsetup ]; then
  out=$("$TOOL" crypttab check --crypttab "$INJ" 2>&1 </dev/null); rc=$?
  check "crypttab check: exit 1 for control characters (rc=$rc)" [ "$rc" -eq 1 ]
  for n in 1 2 3 4 5 6; do
    check "crypttab check reports line $n" grep -q "inject.crypttab:$n: .*control character" <<<"$out"
  done
  check "crypttab check: 2 entries, 6 bad lines" grep -q "2 entries, 6 bad lines" <<<"$out"
fi

# The crypttab path is written into the units too (SourcePath=, comments, --crypttab): a path
# with a control character generates nothing and fails, from --crypttab and $SYSTEMD_CRYPTTAB.
for bad in $'cr\rExecStartPre=evil' $'nl\nExecStartPre=evil' $'esc\033x'; do
  P=$WORK/$bad
  cp "$WORK/env.crypttab" "$P"
  what=$(printf %q "$bad")
  run "path-$RANDOM" --crypttab "$P"
  check "crypttab path $what refused (rc=$RC)" [ "$RC" -ne 0 ]
  check "crypttab path $what: nothing generated" [ -z "$(ls -A "$D/normal")" ]
  check "crypttab path $what: reported" grep -q "control character" "$D/stderr"
  D=$WORK/env-$RANDOM; mkdir -p "$D/n" "$D/e" "$D/l"
  SYSTEMD_CRYPTTAB=$P "$GEN" "$D/n" "$D/e" "$D/l" 2>"$D/stderr"
  RC=$?
  check "SYSTEMD_CRYPTTAB $what refused (rc=$RC)" [ "$RC" -ne 0 ]
  check "SYSTEMD_CRYPTTAB $what: nothing generated" [ -z "$(ls -A "$D/n")" ]
  rm -f "$P"
done

# --- names that look like options or dot files (issue 8) ---------------------------------------
DASH=$WORK/dash.crypttab
cat >"$DASH" <<'EOF'
--all /dev/zcryptsetup-test-absent-1 - force-inline
.dot /dev/zcryptsetup-test-absent-2 - force-inline
-q /dev/zcryptsetup-test-absent-3 - force-inline
control /dev/zcryptsetup-test-absent-4 - force-inline
.. /dev/zcryptsetup-test-absent-5 - force-inline
EOF
run dash --crypttab "$DASH"
N=$D/normal
check "dash names: generator exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "name control refused (device-mapper keeps it)" grep -q "dash.crypttab line 4: .*control" "$D/stderr"
check "name .. refused" grep -q "dash.crypttab line 5: " "$D/stderr"
UNITS=$(cd "$N" && ls -1 -- *.service | sort | tr '\n' ' ')
check "dash names: units ($UNITS)" \
  [ "$UNITS" = 'zcryptsetup@\x2d\x2dall.service zcryptsetup@\x2dq.service zcryptsetup@\x2edot.service ' ]
U=$N/'zcryptsetup@\x2d\x2dall.service'
check "--all: the name comes after --" has_line "$U" "ExecStart=$SBINDIR/zcryptsetup crypttab open --crypttab \"$DASH\" -- \"--all\""
check "--all: ExecStop too" has_line "$U" "ExecStop=$SBINDIR/zcryptsetup crypttab close --crypttab \"$DASH\" -- \"--all\""
U=$N/'zcryptsetup@\x2edot.service'
# blockdev@ targets are named from the device path (the mounts of /dev/mapper/.dot wait for
# that one), and systemd escapes a leading '.' only at the start of the whole string.
check ".dot: blockdev target named from the path" has_line "$U" "Before=blockdev@dev-mapper-.dot.target"
check ".dot: blockdev target wanted" has_line "$U" "Wants=blockdev@dev-mapper-.dot.target"
check ".dot: mapper device link" link_to "$N/dev-mapper-.dot.device.requires/zcryptsetup@\x2edot.service" "../zcryptsetup@\x2edot.service"
if command -v systemd-escape >/dev/null; then
  for name in --all .dot -q; do
    U=$N/zcryptsetup@$(systemd-escape -- "$name").service
    check "systemd-escape agrees on $name" [ -f "$U" ]
    check "systemd-escape --path agrees on blockdev@ for $name" \
      has_line "$U" "Before=$(systemd-escape --path --template=blockdev@.target -- "/dev/mapper/$name")"
  done
fi
# The Exec line as zcryptsetup parses it: "--all" is the entry's name, not the option.
if [ "$(basename "$TOOL")" = zcryptsetup ]; then
  U=$N/'zcryptsetup@\x2d\x2dall.service'
  cmd=$(sed -n "s|^ExecStart=$SBINDIR/zcryptsetup |\"\$TOOL\" |p" "$U")
  out=$(eval "$cmd" 2>&1 </dev/null); rc=$?
  check "ExecStart of --all opens that entry only (rc=$rc): $out" \
    bash -c '[ "$1" -eq 4 ] && grep -q absent-1 <<<"$2" && ! grep -q -e absent-2 -e "drives in" <<<"$2"' _ "$rc" "$out"
fi

# --- systemd-analyze verify -----------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  V=$WORK/verify
  mkdir -p "$V"
  # The units name $SBINDIR/zcryptsetup, which need not be installed: verify copies that run
  # an executable that exists. Everything else is verified as written.
  for f in "$WORK/main/normal"/*.service; do
    sed "s|$SBINDIR/zcryptsetup |$TOOL |" "$f" >"$V/$(basename "$f")"
  done
  # A stand-in for systemd-cryptsetup-generator's unit, with our drop-in: its commands do not
  # exist here, so verify passes only if the drop-in really replaced them.
  cat >"$V/systemd-cryptsetup@home.service" <<'EOF'
[Unit]
Description=Cryptography Setup for %I
DefaultDependencies=no
Before=cryptsetup.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/nonexistent/systemd-cryptsetup attach home /dev/disk/by-uuid/ab-cd
ExecStop=/nonexistent/systemd-cryptsetup detach home
EOF
  cp -r "$WORK/main/normal/systemd-cryptsetup@home.service.d" "$V/"
  for f in "$V"/*.service; do
    out=$(cd "$V" && systemd-analyze verify --man=no "./$(basename "$f")" 2>&1)
    rc=$?
    check "systemd-analyze verify $(basename "$f"): rc=$rc ${out}" [ $rc -eq 0 ] && [ -z "$out" ]
  done
  # And the check above can fail: the stand-in without the drop-in is refused.
  rm -rf "$V/systemd-cryptsetup@home.service.d"
  (cd "$V" && systemd-analyze verify --man=no ./systemd-cryptsetup@home.service >/dev/null 2>&1)
  check "verify refuses the stand-in without the drop-in" [ $? -ne 0 ]
else
  echo "generator: systemd-analyze not installed, verify skipped"
fi

# --- header= in a file system, and odd characters in header paths ---------------------------
# A header file waits for the mount that holds it (RequiresMountsFor=, '%' doubled as for the
# key file); a device path is escaped as systemd-escape --path does; a path with a quote or a
# backslash gets no mount ordering (as a key file), and is reported. Relative: a bad line.
HDR=$WORK/header.crypttab
cat >"$HDR" <<'EOF3'
fhdr /dev/sdi - force-inline,header=/boot/hdr%1$x.img
dhdr /dev/sdj - force-inline,header=/dev/disk/by-id/odd$%x
qhdr /dev/sdk - force-inline,header=/boot/a\b'c
rhdr /dev/sdl - force-inline,header=boot/h.img
EOF3
run header --crypttab "$HDR"
check "header: generator exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
U=$D/normal/zcryptsetup@fhdr.service
check "fhdr: waits for the header's mount" has_line "$U" 'RequiresMountsFor=/boot/hdr%%1$x.img'
check "fhdr: still binds to its data device" has_line "$U" "BindsTo=dev-sdi.device"
check "fhdr: no Requires= on a device" bash -c '! grep -q "^Requires=" "$1"' _ "$U"
U=$D/normal/zcryptsetup@dhdr.service
check "dhdr: header device escaped" has_line "$U" 'Requires=dev-disk-by\x2did-odd\x24\x25x.device'
check "dhdr: after the escaped header device" has_line "$U" 'After=dev-disk-by\x2did-odd\x24\x25x.device'
if command -v systemd-escape >/dev/null; then
  check "dhdr: systemd-escape --path agrees" \
    has_line "$U" "Requires=$(systemd-escape --path '/dev/disk/by-id/odd$%x').device"
fi
U=$D/normal/zcryptsetup@qhdr.service
check "qhdr: unit written" [ -f "$U" ]
check "qhdr: no mount ordering" bash -c '! grep -q "^RequiresMountsFor=" "$1"' _ "$U"
check "qhdr: reported" grep -q "header.crypttab line 3: no mount ordering for /boot/a" "$D/stderr"
check "rhdr: relative header is a bad line" grep -q "header.crypttab line 4: .*absolute path" "$D/stderr"
check "rhdr: no unit" absent "$D/normal/zcryptsetup@rhdr.service"
if command -v systemd-analyze >/dev/null; then
  for f in "$D/normal"/*.service; do
    sed "s|$SBINDIR/zcryptsetup |$TOOL |" "$f" >"$WORK/verify/$(basename "$f")"
    out=$(cd "$WORK/verify" && systemd-analyze verify --man=no "./$(basename "$f")" 2>&1)
    rc=$?
    check "systemd-analyze verify $(basename "$f"): rc=$rc ${out}" [ $rc -eq 0 ] && [ -z "$out" ]
  done
fi

# LUKS2 token options: =auto is zcryptsetup's (a unit); a device path, a URI or a PCR policy
# needs systemd-cryptsetup's own code (no unit, systemd-cryptsetup not silenced).
TOK=$WORK/token.crypttab
cat >"$TOK" <<'EOF2'
tpmauto /dev/sdx - force-inline,tpm2-device=auto,token-timeout=10s,headless
tpmpath /dev/sdx - force-inline,tpm2-device=/dev/tpmrm0
pcrs /dev/sdx - force-inline,tpm2-device=auto,tpm2-pcrs=7
fido /dev/sdx - force-inline,fido2-device=auto
EOF2
run token --crypttab "$TOK"
check "token options: generator exits 0 (rc=$RC)" [ "$RC" -eq 0 ]
check "tpmauto: unit written" [ -f "$D/normal/zcryptsetup@tpmauto.service" ]
check "fido: unit written" [ -f "$D/normal/zcryptsetup@fido.service" ]
check "token options are not reported unknown" bash -c '! grep -q "unknown option" "$1"' _ "$D/stderr"
for n in tpmpath pcrs; do
  check "$n: no zcryptsetup unit" absent "$D/normal/zcryptsetup@$n.service"
  check "$n: systemd-cryptsetup not silenced" absent "$D/normal/systemd-cryptsetup@$n.service.d"
done
check "tpmpath: notice on stderr" grep -q "line 2: tpmpath: tpm2-device=/dev/tpmrm0 needs systemd-cryptsetup.*systemd-cryptsetup will open it" "$D/stderr"
check "pcrs: notice on stderr" grep -q "line 3: pcrs: tpm2-pcrs=7 needs systemd-cryptsetup" "$D/stderr"

echo "generator: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
