//! `cgsignal-vmtest`: the in-VM integration test of `cgroup.signal` and of
//! the `cgroup-signal` library, run as root on the patched kernel with cgroup2
//! at `/sys/fs/cgroup`. Prints KTAP like a kselftest (`TAP version 13`,
//! `1..N`, `ok`/`not ok` lines, `# ` diagnostics) and exits 0 if every case
//! passed, 1 otherwise, 4 (kselftest's skip) if it cannot run at all.
//!
//! ```text
//! cgsignal-vmtest [--root DIR] [--list] [FILTER...]
//! ```
//!
//! Every case works in its own cgroup `DIR/cgsignal-vmtest-K`, destroyed
//! afterwards (also on failure or panic); every wait is bounded.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cgroup_signal::{
    signal_cgroup_with, Error, Fallback, Interfaces, Method, Options, Report, Route, SignalNumber,
};
use cgsignal_testsupport::{
    count, destroy_cgroup, frozen, populated, read_trim, set_frozen, spawn_forkbomb,
    spawn_slot_forkbomb, spawn_worker, subtree_pids, wait_until, write_file, Context, Counters,
    TestCgroup, TestResult, WorkerSpec,
};
use clap::Parser;

/// Bound of every "wait for the processes to go" in a case.
const GONE: Duration = Duration::from_secs(20);
/// Workers per subtree.
const WORKERS: usize = 20;
/// Workers in the threaded subtree (each with one or two extra threads).
const THREADED_WORKERS: usize = 10;
/// `pids.max` of the forkbomb cases.
const BOMB_PIDS: usize = 100;

/// In-VM integration test of cgroup.signal and the cgroup-signal library (KTAP output).
#[derive(Debug, Parser)]
#[command(name = "cgsignal-vmtest")]
struct Cli {
    /// The cgroup2 mount (cases run in DIR/cgsignal-vmtest-K)
    #[arg(long, default_value = "/sys/fs/cgroup")]
    root: PathBuf,
    /// Print the case names and exit
    #[arg(long)]
    list: bool,
    /// Run only the cases whose name contains one of these strings
    filter: Vec<String>,
}

/// Outcome of a case that did not fail.
enum Outcome {
    Pass,
    Skip(String),
    /// Passes as an expected failure (a known limit of a fallback).
    Xfail(String),
}

type Case = Box<dyn Fn(&Ctx) -> TestResult<Outcome>>;

/// What the whole run knows.
struct Ctx {
    root: PathBuf,
    seq: std::cell::Cell<u32>,
    /// A test cgroup has `cgroup.signal`, `cgroup.kill`, `cgroup.freeze`.
    have: Interfaces,
    /// The pids controller is enabled for the test cgroups.
    pids: bool,
}

impl Ctx {
    fn cgroup(&self) -> TestResult<TestCgroup> {
        let k = self.seq.get() + 1;
        self.seq.set(k);
        TestCgroup::create(&self.root, &format!("cgsignal-vmtest-{k}"))
    }

    fn require(&self, route: Route) -> Option<Outcome> {
        let missing = match route {
            Route::Signal if !self.have.signal => "cgroup.signal",
            Route::Kill if !self.have.kill => "cgroup.kill",
            Route::FreezeLoop if !self.have.freeze => "cgroup.freeze",
            _ => return None,
        };
        Some(Outcome::Skip(format!("no {missing}")))
    }
}

macro_rules! diag {
    ($($t:tt)*) => { println!("# {}", format!($($t)*)) };
}

macro_rules! check {
    ($cond:expr, $($t:tt)*) => {
        if !$cond {
            return Err(format!($($t)*));
        }
    };
}

fn method_of(route: Route) -> Method {
    match route {
        Route::Signal => Method::Signal,
        Route::Kill => Method::Kill,
        Route::FreezeLoop => Method::Freeze,
        Route::Loop => Method::Loop,
        _ => Method::Auto,
    }
}

fn forced(route: Route) -> Options {
    Options::new()
        .method(method_of(route))
        .fallback(Fallback::Never)
}

