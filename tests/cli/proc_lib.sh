# shellcheck shell=bash
# Waiting for another process without timing it: a check that "B happens while A waits" must
# know that A is waiting, and a sleep only makes that likely (a loaded machine, such as the
# sanitizer run beside two guests, starves A past any sleep). /proc/PID/syscall names the
# system call a blocked process sits in.

# syscall_nr NAME: the number of a system call on this machine (the few the tests wait in).
syscall_nr() {
  case "$(uname -m):$1" in
    x86_64:read) echo 0 ;;  x86_64:flock) echo 73 ;;
    aarch64:read) echo 63 ;; aarch64:flock) echo 32 ;;
    *) echo "proc_lib.sh: no number for $1 on $(uname -m)" >&2; return 1 ;;
  esac
}

# blocked_in PID SYSCALL [FIRST_ARG]: waits until process PID sits in SYSCALL (with that first
# argument, e.g. 0x0 for a read of standard input). Fails if PID ends first or after 120 s.
blocked_in() {
  local pid=$1 nr want i now
  nr=$(syscall_nr "$2") || return 1
  want="$nr${3:+ $3}"
  for ((i = 0; i < 1200; i++)); do
    now=$(cat "/proc/$pid/syscall" 2>/dev/null) || return 1
    [[ "$now " == "$want "* ]] && return 0
    sleep 0.1
  done
  return 1
}
