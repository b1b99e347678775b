#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Save edits made in the assembled tree to existing kernel files as a patch.
#   scripts/save-patch.sh patches/NNNN-name.patch FILE...
# FILEs are paths in the kernel tree; the patch is their diff against the
# base. Keep one concern per patch: a file belongs to exactly one patch.
. "$(dirname "$0")/lib.sh"
out=$1
shift
(($#)) || die "usage: $0 patches/NNNN-name.patch FILE..."
for f in "$@"; do
	git -C "$TREE" cat-file -e "base:$f" 2>/dev/null ||
		die "$f is not in the base: new files live in the repo at their kernel path"
done
git -C "$TREE" diff --no-color --no-prefix --src-prefix=a/ --dst-prefix=b/ base -- "$@" >"$ROOT/$out.tmp"
[[ -s $ROOT/$out.tmp ]] || { rm -f "$ROOT/$out.tmp"; die "no changes in $*"; }
mv "$ROOT/$out.tmp" "$ROOT/$out"
log "$out: $(grep -c '^+[^+]' "$ROOT/$out") lines added, $(grep -c '^-[^-]' "$ROOT/$out") removed"
