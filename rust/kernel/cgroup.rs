// SPDX-License-Identifier: GPL-2.0

//! Control groups (cgroup v2).
//!
//! Safe wrappers for the parts of the cgroup core that code inside the cgroup subsystem needs
//! to act on a whole subtree: a refcounted [`Cgroup`], a guard for `cgroup_mutex`
//! ([`CgroupMutexGuard`]), a pre-order walk over live descendants and a task iterator.
//!
//! Locking is expressed in the types: every operation whose result is only meaningful while
//! `cgroup_mutex` is held takes a `&CgroupMutexGuard`, so calling it without the lock does not
//! compile, and anything it yields borrows from that guard, so it cannot outlive the lock.
//!
//! Lock order, outermost first: `cgroup_mutex`, then the read side of `tasklist_lock`
//! ([`crate::task::TasklistReadGuard`]), then `css_set_lock`, which the walks and
//! [`Cgroup::with_signal_recorded`] take internally and never hold across a call back into the
//! user.
//!
//! C headers: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h),
//! [`include/linux/cgroup-defs.h`](srctree/include/linux/cgroup-defs.h) and
//! [`kernel/cgroup/cgroup-internal.h`](srctree/kernel/cgroup/cgroup-internal.h).

#[cfg(CONFIG_CGROUP_SIGNAL)]
use crate::task::{
    Signal,
    TasklistReadGuard, //
};
use crate::{
    bindings,
    sync::aref::AlwaysRefCounted,
    types::Opaque, //
};
use core::ptr::{
    self,
    NonNull, //
};

mod iter;
mod lock;

pub use iter::{
    LiveDescendantsPre,
    TaskIterFlags, //
};
pub use lock::{
    CgroupMutexGuard,
    LiveCgroup, //
};

/// Wraps the kernel's `struct cgroup`.
///
/// # Invariants
///
/// A `&Cgroup` always points to a valid `struct cgroup`: either one that the caller holds a
/// reference on (`cgroup_get()`), the default hierarchy's root (which is never freed), or one
/// that cannot be released for the lifetime of the borrow because `cgroup_mutex` is held for it.
///
/// # Examples
///
/// Walking the default hierarchy under `cgroup_mutex`; the cgroup the walk starts from comes
/// first:
///
/// ```
/// use kernel::cgroup::{Cgroup, CgroupMutexGuard};
///
/// let guard = CgroupMutexGuard::lock();
/// let root = Cgroup::root();
/// assert!(root.is_root());
/// assert!(!root.is_dead());
/// assert!(!root.is_threaded(&guard));
///
/// let mut walk = root.live_descendants_pre(&guard);
/// assert!(walk.next().is_some_and(|first| first == root));
/// for cgroup in walk {
///     assert!(!cgroup.is_root());
///     assert!(!cgroup.is_dead());
/// }
/// ```
///
/// Taking and dropping references:
///
/// ```
/// use kernel::{cgroup::Cgroup, sync::aref::ARef};
///
/// let root: ARef<Cgroup> = Cgroup::root().into();
/// let again = root.clone();
/// assert!(*again == *root);
/// drop(root);
/// assert!(again.is_root());
/// ```
#[repr(transparent)]
pub struct Cgroup(Opaque<bindings::cgroup>);

// SAFETY: A `struct cgroup` may be referenced and released from any thread: its refcount is
// atomic and the fields read through `&Cgroup` are either immutable or read under the lock that
// protects them.
unsafe impl Send for Cgroup {}

// SAFETY: All methods taking `&self` are safe to call concurrently: they only read immutable
// fields, or fields protected by `cgroup_mutex` while demanding proof that it is held.
unsafe impl Sync for Cgroup {}

// SAFETY: The type invariants guarantee that a `Cgroup` is always refcounted by
// `cgroup_get()`/`cgroup_put()`.
unsafe impl AlwaysRefCounted for Cgroup {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means that the refcount is nonzero.
        unsafe { bindings::cgroup_get(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The safety requirements guarantee that the refcount is nonzero.
        unsafe { bindings::cgroup_put(obj.cast().as_ptr()) };
    }
}

impl Cgroup {
    /// Creates a reference to a [`Cgroup`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// The caller must ensure that `ptr` points to a valid `struct cgroup` that stays valid for
    /// the lifetime `'a`, as described in the type invariants.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::cgroup) -> &'a Self {
        // SAFETY: The safety requirements guarantee the validity of the dereference, while the
        // `Cgroup` type being transparent makes the cast ok.
        unsafe { &*ptr.cast() }
    }

