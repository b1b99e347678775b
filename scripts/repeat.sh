#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make repeat: run chosen test_signal cases N times in a row in one boot of
# the debug kernel, to show that racy cases (forks racing the write) do not flake.
#   make repeat CASES="forkbomb_stopped_by_one_sigstop ..." N=20
# Ends like make test: one line "N passed, N failed" over every run of every
# case, plus the dmesg check.
. "$(dirname "$0")/lib.sh"

N=${N:-20}
# The cases whose forks race with the write: forkbombs, double delivery under
# fork (two layouts), children of a parent that blocks the signal.
CASES=${CASES:-forkbomb_gone_after_one_write forkbomb_stopped_by_one_sigstop forkbomb_gone_after_one_sigterm finding3_double_delivery_under_fork finding3_no_double_delivery_under_fork_plain forked_while_parent_blocks_signal_gets_it_once}
[[ $N =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number, not '$N'"

R=$OUT/repeat
rm -rf "$R"
mkdir -p "$R"
args=()
for c in $CASES; do
	args+=(-t "$c")
done
log "booting out/bzImage: test_signal ${args[*]}, $N times"
# The boot is bounded, by 150 s a run (the default cases take 60 to 100 s).
env_args=()
[[ -v TEST_TIMEOUT ]] && env_args+=(--env "TEST_TIMEOUT=$TEST_TIMEOUT")
VM_TIMEOUT=${VM_TIMEOUT:-$((600 + 150 * N))} "$ROOT/scripts/vm.sh" "$OUT/bzImage" "$R" \
	"${env_args[@]}" repeat "$CACHE/build/selftests" "$N" "${args[@]}"
runs=()
for ((i = 1; i <= N; i++)); do
	runs+=("test_signal.$i")
done
python3 "$ROOT/scripts/report.py" "$R" --kselftest "${runs[@]}" | tee "$R/report.txt"
