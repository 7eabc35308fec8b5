# shellcheck shell=bash
# Sourced by tests/vm/run.sh and tests/boot/run.sh: the one list of console lines that fail a
# guest run whatever its checks said. A check that passed while the kernel oopsed, or while PID 1
# died, proves nothing.

# first_kernel_fault CONSOLE_LOG: prints the first such line (carriage returns removed), or
# nothing.
first_kernel_fault() {
  tr -d '\r' < "$1" | grep -aE -m 1 'Kernel panic|BUG: |Oops:|Attempted to kill init' || true
}
