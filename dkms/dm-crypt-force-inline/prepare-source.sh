#!/bin/sh
# Puts the patched dm-crypt source next to this script (the dkms build directory):
# drivers/md/dm-crypt.c and drivers/md/dm-audit.h from Debian's linux-source-6.1 tarball,
# then force-inline.patch. Run by dkms as PRE_BUILD, or by the Makefile.
#
# Usage: prepare-source.sh KERNELVER
# Environment:
#   DM_CRYPT_FI_TARBALL  the kernel source (default /usr/src/linux-source-6.1.tar.xz)
#   DM_CRYPT_FI_CACHE    where the two extracted files are kept, per source package version
#                        (default /var/cache/dm-crypt-force-inline): xz has to decompress the
#                        whole 139 MB stream to find them, which takes about 20 s.
# The source package must be the version the target kernel was built from: dm-crypt.c from
# another version may not build, or build into a module that behaves unlike its kernel.
set -eu

kver=${1:?usage: prepare-source.sh KERNELVER}
here=$(cd "$(dirname "$0")" && pwd)
tarball=${DM_CRYPT_FI_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
cache=${DM_CRYPT_FI_CACHE:-/var/cache/dm-crypt-force-inline}
die() { echo "dm-crypt-force-inline: $*" >&2; exit 1; }

[ -f "$tarball" ] || die "$tarball is missing (apt-get install linux-source-6.1)"
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null) ||
  die "linux-source-6.1 is not installed"
# The kernel's own package version (headers or image for KERNELVER, whichever is installed).
kpkgver=$(dpkg-query -W -f '${Version}' "linux-headers-$kver" 2>/dev/null ||
          dpkg-query -W -f '${Version}' "linux-image-$kver" 2>/dev/null || true)
if [ -n "$kpkgver" ] && [ "$kpkgver" != "$srcver" ]; then
  die "linux-source-6.1 is $srcver but kernel $kver is $kpkgver: install linux-source-6.1=$kpkgver"
fi

dir=$cache/linux-source-$srcver
if [ ! -f "$dir/.complete" ]; then
  echo "dm-crypt-force-inline: extracting dm-crypt.c from $tarball ($srcver)" >&2
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  # --occurrence: stop reading once both members are out.
  tar -xJf "$tarball" -C "$dir.tmp" --occurrence --strip-components=3 \
    linux-source-6.1/drivers/md/dm-crypt.c linux-source-6.1/drivers/md/dm-audit.h
  touch "$dir.tmp/.complete"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
fi

cp "$dir/dm-crypt.c" "$dir/dm-audit.h" "$here/"
# -p3: the patch names a/drivers/md/dm-crypt.c; exact context only.
patch -d "$here" -p3 --fuzz=0 --no-backup-if-mismatch -s < "$here/force-inline.patch" ||
  die "force-inline.patch does not apply to dm-crypt.c of linux-source-6.1 $srcver"
echo "dm-crypt-force-inline: patched dm-crypt.c of $srcver for $kver" >&2
