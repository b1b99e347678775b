# SPDX-License-Identifier: GPL-2.0
# Common settings for every script of the harness. Source it, do not run it.
#
# Everything downloaded or built lives in $CACHE, outside the clone, so that a
# fresh clone on the same machine (CI) reuses the base source and the build
# directories and only rebuilds what changed.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CI may run with a trimmed environment: do not rely on HOME or PATH.
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME
[[ :$PATH: == *:/usr/bin:* ]] || PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin
command -v cargo >/dev/null 2>&1 || PATH=$PATH:$HOME/.cargo/bin
export PATH
CACHE=${CGROUP_SIGNAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cgroup-signal}
OUT=${OUT:-$ROOT/out}

# Base source: Debian's binary package carrying the 7.3 tarball.
BASE_PKG=linux-source-7.3
BASE_SUITES=(trixie-backports sid experimental)
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

TREE=${CGSIG_TREE:-$CACHE/tree}	# assembled git tree: base commit + our commits
				# (make mutants builds a worktree of it instead)
TOOLS=$CACHE/tools		# cargo install --root (bindgen)
VENV=$CACHE/venv		# virtme-ng
BINDGEN_VERSION=0.72.1
VIRTME_NG_VERSION=1.42

# The Debian toolchain, named explicitly: the rustup toolchain earlier in
# PATH has no rust-src and cannot build kernel Rust.
KMAKE_VARS=(
	LLVM=-19
	RUSTC=/usr/bin/rustc
	HOSTRUSTC=/usr/bin/rustc
	RUSTDOC=/usr/bin/rustdoc
	RUSTFMT=/usr/bin/rustfmt
	CLIPPY_DRIVER=/usr/bin/clippy-driver
	BINDGEN="$TOOLS/bin/bindgen"
	RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
)
export LIBCLANG_PATH=/usr/lib/llvm-19/lib

JOBS=${JOBS:-$(nproc)}

# The benchmark driver, shared by make bench and make insn.
build_bench_driver() {
	mkdir -p "$CACHE/build/bench-driver"
	gcc -O2 -Wall -Wextra -Werror -pthread -o "$CACHE/build/bench-driver/cgsig_bench" \
		"$ROOT/bench/cgsig_bench.c"
}

# kmake VARIANT ARGS...: make in the assembled tree for one build variant.
kmake() {
	local variant=$1
	shift
	make -C "$TREE" O="$CACHE/build/$variant" -j"$JOBS" -s "${KMAKE_VARS[@]}" "$@"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch, for the per-phase timings in the summary.
now() { date +%s; }

# The make graph's steps (setup, base, assemble, build, selftests, ...) run
# through scripts/phase.sh, which records each one's seconds here; the
# first step of every chain, setup, starts a fresh record.
TIMINGS=$OUT/timings
# phase_times: "setup 1s, base 0s, ..." for the steps this make run took.
phase_times() {
	local f
	for f in setup base assemble build build-bench selftests userspace; do
		[[ -f $TIMINGS/$f ]] && printf '%s %ss, ' "$f" "$(cat "$TIMINGS/$f")"
	done
	return 0
}
