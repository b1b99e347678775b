#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make bench: every point of the benchmark, one
# cgsig_bench run each, appending its JSON lines to points.jsonl; then the
# kernel log. The methods of one point are interleaved by cgsig_bench itself.
#   bench.sh RESULTS DRIVER
# Environment: BENCH_SCENARIOS, BENCH_SIGNALS, BENCH_METHODS, BENCH_SIZES,
# BENCH_THREADED_SIZES, BENCH_SAMPLES, BENCH_WARMUP, BENCH_FORK_SIZE (see
# scripts/bench.sh).
R=$1 DRIVER=$2
cd "$R" || exit 1
rm -f complete points.jsonl bench.log
dmesg >dmesg-boot.txt
uname -r >uname.txt
# Room for the largest points: 10,000 processes, or 1,000 of 16 threads.
sysctl -q -w kernel.pid_max=4194304 kernel.threads-max=200000
ulimit -u unlimited
ulimit -n 65536

S=${BENCH_SAMPLES:-15} W=${BENCH_WARMUP:-1}
rc=0
# point SCENARIO SIGNAL NPROCS THREADS FORK: the chosen methods that can send
# SIGNAL (cgroup.kill only SIGKILL), interleaved by the driver.
point() {
	local methods=() m
	for m in ${BENCH_METHODS:-signal kill loop freeze}; do
		[[ $m == kill && $2 != 9 ]] || methods+=("$m")
	done
	((${#methods[@]})) || return 0
	set -- "$@" "${methods[@]}"
	echo "guest: bench $*" >/dev/console
	echo "== $*" >>bench.log
	if ! "$DRIVER" "$1" "$2" "$3" "$4" "$S" "$W" "$5" "${@:6}" \
		>>points.jsonl 2>>bench.log </dev/null; then
		echo "FAILED: $*" >>bench.log
		rc=1
	fi
}

for scenario in ${BENCH_SCENARIOS:-flat tree}; do
	for n in ${BENCH_SIZES:-100 1000 10000}; do
		for sig in ${BENCH_SIGNALS:-9 15}; do
			# fork_us is sampled during SIGKILL only, where it has a reference.
			fork=0
			[[ $n == "${BENCH_FORK_SIZE:-10000}" && $sig == 9 ]] && fork=1
			point "$scenario" "$sig" "$n" 1 "$fork"
		done
	done
done
# Empty (BENCH_THREADED_SIZES=) runs no threaded point.
for n in ${BENCH_THREADED_SIZES-100}; do
	for sig in ${BENCH_SIGNALS:-9 15}; do
		point flat "$sig" "$n" 16 0
	done
done

echo $rc >bench.rc
dmesg >dmesg.txt
sync
echo complete >complete
sync
