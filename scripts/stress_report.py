#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a make stress run: the guest's counters plus the kernel log.

Prints the stress program's errors, any splat lines, and one closing line

    stress: W writes, P processes, E escapees, X wrongly signalled, S splats

Exits 1 unless escapees, wrongly signalled and splats are 0, the stress
program reported no error and exited 0, and the guest ran to completion.
"""

import pathlib
import re
import sys

from report import SPLAT_RES, strip_ts


def main():
    r = pathlib.Path(sys.argv[1])
    ok = True
    if not (r / "complete").exists():
        print(f"FAIL: the guest did not finish; see {r / 'console.log'}")
        ok = False
    log = (r / "stress.log").read_text(errors="replace") if (r / "stress.log").exists() else ""
    for line in log.splitlines():
        if line.startswith("stress: ") and re.search(r"error|canaries hit|could not", line):
            print(line)
    counters = {}
    m = None
    for m in re.finditer(r"^counters: (.*)$", log, re.M):
        pass
    if m:
        counters = dict(kv.split("=") for kv in m.group(1).split())
    else:
        print("FAIL: the stress program printed no counters")
        ok = False
    rc = (r / "stress.rc").read_text().strip() if (r / "stress.rc").exists() else "missing"
    if rc != "0":
        print(f"FAIL: the stress program exited with status {rc}")
        ok = False
    dmesg = r / "dmesg.txt"
    splats = [strip_ts(line) for line in dmesg.read_text(errors="replace").splitlines()
              if any(p.search(line) for p in SPLAT_RES)] if dmesg.exists() else ["no dmesg"]
    for line in splats[:20]:
        print(f"     | {line}")
    escapees = int(counters.get("escapees", -1))
    wrong = int(counters.get("wrong", -1))
    errors = int(counters.get("errors", -1))
    if errors:
        print(f"FAIL: {errors} unexpected errors from the stress workers")
    ok = ok and escapees == 0 and wrong == 0 and errors == 0 and not splats
    print(f"stress: {counters.get('writes', '?')} writes, {counters.get('procs', '?')} processes, "
          f"{escapees} escapees, {wrong} wrongly signalled, {len(splats)} splats")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
