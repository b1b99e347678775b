// SPDX-License-Identifier: GPL-2.0
/*
 * make stall: does a long cgroup.signal walk hold up the rest of the machine?
 *
 * NR_VICTIMS (default 10000) sleeping processes in stall/victims. Outside
 * the subtree, in stall/outside, a loop forks a child that exits at once and
 * reaps it, timing each fork+exit+wait. The run alternates phases of
 * PHASE_MS: "quiet" (nothing else happens) and "walks" (a writer writes
 * SIGCONT, which changes nothing for a running process, to
 * victims/cgroup.signal back to back, and a remounter flips the cgroup2
 * mount's favordynmods option, whose cgroup_favor_dynmods() takes
 * cgroup_threadgroup_rwsem for writing without cgroup_mutex). If a fork or
 * exit outside the subtree had to wait for a walk, the worst fork+exit of
 * the walks phases would be as long as a walk; the table compares them.
 *
 * Prints one "key value" per line; scripts/guest/stall.sh runs it with the
 * hung-task detector at 10 s, and the dmesg check follows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BASE "/sys/fs/cgroup/stall"
#define MAX_SAMPLES 200000

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static void die(const char *what)
{
	fprintf(stderr, "cgsig_stall: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

static void join(const char *cg)
{
	char path[256], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(path, pid);
}

struct shared {
	int phase;		/* 0 quiet, 1 walks, 2 done */
	int nr[2];		/* fork+exit samples per phase */
	long lat[2][MAX_SAMPLES];
};

static struct shared *sh;
static long walks, walk_us, walk_max, remounts, remount_max;

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static void *remounter(void *arg)
{
	int on = 0;

	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != 2) {
		long t;

		if (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != 1) {
			usleep(1000);
			continue;
		}
		on = !on;
		t = now_us();
		if (mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT,
			  on ? "favordynmods" : "") < 0)
			die("remount /sys/fs/cgroup");
		t = now_us() - t;
		remounts++;
		if (t > remount_max)
			remount_max = t;
		usleep(20000);
	}
	if (on)
		mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT, "");
	return NULL;
}

int main(void)
{
	int nr = getenv("NR_VICTIMS") ? atoi(getenv("NR_VICTIMS")) : 10000;
	long phase_ms = getenv("PHASE_MS") ? atol(getenv("PHASE_MS")) : 3000;
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 5;
	pid_t spawner, forker;
	pthread_t rt;
	int i, p, fd;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	mkdir(BASE, 0755);
	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
	mkdir(BASE "/victims", 0755);
	mkdir(BASE "/outside", 0755);

	spawner = fork();
	if (spawner == 0) {
		join(BASE "/victims");
		for (i = 1; i < nr; i++) {
			pid_t c = fork();

			if (c < 0)
				die("fork victim");
			if (c == 0)
				break;
		}
		for (;;)
			pause();
	}
	for (;;) {
		char buf[64];
		FILE *f = fopen(BASE "/victims/pids.current", "r");

		if (!f || !fgets(buf, sizeof(buf), f))
			die("pids.current");
		fclose(f);
		if (atoi(buf) >= nr)
			break;
		usleep(100000);
	}

	forker = fork();
	if (forker == 0) {
		join(BASE "/outside");
		while ((p = __atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST)) != 2) {
			long t = now_us();
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c < 0 || waitpid(c, NULL, 0) != c)
				die("fork+wait outside");
			t = now_us() - t;
			if (sh->nr[p] < MAX_SAMPLES)
				sh->lat[p][sh->nr[p]++] = t;
		}
		_exit(0);
	}

	if (pthread_create(&rt, NULL, remounter, NULL))
		die("pthread_create");
	fd = open(BASE "/victims/cgroup.signal", O_WRONLY);
	if (fd < 0)
		die("open cgroup.signal");
	for (i = 0; i < 2 * rounds; i++) {
		long end = now_us() + phase_ms * 1000;

		__atomic_store_n(&sh->phase, i % 2, __ATOMIC_SEQ_CST);
		while (now_us() < end) {
			long t;

			if (i % 2 == 0) {
				usleep(10000);
				continue;
			}
			t = now_us();
			if (write(fd, "18", 2) != 2)
				die("write cgroup.signal");
			t = now_us() - t;
			walks++;
			walk_us += t;
			if (t > walk_max)
				walk_max = t;
		}
	}
	__atomic_store_n(&sh->phase, 2, __ATOMIC_SEQ_CST);
	pthread_join(rt, NULL);
	waitpid(forker, NULL, 0);
	write_file(BASE "/victims/cgroup.kill", "1");
	waitpid(spawner, NULL, 0);

	printf("victims %d\n", nr);
	printf("walks %ld\n", walks);
	printf("walk_mean_us %ld\n", walks ? walk_us / walks : 0);
	printf("walk_max_us %ld\n", walk_max);
	printf("remounts %ld\n", remounts);
	printf("remount_max_us %ld\n", remount_max);
	for (p = 0; p < 2; p++) {
		long *l = sh->lat[p];
		int n = sh->nr[p];
		const char *name = p ? "walks" : "quiet";

		if (!n) {
			printf("%s_forks 0\n", name);
			continue;
		}
		qsort(l, n, sizeof(*l), cmp_long);
		printf("%s_forks %d\n", name, n);
		printf("%s_fork_p50_us %ld\n", name, l[n / 2]);
		printf("%s_fork_p99_us %ld\n", name, l[n * 99 / 100]);
		printf("%s_fork_max_us %ld\n", name, l[n - 1]);
	}
	return 0;
}