/// The freeze route must have seen `frozen 1` before its passes.
fn check_freeze_confirmed(r: &Report) -> TestResult {
    if r.route == Route::FreezeLoop {
        check!(
            r.freeze_confirmed == Some(true),
            "freeze_confirmed {:?}, want Some(true)",
            r.freeze_confirmed
        );
    }
    Ok(())
}

/// Sends `sig` to worker `i` alone with kill(2) and waits (bounded) for its
/// handler to count it: a positive control that makes a following "nothing
/// else was delivered" check meaningful (a delivery caused earlier would
/// have had as long to be handled). Still a bounded check, not a proof.
fn positive_control(counters: &Counters, pid: nix::unistd::Pid, i: usize) -> TestResult {
    nix::sys::signal::kill(pid, nix::sys::signal::SIGTERM).ctx("kill")?;
    check!(
        wait_until(Duration::from_secs(5), || counters.values()[i] >= 1),
        "positive control: worker {i} did not count its SIGTERM"
    );
    Ok(())
}

fn signal(dir: &Path, sig: SignalNumber, opts: &Options) -> TestResult<Report> {
    let r = signal_cgroup_with(dir, sig, opts).map_err(|e| format!("signal_cgroup: {e}"))?;
    diag!("{r}");
    Ok(r)
}

fn wait_gone(dir: &Path) -> TestResult {
    let t = Instant::now();
    if wait_until(GONE, || !populated(dir)) {
        return Ok(());
    }
    let c = count(dir).unwrap_or_default();
    Err(format!(
        "{} still populated after {:?}: {c}",
        dir.display(),
        t.elapsed()
    ))
}

/// Checks that every counter is exactly `want`.
fn check_counts(counters: &Counters, idx: impl Iterator<Item = usize>, want: u32) -> TestResult {
    let values = counters.values();
    let bad: Vec<String> = idx
        .filter(|&i| values[i] != want)
        .map(|i| format!("worker {i}: {}", values[i]))
        .collect();
    check!(bad.is_empty(), "deliveries != {want}: {}", bad.join(", "));
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// One cgroup.
    Plain,
    /// Three levels, workers at each.
    Nested,
    /// Nested, frozen by the test before the call.
    Frozen,
    /// A threaded domain whose processes have threads in threaded children.
    Threaded,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Plain => "plain",
            Shape::Nested => "nested",
            Shape::Frozen => "frozen",
            Shape::Threaded => "threaded",
        }
    }
}

/// Workers of a built subtree: the counter slot and cgroup of each.
struct Subtree {
    cg: TestCgroup,
    counters: Counters,
    dirs: Vec<PathBuf>,
    n: usize,
    pids: Vec<nix::unistd::Pid>,
}

/// Builds a subtree of `shape` with workers handling `handle`.
fn build(ctx: &Ctx, shape: Shape, handle: Option<SignalNumber>) -> TestResult<Subtree> {
    let cg = ctx.cgroup()?;
    let top = cg.path().to_path_buf();
    let (n, dirs) = match shape {
        Shape::Plain => (WORKERS, vec![top.clone()]),
        Shape::Nested | Shape::Frozen => {
            let a = cg.mkdir("a")?;
            let b = cg.mkdir("a/b")?;
            (WORKERS, vec![top.clone(), a, b])
        }
        Shape::Threaded => {
            let t1 = cg.mkdir("t1")?;
            let t2 = cg.mkdir("t2")?;
            for t in [&t1, &t2] {
                write_file(&t.join("cgroup.type"), "threaded").ctx("cgroup.type")?;
            }
            (THREADED_WORKERS, vec![top.clone(), t1, t2])
        }
    };
    let counters = Counters::new(n)?;
    let mut worker_pids = Vec::with_capacity(n);
    for i in 0..n {
        let mut spec = WorkerSpec {
            handle: handle.map(SignalNumber::get),
            counter: Some(&counters.slots()[i]),
            linger: Duration::from_millis(200),
            ..WorkerSpec::default()
        };
        if shape == Shape::Threaded {
            spec.cgroup = top.clone();
            if i % 2 == 1 {
                spec.main_thread_cgroup = Some(dirs[1].clone());
            }
            spec.threads = vec![dirs[2].clone()];
        } else {
            spec.cgroup = dirs[i % dirs.len()].clone();
        }
        worker_pids.push(spawn_worker(&spec)?);
    }
    if shape == Shape::Frozen {
        set_frozen(&top, true)?;
    }
    let pids = subtree_pids(&top).map_err(|e| e.to_string())?;
    check!(
        pids.len() == n,
        "{} processes in the subtree, want {n}",
        pids.len()
    );
    Ok(Subtree {
        cg,
        counters,
        dirs,
        n,
        pids: worker_pids,
    })
}

