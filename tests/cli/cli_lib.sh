# shellcheck shell=bash
# What the topic CLI tests (tests/cli/*_cli_test.sh) share: counting checks and the three ways
# they judge a command. Sourced after `passed=0 failed=0`.

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; [[ -n ${2:-} ]] && sed 's/^/    | /' <<<"$2" | head -20; }
# expect CODE NAME CMD...: CMD exits with CODE (stdin /dev/null; OUT holds stdout+stderr).
expect() {
  local code=$1 name=$2 rc
  shift 2
  OUT=$("$@" 2>&1 </dev/null)
  rc=$?
  if [[ $rc == "$code" ]]; then ok "$name"; else not_ok "$name (exit $rc, wanted $code)" "$OUT"; fi
}
# matches PATTERN NAME: the last command's output matches PATTERN (grep -E).
matches() { if grep -Eq -- "$1" <<<"$OUT"; then ok "$2"; else not_ok "$2 (no match for $1)" "$OUT"; fi; }
lacks() { if ! grep -Eq -- "$1" <<<"$OUT"; then ok "$2"; else not_ok "$2 (matched $1)" "$OUT"; fi; }
. "$(dirname "${BASH_SOURCE[0]}")/proc_lib.sh"
