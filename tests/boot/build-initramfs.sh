#!/usr/bin/env bash
# The boot tests' initramfs: static busybox, the few modules needed to reach an ext4 root on
# virtio, and an /init that mounts /dev/vda and switch_roots into systemd.
#
# Usage: tests/boot/build-initramfs.sh OUT   (ZC_VM_KVER and ZC_VM_MODULES from fetch-kernel.sh)
set -euo pipefail
out=$1
kmods=$ZC_VM_MODULES kver=$ZC_VM_KVER
kroot=${kmods%/lib/modules/*}
stage=$(mktemp -d "${TMPDIR:-/tmp}/zcboot-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
mknod -m 600 "$stage/dev/console" c 5 1
busybox=$(command -v busybox)
if ldd "$busybox" 2>/dev/null | grep -q '=>'; then echo "$busybox is not static" >&2; exit 1; fi
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"

# Each module and its dependencies, in load order, as insmod lines for /init.
loads=()
for m in crc32c_generic virtio_pci virtio_blk ext4; do
  while read -r kind path _; do
    [[ $kind == insmod ]] || continue
    name=$(basename "$path")
    [[ -f $stage/modules/$name ]] && continue
    cp "$path" "$stage/modules/$name"
    loads+=("$name")
  done < <(modprobe -d "$kroot" -S "$kver" --show-depends "$m")
done

cat > "$stage/init" <<EOT
#!/bin/sh
export PATH=/bin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${loads[*]}; do insmod /modules/\$m 2>/dev/null; done
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
  echo "zcboot-initramfs: cannot mount /dev/vda"; poweroff -f
fi
echo "zcboot-initramfs: root mounted \$(cut -d' ' -f1 /proc/uptime) s after the kernel started"
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOT
chmod 755 "$stage/init"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
