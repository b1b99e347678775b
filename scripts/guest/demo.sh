#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The `make run` demo, inside the VM: build a small cgroup tree with live
# processes, write 9 to the top cgroup's cgroup.signal and show that the
# whole tree died in that one write. Narration goes to stdout (the host prints
# it); the exit status goes to $R/status because vng's own is unreliable.
R=$1
exec >"$R/demo.log" 2>&1
status() { echo "$1" >"$R/status"; sync; exit "$1"; }
say() { printf '\n%s\n' "$*"; }

CG=/sys/fs/cgroup
JOB=$CG/demo-job
say "Kernel: $(uname -r). cgroup v2 is mounted at $CG."

rmdir "$JOB"/web "$JOB"/worker/batch "$JOB"/worker "$JOB" 2>/dev/null
mkdir -p "$JOB"/web "$JOB"/worker/batch || status 1

# start CGROUP N: N sleeping processes placed in CGROUP before they exec.
pids=()
start() {
	local cg=$1 n=$2 i
	for ((i = 0; i < n; i++)); do
		sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 1000' sh "$cg" &
		pids+=($!)
	done
}
start "$JOB"/web 3
start "$JOB"/worker 2
start "$JOB"/worker/batch 4
sleep 1

say "A job with three cgroups and ${#pids[@]} live processes:"
for d in "$JOB" "$JOB"/web "$JOB"/worker "$JOB"/worker/batch; do
	printf '  %-28s processes: %-12s %s\n' "${d#$CG/}" \
		"$(tr '\n' ' ' <"$d/cgroup.procs")" "$(grep populated "$d/cgroup.events")"
done

if [[ ! -e $JOB/cgroup.signal ]]; then
	say "This kernel has no cgroup.signal file yet: $JOB/cgroup.signal is missing."
	say "(The series that adds it is not in this build. Nothing was signalled.)"
	kill -9 "${pids[@]}" 2>/dev/null
	{ wait; } 2>/dev/null
	status 1
fi

say "One write kills them all, however deep:  echo 9 > ${JOB#$CG/}/cgroup.signal"
# bash would announce every killed job ("Killed ..."); the table below says it.
exec 3>&2 2>/dev/null
echo 9 >"$JOB/cgroup.signal" || { exec 2>&3; say "the write failed"; status 1; }

for ((i = 0; i < 100; i++)); do
	grep -q 'populated 0' "$JOB/cgroup.events" && break
	sleep 0.1
done
{ wait; } 2>/dev/null
exec 2>&3 3>&-
alive=0
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done

say "After the write:"
for d in "$JOB" "$JOB"/web "$JOB"/worker "$JOB"/worker/batch; do
	printf '  %-28s processes: %-12s %s\n' "${d#$CG/}" \
		"$(tr '\n' ' ' <"$d/cgroup.procs")" "$(grep populated "$d/cgroup.events")"
done
say "$alive of ${#pids[@]} processes still alive."
rmdir "$JOB"/web "$JOB"/worker/batch "$JOB"/worker "$JOB"
if [[ $alive == 0 ]] && ! [[ -e $JOB ]]; then
	say "The whole tree is gone and its cgroups removed: one write, no freezer, no pid loop."
	status 0
fi
status 1
