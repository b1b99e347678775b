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
# them dying: removed, but its memory cgroup still holds page cache charged
# to it (a file on a private tmpfs), so it stays offline on its parent's list.
kunit_walk() {
	local cg=/sys/fs/cgroup/kunit-walk d=/sys/kernel/debug/kunit/rust_kernel_cgroup
	local shm=/run/kunit-walk pid i
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
	mkdir -p $cg $shm && mount -t tmpfs tmpfs $shm || return
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
	echo +memory >$cg/cgroup.subtree_control
	mkdir -p $cg/a/b/c $cg/dom/t1/t2 $cg/a/dying
	echo threaded >$cg/dom/t1/cgroup.type
	echo threaded >$cg/dom/t1/t2/cgroup.type
	echo +memory >$cg/a/cgroup.subtree_control
	sh -c "echo \$\$ >$cg/a/dying/cgroup.procs && head -c 4194304 /dev/zero >$shm/charged"
	rmdir $cg/a/dying
	sleep 600 &
	pid=$!
	echo $pid >$cg/a/b/cgroup.procs
	for i in 1 2 3 4 5 6 7 8; do mkdir $cg/a/gone$i && rmdir $cg/a/gone$i; done
	echo "before the run: $(grep nr_dying_descendants $cg/cgroup.stat)" >kunit-walk.txt
	echo run >$d/run
	cat $d/results >kunit-rust_kernel_cgroup.txt
	kill $pid
	wait $pid 2>/dev/null
	umount $shm
	rmdir $cg/dom/t1/t2 $cg/dom/t1 $cg/dom $cg/a/b/c $cg/a/b $cg/a $cg
	echo -memory >/sys/fs/cgroup/cgroup.subtree_control
}
echo "guest: rust_kernel_cgroup again, with cgroups to walk" >/dev/console
kunit_walk

dmesg >dmesg.txt
sync
echo complete >complete
sync
