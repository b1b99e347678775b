#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make stall: does a long cgroup.signal walk hold up forks and exits outside
# the written subtree? Boots the debug test kernel (hung-task detector set to
# 10 s in the guest) and runs stress/cgsig_stall: NR_VICTIMS (default 10000)
# sleepers written SIGCONT back to back (alone, then while the cgroup2
# mount's favordynmods flips), against the fork+exit and thread start+exit
# latency of a loop outside, compared with quiet phases of the same run.
# Ends with one line
#   stall: worst fork+exit outside W% of the mean walk (quiet Q%, remount R%), S splats
# and fails on a splat (a hung task among them) or if the program failed.
. "$(dirname "$0")/lib.sh"

B=$CACHE/build/stress
mkdir -p "$B"
gcc -O2 -Wall -Wextra -Wno-unused-parameter -pthread -o "$B/cgsig_stall" "$ROOT/stress/cgsig_stall.c"

R=$OUT/stall
rm -rf "$R"
mkdir -p "$R"
log "booting out/bzImage: cgsig_stall, ${NR_VICTIMS:-10000} victims (TCG)"
VM_MEMORY=${STALL_MEMORY:-6G} "$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" \
	--env NR_VICTIMS="${NR_VICTIMS:-10000}" stall "$B/cgsig_stall"
python3 "$ROOT/scripts/stall_report.py" "$R" | tee "$R/report.txt"
