#!/usr/bin/env bash
# Installs every Debian 12 package zcryptsetup needs to build, test and run its VM tests.
# Idempotent: a package already installed costs nothing. Run as root.
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config gettext
  libcryptsetup-dev libzbd-dev libdevmapper-dev libblkid-dev libjson-c-dev libssl-dev
  libpopt-dev libfmt-dev libgtest-dev googletest libkmod-dev liburing-dev
)
# What the VM tests need: QEMU, a static busybox for the initramfs, module tooling, and the
# stock tools run inside the guest (cryptsetup for interop, blkzone/dmsetup, fio for figures;
# GNU time and strace for bench_scale's peak memory and zone reports).
vm_packages=(
  qemu-system-x86 busybox-static cpio kmod cryptsetup-bin util-linux zbd-utils dmsetup fio
  time strace
)
# The sanitizer and fuzz build (scripts/sanitize-and-fuzz.sh, one clang tree): clang with
# libFuzzer and its sanitizer runtimes; ccache keeps the builds (test, package, sanitizers and
# fuzz) from compiling twice;
# binutils' readelf checks the hardened binary; python3 runs scripts/check-structure.py;
# keyutils' keyctl puts the passphrase of a luks2-keyring token in the keyring (token tests);
# qemu-user's qemu-x86_64 counts the instructions each verb runs (tests/bench/code_footprint.sh).
test_packages=(clang libclang-rt-14-dev llvm ccache binutils python3 keyutils qemu-user)
# The Debian package and its checks (scripts/build-deb.sh, scripts/package-check.sh): debhelper
# and lintian; go-md2man builds the man pages; bash-completion and systemd provide the .pc
# files that say where the completion and the generator go; man-db and groff check the pages.
package_packages=(
  debhelper dpkg-dev lintian go-md2man bash-completion systemd man-db groff-base
)
# The boot suite (tests/boot/): debootstrap builds its Debian root file system, mkfs.ext4 -d
# makes the root disk image from it; swtpm is the guest's TPM2 (QEMU's tpm-tis on its socket).
boot_packages=(debootstrap e2fsprogs swtpm swtpm-tools)

missing=()
for p in "${build_packages[@]}" "${vm_packages[@]}" "${test_packages[@]}" \
  "${package_packages[@]}" "${boot_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
