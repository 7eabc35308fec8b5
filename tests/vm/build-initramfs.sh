#!/usr/bin/env bash
# Builds the busybox initramfs for the VM tests.
#
# Usage: tests/vm/build-initramfs.sh OUT.cpio[.gz] SUITE_FILE...
#   OUT ending in .gz is compressed with gzip -1, anything else is written uncompressed.
#   Each SUITE_FILE (tests/vm/suites/NAME.sh) lands in the image as /zc/suites/NAME.sh.
# Environment:
#   ZC_VM_KVER, ZC_VM_MODULES  kernel to take modules from (default: run fetch-kernel.sh)
#   ZC_BUILD_DIR               where zcryptsetup is built (default: build/ in this checkout); the binary
#                              ${ZC_BUILD_DIR}/src/zcryptsetup is included when it exists
#   ZC_VM_EXTRA_BINS           more host binaries to include (space separated names or paths)
#   ZC_VM_EXTRA_MODULES        more kernel modules to include (space separated)
#   ZC_VM_EXTRA_KO             module files built out of tree (space separated paths) to carry as
#                              /zc/ko/<file name>; depmod does not index them, so a plain
#                              modprobe still loads the stock module, and a suite insmods them
#                              (run.sh sets it to the force_inline dm-crypt for native_inline)
#
# Guest layout: busybox applets in /bin, /sbin, /usr/bin, /usr/sbin (linked by /init); stock
# binaries at their host paths (earlier in PATH than applets of the same name);
# zcryptsetup in /usr/local/bin; shared libraries at the paths ldd resolved on the host;
# /lib/modules/<kver>/ with our own depmod output; /init; /zc/lib.sh; /zc/suites/*.sh.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "build-initramfs: $*" >&2; exit 1; }

