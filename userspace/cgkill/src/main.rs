//! `cgkill`: send a signal to every process of cgroup v2 subtrees, in the
//! manner of `kill(1)`.
//!
//! ```text
//! cgkill [-s SIGNAL | -SIGNAL | -n NUM] [--fallback=never|auto]
//!        [--force-path=signal|kill|freeze|loop] [-v] CGROUP...
//! cgkill -l [SIGNAL]
//! cgkill -L
//! ```
//!
//! Exit status: 0 if every cgroup was signalled, 1 if any failed (also when
//! a fallback could not confirm that every process was signalled), 2 on a
//! usage error (also when more than one signal is given).

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use cgroup_signal::{
    convert_for_list, signal_cgroup_with, signal_names, Fallback, Method, Options, SignalNumber,
};
use clap::{Parser, ValueEnum};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow, Signal};

/// Send a signal to every process of cgroup v2 subtrees (cgroup.signal,
/// cgroup.kill for SIGKILL, or the freeze + kill(2) fallback).
#[derive(Debug, Parser)]
#[command(name = "cgkill", version)]
#[command(after_help = "Like kill(1), the signal may also be given as -SIGNAL: \
cgkill -9 CGROUP, cgkill -KILL CGROUP, cgkill -RTMIN+3 CGROUP.\n\
Only one signal may be given. `cgkill -l 143` names the signal of exit status 143 (TERM).\n\
Exit status: 0 if every cgroup was signalled, 1 if any failed or was not \
fully signalled, 2 on a usage error.")]
struct Cli {
    /// Signal to send, by name (TERM, SIGTERM, RTMIN+3) or number [default: TERM]
    #[arg(short = 's', long = "signal", value_name = "SIGNAL",
          value_parser = parse_signal_arg, conflicts_with = "number")]
    signal: Option<SignalNumber>,

    /// Signal to send, by number
    #[arg(short = 'n', value_name = "NUM", value_parser = parse_number_arg)]
    number: Option<SignalNumber>,

    /// List signal names, or convert SIGNAL between name and number
    #[arg(short = 'l', long = "list", value_name = "SIGNAL", num_args = 0..=1,
          conflicts_with_all = ["table", "signal", "number", "cgroups"])]
    list: Option<Option<String>>,

    /// List signals as a table of numbers and names
    #[arg(short = 'L', long = "table", conflicts_with_all = ["signal", "number", "cgroups"])]
    table: bool,

    /// Whether userspace fallbacks may be used when the kernel has no
    /// interface for the signal
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = FallbackArg::Auto)]
    fallback: FallbackArg,

    /// Force one route (for tests and demonstrations); fails if its interface is missing
    #[arg(long = "force-path", value_enum, value_name = "PATH")]
    force_path: Option<ForcePath>,

    /// Print what was done (route, passes, processes signalled) to stderr
    #[arg(short, long)]
    verbose: bool,

    /// Cgroup directories (e.g. /sys/fs/cgroup/job)
    #[arg(value_name = "CGROUP", required_unless_present_any = ["list", "table"])]
    cgroups: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FallbackArg {
    /// Kernel interfaces only
    Never,
    /// Freeze + kill(2), or a kill(2) loop, when the kernel has no interface
    Auto,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ForcePath {
    /// Write cgroup.signal
    Signal,
    /// Write cgroup.kill (SIGKILL only)
    Kill,
    /// Freeze, kill(2) every process, thaw
    Freeze,
    /// kill(2) passes without freezing
    Loop,
}

fn parse_signal_arg(s: &str) -> Result<SignalNumber, String> {
    s.parse()
        .map_err(|e: cgroup_signal::InvalidSignal| e.to_string())
}

fn parse_number_arg(s: &str) -> Result<SignalNumber, String> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a signal number"));
    }
    parse_signal_arg(s)
}

/// Options of `cgkill` that take a value as the next argument: the argument
/// after them is never a `-SIGNAL`.
const TAKES_VALUE: &[&str] = &["-s", "--signal", "-n", "--fallback", "--force-path"];

/// The result of [`preparse`].
#[derive(Debug, Default)]
struct Preparsed {
    /// The arguments for clap.
    args: Vec<OsString>,
    /// Every signal option as written (`-9`, `-s TERM`, `-n 9`, `--signal=X`).
    signals: Vec<String>,
}