/// One case of the route x subtree matrix.
fn matrix_case(ctx: &Ctx, route: Route, shape: Shape) -> TestResult<Outcome> {
    if let Some(skip) = ctx.require(route) {
        return Ok(skip);
    }
    let sig = if route == Route::Kill {
        SignalNumber::KILL
    } else {
        SignalNumber::TERM
    };
    let handle = (sig == SignalNumber::TERM).then_some(sig);
    let st = build(ctx, shape, handle)?;
    let top = st.cg.path();
    let r = signal(top, sig, &forced(route))?;
    check!(r.route == route, "took {}, forced {route}", r.route);
    check!(r.converged, "not converged");
    check_freeze_confirmed(&r)?;
    if let Some(n) = r.signalled {
        check!(n == st.n, "signalled {n}, want {}", st.n);
    }
    if shape == Shape::Frozen {
        // SIGKILL wakes frozen tasks to exit, so "frozen" in cgroup.events drops until they
        // are gone (checked below); the caller's cgroup.freeze must stay 1 throughout.
        check!(
            read_trim(&top.join("cgroup.freeze")).ctx("cgroup.freeze")? == "1"
                && (handle.is_none() || frozen(top)),
            "the caller's freeze was undone"
        );
        if handle.is_some() {
            check_counts(&st.counters, 0..st.n, 0)?;
            check!(populated(top), "processes died while frozen");
            set_frozen(top, false)?;
        }
    }
    wait_gone(top)?;
    if shape == Shape::Frozen && handle.is_none() {
        check!(frozen(top), "no longer frozen after SIGKILL");
    }
    if handle.is_some() {
        check_counts(&st.counters, 0..st.n, 1)?;
    }
    Ok(Outcome::Pass)
}

/// The threaded case's extra check: the threaded children refuse.
fn threaded_child_refuses(ctx: &Ctx) -> TestResult<Outcome> {
    let st = build(ctx, Shape::Threaded, Some(SignalNumber::TERM))?;
    let t1 = &st.dirs[1];
    match signal_cgroup_with(t1, SignalNumber::TERM, &Options::default()) {
        Err(Error::Threaded { domain, .. }) => {
            diag!("library: threaded, domain {domain:?}");
            check!(
                domain.as_deref() == Some(st.cg.path()),
                "domain {domain:?}, want {}",
                st.cg.path().display()
            );
        }
        other => return Err(format!("library on a threaded cgroup: {other:?}")),
    }
    if ctx.have.signal {
        let file = t1.join("cgroup.signal");
        match write_file(&file, "15") {
            Ok(()) => return Err("kernel accepted a write to a threaded cgroup.signal".into()),
            Err(e) => {
                let mapped = Error::from_write(e, t1, &file, "15");
                diag!("kernel: {mapped}");
                check!(
                    matches!(mapped, Error::Threaded { .. }),
                    "mapped to {mapped:?}"
                );
            }
        }
    }
    check_counts(&st.counters, 0..st.n, 0)?;
    Ok(Outcome::Pass)
}

