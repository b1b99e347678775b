//! Signal numbers as `cgroup.signal` accepts them, and their names.
//!
//! `cgroup.signal` takes any number from 1 to `SIGRTMAX` (64 on x86). The
//! classic signals 1..=31 are named through [`nix::sys::signal::Signal`]; the
//! realtime range is named relative to the C library's `SIGRTMIN()` and
//! `SIGRTMAX()` (34 and 64 with glibc), the way `kill -l` prints them. The two
//! numbers between 31 and `SIGRTMIN()` (32 and 33 with glibc, reserved by the C
//! library for its threads) are valid but have no name.

use std::fmt;
use std::num::NonZeroI32;
use std::str::FromStr;

use nix::sys::signal::Signal as NixSignal;

/// A signal number parsed or built with [`SignalNumber::new`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid signal {spec:?}: {reason}")]
pub struct InvalidSignal {
    /// The text or number that was refused.
    pub spec: String,
    /// Why it was refused.
    pub reason: String,
}

impl InvalidSignal {
    fn new(spec: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            spec: spec.into(),
            reason: reason.into(),
        }
    }
}

/// The lowest realtime signal number as applications see it (`SIGRTMIN()`).
pub fn rt_min() -> i32 {
    libc::SIGRTMIN()
}

/// The highest signal number, `SIGRTMAX()`: the upper bound of `cgroup.signal`.
pub fn max_signal() -> i32 {
    libc::SIGRTMAX()
}

/// A signal number in `1..=SIGRTMAX()`, which is what `cgroup.signal` accepts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalNumber(NonZeroI32);

impl SignalNumber {
    /// `SIGKILL`.
    pub const KILL: Self = Self(match NonZeroI32::new(libc::SIGKILL) {
        Some(n) => n,
        None => unreachable!(),
    });
    /// `SIGTERM`, the default of `kill(1)`.
    pub const TERM: Self = Self(match NonZeroI32::new(libc::SIGTERM) {
        Some(n) => n,
        None => unreachable!(),
    });

    /// Checks that `n` is in `1..=SIGRTMAX()`.
    pub fn new(n: i32) -> Result<Self, InvalidSignal> {
        let max = max_signal();
        match NonZeroI32::new(n) {
            Some(nz) if (1..=max).contains(&n) => Ok(Self(nz)),
            _ => Err(InvalidSignal::new(
                n.to_string(),
                format!("not in 1..={max}"),
            )),
        }
    }

    /// The raw number.
    pub fn get(self) -> i32 {
        self.0.get()
    }

    /// Whether this is `SIGKILL` (the only signal `cgroup.kill` delivers).
    pub fn is_kill(self) -> bool {
        self == Self::KILL
    }

    /// Whether this is a realtime signal (`SIGRTMIN()..=SIGRTMAX()`).
    pub fn is_realtime(self) -> bool {
        self.get() >= rt_min()
    }

    /// The name without the `SIG` prefix, as `kill -l` prints it: `"TERM"`,
    /// `"RTMIN"`, `"RTMIN+3"`, `"RTMAX-1"`. `None` for the numbers the C
    /// library reserves (32 and 33 with glibc).
    pub fn name(self) -> Option<String> {
        let n = self.get();
        let (min, max) = (rt_min(), max_signal());
        if n >= min {
            let half = (max - min) / 2;
            return Some(match n {
                _ if n == min => "RTMIN".to_owned(),
                _ if n == max => "RTMAX".to_owned(),
                _ if n - min <= half => format!("RTMIN+{}", n - min),
                _ => format!("RTMAX-{}", max - n),
            });
        }
        NixSignal::try_from(n)
            .ok()
            .map(|s| s.as_str().trim_start_matches("SIG").to_owned())
    }

    /// Converts to rustix's signal type for `kill(2)`. `None` for the numbers
    /// the C library reserves for itself, which rustix does not let through.
    pub(crate) fn to_rustix(self) -> Option<rustix::process::Signal> {
        let n = self.get();
        if let Some(sig) = rustix::process::Signal::from_named_raw(n) {
            return Some(sig);
        }
        if (rt_min()..=max_signal()).contains(&n) {
            // SAFETY: `n` is in SIGRTMIN()..=SIGRTMAX(), the realtime range the
            // C library leaves to applications, so it is a valid signal number
            // that libc does not reserve.
            Some(unsafe { rustix::process::Signal::from_raw_unchecked(n) })
        } else {
            None
        }
    }

    /// Every valid signal number, ascending: `1..=SIGRTMAX()`.
    pub fn all() -> impl Iterator<Item = SignalNumber> {
        (1..=max_signal()).filter_map(|n| Self::new(n).ok())
    }
}

