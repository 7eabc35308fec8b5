#!/usr/bin/env bash
# Configures and builds zcryptsetup (binary, library, unit tests, message catalogue) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# The test build honours the test-only switches (ZCRYPTSETUP_TEST_HOOKS); a release build,
# configured without it, has none (docs/security.md).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZCRYPTSETUP_TEST_HOOKS=ON "${launcher[@]}" >/dev/null
cmake --build build -j "$(nproc)"
