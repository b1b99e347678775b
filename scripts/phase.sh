#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# One step of the make graph, timed: phase.sh NAME COMMAND [ARGS...] runs
# COMMAND and records its seconds in out/timings/NAME (make test prints
# them). setup, the first step of every chain, starts a fresh record.
. "$(dirname "$0")/lib.sh"
name=$1
shift
[[ $name == setup ]] && rm -rf "$TIMINGS"
mkdir -p "$TIMINGS"
t0=$(now)
"$@"
echo "$(($(now) - t0))" >"$TIMINGS/$name"
