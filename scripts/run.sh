#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: set-up, build, boot the test kernel and show cgroup.signal
# ending a live process tree (scripts/guest/demo.sh).
. "$(dirname "$0")/lib.sh"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/fetch-base.sh"
"$ROOT/scripts/assemble.sh"
"$ROOT/scripts/build.sh" test
R=$OUT/run
rm -rf "$R"
mkdir -p "$R"
log "booting out/bzImage ($(tail -1 "$OUT/bzImage.version")) under TCG"
"$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" "$ROOT/scripts/guest/demo.sh" "$R"
if [[ ! -f $R/demo.log ]]; then
	tail -20 "$R/console.log" >&2
	die "the VM did not run the demo (console log: $R/console.log)"
fi
cat "$R/demo.log"
exit "$(cat "$R/status" 2>/dev/null || echo 1)"
