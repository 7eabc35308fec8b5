#!/usr/bin/env bash
# Checks that zcryptsetup installs like a distribution package: builds the .deb
# (scripts/build-deb.sh), installs the same build with cmake --install into a scratch
# DESTDIR and checks that every file lands where pkg-config and GNUInstallDirs say, renders the
# man pages with warnings on, checks the message catalogue, the bash completion and the .deb's
# contents, and runs lintian. With ZC_PACKAGE_INSTALL_CHECK=1 (CI; a throw-away machine) it
# also installs the .deb with dpkg, finds its man page, then removes and purges it.
# Prints "ok - ..." or "not ok - ..." per check, then "package: N passed, N failed".
# The packages it needs are in scripts/install-deps.sh (package_packages).
# The bash -c '...' snippets below expand their own positional parameters.
# shellcheck disable=SC2016
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD
scratch=$root/build-deb/check
rm -rf "$scratch"
mkdir -p "$scratch"
passed=0 failed=0

ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; failed=$((failed + 1)); }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds; its output is shown, indented, if not.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then ok "$name"; else
    not_ok "$name"
    [[ -n $out ]] && head -40 <<<"$out" | sed 's/^/#   /'
  fi
}

# --- The .deb -----------------------------------------------------------------------------------
start=$SECONDS
deb=$(bash scripts/build-deb.sh | tail -1)
if [[ -f $deb ]]; then
  ok "scripts/build-deb.sh builds $(basename "$deb") ($((SECONDS - start)) s)"
else
  not_ok "scripts/build-deb.sh builds the .deb (see build-deb/build.log)"
  echo "package: ${passed} passed, $((failed)) failed"
  exit 1
fi
version=$(dpkg-deb -f "$deb" Version)
obj=$(echo "$root"/build-deb/src/zcryptsetup-"$version"/obj-*)

# --- cmake --install of the same build (prefix /usr) -------------------------------------------
destdir=$scratch/destdir
check "cmake --install into a DESTDIR" env DESTDIR="$destdir" cmake --install "$obj"
generatordir=$(pkg-config --variable=systemdsystemgeneratordir systemd)
completionsdir=$(pkg-config --variable=completionsdir bash-completion)
expected=(
  /usr/sbin/zcryptsetup
  "$generatordir/zcryptsetup-generator"
  "$completionsdir/zcryptsetup"
  /usr/share/man/man8/zcryptsetup.8
  /usr/share/man/man8/zcryptsetup-generator.8
)
while read -r lang; do
  [[ -n $lang ]] && expected+=("/usr/share/locale/$lang/LC_MESSAGES/zcryptsetup.mo")
done < <(grep -v '^#' po/LINGUAS)
installed_as_expected() {
  local f status=0
  for f in "${expected[@]}"; do
    [[ -f $destdir$f ]] || { echo "missing: $f"; status=1; }
  done
  # And nothing else: every installed file is one of the expected ones.
  while IFS= read -r f; do
    printf '%s\n' "${expected[@]}" | grep -qxF "$f" || { echo "unexpected: $f"; status=1; }
  done < <(cd "$destdir" && find . -type f -o -type l | sed 's/^\.//')
  return $status
}
check "cmake --install puts each file where pkg-config or GNUInstallDirs says, and no other" \
  installed_as_expected
check "the installed generator runs /usr/sbin/zcryptsetup" bash -c '
  printf "home /dev/sdb none force-inline\n" >"$2/crypttab"
  mkdir -p "$2/gen" && "$1" --crypttab "$2/crypttab" "$2/gen" "$2/gen" "$2/gen" &&
  grep -q "^ExecStart=/usr/sbin/zcryptsetup " "$2/gen/zcryptsetup@home.service"' _ \
  "$destdir$generatordir/zcryptsetup-generator" "$scratch"

