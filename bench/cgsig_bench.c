// SPDX-License-Identifier: GPL-2.0
/*
 * cgsig_bench: how long it takes to signal a whole cgroup subtree, by
 * cgroup.signal, by cgroup.kill, and by the userspace loops that runtimes and
 * service managers run today. Runs inside the benchmark VM.
 *
 *   cgsig_bench SCENARIO METHOD SIGNAL NPROCS THREADS SAMPLES WARMUP
 *
 * SCENARIO  flat (one cgroup) or tree (100 cgroups, depth 3)
 * METHOD    signal   write SIGNAL to cgroup.signal
 *           kill     write 1 to cgroup.kill (SIGNAL must be 9)
 *           loop     systemd style: read every cgroup.procs of the subtree,
 *                    kill(2) each pid, repeat until none is left
 *           freeze   runc/crun style: freeze, wait for "frozen 1", read every
 *                    cgroup.procs, kill(2) each pid, thaw
 * NPROCS    processes in the subtree, spread evenly over its cgroups
 * THREADS   threads per process (1: single-threaded)
 *
 * Each sample populates the subtree afresh (clone3 CLONE_INTO_CGROUP), then
 * times the signalling (write_us: the write, or the whole userspace
 * procedure) and the time until cgroup.events says "populated 0"
 * (empty_us). The first WARMUP samples are dropped. Prints two JSON objects,
 * one line each, in the format of out/bench/results.json's "runs".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BASE "/sys/fs/cgroup/cgsig_bench"
#define MAX_CGROUPS 100

static char cgroups[MAX_CGROUPS][64];
static int nr_cgroups;

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static int cg_write(const char *cg, const char *file, const char *val)
{
	char path[256];
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

static bool cg_contains(const char *cg, const char *file, const char *what)
{
	char path[256], buf[512];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, what);
}

/* flat: BASE alone; tree: 100 cgroups, depth 3 (BASE, 9 children, 90 grandchildren). */
static void make_cgroups(bool tree)
{
	int i, j;

	rmdir(BASE);
	if (mkdir(BASE, 0755) && errno != EEXIST)
		die(BASE);
	snprintf(cgroups[nr_cgroups++], sizeof(cgroups[0]), "%s", BASE);
	if (!tree)
		return;
	for (i = 0; i < 9; i++) {
		snprintf(cgroups[nr_cgroups], sizeof(cgroups[0]), "%s/c%d", BASE, i);
		if (mkdir(cgroups[nr_cgroups++], 0755) && errno != EEXIST)
			die("mkdir");
		for (j = 0; j < 10; j++) {
			snprintf(cgroups[nr_cgroups], sizeof(cgroups[0]), "%s/c%d/g%d", BASE, i, j);
			if (mkdir(cgroups[nr_cgroups++], 0755) && errno != EEXIST)
				die("mkdir");
		}
	}
}

static void *idle(void *arg __attribute__((unused)))
{
	for (;;)
		pause();
	return NULL;
}

