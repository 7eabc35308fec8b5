# shellcheck shell=bash
# Sourced by tests/vm/run.sh and tests/boot/run.sh: the one list of console lines that fail a
# guest run whatever its checks said. A check that passed while the kernel oopsed, or while PID 1
# died, proves nothing.

# kernel_fault_problem CONSOLE_LOG: the problem line a runner reports for the first such line
# (carriage returns removed), or nothing.
kernel_fault_problem() {
  local line
  line=$(tr -d '\r' < "$1" | grep -aE -m 1 'Kernel panic|BUG: |Oops:|Attempted to kill init' || true)
  [[ -z $line ]] || echo "kernel panic or oops on the console: $line"
}
