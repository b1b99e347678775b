//! Typed errors, and the mapping from the kernel's errno values to them.

use std::io;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

use crate::signal::{InvalidSignal, SignalNumber};

/// Why a cgroup could not be signalled.
///
/// Every variant but [`Error::InvalidSignal`] names the cgroup directory (or,
/// for [`Error::Io`], the file) it is about, and its message starts with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path is not a directory on a cgroup2 filesystem.
    #[error("{}: not a cgroup v2 directory", .path.display())]
    NotCgroupV2 {
        /// The path given.
        path: PathBuf,
    },
    /// The path does not exist (before any work started).
    #[error("{}: no such cgroup", .path.display())]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The cgroup is threaded: signals are delivered to processes, so they go
    /// through the threaded domain at the top of the threaded subtree.
    #[error("{}: threaded cgroup, signal its threaded domain{}", .path.display(),
            .domain.as_ref().map(|d| format!(" {}", d.display())).unwrap_or_default())]
    Threaded {
        /// The threaded cgroup.
        path: PathBuf,
        /// Its threaded domain, if it could be found.
        domain: Option<PathBuf>,
    },
    /// `EACCES` or `EPERM` from a cgroup file or from `kill(2)`.
    #[error("{}: permission denied", .path.display())]
    Permission {
        /// The cgroup.
        path: PathBuf,
        /// The original error.
        #[source]
        source: io::Error,
    },
    /// `ENOENT` or `ENODEV` while working: the cgroup was removed underneath.
    #[error("{}: cgroup removed while signalling it", .path.display())]
    Removed {
        /// The cgroup.
        path: PathBuf,
    },
    /// The signal was refused, by the parser or by the kernel
    /// (`EINVAL`/`ERANGE` from `cgroup.signal`).
    #[error(transparent)]
    InvalidSignal(#[from] InvalidSignal),
    /// No usable interface for this signal: the kernel has neither
    /// `cgroup.signal` nor (for `SIGKILL`) `cgroup.kill` and the fallback is
    /// disabled, or a forced method's interface is missing.
    #[error("{}: no interface delivers {signal} here (fallback disabled or forced method unavailable)", .path.display())]
    Unsupported {
        /// The cgroup.
        path: PathBuf,
        /// The signal asked for.
        signal: SignalNumber,
    },
    /// A forced freeze route ([`crate::Method::Freeze`]) on a subtree the
    /// calling process is in: freezing it would freeze the caller, and
    /// [`crate::Method::Auto`] would take the plain `kill(2)` loop instead.
    #[error("{}: the calling process is in this subtree, it cannot freeze it", .path.display())]
    CallerInSubtree {
        /// The cgroup.
        path: PathBuf,
    },
    /// The root cgroup: the fallbacks would signal every process of the
    /// machine. Refused unless [`crate::Options::allow_root`] is set.
    #[error("{}: root cgroup (every process of the system), refused without allow_root", .path.display())]
    RootCgroup {
        /// The cgroup.
        path: PathBuf,
    },
    /// The fallback froze the cgroup and could not thaw it: the cgroup is
    /// left frozen. `source` is the error of the thaw (an error of the
    /// passes, if there was one too, is not kept).
    #[error("{}: cgroup left frozen, thawing it failed: {source}", .path.display())]
    LeftFrozen {
        /// The cgroup.
        path: PathBuf,
        /// Why the thaw failed.
        #[source]
        source: Box<Error>,
    },
    /// Any other I/O error, with the file (or cgroup) it came from.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The original error.
        #[source]
        source: io::Error,
    },
}

impl Error {
    /// The cgroup (or file) the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::NotCgroupV2 { path }
            | Error::NotFound { path }
            | Error::Threaded { path, .. }
            | Error::Permission { path, .. }
            | Error::Removed { path }
            | Error::Unsupported { path, .. }
            | Error::CallerInSubtree { path }
            | Error::RootCgroup { path }
            | Error::LeftFrozen { path, .. }
            | Error::Io { path, .. } => Some(path),
            Error::InvalidSignal(_) => None,
        }
    }

    /// Maps an error from a write of `value` to `file` in `cgroup` the way the
    /// kernel means it: `EOPNOTSUPP` is a threaded cgroup, `EACCES`/`EPERM`
    /// [`Error::Permission`], `ENOENT`/`ENODEV` [`Error::Removed`],
    /// `EINVAL`/`ERANGE` [`Error::InvalidSignal`], anything else
    /// [`Error::Io`] naming `file`.
    pub fn from_write(err: io::Error, cgroup: &Path, file: &Path, value: &str) -> Error {
        match Errno::from_io_error(&err) {
            Some(Errno::INVAL | Errno::RANGE) => Error::InvalidSignal(InvalidSignal {
                spec: value.trim().to_owned(),
                reason: format!("refused by the kernel ({err})"),
            }),
            _ => Error::from_io(err, cgroup, file),
        }
    }

    /// Maps an error from reading or opening `file` in `cgroup` (or from
    /// `kill(2)`): like [`Error::from_write`] but `EINVAL` is a plain
    /// [`Error::Io`].
    pub fn from_io(err: io::Error, cgroup: &Path, file: &Path) -> Error {
        match Errno::from_io_error(&err) {
            Some(Errno::OPNOTSUPP) => Error::Threaded {
                path: cgroup.to_owned(),
                domain: crate::cgroup::threaded_domain(cgroup),
            },
            Some(Errno::ACCESS | Errno::PERM) => Error::Permission {
                path: cgroup.to_owned(),
                source: err,
            },
            Some(Errno::NOENT | Errno::NODEV) => Error::Removed {
                path: cgroup.to_owned(),
            },
            _ => Error::Io {
                path: file.to_owned(),
                source: err,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errno(e: i32) -> io::Error {
        io::Error::from_raw_os_error(e)
    }

    #[test]
    fn write_errno_mapping() {
        let cg = Path::new("/nonexistent-cgroup-for-test/job");
        let file = cg.join("cgroup.signal");
        let map = |e| Error::from_write(errno(e), cg, &file, "65\n");
        assert!(
            matches!(map(libc::EOPNOTSUPP), Error::Threaded { ref path, domain: None } if path == cg)
        );
        assert!(matches!(map(libc::EACCES), Error::Permission { .. }));
        assert!(matches!(map(libc::EPERM), Error::Permission { .. }));
        assert!(matches!(map(libc::ENOENT), Error::Removed { .. }));
        assert!(matches!(map(libc::ENODEV), Error::Removed { .. }));
        match map(libc::EINVAL) {
            Error::InvalidSignal(e) => assert_eq!(e.spec, "65"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(map(libc::ERANGE), Error::InvalidSignal(_)));
        match map(libc::EIO) {
            Error::Io { path, .. } => assert_eq!(path, file),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Error::from_io(errno(libc::EINVAL), cg, &file),
            Error::Io { .. }
        ));
    }

    #[test]
    fn messages_start_with_the_path() {
        let cg = PathBuf::from("/sys/fs/cgroup/job");
        let e = Error::Threaded {
            path: cg.join("t"),
            domain: Some(cg.clone()),
        };
        assert_eq!(
            e.to_string(),
            "/sys/fs/cgroup/job/t: threaded cgroup, signal its threaded domain /sys/fs/cgroup/job"
        );
        let e = Error::Removed { path: cg.clone() };
        assert!(e.to_string().starts_with("/sys/fs/cgroup/job: "));
        assert_eq!(e.path(), Some(cg.as_path()));
        let e = Error::from(InvalidSignal {
            spec: "0".into(),
            reason: "x".into(),
        });
        assert_eq!(e.path(), None);
    }
}
