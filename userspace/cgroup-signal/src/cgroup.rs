//! Reading a cgroup v2 directory: filesystem check, type, interface files,
//! `cgroup.events`, and the processes of a subtree.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustix::io::Errno;

use crate::error::Error;

/// `cgroup.signal`: the kernel interface of this series.
pub const SIGNAL_FILE: &str = "cgroup.signal";
/// `cgroup.kill`: SIGKILL only, Linux 5.14 and later.
pub const KILL_FILE: &str = "cgroup.kill";
/// `cgroup.freeze`: the v2 freezer, Linux 5.2 and later.
pub const FREEZE_FILE: &str = "cgroup.freeze";
/// `cgroup.events`: `populated` and `frozen`.
pub const EVENTS_FILE: &str = "cgroup.events";
/// `cgroup.procs`: the processes of a cgroup.
pub const PROCS_FILE: &str = "cgroup.procs";
/// `cgroup.type`: `domain`, `domain threaded`, `domain invalid`, `threaded`.
pub const TYPE_FILE: &str = "cgroup.type";

/// Checks with `statfs(2)` that `path` is a directory on a cgroup2 filesystem
/// (`f_type == CGROUP2_SUPER_MAGIC`).
pub fn check_cgroup2(path: &Path) -> Result<(), Error> {
    let stat = match rustix::fs::statfs(path) {
        Ok(stat) => stat,
        Err(Errno::NOENT) => {
            return Err(Error::NotFound {
                path: path.to_owned(),
            })
        }
        Err(e) => return Err(Error::from_io(e.into(), path, path)),
    };
    // f_type's integer type differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let is_cgroup2 = stat.f_type as i64 == libc::CGROUP2_SUPER_MAGIC as i64;
    if is_cgroup2 && path.is_dir() {
        Ok(())
    } else {
        Err(Error::NotCgroupV2 {
            path: path.to_owned(),
        })
    }
}

/// The first line of `cgroup.type`, or `None` if there is no such file (the
/// root cgroup) or it cannot be read.
pub fn cgroup_type(path: &Path) -> Option<String> {
    fs::read_to_string(path.join(TYPE_FILE))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Whether `cgroup.type` says `threaded`.
pub fn is_threaded(path: &Path) -> bool {
    cgroup_type(path).as_deref() == Some("threaded")
}

/// The threaded domain above a threaded cgroup: the nearest ancestor whose
/// `cgroup.type` is `domain threaded`. Best effort; `None` if not found.
pub fn threaded_domain(path: &Path) -> Option<PathBuf> {
    let path = fs::canonicalize(path).ok()?;
    path.ancestors()
        .skip(1)
        .take_while(|p| p.join(TYPE_FILE).exists())
        .find(|p| cgroup_type(p).as_deref() == Some("domain threaded"))
        .map(Path::to_path_buf)
}

/// Which interface files a cgroup directory has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Interfaces {
    /// `cgroup.signal` (this series).
    pub signal: bool,
    /// `cgroup.kill`.
    pub kill: bool,
    /// `cgroup.freeze`.
    pub freeze: bool,
}

impl Interfaces {
    /// All three present.
    pub const ALL: Self = Self {
        signal: true,
        kill: true,
        freeze: true,
    };
    /// None present.
    pub const NONE: Self = Self {
        signal: false,
        kill: false,
        freeze: false,
    };

    /// The given set: `cgroup.signal`, `cgroup.kill`, `cgroup.freeze`.
    pub const fn new(signal: bool, kill: bool, freeze: bool) -> Self {
        Self {
            signal,
            kill,
            freeze,
        }
    }

    /// Looks at which of the files exist in `dir`.
    pub fn probe(dir: &Path) -> Self {
        Self {
            signal: dir.join(SIGNAL_FILE).exists(),
            kill: dir.join(KILL_FILE).exists(),
            freeze: dir.join(FREEZE_FILE).exists(),
        }
    }

    /// These interfaces minus the ones in `hidden`.
    pub fn without(self, hidden: Interfaces) -> Self {
        Self {
            signal: self.signal && !hidden.signal,
            kill: self.kill && !hidden.kill,
            freeze: self.freeze && !hidden.freeze,
        }
    }
}

/// The value of `key` in a flat-keyed file like `cgroup.events`
/// (`populated 1\nfrozen 0\n`).
pub fn keyed_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim())
    })
}

/// Reads `key` of `cgroup.events` as a boolean (`populated`, `frozen`).
pub fn event(path: &Path, key: &str) -> Result<bool, Error> {
    let file = path.join(EVENTS_FILE);
    let text = fs::read_to_string(&file).map_err(|e| Error::from_io(e, path, &file))?;
    Ok(keyed_value(&text, key) == Some("1"))
}

/// Whether `path` is the root cgroup of its hierarchy: the kernel gives the
/// root neither `cgroup.type` nor `cgroup.events` (both are
/// `CFTYPE_NOT_ON_ROOT`). Signalling it means every process of the machine.
pub fn is_root(path: &Path) -> bool {
    !path.join(TYPE_FILE).exists() && !path.join(EVENTS_FILE).exists()
}

