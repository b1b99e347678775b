// SPDX-License-Identifier: GPL-2.0

//! `cgroup.signal`: signal every process of a cgroup subtree with one write.
//!
//! Writing a signal number (1 to `SIGRTMAX`) to `cgroup.signal` of a non-root cgroup sends that
//! signal to every process in the cgroup and in all of its live descendants, once per process,
//! as `kill(2)` on each process would.
//!
//! The write holds `cgroup_mutex`, so no task is migrated into or out of the subtree and no
//! cgroup is created or removed under it. [`LiveCgroup::signal_subtree`] finds processes through
//! their live threads, as `cgroup.kill` does, so a process is reached wherever its leader and
//! its other threads sit (threaded subtrees, a leader that exited), signals each once, and
//! hands the signal to every process whose fork overlaps the write. A process cloned into the
//! cgroup after the write returned does not get it.
//!
//! [`LiveCgroup::signal_subtree`]: kernel::cgroup::LiveCgroup::signal_subtree
//!
//! See `cgroup.signal` in Documentation/admin-guide/cgroup-v2.rst.

use kernel::{
    bindings,
    cgroup::OpenFile,
    error::from_result,
    prelude::*,
    str::kstrtoint_strim,
    task::Signal, //
};

/// Turns what was written into the signal to send: a number from 1 to `SIGRTMAX`.
///
/// Parsed as `cgroup.kill` parses its input, `kstrtoint(strim(buf), 0, ...)`: whitespace around
/// the number is ignored (`echo 9` writes `"9\n"`), a `0x` prefix means hexadecimal and a
/// leading `0` octal. Anything else, `0` included, is `EINVAL` (`ERANGE` if it does not even fit
/// in an `int`). `buf` must hold the `NUL` that ends the text.
fn parse_signal(buf: &mut [u8]) -> Result<Signal> {
    Signal::new(kstrtoint_strim(buf, 0)?)
}

/// Handles a write of `buf` to `file`, a `cgroup.signal`.
fn write(file: &mut OpenFile, buf: &mut [u8]) -> Result {
    let sig = parse_signal(buf)?;

    // `ENOENT` if the cgroup is being removed; `EOPNOTSUPP` if it is threaded (signals are
    // process-directed, like `cgroup.procs`).
    file.lock_live()?.signal_subtree(sig)
}

/// Handles a write to `cgroup.signal`: returns 0 or a negative errno.
///
/// Called by `cgroup_signal_file_write()`, the file's `->write` in `kernel/cgroup/cgroup.c`,
/// which returns `nbytes` for 0.
///
/// # Safety
///
/// `of` must be the open file of a `cgroup.signal` file whose `->write` kernfs is running (so
/// with `of->mutex` held), with no other [`OpenFile`] made of it; `buf` must point to `nbytes + 1`
/// bytes valid for reads and writes during the call, the last of them `NUL`, as
/// `kernfs_fop_write_iter()` passes them.
#[export]
pub unsafe extern "C" fn cgroup_signal_write(
    of: *mut bindings::kernfs_open_file,
    buf: *mut c_char,
    nbytes: usize,
) -> c_int {
    // SAFETY: The safety requirements guarantee that `of` is the open file of a cgroup file
    // whose `->write` is running, and that no other `OpenFile` is made of it during this call.
    let file = unsafe { OpenFile::from_raw(of) };
    // SAFETY: The safety requirements guarantee that `buf` points to `nbytes + 1` bytes valid
    // for reads and writes during this call; `nbytes` is at most a page, so the sum does not
    // overflow.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), nbytes + 1) };

    from_result(|| write(file, buf).map(|()| 0))
}

#[cfg(CONFIG_CGROUP_SIGNAL_KUNIT_TEST)]
#[kunit_tests(cgroup_signal)]
mod tests {
    use super::*;
    use kernel::str::CString;

    /// Parses `text` as the handler gets it: followed by the `NUL` kernfs writes.
    fn parse(text: &[u8]) -> Result<Signal> {
        let mut buf = KVec::with_capacity(text.len() + 1, GFP_KERNEL)?;
        buf.extend_from_slice(text, GFP_KERNEL)?;
        buf.push(0, GFP_KERNEL)?;
        parse_signal(&mut buf)
    }

    #[test]
    fn every_signal_is_accepted() -> Result {
        for nr in 1..=Signal::MAX.as_raw() {
            let written = CString::try_from_fmt(fmt!("{nr}\n"))?;
            assert_eq!(parse(written.to_bytes())?.as_raw(), nr);
        }
        Ok(())
    }

    #[test]
    fn input_is_read_as_cgroup_kill_reads_it() -> Result {
        for input in [
            &b"9"[..],
            b"9\n",
            b"  \t9 \n",
            b"+9",
            b"0x9",
            b"0X9",
            b"011",
            // `isspace()` is Latin-1: 0xa0 (no-break space) is whitespace.
            b"9\xa0",
            // The text ends at the first NUL.
            b"9\0junk",
        ] {
            assert_eq!(parse(input)?, Signal::KILL);
        }
        Ok(())
    }

    #[test]
    fn other_input_is_refused() -> Result {
        let past_max = CString::try_from_fmt(fmt!("{}", Signal::MAX.as_raw() + 1))?;
        for input in [
            &b""[..],
            b"\n",
            b"0",
            b"-0",
            past_max.to_bytes(),
            b"-1",
            b"-9",
            b"1000",
            b"x",
            b"9x",
            b"9 9",
            b"0x",
            b"09",
            b"--9",
            b"9.0",
            b"\09",
        ] {
            assert_eq!(parse(input), Err(EINVAL));
        }
        for input in [&b"2147483648"[..], b"-2147483649", b"99999999999999999999"] {
            assert_eq!(parse(input), Err(ERANGE));
        }
        Ok(())
    }
}
