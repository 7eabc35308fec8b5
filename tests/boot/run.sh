#!/usr/bin/env bash
# Boots a real Debian 12 userspace (systemd as PID 1) under QEMU with the zcryptsetup .deb
# installed, an NVMe ZNS controller with two zoned namespaces and an ordinary virtio disk, and
# runs the boot scenarios of tests/boot/README.md across warm reboots of one QEMU process (so
# the ZNS write pointers survive, as on a real drive).
#
# Usage: tests/boot/run.sh [--deb FILE] [--cuts N] [--timeout SECS]
#   --deb FILE      the package to install (default: build it with scripts/build-deb.sh)
#   --cuts N        power cuts in scenario 4 (default 20)
#   --timeout SECS  wall-clock limit for all boots (default 1800)
# Environment: ZC_VM_CACHE (kernel and root file system cache, default /var/cache/zcryptsetup-vm)
#              ZC_BOOT_STALL (stop QEMU after this many seconds without a ZCBOOT line; 600)
#              ZC_BOOT_WORK (work folder, default build/boot in this checkout)
#              ZC_BOOT_APPEND (more kernel command line)
# Output: the ZCBOOT lines of the console, then "boot: N passed, N failed". Exit 0 only when
# every check passed and the last boot printed DONE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
deb='' cuts=20 timeout_s=1800
while (($#)); do
  case $1 in
    --deb) deb=$2; shift 2 ;;
    --cuts) cuts=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $cuts =~ ^[0-9]+$ ]] || { echo "run.sh: --cuts takes a number" >&2; exit 2; }
log() { echo "boot: $*" >&2; }
t0=$(date +%s)

if [[ -z $deb ]]; then deb=$(bash "$repo/scripts/build-deb.sh" | tail -n 1); fi
[[ -f $deb ]] || { echo "run.sh: no package at '$deb'" >&2; exit 2; }
# shellcheck disable=SC1090
source "$("$repo/tests/vm/fetch-kernel.sh" --env-file)"
source "$repo/tests/vm/kernel-faults.sh"
rootfs_tar=$(bash "$here/build-rootfs.sh" | tail -n 1)

work=${ZC_BOOT_WORK:-$repo/build/boot}
mkdir -p "$work"
work=$(cd "$work" && pwd)
root=$work/root
rm -rf "$root"
mkdir -p "$root"
log "unpacking $(basename "$rootfs_tar")"
tar -xf "$rootfs_tar" -C "$root"

# The guest kernel's modules, without the sound, graphics, media and network drivers no test
# uses (they would only make the image bigger).
mkdir -p "$root/lib/modules"
tar -C "$(dirname "$ZC_VM_MODULES")" -cf - --exclude=kernel/sound --exclude=kernel/drivers/gpu \
    --exclude=kernel/drivers/media --exclude=kernel/drivers/net --exclude=kernel/net \
    --exclude=kernel/drivers/infiniband --exclude=kernel/drivers/staging "$ZC_VM_KVER" |
  tar -C "$root/lib/modules" -xf -
depmod -b "$root" "$ZC_VM_KVER"

log "installing $(basename "$deb")"
cp "$deb" "$root/tmp/zcryptsetup.deb"
chroot "$root" dpkg -i /tmp/zcryptsetup.deb >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; exit 1; }
rm "$root/tmp/zcryptsetup.deb"

