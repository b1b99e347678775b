#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make stress: boot the debug test kernel (lockdep, KASAN, DEBUG_ATOMIC_SLEEP,
# DEBUG_LIST, hung-task and soft-lockup detectors) and run stress/cgsig_stress
# for STRESS_SECONDS (default 120); scripts/stress_report.py judges every
# (write, process) pair from the program's logs. Ends with one line
#   stress: W writes, P processes, E escapes, D doubles, X wrongly signalled, S splats
# and fails unless the last four are 0 (and the stress reported no error).
. "$(dirname "$0")/lib.sh"

STRESS_SECONDS=${STRESS_SECONDS:-120}
[[ $STRESS_SECONDS =~ ^[1-9][0-9]*$ ]] || die "STRESS_SECONDS must be a positive number"

B=$CACHE/build/stress
mkdir -p "$B"
gcc -O2 -Wall -Wextra -Wno-unused-parameter -pthread -o "$B/cgsig_stress" \
	"$ROOT/stress/cgsig_stress.c"

R=$OUT/stress
rm -rf "$R"
mkdir -p "$R"
log "booting out/bzImage: ${STRESS_SECONDS}s of stress (TCG)"
t0=$(now)
"$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" \
	--env STRESS_SECONDS="$STRESS_SECONDS" stress "$B/cgsig_stress"
log "boot and stress took $(($(now) - t0))s; guest output in out/stress/"
python3 "$ROOT/scripts/stress_report.py" "$R" | tee "$R/report.txt"