/// Freeze route with a nested cgroup frozen on its own: it stays frozen.
fn nested_frozen_child(ctx: &Ctx) -> TestResult<Outcome> {
    if let Some(skip) = ctx.require(Route::FreezeLoop) {
        return Ok(skip);
    }
    let st = build(ctx, Shape::Nested, Some(SignalNumber::TERM))?;
    let top = st.cg.path();
    let b = &st.dirs[2];
    set_frozen(b, true)?;
    let r = signal(top, SignalNumber::TERM, &forced(Route::FreezeLoop))?;
    check!(r.converged && r.signalled == Some(st.n), "report {r:?}");
    check_freeze_confirmed(&r)?;
    check!(
        read_trim(&top.join("cgroup.freeze")).ctx("freeze")? == "0",
        "top left frozen"
    );
    check!(frozen(b), "a/b was thawed");
    let in_b = |i: &usize| i % 3 == 2;
    let others: Vec<usize> = (0..st.n).filter(|i| !in_b(i)).collect();
    let values = || st.counters.values();
    check!(
        wait_until(GONE, || others.iter().all(|&i| values()[i] == 1)),
        "workers outside a/b: {:?}",
        values()
    );
    check_counts(&st.counters, (0..st.n).filter(in_b), 0)?;
    set_frozen(b, false)?;
    wait_gone(top)?;
    check_counts(&st.counters, 0..st.n, 1)?;
    Ok(Outcome::Pass)
}

/// A realtime signal (queued, so a second delivery would count) through
/// cgroup.signal reaches every process exactly once.
fn realtime_once(ctx: &Ctx) -> TestResult<Outcome> {
    if let Some(skip) = ctx.require(Route::Signal) {
        return Ok(skip);
    }
    let sig: SignalNumber = "RTMIN+3".parse().map_err(|e| format!("{e}"))?;
    let st = build(ctx, Shape::Nested, Some(sig))?;
    signal(st.cg.path(), sig, &forced(Route::Signal))?;
    wait_gone(st.cg.path())?;
    check_counts(&st.counters, 0..st.n, 1)?;
    Ok(Outcome::Pass)
}

/// What `Method::Auto` picks with some interfaces hidden.
fn auto_choice(ctx: &Ctx, hide: Interfaces, sig: SignalNumber, want: Route) -> TestResult<Outcome> {
    let visible = ctx.have.without(hide);
    if (want == Route::Signal && !visible.signal)
        || (want == Route::Kill && !visible.kill)
        || (want == Route::FreezeLoop && !visible.freeze)
    {
        return Ok(Outcome::Skip(format!("{want} not available")));
    }
    let handle = (sig != SignalNumber::KILL).then_some(sig);
    let st = build(ctx, Shape::Nested, handle)?;
    let opts = Options::new().hide(hide);
    let r = signal(st.cg.path(), sig, &opts)?;
    check!(r.route == want, "Auto took {}, want {want}", r.route);
    wait_gone(st.cg.path())?;
    if handle.is_some() {
        check_counts(&st.counters, 0..st.n, 1)?;
    }
    Ok(Outcome::Pass)
}

/// `Fallback::Never` without cgroup.signal: SIGTERM is refused and nothing
/// is signalled; SIGKILL still goes through cgroup.kill.
fn fallback_never(ctx: &Ctx) -> TestResult<Outcome> {
    if let Some(skip) = ctx.require(Route::Kill) {
        return Ok(skip);
    }
    let st = build(ctx, Shape::Plain, Some(SignalNumber::TERM))?;
    let opts = Options::new()
        .fallback(Fallback::Never)
        .hide(Interfaces::new(true, false, false));
    match signal_cgroup_with(st.cg.path(), SignalNumber::TERM, &opts) {
        Err(Error::Unsupported { .. }) => {}
        other => return Err(format!("SIGTERM with Never: {other:?}")),
    }
    positive_control(&st.counters, st.pids[0], 0)?;
    check_counts(&st.counters, 1..st.n, 0)?;
    let r = signal(st.cg.path(), SignalNumber::KILL, &opts)?;
    check!(r.route == Route::Kill, "took {}", r.route);
    wait_gone(st.cg.path())?;
    Ok(Outcome::Pass)
}

/// Starts a forkbomb under `pids.max` and waits until it is near the limit.
fn start_bomb(ctx: &Ctx) -> TestResult<TestCgroup> {
    start_bomb_with(ctx, |dir| spawn_forkbomb(dir, false).map(drop))
}

