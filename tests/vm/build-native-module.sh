#!/usr/bin/env bash
# Builds dkms/dm-crypt-force-inline (dm-crypt with the RFC's force_inline) with dkms for the VM
# guest's kernel and prints the path of the cached dm-crypt.ko.
#
# Usage: tests/vm/build-native-module.sh        prints the .ko path on stdout (logs on stderr)
# Environment: ZC_VM_CACHE (default /var/cache/zcryptsetup-vm), as fetch-kernel.sh
# What it does, each step skipped when its result is already there:
#  - the guest kernel version from fetch-kernel.sh (ZC_VM_KVER) and its Debian package version;
#  - apt-get install dkms, linux-source-6.1 and linux-headers-<kver> at that same version (a
#    mismatch fails: dm-crypt.c must come from the source the kernel was built from);
#  - dkms add + dkms build -k <kver> (not install: the host's own modules are left alone); the
#    two source files extracted from the tarball are cached under $ZC_VM_CACHE/linux-source;
#  - the module goes to $ZC_VM_CACHE/dm-crypt-force-inline/<kver>-<hash of the package>/.
# Warm (nothing changed in dkms/dm-crypt-force-inline), it only hashes the package: well under
# a second.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkgdir=$repo/dkms/dm-crypt-force-inline
cache=${ZC_VM_CACHE:-/var/cache/zcryptsetup-vm}
log() { echo "build-native-module: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck disable=SC1090
source "$("$here/fetch-kernel.sh" --env-file)"
kver=$ZC_VM_KVER

# Package name and version from dkms.conf (plain assignments, no expansion needed).
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$pkgdir/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$pkgdir/dkms.conf")
[[ -n $name && -n $version ]] || die "cannot read PACKAGE_NAME/VERSION from $pkgdir/dkms.conf"

hash=$(cd "$pkgdir" && for f in dkms.conf Makefile prepare-source.sh force-inline.patch; do
         sha256sum "$f"; done | sha256sum | cut -c1-12)
out_dir=$cache/$name/$kver-$hash
out=$out_dir/dm-crypt.ko
if [[ -f $out ]]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

# --- the kernel's package version: linux-source and headers must match it
kpkgver=
deb=$(ls -1 "$cache/debs/linux-image-${kver}_"*.deb 2>/dev/null | sort -V | tail -n1 || true)
[[ -n $deb ]] && kpkgver=$(dpkg-deb -f "$deb" Version)
[[ -n $kpkgver ]] || kpkgver=$(apt-cache policy "linux-image-$kver" 2>/dev/null |
                               awk '$1 == "Candidate:" { print $2 }')
[[ -n $kpkgver && $kpkgver != "(none)" ]] || die "cannot tell the package version of linux-image-$kver"

installed() { dpkg-query -W -f '${db:Status-Abbrev} ${Version}' "$1" 2>/dev/null | awk '$1 == "ii" { print $2 }'; }
want=()
[[ -n $(installed dkms) ]] || want+=(dkms)
[[ $(installed linux-source-6.1) == "$kpkgver" ]] || want+=("linux-source-6.1=$kpkgver")
[[ $(installed "linux-headers-$kver") == "$kpkgver" ]] || want+=("linux-headers-$kver=$kpkgver")
if ((${#want[@]})); then
  log "installing ${want[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
         --no-install-recommends "${want[@]}" >&2; then
    die "apt-get could not install ${want[*]}: the guest kernel $kver is $kpkgver, and" \
        "linux-source-6.1 and linux-headers-$kver must be that same version" \
        "(apt-get update, or pin ZC_VM_KERNEL_PKG to a kernel whose source is available)"
  fi
fi
for p in linux-source-6.1 "linux-headers-$kver"; do
  have=$(installed "$p")
  [[ $have == "$kpkgver" ]] ||
    die "$p is ${have:-not installed} but the guest kernel $kver is $kpkgver; they must match"
done

# --- dkms: (re)register this tree, build for the guest kernel
export DM_CRYPT_FI_CACHE=$cache/linux-source
if dkms status -m "$name" -v "$version" 2>/dev/null | grep -q .; then
  dkms remove -m "$name" -v "$version" --all >&2 || true
fi
rm -rf "/usr/src/$name-$version"
cp -r "$pkgdir" "/usr/src/$name-$version"
# Whatever a build in place left behind is not part of the package.
(cd "/usr/src/$name-$version" && rm -f dm-crypt.c dm-audit.h ./*.o ./*.ko ./*.mod ./*.mod.c .*.cmd \
   Module.symvers modules.order)
dkms add -m "$name" -v "$version" >&2
if ! dkms build -m "$name" -v "$version" -k "$kver" >&2; then
  cat "/var/lib/dkms/$name/$version/build/make.log" >&2 2>/dev/null || true
  die "dkms build failed"
fi
built=$(ls -1 "/var/lib/dkms/$name/$version/$kver/"*/module/dm-crypt.ko* 2>/dev/null | awk 'NR == 1')
[[ -n $built ]] || die "dkms build left no dm-crypt.ko under /var/lib/dkms/$name/$version/$kver"

mkdir -p "$out_dir.tmp"
case $built in
  *.xz) xz -dc "$built" > "$out_dir.tmp/dm-crypt.ko" ;;
  *.zst) zstd -qdc "$built" > "$out_dir.tmp/dm-crypt.ko" ;;
  *) cp "$built" "$out_dir.tmp/dm-crypt.ko" ;;
esac
# The debug info is 90% of the file and the guest loads it from a RAM disk.
strip --strip-debug "$out_dir.tmp/dm-crypt.ko"
modinfo -F vermagic "$out_dir.tmp/dm-crypt.ko" | grep -q "^$kver " ||
  die "the built module is not for $kver: $(modinfo -F vermagic "$out_dir.tmp/dm-crypt.ko")"
rm -rf "$out_dir"
mv "$out_dir.tmp" "$out_dir"
log "built $out"
echo "$out"