    /// Returns a raw pointer to the inner C struct.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::cgroup {
        self.0.get()
    }

    /// Returns the root cgroup of the default (v2) hierarchy.
    #[inline]
    pub fn root() -> &'static Self {
        // SAFETY: `cgrp_dfl_root` is a static object that is never freed; only the address of
        // its `cgrp` field is taken here.
        let ptr = unsafe { &raw const bindings::cgrp_dfl_root.cgrp };
        // SAFETY: The root cgroup lives as long as the kernel does.
        unsafe { Self::from_raw(ptr) }
    }

    /// Returns whether this is the root of its hierarchy.
    #[inline]
    pub fn is_root(&self) -> bool {
        // SAFETY: `self` is valid by the type invariants and a cgroup's `level` never changes
        // after creation.
        unsafe { (*self.as_raw()).level == 0 }
    }

    /// Returns whether the cgroup has been removed (`rmdir`) and is on its way out.
    ///
    /// Without `cgroup_mutex` the answer can change right after it is given; with it, it cannot.
    #[inline]
    pub fn is_dead(&self) -> bool {
        // SAFETY: `self` is valid by the type invariants.
        unsafe { bindings::cgroup_is_dead(self.as_raw()) }
    }

    /// Returns whether this is a threaded cgroup (a member of a threaded subtree, not its
    /// domain).
    ///
    /// Process-level operations such as writing `cgroup.procs` are refused on threaded cgroups.
    #[inline]
    pub fn is_threaded(&self, _guard: &CgroupMutexGuard) -> bool {
        // SAFETY: `self` is valid by the type invariants, and `dom_cgrp` is only changed with
        // `cgroup_mutex` held, which `_guard` proves.
        unsafe { !ptr::eq((*self.as_raw()).dom_cgrp, self.as_raw()) }
    }

    /// Runs `f`, which sends `sig` to this cgroup's processes, so that no process whose fork
    /// overlaps it escapes the signal or receives it twice.
    ///
    /// The processes must be signalled with [`Task::send_multiprocess_signal`] from within `f`,
    /// with the read side of `tasklist_lock` held (the `tasklist` guard, which `f` receives).
    /// `f` may release it for a while with [`TasklistReadGuard::relax`], so that forks and exits
    /// elsewhere are not held up by a large cgroup; the record stays in place meanwhile.
    ///
    /// [`Task::send_multiprocess_signal`]: crate::task::Task::send_multiprocess_signal
    ///
    /// `f` is bracketed with `cgroup_signal_begin()` and `cgroup_signal_end()`, which keep a
    /// record for the fork path: a child whose fork is in progress in a signalled process gets
    /// the signal from its parent when it becomes visible (under the write side of
    /// `tasklist_lock`, so never while `f` signals); a child that becomes visible while `f` is
    /// relaxed before its parent is signalled, or that became visible earlier but is linked to
    /// this cgroup only after `f` began, is held back by `cgroup_post_fork()` until `f` returns
    /// and then receives the signal from the record. So each process is reached exactly once,
    /// either by `f` or by the fork path. See the comment above `cgroup_signal_begin()` in
    /// `kernel/cgroup/cgroup.c`.
    #[cfg(CONFIG_CGROUP_SIGNAL)]
    pub fn with_signal_recorded<R>(
        &self,
        _guard: &CgroupMutexGuard,
        tasklist: &mut TasklistReadGuard,
        sig: Signal,
        f: impl FnOnce(&mut TasklistReadGuard) -> R,
    ) -> R {
        // SAFETY: `self` is valid by the type invariants; `_guard` and `tasklist` prove that
        // `cgroup_mutex` and the read side of `tasklist_lock` are held, as required, and `f` can
        // only release the latter temporarily, so both are held again at the matching
        // `cgroup_signal_end()` below; `sig` is `1..=_NSIG` by the type invariants of `Signal`.
        unsafe { bindings::cgroup_signal_begin(self.as_raw(), sig.as_raw()) };
        let ret = f(tasklist);
        // SAFETY: `cgroup_signal_begin()` was called on `self` just above and both locks are
        // held, as `tasklist` and `_guard` prove.
        unsafe { bindings::cgroup_signal_end(self.as_raw()) };
        ret
    }
}

impl PartialEq for Cgroup {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        ptr::eq(self.as_raw(), other.as_raw())
    }
}

impl Eq for Cgroup {}

/// An open cgroup control file (`struct kernfs_open_file`), as passed to a `cftype` handler.
///
/// # Invariants
///
/// The wrapped `struct kernfs_open_file` belongs to a file of a cgroup directory, and a handler
/// that kernfs is running for it holds active protection on its kernfs node.
#[repr(transparent)]
pub struct OpenFile(Opaque<bindings::kernfs_open_file>);

impl OpenFile {
    /// Creates a reference to an [`OpenFile`] from the pointer a `cftype` handler receives.
    ///
    /// # Safety
    ///
    /// `ptr` must be the `of` argument of a `cftype` handler (such as `->write`) of a cgroup
    /// file, and the returned reference must not be used after that handler returns.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::kernfs_open_file) -> &'a Self {
        // SAFETY: The safety requirements guarantee the validity of the dereference, while the
        // `OpenFile` type being transparent makes the cast ok.
        unsafe { &*ptr.cast() }
    }

    /// Locks `cgroup_mutex` for the cgroup this file belongs to, if the cgroup is still alive.
    ///
    /// Fails with `ENOENT` if the cgroup is being removed. Uses `cgroup_kn_lock_live()`, which
    /// breaks the file's active protection so that a concurrent `rmdir` cannot deadlock on it.
    #[inline]
    pub fn lock_live(&self) -> crate::error::Result<LiveCgroup<'_>> {
        LiveCgroup::new(self)
    }

    #[inline]
    fn kn(&self) -> *mut bindings::kernfs_node {
        // SAFETY: `self` is valid by the type invariants, and `kn` never changes for an open
        // file.
        unsafe { (*self.0.get()).kn }
    }
}
