#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judge a make stress run: every (write, process) pair, plus the kernel log.

stress/cgsig_stress dumps, in the results directory, what every process
counted (procs.tsv), every logged action with its CLOCK_MONOTONIC start and
end (events.tsv: forks, cgroup.signal writes, migrations, thread moves,
leader exits, exits) and every delivery with its sender (deliveries.tsv).

Each writer owns one real-time signal and writes it serially, so a process's
count of that signal is the number of that writer's writes that reached it.
For each successful write W (target C, [start, end]) and each process P:

  exactly one  P's fork returned before W started, P did not exit before W
               ended, no migration of P overlaps W, and every cgroup P may
               have been in during W is in C's subtree (a process's live
               threads always share one domain: a threaded domain's threads
               move among its threaded children, never out of it);
  none         P was never in C's subtree during W (its fork started after
               W ended, it had exited before W started, or none of the
               domains it may have been in during W is under C);
  at most one  anything in between: born, moved or exiting during W. An
               exiting process blocks the signals, notes the time, drains
               what is pending (counting it) and logs both times: a write
               that ended before the first is due, one that started after
               the second cannot count, one in between may.

A process's count of a signal must lie between the sums of its minima and
maxima. Below is an escape (counted in missing deliveries), above a double
(extra deliveries); a count on a signal none of whose writes could reach the
process is wrongly signalled (counted in deliveries). Each pair has a class,
the first that applies of: forked during the write, migrated (moved during
the write or at any time before it, or born while its parent moved),
leaderless (its leader pthread_exit()ed before the write ended), threaded
domain (it may be in a threaded domain), nested (in a descendant of C),
plain (in C itself). A discrepancy is put in the class of the write it can
be traced to through the deliveries' si_pid (each write is made by its own
process), else in the highest class of the pairs that can explain it.

The final SIGKILL write of the program (judged by it: a process whose live
threads are all in the arena must die, any other must live) adds its
escapees and wrongly killed processes.

Prints a table per class and one closing line

    stress: W writes, P processes, E escapes, D doubles, X wrongly signalled, S splats

