#!/usr/bin/env bash
# scripts/check-structure.py can fail: on a small tree that keeps every rule it reports
# nothing, and each violation planted in a copy of that tree is reported by name.
# Usage: check_structure_test.sh REPO_ROOT
set -uo pipefail
repo=$1
checker=$repo/scripts/check-structure.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# A clean tree: two layers, one public header, a design doc with one heading.
make_tree() {
  local t=$1
  mkdir -p "$t"/lib/luks2ext/{base,zoned,metadata,crypttab,include/luks2ext} "$t"/src "$t"/scripts "$t"/docs
  printf '# Design\n\n## Update protocol\n' > "$t/docs/design.md"
  printf '#pragma once\nnamespace luks2ext { int f(); }\n' > "$t/lib/luks2ext/include/luks2ext/error.h"
  printf '#include "luks2ext/error.h"\nnamespace luks2ext {\nint f() { return 1; }\n}\n' \
    > "$t/lib/luks2ext/base/error.cc"
  printf '#include "base/x.h"\n#include "luks2ext/error.h"\n// docs/design.md#update-protocol\nint g() {\n  return 2;\n}\n' \
    > "$t/lib/luks2ext/zoned/device.cc"
  printf '#pragma once\n' > "$t/lib/luks2ext/base/x.h"
  printf '#include "luks2ext/error.h"\nint main() { return 0; }\n' > "$t/src/main.cc"
}

# expect NAME PATTERN: the checker fails on the tree in $work/t and prints PATTERN.
expect() {
  local name=$1 pattern=$2 out rc
  out=$(python3 "$checker" "$work/t" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name (exit $rc):"; echo "$out" | sed 's/^/    /'
  fi
}
fresh() { rm -rf "$work/t"; make_tree "$work/t"; }

fresh
if out=$(python3 "$checker" "$work/t" 2>&1); then
  passed=$((passed + 1)); echo "ok   a clean tree passes"
else
  failed=$((failed + 1)); echo "FAIL a clean tree is refused:"; echo "$out" | sed 's/^/    /'
fi

fresh
printf '#include "metadata/volume.h"\n' >> "$work/t/lib/luks2ext/zoned/device.cc"
expect "a lower layer including a higher one" 'layer zoned includes "metadata/volume.h" of layer metadata'

fresh
printf '#include "zoned/device.h"\n' >> "$work/t/lib/luks2ext/crypttab/parse.cc"
expect "crypttab including anything but base" 'layer crypttab includes "zoned/device.h"'

fresh
printf '#include "options.h"\n' >> "$work/t/lib/luks2ext/base/error.cc"
expect "the library including the CLI" 'includes "options.h", which is no library header'

fresh
printf '#pragma once\n' > "$work/t/lib/luks2ext/include/luks2ext/brand_new.h"
expect "a public header without a layer" 'brand_new.h: public header without a layer'

fresh
{ echo 'int Long() {'; for i in $(seq 1 70); do echo "  int v$i = $i;"; done; echo '}'; } \
  > "$work/t/src/long.cc"
expect "a 72-line function" 'function Long is 72 lines'

fresh
{ echo 'struct S {'; echo '  void Member() const {'; for i in $(seq 1 70); do echo "    (void)$i;"; done
  echo '  }'; echo '};'; } > "$work/t/lib/luks2ext/base/member.h"
expect "a long inline member function" 'function Member is 72 lines'

fresh
{ echo 'namespace n {'; echo 'A::A(int x)'; echo '    : x_(x) {'; for i in $(seq 1 70); do echo "  f($i);"; done
  echo '}'; echo '}'; } > "$work/t/src/ctor.cc"
expect "a long constructor with an initializer list" 'function A::A is 7[0-9] lines'

# A block inside a function is part of it, not a function of its own.
fresh
{ echo 'void Outer() {'; echo '  while (true) {'; for i in $(seq 1 70); do echo "    f($i);"; done
  echo '  }'; echo '}'; } > "$work/t/src/outer.cc"
expect "a long loop is counted in its function" 'function Outer is 74 lines'
if python3 "$checker" "$work/t" | grep -q 'function while'; then
  failed=$((failed + 1)); echo "FAIL the loop inside Outer was taken for a function"
else
  passed=$((passed + 1)); echo "ok   the loop inside Outer is no function of its own"
fi

fresh
seq 1 501 | sed 's|^|// |' > "$work/t/src/big.cc"
expect "a 501-line file" 'src/big.cc: 501 lines'

fresh
echo '#include <iostream>' >> "$work/t/src/main.cc"
expect "iostreams in the program" 'src/main.cc: includes <iostream>'

fresh
echo '#include <fstream>' >> "$work/t/src/generator/zcryptsetup-generator.cc"
echo '#include <fstream>' >> "$work/t/lib/luks2ext/zoned/block_device.cc"
expect "an fstream in the library (the generator may)" 'zoned/block_device.cc: includes <fstream>'

fresh
echo '// see docs/design.md#no-such-heading' >> "$work/t/src/main.cc"
expect "a citation of a missing heading" 'docs/design.md has no #no-such-heading'

fresh
echo '// as design section 4 says' >> "$work/t/src/main.cc"
expect "a design section outside the repository" 'cites a design section outside the repository'

fresh
rm "$work/t/docs/design.md"
expect "no design document" 'docs/design.md is missing'

# Lines inside strings and comments are not code: a long string of braces is no function.
fresh
{ echo 'const char* kText = "{";'; echo '/* int F() {'; for i in $(seq 1 80); do echo " x"; done
  echo '} */'; } >> "$work/t/src/main.cc"
if python3 "$checker" "$work/t" >/dev/null; then
  passed=$((passed + 1)); echo "ok   braces in strings and comments are ignored"
else
  failed=$((failed + 1)); echo "FAIL braces in strings and comments were counted"
fi

echo "check-structure self-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