# --- Man pages and catalogue --------------------------------------------------------------------
for page in "$destdir"/usr/share/man/man8/*.8; do
  name=$(basename "$page")
  check "man renders $name without warnings" bash -c '
    out=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null); [[ -z $out ]] || { echo "$out"; false; }' _ "$page"
  check "groff -ww finds nothing in $name" bash -c '
    out=$(groff -man -Tutf8 -ww -z "$1" 2>&1); [[ -z $out ]] || { echo "$out"; false; }' _ "$page"
done
check "msgfmt --check accepts zcryptsetup.pot" msgfmt --check -o /dev/null "$obj/po/zcryptsetup.pot"

# --- Bash completion ----------------------------------------------------------------------------
# complete WORDS...: what the installed completion offers for the last word.
complete_words() {
  bash -c 'source /usr/share/bash-completion/bash_completion; source "$0"
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
    _zcryptsetup zcryptsetup; echo "${COMPREPLY[*]}"' \
    "$destdir$completionsdir/zcryptsetup" zcryptsetup "$@"
}
printf 'home /dev/sdb none force-inline\n# comment\nswap /dev/sdc\n' >"$scratch/crypttab"
# expect_completion WANT WORDS...: the completion offers exactly WANT for the last word.
expect_completion() {
  local want=$1 got
  shift
  got=$(complete_words "$@")
  [[ $got == "$want" ]] || { echo "zcryptsetup $*: got '$got', want '$want'"; return 1; }
}
completion_works() {
  expect_completion luksFormat luksF &&
    expect_completion luksDump -d key luksD &&
    expect_completion "open close check list" crypttab "" &&
    expect_completion "home swap" crypttab --crypttab "$scratch/crypttab" close "" &&
    expect_completion "native off" open --perf-force_inline= &&
    expect_completion --test-passphrase open --test-p &&
    expect_completion "" luksDump --test-p
}
check "the bash completion completes verbs, options and crypttab names" completion_works

# --- The .deb's contents and lintian ------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's/^\.//' >"$scratch/contents"
for f in "$generatordir/zcryptsetup-generator" /usr/sbin/zcryptsetup \
  /usr/share/man/man8/zcryptsetup.8.gz /usr/share/man/man8/zcryptsetup-generator.8.gz \
  "$completionsdir/zcryptsetup" /usr/share/doc/zcryptsetup/copyright \
  $(printf '%s\n' "${expected[@]}" | grep '^/usr/share/locale/'); do
  check "the .deb holds $f" grep -qxF "$f" "$scratch/contents"
done
changes=${deb%.deb}.changes
lintian --allow-root --info --pedantic "$deb" "$changes" >"$scratch/lintian.log" 2>&1
sed 's/^/# lintian: /' "$scratch/lintian.log"
check "lintian reports no errors" bash -c '! grep -q "^E:" "$1"' _ "$scratch/lintian.log"

# --- dpkg -i, man -w, dpkg -r, dpkg -P (CI only) ------------------------------------------------
if [[ ${ZC_PACKAGE_INSTALL_CHECK:-0} == 1 ]]; then
  if dpkg-query -W -f='${Status}' zcryptsetup 2>/dev/null | grep -q installed; then
    not_ok "dpkg -i: zcryptsetup is installed already; left alone"
  else
    check "dpkg -i installs the .deb" dpkg -i "$deb"
    check "man -w finds zcryptsetup(8) and zcryptsetup-generator(8)" \
      bash -c 'man -w zcryptsetup && man -w 8 zcryptsetup-generator'
    check "the installed zcryptsetup runs (--version)" /usr/sbin/zcryptsetup --version
    check "dpkg -r removes it" dpkg -r zcryptsetup
    check "dpkg -P purges it, leaving none of its files" bash -c '
      dpkg -P zcryptsetup && ! dpkg-query -W zcryptsetup 2>/dev/null &&
      for f in $(cat "$1"); do [[ -d $f || ! -e $f ]] || { echo "left: $f"; exit 1; }; done' \
      _ "$scratch/contents"
  fi
fi

echo "package: ${passed} passed, ${failed} failed"
((failed == 0))
