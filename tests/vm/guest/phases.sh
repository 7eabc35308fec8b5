# shellcheck shell=dash
# Where an open's time goes, phase by phase, for zcryptsetup and stock cryptsetup alike: the
# line tests/bench/phase_hook.cc writes, cut at the libcryptsetup calls both tools make. Sourced
# by the bench_ops suite in the guest and by tests/bench/phase_hook_test.sh on the host (busybox
# awk and mawk/gawk alike).
#
# The phases, in milliseconds, summing to the whole run (T0 to T1, taken by the caller):
#   start    exec and the dynamic loader, until the hook's constructor
#   own      the tool's own work before libcryptsetup: command line, and for zcryptsetup
#            reading the drive, choosing a copy and checking it
#   load     crypt_init* and crypt_load (libcryptsetup's read and checks, OpenSSL's set-up)
#   between  after the load, before the unlock: stock cryptsetup tries tokens here;
#            zcryptsetup sets the data device beside the chosen copy and checks dm-crypt
#   unlock   crypt_activate_by_passphrase: the keyslot, the digest, the mapping
#   end      return, exit, until the caller's clock
PHASE_NAMES="start own load between unlock end"

# phase_split T0_US T1_US "LINE": the six phases in ms (one decimal), space separated; nothing
# when the line lacks a mark (the call failed before it, or the hook was not loaded).
phase_split() {
  echo "$3" | awk -v t0="$1" -v t1="$2" '{
    for (i = 1; i <= NF; i++) { split($i, kv, "="); m[kv[1]] = kv[2] }
    if (!("ctor" in m) || !("lib" in m) || !("load>" in m) || !("unlock<" in m) || !("unlock>" in m)) exit
    printf "%.1f %.1f %.1f %.1f %.1f %.1f\n", (m["ctor"] - t0) / 1000, (m["lib"] - m["ctor"]) / 1000,
      (m["load>"] - m["lib"]) / 1000, (m["unlock<"] - m["load>"]) / 1000,
      (m["unlock>"] - m["unlock<"]) / 1000, (t1 - m["unlock>"]) / 1000
  }'
}

# phase_add KEY "SIX NUMBERS": appends one run's phases to the lists PH_<KEY>_<phase>.
phase_add() {
  _k=$1
  # shellcheck disable=SC2086  # the six numbers, split on purpose
  set -- $2
  for _p in $PHASE_NAMES; do
    eval "PH_${_k}_$_p=\"\${PH_${_k}_$_p:-} $1\""
    shift
  done
}

# phase_median "N1 N2 ...": the median, one decimal.
phase_median() {
  echo "$1" | awk '{
    n = NF; for (i = 1; i <= n; i++) v[i] = $i + 0
    for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    if (n == 0) print "n/a"; else printf "%.1f", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }'
}

# phase_figure KEY_A KEY_B: "start A vs B, own A vs B, ..." from the medians of each list.
phase_figure() {
  _out=""
  for _p in $PHASE_NAMES; do
    eval "_a=\${PH_${1}_$_p:-} _b=\${PH_${2}_$_p:-}"
    _out="$_out${_out:+; }$_p $(phase_median "$_a") vs $(phase_median "$_b")"
  done
  echo "$_out"
}
