#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make series: the series for review in out/series/, by git format-patch of
# the assembled tree's commits (base..HEAD, built from series/NN-*/ by
# scripts/series.py): nothing is sliced or derived by hand.
#
#   v$VERSION patches (series/version) with a cover letter from
#   series/cover-letter.txt; its changelog is series/changelog and it ends
#   with the range-diff against v1 (series/v1.mbox, the first version as it
#   was made, kept to compare against).
#   To: the maintainers and Cc: the reviewers and lists that the kernel's
#   scripts/get_maintainer.pl names for the whole series.
#
#   SIGNOFF="Name <mail>"  add Signed-off-by: (and author the commits as) him;
#                          without it no Signed-off-by is added
#   SERIES_AUTHOR=...      the commits' author if not SIGNOFF
#   SERIES_COVER=skip      leave the cover letter unfilled (series-check
#                          needs only the patches)
#
# The cover letter's measurements come from the latest runs in out/ (make
# test, repeat, stress, bench); a run that is missing is named as missing.
. "$(dirname "$0")/lib.sh"

git_t() { git -C "$TREE" "$@"; }
version=$(cat "$ROOT/series/version")
[[ $version =~ ^[1-9][0-9]*$ ]] || die "series/version: '$version' is not a version number"

# --- the commits, as mailed: author and Signed-off-by ---------------------------
ident=${SIGNOFF:-${SERIES_AUTHOR:-cgroup.signal series <cgroup-signal@localhost.invalid>}}
[[ $ident =~ ^(.+)\ \<([^<>]+)\>$ ]] || die "SIGNOFF/SERIES_AUTHOR must look like 'Name <mail>'"
export GIT_AUTHOR_NAME=${BASH_REMATCH[1]} GIT_AUTHOR_EMAIL=${BASH_REMATCH[2]}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
parent=$(git_t rev-parse base)
for c in $(git_t rev-list --reverse base..HEAD); do
	parent=$( {
		git_t log -1 --format=%B "$c" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
		[[ -z ${SIGNOFF:-} ]] || printf '\nSigned-off-by: %s\n' "$SIGNOFF"
	} | git_t commit-tree "$c^{tree}" -p "$parent")
done
git_t update-ref refs/heads/series "$parent"

# --- the previous version, for the range-diff ---------------------------------------
range_diff=()
if [[ -f $ROOT/series/v1.mbox && $version != 1 ]]; then
	ROOT=$ROOT TREE=$TREE /usr/bin/python3 "$ROOT/scripts/series.py" v1 refs/cgsig/v1
	range_diff=(--range-diff=base..refs/cgsig/v1)
fi

# --- recipients -----------------------------------------------------------------------
S=$OUT/series
rm -rf "$S"
mkdir -p "$S"
git_t diff base series >"$S/.all.diff"
gm() { (cd "$TREE" && perl scripts/get_maintainer.pl --no-rolestats --no-git \
	--no-git-fallback "$@" "$S/.all.diff"); }
mapfile -t to < <(gm --no-r --no-l)
mapfile -t cc < <(gm --no-m | grep -vxF -f <(printf '%s\n' "${to[@]}"))
rm -f "$S/.all.diff"
((${#to[@]})) || die "get_maintainer.pl named no maintainer"
addr=()
for a in "${to[@]}"; do addr+=("--to=$a"); done
for a in "${cc[@]}"; do addr+=("--cc=$a"); done

# --- the mail -----------------------------------------------------------------------------
git_t -c core.abbrev=12 format-patch -q -v"$version" --cover-letter --base=base \
	--subject-prefix=PATCH --no-signature "${addr[@]}" "${range_diff[@]}" -o "$S" base..series
cover=$(ls "$S"/*0000-cover-letter.patch)
if ((${#range_diff[@]})); then
	git_t -c core.abbrev=12 range-diff --no-color base..refs/cgsig/v1 base..series \
		>"$S/range-diff-v1.txt"
fi
if [[ ${SERIES_COVER:-fill} == fill ]]; then
	/usr/bin/python3 "$ROOT/scripts/cover_letter.py" "$ROOT" "$OUT" "$cover" "$(cat "$CACHE/base/VERSION")"
else
	log "cover letter left as git format-patch wrote it (SERIES_COVER=$SERIES_COVER)"
fi
log "out/series: v$version, $(git_t rev-list --count base..series) patches on base $(git_t rev-parse --short=12 base) ($(cat "$CACHE/base/VERSION"))"
log "To: ${to[*]}"
log "Cc: ${#cc[@]} reviewers and lists (see the cover letter)"
ls "$S" | sed 's/^/  /'
if [[ -f $S/range-diff-v1.txt ]]; then
	log "range-diff against v1 (in the cover letter; out/series/range-diff-v1.txt):"
	grep -E '^[0-9-]+: ' "$S/range-diff-v1.txt" | cut -c1-110 | sed 's/^/  /' >&2
fi
[[ -n ${SIGNOFF:-} ]] || log "no Signed-off-by: pass SIGNOFF=\"Name <mail>\" to add yours"
