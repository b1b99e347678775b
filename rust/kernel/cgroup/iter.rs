// SPDX-License-Identifier: GPL-2.0

//! Walking cgroups and their tasks.
//!
//! C header: [`include/linux/cgroup.h`](srctree/include/linux/cgroup.h)

use super::{
    Cgroup,
    CgroupMutexGuard, //
};
use crate::{
    bindings,
    task::Task, //
};
use core::{
    iter::FusedIterator,
    mem::MaybeUninit,
    ops::ControlFlow,
    ptr, //
};

/// Pre-order iterator over a cgroup's live descendants, the cgroup itself first.
///
/// Created by [`Cgroup::live_descendants_pre`]; the semantics of
/// `cgroup_for_each_live_descendant_pre()`. Cgroups that are being removed are skipped, their
/// live descendants are not. Once it has returned `None` it always does.
///
/// # Invariants
///
/// `cgroup_mutex` is held for `'g` (a `&'g CgroupMutexGuard` was given), so no cgroup below
/// `root` is freed while the iterator or anything it yields is alive. `pos` is null or a
/// `cgroup_subsys_state` in `root`'s subtree. Once `done` is set, the walk is over.
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct LiveDescendantsPre<'g> {
    root: &'g Cgroup,
    pos: *mut bindings::cgroup_subsys_state,
    done: bool,
}

impl Cgroup {
    /// Returns an iterator over this cgroup and its live descendants, in pre-order.
    ///
    /// A parent is always yielded before its children, so an operation applied in this order
    /// reaches a cgroup before anything a task could be migrated into below it.
    #[inline]
    pub fn live_descendants_pre<'g>(
        &'g self,
        _guard: &'g CgroupMutexGuard,
    ) -> LiveDescendantsPre<'g> {
        // INVARIANT: `_guard` proves `cgroup_mutex` is held for `'g`; the walk has not started.
        LiveDescendantsPre {
            root: self,
            pos: ptr::null_mut(),
            done: false,
        }
    }

    /// Calls `f` on every task (thread) attached to this cgroup, until `f` breaks.
    ///
    /// Threads of processes whose leader exited or sits in another cgroup are included; the
    /// cgroup's descendants are not: combine with [`Cgroup::live_descendants_pre`] for a
    /// subtree.
    ///
    /// With `cgroup_mutex` held no task is migrated into or out of the cgroup, so every task that
    /// is attached for the whole call is visited exactly once; tasks that fork or exit meanwhile
    /// may or may not be. Each `&Task` is valid only for the call of `f` it is passed to: keep
    /// an `ARef<Task>` to hold on to it.
    ///
    /// This takes `css_set_lock` internally, so it must not be called with that lock held. No
    /// lock of the iterator's is held while `f` runs, so `f` may sleep where its caller could.
    ///
    /// `f` is a trait object so that this function is not generic: the task iterator is not
    /// exported to modules, so its calls must be compiled into the kernel crate.
    pub fn for_each_task(
        &self,
        _guard: &CgroupMutexGuard,
        f: &mut dyn FnMut(&Task) -> ControlFlow<()>,
    ) {
        let mut it = MaybeUninit::<bindings::css_task_iter>::uninit();
        let it = it.as_mut_ptr();
        // SAFETY: `self` is valid by the type invariants of `Cgroup`, so is its `self` css.
        // `it` is uninitialised storage that stays at the same address until
        // `css_task_iter_end()` below: the iterator links itself into css_set lists. No flag:
        // every thread, not only leaders.
        unsafe { bindings::css_task_iter_start(&raw mut (*self.as_raw()).self_, 0, it) };
        loop {
            // SAFETY: `it` was started above and not ended yet.
            let task = unsafe { bindings::css_task_iter_next(it) };
            if task.is_null() {
                break;
            }
            // SAFETY: `css_task_iter_next()` holds a reference on the task it returns until the
            // next call on `it`; `f` cannot keep the borrow beyond its own call.
            let task = unsafe { &*task.cast::<Task>() };
            if f(task).is_break() {
                break;
            }
        }
        // SAFETY: `it` was started above and is ended exactly once, here.
        unsafe { bindings::css_task_iter_end(it) };
    }
}

impl<'g> Iterator for LiveDescendantsPre<'g> {
    type Item = &'g Cgroup;

    fn next(&mut self) -> Option<&'g Cgroup> {
        // `css_next_descendant_pre(NULL, root)` would start over at `root`.
        if self.done {
            return None;
        }
        loop {
            // SAFETY: By the type invariants `cgroup_mutex` is held, as
            // `css_next_descendant_pre()` requires, and `pos` is null or in `root`'s subtree.
            self.pos = unsafe {
                bindings::css_next_descendant_pre(self.pos, &raw mut (*self.root.as_raw()).self_)
            };
            if self.pos.is_null() {
                // INVARIANT: The walk is over.
                self.done = true;
                return None;
            }
            // SAFETY: `pos` is the `self` css of a cgroup of the subtree (the walk starts from
            // one and follows `self` csses), so its `cgroup` field points to that cgroup, which
            // `cgroup_mutex` keeps from being freed.
            let cgroup = unsafe { (*self.pos).cgroup };
            // SAFETY: As above, `cgroup` is valid.
            if unsafe { Cgroup::is_dead_raw(cgroup) } {
                // Offline: its count may already be zero, so no `&Cgroup` is made of it.
                continue;
            }
            // SAFETY: The cgroup is online and `cgroup_mutex` is held for `'g`, so its count is
            // not zero and stays so for `'g` (type invariants of `Cgroup`).
            return Some(unsafe { Cgroup::from_raw(cgroup) });
        }
    }
}

// After `None` the walk stays over (`done`).
impl FusedIterator for LiveDescendantsPre<'_> {}
