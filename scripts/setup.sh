#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install everything the harness needs, idempotently: Debian packages, a
# pinned bindgen-cli (crates.io) and a pinned virtme-ng (PyPI). A second run
# finds everything in place, installs nothing and takes about a second.
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	# Kernel Rust toolchain, matched: rustc/rustdoc 1.96, its std source,
	# clippy and rustfmt; LLVM 19 for the C side and for bindgen.
	rustc-web rust-web-src rust-web-clippy rustfmt-web
	clang-19 lld-19 llvm-19 libclang-19-dev
	# Kernel build.
	make flex bison bc libelf-dev libssl-dev cpio kmod rsync perl python3
	# checkpatch.pl runs spdxcheck.py, which needs these
	python3-ply python3-git
	git xz-utils
	# VM: virtme-ng boots the kernel under qemu with the host's root over 9p.
	qemu-system-x86 busybox-static
	# Selftests and benchmark driver (built on the host, run in the guest).
	gcc libc6-dev libcap-dev
	# make bench's plot (out/bench/bench.png).
	python3-matplotlib
	# virtme-ng's own environment.
	python3-venv
)

mkdir -p "$CACHE"
missing=()
for p in "${PACKAGES[@]}"; do
	[[ $p == \#* ]] && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	[[ $(id -u) == 0 ]] || die "missing packages (${missing[*]}) and not root"
	log "installing Debian packages: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >"$CACHE/apt-install.log" 2>&1 ||
		{ tail -20 "$CACHE/apt-install.log" >&2; die "apt-get install failed"; }
fi

# bindgen: the kernel needs >= 0.71.1; pinned and built from crates.io with
# the machine's cargo (any cargo will do: bindgen itself is host code).
if ! [[ -x $TOOLS/bin/bindgen ]] ||
	! "$TOOLS/bin/bindgen" --version 2>/dev/null | grep -qx "bindgen $BINDGEN_VERSION"; then
	command -v cargo >/dev/null || die "cargo not found: it is needed once to build bindgen-cli"
	log "building bindgen-cli $BINDGEN_VERSION (one time, a few minutes)"
	cargo install --quiet --locked --force --root "$TOOLS" \
		bindgen-cli --version "$BINDGEN_VERSION"
fi

# virtme-ng, in its own venv so the system Python stays untouched.
if ! [[ -x $VENV/bin/vng ]] ||
	! "$VENV/bin/vng" --version 2>/dev/null | grep -qx "virtme-ng $VIRTME_NG_VERSION"; then
	log "installing virtme-ng $VIRTME_NG_VERSION"
	rm -rf "$VENV"
	/usr/bin/python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q --disable-pip-version-check "virtme-ng==$VIRTME_NG_VERSION"
fi

# Pre-flight: does the kernel build system agree the Rust toolchain is usable?
# Cheap, and a clear message here beats a silent CONFIG_RUST=n later.
/usr/bin/rustc --version >/dev/null
"$TOOLS/bin/bindgen" --version >/dev/null
