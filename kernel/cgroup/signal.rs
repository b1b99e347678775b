// SPDX-License-Identifier: GPL-2.0

//! `cgroup.signal`: signal every process of a cgroup subtree with one write.
//!
//! Writing a signal number (1 to `SIGRTMAX`) to `cgroup.signal` of a non-root cgroup sends that
//! signal to every process in the cgroup and in all of its live descendants, once per process,
//! as `kill(2)` on each process would.
//!
//! The write holds `cgroup_mutex`, so no task is migrated into or out of the subtree and no
//! cgroup is created or removed under it. [`Cgroup::signal_subtree`] finds processes through
//! their live threads, as `cgroup.kill` does, so a process is reached wherever its leader and
//! its other threads sit (threaded subtrees, a leader that exited), signals each once, and
//! hands the signal to every process whose fork overlaps the write. A process cloned into the
//! cgroup after the write returned does not get it.
//!
//! [`Cgroup::signal_subtree`]: kernel::cgroup::Cgroup::signal_subtree
//!
//! See `cgroup.signal` in Documentation/admin-guide/cgroup-v2.rst.

use kernel::{
    bindings,
    cgroup::OpenFile,
    prelude::*,
    task::Signal, //
};

/// Whitespace as the C library's `isspace()` sees it, which is what `strstrip()` strips.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Parses a written buffer as `kstrtoint(strstrip(buf), 0, &val)` does.
///
/// Leading and trailing whitespace is ignored (`echo 9` writes `"9\n"`); one optional sign; a
/// `0x` prefix selects hex and a leading `0` octal. Anything else, including an empty buffer
/// and embedded NUL bytes, is `EINVAL`; a number that does not fit in an `i32` is `ERANGE`.
fn parse_int(buf: &[u8]) -> Result<i32> {
    let start = buf.iter().position(|&c| !is_space(c)).unwrap_or(buf.len());
    let end = buf
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |i| i + 1);
    let s = &buf[start..end];

    let (negative, s) = match s {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, s),
    };
    let (radix, s) = match s {
        [b'0', b'x' | b'X', next, ..] if next.is_ascii_hexdigit() => (16, &s[2..]),
        [b'0', ..] => (8, s),
        _ => (10, s),
    };

    let digits = s
        .iter()
        .position(|&c| !char::from(c).is_digit(radix))
        .unwrap_or(s.len());
    if digits == 0 {
        return Err(EINVAL);
    }
    let mut value: u64 = 0;
    for &c in &s[..digits] {
        // `digits` counts only characters that are digits in `radix`.
        let digit = char::from(c).to_digit(radix).ok_or(EINVAL)?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or(ERANGE)?;
    }
    if digits != s.len() {
        return Err(EINVAL);
    }

    let value = i64::try_from(value).map_err(|_| ERANGE)?;
    i32::try_from(if negative { -value } else { value }).map_err(|_| ERANGE)
}

/// Turns what was written into the signal to send: a number from 1 to `SIGRTMAX`.
///
/// Anything else, `0` included, is `EINVAL` (`ERANGE` if it does not even fit in an `int`).
fn parse_signal(buf: &[u8]) -> Result<Signal> {
    Signal::new(parse_int(buf)?)
}

/// Handles a write to `cgroup.signal`.
fn write(file: &OpenFile, buf: &[u8]) -> Result {
    let sig = parse_signal(buf)?;

    // `ENOENT` if the cgroup is being removed.
    let live = file.lock_live()?;

    // Signals are process-directed, like `cgroup.procs`: a threaded cgroup holds threads, not
    // processes.
    if live.cgroup().is_threaded(live.guard()) {
        return Err(EOPNOTSUPP);
    }

    live.cgroup().signal_subtree(live.guard(), sig)
}

/// The `->write` handler of `cgroup.signal`, called by the cgroup core.
///
/// # Safety
///
/// `of` must be the open file of a `cgroup.signal` file whose handler kernfs is running, and
/// `buf` must point to `nbytes` readable bytes; both for the duration of the call.
#[export]
pub unsafe extern "C" fn cgroup_signal_write(
    of: *mut bindings::kernfs_open_file,
    buf: *mut c_char,
    nbytes: usize,
    _off: bindings::loff_t,
) -> isize {
    // SAFETY: The safety requirements guarantee that `of` is the open file of a cgroup file
    // whose handler is running, for the duration of this call.
    let file = unsafe { OpenFile::from_raw(of) };
    // SAFETY: The safety requirements guarantee that `buf` points to `nbytes` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>().cast_const(), nbytes) };

    match write(file, input) {
        // kernfs never passes more than `max_write_len` (a page) bytes.
        Ok(()) => isize::try_from(nbytes).unwrap_or(isize::MAX),
        Err(e) => e.to_errno() as isize,
    }
}

#[cfg(CONFIG_CGROUP_SIGNAL_KUNIT_TEST)]
#[kunit_tests(cgroup_signal)]
mod tests {
    use super::*;
    use kernel::str::CString;

    #[test]
    fn parse_accepts_what_kstrtoint_accepts() -> Result {
        assert_eq!(parse_int(b"9")?, 9);
        assert_eq!(parse_int(b"9\n")?, 9);
        assert_eq!(parse_int(b"  \t9 \n")?, 9);
        assert_eq!(parse_int(b"+9")?, 9);
        assert_eq!(parse_int(b"-9")?, -9);
        assert_eq!(parse_int(b"0x9")?, 9);
        assert_eq!(parse_int(b"0X1f")?, 31);
        assert_eq!(parse_int(b"011")?, 9);
        assert_eq!(parse_int(b"0")?, 0);
        assert_eq!(parse_int(b"2147483647")?, i32::MAX);
        assert_eq!(parse_int(b"-2147483648")?, i32::MIN);
        Ok(())
    }

    #[test]
    fn parse_refuses_garbage_with_einval() {
        for input in [
            &b""[..],
            b"\n",
            b"   ",
            b"x",
            b"9x",
            b"9 9",
            b"9\09",
            b"\09",
            b"0x",
            b"0xg",
            b"09",
            b"--9",
            b"+-9",
            b"-",
            b"9.0",
            b"\xff9",
        ] {
            assert_eq!(parse_int(input), Err(EINVAL));
        }
    }

    #[test]
    fn parse_refuses_overflow_with_erange() {
        for input in [
            &b"2147483648"[..],
            b"-2147483649",
            b"4294967305",
            b"18446744073709551625",
            b"99999999999999999999999999",
            b"0xffffffffffffffffff",
        ] {
            assert_eq!(parse_int(input), Err(ERANGE));
        }
    }

    #[test]
    fn every_signal_is_accepted() -> Result {
        assert_eq!(parse_signal(b"9\n")?, Signal::KILL);
        assert_eq!(parse_signal(b"0x9")?, Signal::KILL);
        for nr in 1..=64 {
            let written = CString::try_from_fmt(fmt!("{nr}\n"))?;
            assert_eq!(parse_signal(written.to_bytes())?.as_raw(), nr);
        }
        Ok(())
    }

    #[test]
    fn other_numbers_are_refused() {
        for input in [&b"0"[..], b"-0", b"65", b"-1", b"-9", b"1000", b"0x41"] {
            assert_eq!(parse_signal(input), Err(EINVAL));
        }
        for input in [&b"2147483648"[..], b"-2147483649"] {
            assert_eq!(parse_signal(input), Err(ERANGE));
        }
    }
}
