#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch and unpack the base source: Debian's linux-source-7.3 binary package.
#
# Debian's registry serves binary packages only, and 7.3 is not in bookworm,
# so the package is looked up with a private apt configuration (its own
# sources list, lists and cache under $CACHE/apt). The system's apt sources
# are never touched: adding trixie or sid there would upgrade libc.
#
# Result: $CACHE/base/linux-<version> (pristine) and $CACHE/base/VERSION.
. "$(dirname "$0")/lib.sh"

BASE=$CACHE/base
if [[ -s $BASE/VERSION && -d $BASE/linux/kernel ]]; then
	exit 0
fi

APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts" "$BASE"
apt_opts=(
	-o Dir::Etc::SourceList="$APT/sources.list"
	-o Dir::Etc::SourceParts="$APT/parts"
	-o Dir::State::Lists="$APT/lists"
	-o Dir::Cache="$APT/cache"
	-o Dir::State::status=/dev/null
	-o Debug::NoLocking=1
	-o APT::Sandbox::User=root
	-o Acquire::Languages=none
)

tried=()
found=
for suite in "${BASE_SUITES[@]}"; do
	tried+=("$suite")
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEBIAN_MIRROR $suite main" \
		>"$APT/sources.list"
	rm -rf "$APT/lists"/* "$APT/cache"/*.bin
	mkdir -p "$APT/lists/partial"
	if ! apt-get "${apt_opts[@]}" update -qq >"$APT/update.log" 2>&1; then
		log "$suite: apt-get update failed: $(grep -m1 -E '^(E|W):' "$APT/update.log" || true)"
		continue
	fi
	ver=$(apt-cache "${apt_opts[@]}" show "$BASE_PKG" 2>/dev/null |
		awk '/^Version:/ {print $2; exit}')
	if [[ -n $ver ]]; then
		log "$BASE_PKG $ver found in $suite"
		found=$suite
		break
	fi
	log "$suite: no $BASE_PKG"
done
[[ -n $found ]] || die "no Debian suite has $BASE_PKG (tried: ${tried[*]} at $DEBIAN_MIRROR)"

dl=$CACHE/download
mkdir -p "$dl"
if ! ls "$dl/${BASE_PKG}_${ver//:/%3a}_all.deb" >/dev/null 2>&1; then
	(cd "$dl" && apt-get "${apt_opts[@]}" download -qq "$BASE_PKG=$ver") ||
		die "downloading $BASE_PKG $ver from $found failed"
fi
deb=$(ls "$dl/${BASE_PKG}_"*"_all.deb" | tail -1)

log "unpacking $(basename "$deb")"
tmp=$BASE/unpack.$$
rm -rf "$tmp" "$BASE/linux"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/linux-source-*.tar.*'
tar -x -C "$tmp" -f "$tmp"/usr/src/linux-source-*.tar.*
mv "$tmp"/linux-source-* "$BASE/linux"
rm -rf "$tmp"
kv=$(make -s -C "$BASE/linux" kernelversion)
echo "$BASE_PKG $ver (Linux $kv, from Debian $found)" >"$BASE/VERSION"
log "base: $(cat "$BASE/VERSION")"
