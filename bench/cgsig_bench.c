// SPDX-License-Identifier: GPL-2.0
/*
 * cgsig_bench: how long it takes to signal a whole cgroup subtree, by
 * cgroup.signal, by cgroup.kill, and by the userspace loops that runtimes and
 * service managers run today. Runs inside the benchmark VM.
 *
 *   cgsig_bench SCENARIO SIGNAL NPROCS THREADS SAMPLES WARMUP FORK METHOD...
 *
 * SCENARIO  flat (one cgroup) or tree (100 cgroups, depth 3)
 * SIGNAL    the signal to send (the populated processes keep its default
 *           action, so 9 and 15 both end them)
 * NPROCS    processes in the subtree, spread evenly over its cgroups
 * THREADS   threads per process (1: single-threaded)
 * FORK      1: also sample fork_us, 0: do not
 * METHOD    signal   write SIGNAL to cgroup.signal
 *           kill     write 1 to cgroup.kill (SIGNAL must be 9)
 *           loop     systemd style: read every cgroup.procs of the subtree,
 *                    kill(2) each pid, repeat until none is left
 *           freeze   runc/crun style: freeze, wait for "frozen 1", read every
 *                    cgroup.procs, kill(2) each pid, thaw
 *
 * The methods are interleaved: each round runs every method once, in an order
 * that rotates from round to round, so that all of them see the same machine.
 * Each run populates the subtree afresh (clone3 CLONE_INTO_CGROUP), then
 * times the signalling (write_us: the write, or the whole userspace
 * procedure) and the time until cgroup.events says "populated 0"
 * (empty_us). With FORK, a process in another cgroup forks, exits and is
 * waited for in a loop while the subtree is signalled and emptied; fork_us is
 * the latency of each such fork+exit+wait that overlaps [start, empty]. The
 * first WARMUP rounds are dropped. Prints one JSON object per method and
 * metric, a line each, in the format of out/bench/results.json's "runs".
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cgfile.h"

#define BASE "/sys/fs/cgroup/cgsig_bench"
#define FORK_CG "/sys/fs/cgroup/cgsig_bench_fork"
#define MAX_CGROUPS 100
#define MAX_METHODS 4
#define NR_SPAWNERS 2
#define MAX_FORK_SAMPLES (1 << 20)

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

/*
 * Start @n processes of @threads threads spread over the cgroups; wait until
 * all run. Two spawners (one per CPU of the VM) clone them in parallel and
 * exit; the processes are then reparented to us, a child subreaper, so that
 * the driver reaps them all.
 */
