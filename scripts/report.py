#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the test VM's results directory into one verdict.

Counts every kselftest case (KTAP "ok"/"not ok" lines), every KUnit case of
the required suites (from the boot log), and one dmesg check that fails on
any kernel WARNING, BUG, Oops, lockdep, KASAN, hung-task or soft-lockup
report. Prints the failures, then exactly one closing line:

    N passed, N failed, N skipped

and exits 1 if anything failed or the guest did not finish.
"""

import argparse
import pathlib
import re
import sys

# A top-level TAP result: "ok 3 name", "ok 12 # SKIP name" (kselftest.h puts
# the directive before the name), "ok 4 name # SKIP why", "not ok 5 name".
TAP_RE = re.compile(r"^(not ok|ok) (\d+)(?: (.*))?$")
DIRECTIVE_RE = re.compile(r"(?:^|\s)#\s*(SKIP|XFAIL|XPASS|TODO)\b\s*(.*)$", re.I)
PLAN_RE = re.compile(r"^1\.\.(\d+)")

# Upstream cases that may fail once under TCG for reasons of timing, not of
# this series: their test gets one retry inside the boot, and the retry counts
# only if every case that failed the first time is named here. test_signal,
# test_kill and test_core are never retried: their fork paths are ours.
KNOWN_FLAKY = {
    "test_freezer": {
        "test_cgfreezer_ptrace", "test_cgfreezer_time_empty", "test_cgfreezer_time_simple",
        "test_cgfreezer_time_populate", "test_cgfreezer_time_migrate",
        "test_cgfreezer_time_parent", "test_cgfreezer_time_child",
        "test_cgfreezer_time_nested",
    },
}


def parse_tap(text):
    """(plan or None, [(ok, number, name, directive, reason)]) of top-level lines."""
    plan, cases = None, []
    for line in text.splitlines():
        m = PLAN_RE.match(line)
        if m and plan is None:
            plan = int(m.group(1))
            continue
        m = TAP_RE.match(line)
        if not m:
            continue
        status, num, rest = m.group(1), int(m.group(2)), (m.group(3) or "")
        d = DIRECTIVE_RE.search(rest)
        directive, reason = (d.group(1).upper(), d.group(2).strip()) if d else (None, "")
        name = (rest[:d.start()] if d else rest).strip()
        if not name:
            # kselftest.h: "ok 12 # SKIP name": the text after the directive is the name.
            name, reason = reason or f"case {num}", ""
        cases.append((status == "ok", num, name, directive, reason))
    return plan, cases


TS_RE = re.compile(r"^\[\s*\d+\.\d+\]\s?")

# Any of these in dmesg is a failure. Lockdep and KASAN reports start with
# "WARNING:" / "BUG:", hung tasks with "INFO: task", RCU stalls with
# "rcu: INFO:"; the rest catch what has no such header.
SPLAT_RES = [re.compile(p) for p in (
    r"\bWARNING:",
    r"\bBUG:",
    r"\bOops\b",
    r"\bKernel panic\b",
    r"\bkernel BUG at\b",
    r"\bgeneral protection fault\b",
    r"INFO: task .* blocked for more than",
    r"\bINFO: rcu",
    r"rcu: INFO:",
    r"\bsoft lockup\b",
    r"\bhard LOCKUP\b",
    r"\bpossible (recursive|circular|irq) lock",
    r"\bUBSAN:",
    r"cut here \]",
)]


class Tally:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.failures = []

    def add(self, name, result, detail=""):
        if result == "pass":
            self.passed += 1
        elif result in ("skip", "xfail"):
            self.skipped += 1
            print(f"{result.upper()} {name}{': ' + detail if detail else ''}")
        else:
            self.failed += 1
            self.failures.append(name)
            print(f"FAIL {name}{': ' + detail if detail else ''}")


def strip_ts(line):
    return TS_RE.sub("", line.rstrip("\n"))


def splats(results):
    """The lines of results/dmesg.txt that report a kernel problem (timestamps
    stripped), the first 20 printed; ["no dmesg"] if the guest left no log."""
    log = results / "dmesg.txt"
    if not log.exists():
        return ["no dmesg"]
    hits = [strip_ts(l) for l in log.read_text(errors="replace").splitlines()
            if any(r.search(l) for r in SPLAT_RES)]
    for h in hits[:20]:
        print(f"     | {h}")
    return hits


def kselftest(tally, results, name):
    tap = results / f"{name}.tap"
    rc_file = results / f"{name}.rc"
    if not tap.exists() or not rc_file.exists():
        tally.add(f"kselftest/{name}", "fail", "did not run")
        return
    rc = int(rc_file.read_text().strip() or "255")
    first = results / f"{name}.first.tap"
    if first.exists():
        _, fcases = parse_tap(first.read_text(errors="replace"))
        flaked = [c[2] for c in fcases if not c[0]]
        unknown = [f for f in flaked if f not in KNOWN_FLAKY.get(name, set())]
        if unknown or not flaked:
            tally.add(f"kselftest/{name}: first attempt", "fail",
                      f"failed {', '.join(unknown) or 'without a case result'}, which is not a "
                      "known-flaky case: the retry does not count")
        else:
            print(f"RETRY kselftest/{name}: first attempt failed {', '.join(flaked)} "
                  "(known flaky under TCG); retried once, the retry counts")
    plan, cases = parse_tap(tap.read_text(errors="replace"))
    failed = 0
    for ok, _, case, directive, reason in cases:
        full = f"kselftest/{name}: {case}"
        if directive == "SKIP" or directive == "TODO":
            tally.add(full, "skip", reason)
        elif directive == "XFAIL":
            tally.add(full, "xfail", reason)
        elif directive == "XPASS":
            failed += 1
            tally.add(full, "fail", f"expected to fail, passed: {reason}")
        elif ok:
            tally.add(full, "pass")
        else:
            failed += 1
            tally.add(full, "fail")
    if not cases:
        tally.add(f"kselftest/{name}", "fail", f"no results (exit {rc})")
        return
    if plan is None:
        tally.add(f"kselftest/{name}", "fail", "no 1..N plan line")
    elif plan != len(cases):
        tally.add(f"kselftest/{name}", "fail",
                  f"plan 1..{plan}, {len(cases)} results: output cut short (exit {rc})")
    if all(c[3] in ("SKIP", "TODO", "XFAIL") for c in cases):
        tally.add(f"kselftest/{name}", "fail", "every case was skipped")
    if rc not in (0, 4) and failed == 0:
        # 4 = KSFT_SKIP. A crash or timeout after the last case is a failure.
        tally.add(f"kselftest/{name}", "fail", f"exit status {rc} (124 = timeout)")


def kunit(tally, results, required, log_name="dmesg-boot.txt", tag=""):
    log = results / log_name
    lines = [strip_ts(l) for l in log.read_text(errors="replace").splitlines()] if log.exists() else []
    seen = {}
    suite = None
    for line in lines:
        m = re.match(r"^    # Subtest: (\S+)", line)
        if m:
            suite = m.group(1)
            seen.setdefault(suite, {"cases": 0, "skipped": 0, "plan": None, "result": None})
            continue
        m = re.match(r"^    1\.\.(\d+)", line)
        if m and suite:
            seen[suite]["plan"] = int(m.group(1))
            continue
        m = re.match(r"^    (not ok|ok) \d+ (\S+)(.*)$", line)
        if m and suite:
            status, case, rest = m.groups()
            seen[suite]["cases"] += 1
            if "# SKIP" in rest:
                seen[suite]["skipped"] += 1
                tally.add(f"kunit/{suite}{tag}: {case}", "skip", rest.split("#", 1)[1].strip())
            else:
                tally.add(f"kunit/{suite}{tag}: {case}", "pass" if status == "ok" else "fail")
            continue
        m = re.match(r"^(not ok|ok) \d+ (\S+)", line)
        if m and m.group(2) in seen:
            seen[m.group(2)]["result"] = m.group(1)
            suite = None
    for name in required:
        info = seen.get(name)
        if info is None:
            tally.add(f"kunit/{name}{tag}", "fail", f"suite missing from {log_name}")
        elif info["result"] is None:
            tally.add(f"kunit/{name}{tag}", "fail", "suite did not finish")
        elif info["cases"] == 0:
            tally.add(f"kunit/{name}{tag}", "fail", "suite ran no case")
        elif info["skipped"] == info["cases"]:
            tally.add(f"kunit/{name}{tag}", "fail", "every case was skipped")
        elif info["plan"] is not None and info["plan"] != info["cases"]:
            tally.add(f"kunit/{name}{tag}", "fail",
                      f"plan 1..{info['plan']}, {info['cases']} results")
        elif info["result"] != "ok" and not any(f.startswith(f"kunit/{name}{tag}:") for f in tally.failures):
            tally.add(f"kunit/{name}{tag}", "fail", "suite reported not ok")


def dmesg_scan(tally, results):
    if not (results / "dmesg.txt").exists():
        tally.add("dmesg: no kernel warnings", "fail", "no dmesg captured")
        return
    hits = splats(results)
    if hits:
        tally.add("dmesg: no kernel warnings", "fail", f"{len(hits)} report lines, first: {hits[0]}")
    else:
        tally.add("dmesg: no kernel warnings", "pass")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=pathlib.Path)
    ap.add_argument("--kselftest", nargs="*", default=[])
    ap.add_argument("--kunit", nargs="*", default=[])
    ap.add_argument("--kunit-rerun", nargs="*", default=[],
                    help="suites run again in the guest, results in kunit-NAME.txt")
    args = ap.parse_args()

    tally = Tally()
    complete = (args.results / "complete").exists()
    if not complete:
        tally.add("vm: guest ran to completion", "fail",
                  f"no 'complete' marker; see {args.results / 'console.log'}")
        console = args.results / "console.log"
        if console.exists():
            for line in console.read_text(errors="replace").splitlines()[-15:]:
                print(f"     | {line}")
    for name in args.kselftest:
        kselftest(tally, args.results, name)
    if args.kunit:
        kunit(tally, args.results, args.kunit)
    for name in args.kunit_rerun:
        kunit(tally, args.results, [name], f"kunit-{name}.txt", " (rerun)")
    walk = args.results / "kunit-walk.txt"
    if args.kunit_rerun and walk.exists():
        # The rerun is there to walk past a dying cgroup: its set-up must have made one.
        m = re.search(r"nr_dying_descendants (\d+)", walk.read_text())
        dying = int(m.group(1)) if m else 0
        tally.add("kunit rerun: a dying cgroup was in place", "pass" if dying else "fail",
                  "" if dying else walk.read_text().strip())
    dmesg_scan(tally, args.results)

    line = f"{tally.passed} passed, {tally.failed} failed"
    if tally.skipped:
        line += f", {tally.skipped} skipped"
    print(line)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
