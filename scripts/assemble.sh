#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the kernel tree: the pristine base as one git commit (tag "base"),
# then the series' commits from series/NN-*/, made and checked by
# scripts/series.py (see there): re-assembling with nothing changed touches
# no file, so the next incremental build is a no-op.
. "$(dirname "$0")/lib.sh"

git_t() { git -C "$TREE" "$@"; }

if ! git_t rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	log "creating the assembled tree from $(cat "$CACHE/base/VERSION")"
	rm -rf "$TREE"
	cp -a "$CACHE/base/linux" "$TREE"
	export GIT_AUTHOR_NAME="cgroup-signal harness" GIT_AUTHOR_EMAIL="harness@localhost"
	export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
	export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
	git_t init -q -b main
	git_t config core.autocrlf false
	git_t config gc.auto 0
	git_t add -A -f .
	git_t commit -q -m "base: $(cat "$CACHE/base/VERSION")"
	git_t tag base
fi

ROOT=$ROOT TREE=$TREE /usr/bin/python3 "$ROOT/scripts/series.py" assemble
