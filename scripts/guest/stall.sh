#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make stall: the program (results on its stdout; it
# sets the hung-task detector to 10 s for its measured phases), then keeps
# the kernel log.
R=$1 STALL=$2
cd "$R" || exit 1
rm -f complete stall.txt
dmesg >dmesg-boot.txt
CGSIG_STALL_VM=1 timeout -k 10 1800 "$STALL" >stall.txt 2>stall.err </dev/null
echo $? >stall.rc
dmesg >dmesg.txt
sync
echo complete >complete
sync
