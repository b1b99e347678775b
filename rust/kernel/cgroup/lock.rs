// SPDX-License-Identifier: GPL-2.0

//! `cgroup_mutex`, taken through a cgroup control file.
//!
//! C header: [`kernel/cgroup/cgroup-rust.h`](srctree/kernel/cgroup/cgroup-rust.h)

use super::{
    Cgroup,
    OpenFile, //
};
#[cfg(CONFIG_RUST_CGROUP_KUNIT_TEST)]
use crate::sync::{
    Mutex,
    MutexGuard, //
};
use crate::{
    bindings,
    error::{
        code::ENOENT,
        Result, //
    },
    types::NotThreadSafe,
};
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

/// Proof that `cgroup_mutex` is held; releases it when dropped.
///
/// Functions that need the cgroup hierarchy to stay put (no cgroup created or removed, no task
/// migrated through `cgroup.procs`) take a `&CgroupMutexGuard`. [`LiveCgroup::guard`] hands one
/// out.
///
/// The guard is not `Send`: a mutex must be released by the task that took it.
///
/// # Invariants
///
/// `cgroup_mutex` is held by the current task for as long as the guard exists: taken by a
/// successful `cgroup_kn_lock_live()` on the node in `held`, which `cgroup_kn_unlock()` on it
/// releases, or (KUnit tests only) by the mutex guard in `held`.
#[must_use = "the lock is released when the guard is dropped"]
pub struct CgroupMutexGuard {
    held: Held,
    _not_send: NotThreadSafe,
}

/// How `cgroup_mutex` was taken.
enum Held {
    /// By `cgroup_kn_lock_live()` on the node of a cgroup file.
    File(NonNull<bindings::kernfs_node>),
    /// By `Mutex::lock()` on `cgroup_mutex` (KUnit tests); dropping the guard releases it.
    #[cfg(CONFIG_RUST_CGROUP_KUNIT_TEST)]
    Mutex {
        /// Held only to be dropped.
        _guard: MutexGuard<'static, ()>,
    },
}

impl CgroupMutexGuard {
    /// Takes `cgroup_mutex` without a cgroup file, for the KUnit tests, which walk the
    /// hierarchy.
    #[cfg(CONFIG_RUST_CGROUP_KUNIT_TEST)]
    pub(super) fn lock_for_test() -> Self {
        // SAFETY: `cgroup_mutex` is a static, initialised `struct mutex` (`DEFINE_MUTEX()`) that
        // lives as long as the kernel; only its address is taken here.
        let mutex = unsafe { Mutex::<()>::from_raw(&raw mut bindings::cgroup_mutex) };
        // INVARIANT: `cgroup_mutex` is held until the guard in `held` is dropped.
        Self {
            held: Held::Mutex {
                _guard: mutex.lock(),
            },
            _not_send: NotThreadSafe,
        }
    }
}

impl Drop for CgroupMutexGuard {
    fn drop(&mut self) {
        match self.held {
            Held::File(kn) => {
                // SAFETY: By the type invariants, `cgroup_mutex` was taken with a successful
                // `cgroup_kn_lock_live(kn)`, and this releases it once.
                unsafe { bindings::cgroup_kn_unlock(kn.as_ptr()) }
            }
            #[cfg(CONFIG_RUST_CGROUP_KUNIT_TEST)]
            Held::Mutex { .. } => {}
        }
    }
}

/// A cgroup that was alive when `cgroup_mutex` was taken for it through one of its control
/// files, and that stays alive until this is dropped.
///
/// Returned by [`OpenFile::lock_live`]; holds the file mutably borrowed.
///
/// # Invariants
///
/// `cgroup` is the cgroup of the file `guard` was taken for with `cgroup_kn_lock_live()`; that
/// call took a reference on it, which `cgroup_kn_unlock()` drops when `guard` is dropped.
#[must_use = "the cgroup is unlocked when this is dropped"]
pub struct LiveCgroup<'a> {
    guard: CgroupMutexGuard,
    cgroup: NonNull<Cgroup>,
    _file: PhantomData<&'a mut OpenFile>,
}

impl<'a> LiveCgroup<'a> {
    pub(super) fn new(file: &'a mut OpenFile) -> Result<Self> {
        // An open file always has a node.
        let kn = NonNull::new(file.kn()).ok_or(ENOENT)?;
        // SAFETY: `kn` is the node of an open cgroup file whose handler is running (type
        // invariants of `OpenFile`), which is what `cgroup_kn_lock_live()` expects. It breaks the
        // active protection the handler holds; `file` stays mutably borrowed until
        // `cgroup_kn_unlock()` restores it, so safe code cannot break it twice, unless it leaks
        // the `LiveCgroup` (then a second call deadlocks on `cgroup_mutex`, which is not
        // unsound: every path that drains the node needs that mutex first).
        let cgroup = unsafe { bindings::cgroup_kn_lock_live(kn.as_ptr(), false) };
        let cgroup = NonNull::new(cgroup.cast::<Cgroup>()).ok_or(ENOENT)?;
        // INVARIANT: `cgroup_kn_lock_live()` succeeded: `cgroup_mutex` is held, the cgroup is
        // online and we own the reference it took.
        Ok(Self {
            guard: CgroupMutexGuard {
                held: Held::File(kn),
                _not_send: NotThreadSafe,
            },
            cgroup,
            _file: PhantomData,
        })
    }

    /// Returns the locked cgroup.
    #[inline]
    pub fn cgroup(&self) -> &Cgroup {
        // SAFETY: By the type invariants, the reference taken by `cgroup_kn_lock_live()` keeps
        // the cgroup valid, with a count above zero, until `self` is dropped.
        unsafe { self.cgroup.as_ref() }
    }

    /// Returns the proof that `cgroup_mutex` is held.
    #[inline]
    pub fn guard(&self) -> &CgroupMutexGuard {
        &self.guard
    }
}
