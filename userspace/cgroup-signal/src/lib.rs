//! Deliver a signal to every process of a cgroup v2 subtree.
//!
//! [`signal_cgroup`] takes the best route the running kernel offers:
//!
//! 1. **`cgroup.signal`** (this patch series): write the signal number; the
//!    kernel delivers it once to every process of the cgroup and all its
//!    descendants, and no concurrent fork escapes. That is the whole job.
//! 2. **`cgroup.kill`** (Linux 5.14+), for `SIGKILL` only: write `1`.
//! 3. **freeze + `kill(2)`** (the fallback of container runtimes): freeze the
//!    cgroup, wait for `frozen 1`, `kill(2)` every process listed in the
//!    `cgroup.procs` of the subtree, thaw, and repeat while new pids show up.
//!    A cgroup the caller had frozen is left frozen. The thaw also runs when
//!    the passes fail or panic, but not when the process is killed: callers
//!    that can be interrupted should block their termination signals around
//!    the call (`cgkill` does).
//! 4. **`kill(2)` loop** (no freezer: root cgroup, old kernel; systemd style):
//!    the same passes without freezing; forks between reading and killing can
//!    escape a pass, hence the repeat-until-no-new-pid rule.
//!
//! The fallbacks never signal the calling process itself ([`Report::skipped_self`]
//! says when it was in the subtree), and do not freeze a subtree the calling
//! process is in (that would freeze the caller): [`Method::Auto`] takes the
//! plain loop instead, a forced [`Method::Freeze`] fails with
//! [`Error::CallerInSubtree`]. The kernel routes (1 and 2) do signal the
//! caller if it is in the subtree.
//!
//! The fallbacks open a pidfd for every listed pid, check that the pid is
//! still listed in the subtree after the pidfd was opened, and signal through
//! the pidfd, so a recycled pid is never signalled; processes are told apart
//! by their pidfd inode (pidfs, Linux 6.9+) or their start time, so a new
//! process behind an old number is not skipped. Processes outside the
//! caller's pid namespace are listed as `0` and cannot be signalled: they are
//! counted in [`Report::invisible`] and make the report not converged.
//!
//! The freeze route shares the races of container runtimes (runc has the
//! same): a third party thawing or re-freezing the cgroup between our freeze
//! and our thaw, or a second caller freezing the same cgroup concurrently,
//! is not detected; the second caller may thaw a cgroup the first one still
//! needs frozen, which only makes the passes slower to converge (the
//! repeat-until-no-new-process rule still holds), and a cgroup someone froze
//! during our passes is thawed by us.
//!
//! The root cgroup is refused ([`Error::RootCgroup`]) unless
//! [`Options::allow_root`] is set: the fallbacks would signal the whole
//! machine.
//!
//! ```no_run
//! use cgroup_signal::{signal_cgroup, Fallback, SignalNumber};
//!
//! let report = signal_cgroup("/sys/fs/cgroup/job", SignalNumber::TERM, Fallback::Auto)?;
//! eprintln!("{report}");
//! if !report.complete() {
//!     eprintln!("not every process was signalled");
//! }
//! # Ok::<(), cgroup_signal::Error>(())
//! ```

#![warn(missing_docs)]

#[doc(hidden)]
pub mod cgroup;
mod error;
mod signal;

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::process::{getpid, kill_process, pidfd_open, pidfd_send_signal, Pid, PidfdFlags};

pub use cgroup::{subtree_pids, Interfaces};
pub use error::Error;
pub use signal::{
    convert_for_list, max_signal, parse_signal, rt_min, signal_names, InvalidSignal, SignalNumber,
};

/// Whether userspace fallbacks may be used when the kernel has no interface
/// for the signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fallback {
    /// Kernel interfaces only (`cgroup.signal`, or `cgroup.kill` for
    /// `SIGKILL`); [`Error::Unsupported`] if neither applies.
    Never,
    /// Fall back to freeze + `kill(2)`, or a `kill(2)` loop without a freezer.
    #[default]
    Auto,
}

/// Which route to take: [`Method::Auto`] picks the best available one; the
/// others force a route (for tests and demonstrations) and fail with
/// [`Error::Unsupported`] if its interface is missing (and
/// [`Method::Freeze`] with [`Error::CallerInSubtree`] if the caller is in
/// the subtree). A forced method ignores [`Fallback`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `cgroup.signal`, else `cgroup.kill` for `SIGKILL`, else (if the
    /// fallback is allowed) freeze + `kill(2)`, else the `kill(2)` loop.
    #[default]
    Auto,
    /// `cgroup.signal` only.
    Signal,
    /// `cgroup.kill` only (`SIGKILL` only).
    Kill,
    /// Freeze + `kill(2)` passes + thaw.
    Freeze,
    /// `kill(2)` passes without freezing.
    Loop,
}

/// The route that delivered the signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// A write to `cgroup.signal`.
    Signal,
    /// A write to `cgroup.kill`.
    Kill,
    /// Freeze, `kill(2)` passes, thaw.
    FreezeLoop,
    /// `kill(2)` passes without freezing.
    Loop,
}

impl Route {
    /// A short name: `signal`, `kill`, `freeze`, `loop`.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Signal => "signal",
            Route::Kill => "kill",
            Route::FreezeLoop => "freeze",
            Route::Loop => "loop",
        }
    }

    /// Whether the kernel did the whole job (no passes, no per-pid count).
    pub fn is_kernel(self) -> bool {
        matches!(self, Route::Signal | Route::Kill)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Route::Signal => "cgroup.signal",
            Route::Kill => "cgroup.kill",
            Route::FreezeLoop => "freeze + kill(2)",
            Route::Loop => "kill(2) loop",
        })
    }
}

