#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the cgroup kselftests that `make test` runs, from the assembled tree,
# against the test kernel's UAPI headers. Output: $CACHE/build/selftests.
. "$(dirname "$0")/lib.sh"

# The project's own tests first, then upstream's regression guards.
SELFTESTS=(test_signal test_core test_kill test_freezer)

S=$CACHE/build/selftests
mkdir -p "$S"
kmake test headers
targets=()
for t in "${SELFTESTS[@]}"; do targets+=("$S/$t"); done
make -s -C "$TREE/tools/testing/selftests/cgroup" OUTPUT="$S" \
	KHDR_INCLUDES="-isystem $CACHE/build/test/usr/include" "${targets[@]}"
printf '%s\n' "${SELFTESTS[@]}" >"$S/list"
