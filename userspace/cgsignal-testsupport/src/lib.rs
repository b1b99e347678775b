//! Support for the in-VM test (`cgsignal-vmtest`) and the demo helper
//! (`cgsignal-demo-workload`): throw-away cgroups, worker processes that record
//! the signals they get, forkbombs, and process-state counts.
//!
//! Everything here forks. The children run ordinary Rust (allocation,
//! threads) after `fork()`, which is sound only when the parent has no other
//! thread: [`spawn_worker`], [`spawn_forkbomb`] and [`spawn_slot_forkbomb`]
//! check that the caller is single-threaded (`/proc/self/task`) and return an
//! error otherwise. A panic in a child ends that child with `_exit(1)`; it
//! never unwinds into the caller's code.

#![warn(missing_docs)]

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::mman::{mmap_anonymous, munmap, MapFlags, ProtFlags};
use nix::unistd::{fork, gettid, pipe, setsid, ForkResult, Pid};

pub use cgroup_signal::cgroup::{event, subtree_pids};

/// A test failure or set-up error, as text for a diagnostic line.
pub type TestResult<T = ()> = Result<T, String>;

/// Adds context to any error, as text.
pub trait Context<T> {
    /// `what: error`.
    fn ctx(self, what: impl std::fmt::Display) -> TestResult<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl std::fmt::Display) -> TestResult<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Polls `f` every few milliseconds until it returns true or `timeout`
/// passes; returns whether it did.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Writes `value` to an existing file (no create, no truncate: cgroup files).
pub fn write_file(path: &Path, value: &str) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)?
        .write_all(value.as_bytes())
}

/// Reads a file, trimmed.
pub fn read_trim(path: &Path) -> io::Result<String> {
    Ok(fs::read_to_string(path)?.trim().to_owned())
}

/// Whether the cgroup at `dir` reports `populated 1`; a vanished cgroup is
/// not populated.
pub fn populated(dir: &Path) -> bool {
    event(dir, "populated").unwrap_or(false)
}

/// Whether the cgroup at `dir` reports `frozen 1`.
pub fn frozen(dir: &Path) -> bool {
    event(dir, "frozen").unwrap_or(false)
}

/// Every cgroup directory of the subtree at `top`, parents before children.
pub fn subtree_dirs(top: &Path) -> Vec<PathBuf> {
    let mut out = vec![top.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if let Ok(entries) = fs::read_dir(&out[i]) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    out.push(e.path());
                }
            }
        }
        i += 1;
    }
    out
}

/// Kills every process of the subtree at `top` (`cgroup.kill`, else
/// `kill(2)` passes), thaws every frozen cgroup of it, waits (bounded) for
/// it to empty and removes its directories, deepest first. Best effort:
/// returns a description of what could not be done.
pub fn destroy_cgroup(top: &Path) -> TestResult {
    if !top.exists() {
        return Ok(());
    }
    if write_file(&top.join("cgroup.kill"), "1").is_err() {
        for _ in 0..20 {
            let pids = subtree_pids(top).unwrap_or_default();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::SIGKILL);
            }
        }
    }
    let dirs = subtree_dirs(top);
    for dir in &dirs {
        let _ = write_file(&dir.join("cgroup.freeze"), "0");
    }
    let emptied = wait_until(Duration::from_secs(10), || !populated(top));
    let mut failed = Vec::new();
    for dir in dirs.iter().rev() {
        let removed = wait_until(Duration::from_secs(2), || match fs::remove_dir(dir) {
            Ok(()) => true,
            Err(e) => e.kind() == io::ErrorKind::NotFound,
        });
        if !removed {
            failed.push(dir.display().to_string());
        }
    }
    match (emptied, failed.is_empty()) {
        (true, true) => Ok(()),
        _ => Err(format!(
            "cleanup of {}: emptied={emptied}, not removed: [{}]",
            top.display(),
            failed.join(", ")
        )),
    }
}

/// A throw-away cgroup, destroyed (processes killed, directories removed) on
/// drop, also when a test fails or panics.
#[derive(Debug)]
pub struct TestCgroup {
    path: PathBuf,
}