/// Picks the route for `signal` given the interfaces `available`, or `None`
/// if no allowed route can deliver it (then [`Error::Unsupported`]).
///
/// Pure: the filesystem is not looked at, so it can be tested anywhere. The
/// fallback routes also need a signal that `kill(2)` may send through the C
/// library: the two numbers it reserves (32 and 33 with glibc) only go through
/// `cgroup.signal`.
#[doc(hidden)]
pub fn decide(
    method: Method,
    fallback: Fallback,
    available: Interfaces,
    signal: SignalNumber,
) -> Option<Route> {
    let sendable = signal.to_rustix().is_some();
    match method {
        Method::Auto => {
            if available.signal {
                Some(Route::Signal)
            } else if signal.is_kill() && available.kill {
                Some(Route::Kill)
            } else if fallback == Fallback::Never || !sendable {
                None
            } else if available.freeze {
                Some(Route::FreezeLoop)
            } else {
                Some(Route::Loop)
            }
        }
        Method::Signal => available.signal.then_some(Route::Signal),
        Method::Kill => (available.kill && signal.is_kill()).then_some(Route::Kill),
        Method::Freeze => (available.freeze && sendable).then_some(Route::FreezeLoop),
        Method::Loop => sendable.then_some(Route::Loop),
    }
}

/// What the freeze fallback does with `cgroup.freeze`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreezePlan {
    /// `cgroup.freeze` was 0: write 1, and write 0 afterwards.
    FreezeAndThaw,
    /// The caller had frozen the cgroup (`cgroup.freeze` was 1): leave it.
    /// The signals stay queued and act when the caller thaws it.
    AlreadyFrozen,
}

impl FreezePlan {
    /// Decides from the current content of `cgroup.freeze`. Only this
    /// cgroup's own setting counts: a descendant frozen on its own stays
    /// frozen because only the top `cgroup.freeze` is ever written.
    pub fn from_freeze_file(content: &str) -> Self {
        if content.trim() == "1" {
            FreezePlan::AlreadyFrozen
        } else {
            FreezePlan::FreezeAndThaw
        }
    }
}

/// Tuning and test hooks for [`signal_cgroup_with`]. Build it with
/// [`Options::new`] (or `Default`) and the builder methods.
///
/// ```
/// use cgroup_signal::{Fallback, Method, Options};
/// let opts = Options::new().fallback(Fallback::Never).method(Method::Signal);
/// assert_eq!(opts.method, Method::Signal);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Whether userspace fallbacks are allowed (default [`Fallback::Auto`]).
    pub fallback: Fallback,
    /// Which route to take (default [`Method::Auto`]).
    pub method: Method,
    /// Interfaces to treat as absent even if present: lets a test on a
    /// patched kernel see what [`Method::Auto`] does without `cgroup.signal`.
    #[doc(hidden)]
    pub hide: Interfaces,
    /// Upper bound on fallback passes (default 100, at least 1: 0 is taken
    /// as 1); reaching it without a pass that finds no new process gives
    /// `converged: false`.
    pub max_passes: u32,
    /// How long to wait for `frozen 1` before the passes run anyway
    /// (default 5 s).
    pub freeze_timeout: Duration,
    /// Check with `statfs(2)` that the path is on cgroup2 (default true).
    /// Only tests on ordinary directories turn this off.
    #[doc(hidden)]
    pub verify_cgroup2: bool,
    /// Allow the root cgroup (default false: [`Error::RootCgroup`]).
    pub allow_root: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fallback: Fallback::Auto,
            method: Method::Auto,
            hide: Interfaces::NONE,
            max_passes: 100,
            freeze_timeout: Duration::from_secs(5),
            verify_cgroup2: true,
            allow_root: false,
        }
    }
}

impl Options {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`Options::fallback`].
    pub fn fallback(mut self, fallback: Fallback) -> Self {
        self.fallback = fallback;
        self
    }

    /// Sets [`Options::method`].
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets [`Options::max_passes`]; 0 is taken as 1.
    pub fn max_passes(mut self, max_passes: u32) -> Self {
        self.max_passes = max_passes.max(1);
        self
    }

    /// Sets [`Options::freeze_timeout`].
    pub fn freeze_timeout(mut self, timeout: Duration) -> Self {
        self.freeze_timeout = timeout;
        self
    }

    /// Sets [`Options::allow_root`].
    pub fn allow_root(mut self, allow: bool) -> Self {
        self.allow_root = allow;
        self
    }

    /// Test hook: interfaces to treat as absent.
    #[doc(hidden)]
    pub fn hide(mut self, hide: Interfaces) -> Self {
        self.hide = hide;
        self
    }

    /// Test hook: whether to check that the path is on cgroup2.
    #[doc(hidden)]
    pub fn verify_cgroup2(mut self, verify: bool) -> Self {
        self.verify_cgroup2 = verify;
        self
    }
}

/// A process the fallback could not signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalFailure {
    /// Its pid (in the caller's pid namespace).
    pub pid: i32,
    /// The errno of `pidfd_open(2)`, `pidfd_send_signal(2)` or `kill(2)`.
    pub errno: i32,
}

impl fmt::Display for SignalFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let err = std::io::Error::from_raw_os_error(self.errno);
        write!(f, "pid {}: {err}", self.pid)
    }
}

