#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make insn: the kernel instructions each signalled process costs, by
# function, for cgroup.signal and cgroup.kill. Boots the benchmark kernel
# twice on one vCPU (INSN_CPUS [1]) with bench/insn_plugin.c loaded into
# QEMU; each boot signals INSN_ROUNDS [3] rounds of INSN_PROCS [10000]
# processes with SIGKILL, by one method, in one cgroup (INSN_SCENARIO=flat,
# the default) or spread over the 100 cgroups of make bench's tree
# (INSN_SCENARIO=tree). INSN_CPUS=2 boots two vCPUs placed as make bench
# places them (BENCH_CPUS=split: the writer on CPU 0, the processes on CPU
# 1) and counts what CPU 0 runs: the writer's side, lock waits included.
# Instruction counts do not depend on what else the host is doing, so two
# boots compare where times need many interleaved rounds. Writes
# out/insn/{table.txt,results.json}.
. "$(dirname "$0")/lib.sh"

B=$CACHE/build/bench-driver
build_bench_driver
gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$B/insn_plugin.so" "$ROOT/bench/insn_plugin.c"

R=$OUT/insn
N=${INSN_PROCS:-10000} ROUNDS=${INSN_ROUNDS:-3} SCEN=${INSN_SCENARIO:-flat}
[[ $SCEN == flat || $SCEN == tree ]] || die "INSN_SCENARIO is flat or tree, not $SCEN"
CPUS=${INSN_CPUS:-1} plugin_opts=
case $CPUS in
1) ;;
2) plugin_opts=,vcpu=0 ;;
*) die "INSN_CPUS is 1 or 2, not $CPUS" ;;
esac
rm -rf "$R"
for m in signal kill; do
	mkdir -p "$R/$m"
	log "booting out/bzImage-bench on $CPUS vCPU(s) with the instruction counter:" \
		"$ROUNDS rounds of $N processes ($SCEN), SIGKILL by cgroup.$m"
	VM_CPUS=$CPUS VM_MEMORY=${BENCH_MEMORY:-8G} \
		VM_QEMU_OPTS="-plugin $B/insn_plugin.so,out=$R/$m/insn.txt$plugin_opts" \
		"$ROOT/scripts/vm.sh" "$OUT/bzImage-bench" "$R/$m" \
		--env BENCH_SCENARIOS="$SCEN" --env BENCH_SIZES="$N" --env BENCH_SIGNALS=9 \
		--env BENCH_METHODS="$m" --env BENCH_THREADED_SIZES= \
		--env BENCH_MISS_WORKLOADS= --env BENCH_SAMPLES="$ROUNDS" \
		--env BENCH_WARMUP=0 --env BENCH_FORK_SIZE=0 --env BENCH_CPUS=split \
		bench "$B/cgsig_bench"
	[[ $(cat "$R/$m/bench.rc" 2>/dev/null) == 0 ]] ||
		die "the cgroup.$m boot did not finish its rounds: see $R/$m/"
	[[ -s $R/$m/insn.txt ]] ||
		die "no counts from the cgroup.$m boot (did QEMU load the plugin? see $R/$m/console.log)"
done
exec python3 "$ROOT/scripts/insn_report.py" "$R" "$CACHE/build/bench/System.map" \
	"$((N * ROUNDS))" "$SCEN" "$CPUS" "$OUT/bzImage-bench.version"
