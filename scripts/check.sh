#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: the review gates on our changes, each warning a failure.
#   1. scripts/checkpatch.pl --strict on the diff base..HEAD of the tree
#   2. rustfmt --check on our Rust files (the tree's .rustfmt.toml)
#   3. a CLIPPY=1 build (own build dir "check", same config as the test
#      kernel): our Rust objects are rebuilt every time so no warning hides
#      behind an up-to-date object
#   4. make rustdoc
. "$(dirname "$0")/lib.sh"

fails=0
gate() { # gate NAME LOGFILE STATUS
	local n
	n=$(grep -cE '^(WARNING|ERROR|CHECK|warning|error)\b|^(warning|error)(\[|:)' "$2" || true)
	if [[ $3 != 0 || $n != 0 ]]; then
		echo "check: $1: FAILED ($n findings, status $3)"
		grep -E -A6 '^(WARNING|ERROR|CHECK|warning|error)\b|^(warning|error)(\[|:)' "$2" | head -60
		fails=$((fails + 1))
	else
		echo "check: $1: clean"
	fi
}
L=$OUT/check
mkdir -p "$L"
mapfile -t changed < <(git -C "$TREE" diff --name-only base HEAD)
mapfile -t rs < <(printf '%s\n' "${changed[@]}" | grep '\.rs$' || true)

# 1. checkpatch (on the code: the commit messages are checked per patch
#    when the series is exported, so COMMIT_MESSAGE is not judged here)
if ((${#changed[@]})); then
	st=0
	git -C "$TREE" diff --stat --patch base HEAD |
		(cd "$TREE" && PATH=/usr/bin:$PATH perl scripts/checkpatch.pl --strict --no-signoff \
			--ignore COMMIT_MESSAGE --terse --show-types -) \
			>"$L/checkpatch.log" 2>&1 || st=$?
	# --terse prints "FILE:LINE: SEVERITY:TYPE: text"; normalise for gate().
	sed -E 's/^[^ ]+: (WARNING|ERROR|CHECK):/\1 &/' "$L/checkpatch.log" >"$L/checkpatch.norm"
	grep -q 'total: 0 errors, 0 warnings, 0 checks' "$L/checkpatch.log" && st=0
	gate checkpatch "$L/checkpatch.norm" "$st"
else
	echo "check: checkpatch: nothing to check (no changes against the base yet)"
fi

# 2. rustfmt
if ((${#rs[@]})); then
	st=0
	(cd "$TREE" && /usr/bin/rustfmt --check --edition 2021 --config-path .rustfmt.toml "${rs[@]}") \
		>"$L/rustfmt.log" 2>&1 || st=$?
	[[ $st == 0 ]] || echo "warning: rustfmt wants changes" >>"$L/rustfmt.log"
	gate rustfmt "$L/rustfmt.log" "$st"
else
	echo "check: rustfmt: no Rust files changed"
fi

# 3. clippy
B=$CACHE/build/check
mkdir -p "$B"
CONFIG_ONLY=1 "$ROOT/scripts/build.sh" test # the test config, current
if [[ ! -f $B/.config ]] || ! cmp -s "$CACHE/build/test/.config" "$B/.config"; then
	cp "$CACHE/build/test/.config" "$B/.config"
	kmake check olddefconfig >/dev/null
fi
for f in "${rs[@]}"; do
	case $f in
	rust/kernel/*) rm -f "$B/rust/kernel.o" ;;
	*) rm -f "$B/${f%.rs}.o" ;;
	esac
done
st=0
log "CLIPPY=1 build in $B (a full kernel build the first time)"
kmake check CLIPPY=1 vmlinux >"$L/clippy.log" 2>&1 || st=$?
gate "clippy (CLIPPY=1 build)" "$L/clippy.log" "$st"

# 4. rustdoc
st=0
kmake check rustdoc >"$L/rustdoc.log" 2>&1 || st=$?
gate rustdoc "$L/rustdoc.log" "$st"

if ((fails)); then
	echo "check: $fails gate(s) failed; logs in out/check/"
	exit 1
fi
echo "check: all gates clean"