/// What [`signal_cgroup`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The route taken.
    pub route: Route,
    /// The signal delivered.
    pub signal: SignalNumber,
    /// Fallback passes over the subtree (1 for the kernel routes).
    pub passes: u32,
    /// Processes signalled by the fallback; `None` for the kernel routes,
    /// which do not say.
    pub signalled: Option<usize>,
    /// Whether every process of the subtree was signalled as far as we can
    /// tell: the last pass found no new process, no signal failed
    /// ([`Report::failed`]) and no process was invisible
    /// ([`Report::invisible`]). Always true for the kernel routes. For
    /// [`Route::Loop`] it is no promise: without a freezer, a child forked
    /// during the last pass can become visible in `cgroup.procs` only after
    /// that pass read it, and so escape every pass.
    pub converged: bool,
    /// Freeze route only: whether `frozen 1` was seen before the passes
    /// (false if the freeze timed out and the passes ran anyway).
    pub freeze_confirmed: Option<bool>,
    /// Processes the fallback could not signal (`EPERM`, ...); the passes
    /// went on with the others.
    pub failed: usize,
    /// The first of those failures.
    pub first_failure: Option<SignalFailure>,
    /// The most `0` entries seen in one pass: processes outside the
    /// caller's pid namespace, which the fallback cannot signal.
    pub invisible: usize,
    /// The calling process was in the subtree and was left out (fallbacks
    /// only; the kernel routes signal it too).
    pub skipped_self: bool,
}

impl Report {
    fn kernel(route: Route, signal: SignalNumber) -> Self {
        Self {
            route,
            signal,
            passes: 1,
            signalled: None,
            converged: true,
            freeze_confirmed: None,
            failed: 0,
            first_failure: None,
            invisible: 0,
            skipped_self: false,
        }
    }

    /// Whether the job is known to be done: converged, and (freeze route)
    /// the freeze was confirmed.
    pub fn complete(&self) -> bool {
        self.converged && self.freeze_confirmed != Some(false)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} via {}", self.signal, self.route)?;
        if let Some(n) = self.signalled {
            let s = if self.passes == 1 { "" } else { "es" };
            let p = if n == 1 { "" } else { "es" };
            write!(
                f,
                ": {} pass{s}, {n} process{p} signalled, {}",
                self.passes,
                if self.converged {
                    "converged"
                } else {
                    "NOT converged"
                }
            )?;
        }
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
            if let Some(first) = self.first_failure {
                write!(f, " (first: {first})")?;
            }
        }
        if self.invisible > 0 {
            write!(
                f,
                ", {} invisible (outside our pid namespace)",
                self.invisible
            )?;
        }
        if self.skipped_self {
            write!(f, ", caller skipped")?;
        }
        if self.freeze_confirmed == Some(false) {
            write!(f, " (freeze not confirmed in time)")?;
        }
        Ok(())
    }
}

/// Signals every process of the cgroup at `path` and its descendants with
/// the default [`Options`] and the given fallback policy.
pub fn signal_cgroup(
    path: impl AsRef<Path>,
    signal: SignalNumber,
    fallback: Fallback,
) -> Result<Report, Error> {
    signal_cgroup_with(path, signal, &Options::new().fallback(fallback))
}

/// Signals every process of the cgroup at `path` and its descendants.
///
/// Check [`Report::complete`] (or `converged`): the fallbacks return `Ok`
/// also when some processes could not be signalled.
pub fn signal_cgroup_with(
    path: impl AsRef<Path>,
    signal: SignalNumber,
    opts: &Options,
) -> Result<Report, Error> {
    let path = path.as_ref();
    if opts.verify_cgroup2 {
        cgroup::check_cgroup2(path)?;
    } else if !path.is_dir() {
        return Err(Error::NotFound {
            path: path.to_owned(),
        });
    }
    if cgroup::is_threaded(path) {
        return Err(Error::Threaded {
            path: path.to_owned(),
            domain: cgroup::threaded_domain(path),
        });
    }
    if !opts.allow_root && cgroup::is_root(path) {
        return Err(Error::RootCgroup {
            path: path.to_owned(),
        });
    }
    let available = Interfaces::probe(path).without(opts.hide);
    let route = decide(opts.method, opts.fallback, available, signal).ok_or_else(|| {
        Error::Unsupported {
            path: path.to_owned(),
            signal,
        }
    })?;
    match route {
        Route::Signal => {
            write_file(path, cgroup::SIGNAL_FILE, &format!("{}\n", signal.get()))?;
            Ok(Report::kernel(Route::Signal, signal))
        }
        Route::Kill => {
            write_file(path, cgroup::KILL_FILE, "1\n")?;
            Ok(Report::kernel(Route::Kill, signal))
        }
        Route::FreezeLoop => freeze_and_kill(path, signal, opts),
        Route::Loop => kill_loop(path, signal, opts, Route::Loop, None),
    }
}

/// Writes `value` to the existing file `name` of `cgroup`, mapping errors
/// with [`Error::from_write`].
fn write_file(cgroup: &Path, name: &str, value: &str) -> Result<(), Error> {
    let file = cgroup.join(name);
    OpenOptions::new()
        .write(true)
        .open(&file)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .map_err(|e| {
            if name == cgroup::SIGNAL_FILE {
                Error::from_write(e, cgroup, &file, value)
            } else {
                Error::from_io(e, cgroup, &file)
            }
        })
}

/// The freeze route: freeze unless already frozen, wait for `frozen 1`, run
/// the passes, thaw what we froze (also when the passes failed, and by a
/// drop guard if they panicked).
///
/// A cgroup is only removed once empty, so `ENOENT`/`ENODEV` on the thaw
/// means the job is done, not an error.
fn freeze_and_kill(path: &Path, signal: SignalNumber, opts: &Options) -> Result<Report, Error> {
    let me = getpid().as_raw_pid();
    let listed = match subtree_pids(path) {
        // Removed, so empty: the loop reports that.
        Err(Error::Removed { .. }) => return kill_loop(path, signal, opts, Route::Loop, None),
        other => other?,
    };
    if listed.contains(&me) {
        // Freezing our own cgroup would freeze us: no one would thaw it.
        if opts.method == Method::Freeze {
            return Err(Error::CallerInSubtree {
                path: path.to_owned(),
            });
        }
        return kill_loop(path, signal, opts, Route::Loop, None);
    }
    let freeze_file = path.join(cgroup::FREEZE_FILE);
    let current =
        fs::read_to_string(&freeze_file).map_err(|e| Error::from_io(e, path, &freeze_file))?;
    let plan = FreezePlan::from_freeze_file(&current);
    let guard = if plan == FreezePlan::FreezeAndThaw {
        write_file(path, cgroup::FREEZE_FILE, "1\n")?;
        Some(ThawGuard { path: Some(path) })
    } else {
        None
    };
    let result = wait_frozen(path, opts.freeze_timeout)
        .and_then(|confirmed| kill_loop(path, signal, opts, Route::FreezeLoop, Some(confirmed)));
    match guard {
        Some(guard) => after_thaw(path, result, guard.thaw()),
        None => result,
    }
}

