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
//! [`Cgroup::signal_subtree`] take internally and never hold across a call back into the user.
//!
//! C headers: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h),
//! [`include/linux/cgroup-defs.h`](srctree/include/linux/cgroup-defs.h) and
//! [`kernel/cgroup/cgroup-internal.h`](srctree/kernel/cgroup/cgroup-internal.h).

#[cfg(CONFIG_CGROUP_SIGNAL)]
use crate::task::{
    Signal,
    Task,
    TasklistReadGuard, //
};
#[cfg(CONFIG_CGROUP_SIGNAL)]
use core::marker::PhantomData;
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

    /// Opens a `cgroup.signal` write of `sig` to this cgroup's subtree and runs `f` in it.
    ///
    /// `f` gets a [`SignalWrite`], whose only powers are to signal the process of a live
    /// thread of the subtree ([`SignalWrite::signal`]) and to let others run for a moment
    /// ([`SignalWrite::relax`]). Each process is signalled at most once per write, whichever of
    /// its threads `f` passes and however often; a process whose fork overlaps the write is
    /// given the signal by the fork path unless the walk got there first. So if `f` passes every
    /// live thread of the subtree, every process with a live thread in it gets the signal
    /// exactly once, and no fork escapes it. See the comment above `cgroup_signal_begin()` in
    /// `kernel/cgroup/cgroup.c`.
    ///
    /// Before `f` runs, this waits (sleeping) for the forks that were under way to be linked to
    /// their cgroups. The read side of `tasklist_lock` is held while `f` runs, except in
    /// [`SignalWrite::relax`].
    #[cfg(CONFIG_CGROUP_SIGNAL)]
    pub fn signal_subtree<R>(
        &self,
        _guard: &CgroupMutexGuard,
        sig: Signal,
        f: impl FnOnce(&mut SignalWrite<'_>) -> R,
    ) -> R {
        // SAFETY: `self` is valid by the type invariants; `_guard` proves that `cgroup_mutex` is
        // held, and the caller holds no spinlock (it may sleep, as `&CgroupMutexGuard` implies);
        // `sig` is `1..=_NSIG` by the type invariants of `Signal`. Writes are serialized by
        // `cgroup_mutex`, and `cgroup_signal_end()` below closes this one before `_guard` can be
        // dropped.
        unsafe { bindings::cgroup_signal_begin(self.as_raw(), sig.as_raw()) };
        // INVARIANT: The write was opened just above and is closed after `write` is dropped.
        let mut write = SignalWrite {
            tasklist: TasklistReadGuard::lock(),
            _guard: PhantomData,
        };
        let ret = f(&mut write);
        drop(write);
        // SAFETY: The write opened above is still open, `cgroup_mutex` is held as `_guard`
        // proves, and `tasklist_lock` was released when `write` was dropped.
        unsafe { bindings::cgroup_signal_end() };
        ret
    }
}

/// A `cgroup.signal` write in progress, see [`Cgroup::signal_subtree`].
///
/// # Invariants
///
/// A write is open (between `cgroup_signal_begin()` and `cgroup_signal_end()`), `cgroup_mutex`
/// is held for `'a`, and the current task holds the read side of `tasklist_lock` (`tasklist`).
#[cfg(CONFIG_CGROUP_SIGNAL)]
pub struct SignalWrite<'a> {
    tasklist: TasklistReadGuard,
    _guard: PhantomData<&'a CgroupMutexGuard>,
}

#[cfg(CONFIG_CGROUP_SIGNAL)]
impl SignalWrite<'_> {
    /// Sends the write's signal to `task`'s process, unless the process has it from this write
    /// already. Returns whether this call sent it.
    ///
    /// `task` must be a live thread of the written subtree, as [`Cgroup::for_each_task`] yields
    /// them during the write; any other task is refused (and reported by the C side as a bug).
    /// Like `kill(2)` on a process group, the signal also reaches a child whose fork is under
    /// way in that process, and the receiver sees `SI_USER` with the writer's pid and uid; like
    /// writing `cgroup.kill`, there is no per-process permission check.
    #[inline]
    pub fn signal(&mut self, task: &Task) -> bool {
        // SAFETY: By the type invariants a write is open and `cgroup_mutex` and the read side of
        // `tasklist_lock` are held; `task` is valid for the borrow.
        unsafe { bindings::cgroup_signal_task(task.as_ptr()) }
    }

    /// Releases `tasklist_lock` for a moment (see [`TasklistReadGuard::relax`]), so that forks
    /// and exits elsewhere are not held up by a large subtree. The write stays open.
    #[inline]
    pub fn relax(&mut self) {
        self.tasklist.relax();
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
