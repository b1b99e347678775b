#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make stall's verdict from out/stall: the program's figures side by side
and the kernel log's splats (a task blocked for more than 10 s among them).

    stall: worst fork+exit outside X% of the mean walk (quiet: Y%), S splats
"""
import pathlib
import sys

from report import SPLAT_RES, strip_ts


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
    for k, v in kv.items():
        print(f"  {k:22} {v}")
    splats = [strip_ts(line) for line in (r / "dmesg.txt").read_text(errors="replace").splitlines()
              if any(p.search(line) for p in SPLAT_RES)]
    for line in splats[:20]:
        print(f"     | {line}")
    if rc != "0" or not kv.get("walks") or not kv.get("walks_forks"):
        print(f"stall: the program failed (exit {rc}; see stall.err)")
        return 1
    mean = kv["walk_mean_us"]
    during = 100 * kv["walks_fork_max_us"] / mean
    quiet = 100 * kv["quiet_fork_max_us"] / mean
    print(f"stall: worst fork+exit outside {during:.0f}% of the mean walk "
          f"(quiet: {quiet:.0f}%), {len(splats)} splats")
    return 1 if splats else 0


if __name__ == "__main__":
    sys.exit(main())