impl fmt::Display for SignalNumber {
    /// `SIGTERM`, `SIGRTMIN+3`, or `signal 32` for an unnamed number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "SIG{name}"),
            None => write!(f, "signal {}", self.get()),
        }
    }
}

/// Names accepted besides nix's canonical ones (without the `SIG` prefix).
const ALIASES: &[(&str, i32)] = &[
    ("IOT", libc::SIGABRT),
    ("CLD", libc::SIGCHLD),
    ("POLL", libc::SIGIO),
];

impl FromStr for SignalNumber {
    type Err = InvalidSignal;

    /// Parses a number (`"9"`) or a name with or without `SIG`, in any case
    /// (`"KILL"`, `"SIGKILL"`, `"kill"`), including realtime names relative to
    /// either end (`"RTMIN+3"`, `"SIGRTMAX-1"`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(InvalidSignal::new(s, "empty"));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let n: i32 = text
                .parse()
                .map_err(|_| InvalidSignal::new(s, "number out of range"))?;
            return Self::new(n).map_err(|e| InvalidSignal::new(s, e.reason));
        }
        let upper = text.to_ascii_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some(n) = parse_realtime(name).map_err(|reason| InvalidSignal::new(s, reason))? {
            return Self::new(n).map_err(|e| InvalidSignal::new(s, e.reason));
        }
        if let Some(&(_, n)) = ALIASES.iter().find(|(alias, _)| *alias == name) {
            return Self::new(n);
        }
        format!("SIG{name}")
            .parse::<NixSignal>()
            .ok()
            .and_then(|sig| Self::new(sig as i32).ok())
            .ok_or_else(|| InvalidSignal::new(s, "unknown signal name"))
    }
}

/// `RTMIN`, `RTMIN+k`, `RTMAX`, `RTMAX-k` (already upper-cased, no `SIG`).
/// `Ok(None)` if `name` is not a realtime name at all.
fn parse_realtime(name: &str) -> Result<Option<i32>, String> {
    let (min, max) = (rt_min(), max_signal());
    let (base, rest, sign) = if let Some(rest) = name.strip_prefix("RTMIN") {
        (min, rest, '+')
    } else if let Some(rest) = name.strip_prefix("RTMAX") {
        (max, rest, '-')
    } else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(Some(base));
    }
    let offset = rest
        .strip_prefix(sign)
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<i32>().ok())
        .ok_or_else(|| format!("expected RTMIN+N or RTMAX-N with N in 0..={}", max - min))?;
    let n = if sign == '+' {
        base.checked_add(offset)
    } else {
        base.checked_sub(offset)
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(format!("outside the realtime range {min}..={max}")),
    }
}

/// Parses a signal given by name or number; see [`SignalNumber::from_str`].
pub fn parse_signal(s: &str) -> Result<SignalNumber, InvalidSignal> {
    s.parse()
}

/// The names `kill -l` prints, in signal order, without `SIG` (unnamed
/// numbers are left out).
pub fn signal_names() -> Vec<String> {
    SignalNumber::all().filter_map(SignalNumber::name).collect()
}

