// SPDX-License-Identifier: GPL-2.0

#include <linux/cgroup.h>

#ifdef CONFIG_CGROUPS

__rust_helper void rust_helper_cgroup_get(struct cgroup *cgrp)
{
	cgroup_get(cgrp);
}

__rust_helper void rust_helper_cgroup_put(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}

__rust_helper bool rust_helper_cgroup_is_dead(const struct cgroup *cgrp)
{
	return cgroup_is_dead(cgrp);
}

__rust_helper void rust_helper_cgroup_lock(void)
{
	cgroup_lock();
}

__rust_helper void rust_helper_cgroup_unlock(void)
{
	cgroup_unlock();
}

#endif /* CONFIG_CGROUPS */
