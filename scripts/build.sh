#!/usr/bin/env bash
# Configures and builds zcryptsetup (binary, library, unit tests, message catalogue) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)"