impl TestCgroup {
    /// Creates `parent/name`, removing a leftover of an earlier run first.
    pub fn create(parent: &Path, name: &str) -> TestResult<Self> {
        let path = parent.join(name);
        destroy_cgroup(&path)?;
        fs::create_dir(&path).ctx(format!("mkdir {}", path.display()))?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the descendant `rel` (e.g. `a/b`), parents included, and
    /// returns its path.
    pub fn mkdir(&self, rel: &str) -> TestResult<PathBuf> {
        let p = self.path.join(rel);
        fs::create_dir_all(&p).ctx(format!("mkdir {}", p.display()))?;
        Ok(p)
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Err(e) = destroy_cgroup(&self.path) {
            println!("# {e}");
        }
    }
}

/// Freezes (`1`) or thaws (`0`) one cgroup and, when freezing, waits
/// (bounded) for `frozen 1`.
pub fn set_frozen(dir: &Path, freeze: bool) -> TestResult {
    let file = dir.join("cgroup.freeze");
    write_file(&file, if freeze { "1" } else { "0" }).ctx(file.display())?;
    if freeze && !wait_until(Duration::from_secs(10), || frozen(dir)) {
        return Err(format!("{}: not frozen after 10 s", dir.display()));
    }
    Ok(())
}

/// Counters in a `MAP_SHARED` anonymous mapping, shared with forked
/// children: each worker's signal handler increments its own slot.
#[derive(Debug)]
pub struct Counters {
    ptr: NonNull<AtomicU32>,
    len: usize,
}

impl Counters {
    /// `len` zeroed counters.
    pub fn new(len: usize) -> TestResult<Self> {
        let bytes = NonZeroUsize::new(len.max(1) * std::mem::size_of::<AtomicU32>())
            .ok_or("empty mapping")?;
        // SAFETY: a fresh anonymous mapping touches no existing memory.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                bytes,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .ctx("mmap")?;
        Ok(Self {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The counters: zero-filled memory is a valid `AtomicU32`, the mapping
    /// is page-aligned and lives as long as `self`.
    pub fn slots(&self) -> &[AtomicU32] {
        // SAFETY: see above; the mapping holds `len` (at least one) slots.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Current values.
    pub fn values(&self) -> Vec<u32> {
        self.slots()
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect()
    }
}

impl Drop for Counters {
    fn drop(&mut self) {
        let bytes = self.len.max(1) * std::mem::size_of::<AtomicU32>();
        // SAFETY: this is the mapping made in `new`, unmapped once.
        let _ = unsafe { munmap(self.ptr.cast(), bytes) };
    }
}

/// What the handler of a worker records. Set in the child before the
/// handler is installed; only read by the handler.
static HANDLER_COUNTER: AtomicPtr<AtomicU32> = AtomicPtr::new(std::ptr::null_mut());
static HANDLER_LOG_FD: AtomicI32 = AtomicI32::new(-1);
static HANDLER_LOG_LINE: OnceLock<Vec<u8>> = OnceLock::new();
static HANDLER_GOT: AtomicBool = AtomicBool::new(false);

/// The worker's signal handler: async-signal-safe (atomics and `write(2)`,
/// with `errno` saved and restored around it).
extern "C" fn on_signal(_sig: libc::c_int) {
    // SAFETY: the thread's errno location is always valid.
    let saved_errno = unsafe { *libc::__errno_location() };
    // SAFETY: the pointer is null or points into a live `Counters` mapping
    // inherited from the parent, which the child never unmaps.
    if let Some(counter) = unsafe { HANDLER_COUNTER.load(Ordering::SeqCst).as_ref() } {
        counter.fetch_add(1, Ordering::SeqCst);
    }
    let fd = HANDLER_LOG_FD.load(Ordering::SeqCst);
    if let (true, Some(line)) = (fd >= 0, HANDLER_LOG_LINE.get()) {
        // SAFETY: `line` is a live buffer; a short or failed write is fine.
        unsafe { libc::write(fd, line.as_ptr().cast(), line.len()) };
    }
    HANDLER_GOT.store(true, Ordering::SeqCst);
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Fails unless the calling process has exactly one thread: forking from a
/// multi-threaded process and then running ordinary Rust in the child is
/// unsound (another thread may have held a lock, e.g. the allocator's).
pub fn ensure_single_threaded() -> TestResult {
    let n = fs::read_dir("/proc/self/task")
        .ctx("/proc/self/task")?
        .count();
    if n == 1 {
        Ok(())
    } else {
        Err(format!(
            "the caller has {n} threads: forking helpers need a single-threaded process"
        ))
    }
}

/// Runs the body of a forked child: a panic ends the child with
/// `_exit(1)` instead of unwinding into the caller's code; returning ends it
/// with `_exit(0)`.
fn child_main(body: impl FnOnce()) -> ! {
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(()) => 0,
        Err(_) => 1,
    };
    // SAFETY: plain process exit, no destructors or atexit handlers wanted.
    unsafe { libc::_exit(code) }
}

/// Installs [`on_signal`] for the raw signal number `sig` (realtime signals
/// included, which nix's `Signal` enum cannot name).
fn install_handler(sig: i32) -> io::Result<()> {
    // SAFETY: a zeroed sigaction is valid; the handler is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// How a worker process is set up.
#[derive(Debug, Default)]
pub struct WorkerSpec<'a> {
    /// The cgroup the process moves into (`cgroup.procs`).
    pub cgroup: PathBuf,
    /// The signal to handle; `None` leaves every disposition as inherited.
    pub handle: Option<i32>,
    /// The counter the handler increments.
    pub counter: Option<&'a AtomicU32>,
    /// A file the handler appends `"PID got SIG...\n"` to.
    pub log: Option<&'a File>,
    /// Name of the handled signal in the log line.
    pub log_name: &'a str,
    /// Threaded cgroup for the main thread (`cgroup.threads`), if any.
    pub main_thread_cgroup: Option<PathBuf>,
    /// Extra threads, each moved into the given cgroup (`cgroup.threads`).
    pub threads: Vec<PathBuf>,
    /// After the first delivery, stay alive this long (to catch a duplicate
    /// delivery), then exit 0.
    pub linger: Duration,
    /// New session, stdio on `/dev/null`: outlives its parent quietly.
    pub daemon: bool,
}

/// Waits for the one-byte readiness report of a child on `r`.
fn wait_ready(r: &OwnedFd, pid: Pid, timeout: Duration) -> TestResult {
    let ms = u16::try_from(timeout.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
    let n = poll(&mut fds, PollTimeout::from(ms)).ctx("poll")?;
    if n == 0 {
        return Err(format!("child {pid} not ready after {timeout:?}"));
    }
    let mut byte = [0u8; 1];
    match nix::unistd::read(r, &mut byte) {
        Ok(1) if byte[0] == b'k' => Ok(()),
        Ok(_) => Err(format!("child {pid} failed to set up")),
        Err(e) => Err(format!("child {pid}: read: {e}")),
    }
}

/// Moves the calling thread into the threaded cgroup `dir`.
fn move_thread(dir: &Path) -> io::Result<()> {
    write_file(&dir.join("cgroup.threads"), &gettid().to_string())
}

/// Detaches a forked child from the caller: a session of its own, stdio on
/// `/dev/null` (so that `$(cgsignal-demo-workload ...)` does not wait for it).
fn daemonize() -> io::Result<()> {
    setsid()?;
    let null = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    nix::unistd::dup2_stdin(&null)?;
    nix::unistd::dup2_stdout(&null)?;
    nix::unistd::dup2_stderr(&null)?;
    Ok(())
}

/// Child side of [`spawn_worker`]: everything up to readiness.
fn worker_setup(spec: &WorkerSpec<'_>) -> io::Result<()> {
    if spec.daemon {
        daemonize()?;
    }
    write_file(&spec.cgroup.join("cgroup.procs"), "0")?;
    if let Some(counter) = spec.counter {
        HANDLER_COUNTER.store(std::ptr::from_ref(counter).cast_mut(), Ordering::SeqCst);
    }
    if let Some(log) = spec.log {
        let line = format!("{} got {}\n", std::process::id(), spec.log_name);
        let _ = HANDLER_LOG_LINE.set(line.into_bytes());
        HANDLER_LOG_FD.store(log.as_raw_fd(), Ordering::SeqCst);
    }
    if let Some(sig) = spec.handle {
        install_handler(sig)?;
    }
    if let Some(dir) = &spec.main_thread_cgroup {
        move_thread(dir)?;
    }
    let (tx, rx) = std::sync::mpsc::channel();
    for dir in spec.threads.clone() {
        let tx = tx.clone();
        thread::spawn(move || {
            let _ = tx.send(move_thread(&dir));
            drop(tx);
            loop {
                thread::sleep(Duration::from_secs(3600));
            }
        });
    }
    drop(tx);
    for _ in &spec.threads {
        rx.recv_timeout(Duration::from_secs(5))
            .map_err(|e| io::Error::new(io::ErrorKind::TimedOut, e))??;
    }
    Ok(())
}

/// Forks a worker that moves into `spec.cgroup`, handles `spec.handle`, and
/// waits for it; returns once it reported ready (bounded by 10 s). Fails if
/// the caller is not single-threaded.
pub fn spawn_worker(spec: &WorkerSpec<'_>) -> TestResult<Pid> {
    ensure_single_threaded()?;
    let (r, w) = pipe().ctx("pipe")?;
    // SAFETY: the caller is single-threaded (checked above).
    match unsafe { fork() }.ctx("fork")? {
        ForkResult::Child => child_main(move || {
            drop(r);
            report_ready(w, worker_setup(spec).is_ok());
            loop {
                if HANDLER_GOT.load(Ordering::SeqCst) {
                    thread::sleep(spec.linger);
                    // SAFETY: plain process exit, no destructors wanted.
                    unsafe { libc::_exit(0) };
                }
                thread::sleep(Duration::from_millis(50));
            }
        }),
        ForkResult::Parent { child } => {
            drop(w);
            wait_ready(&r, child, Duration::from_secs(10))?;
            Ok(child)
        }
    }
}

/// Forks a forkbomb in `cgroup`: every process forks in a loop, sleeping
/// 100 ms after each failed fork (`pids.max` reached), with `SIGCHLD`
/// ignored so nothing stays a zombie. Returns once the first process is in
/// the cgroup. Fails if the caller is not single-threaded.
pub fn spawn_forkbomb(cgroup: &Path, daemon: bool) -> TestResult<Pid> {
    ensure_single_threaded()?;
    let (r, w) = pipe().ctx("pipe")?;
    // SAFETY: the caller is single-threaded (checked above).
    match unsafe { fork() }.ctx("fork")? {
        ForkResult::Child => child_main(move || {
            drop(r);
            let setup = || -> io::Result<()> {
                if daemon {
                    daemonize()?;
                }
                // SAFETY: SIG_IGN involves no handler code.
                unsafe {
                    nix::sys::signal::signal(
                        nix::sys::signal::SIGCHLD,
                        nix::sys::signal::SigHandler::SigIgn,
                    )
                }?;
                write_file(&cgroup.join("cgroup.procs"), "0")
            };
            report_ready(w, setup().is_ok());
            loop {
                // SAFETY: the bomb is single-threaded.
                if unsafe { fork() }.is_err() {
                    thread::sleep(Duration::from_millis(100));
                }
            }
        }),
        ForkResult::Parent { child } => {
            drop(w);
            wait_ready(&r, child, Duration::from_secs(10))?;
            Ok(child)
        }
    }
}

/// Child side of [`wait_ready`]: tells the parent whether the set-up worked
/// (`k` or `e` on `w`), and exits if it did not.
fn report_ready(w: OwnedFd, ok: bool) {
    let _ = nix::unistd::write(&w, if ok { b"k" } else { b"e" });
    drop(w);
    if !ok {
        // SAFETY: plain process exit.
        unsafe { libc::_exit(1) };
    }
}

/// Blocks (`true`) or unblocks the raw signal `sig` for the calling thread.
fn block_signal(sig: i32, block: bool) -> io::Result<()> {
    // SAFETY: plain sigset manipulation on a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        let how = if block {
            libc::SIG_BLOCK
        } else {
            libc::SIG_UNBLOCK
        };
        if libc::pthread_sigmask(how, &set, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Takes the next free slot of `counters` (slot 0 is the allocation index,
/// slots 1.. count deliveries) and points the handler at it; no slot left
/// points it nowhere (the caller sees the index past the end).
fn take_slot(counters: &Counters) {
    let slots = counters.slots();
    let idx = slots[0].fetch_add(1, Ordering::SeqCst) as usize;
    let ptr = slots
        .get(1 + idx)
        .map_or(std::ptr::null_mut(), |c| std::ptr::from_ref(c).cast_mut());
    HANDLER_COUNTER.store(ptr, Ordering::SeqCst);
}

/// Forks a forkbomb in `cgroup` like [`spawn_forkbomb`] whose every process
/// handles the raw signal `sig` by counting it in its own slot of
/// `counters`: slot 0 of `counters` is the number of slots taken so far,
/// slot `1 + i` the deliveries to the `i`-th process. `sig` is blocked
/// around each `fork()` until the child has taken its slot, so a delivery
/// is never counted in the parent's slot. Returns once the first process is
/// in the cgroup. Fails if the caller is not single-threaded.
pub fn spawn_slot_forkbomb(cgroup: &Path, counters: &Counters, sig: i32) -> TestResult<Pid> {
    ensure_single_threaded()?;
    let (r, w) = pipe().ctx("pipe")?;
    // SAFETY: the caller is single-threaded (checked above).
    match unsafe { fork() }.ctx("fork")? {
        ForkResult::Child => child_main(move || {
            drop(r);
            let setup = || -> io::Result<()> {
                block_signal(sig, true)?;
                take_slot(counters);
                install_handler(sig)?;
                // SAFETY: SIG_IGN involves no handler code.
                unsafe {
                    nix::sys::signal::signal(
                        nix::sys::signal::SIGCHLD,
                        nix::sys::signal::SigHandler::SigIgn,
                    )
                }?;
                write_file(&cgroup.join("cgroup.procs"), "0")?;
                block_signal(sig, false)
            };
            report_ready(w, setup().is_ok());
            loop {
                let _ = block_signal(sig, true);
                // SAFETY: the bomb is single-threaded.
                match unsafe { fork() } {
                    Ok(ForkResult::Child) => {
                        take_slot(counters);
                        let _ = block_signal(sig, false);
                    }
                    Ok(ForkResult::Parent { .. }) => {
                        let _ = block_signal(sig, false);
                    }
                    Err(_) => {
                        let _ = block_signal(sig, false);
                        thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }),
        ForkResult::Parent { child } => {
            drop(w);
            wait_ready(&r, child, Duration::from_secs(10))?;
            Ok(child)
        }
    }
}

/// The state letter of `/proc/PID/stat` (`R`, `S`, `D`, `T`, `t`, `Z`, ...),
/// or `None` if the process is gone.
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, after_comm) = stat.rsplit_once(')')?;
    after_comm.trim_start().chars().next()
}

/// Process counts of a subtree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Processes listed in the subtree (gone ones left out).
    pub processes: usize,
    /// Not stopped and not zombie (`R`, `S`, `D`, ...).
    pub running: usize,
    /// Stopped or traced (`T`, `t`).
    pub stopped: usize,
    /// Zombie or dead (`Z`, `X`).
    pub zombie: usize,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "processes {} running {} stopped {} zombie {}",
            self.processes, self.running, self.stopped, self.zombie
        )
    }
}

/// Counts the processes of the subtree at `top` by state.
pub fn count(top: &Path) -> TestResult<Counts> {
    let pids = subtree_pids(top).map_err(|e| e.to_string())?;
    let mut c = Counts::default();
    for state in pids.into_iter().filter_map(proc_state) {
        c.processes += 1;
        match state {
            'T' | 't' => c.stopped += 1,
            'Z' | 'X' => c.zombie += 1,
            _ => c.running += 1,
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_of_self_and_of_nothing() {
        let me = std::process::id() as i32;
        assert!(matches!(proc_state(me), Some('R' | 'S')));
        assert_eq!(proc_state(i32::MAX), None);
    }

    #[test]
    fn counts_display() {
        let c = Counts {
            processes: 4,
            running: 1,
            stopped: 2,
            zombie: 1,
        };
        assert_eq!(c.to_string(), "processes 4 running 1 stopped 2 zombie 1");
    }

    #[test]
    fn counters_are_zeroed() {
        let c = Counters::new(5).unwrap();
        assert_eq!(c.values(), vec![0; 5]);
        c.slots()[2].fetch_add(1, Ordering::SeqCst);
        assert_eq!(c.values(), vec![0, 0, 1, 0, 0]);
    }

    #[test]
    fn slots_are_taken_in_order() {
        let c = Counters::new(3).unwrap();
        take_slot(&c);
        assert_eq!(
            HANDLER_COUNTER.load(Ordering::SeqCst).cast_const(),
            std::ptr::from_ref(&c.slots()[1])
        );
        take_slot(&c);
        take_slot(&c);
        assert!(HANDLER_COUNTER.load(Ordering::SeqCst).is_null());
        HANDLER_COUNTER.store(std::ptr::null_mut(), Ordering::SeqCst);
        assert_eq!(c.values()[0], 3);
    }

    #[test]
    fn multi_threaded_callers_are_refused() {
        // The test harness runs tests on threads of its own.
        assert!(ensure_single_threaded().is_err());
        let err = spawn_forkbomb(Path::new("/nonexistent"), false).unwrap_err();
        assert!(err.contains("threads"), "{err}");
    }

    #[test]
    fn subtree_dirs_parents_first() {
        let d = tempfile_dir();
        fs::create_dir_all(d.join("a/b")).unwrap();
        let dirs = subtree_dirs(&d);
        assert_eq!(dirs, vec![d.clone(), d.join("a"), d.join("a/b")]);
        fs::remove_dir_all(&d).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("cgsignal-ts-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir(&d).unwrap();
        d
    }
}
