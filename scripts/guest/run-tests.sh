#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM. Writes everything to the results directory:
#   dmesg-boot.txt   the boot log (KUnit results of the Rust doc-tests)
#   <test>.tap       each kselftest's KTAP output, <test>.rc its exit status
#   <test>.first.tap a failed first attempt of a test in $RETRY_ONCE
#   kunit-rust_kernel_cgroup.txt  that KUnit suite run again (debugfs) with
#                    real cgroups to walk; kunit-walk.txt how many were dying
#   dmesg.txt        the kernel log after all tests (scanned for splats)
#   complete         written last: its absence means the guest died early
# The host (scripts/report.py) turns these into the summary.
R=$1 SELFTESTS=$2
shift 2
cd "$R" || exit 1
rm -f complete
dmesg >dmesg-boot.txt

# Every test gets its own bounded time; a hang is a failure, not a hung CI.
run() {
	(cd "$SELFTESTS" && exec timeout -k 5 "${TEST_TIMEOUT:-900}" "./$1") \
		>"$1.tap" 2>&1 </dev/null
	echo $? >"$1.rc"
}

for t in "$@"; do
	echo "guest: running $t" >/dev/console
	run "$t"
	# Upstream's timing-sensitive test_freezer can flake under TCG: it gets
	# one retry, and the first attempt is kept; the report accepts the retry
	# only if every case that failed is a named known-flaky one
	# (report.py, KNOWN_FLAKY). test_signal, test_kill and test_core never.
	if [[ $(cat "$t.rc") != 0 && " ${RETRY_ONCE:-} " == *" $t "* ]]; then
		mv "$t.tap" "$t.first.tap"
		run "$t"
	fi
done

# At boot the Rust cgroup API's KUnit suite walks a hierarchy of one. Run it
# again with nested, threaded, populated and removed cgroups in place, one of
# them dying: removed, but pinned by the css_set of a zombie that was in it
# (its parent, a sleep, never reaps it), so it stays offline on its parent's
# list while the suite walks.
kunit_walk() {
	local cg=/sys/fs/cgroup/kunit-walk d=/sys/kernel/debug/kunit/rust_kernel_cgroup
	local zfile=/run/kunit-walk.zombie pid zpid z i
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
	mkdir -p $cg/a/b/c $cg/a/dying $cg/dom/t1/t2 || return
	echo threaded >$cg/dom/t1/cgroup.type
	echo threaded >$cg/dom/t1/t2/cgroup.type
	sleep 600 &
	pid=$!
	echo $pid >$cg/a/b/cgroup.procs
	rm -f $zfile
	# The child exits once its parent is the sleep, which will not reap it.
	(sh -c "echo \$\$ >$cg/a/dying/cgroup.procs &&
		while [ \"\$(cat /proc/\$PPID/comm)\" != sleep ]; do sleep 0.01; done &&
		echo \$\$ >$zfile" &
		exec sleep 600) &
	zpid=$!
	for i in $(seq 500); do
		z=$(cat $zfile 2>/dev/null) && [[ $(awk '{print $3}' /proc/$z/stat 2>/dev/null) == Z ]] && break
		sleep 0.01
	done
	rmdir $cg/a/dying
	for i in 1 2 3 4 5 6 7 8; do mkdir $cg/a/gone$i && rmdir $cg/a/gone$i; done
	echo "before the run: $(grep nr_dying_descendants $cg/cgroup.stat)" >kunit-walk.txt
	echo run >$d/run
	cat $d/results >kunit-rust_kernel_cgroup.txt
	kill $pid $zpid
	wait $pid $zpid 2>/dev/null
	rmdir $cg/dom/t1/t2 $cg/dom/t1 $cg/dom $cg/a/b/c $cg/a/b $cg/a $cg
}
echo "guest: rust_kernel_cgroup again, with cgroups to walk" >/dev/console
kunit_walk

dmesg >dmesg.txt
sync
echo complete >complete
sync