/// The processes listed in the `cgroup.procs` files of a subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Procs {
    /// The pids, as seen from the caller's pid namespace.
    pub pids: BTreeSet<i32>,
    /// Entries that read `0`: processes outside the caller's pid namespace,
    /// which the caller cannot name and so cannot signal with `kill(2)`.
    pub invisible: usize,
}

impl Procs {
    /// Adds the entries of one `cgroup.procs` text (one pid per line).
    fn add(&mut self, text: &str) {
        for pid in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            if pid > 0 {
                self.pids.insert(pid);
            } else if pid == 0 {
                self.invisible += 1;
            }
        }
    }
}

/// Every process of the subtree at `top`: the union of `cgroup.procs` of `top`
/// and every descendant; see [`subtree_procs`], which also counts the
/// processes invisible from the caller's pid namespace.
pub fn subtree_pids(top: &Path) -> Result<BTreeSet<i32>, Error> {
    subtree_procs(top).map(|p| p.pids)
}

/// Every process of the subtree at `top`: the union of `cgroup.procs` of `top`
/// and every descendant, plus a count of the `0` entries (processes outside
/// the caller's pid namespace).
///
/// A threaded domain's `cgroup.procs` lists the processes of its whole
/// threaded subtree; threaded cgroups refuse the read with `EOPNOTSUPP` and are
/// skipped. A descendant removed during the walk is skipped; `top` itself
/// vanishing is [`Error::Removed`].
pub fn subtree_procs(top: &Path) -> Result<Procs, Error> {
    let mut pids = Procs::default();
    let mut stack = vec![top.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let is_top = dir == top;
        let gone = |e: &io::Error| {
            !is_top && matches!(Errno::from_io_error(e), Some(Errno::NOENT | Errno::NODEV))
        };
        let procs = dir.join(PROCS_FILE);
        match fs::read_to_string(&procs) {
            Ok(text) => pids.add(&text),
            Err(e) if Errno::from_io_error(&e) == Some(Errno::OPNOTSUPP) => {}
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(Error::from_io(e, top, &procs)),
        }
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if gone(&e) => continue,
            Err(e) => return Err(Error::from_io(e, top, &dir)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::from_io(e, top, &dir))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    Ok(pids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_values() {
        let ev = "populated 1\nfrozen 0\n";
        assert_eq!(keyed_value(ev, "populated"), Some("1"));
        assert_eq!(keyed_value(ev, "frozen"), Some("0"));
        assert_eq!(keyed_value(ev, "froze"), None);
    }

    #[test]
    fn interfaces_probe_and_hide() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Interfaces::probe(dir.path()), Interfaces::NONE);
        fs::write(dir.path().join(KILL_FILE), "").unwrap();
        fs::write(dir.path().join(FREEZE_FILE), "0\n").unwrap();
        let found = Interfaces::probe(dir.path());
        assert_eq!(
            found,
            Interfaces {
                signal: false,
                kill: true,
                freeze: true
            }
        );
        fs::write(dir.path().join(SIGNAL_FILE), "").unwrap();
        assert_eq!(Interfaces::probe(dir.path()), Interfaces::ALL);
        let hidden = Interfaces {
            signal: true,
            ..Interfaces::NONE
        };
        assert_eq!(Interfaces::ALL.without(hidden), found);
    }

    #[test]
    fn not_cgroup2() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            check_cgroup2(dir.path()),
            Err(Error::NotCgroupV2 { .. })
        ));
        assert!(matches!(
            check_cgroup2(&dir.path().join("missing")),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn walks_a_fake_subtree() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path();
        fs::create_dir_all(top.join("a/b")).unwrap();
        fs::create_dir_all(top.join("c")).unwrap();
        fs::write(top.join(PROCS_FILE), "10\n11\n").unwrap();
        fs::write(top.join("a").join(PROCS_FILE), "12\n").unwrap();
        fs::write(top.join("a/b").join(PROCS_FILE), "13\n10\n0\n0\n").unwrap();
        // "c" has no cgroup.procs: it vanished during the walk.
        let pids = subtree_pids(top).unwrap();
        assert_eq!(pids.into_iter().collect::<Vec<_>>(), vec![10, 11, 12, 13]);
        assert_eq!(subtree_procs(top).unwrap().invisible, 2);
        assert!(matches!(
            subtree_pids(&top.join("missing")),
            Err(Error::Removed { .. })
        ));
    }

    #[test]
    fn threaded_type_and_domain() {
        let dir = tempfile::tempdir().unwrap();
        let dom = dir.path().join("dom");
        let t = dom.join("t");
        fs::create_dir_all(&t).unwrap();
        fs::write(dom.join(TYPE_FILE), "domain threaded\n").unwrap();
        fs::write(t.join(TYPE_FILE), "threaded\n").unwrap();
        assert!(is_threaded(&t));
        assert!(!is_threaded(&dom));
        assert_eq!(threaded_domain(&t), Some(fs::canonicalize(&dom).unwrap()));
        assert_eq!(cgroup_type(dir.path()), None);
        assert!(is_root(dir.path()));
        assert!(!is_root(&dom));
    }
}
