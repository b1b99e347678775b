/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the cgroup core and its Rust code (rust/kernel/cgroup*.rs,
 * kernel/cgroup/signal.rs) call of each other. The Rust bindings include
 * this header, not all of cgroup-internal.h, which includes it too.
 */
#ifndef __CGROUP_RUST_H
#define __CGROUP_RUST_H

#include <linux/types.h>

struct cgroup;
struct kernfs_node;
struct kernfs_open_file;
struct task_struct;

struct cgroup *cgroup_kn_lock_live(struct kernfs_node *kn, bool drain_offline);
void cgroup_kn_unlock(struct kernfs_node *kn);

#ifdef CONFIG_CGROUP_SIGNAL
/* A cgroup.signal write, opened and closed around its walk (cgroup.c) */
int cgroup_signal_begin(struct cgroup *cgrp, int sig);
void cgroup_signal_end(void);
bool cgroup_signal_task(struct task_struct *task);
/* The cgroup.signal write handler (signal.rs): 0 or -errno */
int cgroup_signal_write(struct kernfs_open_file *of, char *buf, size_t nbytes);
#endif

#endif /* __CGROUP_RUST_H */
