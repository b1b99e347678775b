#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make repeat: test_signal with the given -t options,
# N times; run i writes test_signal.i.tap and test_signal.i.rc.
R=$1 SELFTESTS=$2 N=$3
shift 3
cd "$R" || exit 1
rm -f complete
for ((i = 1; i <= N; i++)); do
	echo "guest: run $i of $N" >/dev/console
	(cd "$SELFTESTS" && exec timeout -k 5 "${TEST_TIMEOUT:-900}" ./test_signal "$@") \
		>"test_signal.$i.tap" 2>&1 </dev/null
	echo $? >"test_signal.$i.rc"
done
dmesg >dmesg.txt
sync
echo complete >complete
sync
