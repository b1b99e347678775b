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
//! Lock order, outermost first: `cgroup_mutex`, then `css_set_lock`, which the walks take
//! internally and never hold across a call back into the user.
//!
//! C headers: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h),
//! [`include/linux/cgroup-defs.h`](srctree/include/linux/cgroup-defs.h) and
//! [`kernel/cgroup/cgroup-internal.h`](srctree/kernel/cgroup/cgroup-internal.h).

use crate::{
    bindings,
    sync::aref::AlwaysRefCounted,
    types::Opaque, //
};
#[cfg(CONFIG_CGROUP_SIGNAL)]
use crate::{
    error::{
        to_result,
        Result, //
    },
    task::Signal,
};
#[cfg(CONFIG_CGROUP_SIGNAL)]
use core::ops::ControlFlow;
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
/// first. KUnit runs this during boot, before anything creates a cgroup, so there the loop
/// shows the use without visiting any descendant; the selftest `test_signal` walks real
/// subtrees through [`Cgroup::signal_subtree`]:
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

    /// Sends `sig` to every process with a live thread in this cgroup's subtree, once each:
    /// what a write to `cgroup.signal` does.
    ///
    /// A process is reached through any of its live threads, wherever its leader and its other
    /// threads are (threaded subtrees, a leader that exited), and signalled once however many
    /// of them are in the subtree. A process whose fork overlaps the call gets the signal too,
    /// once: the fork path hands it over unless the walk got there first. The receiver sees
    /// `SI_USER` with the current process's pid and uid. Like writing `cgroup.kill`, there is
    /// no per-process permission check: the caller must have decided that the current task may
    /// signal the subtree. See the comment above `cgroup_signal_begin()` in
    /// `kernel/cgroup/cgroup.c`.
    ///
    /// Fails with `EBUSY` if another such call is under way (it cannot be: `cgroup_mutex`
    /// serializes them).
    ///
    /// # Context
    ///
    /// Sleeps: waits for the forks under way to finish (`cgroup_threadgroup_rwsem`), and
    /// reschedules during a long walk. Must not be called with a spinlock held.
    #[cfg(CONFIG_CGROUP_SIGNAL)]
    pub fn signal_subtree(&self, guard: &CgroupMutexGuard, sig: Signal) -> Result {
        /// Tasks visited between two chances to reschedule.
        const BATCH: usize = 32;

        // SAFETY: `self` is valid by the type invariants; `guard` proves that `cgroup_mutex` is
        // held, and the caller may sleep (see `# Context`); `sig` is `1..=_NSIG` by the type
        // invariants of `Signal`.
        to_result(unsafe { bindings::cgroup_signal_begin(self.as_raw(), sig.as_raw()) })?;
        let mut visited = 0usize;
        // Every task of every live cgroup of the subtree, threaded ones included, as
        // `cgroup.kill` finds them; `cgroup_signal_task()` skips kernel threads and exiting
        // threads and signals each process once.
        for cgroup in self.live_descendants_pre(guard) {
            cgroup.for_each_task(TaskIterFlags::ALL, guard, |task| {
                // SAFETY: The write opened above is open, `cgroup_mutex` is held (`guard`), and
                // `task` was just returned by the iterator of a cgroup of the subtree.
                unsafe { bindings::cgroup_signal_task(task.as_ptr()) };
                visited += 1;
                if visited % BATCH == 0 {
                    // SAFETY: `for_each_task()` holds no lock while it calls back, and the
                    // caller may sleep.
                    unsafe { bindings::cond_resched() };
                }
                ControlFlow::Continue(())
            });
        }
        // SAFETY: The write opened above is still open and `cgroup_mutex` is held (`guard`).
        unsafe { bindings::cgroup_signal_end() };
        Ok(())
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
