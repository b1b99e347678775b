#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make stress: the stress program, then the kernel log.
R=$1 STRESS=$2
cd "$R" || exit 1
rm -f complete
dmesg >dmesg-boot.txt
timeout -k 10 $((${STRESS_SECONDS:-120} + 300)) "$STRESS" >stress.log 2>&1 </dev/null
echo $? >stress.rc
dmesg >dmesg.txt
sync
echo complete >complete
sync
