#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Exhaustive loom check of the cgroup.signal fork-race protocol, every
# scenario x design. KTAP on stdout; statistics and traces on stderr.
# Exit status is non-zero if any line is "not ok".
#   ./run-tests.sh [--trace] [SCENARIO...]
# CARGO_TARGET_DIR moves the build (make test keeps it in the cache).
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null 2>&1 || PATH=$PATH:$HOME/.cargo/bin
cargo build --release --locked --quiet -j2
exec "${CARGO_TARGET_DIR:-target}/release/cgsignal-model" "$@"
