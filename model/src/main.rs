//! Runs every scenario x design and prints KTAP on stdout.
//!
//! Usage: cgsignal-model [--trace] [SCENARIO...]
//!   --trace   print the first violating execution's trace (on stderr)
//!   SCENARIO  restrict to these scenario names (default: all)
//!
//! Per-case statistics (executions explored, violating executions, time) go
//! to stderr as KTAP diagnostics so stdout stays plain KTAP.

use cgsignal_model::{check_stats, expect, Design, Expect, Scenario};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let trace = args.iter().any(|a| a == "--trace");
    let only: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let mut cases = Vec::new();
    for d in Design::ALL {
        for s in Scenario::ALL {
            if expect(d, s) == Expect::NotRun {
                continue;
            }
            if only.is_empty() || only.iter().any(|o| o.as_str() == s.name()) {
                cases.push((d, s));
            }
        }
    }
    println!("TAP version 13");
    println!("1..{}", cases.len());
    let mut failed = 0;
    let total = Instant::now();
    for (i, (d, s)) in cases.iter().enumerate() {
        let t0 = Instant::now();
        let st = check_stats(*d, *s);
        let dt = t0.elapsed();
        let found = st.first.is_some();
        let e = expect(*d, *s);
        let (ok, name, directive) = match e {
            Expect::Counterexample => (
                found,
                format!("{}_design_{}_counterexample_found", d.name(), s.name()),
                String::new(),
            ),
            Expect::Pass => (
                !found,
                format!("{}_design_{}_exhaustive_pass", d.name(), s.name()),
                String::new(),
            ),
            Expect::OnlyForkEscape => (
                st.kinds.keys().all(|k| k.starts_with("(c)")),
                format!(
                    "{}_design_{}_only_documented_limitation",
                    d.name(),
                    s.name()
                ),
                String::new(),
            ),
            Expect::NotRun => unreachable!(),
        };
        eprintln!(
            "# {} {}: {} executions, {} violating, {:.2}s",
            d.name(),
            s.name(),
            st.executions,
            st.violating,
            dt.as_secs_f64()
        );
        let verbose = trace || (!ok && e == Expect::Pass);
        for (kind, (n, tr)) in &st.kinds {
            eprintln!("#   [{} executions] {}", n, kind);
            if verbose {
                for l in tr.lines() {
                    eprintln!("#   {}", l);
                }
            }
        }
        if st.kinds.is_empty() {
            if let Some(f) = &st.first {
                eprintln!("#   {}", f);
            }
        }
        if !ok {
            failed += 1;
        }
        println!(
            "{} {} {}{}",
            if ok { "ok" } else { "not ok" },
            i + 1,
            name,
            directive
        );
    }
    eprintln!(
        "# {} passed, {} failed ({:.1}s)",
        cases.len() - failed,
        failed,
        total.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
