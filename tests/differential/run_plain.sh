#!/usr/bin/env bash
# Differential test against stock cryptsetup on regular files (issue 8).
#
# Usage: run_plain.sh ZCRYPTSETUP MAKE_CORPUS
# Formats a small LUKS2 base file with zcryptsetup, has make_corpus write its malformed variants
# (truncations, binary header damage, checksum-valid JSON mutations, disagreeing copies,
# keyslot damage, seeded fuzz) and runs, on every variant, stock cryptsetup's and zcryptsetup's
#   isLuks IMG | luksDump IMG | open --test-passphrase --key-file KEY IMG
# each on its own fresh copy of the variant (libcryptsetup repairs a header with one bad copy
# in place when it loads it), each under `timeout 20`; stock and zcryptsetup run side by side.
# Per variant and command (a cell):
#   agree       both exit 0, or both non-zero
#   z-stricter  stock accepts, zcryptsetup refuses (allowed; listed)
#   DEFECT      zcryptsetup exits 0 where stock refuses, or crashes (signal), or hangs (timeout)
# Prints the agreement table, the z-stricter cells, the defects (with stock's reason from its
# --debug log and what stock says with --type luks2), and "differential: N passed, N failed"
# (passed: cells without a defect; the unmodified base must pass all three commands with both
# tools, or that counts as a failure too). Exit 0 only without defects; 77 (skipped) when stock
# cryptsetup is not installed.
# Environment: ZC_STOCK_CRYPTSETUP (default: cryptsetup in PATH or /usr/sbin/cryptsetup),
#   ZC_DIFF_SEED (corpus seed, default make_corpus's), ZC_DIFF_KEEP=1 keeps the work directory,
#   ZC_DIFF_ONLY=REGEX runs only the variants whose names match.
set -uo pipefail
export LC_ALL=C

(($# == 2)) || { echo "usage: $0 ZCRYPTSETUP MAKE_CORPUS" >&2; exit 2; }
Z=$1
MAKE_CORPUS=$2
STOCK=${ZC_STOCK_CRYPTSETUP:-$(command -v cryptsetup || echo /usr/sbin/cryptsetup)}
if [[ ! -x $STOCK ]]; then
  echo "differential: stock cryptsetup not found ($STOCK); skipped"
  exit 77
fi
# A hang limit, far above a command's normal second; the sanitizer run (ASan, niced beside
# the guests in scripts/test.sh) raises it with ZC_DIFFERENTIAL_TIMEOUT.
TIMEOUT=${ZC_DIFFERENTIAL_TIMEOUT:-20}

t_start=$(date +%s.%N)
work=$(mktemp -d "${TMPDIR:-/tmp}/zc-differential.XXXXXX")
if [[ ${ZC_DIFF_KEEP:-} == 1 ]]; then
  echo "differential: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
corpus=$work/corpus
out=$work/out.txt
printf %s 'zc-differential-passphrase' >"$work/key"
printf %s 'not-the-passphrase' >"$work/wrongkey"
chmod 600 "$work/key" "$work/wrongkey"

# The base: 2 MiB, small metadata (16 KiB headers, 256 KiB keyslots area), data at 1 MiB.
base=$work/base.img
truncate -s 2M "$base"
if ! "$Z" luksFormat -q --luks2-metadata-size 16k --luks2-keyslots-size 256k \
    --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$work/key" "$base" >"$out" 2>&1; then
  echo "differential: zcryptsetup luksFormat of the base failed:"; sed 's/^/    | /' "$out"
  echo "differential: 0 passed, 1 failed"
  exit 1
fi
seed_args=()
[[ -n ${ZC_DIFF_SEED:-} ]] && seed_args=(--seed "$ZC_DIFF_SEED")
if ! "$MAKE_CORPUS" plain "$base" "$corpus" "${seed_args[@]}" >"$out" 2>&1; then
  echo "differential: make_corpus failed:"; sed 's/^/    | /' "$out"
  echo "differential: 0 passed, 1 failed"
  exit 1
fi
cat "$out"
t_corpus=$(date +%s.%N)

commands=(isLuks luksDump open)
passed=0 failed=0 stricter=0
declare -A agree_n=() stricter_n=() defect_n=()
defects=() stricter_list=() notes=()
control=''

# run_one TOOL CMD IMG KEYFILE SLOT: runs one command (isLuks, luksDump or open, optionally
# followed by " --type luks2") on a fresh copy of IMG ($work/run.SLOT.img); returns its exit
# status and leaves its output in $work/out.SLOT.
run_one() {
  local tool=$1 cmd=$2 img=$3 key=$4 copy=$work/run.$5.img log=$work/out.$5
  cp --sparse=always "$img" "$copy"
  local extra=()
  [[ $cmd == *" --type luks2" ]] && { extra=(--type luks2); cmd=${cmd% --type luks2}; }
  case $cmd in
    isLuks) timeout -k 5 "$TIMEOUT" "$tool" isLuks "${extra[@]}" "$copy" >"$log" 2>&1 </dev/null ;;
    luksDump) timeout -k 5 "$TIMEOUT" "$tool" luksDump "${extra[@]}" "$copy" >"$log" 2>&1 </dev/null ;;
    open) timeout -k 5 "$TIMEOUT" "$tool" open "${extra[@]}" --test-passphrase --key-file "$key" \
            "$copy" >"$log" 2>&1 </dev/null ;;
  esac
}

