#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Self-test of report.py's accounting, on made-up results directories.

Prints KTAP (1..N, ok/not ok per case) so that make test counts it like a
kselftest (host_report), and exits 1 if any case fails.
"""

import contextlib
import io
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import report  # noqa: E402

KUNIT_OK = """    # Subtest: s
    1..2
    ok 1 a
    ok 2 b
ok 1 s
"""


def run(files, kselftest=("t",), kunit=("s",)):
    """Tally of report.py over a results dir holding `files`, and what it printed."""
    with tempfile.TemporaryDirectory() as d:
        r = pathlib.Path(d)
        files = {"dmesg-boot.txt": KUNIT_OK, "dmesg.txt": "", "complete": "", **files}
        for name, text in files.items():
            (r / name).write_text(text)
        tally, out = report.Tally(), io.StringIO()
        with contextlib.redirect_stdout(out):
            for k in kselftest:
                report.kselftest(tally, r, k)
            report.kunit(tally, r, list(kunit))
            report.dmesg_scan(tally, r)
        return tally, out.getvalue()


def case_upstream_skip_is_a_skip():
    t, out = run({"t.tap": "TAP version 13\n1..2\nok 1 test_a\nok 2 # SKIP test_b\n",
                  "t.rc": "0"})
    # test_a, kunit a, b, dmesg pass; test_b is a skip, listed by name.
    return (t.passed, t.failed, t.skipped) == (4, 0, 1) and "SKIP kselftest/t: test_b" in out


def case_xfail_is_not_a_pass():
    t, out = run({"t.tap": "1..2\nok 1 test_a\nok 2 # XFAIL test_b\n", "t.rc": "0"})
    return (t.passed, t.failed, t.skipped) == (4, 0, 1) and "XFAIL kselftest/t: test_b" in out


def case_xpass_fails():
    t, _ = run({"t.tap": "1..2\nok 1 test_a\nok 2 # XPASS test_b\n", "t.rc": "0"})
    return t.failed == 1


def case_truncated_output_fails():
    t, out = run({"t.tap": "1..3\nok 1 test_a\nok 2 test_b\n", "t.rc": "0"})
    return t.failed == 1 and "cut short" in out


def case_missing_plan_fails():
    t, _ = run({"t.tap": "ok 1 test_a\n", "t.rc": "0"})
    return t.failed == 1


def case_all_skipped_fails():
    t, out = run({"t.tap": "1..2\nok 1 # SKIP test_a\nok 2 # SKIP test_b\n", "t.rc": "4"})
    return t.failed == 1 and "every case was skipped" in out


def case_crash_after_last_case_fails():
    t, _ = run({"t.tap": "1..1\nok 1 test_a\n", "t.rc": "139"})
    return t.failed == 1


def case_kunit_all_skipped_fails():
    boot = "    # Subtest: s\n    1..1\n    ok 1 a # SKIP no\nok 1 s\n"
    t, out = run({"t.tap": "1..1\nok 1 test_a\n", "t.rc": "0", "dmesg-boot.txt": boot})
    return t.failed == 1 and "every case was skipped" in out


def case_kunit_short_plan_fails():
    boot = "    # Subtest: s\n    1..3\n    ok 1 a\nok 1 s\n"
    t, _ = run({"t.tap": "1..1\nok 1 test_a\n", "t.rc": "0", "dmesg-boot.txt": boot})
    return t.failed == 1


def case_retry_of_known_flaky_case_counts_the_retry():
    t, out = run({"test_freezer.tap": "1..1\nok 1 test_cgfreezer_ptrace\n",
                  "test_freezer.rc": "0",
                  "test_freezer.first.tap": "1..1\nnot ok 1 test_cgfreezer_ptrace\n"},
                 kselftest=("test_freezer",))
    return t.failed == 0 and "RETRY kselftest/test_freezer" in out


def case_retry_of_other_case_fails():
    t, _ = run({"test_freezer.tap": "1..1\nok 1 test_cgfreezer_forkbomb\n",
                "test_freezer.rc": "0",
                "test_freezer.first.tap": "1..1\nnot ok 1 test_cgfreezer_forkbomb\n"},
               kselftest=("test_freezer",))
    return t.failed == 1


def case_splat_fails():
    t, _ = run({"t.tap": "1..1\nok 1 test_a\n", "t.rc": "0",
                "dmesg.txt": "[ 1.0] WARNING: CPU: 0 PID: 1 at kernel/cgroup/cgroup.c:1\n"})
    return t.failed == 1


def report_main(files, argv):
    """report.py's main() over a results dir holding `files`: its last line."""
    with tempfile.TemporaryDirectory() as d:
        r = pathlib.Path(d)
        files = {"dmesg-boot.txt": KUNIT_OK, "dmesg.txt": "", "complete": "", **files}
        for name, text in files.items():
            (r / name).write_text(text)
        out, old = io.StringIO(), sys.argv
        sys.argv = ["report.py", str(r), *argv]
        try:
            with contextlib.redirect_stdout(out):
                report.main()
        finally:
            sys.argv = old
        return out.getvalue().strip().splitlines()[-1]


T_OK = {"t.tap": "1..1\nok 1 test_a\n", "t.rc": "0"}


def case_boot_kunit_counted_only_when_asked():
    # make repeat asks for no suite: test_a and dmesg, not the boot's a and b.
    return (report_main(T_OK, ["--kselftest", "t"]) == "2 passed, 0 failed"
            and report_main(T_OK, ["--kselftest", "t", "--kunit", "s"]) == "4 passed, 0 failed")


def case_kunit_rerun_failure_fails():
    rerun = KUNIT_OK.replace("ok 2 b", "not ok 2 b").replace("ok 1 s", "not ok 1 s")
    files = {**T_OK, "kunit-s.txt": rerun, "kunit-walk.txt": "nr_dying_descendants 1\n"}
    return report_main(files, ["--kselftest", "t", "--kunit", "s", "--kunit-rerun", "s"]) == \
        "6 passed, 1 failed"


def case_kunit_rerun_without_a_dying_cgroup_fails():
    files = {**T_OK, "kunit-s.txt": KUNIT_OK, "kunit-walk.txt": "nr_dying_descendants 0\n"}
    return report_main(files, ["--kselftest", "t", "--kunit", "s", "--kunit-rerun", "s"]) == \
        "6 passed, 1 failed"


def main():
    cases = [(n, f) for n, f in globals().items() if n.startswith("case_")]
    print("TAP version 13")
    print(f"1..{len(cases)}")
    failed = 0
    for i, (name, f) in enumerate(cases, 1):
        ok = f()
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {i} {name[5:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