/// What `kill -l ARG` prints for one argument: the name for a number
/// (`"15"` gives `"TERM"`), the number for a name (`"TERM"` gives `"15"`).
/// Like util-linux `kill -l`, a number past the signals is taken as an exit
/// status `128 + N` (`"143"` gives `"TERM"`).
pub fn convert_for_list(arg: &str) -> Result<String, InvalidSignal> {
    let text = arg.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let status = text
            .parse::<i32>()
            .ok()
            .filter(|&n| n > max_signal() && n > 128);
        if let Some(sig) = status.and_then(|n| SignalNumber::new(n - 128).ok()) {
            return sig
                .name()
                .ok_or_else(|| InvalidSignal::new(arg, "valid number without a name"));
        }
    }
    let sig: SignalNumber = arg.parse()?;
    if text.bytes().all(|b| b.is_ascii_digit()) {
        sig.name()
            .ok_or_else(|| InvalidSignal::new(arg, "valid number without a name"))
    } else {
        Ok(sig.get().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<i32, InvalidSignal> {
        s.parse::<SignalNumber>().map(SignalNumber::get)
    }

    #[test]
    fn parses_numbers_and_names() {
        assert_eq!(p("9"), Ok(9));
        assert_eq!(p("09"), Ok(9));
        assert_eq!(p("KILL"), Ok(9));
        assert_eq!(p("SIGKILL"), Ok(9));
        assert_eq!(p("kill"), Ok(9));
        assert_eq!(p("sigterm"), Ok(15));
        assert_eq!(p(" TERM\n"), Ok(15));
        assert_eq!(p("STOP"), Ok(libc::SIGSTOP));
        assert_eq!(p("IOT"), Ok(libc::SIGABRT));
        assert_eq!(p("POLL"), Ok(libc::SIGIO));
        assert_eq!(p("IO"), Ok(libc::SIGIO));
        assert_eq!(p("32"), Ok(32));
        assert_eq!(p("64"), Ok(max_signal()));
    }

    #[test]
    fn parses_realtime_names() {
        let (min, max) = (rt_min(), max_signal());
        assert_eq!(min, libc::SIGRTMIN());
        assert_eq!(max, libc::SIGRTMAX());
        assert_eq!(p("RTMIN"), Ok(min));
        assert_eq!(p("RTMIN+3"), Ok(min + 3));
        assert_eq!(p("SIGRTMIN+0"), Ok(min));
        assert_eq!(p("SIGRTMAX-1"), Ok(max - 1));
        assert_eq!(p("rtmax"), Ok(max));
        assert_eq!(p(&format!("RTMIN+{}", max - min)), Ok(max));
    }

    #[test]
    fn rejects_bad_signals() {
        for bad in [
            "0",
            "65",
            "-1",
            "+9",
            "",
            "  ",
            "FOO",
            "SIGFOO",
            "SIG",
            "SIGSIGKILL",
            "RTMIN-1",
            "RTMAX+1",
            "RTMIN+31",
            "RTMIN+",
            "RTMIN+x",
            "RTMAX-31",
            "9x",
            "99999999999",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(SignalNumber::new(0).is_err());
        assert!(SignalNumber::new(65).is_err());
        assert!(SignalNumber::new(-9).is_err());
        let err = p("65").unwrap_err();
        assert_eq!(err.spec, "65");
        assert!(err.to_string().contains("1..=64"), "{err}");
    }

    #[test]
    fn names_like_kill_l() {
        let name = |n| SignalNumber::new(n).unwrap().name();
        assert_eq!(name(1).as_deref(), Some("HUP"));
        assert_eq!(name(15).as_deref(), Some("TERM"));
        assert_eq!(name(31).as_deref(), Some("SYS"));
        let (min, max) = (rt_min(), max_signal());
        for reserved in 32..min {
            assert_eq!(name(reserved), None);
        }
        assert_eq!(name(min).as_deref(), Some("RTMIN"));
        let half = (max - min) / 2;
        assert_eq!(
            name(min + half).as_deref(),
            Some(format!("RTMIN+{half}").as_str())
        );
        assert_eq!(
            name(min + half + 1).as_deref(),
            Some(format!("RTMAX-{}", max - min - half - 1).as_str())
        );
        assert_eq!(name(max - 1).as_deref(), Some("RTMAX-1"));
        assert_eq!(name(max).as_deref(), Some("RTMAX"));
        assert_eq!(SignalNumber::TERM.to_string(), "SIGTERM");
        assert_eq!(SignalNumber::new(32).unwrap().to_string(), "signal 32");
    }

    #[test]
    fn every_name_round_trips() {
        for sig in SignalNumber::all() {
            if let Some(name) = sig.name() {
                assert_eq!(name.parse::<SignalNumber>(), Ok(sig), "{name}");
                assert_eq!(format!("SIG{name}").parse::<SignalNumber>(), Ok(sig));
            }
        }
        let names = signal_names();
        assert_eq!(names.len(), 62, "31 classic + 31 realtime");
        assert_eq!(names.first().map(String::as_str), Some("HUP"));
        assert_eq!(names.last().map(String::as_str), Some("RTMAX"));
    }

    #[test]
    fn list_conversion() {
        assert_eq!(convert_for_list("15").unwrap(), "TERM");
        assert_eq!(convert_for_list("TERM").unwrap(), "15");
        assert_eq!(convert_for_list("sigkill").unwrap(), "9");
        assert_eq!(
            convert_for_list("RTMIN+1").unwrap(),
            (rt_min() + 1).to_string()
        );
        assert!(convert_for_list("32").is_err());
        assert!(convert_for_list("0").is_err());
        // Exit statuses 128 + N, like util-linux kill -l.
        assert_eq!(convert_for_list("143").unwrap(), "TERM");
        assert_eq!(convert_for_list("137").unwrap(), "KILL");
        assert!(convert_for_list("128").is_err());
        assert!(convert_for_list("100").is_err());
        assert!(convert_for_list("999").is_err());
    }

    #[test]
    fn rustix_conversion() {
        assert!(SignalNumber::KILL.to_rustix().is_some());
        assert!(SignalNumber::new(rt_min()).unwrap().to_rustix().is_some());
        assert!(SignalNumber::new(max_signal())
            .unwrap()
            .to_rustix()
            .is_some());
        assert!(SignalNumber::new(32).unwrap().to_rustix().is_none());
        assert!(SignalNumber::new(33).unwrap().to_rustix().is_none());
    }
}
