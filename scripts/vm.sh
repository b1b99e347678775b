#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot a kernel image under virtme-ng and run one job of the guest's entry
# point, scripts/guest/job.sh, there:
#   scripts/vm.sh IMAGE RESULTS_DIR [--env NAME=VALUE]... JOB [ARGS...]
#   scripts/vm.sh IMAGE RESULTS_DIR --interactive
# Every word reaches the guest as it was given (each in single quotes for
# the guest's /bin/sh), so values may hold spaces and quotes. The guest shares the host's root
# read-only (9p) and gets RESULTS_DIR read-write: the job writes its
# results and exit status there,
# because vng's own exit status and stdout are not reliable under TCG
# (console fallback: "cannot find script I/O ports"). The console log is
# kept in RESULTS_DIR/console.log.
#
# TCG is the default: KVM on these machines hangs at "Decompressing Linux".
# CGROUP_SIGNAL_KVM=1 opts in to KVM where it works.
. "$(dirname "$0")/lib.sh"

image=$1 results=$2
shift 2
interactive=0 envs=()
if [[ ${1:-} == --interactive ]]; then
	interactive=1
	shift
fi
while [[ ${1:-} == --env ]]; do
	[[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "vm.sh: --env wants NAME=VALUE, not '${2:-}'"
	envs+=("$2")
	shift 2
done
((interactive)) || (($#)) || die "vm.sh: no job given"
[[ -f $image ]] || die "$image missing: build it first (make build)"
mkdir -p "$results"
export PATH=$VENV/bin:$PATH

args=(--run "$image" --disable-microvm --cpus "${VM_CPUS:-2}" --memory "${VM_MEMORY:-2G}"
	--verbose --rwdir="$results" --name cgroup-signal)
[[ ${CGROUP_SIGNAL_KVM:-0} == 1 ]] || args+=(--disable-kvm)
# QEMU's TCG "-cpu max" offers LA57; with 5-level paging this base kernel
# sometimes takes an interrupt during identify_cpu() whose rcu_is_watching()
# KASAN reports as a wild access (before init, unrelated to this series),
# and the taint turns lockdep off for the rest of the boot. 4-level paging
# avoids it and costs nothing here.
args+=(--append no5lvl)
# Extra QEMU options (make insn loads its plugin so); one word for vng, whose
# option parser would take a leading "-p..." for an option of its own.
[[ -z ${VM_QEMU_OPTS:-} ]] || args+=("--qemu-opts=$VM_QEMU_OPTS")

if ((interactive)); then
	exec vng "${args[@]}"
fi
# The whole boot is bounded: a hung guest must not hang CI.
# virtme-ng runs the command with /bin/sh (dash here): quote each word in
# single quotes, the POSIX way, not with bash's printf %q.
quote() {
	local w q="'\\''"
	for w; do printf "'%s' " "${w//\'/$q}"; done
}
job=$(quote env "${envs[@]}" "$ROOT/scripts/guest/job.sh" "$1" "$results" "${@:2}")
timeout --foreground -k 10 "${VM_TIMEOUT:-2400}" vng "${args[@]}" --exec "$job" \
	</dev/null >"$results/console.log" 2>&1 || true
