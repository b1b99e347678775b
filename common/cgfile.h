/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cgroup file I/O shared by the programs that run in the VM:
 * bench/cgsig_bench.c and stress/cgsig_stress.c.
 */
#ifndef CGSIG_CGFILE_H
#define CGSIG_CGFILE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write @val to @cg/@file: 0 or -errno. */
static inline int cg_write(const char *cg, const char *file, const char *val)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

#endif
