#!/usr/bin/env bash
# Builds (once) the Debian 12 root file system the boot tests run in: debootstrap minbase plus
# systemd, udev, stock cryptsetup, btrfs-progs and the libraries zcryptsetup links, with the
# units that only slow a test boot masked. The result is a tarball cached outside the repo,
# keyed by this script's own text, so editing the package list rebuilds it.
#
# Usage: tests/boot/build-rootfs.sh        prints the tarball's path on its last line
# Environment: ZC_VM_CACHE (default /var/cache/zcryptsetup-vm)
#              ZC_BOOT_MIRROR (default: the first deb.debian.org-style URI apt uses)
set -euo pipefail

cache=${ZC_VM_CACHE:-/var/cache/zcryptsetup-vm}
key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
tarball=$cache/rootfs-bookworm-$key.tar
log() { echo "build-rootfs: $*" >&2; }

if [[ -s $tarball ]]; then echo "$tarball"; exit 0; fi

mirror=${ZC_BOOT_MIRROR:-}
if [[ -z $mirror ]]; then
  mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
             2>/dev/null | awk 'NR == 1')
  [[ -n $mirror ]] || mirror=$(awk '$1 == "deb" && $2 ~ /^http/ { print $2; exit }' \
                                 /etc/apt/sources.list 2>/dev/null)
  : "${mirror:=http://deb.debian.org/debian}"
fi

# Boot and test tools, then zcryptsetup's runtime libraries (so the .deb installs offline),
# then the TPM2 and PKCS#11 tools.
packages=(
  systemd systemd-sysv udev kmod dbus cryptsetup-bin cryptsetup btrfs-progs util-linux
  e2fsprogs dmsetup procps keyutils man-db
  libcryptsetup12 libzbd2 libdevmapper1.02.1 libblkid1 libjson-c5 libssl3 libfmt9 libkmod2
  liburing2 libpopt0
  # TPM2, recovery keys, clevis, PKCS#11 (guest/tpm.sh): systemd 252 dlopens the tss2
  # libraries to see /dev/tpmrm0; clevis binds with its tpm2 pin; SoftHSM2 is the PKCS#11
  # token, pkcs11-tool (opensc) and p11tool (gnutls-bin) put a key and certificate on it;
  # jq reads luksDump --dump-json-metadata.
  libtss2-esys-3.0.2-0 libtss2-mu0 libtss2-rc0 libtss2-tcti-device0 tpm2-tools
  clevis clevis-luks clevis-tpm2 softhsm2 opensc gnutls-bin openssl jq
)
# Units that cost boot time and do nothing for the tests.
masked=(
  serial-getty@ttyS0.service getty@tty1.service systemd-timesyncd.service
  apt-daily.timer apt-daily-upgrade.timer man-db.timer fstrim.timer e2scrub_all.timer
  e2scrub_reap.service systemd-networkd-wait-online.service
)

# On a fresh machine nothing has made the cache yet (test.sh starts this before the kernel
# fetch that would).
mkdir -p "$cache"
work=$(mktemp -d "$cache/rootfs-build.XXXXXX")
trap 'umount -R "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root
log "debootstrap bookworm from $mirror (a few minutes)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
mount -t proc proc "$root/proc"
log "installing ${#packages[@]} packages"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
  --no-install-recommends "${packages[@]}" >"$work/apt.log" 2>&1 ||
  { tail -n 30 "$work/apt.log" >&2; exit 1; }
chroot "$root" apt-get clean
umount "$root/proc"
for unit in "${masked[@]}"; do ln -sf /dev/null "$root/etc/systemd/system/$unit"; done
echo zcboot > "$root/etc/hostname"
# No root password prompt anywhere: the tests never log in.
chroot "$root" passwd -d root >/dev/null
(cd "$root" && tar -cf "$tarball.tmp" --numeric-owner .)
mv "$tarball.tmp" "$tarball"
# Tarballs of earlier versions of this script are of no more use.
find "$cache" -maxdepth 1 -name 'rootfs-bookworm-*.tar' ! -path "$tarball" -delete
log "cached $tarball ($(du -h "$tarball" | cut -f1))"
echo "$tarball"
