#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: build the benchmark kernel (configs/base.config only: no
# lockdep, no KASAN; its own build directory) and bench/cgsig_bench, boot
# the kernel once with BENCH_MEMORY (8G) and run every point there, then
# write out/bench/results.json, out/bench/table.txt and out/bench/bench.png.
#
# Knobs (defaults in brackets): BENCH_SIZES [100 1000 10000],
# BENCH_THREADED_SIZES [100] (processes of 16 threads; 1000 adds about
# 40 minutes; empty runs none), BENCH_SCENARIOS [flat tree],
# BENCH_SIGNALS [9 15], BENCH_METHODS [signal kill loop freeze],
# BENCH_SAMPLES [15], BENCH_LARGE_SAMPLES [30, or BENCH_SAMPLES if set: the
# rounds of points of 10,000 processes or more], BENCH_WARMUP [1],
# BENCH_FORK_SIZE [10000] (the size at which fork_us is sampled, during
# SIGKILL), BENCH_MEMORY [8G], BENCH_CPUS [split: the method's thread on
# CPU 0, the signalled processes and the fork sampler on CPU 1; shared: the
# scheduler places everyone] (see bench/cgsig_bench.c).
# Missed processes under fork load: BENCH_MISS_WORKLOADS [forkbomb service
# threaded] (empty runs none), BENCH_MISS_SIGNALS [9 15 19], BENCH_MISS_METHODS
# [signal kill freeze loop1 loop], BENCH_MISS_PIDS [300] (the workload's
# pids.max), BENCH_MISS_SAMPLES [5].
# To look again at one point, e.g.:
#   BENCH_SCENARIOS=tree BENCH_SIZES=10000 BENCH_SIGNALS=9
#   BENCH_METHODS="signal kill" BENCH_THREADED_SIZES= BENCH_SAMPLES=30
. "$(dirname "$0")/lib.sh"

B=$CACHE/build/bench-driver
build_bench_driver

R=$OUT/bench
rm -rf "$R"
mkdir -p "$R"
env_args=()
for v in BENCH_SCENARIOS BENCH_SIGNALS BENCH_METHODS BENCH_SIZES BENCH_SAMPLES \
	BENCH_LARGE_SAMPLES BENCH_WARMUP BENCH_FORK_SIZE BENCH_MISS_SIGNALS BENCH_MISS_METHODS \
	BENCH_MISS_PIDS BENCH_MISS_SAMPLES BENCH_CPUS; do
	[[ -n ${!v:-} ]] && env_args+=(--env "$v=${!v}")
done
# Set but empty means no threaded point.
[[ -v BENCH_THREADED_SIZES ]] && env_args+=(--env "BENCH_THREADED_SIZES=$BENCH_THREADED_SIZES")
[[ -v BENCH_MISS_WORKLOADS ]] && env_args+=(--env "BENCH_MISS_WORKLOADS=$BENCH_MISS_WORKLOADS")
log "booting out/bzImage-bench: the chosen points, ${BENCH_SAMPLES:-15} rounds each," \
	"${BENCH_LARGE_SAMPLES:-${BENCH_SAMPLES:-30}} from 10,000 processes on (TCG; long)"
t0=$(now)
VM_MEMORY=${BENCH_MEMORY:-8G} VM_TIMEOUT=${BENCH_TIMEOUT:-14400} \
	"$ROOT/scripts/vm.sh" "$OUT/bzImage-bench" "$R" \
	"${env_args[@]}" bench "$B/cgsig_bench"
log "boot and benchmark took $(($(now) - t0))s; guest output in out/bench/"
# Debian's python3, which has matplotlib (setup.sh installs it).
exec /usr/bin/python3 "$ROOT/scripts/bench_report.py" "$R" "$OUT/bzImage-bench.version"
