// SPDX-License-Identifier: GPL-2.0

//! Control groups (cgroup v2).
//!
//! Safe wrappers for what a cgroup control file's handler needs to act on the cgroup's subtree:
//! the open file ([`OpenFile`]), the cgroup locked through it ([`LiveCgroup`]), the proof that
//! `cgroup_mutex` is held ([`CgroupMutexGuard`]), a pre-order walk over live descendants and a
//! task iterator.
//!
//! Locking is expressed in the types: every operation whose result is only meaningful while
//! `cgroup_mutex` is held takes a `&CgroupMutexGuard`, so calling it without the lock does not
//! compile, and anything it yields borrows from that guard, so it cannot outlive the lock. The
//! only way to a guard is through an open control file, so everything here runs on behalf of a
//! writer whom the cgroup core allowed to write that file.
//!
//! Lock order, outermost first: `cgroup_mutex`, then `css_set_lock`, which the walks take
//! internally and never hold across a call back into the user.
//!
//! The cgroup core exports neither `cgroup_kn_lock_live()` nor the task iterator, so the
//! functions here that call them are neither generic nor `#[inline]`: they are compiled into the
//! kernel crate, whose symbols modules link against.
//!
//! C headers: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h),
//! [`include/linux/cgroup-defs.h`](srctree/include/linux/cgroup-defs.h) and
//! [`kernel/cgroup/cgroup-rust.h`](srctree/kernel/cgroup/cgroup-rust.h).

use crate::{
    bindings,
    types::Opaque, //
};
#[cfg(CONFIG_CGROUP_SIGNAL)]
use crate::{
    error::{
        code::EOPNOTSUPP,
        to_result,
        Result, //
    },
    task::Signal,
};
#[cfg(CONFIG_CGROUP_SIGNAL)]
use core::ops::ControlFlow;
use core::ptr;

mod iter;
mod lock;

pub use iter::LiveDescendantsPre;
pub use lock::{
    CgroupMutexGuard,
    LiveCgroup, //
};

/// Wraps the kernel's `struct cgroup`.
///
/// # Invariants
///
/// A `&Cgroup` points to a valid `struct cgroup` whose reference count is not zero, for the
/// lifetime of the borrow. Either a reference on it is held for that long (such as the one
/// `cgroup_kn_lock_live()` takes), or `cgroup_mutex` is held for that long and the cgroup is
/// online (not [`dead`]): the cgroup core takes a cgroup offline and then kills its reference
/// count, both with `cgroup_mutex` held (`cgroup_destroy_locked()`), and a count that is not
/// killed cannot reach zero. An offline cgroup can still be on its parent's list of children
/// with a count of zero, until `css_release_work_fn()` gets `cgroup_mutex`: no `&Cgroup` is
/// made of it.
///
/// [`dead`]: Cgroup::is_dead
#[repr(transparent)]
pub struct Cgroup(Opaque<bindings::cgroup>);

// SAFETY: A `struct cgroup` may be used from any thread: the fields read through `&Cgroup` are
// either immutable or read under the lock that protects them.
unsafe impl Send for Cgroup {}

// SAFETY: All methods taking `&self` are safe to call concurrently: they only read immutable
// fields, or fields protected by `cgroup_mutex` while demanding proof that it is held.
unsafe impl Sync for Cgroup {}

