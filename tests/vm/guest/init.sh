#!/bin/sh
# shellcheck shell=dash disable=SC1091,SC2016
# /init of the zcryptsetup test VM (busybox ash). Sets up a minimal system, runs the suites
# named by zc.suites=a,b on the kernel command line, prints markers the host reads:
#   ZC-SUITE-BEGIN <name> / ZC-RESULT PASS|FAIL <suite>: <check> / ZC-SUITE-END <name>
#   ZC-ALL-DONE
# and powers off. Optional: zc.timeout=SECS per suite (default 900), zc.shell=1 drops to a
# shell on the console instead of powering off (for debugging by hand).
# Links every busybox applet (the image only has /bin/sh); existing files are left alone.
/bin/busybox --install -s
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root
export LC_ALL=C

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel may have started us without stdio if /dev/console was missing from the image.
exec </dev/console >/dev/console 2>&1
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /run/cryptsetup /run/lock /dev/pts /dev/shm /root
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /dev/shm 2>/dev/null
# Kernel messages stay off the console (only emergencies); suites read dmesg instead.
echo 1 > /proc/sys/kernel/printk
# No udev here: libdevmapper (dmsetup, cryptsetup) must create nodes itself and not wait.
export DM_DISABLE_UDEV=1
ln -sf /proc/self/mounts /etc/mtab
# The kernel runs /sbin/modprobe for on-demand loads (crypto templates etc.).
echo /sbin/modprobe > /proc/sys/kernel/modprobe 2>/dev/null

# Values from /proc/cmdline (dotted parameters are not passed to init as arguments).
cmdline_value() {
  for w in $(cat /proc/cmdline); do
    case "$w" in "$1="*) echo "${w#*=}"; return 0 ;; esac
  done
  return 1
}
suites=$(cmdline_value zc.suites | tr ',' ' ')
suite_timeout=$(cmdline_value zc.timeout || echo 900)

echo "ZC-VM-BOOTED kernel $(uname -r), $(nproc) cpus, suites: ${suites:-none}"

. /zc/lib.sh

for s in $suites; do
  echo "ZC-SUITE-BEGIN $s"
  start=$(date +%s)
  if [ ! -f "/zc/suites/$s.sh" ]; then
    echo "ZC-RESULT FAIL $s: suite file missing from the initramfs"
  else
    # Each suite runs in its own shell, so its variables and traps do not leak. A suite that
    # ends early (explicit non-zero exit, syntax error) is reported: the trailing "exit 0" only
    # runs when it reaches its end. Suites must not use set -e: checks report, not abort.
    # busybox timeout kills it if it hangs, and the next suite still runs.
    ZC_SUITE=$s timeout -s KILL "$suite_timeout" \
      sh -c '. /zc/lib.sh; . "/zc/suites/$ZC_SUITE.sh"; exit 0' </dev/null
    rc=$?
    if [ "$rc" -eq 137 ] || [ "$rc" -eq 143 ]; then
      echo "ZC-RESULT FAIL $s: suite timed out after ${suite_timeout}s"
    elif [ "$rc" -ne 0 ]; then
      echo "ZC-RESULT FAIL $s: suite script exited with status $rc"
    fi
  fi
  # Whatever the suite left behind (mappings, emulated drives) goes, so suites stay independent.
  ZC_SUITE=$s zc_cleanup_all >/dev/null 2>&1
  echo "ZC-SUITE-END $s"
  echo "ZC-SUITE-TIME $s $(( $(date +%s) - start ))s"
done

echo "ZC-ALL-DONE"
if cmdline_value zc.shell >/dev/null; then
  setsid cttyhack sh
fi
sync
poweroff -f