/// Thaws the cgroup it holds when dropped (a panic during the passes), unless
/// [`ThawGuard::thaw`] did it first.
struct ThawGuard<'a> {
    path: Option<&'a Path>,
}

impl ThawGuard<'_> {
    /// Thaws now and disarms the guard.
    fn thaw(mut self) -> Result<(), Error> {
        match self.path.take() {
            Some(path) => write_file(path, cgroup::FREEZE_FILE, "0\n"),
            None => Ok(()),
        }
    }
}

impl Drop for ThawGuard<'_> {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            // Unwinding: nowhere to report a failure.
            let _ = write_file(path, cgroup::FREEZE_FILE, "0\n");
        }
    }
}

/// The result of the freeze route given the result of the passes and of our
/// thaw: a failed thaw (but for a removed, hence empty, cgroup) wins, as
/// [`Error::LeftFrozen`], because the cgroup is left frozen.
fn after_thaw(
    path: &Path,
    result: Result<Report, Error>,
    thaw: Result<(), Error>,
) -> Result<Report, Error> {
    match thaw {
        Ok(()) | Err(Error::Removed { .. }) => result,
        Err(e) => Err(Error::LeftFrozen {
            path: path.to_owned(),
            source: Box::new(e),
        }),
    }
}

/// Polls `cgroup.events` until `frozen 1` or `timeout` (no deadline if
/// `timeout` is too large to add to the clock); returns whether it was seen.
/// A removed cgroup (empty) counts as frozen.
fn wait_frozen(path: &Path, timeout: Duration) -> Result<bool, Error> {
    let deadline = Instant::now().checked_add(timeout);
    let mut step = Duration::from_millis(1);
    loop {
        match cgroup::event(path, "frozen") {
            Ok(true) | Err(Error::Removed { .. }) => return Ok(true),
            Ok(false) => {}
            Err(e) => return Err(e),
        }
        let mut nap = step;
        if let Some(deadline) = deadline {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            nap = nap.min(deadline - now);
        }
        thread::sleep(nap);
        step = (step * 2).min(Duration::from_millis(20));
    }
}

/// Tells processes apart across passes despite pid reuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum ProcKey {
    /// The pidfd's inode on pidfs (Linux 6.9+): unique for the boot.
    Inode(u64),
    /// The pid and the start time (`/proc/PID/stat` field 22).
    Start(i32, u64),
    /// The pid alone (no pidfd, no `/proc`).
    Pid(i32),
}

/// `PID_FS_MAGIC`: pidfds live on pidfs (Linux 6.9+).
const PIDFS_MAGIC: i64 = 0x5049_4446;

/// The start time of `pid` in clock ticks after boot, from `/proc`.
fn start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    // Field 3 (state) is the first after the command; field 22 is starttime.
    after_comm.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// The identity of the process behind `pidfd` (opened for `pid`).
fn key_of(pid: i32, pidfd: Option<&OwnedFd>) -> ProcKey {
    if let Some(fd) = pidfd {
        // f_type's integer type differs between architectures.
        #[allow(clippy::unnecessary_cast)]
        let on_pidfs = rustix::fs::fstatfs(fd).is_ok_and(|s| s.f_type as i64 == PIDFS_MAGIC);
        if on_pidfs {
            if let Ok(st) = rustix::fs::fstat(fd) {
                // st_ino's integer type differs between architectures.
                #[allow(clippy::unnecessary_cast)]
                return ProcKey::Inode(st.st_ino as u64);
            }
        }
    }
    start_time(pid).map_or(ProcKey::Pid(pid), |t| ProcKey::Start(pid, t))
}

/// How a target is reached.
enum Handle {
    /// Through its pidfd.
    Pidfd(OwnedFd),
    /// By its bare pid with `kill(2)`: no `pidfd_open(2)` (before 5.3).
    Bare,
    /// Not at all: `pidfd_open(2)` said `EINVAL`, the pid now names a thread
    /// that leads no process. A failure only if the pid is still listed.
    NotLeader,
}

/// A process about to be signalled.
struct Target {
    pid: i32,
    key: ProcKey,
    handle: Handle,
}

/// The most pidfds a pass holds at once: the targets are signalled in
/// batches of this size, so the passes stay far from `RLIMIT_NOFILE`
/// (1024 by default) whatever the number of processes.
const PIDFD_BATCH: usize = 256;

/// Runs `open` on each of `items` and hands the targets it returns to `flush`
/// in batches of at most `limit` (at least 1) targets, in order: a batch is
/// flushed as soon as it is full, and the rest at the end; an empty batch is
/// never flushed. `state` is lent to both. Stops at the first error of
/// `flush`.
fn in_batches<S, I, T, E>(
    state: &mut S,
    items: impl IntoIterator<Item = I>,
    limit: usize,
    mut open: impl FnMut(&mut S, I) -> Option<T>,
    mut flush: impl FnMut(&mut S, Vec<T>) -> Result<(), E>,
) -> Result<(), E> {
    let limit = limit.max(1);
    let mut batch = Vec::with_capacity(limit);
    for item in items {
        if let Some(t) = open(state, item) {
            batch.push(t);
            if batch.len() == limit {
                flush(
                    state,
                    std::mem::replace(&mut batch, Vec::with_capacity(limit)),
                )?;
            }
        }
    }
    if !batch.is_empty() {
        flush(state, batch)?;
    }
    Ok(())
}

