// SPDX-License-Identifier: GPL-2.0

//! `cgroup_mutex`.
//!
//! C header: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h)

use super::{
    Cgroup,
    OpenFile, //
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
    ptr::{
        self,
        NonNull, //
    },
};

/// Proof that `cgroup_mutex` is held; releases it when dropped.
///
/// Functions that need the cgroup hierarchy to stay put (no cgroup created or removed, no task
/// migrated through `cgroup.procs`) take a `&CgroupMutexGuard`.
///
/// The guard is not `Send`: a mutex must be released by the task that took it.
///
/// # Invariants
///
/// `cgroup_mutex` is held by the current task for as long as the guard exists. If `kn` is not
/// null, it was taken by a successful `cgroup_kn_lock_live(kn)` and is released by
/// `cgroup_kn_unlock(kn)`; otherwise it was taken by `cgroup_lock()`.
#[must_use = "the lock is released when the guard is dropped"]
pub struct CgroupMutexGuard {
    kn: *mut bindings::kernfs_node,
    _not_send: NotThreadSafe,
}

impl CgroupMutexGuard {
    /// Takes `cgroup_mutex`, sleeping if needed.
    ///
    /// In a cgroup file handler use [`OpenFile::lock_live`] instead, which also makes sure the
    /// cgroup is not being removed and cannot deadlock against `rmdir`.
    #[inline]
    pub fn lock() -> Self {
        crate::task::might_sleep();
        // SAFETY: `cgroup_lock()` has no preconditions besides process context, which
        // `might_sleep()` checks in debug builds.
        unsafe { bindings::cgroup_lock() };
        // INVARIANT: `cgroup_mutex` was just taken with `cgroup_lock()`.
        Self {
            kn: ptr::null_mut(),
            _not_send: NotThreadSafe,
        }
    }
}

impl Drop for CgroupMutexGuard {
    #[inline]
    fn drop(&mut self) {
        if self.kn.is_null() {
            // SAFETY: By the type invariants, `cgroup_mutex` was taken with `cgroup_lock()`.
            unsafe { bindings::cgroup_unlock() };
        } else {
            // SAFETY: By the type invariants, `cgroup_mutex` was taken with a successful
            // `cgroup_kn_lock_live(self.kn)`.
            unsafe { bindings::cgroup_kn_unlock(self.kn) };
        }
    }
}

/// A cgroup that was alive when `cgroup_mutex` was taken for it, and that stays alive until the
/// guard is dropped.
///
/// Returned by [`OpenFile::lock_live`].
///
/// # Invariants
///
/// `cgroup` is the cgroup of the file `guard` was taken for with `cgroup_kn_lock_live()`; that
/// call took a reference on it, which `cgroup_kn_unlock()` drops when `guard` is dropped.
#[must_use = "the cgroup is unlocked when this is dropped"]
pub struct LiveCgroup<'a> {
    guard: CgroupMutexGuard,
    cgroup: NonNull<Cgroup>,
    _file: PhantomData<&'a OpenFile>,
}

impl<'a> LiveCgroup<'a> {
    pub(super) fn new(file: &'a OpenFile) -> Result<Self> {
        let kn = file.kn();
        // SAFETY: `kn` is the node of an open cgroup file whose handler is running (type
        // invariants of `OpenFile`), which is what `cgroup_kn_lock_live()` expects.
        let cgroup = unsafe { bindings::cgroup_kn_lock_live(kn, false) };
        let cgroup = NonNull::new(cgroup.cast::<Cgroup>()).ok_or(ENOENT)?;
        // INVARIANT: `cgroup_kn_lock_live()` succeeded: `cgroup_mutex` is held, the cgroup is
        // not dead and we own the reference it took.
        Ok(Self {
            guard: CgroupMutexGuard {
                kn,
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
        // the cgroup valid until `self` is dropped.
        unsafe { self.cgroup.as_ref() }
    }

    /// Returns the proof that `cgroup_mutex` is held.
    #[inline]
    pub fn guard(&self) -> &CgroupMutexGuard {
        &self.guard
    }
}
