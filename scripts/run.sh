#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run (after make's set-up and build steps): boot the test kernel and
# show cgroup.signal, through cgkill, in three acts (job "demo" of
# scripts/guest/job.sh).
. "$(dirname "$0")/lib.sh"
R=$OUT/run
rm -rf "$R"
mkdir -p "$R"
log "booting out/bzImage ($(tail -1 "$OUT/bzImage.version")) under TCG"
"$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" \
	--env "USERSPACE_BIN=$CACHE/build/userspace/release" demo
if [[ ! -f $R/demo.log ]]; then
	tail -20 "$R/console.log" >&2
	die "the VM did not run the demo (console log: $R/console.log)"
fi
cat "$R/demo.log"
exit "$(cat "$R/status" 2>/dev/null || echo 1)"