and exits 1 unless E, D, X and S are 0, the program reported no internal
error and exited 0, and the guest ran to completion.
"""

import collections
import pathlib
import re
import sys

from report import splats as dmesg_splats

CLASSES = ["plain", "nested", "threaded domain", "leaderless", "migrated", "forked during",
           "outside", "final SIGKILL"]
PRIORITY = ["forked during", "migrated", "leaderless", "threaded domain", "nested", "plain"]
EOPNOTSUPP = 95
K_WORKER, K_CANARY, K_MT, K_WCHILD = 1, 2, 6, 7
INF = float("inf")


def read_tsv(path):
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


class Proc:
    __slots__ = ("pid", "fs", "fe", "parent", "cg", "kind", "moves", "lexit", "exit", "exit_end",
                 "init", "counts", "lost", "alive", "end_domain", "vanished")

    def __init__(self, pid):
        self.pid = pid
        self.fs = self.fe = None
        self.parent = self.cg = None
        self.kind = 0
        self.moves = []
        self.lexit = None
        self.exit = self.exit_end = None
        self.init = None
        self.counts = {}
        self.lost = 0
        self.alive = False
        self.end_domain = -1
        self.vanished = False


class Judge:
    def __init__(self, r):
        self.cgs = {}
        for idx, path, threaded, domain, arena in read_tsv(r / "cgroups.tsv"):
            self.cgs[int(idx)] = (path, int(threaded), int(domain), int(arena))
        self.thread_roots = {d for _, t, d, _ in self.cgs.values() if t}
        self.procs = {}
        self.writes = []
        self.errors = []
        self.sigs = []
        prow = read_tsv(r / "procs.tsv")
        header = (r / "procs.tsv").read_text().splitlines()[0].lstrip("# ").split("\t")
        self.sigs = [int(h[3:]) for h in header if h.startswith("cnt")]
        for row in prow:
            p = self.proc(int(row[0]))
            p.kind = int(row[1])
            exited, p.alive = int(row[2]), int(row[3])
            p.end_domain = int(row[5])
            p.lost = int(row[6])
            p.counts = {s: int(c) for s, c in zip(self.sigs, row[8:])}
            p.vanished = not exited and not p.alive and p.kind not in (K_WORKER, K_WCHILD)
        seen = set()
        for row in read_tsv(r / "events.tsv"):
            typ, t0, t1 = row[0], int(row[1]), int(row[2])
            pid, tid, a, b, c, res = (int(x) for x in row[3:9])
            if typ == "FORK" and a > 0:
                if a in seen:
                    self.errors.append(f"pid {a} forked twice: pids were reused")
                seen.add(a)
                p = self.proc(a)
                p.fs, p.fe, p.parent, p.cg = t0, t1, pid, b
                if c:
                    p.kind = p.kind or c
            elif typ == "WRITE":
                self.writes.append((t0, t1, pid, a, b, res))
            elif typ == "MIGRATE":
                self.proc(pid).moves.append((t0, t1, a, res))
            elif typ == "LEXIT":
                self.proc(pid).lexit = t0
            elif typ == "EXIT":
                # Blocked at t0; what was queued until the drain ended at t1 counts.
                self.proc(pid).exit, self.proc(pid).exit_end = t0, t1
        for p in self.procs.values():
            p.moves.sort()
            if p.vanished and p.exit is None and p.fs is not None:
                self.errors.append(f"process {p.pid} (kind {p.kind:#x}) died without exiting")
        self.writes.sort()
        self.write_by_id = {w[2]: w for w in self.writes}
        self.deliveries = collections.defaultdict(collections.Counter)
        if (r / "deliveries.tsv").exists():
            for row in read_tsv(r / "deliveries.tsv"):
                self.deliveries[(int(row[1]), int(row[4]))][int(row[3])] += 1

    def proc(self, pid):
        p = self.procs.get(pid)
        if p is None:
            p = self.procs[pid] = Proc(pid)
        return p

    def domain(self, cg):
        return self.cgs[cg][2]

    def init_domains(self, p):
        """The domains @p may have been born in, and whether that is uncertain."""
        if p.init is None:
            if p.cg is not None and p.cg >= 0:
                p.init = ({self.domain(p.cg)}, False)
            elif p.parent in self.procs and self.procs[p.parent].fs is not None:
                doms, unc = self.domains(self.procs[p.parent], p.fs, p.fe)
                p.init = (doms, unc or len(doms) > 1)
            else:
                p.init = ({None}, True)
        return p.init

    def domains(self, p, ta, tb):
        """Every domain @p may have been in during [ta, tb], and whether a move overlaps."""
        cur, unc = self.init_domains(p)
        cur = set(cur)
        poss = set()
        for t0, t1, to, res in p.moves:
            if t1 < ta:
                if res == 0:
                    cur, unc = {self.domain(to)}, False
                continue
            if t0 > tb:
                break
            unc = True
            poss |= cur
            if res == 0:
                cur = {self.domain(to)}
        return poss | cur, unc

    def subtree(self, cg):
        path = self.cgs[cg][0]
        return {i for i, (pth, t, d, a) in self.cgs.items()
                if not t and (pth == path or pth.startswith(path + "/"))}

    def judge(self):
        """Per (pid, sig): [min, max, [(write id, exact, class)]]; per class pair counts."""
        span = 1_000_000_000
        buckets = collections.defaultdict(list)
        end_t = max([w[1] for w in self.writes] + [0]) + span
        for p in self.procs.values():
            if p.fs is None:
                continue
            last = p.exit_end if p.exit is not None else end_t
            for b in range(p.fs // span, last // span + 1):
                buckets[b].append(p)
        subtrees = {}
        agg = {}
        pairs = collections.Counter()
        self.judged = []
        for ws, we, wid, cg, sig, res in self.writes:
            if self.cgs[cg][1]:
                if res != -EOPNOTSUPP:
                    self.errors.append(f"write {wid} of {sig} to threaded {self.cgs[cg][0]}: "
                                       f"result {res}, not -EOPNOTSUPP")
                continue
            if res != 0:
                self.errors.append(f"write {wid} of {sig} to {self.cgs[cg][0]} failed: {res}")
                continue
            self.judged.append((ws, we, wid, cg, sig))
            sub = subtrees.get(cg)
            if sub is None:
                sub = subtrees[cg] = self.subtree(cg)
            seen = set()
            for b in range(ws // span, we // span + 1):
                for p in buckets.get(b, ()):
                    if p.pid in seen:
                        continue
                    seen.add(p.pid)
                    if p.fs > we or (p.exit is not None and p.exit_end < ws):
                        continue
                    tb = we if p.exit is None else min(we, p.exit_end)
                    poss, unc = self.domains(p, max(ws, p.fs), tb)
                    inside = [d in sub for d in poss]
                    if not any(inside):
                        continue
                    exact = (p.fe < ws and (p.exit is None or p.exit > we) and not unc
                             and all(inside) and not p.vanished)
                    if p.fe >= ws:
                        cls = "forked during"
                    elif unc or any(t1 < ws and res == 0 for _, t1, _, res in p.moves):
                        cls = "migrated"
                    elif p.lexit is not None and p.lexit < we:
                        cls = "leaderless"
                    elif poss & self.thread_roots:
                        cls = "threaded domain"
                    elif poss != {self.domain(cg)}:
                        cls = "nested"
                    else:
                        cls = "plain"
                    a = agg.setdefault((p.pid, sig), [0, 0, []])
                    a[0] += exact
                    a[1] += 1
                    a[2].append((wid, exact, cls))
                    pairs[(cls, exact)] += 1
        return agg, pairs

    def forked_during(self, p, plist, senders):
        """Whether @p's fork overlaps a write it got a signal from (or with no sender)."""
        if p.fs is None:
            return False
        ids = set(senders)
        return any(wid in ids or 0 in ids for ws, we, wid, _, _, _ in self.writes
                   if ws <= p.fe and we >= p.fs)

    def proc_class(self, p):
        if p.fs is None or p.cg in (None, -1) and p.parent not in self.procs:
            return "outside"
        if any(res == 0 for _, _, _, res in p.moves):
            return "migrated"
        if p.lexit is not None:
            return "leaderless"
        doms, _ = self.init_domains(p)
        if doms & self.thread_roots:
            return "threaded domain"
        if not any(d is not None and self.cgs[d][3] for d in doms):
            return "outside"
        return "plain"


