//! One test per (design, scenario) with the same expectation table as
//! run-tests.sh. Run with `cargo test --release` (debug works, slower).

use cgsignal_model::{check, check_stats, expect, Design, Expect, Scenario};

fn run(d: Design, s: Scenario) {
    if expect(d, s) == Expect::OnlyForkEscape {
        let st = check_stats(d, s);
        assert!(
            st.kinds.keys().all(|k| k.starts_with("(c)")),
            "{:?}",
            st.kinds.keys()
        );
        return;
    }
    let r = check(d, s);
    match expect(d, s) {
        Expect::Counterexample => assert!(
            r.is_some(),
            "{} design, {}: expected a counterexample, none found",
            d.name(),
            s.name()
        ),
        Expect::Pass => assert!(r.is_none(), "{}", r.unwrap_or_default()),
        Expect::OnlyForkEscape | Expect::NotRun => {}
    }
}

macro_rules! cases {
    ($($name:ident: $d:ident, $s:ident;)*) => {
        $(#[test] fn $name() { run(Design::$d, Scenario::$s); })*
    };
}

cases! {
    v1_finding1: Old, Finding1;
    v1_finding1_reverse: Old, Finding1Reverse;
    v1_finding2: Old, Finding2;
    v1_finding3: Old, Finding3;
    v1_plain: Old, Plain;
    v1_finding5_exec: Old, Exec;
    v2_early_limbo_two_nested_writes: EarlyLimbo, TwoWrites;
    v2_finding1: New, Finding1;
    v2_finding1_reverse: New, Finding1Reverse;
    v2_finding2: New, Finding2;
    v2_finding3: New, Finding3;
    v2_plain: New, Plain;
    v2_finding5_exec: New, Exec;
    v2_two_nested_writes: New, TwoWrites;
    v2_limbo: New, Limbo;
    v2_thread_fork: New, ThreadFork;
    v2_same_rt_signal_twice: New, SameSigTwice;
    v2_limbo_two_writes: New, LimboTwoWrites;
    v2_limbo_two_writes_log2: New, LimboTwoWritesLog2;
    v2_mutant_no_fork_drain_limbo: NoDrain, Limbo;
    v3_finding1: Log, Finding1;
    v3_finding1_reverse: Log, Finding1Reverse;
    v3_finding2: Log, Finding2;
    v3_finding3: Log, Finding3;
    v3_plain: Log, Plain;
    v3_finding5_exec: Log, Exec;
    v3_two_nested_writes: Log, TwoWrites;
    v3_limbo: Log, Limbo;
    v3_thread_fork: Log, ThreadFork;
    v3_same_rt_signal_twice: Log, SameSigTwice;
    v3_limbo_two_writes: Log, LimboTwoWrites;
    v3_limbo_two_writes_log2: Log, LimboTwoWritesLog2;
    v3_mutant_released_uses_stamp_exec: ReleasedUsesStamp, Exec;
    v3_mutant_last_write_only: LogLastOnly, LimboTwoWritesLog2;
    v3_mutant_late_send: LogLateSend, LimboTwoWritesLog2;
    v3_mutant_no_overflow_wait: LogNoOverflowWait, LimboTwoWrites;
}
