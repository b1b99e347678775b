#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build one kernel variant out of tree, incrementally.
#   test  - configs/base.config + configs/debug.config (lockdep, KASAN, ...)
#   bench - configs/base.config only (production-like)
#   mutant - as test, for make mutants (built from $CGSIG_TREE)
# The image is copied to out/bzImage (test) or out/bzImage-<variant>.
# CONFIG_ONLY=1: bring the variant's .config up to date, build nothing.
. "$(dirname "$0")/lib.sh"

variant=${1:-test}
case $variant in
test | mutant) fragments=(base debug) ;;
bench) fragments=(base) ;;
*) die "unknown variant '$variant' (test, bench or mutant)" ;;
esac

B=$CACHE/build/$variant
mkdir -p "$B" "$OUT"
merged=$B/fragment.config
for f in "${fragments[@]}"; do cat "$ROOT/configs/$f.config"; done >"$merged.new"

# Regenerate .config only when the fragments or any Kconfig file changed:
# rewriting it needlessly would not rebuild much, but costs a Kconfig run.
key=$( (cat "$merged.new"; git -C "$TREE" diff base HEAD -- '*Kconfig*') | sha256sum | cut -c1-16)
if [[ ! -f $B/.config || $(cat "$B/.config-key" 2>/dev/null) != "$key" ]]; then
	log "configuring $variant kernel (allnoconfig + ${fragments[*]})"
	mv "$merged.new" "$merged"
	kmake "$variant" KCONFIG_ALLCONFIG="$merged" allnoconfig >/dev/null
	bad=0
	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Z0-9_]+)=(.*)$ ]]; then
			grep -qxF "$line" "$B/.config" || { echo "  $line: got '$(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$B/.config" || echo unset)'" >&2; bad=1; }
		elif [[ $line =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
			! grep -q "^${BASH_REMATCH[1]}=" "$B/.config" || { echo "  ${BASH_REMATCH[1]} should be unset" >&2; bad=1; }
		fi
	done <"$merged"
	if ((bad)); then
		rm -f "$B/.config-key"
		[[ $(grep -c '^CONFIG_RUST=y' "$B/.config") == 1 ]] ||
			kmake "$variant" rustavailable >&2 || true
		die "the $variant config lost the options above"
	fi
	echo "$key" >"$B/.config-key"
else
	rm -f "$merged.new"
fi

[[ ${CONFIG_ONLY:-} == 1 ]] && exit 0

log "building $variant kernel ($(cat "$CACHE/base/VERSION"), tree $(git -C "$TREE" rev-parse --short HEAD))"
kmake "$variant" bzImage
img=bzImage
[[ $variant == test ]] || img=bzImage-$variant
cp "$B/arch/x86/boot/bzImage" "$OUT/$img.tmp" && mv "$OUT/$img.tmp" "$OUT/$img"
{
	cat "$CACHE/base/VERSION"
	echo "tree $(git -C "$TREE" rev-parse HEAD)"
	echo "kernel $(cat "$B/include/config/kernel.release")"
} >"$OUT/$img.version"
log "out/$img: $(tail -1 "$OUT/$img.version")"