def judge_pairs(j, p, n, lo, hi, plist, senders, esc, dbl, wrong, sig):
    """Judge one process's count of one signal; add to the tallies; a verdict or None.

    When every delivery names its write (si_pid) and the process was not
    forked during any of them, each write is judged on its own: an exact pair
    with no delivery from its write is an escape, a pair with more than one a
    double, a delivery from a write that could not reach the process wrongly
    signalled. Otherwise (forks carry the signal without, or with another,
    sender) only the total is judged against [min, max].
    """
    ids = {wid for wid, _, _ in plist}
    if (sum(senders.values()) == n and 0 not in senders
            and not any(cls == "forked during" for _, _, cls in plist)):
        out = []
        for wid, exact, cls in plist:
            k = senders.get(wid, 0)
            if exact and not k:
                esc[cls] += 1
                out.append(f"escaped write {wid} ({cls})")
            elif k > 1:
                dbl[cls] += k - 1
                out.append(f"got write {wid} {k} times ({cls})")
        for wid, k in senders.items():
            if wid not in ids:
                wrong[j.proc_class(p)] += k
                out.append(f"wrongly signalled by write {wid} ({j.proc_class(p)})")
        return "; ".join(out) or None
    if lo <= n <= hi:
        return None
    if hi == 0:
        cls = "forked during" if j.forked_during(p, plist, senders) else j.proc_class(p)
        wrong[cls] += n
        return f"wrongly signalled ({cls})"
    if n < lo:
        missed = [cls for wid, exact, cls in plist if exact and wid not in senders]
        missed += [min((c for _, e, c in plist if e), key=PRIORITY.index)] * (lo - n)
        for cls in missed[:lo - n]:
            esc[cls] += 1
        return f"escaped {lo - n} ({', '.join(sorted(set(missed[:lo - n])))}; totals)"
    cls_of = {wid: cls for wid, _, cls in plist}
    # A write of this signal that could not reach the process, and that the
    # fork path cannot have named either (it does not overlap the fork).
    stray = sum(k for wid, k in senders.items()
                if wid not in ids and wid in j.write_by_id and j.write_by_id[wid][4] == sig
                and (j.write_by_id[wid][1] < p.fs or j.write_by_id[wid][0] > p.fe))
    k = min(stray, n - hi)
    if k:
        wrong[j.proc_class(p)] += k
        n -= k
        if n <= hi:
            return f"wrongly signalled {k} by writes that could not reach it ({j.proc_class(p)})"
    if 0 in senders and p.parent is not None:
        # A signal a fork in progress delayed for the child: the parent's, from
        # a write overlapping the fork that could not reach the child.
        inherited = sum(1 for wid in j.deliveries.get((p.parent, sig), ())
                        if wid not in ids and wid in j.write_by_id
                        and j.write_by_id[wid][0] <= p.fe and j.write_by_id[wid][1] >= p.fs)
        k = min(inherited, senders[0], n - hi)
        if k:
            wrong["forked during"] += k
            n -= k
            if n <= hi:
                return f"wrongly signalled {k} through a fork (forked during)"
    extra = []
    for wid, k in senders.items():
        if wid in cls_of and k > 1:
            extra += [cls_of[wid]] * (k - 1)
    extra += [min((c for _, _, c in plist), key=PRIORITY.index)] * (n - hi)
    for cls in extra[:n - hi]:
        dbl[cls] += 1
    return f"doubled {n - hi} ({', '.join(sorted(set(extra[:n - hi])))}; totals)"