/// Like [`start_bomb`], with the forkbomb started by `spawn`.
fn start_bomb_with(ctx: &Ctx, spawn: impl FnOnce(&Path) -> TestResult) -> TestResult<TestCgroup> {
    let cg = ctx.cgroup()?;
    write_file(&cg.path().join("pids.max"), &BOMB_PIDS.to_string()).ctx("pids.max")?;
    spawn(cg.path())?;
    let current = || {
        read_trim(&cg.path().join("pids.current"))
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let t = Instant::now();
    check!(
        wait_until(GONE, || current() >= BOMB_PIDS * 9 / 10),
        "forkbomb reached only {} of {BOMB_PIDS}",
        current()
    );
    diag!("forkbomb: {} processes after {:?}", current(), t.elapsed());
    Ok(cg)
}

/// SIGKILL to a forkbomb through `route`.
fn forkbomb_kill(ctx: &Ctx, route: Route) -> TestResult<Outcome> {
    if !ctx.pids {
        return Ok(Outcome::Skip("no pids controller".into()));
    }
    if let Some(skip) = ctx.require(route) {
        return Ok(skip);
    }
    let cg = start_bomb(ctx)?;
    let top = cg.path();
    let r = signal(top, SignalNumber::KILL, &forced(route))?;
    check_freeze_confirmed(&r)?;
    let t = Instant::now();
    let emptied = wait_until(Duration::from_secs(5), || !populated(top));
    // Processes not showing SIGKILL's effect: anything but a zombie.
    let missed = if emptied {
        0
    } else {
        let c = count(top)?;
        c.processes - c.zombie
    };
    diag!(
        "forkbomb {}: passes={} signalled={} converged={} missed={missed} empty after {:?}: {emptied}",
        route.as_str(),
        r.passes,
        r.signalled.map_or("-".into(), |n| n.to_string()),
        r.converged,
        t.elapsed()
    );
    if emptied && r.converged {
        return Ok(Outcome::Pass);
    }
    if route == Route::Loop {
        // Without a freezer, a child that becomes visible in cgroup.procs after the last pass
        // read it escapes, and that pass still finds no new pid: for this route "converged"
        // is no promise (the library says so). Reported, never hidden.
        return Ok(Outcome::Xfail(format!(
            "kill(2) loop without freezer: {missed} survivors, converged={}",
            r.converged
        )));
    }
    // A frozen subtree cannot fork, and the kernel routes leave nothing: a survivor is a bug.
    Err(format!(
        "{missed} survivors, converged={}: {r}",
        r.converged
    ))
}

/// Slots of the realtime forkbomb: far more than `BOMB_PIDS` processes
/// (forks that fail at `pids.max` take no slot).
const BOMB_SLOTS: usize = 4096;

/// "Exactly once, misses nothing" while every process forks: a forkbomb
/// whose processes count a queued realtime signal in their own slot. After
/// one delivery through `route`: every process that had its slot before the
/// delivery started must count exactly 1, and no process more than 1
/// (children forked after the delivery may count 0). The cgroup.signal route
/// is held to that (the kernel's guarantee); for the fallbacks the counts
/// are diagnostics (XFAIL if they miss).
fn forkbomb_realtime(ctx: &Ctx, route: Route) -> TestResult<Outcome> {
    if !ctx.pids {
        return Ok(Outcome::Skip("no pids controller".into()));
    }
    if let Some(skip) = ctx.require(route) {
        return Ok(skip);
    }
    let sig: SignalNumber = "RTMIN+5".parse().map_err(|e| format!("{e}"))?;
    let counters = Counters::new(1 + BOMB_SLOTS)?;
    let cg = start_bomb_with(ctx, |dir| {
        spawn_slot_forkbomb(dir, &counters, sig.get()).map(drop)
    })?;
    let top = cg.path();
    let taken = || counters.values()[0] as usize;
    let before = taken();
    check!(before <= BOMB_SLOTS, "slots exhausted before the delivery");
    let r = signal(top, sig, &forced(route))?;
    let at_return = taken();
    let counted = |v: &[u32]| (0..before).filter(|&i| v[1 + i] >= 1).count();
    // Long enough for a process to finish the fork it was in: under TCG, a
    // forkbomb's forks (copying the address space, then failing at pids.max
    // and tearing it down) keep the signal blocked for seconds, with it
    // pending (as /proc/PID/status ShdPnd shows); a miss never counts. The
    // fallbacks, which are allowed to miss (XFAIL), keep the short wait.
    let wait = if route.is_kernel() { 30 } else { 5 };
    let all = wait_until(Duration::from_secs(wait), || {
        counted(&counters.values()) == before
    });
    // Stop the bomb so that the counts are final.
    if write_file(&top.join("cgroup.kill"), "1").is_err() {
        destroy_cgroup(top)?;
    }
    wait_gone(top)?;
    let v = counters.values();
    let end = (v[0] as usize).min(BOMB_SLOTS);
    let missed: Vec<usize> = (0..before).filter(|&i| v[1 + i] != 1).collect();
    let duplicated: Vec<usize> = (0..end).filter(|&i| v[1 + i] > 1).collect();
    let later = (before..end).filter(|&i| v[1 + i] == 1).count();
    diag!(
        "forkbomb realtime {}: {before} processes before the delivery, {} slots when it returned, \
         {end} in all; {later} later ones counted it; missed {missed:?}, duplicated {duplicated:?}; \
         all counted within {wait} s: {all}",
        route.as_str(),
        at_return
    );
    if missed.is_empty() && duplicated.is_empty() {
        if !route.is_kernel() {
            check!(
                r.converged,
                "all delivered, but the report is not converged: {r}"
            );
        }
        return Ok(Outcome::Pass);
    }
    if route == Route::Signal {
        return Err(format!(
            "{} of {before} processes did not count exactly 1 delivery, {} counted more than 1",
            missed.len(),
            duplicated.len()
        ));
    }
    Ok(Outcome::Xfail(format!(
        "{}: {} missed, {} duplicated",
        route,
        missed.len(),
        duplicated.len()
    )))
}

/// SIGSTOP through cgroup.signal stops every process of a forkbomb.
fn forkbomb_stop(ctx: &Ctx) -> TestResult<Outcome> {
    if !ctx.pids {
        return Ok(Outcome::Skip("no pids controller".into()));
    }
    if let Some(skip) = ctx.require(Route::Signal) {
        return Ok(skip);
    }
    let cg = start_bomb(ctx)?;
    let top = cg.path();
    let stop = SignalNumber::new(libc::SIGSTOP).map_err(|e| e.to_string())?;
    signal(top, stop, &forced(Route::Signal))?;
    let all_stopped = || count(top).is_ok_and(|c| c.running == 0 && c.stopped > 0);
    let ok = wait_until(Duration::from_secs(10), all_stopped);
    let before = count(top)?;
    std::thread::sleep(Duration::from_millis(300));
    let after = count(top)?;
    diag!("forkbomb stop: {before}; 300 ms later: {after}");
    check!(ok, "not all stopped: {after}");
    check!(
        after.running == 0 && after.processes == before.processes,
        "the stopped forkbomb changed: {before} -> {after}"
    );
    let cont = SignalNumber::new(libc::SIGCONT).map_err(|e| e.to_string())?;
    signal(top, cont, &forced(Route::Signal))?;
    signal(top, SignalNumber::KILL, &forced(Route::Signal))?;
    wait_gone(top)?;
    Ok(Outcome::Pass)
}

fn expect_err(
    what: &str,
    r: Result<Report, Error>,
    ok: impl Fn(&Error) -> bool,
) -> TestResult<Outcome> {
    match r {
        Err(e) if ok(&e) => {
            diag!("{what}: {e}");
            Ok(Outcome::Pass)
        }
        other => Err(format!("{what}: {other:?}")),
    }
}

/// The kernel refuses 0, 65 and a number past an int, and the library maps
/// that to InvalidSignal; the parser refuses 0 and 65 too.
fn invalid_signals(ctx: &Ctx) -> TestResult<Outcome> {
    check!(
        "0".parse::<SignalNumber>().is_err() && "65".parse::<SignalNumber>().is_err(),
        "parser accepted 0 or 65"
    );
    if let Some(skip) = ctx.require(Route::Signal) {
        return Ok(skip);
    }
    let st = build(ctx, Shape::Plain, Some(SignalNumber::TERM))?;
    let file = st.cg.path().join("cgroup.signal");
    for value in ["0", "65", "99999999999", "TERM"] {
        match write_file(&file, value) {
            Ok(()) => return Err(format!("kernel accepted {value:?}")),
            Err(e) => {
                let mapped = Error::from_write(e, st.cg.path(), &file, value);
                diag!("{value:?}: {mapped}");
                check!(
                    matches!(mapped, Error::InvalidSignal(_)),
                    "{value:?} mapped to {mapped:?}"
                );
            }
        }
    }
    positive_control(&st.counters, st.pids[0], 0)?;
    check_counts(&st.counters, 1..st.n, 0)?;
    Ok(Outcome::Pass)
}

/// cgroup.signal is in every non-root cgroup, not in the root.
fn interface_files(ctx: &Ctx) -> TestResult<Outcome> {
    check!(
        !ctx.root.join("cgroup.signal").exists(),
        "the root cgroup has cgroup.signal"
    );
    let cg = ctx.cgroup()?;
    let a = cg.mkdir("a")?;
    for dir in [cg.path(), a.as_path()] {
        check!(
            dir.join("cgroup.signal").exists(),
            "{} has no cgroup.signal",
            dir.display()
        );
    }
    Ok(Outcome::Pass)
}

fn cases() -> Vec<(String, Case)> {
    let mut v: Vec<(String, Case)> = Vec::new();
    v.push(("interface files".into(), Box::new(interface_files)));
    for route in [Route::Signal, Route::Kill, Route::FreezeLoop, Route::Loop] {
        for shape in [Shape::Plain, Shape::Nested, Shape::Frozen, Shape::Threaded] {
            v.push((
                format!("{} {}", route.as_str(), shape.name()),
                Box::new(move |ctx: &Ctx| matrix_case(ctx, route, shape)),
            ));
        }
    }
    v.push((
        "freeze keeps a nested cgroup frozen".into(),
        Box::new(nested_frozen_child),
    ));
    v.push((
        "signal realtime exactly once".into(),
        Box::new(realtime_once),
    ));
    let hide = Interfaces::new;
    let autos = [
        (
            "auto term -> signal",
            hide(false, false, false),
            SignalNumber::TERM,
            Route::Signal,
        ),
        (
            "auto kill without signal -> kill",
            hide(true, false, false),
            SignalNumber::KILL,
            Route::Kill,
        ),
        (
            "auto term without signal -> freeze",
            hide(true, false, false),
            SignalNumber::TERM,
            Route::FreezeLoop,
        ),
        (
            "auto term without any -> loop",
            hide(true, true, true),
            SignalNumber::TERM,
            Route::Loop,
        ),
    ];
    for (name, h, sig, want) in autos {
        v.push((
            name.into(),
            Box::new(move |ctx: &Ctx| auto_choice(ctx, h, sig, want)),
        ));
    }
    v.push(("fallback never".into(), Box::new(fallback_never)));
    for route in [Route::Signal, Route::Kill, Route::FreezeLoop, Route::Loop] {
        v.push((
            format!("forkbomb kill {}", route.as_str()),
            Box::new(move |ctx: &Ctx| forkbomb_kill(ctx, route)),
        ));
    }
    v.push(("forkbomb stop signal".into(), Box::new(forkbomb_stop)));
    for route in [Route::Signal, Route::FreezeLoop, Route::Loop] {
        v.push((
            format!("forkbomb realtime exactly once {}", route.as_str()),
            Box::new(move |ctx: &Ctx| forkbomb_realtime(ctx, route)),
        ));
    }
    v.push((
        "threaded child refuses".into(),
        Box::new(threaded_child_refuses),
    ));
    v.push(("invalid signals".into(), Box::new(invalid_signals)));
    v.push((
        "error not cgroup2".into(),
        Box::new(|_: &Ctx| {
            let r = signal_cgroup_with("/tmp", SignalNumber::TERM, &Options::default());
            expect_err("/tmp", r, |e| matches!(e, Error::NotCgroupV2 { .. }))
        }),
    ));
    v.push((
        "error not found".into(),
        Box::new(|ctx: &Ctx| {
            let p = ctx.root.join("cgsignal-vmtest-does-not-exist");
            let r = signal_cgroup_with(&p, SignalNumber::TERM, &Options::default());
            expect_err("missing", r, |e| matches!(e, Error::NotFound { .. }))
        }),
    ));
    v
}

/// Enables the pids controller for the test cgroups if possible.
fn enable_pids(root: &Path) -> bool {
    let has = |file: &str| {
        read_trim(&root.join(file)).is_ok_and(|s| s.split_whitespace().any(|c| c == "pids"))
    };
    if !has("cgroup.controllers") {
        return false;
    }
    has("cgroup.subtree_control")
        || write_file(&root.join("cgroup.subtree_control"), "+pids").is_ok()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let all = cases();
    let selected: Vec<&(String, Case)> = all
        .iter()
        .filter(|(name, _)| {
            cli.filter.is_empty() || cli.filter.iter().any(|f| name.contains(f.as_str()))
        })
        .collect();
    if cli.list {
        for (name, _) in &selected {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }

    println!("TAP version 13");
    if !nix::unistd::geteuid().is_root() {
        println!("1..0 # SKIP must run as root");
        return ExitCode::from(4);
    }
    if cgroup_signal::cgroup::check_cgroup2(&cli.root).is_err() {
        println!("1..0 # SKIP {} is not a cgroup2 mount", cli.root.display());
        return ExitCode::from(4);
    }
    // Workers and forkbombs are reaped by the kernel: no zombies to wait for.
    // SAFETY: SIG_IGN involves no handler code.
    if let Err(e) = unsafe {
        nix::sys::signal::signal(
            nix::sys::signal::SIGCHLD,
            nix::sys::signal::SigHandler::SigIgn,
        )
    } {
        println!("1..0 # SKIP cannot ignore SIGCHLD: {e}");
        return ExitCode::from(4);
    }
    // Leftovers of an interrupted run.
    if let Ok(entries) = std::fs::read_dir(&cli.root) {
        for e in entries.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("cgsignal-vmtest-")
            {
                if let Err(err) = destroy_cgroup(&e.path()) {
                    diag!("{err}");
                }
            }
        }
    }

    let pids = enable_pids(&cli.root);
    let probe = TestCgroup::create(&cli.root, "cgsignal-vmtest-probe");
    let have = probe
        .as_ref()
        .map(|cg| Interfaces::probe(cg.path()))
        .unwrap_or(Interfaces::NONE);
    drop(probe);
    diag!("interfaces {have:?}, pids controller: {pids}");
    let ctx = Ctx {
        root: cli.root.clone(),
        seq: std::cell::Cell::new(0),
        have,
        pids,
    };

    println!("1..{}", selected.len());
    let start = Instant::now();
    let mut failed = 0;
    for (k, (name, case)) in selected.iter().enumerate() {
        let k = k + 1;
        let t = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| case(&ctx))).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {msg}"))
        });
        match result {
            Ok(Outcome::Pass) => println!("ok {k} {name}"),
            Ok(Outcome::Skip(why)) => println!("ok {k} {name} # SKIP {why}"),
            Ok(Outcome::Xfail(why)) => println!("ok {k} {name} # XFAIL {why}"),
            Err(why) => {
                for line in why.lines() {
                    diag!("{name}: {line}");
                }
                println!("not ok {k} {name}");
                failed += 1;
            }
        }
        if t.elapsed() > Duration::from_secs(5) {
            diag!("{name}: took {:?}", t.elapsed());
        }
    }
    diag!(
        "{} cases, {failed} failed, {:?}",
        selected.len(),
        start.elapsed()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
