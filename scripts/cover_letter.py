#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Fill the cover letter that git format-patch wrote with series/cover-letter.txt.

    cover_letter.py ROOT OUT COVER_LETTER_PATCH BASE_VERSION

The measurements are regenerated from the latest runs, never typed:
OUT/test/report.txt (make test), OUT/repeat/report.txt and
OUT/stress/report.txt when present, and OUT/bench/results.json (make bench).
A run that is missing is named as missing in the letter, never invented.
"""

import json
import pathlib
import sys
import textwrap

from bench_report import (CPUS, MISS_METHODS, SIGNALS, SIGNAME, anchor_of, fmt_paired, is_miss, p99_ratio,
                          paired_ratio, pct)


def last_line(path):
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def tests(out):
    report = out / "test" / "report.txt"
    if not report.exists():
        return ("make test: not run in this tree yet (no out/test/report.txt); "
                "run make test\nand make series again for its results.")
    version = (out / "bzImage.version").read_text().splitlines()
    lines = [f"make test, one boot of the debug kernel (lockdep, KASAN, DEBUG_ATOMIC_SLEEP,",
             f"hung-task and soft-lockup detectors; {version[-1].replace('kernel ', '')}): "
             f"{last_line(report)}",
             "(the kselftests test_signal, test_core, test_kill, test_freezer, the KUnit",
             "suites rust_doctests_kernel and cgroup_signal, and a clean dmesg)."]
    rep = out / "repeat" / "report.txt"
    if rep.exists():
        lines.append(f"make repeat (test_signal cases repeated in one boot): {last_line(rep)}.")
    else:
        lines.append("make repeat: not run for these numbers.")
    st = out / "stress" / "report.txt"
    if st.exists():
        lines.append("make stress (concurrent writers, forks, migrations, freezes, rmdir):")
        lines.append(f"{last_line(st)}.")
    else:
        lines.append("make stress: not run for these numbers.")
    return "\n".join(lines)


def bench(out):
    path = out / "bench" / "results.json"
    if not path.exists():
        return ("make bench: not run in this tree yet (no out/bench/results.json); it\n"
                "takes about an hour: run make bench, then make series again.")
    data = json.loads(path.read_text())
    runs = data["runs"]
    lines = missed(runs)
    runs = [r for r in runs if not is_miss(r)]
    if not runs:
        return "\n".join(lines)

    large = max(r["n_procs"] for r in runs)
    placement = textwrap.wrap("CPUs: " + "; ".join(CPUS.get(c, c) for c in sorted(
        {r.get("cpus", "shared") for r in runs})) + ".", 75)
    rounds = sorted({len(r["samples"]) for r in runs if r["metric"] == "write_us"})

    def series(sc, sig, m, metric):
        for r in runs:
            if (r["scenario"], r["signal"], r["method"], r["metric"], r["n_procs"],
                    r["threads"]) == (sc, sig, m, metric, large, 1):
                return r["samples"]
        return None

    def med(sc, sig, m, metric, q=50):
        s = series(sc, sig, m, metric)
        return pct(s, q) if s else None

    lines += [f"make bench: {data['kernel'].split(';')[0]},",
             "under QEMU TCG on a shared 2-core machine, so absolute times mean little;",
             "the ratios compare methods",
             "run in the same rounds of one boot (interleaved), "
             f"{'/'.join(map(str, rounds))} samples per point.",
             *placement,
             f"At {large:,} processes, the median over the rounds of each method's time",
             "over the reference's in the same round (cgroup.kill for SIGKILL,",
             "cgroup.signal for SIGTERM, which cgroup.kill cannot send), with a",
             "distribution-free 95% interval:",
             "",
             f"  {'':<6}{'signal':<9}{'method':<18}{'write':<22}{'cpu':<22}{'empty':<22}"
             f"{'signalled'}"]
    for sc in ("flat", "tree"):
        for sig in sorted(SIGNALS):
            ref = anchor_of(sig)
            kw, ke = series(sc, sig, ref, "write_us"), series(sc, sig, ref, "empty_us")
            if not kw or not ke:
                continue
            for m in ("cgroup.signal", "userspace-loop", "userspace-freeze"):
                w, e = series(sc, sig, m, "write_us"), series(sc, sig, m, "empty_us")
                if w is None or e is None or m == ref:
                    continue
                rw, re_ = fmt_paired(paired_ratio(w, kw)), fmt_paired(paired_ratio(e, ke))
                sg, ks = series(sc, sig, m, "signalled_us"), series(sc, sig, ref, "signalled_us")
                rs = fmt_paired(paired_ratio(sg, ks)) if sg and ks else "= empty"
                c, kc = series(sc, sig, m, "cpu_us"), series(sc, sig, ref, "cpu_us")
                rc = fmt_paired(paired_ratio(c, kc)) if c and kc else "-"
                lines.append(f"  {sc:<6}{SIGNALS[sig]:<9}{m:<18}{rw:<22}{rc:<22}{re_:<22}{rs}")
    fork = [(sc, m) for sc in ("flat", "tree") for m in ("cgroup.signal", "userspace-loop",
                                                          "userspace-freeze")
            if med(sc, 9, m, "fork_us", 99) and med(sc, 9, "cgroup.kill", "fork_us", 99)]
    if fork:
        lines += ["", "Latency of fork+exit+wait in another cgroup during that SIGKILL, p99 as a",
                  "ratio to its p99 during cgroup.kill (95% interval from resampling rounds):",
                  ""]
        for sc, m in fork:
            ratio = p99_ratio(series(sc, 9, m, "fork_us"), series(sc, 9, m, "fork_round") or [],
                              series(sc, 9, "cgroup.kill", "fork_us"),
                              series(sc, 9, "cgroup.kill", "fork_round") or [])
            lines.append(f"  {sc:<6}{'SIGKILL':<9}{m:<18}{fmt_paired(ratio)}")
    lines += ["", "write: the write(2), or for the loops the whole procedure (a finish time,",
              "not a syscall); cpu: the CPU time of the thread that ran it (its own work,",
              "without the time the processes it woke took its CPU); empty: until",
              "cgroup.events says populated 0; signalled:",
              "until the last process's SIGTERM handler ran (a SIGKILLed process has the",
              "signal when it is dead: see empty). Full table: out/bench/table.txt."]
    return "\n".join(lines)


def missed(runs):
    """What one write buys: processes each method missed under fork load."""
    by = {(r["scenario"], r["signal"], r["method"]): r["samples"]
          for r in runs if is_miss(r) and r["metric"] == "missed"}
    if not by:
        return []
    methods = [m for m in MISS_METHODS if any(k[2] == m for k in by)]
    short = {"cgroup.signal": "signal", "cgroup.kill": "kill", "userspace-freeze": "freeze",
             "userspace-loop-once": "1 pass", "userspace-loop": "loop"}
    n = sorted({len(v) for v in by.values()})
    pids = sorted({r["n_procs"] for r in runs if is_miss(r)})
    # Said from the data, never assumed.
    kernel = {m: [x for (w, sig, mm), v in by.items() if mm == m for x in v]
              for m in ("cgroup.signal", "cgroup.kill")}
    verdict = []
    for m, v in kernel.items():
        if v:
            hit = sum(1 for x in v if x)
            verdict.append(f"{m} missed {'no process' if not hit else f'processes in {hit}'} "
                           f"in {len(v)} samples")
    lines = ["Processes missed under fork load (make bench, miss-* points): alive",
             "when each method returned (SIGKILL, SIGTERM: what is left is frozen",
             "then, and counted a second later) or not stopped a second after it",
             "(SIGSTOP),",
             f"median/max over {'/'.join(map(str, n))} samples; workloads bounded by",
             f"pids.max {'/'.join(map(str, pids))}. freeze = freeze, kill each, thaw (runc, crun);",
             "1 pass = read every cgroup.procs, kill each (systemd's first pass); loop =",
             "passes until one finds no new pid (systemd's cg_kill):",
             "",
             f"  {'workload':<10}{'signal':<9}" + "".join(f"{short[m]:>10}" for m in methods)]
    for w in sorted({k[0] for k in by}):
        for sig in sorted({k[1] for k in by if k[0] == w}):
            cells = []
            for m in methods:
                v = by.get((w, sig, m))
                cells.append(f"{f'{pct(v, 50)}/{max(v)}' if v else '-':>10}")
            lines.append(f"  {w[5:]:<10}{SIGNAME.get(sig, sig):<9}" + "".join(cells))
    return lines + ["", "; ".join(verdict) + ".", ""]


def main():
    root, out, cover = (pathlib.Path(a) for a in sys.argv[1:4])
    base = sys.argv[4]
    template = (root / "series" / "cover-letter.txt").read_text()
    subject, body = template.split("\n", 1)
    body = (body.strip("\n")
            .replace("@TEST_RESULTS@", tests(out))
            .replace("@BENCH@", bench(out))
            .replace("@CHANGELOG@", (root / "series" / "changelog").read_text().strip("\n"))
            .replace("@BASE@", base))
    text = cover.read_text()
    if "*** SUBJECT HERE ***" not in text or "*** BLURB HERE ***" not in text:
        sys.exit(f"error: {cover} is not git format-patch's cover letter template")
    text = text.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***", body)
    cover.write_text(text)


if __name__ == "__main__":
    main()
