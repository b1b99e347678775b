// SPDX-License-Identifier: GPL-2.0
/*
 * make stall: does a long cgroup.signal walk hold up the rest of the machine?
 *
 * NR_VICTIMS (default 10000) sleeping processes in stall/victims. Outside
 * the subtree, in stall/outside, a loop forks a child that exits at once and
 * reaps it, then starts a thread and joins it (a non-leader thread's exit
 * takes cgroup_threadgroup_rwsem), timing each. The run cycles through
 * phases of PHASE_MS, ROUNDS times:
 *   quiet    nothing else happens;
 *   walks    a writer writes SIGCONT (a no-op for running processes, so the
 *            cost is the walk's alone) to victims/cgroup.signal back to back;
 *   remount  the same, while the cgroup2 mount's favordynmods flips
 *            (cgroup_favor_dynmods() takes cgroup_threadgroup_rwsem for
 *            writing without cgroup_mutex: v1 of the series stalled every
 *            fork on the machine behind such a writer for a whole walk).
 * If forks or exits outside had to wait for a walk, their worst latency in
 * the walks phases would be as long as a walk. The remount phases also
 * include what a favordynmods flip costs by itself (an RCU grace period
 * with forks held back), with or without cgroup.signal.
 *
 * The remounts keep the mount's other options; still, run it in a VM only
 * (CGSIG_STALL_VM=1, as the stall job of scripts/guest/job.sh does). The hung-task detector
 * is at 10 s while the phases run. Prints one "key value" per line.
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
#include <sys/statvfs.h>
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

struct shared;
static struct shared *sh;
static void stop_all(void);

static void die(const char *what)
{
	fprintf(stderr, "cgsig_stall: %s: %s\n", what, strerror(errno));
	stop_all();
	exit(1);
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		die(path);
	close(fd);
}

static void read_text_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, size, f))
		die(path);
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

static void join(const char *cg)
{
	char path[256], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(path, pid);
}

enum { QUIET, WALKS, REMOUNT, NR_PHASES, DONE = NR_PHASES };
static const char *const phase_name[NR_PHASES] = { "quiet", "walks", "remount" };

struct shared {
	int phase;
	int nr[NR_PHASES][2];	/* samples per phase: fork+exit, thread */
	long lat[NR_PHASES][2][MAX_SAMPLES];
};

static long walks, walk_us, walk_max, remounts, remount_max;
static char opts_off[512], opts_on[512];	/* the mount's options, +favordynmods */

/* Lets the fork loop end when the program fails. */
static void stop_all(void)
{
	if (sh)
		__atomic_store_n(&sh->phase, DONE, __ATOMIC_SEQ_CST);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The cgroup2 superblock options of /sys/fs/cgroup, without favordynmods. */
static void read_mount_options(void)
{
	char line[1024], *sep, *opt, *save;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		die("mountinfo");
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, " /sys/fs/cgroup ") || !(sep = strstr(line, " - cgroup2 ")))
			continue;
		/* " - cgroup2 SOURCE OPTIONS" */
		sep = strchr(sep + strlen(" - cgroup2 "), ' ');
		if (!sep)
			break;
		sep[strcspn(sep, "\n")] = 0;
		for (opt = strtok_r(sep + 1, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
			if (!strcmp(opt, "rw") || !strcmp(opt, "favordynmods"))
				continue;
			snprintf(opts_off + strlen(opts_off), sizeof(opts_off) - strlen(opts_off),
				 "%s%s", *opts_off ? "," : "", opt);
		}
		snprintf(opts_on, sizeof(opts_on), "%s%sfavordynmods", opts_off,
			 *opts_off ? "," : "");
		fclose(f);
		return;
	}
	errno = ENOENT;
	die("no cgroup2 mount at /sys/fs/cgroup");
}

/* Flips favordynmods during the remount phases; leaves it off. */
static void *remounter(void *arg)
{
	int on = 0, p;

	while ((p = __atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST)) != DONE) {
		long t;

		if (p != REMOUNT && !on) {
			usleep(1000);
			continue;
		}
		on = !on;
		t = now_us();
		if (mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  on ? opts_on : opts_off) < 0)
			die("remount /sys/fs/cgroup");
		t = now_us() - t;
		remounts++;
		if (t > remount_max)
			remount_max = t;
		usleep(20000);
	}
	if (on)
		mount(NULL, "/sys/fs/cgroup", NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		      opts_off);
	return NULL;
}

static void *nothing(void *arg)
{
	return NULL;
}

static void sample(int p, int kind, long t)
{
	if (p < NR_PHASES && sh->nr[p][kind] < MAX_SAMPLES)
		sh->lat[p][kind][sh->nr[p][kind]++] = t;
}

static unsigned long remount_flags;

