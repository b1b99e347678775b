#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the test VM. Writes everything to the results directory:
#   dmesg-boot.txt   the boot log (KUnit results of the Rust doc-tests)
#   <test>.tap       each kselftest's KTAP output, <test>.rc its exit status
#   <test>.first.tap a failed first attempt of a test in $RETRY_ONCE
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

dmesg >dmesg.txt
sync
echo complete >complete
sync
