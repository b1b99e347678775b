//! `cgsignal-demo-workload`: starts and inspects the processes of the
//! `make run` demo (run as root in the VM).
//!
//! ```text
//! cgsignal-demo-workload tree CGROUP_DIR N [--log FILE]
//! cgsignal-demo-workload forkbomb CGROUP_DIR PIDS_MAX
//! cgsignal-demo-workload count CGROUP_DIR
//! cgsignal-demo-workload wait-empty CGROUP_DIR [--timeout SECS]
//! ```
//!
//! The processes started by `tree` and `forkbomb` are daemons (own session,
//! stdio on /dev/null): they outlive this helper, which exits 0 once they
//! are all running, so `$(cgsignal-demo-workload tree ...)` does not hang.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use cgsignal_testsupport::{
    count, populated, read_trim, spawn_forkbomb, spawn_worker, wait_until, write_file, Context,
    TestResult, WorkerSpec,
};
use clap::{Parser, Subcommand};

/// Starts and inspects the processes of the cgroup.signal demo.
#[derive(Debug, Parser)]
#[command(name = "cgsignal-demo-workload")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create CGROUP_DIR, CGROUP_DIR/a and CGROUP_DIR/a/b (if missing) and
    /// start N sleeping processes spread over the three; each appends
    /// "PID got SIGTERM" to the log on SIGTERM and exits. Prints "PID CGROUP"
    /// per process.
    Tree {
        /// The top cgroup of the job
        cgroup_dir: PathBuf,
        /// How many processes
        n: usize,
        /// Log file the SIGTERM handlers append to (created if missing)
        #[arg(long, env = "CGSIGNAL_DEMO_LOG")]
        log: Option<PathBuf>,
    },
    /// Create CGROUP_DIR (if missing), set its pids.max (enabling +pids in
    /// every cgroup above it where needed) and start a forkbomb in it; returns once it
    /// holds at least 90% of PIDS_MAX processes (20 s bound).
    Forkbomb {
        /// The cgroup for the forkbomb
        cgroup_dir: PathBuf,
        /// Its pids.max
        pids_max: usize,
    },
    /// Print "processes N running R stopped S zombie Z" for the subtree.
    Count {
        /// The top cgroup
        cgroup_dir: PathBuf,
    },
    /// Wait until the subtree is empty ("populated 0"); exit 1 on timeout.
    WaitEmpty {
        /// The top cgroup
        cgroup_dir: PathBuf,
        /// Seconds to wait at most
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
}

fn mkdir(p: &Path) -> TestResult {
    fs::create_dir_all(p).ctx(format!("mkdir {}", p.display()))
}

fn tree(top: &Path, n: usize, log: Option<&Path>) -> TestResult {
    let dirs = [top.to_path_buf(), top.join("a"), top.join("a/b")];
    for d in &dirs {
        mkdir(d)?;
    }
    let log = log
        .map(|p| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ctx(p.display())
        })
        .transpose()?;
    for i in 0..n {
        let dir = &dirs[i % dirs.len()];
        let spec = WorkerSpec {
            cgroup: dir.clone(),
            handle: Some(libc::SIGTERM),
            log: log.as_ref(),
            log_name: "SIGTERM",
            daemon: true,
            ..WorkerSpec::default()
        };
        let pid = spawn_worker(&spec)?;
        println!("{pid} {}", dir.display());
    }
    Ok(())
}

fn forkbomb(dir: &Path, pids_max: usize) -> TestResult {
    mkdir(dir)?;
    let max_file = dir.join("pids.max");
    if !max_file.exists() {
        // A controller is enabled from the root down: every cgroup.subtree_control above dir.
        let mut chain: Vec<&Path> = dir
            .ancestors()
            .skip(1)
            .take_while(|p| p.join("cgroup.subtree_control").exists())
            .collect();
        chain.reverse();
        for p in chain {
            let control = p.join("cgroup.subtree_control");
            let enabled = read_trim(&control).ctx(control.display())?;
            if !enabled.split_whitespace().any(|c| c == "pids") {
                write_file(&control, "+pids").ctx(format_args!(
                    "enabling the pids controller in {}",
                    p.display()
                ))?;
            }
        }
    }
    write_file(&max_file, &pids_max.to_string()).ctx(max_file.display())?;
    spawn_forkbomb(dir, true)?;
    let current = || {
        read_trim(&dir.join("pids.current"))
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let t = Instant::now();
    let full = wait_until(Duration::from_secs(20), || current() * 10 >= pids_max * 9);
    println!("forkbomb: {} processes after {:?}", current(), t.elapsed());
    if full {
        Ok(())
    } else {
        Err(format!("forkbomb reached only {} of {pids_max}", current()))
    }
}

fn run(cli: Cli) -> TestResult {
    match cli.command {
        Command::Tree { cgroup_dir, n, log } => tree(&cgroup_dir, n, log.as_deref()),
        Command::Forkbomb {
            cgroup_dir,
            pids_max,
        } => forkbomb(&cgroup_dir, pids_max),
        Command::Count { cgroup_dir } => {
            println!("{}", count(&cgroup_dir)?);
            Ok(())
        }
        Command::WaitEmpty {
            cgroup_dir,
            timeout,
        } => {
            if wait_until(Duration::from_secs(timeout), || !populated(&cgroup_dir)) {
                Ok(())
            } else {
                Err(format!(
                    "{}: still populated after {timeout} s: {}",
                    cgroup_dir.display(),
                    count(&cgroup_dir).unwrap_or_default()
                ))
            }
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cgsignal-demo-workload: {e}");
            ExitCode::FAILURE
        }
    }
}