impl Cgroup {
    /// Creates a reference to a [`Cgroup`] from a valid pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct cgroup` whose reference count is not zero and stays
    /// so for the lifetime `'a`: the caller holds a reference on it for `'a`, or holds
    /// `cgroup_mutex` for `'a` and has seen the cgroup online with the mutex held (see the type
    /// invariants).
    #[inline]
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::cgroup) -> &'a Self {
        // SAFETY: The safety requirements guarantee the validity of the dereference, while the
        // `Cgroup` type being transparent makes the cast ok.
        unsafe { &*ptr.cast() }
    }

    /// Returns a raw pointer to the inner C struct.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::cgroup {
        self.0.get()
    }

    /// Returns whether the cgroup has been removed (`rmdir`) and is on its way out.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct cgroup`.
    #[inline]
    unsafe fn is_dead_raw(ptr: *const bindings::cgroup) -> bool {
        // SAFETY: The safety requirements guarantee that `ptr` is valid.
        unsafe { bindings::cgroup_is_dead(ptr) }
    }

    /// Returns whether the cgroup has been removed (`rmdir`) and is on its way out.
    ///
    /// Without `cgroup_mutex` the answer can change right after it is given; with it, it cannot.
    #[inline]
    pub fn is_dead(&self) -> bool {
        // SAFETY: `self` is valid by the type invariants.
        unsafe { Self::is_dead_raw(self.as_raw()) }
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

    /// Returns whether the cgroup belongs to the default (v2) hierarchy: `cgroup_on_dfl()`.
    #[inline]
    pub fn is_on_dfl(&self) -> bool {
        // SAFETY: `self` is valid by the type invariants, and a cgroup's `root` never changes.
        // Only the address of `cgrp_dfl_root`, a static object, is taken.
        unsafe { ptr::eq((*self.as_raw()).root, &raw const bindings::cgrp_dfl_root) }
    }
}

#[cfg(CONFIG_CGROUP_SIGNAL)]
impl LiveCgroup<'_> {
    /// Sends `sig` to every process with a live thread in this cgroup's subtree, once each:
    /// what a write to `cgroup.signal` does.
    ///
    /// A process is reached through any of its live threads, wherever its leader and its other
    /// threads are (threaded subtrees, a leader that exited), and signalled once however many
    /// of them are in the subtree. A process whose fork overlaps the call gets the signal too,
    /// once: the fork path hands it over unless the walk got there first. The receiver sees
    /// `SI_USER` with the current process's pid and uid. See the comment above
    /// `cgroup_signal_begin()` in `kernel/cgroup/cgroup.c`.
    ///
    /// As for `cgroup.kill`, no process is checked for permission one by one: the permission to
    /// signal the subtree is the permission to write the control file that `self` was locked
    /// through, which the cgroup core checked (the file's mode and owner, which delegation sets,
    /// and, for a file without `CFTYPE_NS_DELEGATABLE`, the writer's cgroup namespace). The call
    /// is on [`LiveCgroup`] so that only a cgroup control file's handler can make it, and only for
    /// its own cgroup.
    ///
    /// Fails with `EOPNOTSUPP` for a cgroup that is threaded (it holds threads, not processes,
    /// as for `cgroup.procs`) or not on the default hierarchy, and with `EBUSY` if another such
    /// call is under way (it cannot be: `cgroup_mutex` serializes them).
    ///
    /// # Context
    ///
    /// Sleeps: reschedules during a long walk, and may wait for the forks under way to finish
    /// (`cgroup_threadgroup_rwsem`), which it does only on the first call after boot and when a
    /// fork has stayed in flight over the last eight calls.
    pub fn signal_subtree(&self, sig: Signal) -> Result {
        /// Tasks and cgroups visited between two chances to reschedule.
        const BATCH: usize = 32;

        let (cgroup, guard) = (self.cgroup(), self.guard());
        if !cgroup.is_on_dfl() || cgroup.is_threaded(guard) {
            return Err(EOPNOTSUPP);
        }
        // SAFETY: `cgroup` is valid by the type invariants of `Cgroup`; `guard` proves that
        // `cgroup_mutex` is held, and a `LiveCgroup` only exists in the `->write` handler of a
        // cgroup file, which may sleep; `sig` is `1..=_NSIG` by the type invariants of `Signal`.
        to_result(unsafe { bindings::cgroup_signal_begin(cgroup.as_raw(), sig.as_raw()) })?;
        // Counts tasks and cgroups, so that a subtree of many empty cgroups yields too.
        let mut visited = 0usize;
        let mut tick = || {
            visited += 1;
            if visited % BATCH == 0 {
                // SAFETY: Called where no spinlock is held (`for_each_task()` holds none while it
                // calls back, the descendant walk none between steps), and the handler may sleep.
                unsafe { bindings::cond_resched() };
            }
        };
        // Every task of every live cgroup of the subtree, threaded ones included, as
        // `cgroup.kill` finds them; `cgroup_signal_task()` skips kernel threads, exiting threads
        // and threads with `SIGKILL` pending, and signals each process once.
        for cgroup in cgroup.live_descendants_pre(guard) {
            cgroup.for_each_task(guard, &mut |task| {
                // SAFETY: The write opened above is open, `cgroup_mutex` is held (`guard`), and
                // `task` was just returned by the iterator of a cgroup of the subtree.
                unsafe { bindings::cgroup_signal_task(task.as_ptr()) };
                tick();
                ControlFlow::Continue(())
            });
            tick();
        }
        // SAFETY: The write opened above is still open and `cgroup_mutex` is held (`guard`).
        unsafe { bindings::cgroup_signal_end() };
        Ok(())
    }
}