def main():
    r = pathlib.Path(sys.argv[1])
    ok = True
    if not (r / "complete").exists():
        print(f"FAIL: the guest did not finish; see {r / 'console.log'}")
        ok = False
    log = (r / "stress.log").read_text(errors="replace") if (r / "stress.log").exists() else ""
    for line in log.splitlines():
        if re.match(r"stress: (error|warning|final SIGKILL|process)", line):
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
    errors = int(counters.get("errors", -1))
    if errors:
        print(f"FAIL: {errors} internal errors in the stress program")
        ok = False

    nw = np_ = 0
    esc = collections.Counter()
    dbl = collections.Counter()
    wrong = collections.Counter()
    pairs = collections.Counter()
    details = []
    if (r / "procs.tsv").exists() and (r / "events.tsv").exists():
        j = Judge(r)
        agg, pairs = j.judge()
        nw = len(j.judged)
        np_ = sum(1 for p in j.procs.values() if p.fs is not None)
        for p in j.procs.values():
            for sig in j.sigs:
                n = p.counts.get(sig, 0)
                lo, hi, plist = agg.get((p.pid, sig), (0, 0, []))
                senders = j.deliveries.get((p.pid, sig), collections.Counter())
                verdict = judge_pairs(j, p, n, lo, hi, plist, senders, esc, dbl, wrong, sig)
                if verdict:
                    details.append(f"     | pid {p.pid} kind {p.kind:#x} signal {sig}: {n} "
                                   f"received, {lo}..{hi} expected: {verdict}; "
                                   f"{len(p.moves)} moves, "
                                   f"leader exit {'yes' if p.lexit else 'no'}")
        lost = sum(p.lost for p in j.procs.values())
        if lost:
            print(f"note: {lost} deliveries carried no sender (a signal delayed by a fork in "
                  f"progress, or a siginfo lost)")
        for e in j.errors[:20]:
            print(f"FAIL: {e}")
        if j.errors:
            ok = False
        mismatch = [p for p in j.procs.values() if p.alive and p.fs is not None
                    and p.end_domain not in j.domains(p, INF, INF)[0]]
        for p in mismatch[:10]:
            print(f"note: process {p.pid}: the logs put it in {j.domains(p, INF, INF)[0]}, "
                  f"/proc in {p.end_domain}")
        if mismatch:
            print(f"FAIL: {len(mismatch)} processes are not where the logs put them")
            ok = False
        durs = sorted(w[1] - w[0] for w in j.judged)
        if durs:
            print(f"writes: {nw} judged, {len(j.writes) - nw} to threaded cgroups refused; "
                  f"duration median {durs[len(durs) // 2] / 1e6:.1f} ms, "
                  f"max {durs[-1] / 1e6:.1f} ms")
    else:
        print("FAIL: the stress program dumped no logs")
        ok = False
    esc["final SIGKILL"] += int(counters.get("final_escapes", 0))
    wrong["final SIGKILL"] += int(counters.get("final_wrong", 0))

    print(f"{'class':16} {'exact pairs':>11} {'at-most pairs':>13} {'escapes':>8} "
          f"{'doubles':>8} {'wrong':>6}")
    for cls in CLASSES:
        print(f"{cls:16} {pairs[(cls, True)]:11} {pairs[(cls, False)]:13} {esc[cls]:8} "
              f"{dbl[cls]:8} {wrong[cls]:6}")
    for line in details[:30]:
        print(line)
    if len(details) > 30:
        print(f"     | ... {len(details) - 30} more")

    splats = dmesg_splats(r)
    e, d, x = sum(esc.values()), sum(dbl.values()), sum(wrong.values())
    ok = ok and e == 0 and d == 0 and x == 0 and not splats
    print(f"stress: {nw} writes, {np_} processes, {e} escapes, {d} doubles, "
          f"{x} wrongly signalled, {len(splats)} splats")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
