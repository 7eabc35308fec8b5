#!/usr/bin/env bash
# Builds the Debian package (debian/) from this tree: dpkg-buildpackage -us -uc -b in a copy
# under build-deb/src/, since dpkg-buildpackage writes its results into the parent directory
# of the tree it builds. Leaves the .deb, its -dbgsym .deb, the .buildinfo and the .changes in
# build-deb/ and prints the .deb's path on its last line. Uses ccache when it is installed.
# Needs the packages scripts/install-deps.sh installs (package_packages and build_packages).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(sed -n 's/^project(zcryptsetup VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb_version=$(dpkg-parsechangelog -S Version)
if [[ -z $version || $version != "$deb_version" ]]; then
  echo "build-deb: CMakeLists.txt says version '$version', debian/changelog '$deb_version'" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=$root/build-deb
src=$out/src/zcryptsetup-$version
rm -rf "$out/src"
mkdir -p "$src"

# The files git knows of (tracked, and new ones not ignored), as they are in the work tree; a
# tree without git is copied whole, without its build directories.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -C "$src" -xf -
else
  tar --exclude='./build*' --exclude=./.git -cf - . | tar -C "$src" -xf -
fi

# debhelper gives the build a HOME of its own, so ccache is told where its cache is.
if command -v ccache >/dev/null; then
  export ZCRYPTSETUP_CCACHE=1 CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export CCACHE_BASEDIR=$src
fi
jobs=$(nproc)
((jobs > 2)) && jobs=2
export DEB_BUILD_OPTIONS="parallel=$jobs ${DEB_BUILD_OPTIONS:-}"

log=$out/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
  tail -40 "$log" >&2
  echo "build-deb: dpkg-buildpackage failed; the whole log is $log" >&2
  exit 1
fi
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$out"/src/*_"$version"_*.deb "$out"/src/*_"$version"_"$arch".buildinfo \
  "$out"/src/*_"$version"_"$arch".changes "$out"/
deb=$out/zcryptsetup_${version}_${arch}.deb
[[ -f $deb ]] || { echo "build-deb: no $deb" >&2; exit 1; }
echo "$deb"
