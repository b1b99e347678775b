#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM for make stress: the stress program (which dumps its
# logs, procs.tsv, events.tsv, deliveries.tsv, into the results directory
# for scripts/stress_report.py to judge), then the kernel log.
R=$1 STRESS=$2
cd "$R" || exit 1
rm -f complete procs.tsv events.tsv deliveries.tsv cgroups.tsv
dmesg >dmesg-boot.txt
timeout -k 10 $((${STRESS_SECONDS:-120} + 420)) "$STRESS" "$R" >stress.log 2>&1 </dev/null
echo $? >stress.rc
dmesg >dmesg.txt
sync
echo complete >complete
sync