(($# >= 1)) || die "usage: $0 OUT.cpio[.gz] SUITE_FILE..."
out=$1; shift
suites=("$@")

if [[ -z ${ZC_VM_KVER:-} || -z ${ZC_VM_MODULES:-} ]]; then
  # shellcheck disable=SC1090
  source "$("$here/fetch-kernel.sh" --env-file)"
fi
kver=$ZC_VM_KVER
kmods=$ZC_VM_MODULES
kroot=${kmods%/lib/modules/*}    # the tree depmod/modprobe -d understands
build_dir=${ZC_BUILD_DIR:-$here/../../build}

# Kernel modules the suites use; their dependency closure comes from modules.dep. The ones
# after the "on-demand" comment are requested by the kernel at run time (crypto templates,
# CRC providers), which modules.dep does not record.
modules=(
  dm-mod dm-crypt dm-zero
  xts aesni-intel crypto_simd cryptd
  null_blk configfs
  sd_mod scsi_debug
  brd
  # on-demand: kernel crypto API lookups and CRC back-ends for sd_mod/scsi_debug (T10 PI)
  essiv ecb af_alg algif_skcipher algif_hash
  # the ciphers and hash of `zcryptsetup benchmark`'s table besides aes (as cryptsetup's)
  serpent_generic twofish_generic wp512
  crct10dif_generic crct10dif-pclmul crc64_rocksoft_generic
)
# shellcheck disable=SC2206
modules+=(${ZC_VM_EXTRA_MODULES:-})

# Stock binaries run in the guest, plus zcryptsetup when it has been built.
bins=(cryptsetup dmsetup blkzone blkid flock)
# fio drags in ~80 MB of libraries (ceph, gluster, ICU...) which would triple the time to build
# and boot the image, so it is included only when a suite mentions it or ZC_VM_WITH_FIO=1.
if [[ ${ZC_VM_WITH_FIO:-} == 1 ]] || { ((${#suites[@]})) && grep -qw fio "${suites[@]}"; }; then
  bins+=(fio)
fi
# keyctl (keyutils) puts a luks2-keyring token's passphrase in the keyring, when a suite uses it.
if ((${#suites[@]})) && grep -qw keyctl "${suites[@]}"; then
  bins+=(keyctl)
fi
# GNU time (peak RSS, %M) and strace (zone reports a process asks for), when a suite uses them.
# GNU time goes by its full path: busybox's time applet has no -f, and "time" is a shell keyword.
if ((${#suites[@]})) && grep -q '/usr/bin/time' "${suites[@]}"; then
  bins+=(/usr/bin/time)
fi
if ((${#suites[@]})) && grep -qw strace "${suites[@]}"; then
  bins+=(strace)
fi
# shellcheck disable=SC2206
bins+=(${ZC_VM_EXTRA_BINS:-})

stage=$(mktemp -d "${TMPDIR:-/tmp}/zc-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,tmp,run,mnt,etc,zc/suites,lib64}
mkdir -p "$stage/sys/kernel/config"
# /dev/console must exist before /init runs or the kernel gives init no stdio. We are root
# (install-deps.sh needs that too); without root, init.sh still reopens it after devtmpfs.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

# --- shared libraries: copy each to the path ldd resolved it at (symlinks dereferenced) ---
declare -A copied=()
copy_file() {  # copy_file HOSTPATH [GUESTPATH]
  local src=$1 dst=${2:-$1}
  [[ -n ${copied[$dst]:-} ]] && return 0
  copied[$dst]=1
  mkdir -p "$stage${dst%/*}"
  cp -L "$src" "$stage$dst"
}
copy_with_libs() {  # copy_with_libs HOSTPATH GUESTPATH
  local bin=$1 dst=$2 lib deps
  copy_file "$bin" "$dst"
  deps=$(ldd "$bin" 2>&1) || die "ldd $bin: $deps"
  [[ $deps != *"not found"* ]] || die "$bin: ldd reports missing libraries: $deps"
  # ldd lines: "libx.so => /path (0x..)", "/lib64/ld-linux-x86-64.so.2 (0x..)", "linux-vdso..."
  while read -r lib; do
    [[ -n $lib ]] && copy_file "$lib"
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$deps")
}

# --- busybox and its applets ---
busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
# The guest has no libc of its own for busybox: it must be the static build.
if ldd "$busybox" 2>/dev/null | grep -q '=>'; then die "$busybox is not static (busybox-static)"; fi
cp "$busybox" "$stage/bin/busybox"

# Only /bin/sh is linked here; /init runs "busybox --install -s" to link the other applets
# (one process in the guest instead of ~270 forks here). --install does not replace existing
# files, and PATH puts /usr/sbin and /usr/bin first, so stock binaries win over applets.
ln -s busybox "$stage/bin/sh"

# --- stock binaries ---
for b in "${bins[@]}"; do
  path=$(command -v "$b") || die "$b not found on the host (see scripts/install-deps.sh)"
  copy_with_libs "$path" "$(readlink -f "$path")"
done
# The differential suite's corpus generator, built with the project, when a suite uses it. In
# /usr/local/bin, not at its host path: a checkout under /tmp would be hidden by the guest's
# tmpfs on /tmp.
if ((${#suites[@]})) && grep -qw make_corpus "${suites[@]}" &&
   [[ -x $build_dir/tests/differential/make_corpus ]]; then
  copy_with_libs "$build_dir/tests/differential/make_corpus" /usr/local/bin/make_corpus
  echo "build-initramfs: including $build_dir/tests/differential/make_corpus" >&2
fi
# The phase hook (tests/bench/phase_hook.cc), preloaded by bench_ops into both tools' opens.
if ((${#suites[@]})) && grep -qw phase_hook "${suites[@]}" &&
   [[ -f $build_dir/tests/phase_hook.so ]]; then
  install -D -m 644 "$build_dir/tests/phase_hook.so" "$stage/zc/phase_hook.so"
  echo "build-initramfs: including $build_dir/tests/phase_hook.so as /zc/phase_hook.so" >&2
fi
# The floor (tests/bench/open_floor.c), bench_ops' yardstick for an open's cost.
if ((${#suites[@]})) && grep -qw open_floor "${suites[@]}" &&
   [[ -x $build_dir/tests/open_floor ]]; then
  copy_with_libs "$build_dir/tests/open_floor" /zc/open_floor
  echo "build-initramfs: including $build_dir/tests/open_floor as /zc/open_floor" >&2
fi
if [[ -x $build_dir/src/zcryptsetup ]]; then
  copy_with_libs "$build_dir/src/zcryptsetup" /usr/local/bin/zcryptsetup
  # libkmod is opened when dm_crypt must be loaded, liburing when a benchmark runs (dlopen:
  # ldd does not list them).
  # awk reads to the end: exiting at the first match would kill ldconfig with SIGPIPE, which
  # pipefail turns into this script's (intermittent) exit 141.
  for opened in libkmod.so.2:libkmod2 liburing.so.2:liburing2; do
    lib=$(ldconfig -p | awk -v name="${opened%%:*}" '$1 == name && $NF ~ /^\// && !found { print $NF; found = 1 }')
    [[ -n $lib ]] || die "${opened%%:*} not found on the host (package ${opened#*:})"
    copy_with_libs "$lib" "$lib"
  done
  echo "build-initramfs: including $build_dir/src/zcryptsetup" >&2
else
  echo "build-initramfs: $build_dir/src/zcryptsetup not built; image has no zcryptsetup" >&2
fi

# --- kernel modules: dependency closure via the host's kmod, then our own depmod ---
gmods=/lib/modules/$kver
mkdir -p "$stage$gmods"
for m in "${modules[@]}"; do
  # "insmod /path/x.ko [opts]" per module in load order; "builtin x" for built-ins.
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>&1) ||
    die "module $m: $deps"
  while read -r kind path _; do
    [[ $kind == insmod ]] || continue
    rel=${path#"$kmods"/}
    mkdir -p "$stage$gmods/${rel%/*}"
    cp -n "$path" "$stage$gmods/$rel"
  done <<<"$deps"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [[ -f $kmods/$f ]] && cp "$kmods/$f" "$stage$gmods/"
done
depmod -b "$stage" "$kver"
# Out-of-tree modules: outside lib/modules, so they never shadow a stock one.
for ko in ${ZC_VM_EXTRA_KO:-}; do
  [[ -f $ko ]] || die "ZC_VM_EXTRA_KO: $ko not found"
  [[ $(modinfo -F vermagic "$ko") == "$kver "* ]] || die "ZC_VM_EXTRA_KO: $ko is not built for $kver"
  install -D -m 644 "$ko" "$stage/zc/ko/$(basename "$ko")"
  echo "build-initramfs: including $ko as /zc/ko/$(basename "$ko")" >&2
done

# The dynamic linker's cache, as every installed system has: without it each library is
# searched for through a dozen hwcaps directories, a cost real users never pay and that grows
# with the number of libraries a binary links (so it would skew the bench suite's ratios).
printf '%s\n' /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu > "$stage/etc/ld.so.conf"
ldconfig -r "$stage"

# --- init, guest library, suites ---
install -m 755 "$here/guest/init.sh" "$stage/init"
# The check library and the shared check sequences the suites source (/zc/NAME.sh).
for g in "$here"/guest/*.sh; do
  [[ $(basename "$g") == init.sh ]] || install -m 644 "$g" "$stage/zc/$(basename "$g")"
done
for s in "${suites[@]}"; do
  [[ -f $s ]] || die "suite file $s not found"
  install -m 644 "$s" "$stage/zc/suites/$(basename "$s")"
done
echo "$kver" > "$stage/zc/kernel-version"

# --- archive ---
mkdir -p "$(dirname "$out")"
tmp_out=$out.tmp.$$
if [[ $out == *.gz ]]; then
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$tmp_out"
else
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$tmp_out"
fi
mv "$tmp_out" "$out"
echo "build-initramfs: wrote $out ($(du -h "$out" | cut -f1))" >&2