/// Rewrites `kill(1)`-style `-9`, `-KILL`, `-SIGKILL`, `-RTMIN+3` into
/// `--signal=...` so that clap can parse the rest, and records every signal
/// option (rewritten or not) so that more than one can be refused with a
/// clear message.
///
/// Only arguments before `--` are looked at, and the argument after an option
/// that takes a value is left alone (so `-s -9` and `-l -9` are not
/// rewritten, and the latter is then refused by clap). An argument is
/// rewritten only if what follows its single `-` is a valid signal, so `-v`,
/// `-l`, `-s` and clusters like `-vs` keep their meaning.
fn preparse(args: impl IntoIterator<Item = OsString>) -> Preparsed {
    let mut out = Preparsed::default();
    let mut args = args.into_iter();
    out.args.extend(args.next()); // argv[0]
    let mut value_of: Option<String> = None;
    let mut done = false;
    for arg in args {
        if let Some(opt) = value_of.take() {
            if opt != "--fallback" && opt != "--force-path" {
                out.signals.push(format!("{opt} {}", arg.to_string_lossy()));
            }
            out.args.push(arg);
            continue;
        }
        if done {
            out.args.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            out.args.push(arg);
            continue;
        };
        if text == "--" {
            done = true;
        } else if TAKES_VALUE.contains(&text) {
            value_of = Some(text.to_owned());
        } else if text.starts_with("--signal=") || is_short_signal_cluster(text) {
            out.signals.push(text.to_owned());
        } else if let Some(spec) = text.strip_prefix('-').filter(|s| !s.starts_with('-')) {
            if !spec.is_empty() && spec.parse::<SignalNumber>().is_ok() {
                out.signals.push(text.to_owned());
                out.args.push(format!("--signal={spec}").into());
                continue;
            }
        }
        out.args.push(arg);
    }
    out
}

/// Whether `text` is a cluster of short flags ending in `-s`/`-n` with its
/// value attached (`-sKILL`, `-vn9`).
fn is_short_signal_cluster(text: &str) -> bool {
    let Some(flags) = text.strip_prefix('-').filter(|f| !f.starts_with('-')) else {
        return false;
    };
    for (i, c) in flags.char_indices() {
        match c {
            's' | 'n' => return i + 1 < flags.len(),
            'v' => {}
            _ => return false,
        }
    }
    false
}

/// Writes a line to stdout; a closed pipe (`cgkill -l | head -1`) ends the
/// program quietly like SIGPIPE would.
fn out_line(line: &str) {
    let mut stdout = io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("cgkill: stdout: {e}");
        std::process::exit(1);
    }
}

/// Prints `kill -l` style: names without `SIG`, wrapped at 80 columns.
fn print_names() {
    let mut line = String::new();
    for name in signal_names() {
        if !line.is_empty() && line.len() + 1 + name.len() > 80 {
            out_line(&line);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&name);
    }
    if !line.is_empty() {
        out_line(&line);
    }
}

/// Prints `kill -L` style: number and name, four per line.
fn print_table() {
    let cells: Vec<String> = SignalNumber::all()
        .filter_map(|s| s.name().map(|n| format!("{:>2} {:<10}", s.get(), n)))
        .collect();
    for row in cells.chunks(4) {
        out_line(row.concat().trim_end());
    }
}

/// The signals that end `cgkill` from the terminal or a supervisor. They are
/// blocked while a cgroup is being signalled, so that the freeze fallback
/// always thaws what it froze; a pending one acts as soon as they are
/// unblocked.
const DEFERRED: [Signal; 4] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// Blocks [`DEFERRED`] until dropped, then restores the previous mask.
struct DeferSignals {
    old: Option<SigSet>,
}

impl DeferSignals {
    fn new() -> Self {
        let mut set = SigSet::empty();
        for sig in DEFERRED {
            set.add(sig);
        }
        let mut old = SigSet::empty();
        match sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old)) {
            Ok(()) => Self { old: Some(old) },
            Err(e) => {
                eprintln!("cgkill: warning: cannot block SIGINT/SIGTERM/SIGHUP/SIGQUIT: {e}");
                Self { old: None }
            }
        }
    }
}