/// An open cgroup control file (`struct kernfs_open_file`), as passed to a `cftype` handler.
///
/// # Invariants
///
/// The wrapped `struct kernfs_open_file` belongs to a file of a cgroup directory, and kernfs is
/// running its `->write` handler: it holds the open file's `mutex` and active protection on the
/// file's node, and the open file and its `kn` stay valid until the handler returns. Other
/// fields may change meanwhile (once the protection is broken, `rmdir` can release the file:
/// `kernfs_release_file()` frees `priv` and sets `released`), so nothing here reads them. A
/// `&mut OpenFile` is the right to break the protection once, not a claim that nothing else
/// touches the memory: [`Opaque`] makes no such claim.
#[repr(transparent)]
pub struct OpenFile(Opaque<bindings::kernfs_open_file>);

impl OpenFile {
    /// Creates a reference to an [`OpenFile`] from the pointer a `cftype` handler receives.
    ///
    /// # Safety
    ///
    /// `ptr` must be the `of` argument of a `cftype` `->write` handler of a cgroup file (kernfs
    /// calls it with `of->mutex` held), no other [`OpenFile`] made from it may be in use during
    /// `'a`, and the returned reference must not be used after that handler returns.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::kernfs_open_file) -> &'a mut Self {
        // SAFETY: The safety requirements guarantee the validity of the dereference and that no
        // other `OpenFile` of it is in use; the fields C may change are inside `Opaque`, and the
        // `OpenFile` type being transparent makes the cast ok.
        unsafe { &mut *ptr.cast() }
    }

    /// Locks `cgroup_mutex` for the cgroup this file belongs to, if the cgroup is still alive.
    ///
    /// Fails with `ENOENT` if the cgroup is being removed. Uses `cgroup_kn_lock_live()`, which
    /// breaks the file's active protection so that a concurrent `rmdir` cannot deadlock on it,
    /// and restores it when the returned [`LiveCgroup`] is dropped. The file is borrowed
    /// mutably for that long, so the protection is broken once (leaking the [`LiveCgroup`]
    /// would let a second call deadlock on `cgroup_mutex`).
    pub fn lock_live(&mut self) -> crate::error::Result<LiveCgroup<'_>> {
        LiveCgroup::new(self)
    }

    #[inline]
    fn kn(&self) -> *mut bindings::kernfs_node {
        // SAFETY: `self` is valid by the type invariants, and `kn` never changes for an open
        // file.
        unsafe { (*self.0.get()).kn }
    }
}

#[cfg(CONFIG_RUST_CGROUP_KUNIT_TEST)]
#[macros::kunit_tests(rust_kernel_cgroup)]
mod tests {
    use super::*;
    use crate::{
        alloc::KVec,
        prelude::*, //
    };
    use core::ops::ControlFlow;

