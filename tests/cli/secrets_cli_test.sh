#!/usr/bin/env bash
# Secrets stay out of swap and core dumps: a verb that handles keys locks the process memory
# (mlockall) and makes the process non-dumpable before it reads a passphrase; a failed memory
# lock never fails the verb. Each check looks at a real zcryptsetup blocked on its passphrase.
# Usage: secrets_cli_test.sh PATH/TO/zcryptsetup [PATH/TO/zcryptsetup-generator]
set -uo pipefail
Z=$(readlink -f "$1")
work=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; [[ -z ${2:-} ]] || sed 's/^/    | /' <<<"$2"; }
skip() { skipped=$((skipped + 1)); echo "ok - $1 # SKIP $2"; }

# A user other than root may read the image: the dumpability check runs as nobody.
chmod 755 "$work"
disk=$work/disk.img
truncate -s 64M "$disk"
chmod 666 "$disk"  # the update verbs open it for writing
printf %s secret | "$Z" luksFormat -q --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
  --key-file - "$disk" >/dev/null 2>&1 || { echo "not ok - luksFormat of the test image"; exit 1; }

# start_blocked NAME [RUNNER...] -- ARGS...: starts `RUNNER... zcryptsetup ARGS...` with its
# standard input from a FIFO nobody writes to yet, and waits until zcryptsetup itself (not
# the shell before exec) sits in read(2) on standard input, that is, at the passphrase.
# Sets $pid and $fifo.
start_blocked() {
  local name=$1 runner=() i
  shift
  while [[ $1 != -- ]]; do runner+=("$1"); shift; done
  shift
  fifo=$work/$name.fifo
  mkfifo "$fifo"
  # cat opens the FIFO (and waits for a writer) in its own process; zcryptsetup reads the pipe.
  cat "$fifo" | "${runner[@]}" "$Z" "$@" >"$work/$name.out" 2>&1 &
  pid=$!
  pids+=("$pid")
  for ((i = 0; i < 200; i++)); do
    # /proc/PID/syscall: the syscall number (0 is read on x86-64, 63 on arm64...) and its first
    # argument, the descriptor. Compare with a process known to wait in read(2) on fd 0.
    if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$Z" ]] &&
       [[ $(cut -d' ' -f1,2 "/proc/$pid/syscall" 2>/dev/null) == "$read_stdin" ]]; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# finish PASSPHRASE: gives the passphrase, returns zcryptsetup's exit status.
finish() {
  printf %s "$1" >"$fifo"
  wait "$pid"
}

# abandon: stops zcryptsetup and lets its cat see the end of the FIFO, so that no process of
# the pipeline outlives the test. The cat is still alive, waiting for a writer (or not yet at
# its open(2) on a loaded machine), so a write-only open meets it and cannot miss it.
abandon() {
  kill "$pid" 2>/dev/null
  exec 9>"$fifo"
  exec 9>&-
  wait "$pid" 2>/dev/null
}

if [[ $(id -u) != 0 ]]; then
  skip "memory lock and dumpability checks" "need root (to read another process's syscall)"
  echo "# ${passed} passed, ${failed} failed, ${skipped} skipped"
  exit 0
fi

# What "blocked reading standard input" looks like here: a cat waiting on an empty pipe.
mkfifo "$work/probe.fifo"
cat "$work/probe.fifo" | cat >/dev/null &
probe=$!
pids+=("$probe")
for ((i = 0; i < 100; i++)); do
  read_stdin=$(cut -d' ' -f1,2 "/proc/$probe/syscall" 2>/dev/null)
  [[ $read_stdin == *" 0x0" ]] && break
  sleep 0.05
done
# Let the probe pipeline end. A write-only open waits for the probe's cat to open the FIFO:
# opened read-write and closed at once, it could come and go before a cat slowed by a loaded
# machine reached its open(2), which would then wait for a writer forever.
exec 9>"$work/probe.fifo"
exec 9>&-
wait "$probe" 2>/dev/null
[[ $read_stdin == *" 0x0" ]] || { echo "not ok - cannot tell a read(2) on stdin from /proc/PID/syscall"; exit 1; }

# open --test-passphrase, as root: memory locked while it waits for the passphrase.
if start_blocked root_open -- open --test-passphrase --key-file - "$disk"; then
  locked_kib=$(awk '/^VmLck:/ { print $2 }' "/proc/$pid/status")
  # (A count, not grep -q: with pipefail, grep -q's early exit fails readelf with SIGPIPE.)
  if (($(readelf --dyn-syms -W "$Z" 2>/dev/null | grep -c __asan_init) > 0)); then
    # AddressSanitizer turns mlockall(2) into a no-op that returns 0 (checked with a five-line
    # program: 2444 kB locked without ASan, 0 with it). The ordinary test build checks it.
    skip "open: memory is locked while the passphrase is read" "ASan makes mlockall a no-op"
  elif [[ ${locked_kib:-0} -gt 0 ]]; then
    ok "open: memory is locked while the passphrase is read (VmLck ${locked_kib} kB)"
  else
    not_ok "open: memory is locked while the passphrase is read" "$(grep -E '^Vm(Lck|RSS)' "/proc/$pid/status")"
  fi
  if finish secret; then ok "open --test-passphrase then succeeds"
  else not_ok "open --test-passphrase then succeeds" "$(cat "$work/root_open.out")"; fi
else
  not_ok "open reached its passphrase prompt" "$(cat "$work/root_open.out")"
  abandon
fi

# The same verb as nobody: /proc/PID/* of a non-dumpable process belongs to root, whatever the
# process's own user (proc(5)); a dumpable one run as nobody (the control) belongs to nobody.
# As nobody, mlockall is refused or skipped (RLIMIT_MEMLOCK, no CAP_IPC_LOCK): the verb goes on.
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if ! command -v setpriv >/dev/null; then
  skip "dumpability checks" "setpriv (util-linux) is not installed"
else
  "${nobody[@]}" sleep 30 &
  control=$!
  pids+=("$control")
  sleep 0.2
  control_owner=$(stat -c %U "/proc/$control/status" 2>/dev/null)
  kill "$control" 2>/dev/null
  if [[ $control_owner != nobody ]]; then
    skip "dumpability checks" "/proc of a process run as nobody shows owner '$control_owner'"
  else
    ok "control: /proc of an ordinary process run as nobody belongs to nobody"
    for verb in "open --test-passphrase" luksAddKey luksChangeKey luksRemoveKey; do
      name=nobody_${verb%% *}
      # shellcheck disable=SC2086
      if start_blocked "$name" "${nobody[@]}" -- $verb --key-file - "$disk"; then
        owner=$(stat -c %U "/proc/$pid/status")
        if [[ $owner == root ]]; then ok "${verb%% *}: not dumpable while it waits for a key"
        else not_ok "${verb%% *}: not dumpable while it waits for a key" "/proc/$pid/status owner: $owner"; fi
        abandon
      else
        not_ok "${verb%% *} reached its passphrase prompt as nobody" "$(cat "$work/$name.out")"
        abandon
      fi
    done
    # A refused memory lock warns (with --verbose) and does not fail the verb.
    if start_blocked nobody_open_ok "${nobody[@]}" -- --verbose open --test-passphrase \
         --key-file - "$disk"; then
      if finish secret; then
        ok "open as nobody succeeds although its memory cannot be locked"
      else
        not_ok "open as nobody succeeds although its memory cannot be locked" "$(cat "$work/nobody_open_ok.out")"
      fi
      if grep -qi 'memory' "$work/nobody_open_ok.out"; then
        ok "... and --verbose says the memory is not locked"
      else
        not_ok "... and --verbose says the memory is not locked" "$(cat "$work/nobody_open_ok.out")"
      fi
    else
      not_ok "open as nobody reached its passphrase prompt" "$(cat "$work/nobody_open_ok.out")"
      abandon
    fi
  fi
fi

echo "# ${passed} passed, ${failed} failed, ${skipped} skipped"
((failed == 0))
