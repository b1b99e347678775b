#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the userspace workspace (userspace/: the cgroup-signal crate, cgkill,
# and the programs the VM runs: cgsignal-vmtest and cgsignal-demo-workload)
# with the machine's cargo, from crates.io as pinned by Cargo.lock.
# Output: $CACHE/build/userspace/release/.
. "$(dirname "$0")/lib.sh"

command -v cargo >/dev/null || die "cargo not found (the machine's rustup toolchain): see HACKING.md"
export CARGO_TARGET_DIR=$CACHE/build/userspace
cargo build --quiet --release --locked --manifest-path "$ROOT/userspace/Cargo.toml" --workspace --bins
