#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn a make bench run into results.json, a table and a plot.

    bench_report.py RESULTS_DIR IMAGE_VERSION_FILE

Reads RESULTS_DIR/points.jsonl (one JSON object per method and metric, as
bench/cgsig_bench prints them) and writes, in RESULTS_DIR:

- results.json  {"kernel": ..., "runs": [{"scenario", "method", "signal",
                "n_procs", "threads", "n_cgroups", "metric", "samples"}]}
- table.txt     medians, p90 (p99 for fork_us) and, per method, the median
                of its per-round ratios to the reference (cgroup.kill for
                SIGKILL, cgroup.signal for SIGTERM) with a 95% interval,
                for the write, the time to empty and the method's CPU time;
                fork p99 ratios with a round-resampled interval; also printed
- bench.png     time against process count per method, log-log
- missed.png    processes each method missed under fork load (miss-*
                scenarios), per workload and signal

Exits 1 if the guest did not finish, a point failed, or the kernel log has a
splat.
"""

import json
import math
import pathlib
import random
import statistics
import sys

from report import splats as dmesg_splats

METHODS = ["cgroup.signal", "cgroup.kill", "userspace-loop", "userspace-freeze"]
MISS_METHODS = ["cgroup.signal", "cgroup.kill", "userspace-freeze", "userspace-loop-once",
                "userspace-loop"]
COLORS = dict(zip(METHODS + ["userspace-loop-once"],
                  ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:olive"]))
SIGNALS = {9: "SIGKILL", 15: "SIGTERM"}
SIGNAME = {9: "SIGKILL", 15: "SIGTERM", 19: "SIGSTOP"}
CPUS = {
    "split": ("split (BENCH_CPUS=split): the thread running the method on CPU 0, the "
              "signalled processes and the fork sampler on the other CPU, so write is the "
              "method's own work and lock waits"),
    "shared": ("shared (BENCH_CPUS=shared): the scheduler places every thread, so write "
               "includes the time the processes it woke kept its thread off the CPU"),
}
CAVEAT = ("Absolute times come from a shared 2-core machine emulating the guest's CPU "
          "(QEMU TCG) and mean little; the ratios, measured side by side in the same "
          "rounds of one boot, are what to compare.")


def pct(samples, p):
    """Nearest-rank percentile."""
    s = sorted(samples)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, -(-p * len(s) // 100) - 1))
    return s[int(k)]


def fmt_us(us):
    if us != us:
        return "-"
    if us >= 10_000:
        return f"{us / 1000:.0f} ms"
    if us >= 1000:
        return f"{us / 1000:.1f} ms"
    return f"{us:.0f} us"


def paired_ratio(samples, ref):
    """Median of the per-round ratios samples[i] / ref[i], and its 95% interval.

    cgsig_bench runs every method of a point once per round, in rotating
    order, and keeps the samples in round order: the i-th samples of two
    methods were taken under the same conditions. The interval is the
    distribution-free one for a median (order statistics at binomial ranks),
    so it assumes nothing about how the times are distributed; it is NaN
    with fewer than 6 rounds, where no such interval reaches 95%.
    Returns (median, low, high).
    """
    nan = float("nan")
    if not samples or len(samples) != len(ref) or min(ref) <= 0:
        return nan, nan, nan
    rs = sorted(a / b for a, b in zip(samples, ref))
    n = len(rs)
    # The largest k with P(Binomial(n, 1/2) < k) <= 2.5%: [rs[k-1], rs[n-k]].
    k, below = 0, 0.0
    while k < n and below + math.comb(n, k) / 2 ** n <= 0.025:
        below += math.comb(n, k) / 2 ** n
        k += 1
    if k == 0:
        return statistics.median(rs), nan, nan
    return statistics.median(rs), rs[k - 1], rs[n - k]


def p99_ratio(samples, rounds, ref, ref_rounds, resamples=1000):
    """p99 of samples over p99 of ref, and a 95% interval by resampling rounds.

    Fork latencies are not paired one to one, but each belongs to a round
    (rounds[i] is the round of samples[i]), and the methods of a round run
    side by side; slow forks come in bursts within a round. So the interval
    is a paired cluster bootstrap: draw rounds with replacement, take each
    method's samples from the drawn rounds, and take the 2.5th and 97.5th
    percentiles of the resulting ratios (fixed seed: the same run gives the
    same interval). Without rounds (older results), the interval is NaN.
    Returns (ratio, low, high).
    """
    nan = float("nan")
    if not samples or not ref:
        return nan, nan, nan
    ratio = pct(samples, 99) / pct(ref, 99)
    if len(rounds) != len(samples) or len(ref_rounds) != len(ref):
        return ratio, nan, nan
    mine, theirs = {}, {}
    for v, k in zip(samples, rounds):
        mine.setdefault(k, []).append(v)
    for v, k in zip(ref, ref_rounds):
        theirs.setdefault(k, []).append(v)
    keys = sorted(set(mine) | set(theirs))
    if len(keys) < 6:
        return ratio, nan, nan
    rng = random.Random(1)
    ratios = []
    for _ in range(resamples):
        draw = [rng.choice(keys) for _ in keys]
        a = [v for k in draw for v in mine.get(k, [])]
        b = [v for k in draw for v in theirs.get(k, [])]
        if a and b:
            ratios.append(pct(a, 99) / pct(b, 99))
    ratios.sort()
    return ratio, ratios[int(0.025 * len(ratios))], ratios[int(0.975 * len(ratios)) - 1]


def fmt_paired(ratio):
    med, lo, hi = ratio
    if med != med:
        return "-"
    if lo != lo:
        return f"{med:.2f}x"
    return f"{med:.2f}x [{lo:.2f}-{hi:.2f}]"


def key(run):
    return (run["scenario"], run["threads"], run["n_procs"])


def is_miss(run):
    return run["scenario"].startswith("miss-")


def miss_table(runs):
    """Processes missed under fork load, per workload, signal and method."""
    by = {}
    for r in runs:
        if is_miss(r):
            by.setdefault((r["scenario"], r["signal"], r["method"]), {})[r["metric"]] = r["samples"]
    if not by:
        return []
    head = (f"{'workload':<10}{'signal':<9}{'method':<21}{'samples':>8}{'missed median':>15}"
            f"{'max':>6}{'samples missing any':>21}{'passes':>8}{'returned after':>16}"
            f"{'procs':>7}{'forks':>7}")
    lines = ["Missed processes under fork load, counted from /proc: for SIGKILL and SIGTERM those",
             "alive when the method returned (the subtree is frozen then, so that survivors neither",
             "fork nor exit, and counted a second later); for SIGSTOP those not stopped a second",
             "after the method returned",
             head, "-" * len(head)]
    for (sc, sig, m) in sorted(by, key=lambda k: (k[0], k[1], MISS_METHODS.index(k[2]))):
        d = by[(sc, sig, m)]
        miss, passes = d.get("missed", []), d.get("passes", [])
        if not miss:
            continue
        if not passes or max(passes) == 0:
            pas = "-"
        else:
            pas = (f"{min(passes)}-{max(passes)}" if max(passes) != min(passes)
                   else f"{max(passes)}")
        forks = d.get("forks", [])
        lines.append(f"{sc[5:]:<10}{SIGNAME.get(sig, sig):<9}{m:<21}{len(miss):>8}"
                     f"{pct(miss, 50):>15}{max(miss):>6}"
                     f"{f'{sum(1 for x in miss if x)} of {len(miss)}':>21}{pas:>8}"
                     f"{fmt_us(pct(d.get('write_us', []), 50)):>16}"
                     f"{pct(d.get('procs', []), 50):>7}"
                     f"{pct(forks, 50) if forks else '-':>7}")
    lines += ["passes: passes over cgroup.procs, fewest-most (loop: until one finds no pid it has not "
              "signalled; loop-once: systemd's first pass; freeze: one, while frozen); "
              "returned after: median time until the method returned; procs: median number "
              "of the workload's processes when it started; forks: median forks on the "
              "machine while the method ran.", ""]
    return lines


def anchor_of(sig):
    """The method every other is compared with, in the same rounds of the same point."""
    return "cgroup.kill" if sig == 9 else "cgroup.signal"


def rows(points, by, metric):
    """(point, name, processes, signal, method, samples, reference samples) for each
    method of each point that has @metric, in table order."""
    for pt in points:
        scenario, threads, n = pt
        name = scenario + (f" x{threads}thr" if threads > 1 else "")
        for sig in sorted(SIGNALS):
            ref = by.get((pt, sig, anchor_of(sig), metric))
            for m in METHODS:
                s = by.get((pt, sig, m, metric))
                if s is not None:
                    yield pt, name, n, sig, m, s, ref


def table(runs):
    miss = miss_table(runs)
    runs = [r for r in runs if not is_miss(r)]
    by = {}
    for r in runs:
        by[(key(r), r["signal"], r["method"], r["metric"])] = r["samples"]
    points = sorted({key(r) for r in runs}, key=lambda k: (k[1], k[0], k[2]))
    lines = []
    head = (f"{'scenario':<14}{'procs':>7} {'signal':<8}{'method':<18}"
            f"{'write median':>13}{'p90':>9}{'empty median':>13}{'p90':>9}"
            f"  {'write/ref [95%]':<20}{'empty/ref [95%]'}")
    lines += [head, "-" * len(head)]
    last = None
    for pt, name, n, sig, m, w, anchor_w in rows(points, by, "write_us"):
        if last not in (None, pt):
            lines.append("")
        last = pt
        e = by.get((pt, sig, m, "empty_us"))
        if e is None:
            continue
        if m == anchor_of(sig):
            rw = re_ = "reference"
        else:
            rw = fmt_paired(paired_ratio(w, anchor_w or []))
            re_ = fmt_paired(paired_ratio(e, by.get((pt, sig, anchor_of(sig), "empty_us")) or []))
        lines.append(f"{name:<14}{n:>7} {SIGNALS[sig]:<8}{m:<18}"
                     f"{fmt_us(pct(w, 50)):>13}{fmt_us(pct(w, 90)):>9}"
                     f"{fmt_us(pct(e, 50)):>13}{fmt_us(pct(e, 90)):>9}"
                     f"  {rw:<20}{re_:<20}".rstrip())
    lines.append("")
    cpu = [r for r in runs if r["metric"] == "cpu_us"]
    if cpu:
        lines.append("cpu: CPU time (user and system) of the thread running the method, from "
                     "start to return; preempted: times that thread was preempted meanwhile")
        head = (f"{'scenario':<14}{'procs':>7} {'signal':<8}{'method':<18}"
                f"{'cpu median':>11}{'p90':>9}  {'cpu/ref [95%]':<20}{'preempted median':>16}"
                f"{'p90':>6}")
        lines += [head, "-" * len(head)]
        for pt, name, n, sig, m, c, anchor in rows(points, by, "cpu_us"):
            pre = by.get((pt, sig, m, "preempted")) or [float("nan")]
            rc = ("reference" if m == anchor_of(sig)
                  else fmt_paired(paired_ratio(c, anchor or [])))
            lines.append(f"{name:<14}{n:>7} {SIGNALS[sig]:<8}{m:<18}"
                         f"{fmt_us(pct(c, 50)):>11}{fmt_us(pct(c, 90)):>9}"
                         f"  {rc:<20}{pct(pre, 50):>16}{pct(pre, 90):>6}")
        lines.append("")
    term = [r for r in runs if r["metric"] == "signalled_us"]
    if term:
        lines.append("signalled: until the last process's SIGTERM handler ran (for SIGKILL a "
                     "process has the signal when it is dead: see empty)")
        head = (f"{'scenario':<14}{'procs':>7} {'signal':<8}{'method':<18}"
                f"{'median':>10}{'p90':>10}  {'signalled/ref [95%]'}")
        lines += [head, "-" * len(head)]
        for r in sorted(term, key=lambda r: (r["threads"], r["scenario"], r["n_procs"],
                                             METHODS.index(r["method"]))):
            name = r["scenario"] + (f" x{r['threads']}thr" if r["threads"] > 1 else "")
            anchor = by.get((key(r), 15, "cgroup.signal", "signalled_us"))
            ratio = ("reference" if r["method"] == "cgroup.signal"
                     else fmt_paired(paired_ratio(r["samples"], anchor or [])))
            lines.append(f"{name:<14}{r['n_procs']:>7} {'SIGTERM':<8}{r['method']:<18}"
                         f"{fmt_us(pct(r['samples'], 50)):>10}{fmt_us(pct(r['samples'], 90)):>10}"
                         f"  {ratio}")
        lines.append("")
    fork = [r for r in runs if r["metric"] == "fork_us"]
    if fork:
        lines.append("fork_us: fork + exit + wait of a process in another cgroup, sampled "
                     "while the subtree is signalled and emptied")
        head = (f"{'scenario':<14}{'procs':>7} {'signal':<8}{'method':<18}{'samples':>8}"
                f"{'median':>10}{'p90':>10}{'p99':>10}  {'p99/kill [95%]'}")
        lines += [head, "-" * len(head)]
        for r in sorted(fork, key=lambda r: (r["scenario"], r["n_procs"], METHODS.index(r["method"]))):
            anchor = by.get((key(r), 9, "cgroup.kill", "fork_us"))
            s = r["samples"]
            if r["method"] == "cgroup.kill":
                ratio = "reference"
            else:
                ratio = fmt_paired(p99_ratio(
                    s, by.get((key(r), r["signal"], r["method"], "fork_round"), []),
                    anchor or [], by.get((key(r), 9, "cgroup.kill", "fork_round"), [])))
            lines.append(f"{r['scenario']:<14}{r['n_procs']:>7} {SIGNALS.get(r['signal'], r['signal']):<8}"
                         f"{r['method']:<18}{len(s):>8}{fmt_us(pct(s, 50)):>10}"
                         f"{fmt_us(pct(s, 90)):>10}{fmt_us(pct(s, 99)):>10}  {ratio}")
        lines.append("")
    lines.append("write = the write(2) for cgroup.signal and cgroup.kill, or the whole "
                 "userspace procedure for the loops (which run until a pass finds nothing: a "
                 "finish time, not a syscall); empty = until "
                 "cgroup.events says populated 0; x/ref = the median, over the rounds, of "
                 "this method's time over the reference's in the same round (cgroup.kill for "
                 "SIGKILL, cgroup.signal for SIGTERM, which cgroup.kill cannot send), and in "
                 "brackets its distribution-free 95% interval: an interval that excludes "
                 "1.00 is a difference this run can tell from noise. p99/kill = p99 over "
                 "cgroup.kill's p99, in brackets a 95% interval from resampling rounds "
                 "(fork samples are not paired one to one, but their rounds are). cpu "
                 "counts the method's own work; write also counts the time its thread waited "
                 "for the CPU while the processes it woke ran (see preempted).")
    cpus = sorted({r.get("cpus", "shared") for r in runs})
    lines.append("CPUs: " + ", ".join(CPUS.get(c, c) for c in cpus) + ".")
    lines.append(CAVEAT)
    if miss:
        lines += [""] + miss
    return "\n".join(lines) + "\n"


def plot_missed(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in runs if is_miss(r) and r["metric"] == "missed"]
    workloads = sorted({r["scenario"] for r in runs})
    if not workloads:
        return False
    fig, axes = plt.subplots(1, len(workloads), figsize=(5 * len(workloads), 4.2), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        sigs = sorted({r["signal"] for r in runs if r["scenario"] == w})
        width = 0.8 / len(MISS_METHODS)
        for i, m in enumerate(MISS_METHODS):
            xs, med, top = [], [], []
            for j, sig in enumerate(sigs):
                for r in runs:
                    if (r["scenario"], r["signal"], r["method"]) == (w, sig, m):
                        if not r["samples"]:
                            continue
                        xs.append(j + (i - len(MISS_METHODS) / 2 + 0.5) * width)
                        med.append(pct(r["samples"], 50))
                        top.append(max(r["samples"]) - pct(r["samples"], 50))
            if xs:
                ax.bar(xs, med, width, yerr=[[0] * len(xs), top], capsize=2, label=m,
                       color=COLORS[m])
        ax.set_xticks(range(len(sigs)), [SIGNAME.get(s, str(s)) for s in sigs])
        ax.set_title(f"{w[5:]}: processes missed (median, bar to max)", fontsize=10)
        ax.set_ylabel("processes")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Processes that kept running after each method returned (fork-heavy "
                 "workloads; cgroup.signal and cgroup.kill: 0 expected)", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=90)
    return True


def plot(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [r for r in runs if not is_miss(r)]

    panels = [(sc, sig) for sig in sorted(SIGNALS) for sc in ("flat", "tree")]
    metrics = ["write_us", "empty_us"]
    fig, axes = plt.subplots(len(metrics), len(panels), figsize=(4.2 * len(panels), 7.5),
                             squeeze=False)
    for row, metric in enumerate(metrics):
        for col, (sc, sig) in enumerate(panels):
            ax = axes[row][col]
            for m in METHODS:
                pts = sorted((r["n_procs"], pct(r["samples"], 50), pct(r["samples"], 90))
                             for r in runs if r["scenario"] == sc and r["signal"] == sig
                             and r["method"] == m and r["metric"] == metric
                             and r["threads"] == 1)
                if not pts:
                    continue
                xs = [p[0] for p in pts]
                med = [p[1] / 1000 for p in pts]
                p90 = [(p[2] - p[1]) / 1000 for p in pts]
                ax.errorbar(xs, med, yerr=[[0] * len(pts), p90], marker="o", capsize=3, label=m,
                            color=COLORS[m])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{sc}, {SIGNALS[sig]}: {metric.replace('_us', '')}", fontsize=10)
            ax.set_xlabel("processes")
            ax.set_ylabel("ms (median, bar to p90)")
            ax.grid(True, which="both", alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    fig.suptitle("cgroup.signal vs cgroup.kill vs userspace loops. " + CAVEAT, fontsize=8, wrap=True)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=90)


def main():
    r = pathlib.Path(sys.argv[1])
    version = pathlib.Path(sys.argv[2]).read_text().split("\n") if len(sys.argv) > 2 else []
    ok = True
    if not (r / "complete").exists():
        print(f"FAIL: the guest did not finish; see {r / 'console.log'}")
        ok = False
    rc = (r / "bench.rc").read_text().strip() if (r / "bench.rc").exists() else "missing"
    if rc != "0":
        print(f"FAIL: a benchmark point failed (status {rc}); see {r / 'bench.log'}")
        ok = False
    runs = []
    pts = r / "points.jsonl"
    if pts.exists():
        for line in pts.read_text().splitlines():
            if line.strip():
                runs.append(json.loads(line))
    if not runs:
        print("FAIL: no results")
        return 1
    splats = dmesg_splats(r)
    if splats:
        print(f"FAIL: {len(splats)} kernel log lines report a problem")
        ok = False

    uname = (r / "uname.txt").read_text().strip() if (r / "uname.txt").exists() else "?"
    kernel = f"{uname} (benchmark config: configs/base.config); " + "; ".join(v for v in version if v)
    (r / "results.json").write_text(json.dumps({"kernel": kernel, "runs": runs}, indent=1) + "\n")
    text = f"kernel: {kernel}\n\n" + table(runs)
    (r / "table.txt").write_text(text)
    print(text, end="")
    try:
        plot(runs, r / "bench.png")
        if not plot_missed(runs, r / "missed.png"):
            (r / "missed.png").unlink(missing_ok=True)
    except ImportError as e:
        print(f"FAIL: no plot ({e}); make setup installs python3-matplotlib")
        ok = False
    made = [r / f for f in ("results.json", "table.txt", "bench.png", "missed.png")
            if (r / f).exists()]
    print("results: " + ", ".join(map(str, made)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
