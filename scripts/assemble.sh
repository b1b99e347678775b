#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Assemble the kernel tree: the pristine base as one git commit, then ours.
#
# Ours = the repo's files at kernel paths (new files, copied as they are) plus
# patches/*.patch (edits to existing files, applied in name order). The target
# commit is built in a private index, never in the work tree, and then checked
# out with `git reset --hard`, which rewrites only files whose content changed.
# So re-assembling with nothing changed touches no file and the next
# incremental build is a no-op. The commit is deterministic (fixed identity
# and date), so "nothing changed" is simply "HEAD is already that commit".
. "$(dirname "$0")/lib.sh"

export GIT_AUTHOR_NAME="cgroup-signal harness" GIT_AUTHOR_EMAIL="harness@localhost"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
git_t() { git -C "$TREE" "$@"; }

if ! git_t rev-parse -q --verify refs/tags/base >/dev/null 2>&1; then
	log "creating the assembled tree from $(cat "$CACHE/base/VERSION")"
	rm -rf "$TREE"
	cp -a "$CACHE/base/linux" "$TREE"
	git_t init -q -b main
	git_t config core.autocrlf false
	git_t config gc.auto 0
	git_t add -A -f .
	git_t commit -q -m "base: $(cat "$CACHE/base/VERSION")"
	git_t tag base
fi

# Build the target commit in a private index.
idx=$TREE/.git/assemble-index
rm -f "$idx"
export GIT_INDEX_FILE=$idx
git_t read-tree base

shopt -s nullglob
for p in "$ROOT"/patches/*.patch; do
	git_t apply --cached --whitespace=error-all "$p" ||
		die "patches/$(basename "$p") does not apply to the base"
done

# New files: tracked or untracked-but-not-ignored, so work in progress counts.
mapfile -t files < <(repo_kernel_files)
for f in "${files[@]}"; do
	[[ -f $ROOT/$f ]] || continue	# deleted but still in the index
	if git_t cat-file -e "base:$f" 2>/dev/null; then
		die "$f exists in the base: change it with a patch in patches/, not a copy"
	fi
	mode=100644
	[[ -x $ROOT/$f ]] && mode=100755
	blob=$(git_t hash-object -w --path="$f" "$ROOT/$f")
	git_t update-index --add --cacheinfo "$mode,$blob,$f"
done

tree=$(git_t write-tree)
if [[ $tree == $(git_t rev-parse 'base^{tree}') ]]; then
	target=$(git_t rev-parse base)
else
	target=$(git_t commit-tree "$tree" -p base -m "cgroup.signal: our changes")
fi
unset GIT_INDEX_FILE
rm -f "$idx"

if [[ $(git_t rev-parse HEAD) != "$target" || -n $(git_t status --porcelain -uno) ]]; then
	# Edits made directly in the tree would be lost: refuse unless they are
	# already what the repo says (saved with scripts/save-patch.sh).
	lost=()
	while IFS= read -r f; do
		[[ -n $f ]] || continue
		if ! [[ -f $TREE/$f ]] || [[ $(git_t hash-object -- "$f") != \
			$(git_t rev-parse -q --verify "$target:$f" 2>/dev/null) ]]; then
			lost+=("$f")
		fi
	done < <(git_t diff --name-only HEAD)
	if ((${#lost[@]})) && [[ ${ASSEMBLE_FORCE:-0} != 1 ]]; then
		printf '  %s\n' "${lost[@]}" >&2
		die "$TREE has edits that are not in the repo: save them (scripts/save-patch.sh) or rerun with ASSEMBLE_FORCE=1 to drop them"
	fi
	git_t reset -q --hard "$target"
	log "assembled tree at $(git_t rev-parse --short HEAD) ($(git_t diff --shortstat base HEAD | sed 's/^ //'))"
fi