    /// The default hierarchy's root, whose reference count is never used (`CSS_NO_REF`) and
    /// which is never freed.
    fn root() -> &'static Cgroup {
        // SAFETY: `cgrp_dfl_root` is a static object; only the address of a field is taken.
        let ptr = unsafe { &raw const bindings::cgrp_dfl_root.cgrp };
        // SAFETY: The root cgroup lives as long as the kernel and is never taken offline.
        unsafe { Cgroup::from_raw(ptr) }
    }

    fn parent(cgroup: &Cgroup) -> *mut bindings::cgroup {
        // SAFETY: `cgroup` is valid by the type invariants; `parent` never changes.
        let parent = unsafe { (*cgroup.as_raw()).self_.parent };
        if parent.is_null() {
            ptr::null_mut()
        } else {
            // SAFETY: A non-null `parent` is the `self` css of the parent cgroup.
            unsafe { (*parent).cgroup }
        }
    }

    // At boot the walk sees only the root. Run again from debugfs
    // (`/sys/kernel/debug/kunit/rust_kernel_cgroup/run`) once cgroups exist, it walks them, dying
    // ones included (removed, but kept on their parent's list by a reference, such as a memory
    // cgroup's charged page cache).
    //
    // A failed assertion ends the test's kthread without running destructors, so the tests
    // gather what they saw with `cgroup_mutex` held and assert only after releasing it.

    /// What the walk from `root` yielded: each cgroup, whether it was dead, and its parent.
    type Seen = KVec<(*mut bindings::cgroup, bool, *mut bindings::cgroup)>;

    fn walk_all(guard: &CgroupMutexGuard) -> Result<Seen> {
        let mut seen = KVec::new();
        for cgroup in root().live_descendants_pre(guard) {
            seen.push(
                (cgroup.as_raw(), cgroup.is_dead(), parent(cgroup)),
                GFP_KERNEL,
            )?;
        }
        Ok(seen)
    }

    #[test]
    fn walk_yields_each_live_cgroup_once_after_its_parent() -> Result {
        let guard = CgroupMutexGuard::lock_for_test();
        let seen = walk_all(&guard);
        drop(guard);
        let seen = seen?;

        crate::pr_info!(
            "rust_kernel_cgroup: the walk met {} live cgroups\n",
            seen.len()
        );
        assert!(seen
            .first()
            .is_some_and(|&(first, ..)| ptr::eq(first, root().as_raw())));
        for (i, &(cgroup, dead, parent)) in seen.iter().enumerate() {
            assert!(!dead);
            assert!(!seen[..i]
                .iter()
                .any(|&(earlier, ..)| ptr::eq(earlier, cgroup)));
            if i > 0 {
                assert!(seen[..i]
                    .iter()
                    .any(|&(earlier, ..)| ptr::eq(earlier, parent)));
            }
        }
        Ok(())
    }

    #[test]
    fn walk_stays_over_once_over() -> Result {
        // For every cgroup: whether its walk started with it, and what two more calls to
        // `next()` returned after the walk's end.
        let mut results = KVec::new();
        let guard = CgroupMutexGuard::lock_for_test();
        for cgroup in root().live_descendants_pre(&guard) {
            let mut walk = cgroup.live_descendants_pre(&guard);
            let first = walk.next().is_some_and(|first| ptr::eq(first, cgroup));
            for _ in walk.by_ref() {}
            let after = (walk.next().is_none(), walk.next().is_none());
            if results.push((first, after), GFP_KERNEL).is_err() {
                break;
            }
        }
        drop(guard);

        assert!(!results.is_empty());
        for &(first, after) in results.iter() {
            assert!(first);
            assert_eq!(after, (true, true));
        }
        Ok(())
    }

    #[test]
    fn task_iterator_finds_the_test_thread() {
        let me = crate::current!();
        let (mut found_me, mut kthreads, mut visited) = (false, 0, 0);
        let guard = CgroupMutexGuard::lock_for_test();
        // The KUnit runner is a kernel thread in the root cgroup.
        root().for_each_task(&guard, &mut |task| {
            found_me |= *task == **me;
            kthreads += usize::from(task.is_kthread());
            ControlFlow::Continue(())
        });
        root().for_each_task(&guard, &mut |_| {
            visited += 1;
            ControlFlow::Break(())
        });
        drop(guard);

        assert!(found_me);
        assert!(kthreads > 0);
        assert_eq!(visited, 1);
    }
}
