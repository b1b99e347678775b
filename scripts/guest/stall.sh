#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make stall: arms the hung-task detector at 10 s,
# runs the program (results on its stdout), then keeps the kernel log.
R=$1 STALL=$2
cd "$R" || exit 1
rm -f complete stall.txt
echo 10 >/proc/sys/kernel/hung_task_timeout_secs
dmesg >dmesg-boot.txt
CGSIG_STALL_VM=1 timeout -k 10 1800 "$STALL" >stall.txt 2>stall.err </dev/null
echo $? >stall.rc
dmesg >dmesg.txt
sync
echo complete >complete
sync
