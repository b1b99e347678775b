// SPDX-License-Identifier: GPL-2.0

#include <linux/cgroup.h>

#ifdef CONFIG_CGROUPS

__rust_helper bool rust_helper_cgroup_is_dead(const struct cgroup *cgrp)
{
	return cgroup_is_dead(cgrp);
}

#endif /* CONFIG_CGROUPS */
