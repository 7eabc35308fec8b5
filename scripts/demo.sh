#!/usr/bin/env bash
# The main job on an emulated SMR drive: installs what is needed, builds, boots Debian's own
# kernel under QEMU with a 2 GiB host-managed null_blk drive (no conventional zones), shows
# stock cryptsetup failing on it, then formats it with zcryptsetup, opens it with
# --perf-force_inline, writes and reads data, shows status and the dm table, and closes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec tests/vm/run.sh demo