/* Start @n processes of @threads threads spread over the cgroups; wait until all run. */
static void populate(int n, int threads)
{
	int fds[MAX_CGROUPS], i, ready[2];
	char c;

	if (pipe(ready))
		die("pipe");
	for (i = 0; i < nr_cgroups; i++) {
		fds[i] = open(cgroups[i], O_PATH | O_DIRECTORY);
		if (fds[i] < 0)
			die(cgroups[i]);
	}
	for (i = 0; i < n; i++) {
		struct clone_args args = {
			.flags = CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = fds[i % nr_cgroups],
		};
		pid_t pid = syscall(__NR_clone3, &args, sizeof(args));

		if (pid < 0)
			die("clone3");
		if (pid == 0) {
			pthread_t t;
			int k;

			close(ready[0]);
			for (k = 1; k < threads; k++)
				if (pthread_create(&t, NULL, idle, NULL))
					_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			die("populate");
	close(ready[0]);
	for (i = 0; i < nr_cgroups; i++)
		close(fds[i]);
}

/* kill(2) every pid listed in every cgroup.procs; how many were listed. */
static int kill_listed(int sig)
{
	char path[300], buf[65536], *p, *end;
	int i, fd, n, listed = 0;

	for (i = 0; i < nr_cgroups; i++) {
		snprintf(path, sizeof(path), "%.63s/cgroup.procs", cgroups[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
			buf[n] = 0;
			for (p = buf; *p; p = end) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				while (*end == '\n')
					end++;
				kill(pid, sig);
				listed++;
			}
		}
		close(fd);
	}
	return listed;
}

static void wait_frozen(const char *cg)
{
	while (!cg_contains(cg, "cgroup.events", "frozen 1"))
		usleep(100);
}

static void wait_empty(void)
{
	while (!cg_contains(BASE, "cgroup.events", "populated 0"))
		usleep(100);
}

static void reap(void)
{
	while (waitpid(-1, NULL, 0) > 0)
		;
}

int main(int argc, char **argv)
{
	const char *scenario, *method;
	int sig, n, threads, samples, warmup, s;
	long long *write_us, *empty_us, t0, t1, t2;
	char sigbuf[16];

	if (argc != 8) {
		fprintf(stderr, "usage: %s flat|tree signal|kill|loop|freeze SIGNAL NPROCS THREADS SAMPLES WARMUP\n",
			argv[0]);
		return 2;
	}
	scenario = argv[1];
	method = argv[2];
	sig = atoi(argv[3]);
	n = atoi(argv[4]);
	threads = atoi(argv[5]);
	samples = atoi(argv[6]);
	warmup = atoi(argv[7]);
	if (strcmp(scenario, "flat") && strcmp(scenario, "tree"))
		return 2;
	if (strcmp(method, "signal") && strcmp(method, "kill") && strcmp(method, "loop") &&
	    strcmp(method, "freeze"))
		return 2;
	if (!strcmp(method, "kill") && sig != SIGKILL)
		return 2;
	write_us = calloc(samples + warmup, sizeof(*write_us));
	empty_us = calloc(samples + warmup, sizeof(*empty_us));
	snprintf(sigbuf, sizeof(sigbuf), "%d", sig);
	make_cgroups(!strcmp(scenario, "tree"));

	for (s = 0; s < samples + warmup; s++) {
		populate(n, threads);
		t0 = now_us();
		if (!strcmp(method, "signal")) {
			if (cg_write(BASE, "cgroup.signal", sigbuf))
				die("cgroup.signal");
		} else if (!strcmp(method, "kill")) {
			if (cg_write(BASE, "cgroup.kill", "1"))
				die("cgroup.kill");
		} else if (!strcmp(method, "loop")) {
			/* until a pass finds nothing left to signal */
			while (kill_listed(sig))
				if (sig != SIGKILL && sig != SIGTERM)
					break;
		} else {
			if (cg_write(BASE, "cgroup.freeze", "1"))
				die("cgroup.freeze");
			wait_frozen(BASE);
			kill_listed(sig);
			if (cg_write(BASE, "cgroup.freeze", "0"))
				die("cgroup.freeze");
		}
		t1 = now_us();
		wait_empty();
		t2 = now_us();
		reap();
		write_us[s] = t1 - t0;
		empty_us[s] = t2 - t0;
	}

	for (int m = 0; m < 2; m++) {
		long long *v = m ? empty_us : write_us;

		printf("{\"scenario\": \"%s\", \"method\": \"%s\", \"signal\": %d, \"n_procs\": %d, "
		       "\"threads\": %d, \"n_cgroups\": %d, \"metric\": \"%s\", \"samples\": [",
		       scenario, method, sig, n, threads, nr_cgroups, m ? "empty_us" : "write_us");
		for (s = warmup; s < samples + warmup; s++)
			printf("%s%lld", s > warmup ? ", " : "", v[s]);
		printf("]}\n");
	}
	return 0;
}
