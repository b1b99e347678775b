#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make writeback: after editing the series as commits in the assembled tree
# (git commit --fixup=<commit>, then git rebase -i --autosquash base), write
# every commit back into the repo: series/NN-*/ and the new kernel files,
# whole. Refuses when the repo changed too, or when a commit breaks the
# series' rules (scripts/series.py); writes nothing then.
. "$(dirname "$0")/lib.sh"
ROOT=$ROOT TREE=$TREE /usr/bin/python3 "$ROOT/scripts/series.py" writeback "$@"