/// What the passes of [`kill_loop`] carry from one batch to the next.
struct PassState {
    report: Report,
    /// Processes signalled (or failed) so far: not signalled again.
    seen: HashSet<ProcKey>,
    signalled: usize,
    /// New processes (or vanished pids) found by this pass.
    new: usize,
}

impl PassState {
    fn fail(&mut self, pid: i32, e: Errno) {
        self.report.failed += 1;
        self.report.first_failure.get_or_insert(SignalFailure {
            pid,
            errno: e.raw_os_error(),
        });
    }
}

/// `kill(2)` passes over the subtree until one finds no new process, at
/// most `opts.max_passes`. The calling process is never signalled.
///
/// Each pass reads every `cgroup.procs` and, in batches of at most
/// [`PIDFD_BATCH`], opens a pidfd for each pid not signalled yet, reads the
/// subtree again and signals (through the pidfd) those still listed, then
/// closes the batch's pidfds: the pidfd pins the process, the second read
/// proves it was in the subtree after the pidfd was opened, so a recycled
/// pid is never signalled. A process that could not be signalled is
/// recorded and the passes go on. A pid whose pidfd cannot be opened for
/// lack of file descriptors (`EMFILE`, `ENFILE`) is left to the next pass.
/// The top cgroup vanishing means it was empty (a cgroup can only be
/// removed once empty): the loop has converged.
fn kill_loop(
    path: &Path,
    signal: SignalNumber,
    opts: &Options,
    route: Route,
    freeze_confirmed: Option<bool>,
) -> Result<Report, Error> {
    let sig = signal.to_rustix().ok_or_else(|| Error::Unsupported {
        path: path.to_owned(),
        signal,
    })?;
    let read = || match cgroup::subtree_procs(path) {
        Err(Error::Removed { .. }) => Ok(cgroup::Procs::default()),
        other => other,
    };
    let me = getpid().as_raw_pid();
    let mut st = PassState {
        report: Report {
            route,
            passes: 0,
            signalled: Some(0),
            converged: false,
            freeze_confirmed,
            ..Report::kernel(route, signal)
        },
        seen: HashSet::new(),
        signalled: 0,
        new: 0,
    };
    let open = |st: &mut PassState, pid: i32| -> Option<Target> {
        if pid == me {
            st.report.skipped_self = true;
            return None;
        }
        let raw = Pid::from_raw(pid)?;
        let handle = match pidfd_open(raw, PidfdFlags::empty()) {
            Ok(fd) => Handle::Pidfd(fd),
            Err(Errno::NOSYS) => Handle::Bare,
            Err(Errno::INVAL) => Handle::NotLeader,
            // Gone: it may have forked first, so look again. Out of file
            // descriptors: the next pass tries again.
            Err(Errno::SRCH | Errno::MFILE | Errno::NFILE) => {
                st.new += 1;
                return None;
            }
            Err(e) => {
                if st.seen.insert(key_of(pid, None)) {
                    st.fail(pid, e);
                }
                return None;
            }
        };
        let key = match &handle {
            Handle::Pidfd(fd) => key_of(pid, Some(fd)),
            Handle::Bare | Handle::NotLeader => key_of(pid, None),
        };
        if st.seen.contains(&key) {
            return None;
        }
        st.new += 1;
        Some(Target { pid, key, handle })
    };
    let flush = |st: &mut PassState, targets: Vec<Target>| -> Result<(), Error> {
        // Proves each pidfd's process was in the subtree after the pidfd
        // was opened (if it has died since, the signal goes nowhere).
        let again = read()?;
        for t in targets {
            if !again.pids.contains(&t.pid) {
                continue; // left or died: not ours to signal
            }
            let sent = match &t.handle {
                Handle::Pidfd(fd) => pidfd_send_signal(fd, sig),
                Handle::Bare => kill_process(Pid::from_raw(t.pid).expect("positive pid"), sig),
                // Still listed, so a process leads it again: a real failure.
                Handle::NotLeader => Err(Errno::INVAL),
            };
            match sent {
                Ok(()) => {
                    st.signalled += 1;
                    st.seen.insert(t.key);
                }
                Err(Errno::SRCH) => {}
                Err(e) => {
                    if st.seen.insert(t.key) {
                        st.fail(t.pid, e);
                    }
                }
            }
        }
        Ok(())
        // The batch's pidfds are closed here.
    };
    let mut done = false;
    while st.report.passes < opts.max_passes.max(1) {
        st.report.passes += 1;
        let listed = read()?;
        st.report.invisible = st.report.invisible.max(listed.invisible);
        st.new = 0;
        in_batches(&mut st, listed.pids, PIDFD_BATCH, open, flush)?;
        if st.new == 0 {
            done = true;
            break;
        }
    }
    let mut report = st.report;
    report.signalled = Some(st.signalled);
    report.converged = done && report.failed == 0 && report.invisible == 0;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    fn sig(n: i32) -> SignalNumber {
        SignalNumber::new(n).unwrap()
    }

    const KILL_ONLY: Interfaces = Interfaces::new(false, true, true);
    const FREEZE_ONLY: Interfaces = Interfaces::new(false, false, true);

    /// What the fake cgroup's `cgroup.freeze` holds.
    fn freeze_state(dir: &Path) -> String {
        fs::read_to_string(dir.join("cgroup.freeze")).unwrap()
    }

    #[test]
    fn auto_prefers_the_kernel() {
        let term = SignalNumber::TERM;
        let kill = SignalNumber::KILL;
        let auto = |a, s| decide(Method::Auto, Fallback::Auto, a, s);
        let never = |a, s| decide(Method::Auto, Fallback::Never, a, s);
        assert_eq!(auto(Interfaces::ALL, term), Some(Route::Signal));
        assert_eq!(auto(Interfaces::ALL, kill), Some(Route::Signal));
        assert_eq!(auto(KILL_ONLY, kill), Some(Route::Kill));
        assert_eq!(auto(KILL_ONLY, term), Some(Route::FreezeLoop));
        assert_eq!(auto(FREEZE_ONLY, kill), Some(Route::FreezeLoop));
        assert_eq!(auto(Interfaces::NONE, term), Some(Route::Loop));
        assert_eq!(never(Interfaces::ALL, term), Some(Route::Signal));
        assert_eq!(never(KILL_ONLY, kill), Some(Route::Kill));
        assert_eq!(never(KILL_ONLY, term), None);
        assert_eq!(never(Interfaces::NONE, kill), None);
        // 32 is reserved by glibc: only cgroup.signal delivers it.
        assert_eq!(auto(Interfaces::ALL, sig(32)), Some(Route::Signal));
        assert_eq!(auto(KILL_ONLY, sig(32)), None);
        assert_eq!(auto(Interfaces::NONE, sig(64)), Some(Route::Loop));
    }

    #[test]
    fn forced_methods() {
        let f = |m, a, s| decide(m, Fallback::Never, a, s);
        let (term, kill) = (SignalNumber::TERM, SignalNumber::KILL);
        assert_eq!(
            f(Method::Signal, Interfaces::ALL, term),
            Some(Route::Signal)
        );
        assert_eq!(f(Method::Signal, KILL_ONLY, kill), None);
        assert_eq!(f(Method::Kill, Interfaces::ALL, kill), Some(Route::Kill));
        assert_eq!(f(Method::Kill, Interfaces::ALL, term), None);
        assert_eq!(f(Method::Kill, FREEZE_ONLY, kill), None);
        assert_eq!(
            f(Method::Freeze, Interfaces::ALL, term),
            Some(Route::FreezeLoop)
        );
        assert_eq!(f(Method::Freeze, Interfaces::NONE, term), None);
        assert_eq!(f(Method::Loop, Interfaces::ALL, term), Some(Route::Loop));
        assert_eq!(f(Method::Loop, Interfaces::ALL, sig(33)), None);
    }

    #[test]
    fn freeze_plan() {
        assert_eq!(
            FreezePlan::from_freeze_file("0\n"),
            FreezePlan::FreezeAndThaw
        );
        assert_eq!(
            FreezePlan::from_freeze_file("1\n"),
            FreezePlan::AlreadyFrozen
        );
        assert_eq!(FreezePlan::from_freeze_file(""), FreezePlan::FreezeAndThaw);
    }

    #[test]
    fn report_display() {
        let mut r = Report::kernel(Route::Signal, SignalNumber::TERM);
        assert_eq!(r.to_string(), "SIGTERM via cgroup.signal");
        r.route = Route::FreezeLoop;
        r.passes = 2;
        r.signalled = Some(20);
        assert_eq!(
            r.to_string(),
            "SIGTERM via freeze + kill(2): 2 passes, 20 processes signalled, converged"
        );
        r.route = Route::Loop;
        r.passes = 1;
        r.signalled = Some(1);
        r.converged = false;
        r.freeze_confirmed = Some(false);
        assert_eq!(
            r.to_string(),
            "SIGTERM via kill(2) loop: 1 pass, 1 process signalled, NOT converged (freeze not confirmed in time)"
        );
        assert!(!r.complete());
        r.failed = 2;
        r.first_failure = Some(SignalFailure {
            pid: 7,
            errno: libc::EPERM,
        });
        r.invisible = 3;
        r.skipped_self = true;
        r.freeze_confirmed = None;
        assert_eq!(
            r.to_string(),
            "SIGTERM via kill(2) loop: 1 pass, 1 process signalled, NOT converged, \
             2 failed (first: pid 7: Operation not permitted (os error 1)), \
             3 invisible (outside our pid namespace), caller skipped"
        );
        assert_eq!(Route::FreezeLoop.as_str(), "freeze");
        assert!(Route::Kill.is_kernel() && !Route::Loop.is_kernel());
    }

    /// A fake (non-root) cgroup directory: the given interface files plus
    /// `cgroup.procs`, `cgroup.type` and `cgroup.events` (`frozen 1`).
    fn fake(interfaces: Interfaces, procs: &str, freeze: &str) -> tempfile::TempDir {
        fake_events(interfaces, procs, freeze, "populated 1\nfrozen 1\n")
    }

    fn fake_events(
        interfaces: Interfaces,
        procs: &str,
        freeze: &str,
        events: &str,
    ) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join(cgroup::PROCS_FILE), procs).unwrap();
        fs::write(p.join(cgroup::TYPE_FILE), "domain\n").unwrap();
        fs::write(p.join(cgroup::EVENTS_FILE), events).unwrap();
        if interfaces.signal {
            fs::write(p.join(cgroup::SIGNAL_FILE), "").unwrap();
        }
        if interfaces.kill {
            fs::write(p.join(cgroup::KILL_FILE), "").unwrap();
        }
        if interfaces.freeze {
            fs::write(p.join(cgroup::FREEZE_FILE), freeze).unwrap();
        }
        dir
    }

    fn fake_opts() -> Options {
        Options::new()
            .verify_cgroup2(false)
            .freeze_timeout(Duration::from_millis(50))
    }

    #[test]
    fn real_check_refuses_plain_directories() {
        let dir = fake(Interfaces::ALL, "", "0\n");
        let err = signal_cgroup(dir.path(), SignalNumber::TERM, Fallback::Auto).unwrap_err();
        assert!(matches!(err, Error::NotCgroupV2 { .. }), "{err:?}");
    }

    #[test]
    fn kernel_routes_write_their_files() {
        let dir = fake(Interfaces::ALL, "", "0\n");
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &fake_opts()).unwrap();
        assert_eq!((r.route, r.signalled), (Route::Signal, None));
        assert_eq!(
            fs::read_to_string(dir.path().join("cgroup.signal")).unwrap(),
            "15\n"
        );

        let hide_signal = fake_opts().hide(Interfaces::new(true, false, false));
        let r = signal_cgroup_with(dir.path(), SignalNumber::KILL, &hide_signal).unwrap();
        assert_eq!(r.route, Route::Kill);
        assert_eq!(
            fs::read_to_string(dir.path().join("cgroup.kill")).unwrap(),
            "1\n"
        );

        let never = hide_signal.fallback(Fallback::Never);
        let err = signal_cgroup_with(dir.path(), SignalNumber::TERM, &never).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    }

    #[test]
    fn threaded_and_missing_paths() {
        let dir = fake(Interfaces::ALL, "", "0\n");
        fs::write(dir.path().join(cgroup::TYPE_FILE), "threaded\n").unwrap();
        let err = signal_cgroup_with(dir.path(), SignalNumber::TERM, &fake_opts()).unwrap_err();
        assert!(matches!(err, Error::Threaded { .. }), "{err:?}");
        let err = signal_cgroup_with(dir.path().join("nope"), SignalNumber::TERM, &fake_opts())
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn freeze_route_thaws_only_what_it_froze() {
        let forced = fake_opts().method(Method::Freeze);
        let dir = fake(Interfaces::ALL, "", "0\n");
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &forced).unwrap();
        assert_eq!(r.route, Route::FreezeLoop);
        assert_eq!((r.passes, r.signalled, r.converged), (1, Some(0), true));
        assert_eq!(r.freeze_confirmed, Some(true));
        // We wrote 1 and then 0.
        assert_eq!(freeze_state(dir.path()), "0\n");

        let dir = fake(Interfaces::ALL, "", "1\n");
        signal_cgroup_with(dir.path(), SignalNumber::TERM, &forced).unwrap();
        // The caller's freeze is untouched.
        assert_eq!(freeze_state(dir.path()), "1\n");
    }

    #[test]
    fn loop_route_signals_a_real_child_once() {
        let mut child = Command::new("sleep").arg("30").spawn().unwrap();
        let procs = format!("{}\n", child.id());
        let dir = fake(Interfaces::NONE, &procs, "");
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &fake_opts()).unwrap();
        assert_eq!(r.route, Route::Loop);
        // Pass 1 signals the child, pass 2 finds no new pid.
        assert_eq!((r.passes, r.signalled, r.converged), (2, Some(1), true));
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(libc::SIGTERM));
    }

    static GOT_USR1: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    extern "C" fn on_usr1(_: libc::c_int) {
        GOT_USR1.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    #[test]
    fn loop_route_skips_the_caller_and_bounds_passes() {
        // SAFETY: the handler only stores to an atomic.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_usr1 as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
        }
        let usr1 = SignalNumber::new(libc::SIGUSR1).unwrap();
        let me = std::process::id();
        let dir = fake(Interfaces::NONE, &format!("{me}\n"), "");
        let opts = fake_opts().max_passes(3);
        let r = signal_cgroup_with(dir.path(), usr1, &opts).unwrap();
        assert_eq!((r.passes, r.signalled, r.converged), (1, Some(0), true));
        assert!(r.skipped_self);
        // The handler runs before kill(2) returns when the caller signals
        // itself; a sleep covers delivery to another thread of ours.
        thread::sleep(Duration::from_millis(50));
        assert!(!GOT_USR1.load(std::sync::atomic::Ordering::SeqCst));
        // 0 passes is taken as 1, by the builder and by the loop.
        assert_eq!(Options::new().max_passes(0).max_passes, 1);
        let mut opts = fake_opts();
        opts.max_passes = 0;
        let r = signal_cgroup_with(dir.path(), usr1, &opts).unwrap();
        assert_eq!((r.passes, r.converged), (1, true));
    }

    #[test]
    fn forced_freeze_refuses_the_callers_subtree() {
        let me = std::process::id();
        let dir = fake(Interfaces::ALL, &format!("{me}\n"), "0\n");
        let usr1 = SignalNumber::new(libc::SIGUSR1).unwrap();
        let err =
            signal_cgroup_with(dir.path(), usr1, &fake_opts().method(Method::Freeze)).unwrap_err();
        assert!(matches!(err, Error::CallerInSubtree { .. }), "{err:?}");
        // Auto takes the loop and says it skipped us; nothing was frozen.
        let auto = fake_opts().hide(Interfaces::new(true, true, false));
        let dir = fake(
            Interfaces::new(false, false, true),
            &format!("{me}\n"),
            "0\n",
        );
        let r = signal_cgroup_with(dir.path(), usr1, &auto).unwrap();
        assert_eq!((r.route, r.skipped_self), (Route::Loop, true));
        assert_eq!(freeze_state(dir.path()), "0\n");
    }

    #[test]
    fn freeze_timeout_is_reported() {
        let dir = fake_events(Interfaces::ALL, "", "0\n", "populated 1\nfrozen 0\n");
        let opts = fake_opts()
            .method(Method::Freeze)
            .freeze_timeout(Duration::from_millis(30));
        let t = Instant::now();
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &opts).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(30));
        assert_eq!(r.freeze_confirmed, Some(false));
        assert!(r.converged && !r.complete());
        assert_eq!(freeze_state(dir.path()), "0\n");
    }

    #[test]
    fn huge_freeze_timeout_does_not_overflow() {
        let dir = fake(Interfaces::ALL, "", "0\n");
        let opts = fake_opts()
            .method(Method::Freeze)
            .freeze_timeout(Duration::MAX);
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &opts).unwrap();
        assert_eq!(r.freeze_confirmed, Some(true));
        assert_eq!(freeze_state(dir.path()), "0\n");
    }

    #[test]
    fn thaw_guard_thaws_on_panic_only_if_armed() {
        let dir = fake(Interfaces::ALL, "", "1\n");
        let p = dir.path();
        let unwound = std::panic::catch_unwind(|| {
            let _guard = ThawGuard { path: Some(p) };
            panic!("panic while frozen (expected by this test)");
        });
        assert!(unwound.is_err());
        assert_eq!(freeze_state(p), "0\n");
        fs::write(p.join("cgroup.freeze"), "1\n").unwrap();
        ThawGuard { path: Some(p) }.thaw().unwrap();
        assert_eq!(freeze_state(p), "0\n");
        fs::write(p.join("cgroup.freeze"), "1\n").unwrap();
        drop(ThawGuard { path: None });
        assert_eq!(freeze_state(p), "1\n");
    }

    #[test]
    fn failed_thaw_is_reported() {
        let cg = Path::new("/sys/fs/cgroup/job");
        let ok = || Ok(Report::kernel(Route::FreezeLoop, SignalNumber::TERM));
        let io = || Error::Io {
            path: cg.join("cgroup.freeze"),
            source: std::io::Error::from_raw_os_error(libc::EIO),
        };
        let removed = || Error::Removed { path: cg.into() };
        assert!(after_thaw(cg, ok(), Ok(())).is_ok());
        assert!(after_thaw(cg, ok(), Err(removed())).is_ok());
        let passes_failed = after_thaw(cg, Err(removed()), Ok(())).unwrap_err();
        assert!(matches!(passes_failed, Error::Removed { .. }));
        for result in [ok(), Err(removed())] {
            let err = after_thaw(cg, result, Err(io())).unwrap_err();
            assert!(matches!(err, Error::LeftFrozen { .. }), "{err:?}");
            assert!(
                err.to_string()
                    .starts_with("/sys/fs/cgroup/job: cgroup left frozen, thawing it failed: "),
                "{err}"
            );
            assert_eq!(err.path(), Some(cg));
        }
    }

    #[test]
    fn batches_hold_at_most_the_limit() {
        // Odd items are skipped by `open`; batches count only what it returns.
        let run = |n: i32, limit: usize| {
            let mut batches: Vec<Vec<i32>> = Vec::new();
            in_batches(
                &mut batches,
                1..=n,
                limit,
                |_, i| (i % 2 == 0).then_some(i),
                |b, batch| {
                    b.push(batch);
                    Ok::<(), ()>(())
                },
            )
            .unwrap();
            batches
        };
        assert!(run(0, 3).is_empty());
        assert!(run(1, 3).is_empty());
        assert_eq!(run(6, 3), [vec![2, 4, 6]]);
        assert_eq!(run(7, 3), [vec![2, 4, 6]]);
        assert_eq!(run(8, 3), [vec![2, 4, 6], vec![8]]);
        assert_eq!(run(4, 0), [vec![2], vec![4]]);
        let big = run(2 * 1000, PIDFD_BATCH);
        assert_eq!(
            big.iter().map(Vec::len).collect::<Vec<_>>(),
            [256, 256, 256, 232]
        );
        assert_eq!(big.concat(), (1..=1000).map(|i| 2 * i).collect::<Vec<_>>());
        // The first error of `flush` stops the batching.
        let mut flushed = 0;
        let r = in_batches(
            &mut flushed,
            1..=10,
            2,
            |_, i| Some(i),
            |f, _| {
                *f += 1;
                Err(*f)
            },
        );
        assert_eq!((r, flushed), (Err(1), 1));
    }

    #[test]
    fn invisible_processes_prevent_convergence() {
        let dir = fake(Interfaces::NONE, "0\n0\n", "");
        let r = signal_cgroup_with(dir.path(), SignalNumber::TERM, &fake_opts()).unwrap();
        assert_eq!((r.invisible, r.signalled, r.converged), (2, Some(0), false));
        assert!(r.to_string().contains("2 invisible"), "{r}");
    }

    #[test]
    fn removed_cgroup_means_empty() {
        let dir = fake(Interfaces::NONE, "", "");
        let gone = dir.path().join("gone");
        let r = kill_loop(&gone, SignalNumber::TERM, &fake_opts(), Route::Loop, None).unwrap();
        assert_eq!((r.passes, r.signalled, r.converged), (1, Some(0), true));
    }

    #[test]
    fn root_cgroup_needs_opt_in() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(cgroup::PROCS_FILE), "").unwrap();
        let err = signal_cgroup_with(dir.path(), SignalNumber::TERM, &fake_opts()).unwrap_err();
        assert!(matches!(err, Error::RootCgroup { .. }), "{err:?}");
        let r = signal_cgroup_with(
            dir.path(),
            SignalNumber::TERM,
            &fake_opts().allow_root(true),
        )
        .unwrap();
        assert_eq!((r.route, r.converged), (Route::Loop, true));
    }

    #[test]
    fn process_keys_tell_reused_pids_apart() {
        let me = std::process::id() as i32;
        let fd = pidfd_open(Pid::from_raw(me).unwrap(), PidfdFlags::empty()).ok();
        let key = key_of(me, fd.as_ref());
        assert_eq!(key, key_of(me, fd.as_ref()));
        assert!(
            matches!(key, ProcKey::Inode(_) | ProcKey::Start(_, _)),
            "{key:?}"
        );
        assert!(start_time(me).is_some());
        assert_eq!(start_time(i32::MAX), None);
    }
}
