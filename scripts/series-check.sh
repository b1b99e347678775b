#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series-check: is out/series what a maintainer can take?
#
# Makes the series (scripts/series.sh), then, on a pristine copy of the base
# (a git worktree of the tree's "base" commit) and its own build directory:
# builds the base, and for each patch in order applies it with plain
# `git am`, runs scripts/checkpatch.pl --strict on it, and builds the kernel
# incrementally (configs/base.config: production options plus Rust, KUnit
# and the doc-tests; the cgroup selftests too once a patch touches them).
# Fails on a patch that does not apply, a failed build, a compiler warning
# the base build did not have, or any checkpatch error, warning or check.
# Without SIGNOFF, checkpatch runs with --no-signoff (none is invented).
. "$(dirname "$0")/lib.sh"

# The patches only: the cover letter is make series' business.
SERIES_COVER=skip "$ROOT/scripts/series.sh"

S=$OUT/series
W=$CACHE/series-check/linux
B=$CACHE/build/series
L=$OUT/series-check
rm -rf "$L"
mkdir -p "$L" "$B"
git_t() { git -C "$TREE" "$@"; }
git_w() { git -C "$W" "$@"; }

if [[ -e $W/.git ]]; then
	git_w am --abort >/dev/null 2>&1 || true
	git_w checkout -q --detach base
	git_w reset -q --hard base
	git_w clean -q -fdx
else
	git_t worktree prune
	mkdir -p "$(dirname "$W")"
	git_t worktree add -q --detach "$W" base
fi
export GIT_COMMITTER_NAME="series-check" GIT_COMMITTER_EMAIL="series-check@localhost.invalid"

# Configure from the fragment; symbols the tree does not have yet (before
# the patch adding them) are left out by Kconfig.
wmake() { make -C "$W" O="$B" -j"$JOBS" -s "${KMAKE_VARS[@]}" "$@"; }
configure() {
	wmake KCONFIG_ALLCONFIG="$ROOT/configs/base.config" allnoconfig >/dev/null 2>"$L/kconfig.log"
	if grep -q '^config CGROUP_SIGNAL$' "$W/init/Kconfig"; then
		grep -qx 'CONFIG_CGROUP_SIGNAL=y' "$B/.config" || die "CONFIG_CGROUP_SIGNAL is in Kconfig but not enabled"
	fi
	grep -qx 'CONFIG_RUST=y' "$B/.config" || die "CONFIG_RUST is not enabled"
}
# build NAME: the kernel (and the cgroup selftests once the tree has
# test_signal.c); warnings go to $L/NAME.warnings.
build() {
	local name=$1 t0
	t0=$(now)
	configure
	if ! wmake bzImage >"$L/$name.log" 2>&1; then
		tail -30 "$L/$name.log" >&2
		die "$name: the kernel does not build (log: out/series-check/$name.log)"
	fi
	if [[ -f $W/tools/testing/selftests/cgroup/test_signal.c ]]; then
		wmake headers >>"$L/$name.log" 2>&1
		make -s -C "$W/tools/testing/selftests/cgroup" OUTPUT="$B/selftests" \
			KHDR_INCLUDES="-isystem $B/usr/include" "$B/selftests/test_signal" \
			>>"$L/$name.log" 2>&1 || { tail -30 "$L/$name.log" >&2; die "$name: test_signal does not build"; }
	fi
	grep -E 'warning[:[]' "$L/$name.log" | sed -E 's/:[0-9]+:[0-9]+:/:/' | sort -u >"$L/$name.warnings" || true
	BUILD_SECONDS=$(($(now) - t0))
}

log "series-check: building the base ($(cat "$CACHE/base/VERSION")) in $B"
build base
log "base: built in ${BUILD_SECONDS}s ($(wc -l <"$L/base.warnings") compiler warnings of its own)"

signoff=(--no-signoff)
[[ -z ${SIGNOFF:-} ]] || signoff=()
fail=0 total_e=0 total_w=0 total_c=0
summary=()
for p in "$S"/v[0-9]*-[0-9][0-9][0-9][0-9]-*.patch "$S"/[0-9][0-9][0-9][0-9]-*.patch; do
	[[ -f $p ]] || continue
	name=$(basename "$p" .patch)
	[[ $name == *0000-cover-letter ]] && continue
	git_w am -q "$p" >"$L/$name.am" 2>&1 || { cat "$L/$name.am" >&2; die "$name does not apply with git am"; }
	subject=$(git_w log -1 --format=%s)

	(cd "$W" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict "${signoff[@]}" "$p") \
		>"$L/$name.checkpatch" 2>&1 || true
	e="" w="" c=""
	read -r e w c < <(sed -nE 's/^total: ([0-9]+) errors, ([0-9]+) warnings, ([0-9]+) checks.*/\1 \2 \3/p' \
		"$L/$name.checkpatch") || true
	[[ -n ${c:-} ]] || die "$name: checkpatch printed no totals (out/series-check/$name.checkpatch)"
	total_e=$((total_e + e)) total_w=$((total_w + w)) total_c=$((total_c + c))
	if ((e + w + c)); then
		grep -E '^(ERROR|WARNING|CHECK):' -A3 "$L/$name.checkpatch" >&2 || true
		fail=1
	fi

	build "$name"
	new=$(comm -13 "$L/base.warnings" "$L/$name.warnings")
	if [[ -n $new ]]; then
		echo "$new" >&2
		fail=1
	fi
	line="$name: builds (${BUILD_SECONDS}s), $(echo "$new" | grep -c . || true) new compiler warnings, checkpatch --strict $e errors, $w warnings, $c checks"
	log "$line"
	summary+=("$subject: checkpatch $e/$w/$c, builds")
done

[[ $(git_w rev-parse 'HEAD^{tree}') == $(git_t rev-parse 'HEAD^{tree}') ]] ||
	{ fail=1; echo "the applied series differs from the assembled tree" >&2; }

echo "series-check: ${#summary[@]} patches applied with git am and built one by one on $(cat "$CACHE/base/VERSION")"
printf '  %s\n' "${summary[@]}"
echo "checkpatch --strict totals: $total_e errors, $total_w warnings, $total_c checks${signoff:+ (--no-signoff: no SIGNOFF given)}"
((fail == 0)) || die "series-check failed (logs in out/series-check/)"
echo "series-check: OK (the cover letter is written by make series)"