static void read_mount_flags(void)
{
	struct statvfs sv;

	if (statvfs("/sys/fs/cgroup", &sv))
		die("statvfs /sys/fs/cgroup");
	remount_flags = MS_REMOUNT;
	if (sv.f_flag & ST_NOSUID)
		remount_flags |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		remount_flags |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		remount_flags |= MS_NOEXEC;
	if (sv.f_flag & ST_RELATIME)
		remount_flags |= MS_RELATIME;
	if (sv.f_flag & ST_NOATIME)
		remount_flags |= MS_NOATIME;
}

static void print_latencies(int p, int kind, const char *what)
{
	long *l = sh->lat[p][kind];
	int n = sh->nr[p][kind];

	printf("%s_%s_samples %d\n", phase_name[p], what, n);
	if (!n)
		return;
	qsort(l, n, sizeof(*l), cmp_long);
	printf("%s_%s_p50_us %ld\n", phase_name[p], what, l[n / 2]);
	printf("%s_%s_p99_us %ld\n", phase_name[p], what, l[n * 99 / 100]);
	printf("%s_%s_max_us %ld\n", phase_name[p], what, l[n - 1]);
}

int main(void)
{
	int nr = getenv("NR_VICTIMS") ? atoi(getenv("NR_VICTIMS")) : 10000;
	long phase_ms = getenv("PHASE_MS") ? atol(getenv("PHASE_MS")) : 3000;
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 4;
	char hung[32];
	long deadline;
	pid_t spawner, forker;
	pthread_t rt;
	int i, p, fd;

	if (!getenv("CGSIG_STALL_VM")) {
		fprintf(stderr, "cgsig_stall remounts /sys/fs/cgroup: run it in a VM (make stall)\n");
		return 2;
	}
	read_mount_options();
	read_mount_flags();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	mkdir(BASE, 0755);
	write_file("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
	write_file(BASE "/cgroup.subtree_control", "+pids");
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
	deadline = now_us() + 600 * 1000000L;
	for (;;) {
		char buf[64];
		FILE *f = fopen(BASE "/victims/pids.current", "r");

		if (!f || !fgets(buf, sizeof(buf), f))
			die("pids.current");
		fclose(f);
		if (atoi(buf) >= nr)
			break;
		if (now_us() > deadline) {
			errno = ETIMEDOUT;
			die("spawning the victims");
		}
		usleep(100000);
	}

	forker = fork();
	if (forker == 0) {
		join(BASE "/outside");
		while ((p = __atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST)) != DONE) {
			long t = now_us();
			pthread_t th;
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c < 0 || waitpid(c, NULL, 0) != c)
				die("fork+wait outside");
			sample(p, 0, now_us() - t);
			t = now_us();
			if (pthread_create(&th, NULL, nothing, NULL) || pthread_join(th, NULL))
				die("thread outside");
			sample(p, 1, now_us() - t);
		}
		_exit(0);
	}

	/*
	 * The hung-task detector at 10 s for the measured phases only: the
	 * teardown below kills 10,000 processes forked in a chain at once,
	 * whose exits queue on their shared anon_vma root lock for longer than
	 * that on a debug kernel, with or without cgroup.signal.
	 */
	read_text_file("/proc/sys/kernel/hung_task_timeout_secs", hung, sizeof(hung));
	write_file("/proc/sys/kernel/hung_task_timeout_secs", "10");
	if (pthread_create(&rt, NULL, remounter, NULL))
		die("pthread_create");
	fd = open(BASE "/victims/cgroup.signal", O_WRONLY);
	if (fd < 0)
		die("open cgroup.signal");
	for (i = 0; i < NR_PHASES * rounds; i++) {
		long end = now_us() + phase_ms * 1000;

		p = i % NR_PHASES;
		__atomic_store_n(&sh->phase, p, __ATOMIC_SEQ_CST);
		while (now_us() < end) {
			long t;

			if (p == QUIET) {
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
	__atomic_store_n(&sh->phase, DONE, __ATOMIC_SEQ_CST);
	pthread_join(rt, NULL);
	waitpid(forker, NULL, 0);
	write_file("/proc/sys/kernel/hung_task_timeout_secs", hung);
	write_file(BASE "/victims/cgroup.kill", "1");
	waitpid(spawner, NULL, 0);

	printf("victims %d\n", nr);
	printf("walks %ld\n", walks);
	printf("walk_mean_us %ld\n", walks ? walk_us / walks : 0);
	printf("walk_max_us %ld\n", walk_max);
	printf("remounts %ld\n", remounts);
	printf("remount_max_us %ld\n", remount_max);
	for (p = 0; p < NR_PHASES; p++) {
		print_latencies(p, 0, "fork");
		print_latencies(p, 1, "thread");
	}
	return 0;
}