static void populate(int n, int threads)
{
	int fds[MAX_CGROUPS], i, sp, ready[2], status;
	pid_t spawners[NR_SPAWNERS];
	char c;

	if (pipe(ready))
		die("pipe");
	for (i = 0; i < nr_cgroups; i++) {
		fds[i] = open(cgroups[i], O_PATH | O_DIRECTORY);
		if (fds[i] < 0)
			die(cgroups[i]);
	}
	for (sp = 0; sp < NR_SPAWNERS; sp++) {
		spawners[sp] = fork();
		if (spawners[sp] < 0)
			die("fork");
		if (spawners[sp])
			continue;
		for (i = sp; i < n; i += NR_SPAWNERS) {
			struct clone_args args = {
				.flags = CLONE_INTO_CGROUP,
				.exit_signal = SIGCHLD,
				.cgroup = fds[i % nr_cgroups],
			};
			pid_t pid = syscall(__NR_clone3, &args, sizeof(args));

			if (pid < 0)
				_exit(1);
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
		_exit(0);
	}
	close(ready[1]);
	for (sp = 0; sp < NR_SPAWNERS; sp++)
		if (waitpid(spawners[sp], &status, 0) != spawners[sp] || status)
			die("spawner");
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

/*
 * The fork sampler: a process in FORK_CG that, while "active", times
 * fork + _exit + waitpid in a loop and appends (start, latency) pairs.
 * Shared with the driver through an anonymous shared mapping.
 */
struct fork_samples {
	int active;		/* driver: sample now */
	int parked;		/* sampler: not sampling, n is stable */
	int quit;
	long n;
	long long start[MAX_FORK_SAMPLES];
	long long lat[MAX_FORK_SAMPLES];
};

static struct fork_samples *fs;
static pid_t sampler;

/* Waits for the @n populated processes; the fork sampler is not one of them. */
static void reap(int n)
{
	while (n > 0) {
		pid_t pid = waitpid(-1, NULL, 0);

		if (pid < 0)
			die("waitpid");
		if (pid == sampler && sampler)
			die("fork sampler");
		n--;
	}
}

static void sampler_loop(void)
{
	for (;;) {
		long long t0;
		pid_t pid;

		if (__atomic_load_n(&fs->quit, __ATOMIC_ACQUIRE))
			_exit(0);
		if (!__atomic_load_n(&fs->active, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&fs->parked, 1, __ATOMIC_RELEASE);
			usleep(200);
			continue;
		}
		__atomic_store_n(&fs->parked, 0, __ATOMIC_RELEASE);
		t0 = now_us();
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			_exit(1);
		if (fs->n < MAX_FORK_SAMPLES) {
			fs->start[fs->n] = t0;
			fs->lat[fs->n] = now_us() - t0;
			__atomic_store_n(&fs->n, fs->n + 1, __ATOMIC_RELEASE);
		}
	}
}

static void start_sampler(void)
{
	struct clone_args args = { .flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD };
	int fd;

	fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fs == MAP_FAILED)
		die("mmap");
	if (mkdir(FORK_CG, 0755) && errno != EEXIST)
		die(FORK_CG);
	fd = open(FORK_CG, O_PATH | O_DIRECTORY);
	if (fd < 0)
		die(FORK_CG);
	args.cgroup = fd;
	sampler = syscall(__NR_clone3, &args, sizeof(args));
	if (sampler < 0)
		die("clone3");
	if (sampler == 0)
		sampler_loop();
	close(fd);
}

static void sampler_set(int active)
{
	__atomic_store_n(&fs->active, active, __ATOMIC_RELEASE);
	if (!active)
		while (!__atomic_load_n(&fs->parked, __ATOMIC_ACQUIRE))
			usleep(100);
	else
		while (__atomic_load_n(&fs->parked, __ATOMIC_ACQUIRE))
			usleep(100);
}

static void stop_sampler(void)
{
	__atomic_store_n(&fs->quit, 1, __ATOMIC_RELEASE);
	waitpid(sampler, NULL, 0);
	rmdir(FORK_CG);
}

static bool method_known(const char *m)
{
	return !strcmp(m, "signal") || !strcmp(m, "kill") || !strcmp(m, "loop") ||
	       !strcmp(m, "freeze");
}

/* Signals the populated subtree by @method; returns when the method is done. */
static void run_method(const char *method, int sig, const char *sigbuf)
{
	if (!strcmp(method, "signal")) {
		if (cg_write(BASE, "cgroup.signal", sigbuf))
			die("cgroup.signal");
	} else if (!strcmp(method, "kill")) {
		if (cg_write(BASE, "cgroup.kill", "1"))
			die("cgroup.kill");
	} else if (!strcmp(method, "loop")) {
		/* until a pass finds nothing left to signal */
		while (kill_listed(sig))
			;
	} else {
		if (cg_write(BASE, "cgroup.freeze", "1"))
			die("cgroup.freeze");
		wait_frozen(BASE);
		kill_listed(sig);
		if (cg_write(BASE, "cgroup.freeze", "0"))
			die("cgroup.freeze");
	}
}

struct series {
	long long *v;
	long n;
};

static void add(struct series *s, long long v)
{
	if (!(s->n & (s->n - 1))) {
		s->v = realloc(s->v, (s->n ? 2 * s->n : 1) * sizeof(*s->v));
		if (!s->v)
			die("realloc");
	}
	s->v[s->n++] = v;
}

/* The names results.json uses. */
static const char *method_name(const char *m)
{
	if (!strcmp(m, "signal"))
		return "cgroup.signal";
	if (!strcmp(m, "kill"))
		return "cgroup.kill";
	if (!strcmp(m, "loop"))
		return "userspace-loop";
	return "userspace-freeze";
}

static void print_series(const char *scenario, const char *method, int sig, int n,
			 int threads, const char *metric, struct series *s)
{
	long i;

	printf("{\"scenario\": \"%s\", \"method\": \"%s\", \"signal\": %d, \"n_procs\": %d, "
	       "\"threads\": %d, \"n_cgroups\": %d, \"metric\": \"%s\", \"samples\": [",
	       scenario, method_name(method), sig, n, threads, nr_cgroups, metric);
	for (i = 0; i < s->n; i++)
		printf("%s%lld", i ? ", " : "", s->v[i]);
	printf("]}\n");
}

int main(int argc, char **argv)
{
	struct series write_us[MAX_METHODS] = {}, empty_us[MAX_METHODS] = {};
	struct series fork_us[MAX_METHODS] = {};
	int sig, n, threads, samples, warmup, fork_sampling, nr_methods, r, k;
	const char *scenario, **methods;
	char sigbuf[16];

	if (argc < 9 || argc - 8 > MAX_METHODS) {
		fprintf(stderr, "usage: %s flat|tree SIGNAL NPROCS THREADS SAMPLES WARMUP FORK METHOD...\n",
			argv[0]);
		return 2;
	}
	scenario = argv[1];
	sig = atoi(argv[2]);
	n = atoi(argv[3]);
	threads = atoi(argv[4]);
	samples = atoi(argv[5]);
	warmup = atoi(argv[6]);
	fork_sampling = atoi(argv[7]);
	methods = (const char **)argv + 8;
	nr_methods = argc - 8;
	if (strcmp(scenario, "flat") && strcmp(scenario, "tree"))
		return 2;
	if (sig < 1 || n < 1 || threads < 1 || samples < 1 || warmup < 0)
		return 2;
	for (k = 0; k < nr_methods; k++)
		if (!method_known(methods[k]) || (!strcmp(methods[k], "kill") && sig != SIGKILL))
			return 2;
	snprintf(sigbuf, sizeof(sigbuf), "%d", sig);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	make_cgroups(!strcmp(scenario, "tree"));
	if (fork_sampling)
		start_sampler();

	for (r = 0; r < samples + warmup; r++) {
		for (k = 0; k < nr_methods; k++) {
			int m = (r + k) % nr_methods;
			long long t0, t1, t2;
			long first = 0, i;

			populate(n, threads);
			if (fork_sampling) {
				first = __atomic_load_n(&fs->n, __ATOMIC_ACQUIRE);
				sampler_set(1);
				usleep(20000);	/* a few samples before, for the overlap */
			}
			t0 = now_us();
			run_method(methods[m], sig, sigbuf);
			t1 = now_us();
			wait_empty();
			t2 = now_us();
			if (fork_sampling)
				sampler_set(0);
			reap(n);
			if (r < warmup)
				continue;
			add(&write_us[m], t1 - t0);
			add(&empty_us[m], t2 - t0);
			for (i = first; fork_sampling && i < fs->n; i++)
				if (fs->start[i] <= t2 && fs->start[i] + fs->lat[i] >= t0)
					add(&fork_us[m], fs->lat[i]);
		}
		fprintf(stderr, "round %d/%d done\n", r + 1, samples + warmup);
	}
	if (fork_sampling)
		stop_sampler();

	for (k = 0; k < nr_methods; k++) {
		print_series(scenario, methods[k], sig, n, threads, "write_us", &write_us[k]);
		print_series(scenario, methods[k], sig, n, threads, "empty_us", &empty_us[k]);
		if (fork_sampling)
			print_series(scenario, methods[k], sig, n, threads, "fork_us", &fork_us[k]);
	}
	return 0;
}