# The test's own units and scripts.
install -d "$root/usr/local/lib/zcboot" "$root/etc/zcboot"
install -m 755 "$here"/guest/*.sh "$root/usr/local/lib/zcboot/"
install -m 644 "$here"/guest/*.service "$root/etc/systemd/system/"
ln -sf ../zcboot-answer.service "$root/etc/systemd/system/sysinit.target.wants/zcboot-answer.service"
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../zcboot-driver.service "$root/etc/systemd/system/multi-user.target.wants/zcboot-driver.service"
echo "$cuts" > "$root/etc/zcboot/cuts"
# No fsck pass for the root: the kernel replays its journal after a cut, and e2fsck at every
# one of 24 boots would cost minutes under emulation. The journal stays in memory for the same
# reason; each boot shows its own.
echo "/dev/vda / ext4 rw,errors=remount-ro 0 0" > "$root/etc/fstab"
mkdir -p "$root/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' > "$root/etc/systemd/journald.conf.d/zcboot.conf"

log "making the disks"
rm -f "$work/root.img"
mkfs.ext4 -q -F -L zcboot -d "$root" "$work/root.img" 3G
rm -rf "$root"
for img in zns1:2G zns2:1G zns3:512M asked:256M; do
  rm -f "$work/${img%%:*}.img"
  truncate -s "${img#*:}" "$work/${img%%:*}.img"
done

initrd=$work/initrd.cpio
bash "$here/build-initramfs.sh" "$initrd"

# The guest's TPM2: swtpm on a socket, QEMU's tpm-tis in front of it (the kernel's built-in
# tpm_tis gives /dev/tpmrm0). A fresh state each run, kept across the guest's reboots as a
# real TPM keeps its seeds, ended with this script.
tpm=$work/tpm
rm -rf "$tpm"
mkdir -p "$tpm"
swtpm socket --tpm2 --tpmstate "dir=$tpm" --ctrl "type=unixio,path=$tpm/sock" \
  --log "file=$tpm/swtpm.log" &
swtpm_pid=$!
trap 'kill "$swtpm_pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in $(seq 50); do [[ -S $tpm/sock ]] && break; sleep 0.1; done
[[ -S $tpm/sock ]] || { echo "run.sh: swtpm did not make $tpm/sock" >&2; exit 1; }

# No network card: the tests need none, and iPXE's option ROM would cost seconds every boot.
# init_on_alloc=0: Debian's kernel zeroes every page it allocates, which under TCG cost up to
# 25 s of kernel time a boot here (Startup finished in 33.5 s against 8.9 s without).
# watchdog_thresh=60: the soft-lockup detector counts host time, and a vCPU the host does not
# run is "stuck" to it; after 2 of 6 power cuts the initramfs' insmod sat 26 s that way
# ("BUG: soft lockup ... [insmod]", root mounted 31 s after the kernel started instead of 3),
# which the console check below takes for a kernel bug. At 60 a lockup is reported after 2
# minutes: a real one still is.
zns_ns="zoned=true,zoned.zone_size=64M,zoned.zone_capacity=48M,zoned.max_active=14,zoned.max_open=14"
# shellcheck disable=SC2054  # the commas are QEMU's own option syntax
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic -nic none
      -kernel "$ZC_VM_VMLINUZ" -initrd "$initrd"
      -append "console=ttyS0 root=/dev/vda rw quiet panic=-1 systemd.show_status=0 init_on_alloc=0 watchdog_thresh=60 ${ZC_BOOT_APPEND:-}"
      -drive "file=$work/root.img,format=raw,if=virtio"
      -drive "file=$work/asked.img,format=raw,if=virtio"
      -drive "file=$work/zns1.img,id=nvm1,format=raw,if=none"
      -drive "file=$work/zns2.img,id=nvm2,format=raw,if=none"
      -drive "file=$work/zns3.img,id=nvm3,format=raw,if=none"
      -device nvme,serial=zc1,id=nvme0
      -device "nvme-ns,drive=nvm1,nsid=1,$zns_ns"
      -device "nvme-ns,drive=nvm2,nsid=2,$zns_ns"
      -device "nvme-ns,drive=nvm3,nsid=3,$zns_ns"
      -chardev "socket,id=chrtpm,path=$tpm/sock" -tpmdev emulator,id=tpm0,chardev=chrtpm
      -device tpm-tis,tpmdev=tpm0)
console=$work/console.log
# Setup, three crypttab boots, the N cut checks (the last one also enrolls TPM2, a recovery key
# and clevis), the TPM2 boot (unlock at boot, then a cut during an enrollment), its check.
boots_expected=$((cuts + 6))
t1=$(date +%s)
progress=$work/progress.log  # the ZCBOOT lines with the host's time (epoch seconds)
: >"$progress"
log "booting (one QEMU process, $boots_expected boots; console: $console)"
# A stuck boot ends the run at once, named, rather than at --timeout: no ZCBOOT line for
# ZC_BOOT_STALL seconds (a boot prints one every few seconds; a reboot is under 90 s) stops QEMU.
stall_s=${ZC_BOOT_STALL:-600}
[[ $stall_s =~ ^[0-9]+$ ]] || { echo "run.sh: ZC_BOOT_STALL takes seconds" >&2; exit 2; }
rm -f "$work/qemu.pid" "$work/stalled"
qemu+=(-pidfile "$work/qemu.pid")
(
  while sleep 10 && kill -0 $$ 2>/dev/null; do
    [[ -s $work/qemu.pid ]] || continue
    qpid=$(<"$work/qemu.pid")
    kill -0 "$qpid" 2>/dev/null || break
    quiet_s=$(($(date +%s) - $(stat -c %Y "$progress")))
    if ((quiet_s > stall_s)); then echo "$quiet_s" >"$work/stalled"; kill "$qpid"; break; fi
  done
) &
watchdog_pid=$!
set +e
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$console" |
  stdbuf -oL tr -d '\r' | grep --line-buffered -a 'ZCBOOT \|sysrq: Resetting\|reboot: \|zcboot-initramfs' |
  while IFS= read -r line; do printf '%(%s)T %s\n' -1 "$line" >>"$progress"
                              printf '%(%T)T %s\n' -1 "$line"; done
qrc=${PIPESTATUS[0]}
kill "$watchdog_pid" 2>/dev/null
wait "$watchdog_pid" 2>/dev/null
set -e
t2=$(date +%s)

lines=$(tr -d '\r' < "$console" | grep -a -o 'ZCBOOT .*' || true)
passed=$(grep -c '^ZCBOOT ok - ' <<<"$lines" || true)
failed=$(grep -c '^ZCBOOT not ok - ' <<<"$lines" || true)
boots=$(grep -c '^ZCBOOT boot [0-9]* begins' <<<"$lines" || true)
problems=()
if [[ -f $work/stalled ]]; then
  problems+=("stuck: no ZCBOOT line for $(<"$work/stalled") s, QEMU stopped; the last: $(tail -n 1 "$progress" | cut -d" " -f2-)")
elif ((qrc != 0)); then
  problems+=("qemu exited with status $qrc (124: timed out after ${timeout_s}s)")
fi
grep -q '^ZCBOOT DONE' <<<"$lines" || problems+=("the last boot did not print DONE")
((boots == boots_expected)) || problems+=("$boots boots ran, $boots_expected expected")
fault=$(kernel_fault_problem "$console")
[[ -z $fault ]] || problems+=("$fault")
for p in "${problems[@]}"; do echo "boot: ERROR: $p"; done
# Each boot's wall time (to the next boot's start, or to the end for the last), so a slow or
# stuck boot shows in the closing lines.
awk -v end="$t2" 'match($0, /ZCBOOT boot [0-9]+ begins/) {
    n[++k] = substr($0, RSTART + 12, RLENGTH - 19); t[k] = $1 }
  END { if (k) { printf "boot: per boot:"; for (i = 1; i <= k; i++)
        printf " %s:%ds", n[i], (i < k ? t[i + 1] : end) - t[i]; print "" } }' "$progress"
echo "boot: timing: preparing ${t1}-${t0} s, boots $((t2 - t1)) s" |
  awk '{ split($4, a, "-"); $4 = a[1] - a[2]; print }'
echo "boot: $passed passed, $((failed + ${#problems[@]})) failed"
((failed == 0 && ${#problems[@]} == 0))