# stock_reason IMG: why stock cryptsetup refuses the header, from its luksDump --debug log.
stock_reason() {
  cp --sparse=always "$1" "$work/run.s.img"
  "$STOCK" luksDump --debug "$work/run.s.img" >"$out" 2>&1 </dev/null
  local r
  r=$(sed -n '/Trying to read primary/,/LUKS2 header read failed/p' "$out" |
      grep -vE 'Trying to read|Opening locked|Verifying locked|Reusing open|header version 2 of size|Checksum:|Repairing JSON|header read failed' |
      head -n 1 | sed 's/^# //')
  [[ -n $r ]] || r=$(grep -v '^#' "$out" | head -n 1)
  echo "${r:-no reason given}"
}

# describe RC: "hang" for a timeout, "crash (signal N)" for a signal, else "exit N".
describe() {
  if (($1 == 124 || $1 == 137)); then echo "hang (timeout ${TIMEOUT}s)"
  elif (($1 >= 128)); then echo "crash (signal $(($1 - 128)))"
  else echo "exit $1"; fi
}

header=$(printf '%-40s | %-22s | %-22s | %-22s' variant "isLuks stock/z" "luksDump stock/z" "open stock/z")
echo
echo "$header"
printf '%s\n' "${header//?/-}"
nvariants=0
while IFS=$'\t' read -r name keykind what; do
  [[ -z $name || $name == \#* ]] && continue
  [[ -n ${ZC_DIFF_ONLY:-} && ! $name =~ ${ZC_DIFF_ONLY} ]] && continue
  nvariants=$((nvariants + 1))
  img=$corpus/$name.img
  key=$work/key
  [[ $keykind == wrong ]] && key=$work/wrongkey
  row=$(printf '%-40s' "$name")
  for cmd in "${commands[@]}"; do
    # The two tools at once, each on its own copy.
    run_one "$STOCK" "$cmd" "$img" "$key" s &
    spid=$!
    run_one "$Z" "$cmd" "$img" "$key" z
    z=$?
    wait "$spid"
    s=$?
    zout=$work/out.z
    if ((z == 124 || z == 137 || z >= 128)); then
      verdict="DEFECT"
      defects+=("$name $cmd: zcryptsetup $(describe "$z") (stock: $(describe "$s")) [$what]"$'\n'"$(head -n 4 "$zout" | sed 's/^/      | /')")
    elif ((z == 0 && s != 0)); then
      verdict="DEFECT"
      # For triage: stock's reason, and whether stock accepts it when told it is LUKS2
      # (zcryptsetup handles LUKS2 only; stock without --type goes by the primary's version).
      reason=$(stock_reason "$img")
      run_one "$STOCK" "$cmd --type luks2" "$img" "$key" s
      s2=$?
      defects+=("$name $cmd: zcryptsetup accepts (exit 0), stock refuses ($(describe "$s"): $reason; with --type luks2: $(describe "$s2")) [$what]")
    elif ((z != 0 && s == 0)); then
      verdict="z-stricter"
      stricter_list+=("$name $cmd: stock exit 0, zcryptsetup exit $z: $(grep -v '^$' "$zout" | head -n 1)")
    else
      verdict="agree"
    fi
    if ((s == 124 || s == 137 || s >= 128)); then
      notes+=("$name $cmd: stock cryptsetup $(describe "$s")")
    fi
    case $verdict in
      DEFECT) failed=$((failed + 1)); defect_n[$cmd]=$((${defect_n[$cmd]:-0} + 1)) ;;
      z-stricter) passed=$((passed + 1)); stricter=$((stricter + 1))
                  stricter_n[$cmd]=$((${stricter_n[$cmd]:-0} + 1)) ;;
      *) passed=$((passed + 1)); agree_n[$cmd]=$((${agree_n[$cmd]:-0} + 1)) ;;
    esac
    [[ $name == control_base ]] && control+="$cmd:$s/$z "
    row+=$(printf ' | %3s %3s %-14s' "$s" "$z" "$verdict")
  done
  echo "$row"
done <"$corpus/MANIFEST"
t_end=$(date +%s.%N)

echo
for cmd in "${commands[@]}"; do
  printf 'differential: %-8s agree %3d, z-stricter %3d, DEFECT %3d\n' "$cmd" \
    "${agree_n[$cmd]:-0}" "${stricter_n[$cmd]:-0}" "${defect_n[$cmd]:-0}"
done
if ((${#stricter_list[@]})); then
  echo
  echo "z-stricter cells (stock accepts, zcryptsetup refuses; allowed):"
  printf '  %s\n' "${stricter_list[@]}"
fi
if ((${#notes[@]})); then
  echo
  echo "notes (stock cryptsetup itself):"
  printf '  %s\n' "${notes[@]}"
fi
if ((${#defects[@]})); then
  echo
  echo "DEFECTS (zcryptsetup accepts what stock rejects, crashes or hangs):"
  printf '  %s\n' "${defects[@]}"
fi
awk -v a="$t_start" -v b="$t_corpus" -v c="$t_end" -v n="$nvariants" \
  'BEGIN { printf "differential: %d variants; timing: base+corpus %.1fs, commands %.1fs, total %.1fs\n", n, b - a, c - b, c - a }'
if [[ -z ${ZC_DIFF_ONLY:-} && $control != "isLuks:0/0 luksDump:0/0 open:0/0 " ]]; then
  echo "differential: the unmodified base is not accepted by both tools (stock/z: $control)"
  failed=$((failed + 1))
fi
if ((nvariants < 100)) && [[ -z ${ZC_DIFF_ONLY:-} ]]; then
  echo "differential: the corpus has only $nvariants variants (at least 100 wanted)"
  failed=$((failed + 1))
fi
echo "differential: $passed passed, $failed failed"
((failed == 0))
