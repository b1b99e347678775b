#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make stall's verdict from out/stall: the program's figures per phase, side
by side, and the kernel log's splats (a task blocked for more than 10 s among
them).

    stall: worst fork+exit outside W% of the mean walk (quiet Q%, remount R%), S splats

The percentages are for reading, not judged: on a loaded 2-CPU TCG guest a
single worst case is mostly noise. If forks outside waited for the walk,
the walks phase's worst fork+exit would be 100% or more.
"""
import pathlib
import sys

from report import splats as dmesg_splats

PHASES = ("quiet", "walks", "remount")


def main():
    r = pathlib.Path(sys.argv[1])
    if not (r / "complete").exists():
        print("stall: the guest did not finish (see console.log)")
        return 1
    rc = (r / "stall.rc").read_text().strip()
    kv = {}
    for line in (r / "stall.txt").read_text().splitlines():
        k, _, v = line.partition(" ")
        kv[k] = int(v)
    for k in ("victims", "walks", "walk_mean_us", "walk_max_us", "remounts", "remount_max_us"):
        print(f"  {k:16} {kv.get(k, '-')}")
    print(f"  {'phase':8} {'what':7} {'samples':>8} {'p50 us':>8} {'p99 us':>8} {'max us':>8}")
    for p in PHASES:
        for what in ("fork", "thread"):
            g = [kv.get(f"{p}_{what}_{x}", "-") for x in ("samples", "p50_us", "p99_us", "max_us")]
            print(f"  {p:8} {what:7} {g[0]:>8} {g[1]:>8} {g[2]:>8} {g[3]:>8}")
    splats = dmesg_splats(r)
    need = ["walks", "walk_mean_us"] + [f"{p}_fork_max_us" for p in PHASES]
    if rc != "0" or any(not kv.get(k) for k in need):
        print(f"stall: the program failed (exit {rc}; see stall.err), {len(splats)} splats")
        return 1
    pct = {p: 100 * kv[f"{p}_fork_max_us"] / kv["walk_mean_us"] for p in PHASES}
    print(f"stall: worst fork+exit outside {pct['walks']:.0f}% of the mean walk "
          f"(quiet {pct['quiet']:.0f}%, remount {pct['remount']:.0f}%), {len(splats)} splats")
    return 1 if splats else 0


if __name__ == "__main__":
    sys.exit(main())