impl Drop for DeferSignals {
    fn drop(&mut self) {
        if let Some(old) = self.old.take() {
            // A pending deferred signal is delivered here.
            let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
        }
    }
}

fn main() -> ExitCode {
    // Like coreutils: die quietly on a closed pipe instead of failing writes.
    // SAFETY: restoring the default disposition runs no handler code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let pre = preparse(std::env::args_os());
    if pre.signals.len() > 1 {
        eprintln!(
            "cgkill: only one signal may be given, got {}\n\nFor more information, try '--help'.",
            pre.signals.join(", ")
        );
        return ExitCode::from(2);
    }
    let cli = Cli::parse_from(pre.args);

    if let Some(list) = &cli.list {
        return match list {
            None => {
                print_names();
                ExitCode::SUCCESS
            }
            Some(arg) => match convert_for_list(arg) {
                Ok(s) => {
                    out_line(&s);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("cgkill: {e}");
                    ExitCode::FAILURE
                }
            },
        };
    }
    if cli.table {
        print_table();
        return ExitCode::SUCCESS;
    }

    let signal = cli.signal.or(cli.number).unwrap_or(SignalNumber::TERM);
    let opts = Options::new()
        .fallback(match cli.fallback {
            FallbackArg::Never => Fallback::Never,
            FallbackArg::Auto => Fallback::Auto,
        })
        .method(match cli.force_path {
            None => Method::Auto,
            Some(ForcePath::Signal) => Method::Signal,
            Some(ForcePath::Kill) => Method::Kill,
            Some(ForcePath::Freeze) => Method::Freeze,
            Some(ForcePath::Loop) => Method::Loop,
        });

    let mut status = ExitCode::SUCCESS;
    for cgroup in &cli.cgroups {
        let result = {
            // Ctrl-C must not end us between a freeze and its thaw.
            let _deferred = DeferSignals::new();
            signal_cgroup_with(cgroup, signal, &opts)
        };
        match result {
            Ok(report) if !report.complete() => {
                eprintln!(
                    "cgkill: {}: not every process is known to be signalled: {report}",
                    cgroup.display()
                );
                status = ExitCode::FAILURE;
            }
            Ok(report) => {
                if cli.verbose {
                    eprintln!("cgkill: {}: {report}", cgroup.display());
                }
            }
            Err(e) => {
                if e.path().is_some() {
                    eprintln!("cgkill: {e}");
                } else {
                    eprintln!("cgkill: {}: {e}", cgroup.display());
                }
                status = ExitCode::FAILURE;
            }
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn pre(args: &[&str]) -> Vec<String> {
        preparse(args.iter().map(OsString::from))
            .args
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(preparse(args.iter().map(OsString::from)).args)
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn preparse_rewrites_dash_signals() {
        assert_eq!(
            pre(&["cgkill", "-9", "/cg"]),
            ["cgkill", "--signal=9", "/cg"]
        );
        assert_eq!(
            pre(&["cgkill", "-KILL", "/cg"]),
            ["cgkill", "--signal=KILL", "/cg"]
        );
        assert_eq!(
            pre(&["cgkill", "-SIGTERM", "/a", "/b"]),
            ["cgkill", "--signal=SIGTERM", "/a", "/b"]
        );
        assert_eq!(
            pre(&["cgkill", "-v", "-RTMIN+3", "/cg"]),
            ["cgkill", "-v", "--signal=RTMIN+3", "/cg"]
        );
        assert_eq!(
            pre(&["cgkill", "-hup", "/cg"]),
            ["cgkill", "--signal=hup", "/cg"]
        );
    }

    #[test]
    fn preparse_leaves_options_alone() {
        for args in [
            &["cgkill", "-v", "/cg"][..],
            &["cgkill", "-s", "KILL", "/cg"],
            &["cgkill", "-n", "9", "/cg"],
            &["cgkill", "-l"],
            &["cgkill", "-l", "15"],
            &["cgkill", "-L"],
            &["cgkill", "--fallback", "never", "/cg"],
            &["cgkill", "--verbose", "/cg"],
            &["cgkill", "--", "-9"],
            &["cgkill", "-0", "/cg"],
            &["cgkill", "-65", "/cg"],
            &["cgkill", "-", "/cg"],
            &["cgkill", "-sKILL", "/cg"],
        ] {
            assert_eq!(pre(args), args, "{args:?}");
        }
    }

    #[test]
    fn parses_kill_style_command_lines() {
        let cli = parse(&["cgkill", "-9", "/sys/fs/cgroup/job"]).unwrap();
        assert_eq!(cli.signal, Some(SignalNumber::KILL));
        assert_eq!(cli.cgroups, [PathBuf::from("/sys/fs/cgroup/job")]);

        let cli = parse(&["cgkill", "-s", "TERM", "/a", "/b"]).unwrap();
        assert_eq!(cli.signal, Some(SignalNumber::TERM));
        assert_eq!(cli.cgroups.len(), 2);

        let cli = parse(&["cgkill", "-sKILL", "/a"]).unwrap();
        assert_eq!(cli.signal, Some(SignalNumber::KILL));

        let cli = parse(&["cgkill", "-n", "35", "-v", "--fallback=never", "/a"]).unwrap();
        assert_eq!(cli.number.map(SignalNumber::get), Some(35));
        assert!(cli.verbose);
        assert_eq!(cli.fallback, FallbackArg::Never);

        let cli = parse(&["cgkill", "--force-path=freeze", "/a"]).unwrap();
        assert_eq!(cli.force_path, Some(ForcePath::Freeze));
        assert_eq!(cli.signal, None, "default TERM is applied in main");

        let cli = parse(&["cgkill", "-l", "15"]).unwrap();
        assert_eq!(cli.list, Some(Some("15".into())));
        let cli = parse(&["cgkill", "-l"]).unwrap();
        assert_eq!(cli.list, Some(None));
        assert!(parse(&["cgkill", "-L"]).unwrap().table);
    }

    #[test]
    fn more_than_one_signal_is_noticed() {
        let sigs = |args: &[&str]| preparse(args.iter().map(OsString::from)).signals;
        assert_eq!(sigs(&["cgkill", "-9", "-KILL", "/a"]), ["-9", "-KILL"]);
        assert_eq!(
            sigs(&["cgkill", "-s", "TERM", "-n", "9", "/a"]),
            ["-s TERM", "-n 9"]
        );
        assert_eq!(
            sigs(&["cgkill", "-vsKILL", "--signal=TERM", "/a"]),
            ["-vsKILL", "--signal=TERM"]
        );
        assert_eq!(sigs(&["cgkill", "-9", "--", "-9"]), ["-9"]);
        assert_eq!(
            sigs(&["cgkill", "--fallback", "never", "-v", "-s", "HUP", "/a"]),
            ["-s HUP"]
        );
        assert!(sigs(&["cgkill", "-v", "-l", "/a"]).is_empty());
    }

    #[test]
    fn deferred_signals_are_blocked_then_restored() {
        let current = || SigSet::thread_get_mask().unwrap();
        let before = current();
        {
            let _deferred = DeferSignals::new();
            let during = current();
            for sig in DEFERRED {
                assert!(during.contains(sig), "{sig:?}");
            }
        }
        let after = current();
        for sig in DEFERRED {
            assert_eq!(after.contains(sig), before.contains(sig), "{sig:?}");
        }
    }

    #[test]
    fn usage_errors_exit_2() {
        for args in [
            &["cgkill"][..],
            &["cgkill", "-9"],
            &["cgkill", "-s", "FOO", "/a"],
            &["cgkill", "-s", "0", "/a"],
            &["cgkill", "-s", "65", "/a"],
            &["cgkill", "-n", "KILL", "/a"],
            &["cgkill", "-9", "-s", "TERM", "/a"],
            &["cgkill", "-9", "-n", "9", "/a"],
            &["cgkill", "--fallback=sometimes", "/a"],
            &["cgkill", "--force-path=magic", "/a"],
            &["cgkill", "-l", "/a", "/b"],
            &["cgkill", "-0", "/a"],
        ] {
            let err = parse(args).expect_err(&format!("{args:?}"));
            assert_eq!(err.exit_code(), 2, "{args:?}: {err}");
        }
    }
}
