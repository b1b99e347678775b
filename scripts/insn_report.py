#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make insn's report: kernel instructions per signalled process, by function.

    insn_report.py DIR SYSTEM_MAP PROCESSES [VERSION_FILE]

DIR holds signal/insn.txt and kill/insn.txt, the counts bench/insn_plugin.c
wrote in one boot each (the same rounds of the same processes, signalled by
cgroup.signal or by cgroup.kill). Each line is a translation block: start
address, instructions, executions. A block is charged to the kernel function
that contains its start (System.map). Functions that both boots also run
for other reasons (forks, exits) run equally often for those in both, so the
difference between the boots is the writes' own; absolute counts of those
include the rest. Writes DIR/table.txt and DIR/results.json.
"""
import bisect
import collections
import json
import re
import sys

# The functions of the two writes' paths, in the order a signal goes through
# them; a pattern (Rust's mangled names) is shown by its label.
FUNCS = [
    ("cgroup_kill_write", "cgroup_kill_write (and __cgroup_kill's loop)"),
    ("cgroup_signal_write", None),
    (re.compile(r"^_R.*signal_subtree"), "LiveCgroup::signal_subtree (Rust, walk callback)"),
    (re.compile(r"^_R.*for_each_task"), "Cgroup::for_each_task (Rust)"),
    ("cgroup_signal_begin", None),
    ("cgroup_signal_end", None),
    ("css_task_iter_start", None),
    ("css_task_iter_next", None),
    ("css_task_iter_advance", None),
    ("css_task_iter_end", None),
    ("css_next_descendant_pre", None),
    ("rust_helper_cond_resched", None),
    ("cgroup_signal_task", None),
    ("cgroup_signal_once", None),
    ("cgroup_signal_send", None),
    ("send_sig", None),
    ("send_sig_info", None),
    ("do_send_sig_info", None),
    ("lock_task_sighand", None),
    ("__lock_task_sighand", None),
    ("send_signal_locked", None),
    ("pid_nr_ns", None),
    ("task_active_pid_ns", None),
    ("__task_pid_nr_ns", None),
    ("from_kuid_munged", None),
    ("make_kuid", None),
    ("map_id_up", None),
    ("__send_signal_locked", None),
    ("prepare_signal", None),
    ("complete_signal", None),
    ("signal_wake_up_state", None),
    ("try_to_wake_up", None),
]
METHODS = ("signal", "kill")
NAMES = {"signal": "cgroup.signal", "kill": "cgroup.kill"}


def symbols(path):
    """Sorted (address, name) of System.map's text symbols."""
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def by_function(path, syms):
    """Instructions executed per function, from one boot's counts."""
    addrs = [a for a, _ in syms]
    count = collections.Counter()
    with open(path) as f:
        for line in f:
            vaddr, insns, runs = line.split()
            i = bisect.bisect_right(addrs, int(vaddr, 16)) - 1
            count[syms[i][1] if i >= 0 else "?"] += int(insns) * int(runs)
    return count


def rows(counts):
    """(label, instructions per method) for each function of FUNCS that ran."""
    for pattern, label in FUNCS:
        if isinstance(pattern, str):
            match = {m: counts[m].get(pattern, 0) for m in METHODS}
            label = label or pattern
        else:
            match = {m: sum(v for k, v in counts[m].items() if pattern.match(k))
                     for m in METHODS}
        if any(match.values()):
            yield label, match


def main():
    d, system_map, procs, scenario = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    cpus = int(sys.argv[5])
    version = ""
    if len(sys.argv) > 6:
        with open(sys.argv[6]) as f:
            version = "; ".join(f.read().split("\n")).strip("; ")
    syms = symbols(system_map)
    counts = {m: by_function(f"{d}/{m}/insn.txt", syms) for m in METHODS}
    table = list(rows(counts))
    per = lambda n: n / procs  # noqa: E731
    out = [f"kernel: {version}" if version else "kernel: ?", ""]
    out.append(f"{'function':52s} {'cgroup.signal':>14s} {'cgroup.kill':>12s} {'difference':>11s}")
    out.append("-" * 92)
    diff_sum = sum(per(c["signal"] - c["kill"]) for _, c in table)
    for label, c in table:
        if max(per(c["signal"]), per(c["kill"])) < 0.05:
            continue  # once per write or per cgroup: in the sum only
        diff = per(c["signal"] - c["kill"])
        out.append(f"{label[:52]:52s} {per(c['signal']):14.1f} {per(c['kill']):12.1f} {diff:+11.1f}")
    out.append("-" * 92)
    out.append(f"{'sum of the differences':52s} {'':14s} {'':12s} {diff_sum:+11.1f}")
    totals = {m: per(sum(counts[m].values())) for m in METHODS}
    where = ("one vCPU" if cpus == 1 else
             f"what vCPU 0 of {cpus} ran: the writer, with the processes on the others")
    out.append("")
    out.append(
        f"Kernel instructions per signalled process ({procs} processes per boot, "
        f"{'in one cgroup' if scenario == 'flat' else 'over 100 cgroups (tree)'}, one boot per "
        f"method, {where}), counted by QEMU (bench/insn_plugin.c) and charged to the function "
        f"holding each translated block's start. Functions that also run for other reasons "
        f"(forks, exits) run as often for those in both boots, so the difference column is the "
        f"writes' own; their absolute counts include the rest. Whole kernel, everything included "
        f"(process creation and exit dominate, and memory management varies from boot to boot): "
        f"{totals['signal']:.0f} and {totals['kill']:.0f}.")
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(f"{d}/table.txt", "w") as f:
        f.write(text)
    with open(f"{d}/results.json", "w") as f:
        json.dump({"kernel": version, "scenario": scenario, "cpus": cpus, "processes": procs,
                   "functions": [{"function": label, **{NAMES[m]: c[m] for m in METHODS}}
                                 for label, c in table],
                   "total": {NAMES[m]: sum(counts[m].values()) for m in METHODS}},
                  f, indent=1)
        f.write("\n")
    print(f"results: {d}/table.txt, {d}/results.json")


if __name__ == "__main__":
    main()
