// SPDX-License-Identifier: GPL-2.0
/*
 * cgsig_bench: how long it takes to signal a whole cgroup subtree, by
 * cgroup.signal, by cgroup.kill, and by the userspace loops that runtimes and
 * service managers run today. Runs inside the benchmark VM.
 *
 *   cgsig_bench SCENARIO SIGNAL NPROCS THREADS SAMPLES WARMUP FORK METHOD...
 *   cgsig_bench miss WORKLOAD SIGNAL PIDS_MAX SAMPLES WARMUP METHOD...
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
 * (empty_us). cpu_us is the CPU time (user and system) the thread running
 * the method used until it returned, and preempted the times it was
 * preempted meanwhile: the write's own work, and what the processes it woke
 * took from it. For SIGTERM the processes run a handler that notes when it
 * ran: signalled_us is the time until the last handler ran (for SIGKILL,
 * which no handler sees, a process has the signal when it is dead:
 * empty_us). With FORK, a process in another cgroup forks, exits and is
 * waited for in a loop while the subtree is signalled and emptied; fork_us
 * is the latency of each such fork+exit+wait that overlaps [start, empty],
 * fork_round the round (after warm-up) of each. The first WARMUP rounds are
 * dropped. Prints one JSON object per method and
 * metric, a line each, in the format of out/bench/results.json's "runs".
 *
 * BENCH_CPUS (environment) places the timed points' threads:
 * split   (the default, with two CPUs or more) the thread running the method
 *         on CPU 0, the populated processes and the fork sampler on the
 *         others, as a service manager on a housekeeping CPU signals
 *         containers confined to their own: write_us is then the method's
 *         work and its lock waits, not how long the processes it woke kept
 *         its thread off the CPU.
 * shared  every thread on every CPU: the scheduler decides, and at 10,000
 *         processes the write spends most of its time preempted by them.
 * With one CPU, shared. Each JSON object says which ("cpus").
 *
 * miss: how many processes of a fork-heavy workload each method misses.
 * WORKLOAD  forkbomb  processes that fork two children each and exit,
 *                     retrying at the limit (":(){ :|:& };:")
 *           service   eight services that fork and exec children, a quarter
 *                     short-lived (exit at once), the rest long-lived
 *                     (1 to 4 s)
 *           threaded  four processes whose leader sits in one threaded
 *                     cgroup and whose forking thread in another, forking
 *                     forkbomb children there
 * PIDS_MAX  the workload's pids.max
 * METHOD    signal, kill (SIGKILL only), freeze (as above, one pass),
 *           loop1 (one pass over every cgroup.procs, systemd's first
 *           pass), loop (systemd's cg_kill: passes until one finds no pid
 *           it has not signalled yet; at most MISS_MAX_PASSES)
 * Each sample starts the workload afresh, waits until it has filled most of
 * pids.max (a third for service, whose execs are slow under emulation), runs
 * the method and counts, from /proc/PID/stat, the processes it missed: for
 * SIGKILL and SIGTERM (default action) those alive MISS_GRACE_MS after the
 * subtree was frozen (at once, so that no survivor forks more, or exits by
 * itself, before it is counted), for SIGSTOP those not stopped
 * MISS_GRACE_MS after the method returned.
 * Metrics: missed, passes, write_us (until the method returned), procs (the
 * workload's processes when the method started) and forks (forks on the
 * whole machine while the method ran).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <sys/resource.h>
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
#define FREEZE_TIMEOUT_US (30 * 1000000LL)

static char cgroups[MAX_CGROUPS][64];
static int nr_cgroups;

/* BENCH_CPUS=split: the method's CPU and the workload's (see above). */
static bool split_cpus;
static cpu_set_t method_cpus, workload_cpus;

/* SIGTERM handlers of the populated processes: how many ran, the last one when. */
struct handled {
	long n;
	long long last_us;
};
static struct handled *handled;
static int handler_ran;	/* per process: its SIGTERM handler has counted */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* CPU time (user and system) this thread has used. */
static long long thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Times this thread was preempted (involuntary context switches). */
static long long thread_preempted(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nivcsw;
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
static int rmdir_dir(const char *path, const struct stat *st __attribute__((unused)),
		     int flag, struct FTW *ftw __attribute__((unused)))
{
	if (flag == FTW_DP && rmdir(path))
		return -1;
	return 0;
}

/*
 * Removes BASE, whatever an earlier point (or a driver that died) left in it:
 * processes (cgroup.kill), then every cgroup, deepest first. Every point
 * starts from an empty BASE of its own shape.
 */
static void reset_base(void)
{
	int i;

	if (access(BASE, F_OK))
		return;
	cg_write(BASE, "cgroup.kill", "1");	/* frozen or not */
	for (i = 0; i < 30000 && !cg_contains(BASE, "cgroup.events", "populated 0"); i++)
		usleep(1000);
	if (nftw(BASE, rmdir_dir, 16, FTW_DEPTH | FTW_PHYS))
		die("removing " BASE);
}

static void make_cgroups(bool tree)
{
	int i, j;

	reset_base();
	if (mkdir(BASE, 0755))
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

static void on_term(int sig __attribute__((unused)))
{
	struct timespec ts;
	long long t;

	/*
	 * Once per process: a method that signals a process twice (the loops
	 * send again while it is still listed) can run this in two of its
	 * threads at once; the first one counts and ends the process.
	 */
	if (__atomic_exchange_n(&handler_ran, 1, __ATOMIC_ACQ_REL))
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
	/* Handlers run concurrently in many processes: keep the latest time. */
	for (long long old = __atomic_load_n(&handled->last_us, __ATOMIC_RELAXED);
	     old < t && !__atomic_compare_exchange_n(&handled->last_us, &old, t, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED);)
		;
	__atomic_add_fetch(&handled->n, 1, __ATOMIC_RELEASE);
	_exit(0);
}

static void *idle(void *arg __attribute__((unused)))
{
	for (;;)
		pause();
	return NULL;
}

static void setup_cpus(void)
{
	const char *mode = getenv("BENCH_CPUS");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int i;

	if (mode && strcmp(mode, "split") && strcmp(mode, "shared")) {
		fprintf(stderr, "BENCH_CPUS is split or shared, not %s\n", mode);
		exit(2);
	}
	split_cpus = (!mode || !strcmp(mode, "split")) && n >= 2;
	if (!split_cpus)
		return;
	CPU_ZERO(&method_cpus);
	CPU_ZERO(&workload_cpus);
	CPU_SET(0, &method_cpus);
	for (i = 1; i < n && i < CPU_SETSIZE; i++)
		CPU_SET(i, &workload_cpus);
	/* Before anything is forked: the fork sampler moves itself. */
	if (sched_setaffinity(0, sizeof(method_cpus), &method_cpus))
		die("sched_setaffinity");
}

/* In a new process of the workload (populated or fork sampler). */
static void to_workload_cpus(void)
{
	if (split_cpus && sched_setaffinity(0, sizeof(workload_cpus), &workload_cpus))
		_exit(1);
}

/*
 * Start @n processes of @threads threads spread over the cgroups; wait until
 * all run. Two spawners (one per CPU of the VM) clone them in parallel and
 * exit; the processes are then reparented to us, a child subreaper, so that
 * the driver reaps them all.
 */
static void populate(int n, int threads, bool term_handler)
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
		/* Spawn on every CPU; each process then moves to the workload's. */
		if (split_cpus) {
			cpu_set_t all;

			CPU_ZERO(&all);
			CPU_OR(&all, &method_cpus, &workload_cpus);
			if (sched_setaffinity(0, sizeof(all), &all))
				_exit(1);
		}
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
				to_workload_cpus();	/* its threads follow */
				if (term_handler && signal(SIGTERM, on_term) == SIG_ERR)
					_exit(1);
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

/*
 * Calls @fn(pid, @arg) for every pid listed in @cg/cgroup.procs; how many were
 * listed, or -1 if the file cannot be opened.
 */
static long for_each_listed(const char *cg, void (*fn)(long pid, void *arg), void *arg)
{
	char path[300], buf[65536], *p, *end;
	long listed = 0;
	int fd, n;

	snprintf(path, sizeof(path), "%.63s/cgroup.procs", cg);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	/* Lines are short and the kernel never splits one across reads. */
	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = 0;
		for (p = buf; *p; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			while (*end == '\n')
				end++;
			fn(pid, arg);
			listed++;
		}
	}
	close(fd);
	return listed;
}

static void kill_one(long pid, void *sig)
{
	kill(pid, *(int *)sig);
}

/* kill(2) every pid listed in every cgroup.procs; how many were listed. */
static long kill_listed(int sig)
{
	long listed = 0, n;
	int i;

	for (i = 0; i < nr_cgroups; i++) {
		n = for_each_listed(cgroups[i], kill_one, &sig);
		if (n < 0)
			die(cgroups[i]);
		listed += n;
	}
	return listed;
}

/* Freezes BASE and waits up to FREEZE_TIMEOUT_US for "frozen 1"; false if it did not come. */
static bool freeze_base(void)
{
	long long t0 = now_us();

	if (cg_write(BASE, "cgroup.freeze", "1"))
		die("cgroup.freeze");
	while (!cg_contains(BASE, "cgroup.events", "frozen 1")) {
		if (now_us() - t0 > FREEZE_TIMEOUT_US)
			return false;
		usleep(100);
	}
	return true;
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
	if (sampler == 0) {
		to_workload_cpus();
		sampler_loop();
	}
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
		if (!freeze_base())
			die("not frozen after 30 s");
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

static void print_named(const char *scenario, const char *name, int sig, int n,
			int threads, const char *metric, struct series *s)
{
	long i;

	printf("{\"scenario\": \"%s\", \"method\": \"%s\", \"signal\": %d, \"n_procs\": %d, "
	       "\"threads\": %d, \"n_cgroups\": %d, \"cpus\": \"%s\", \"metric\": \"%s\", "
	       "\"samples\": [",
	       scenario, name, sig, n, threads, nr_cgroups, split_cpus ? "split" : "shared", metric);
	for (i = 0; i < s->n; i++)
		printf("%s%lld", i ? ", " : "", s->v[i]);
	printf("]}\n");
}


/* ---- miss: processes a method misses under fork load ---- */

#define MISS_GRACE_MS 1000
#define MISS_MAX_PASSES 1000
#define MISS_FILL_TIMEOUT_US (30 * 1000000LL)
#define NR_SERVICES 8
#define NR_THREADED 4
#define PID_BITS (1 << 22)	/* pid_max as make bench sets it (4194304) */

static const char *workload;
static int pids_max;
static unsigned char *seen;	/* pids signalled by this pass of loop */

static _Noreturn void bomb(void)
{
	int made = 0;

	for (;;) {
		pid_t p = fork();

		if (p == 0)
			made = 0;
		else if (p > 0 && ++made == 2)
			_exit(0);
		else if (p < 0)
			sched_yield();	/* at pids.max: try again */
	}
}

/* A service's child, after exec: a quarter exit at once, the rest live 1-4 s. */
static _Noreturn int service_child(const char *kind)
{
	if (!strcmp(kind, "long")) {
		srand(getpid());
		usleep(1000000 + rand() % 3000000);
	}
	_exit(0);
}

static _Noreturn void service(void)
{
	unsigned long i;

	signal(SIGCHLD, SIG_IGN);	/* children are reaped by the kernel */
	for (i = 0;; i++) {
		pid_t p = fork();

		if (p == 0) {
			execl("/proc/self/exe", "cgsig_bench", "__child", i % 4 ? "long" : "short",
			      (char *)NULL);
			_exit(127);
		}
		if (p < 0)
			usleep(1000);
	}
}

static void *forking_thread(void *arg __attribute__((unused)))
{
	char path[128];

	snprintf(path, sizeof(path), "%s/t2", BASE);
	if (cg_write(path, "cgroup.threads", "0"))
		_exit(1);
	for (;;) {
		pid_t p = fork();

		if (p == 0)
			bomb();
		if (p < 0)
			sched_yield();
	}
	return NULL;
}

/* Leader in t1, a thread forking into t2. */
static _Noreturn void threaded_proc(void)
{
	pthread_t t;

	signal(SIGCHLD, SIG_IGN);
	if (pthread_create(&t, NULL, forking_thread, NULL))
		_exit(1);
	for (;;)
		pause();
}

/* Reaps whatever the subreaper inherits, for as long as the driver runs. */
static void *reaper(void *arg __attribute__((unused)))
{
	for (;;)
		if (waitpid(-1, NULL, __WALL) < 0)
			usleep(1000);
	return NULL;
}

static long nr_lines_of(const char *cg, const char *file)
{
	char path[300], buf[65536];
	long lines = 0;
	int fd, n, i;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

static long read_long(const char *cg, const char *file)
{
	char path[300], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return atol(buf);
}

static void miss_cgroups(void)
{
	char buf[32];

	if (cg_write("/sys/fs/cgroup", "cgroup.subtree_control", "+pids"))
		die("+pids");
	reset_base();
	if (mkdir(BASE, 0755))
		die(BASE);
	snprintf(cgroups[nr_cgroups++], sizeof(cgroups[0]), "%s", BASE);
	snprintf(buf, sizeof(buf), "%d", pids_max);
	if (cg_write(BASE, "pids.max", buf))
		die("pids.max");
	if (strcmp(workload, "threaded"))
		return;
	/* Their cgroup.procs cannot be read (EOPNOTSUPP): BASE's lists them. */
	if (mkdir(BASE "/t1", 0755) || mkdir(BASE "/t2", 0755) ||
	    cg_write(BASE "/t1", "cgroup.type", "threaded") ||
	    cg_write(BASE "/t2", "cgroup.type", "threaded"))
		die("threaded cgroups");
}

/* Starts the workload afresh and waits until it fills most of pids.max. */
static void miss_start(void)
{
	int nr = !strcmp(workload, "forkbomb") ? 1 : !strcmp(workload, "service") ? NR_SERVICES :
		 NR_THREADED;
	const char *cg = strcmp(workload, "threaded") ? BASE : BASE "/t1";
	long target = !strcmp(workload, "service") ? pids_max / 3 : pids_max * 8 / 10;
	long long t0 = now_us();
	int fd, i, go[2];
	char c;

	/* All start together: the first must not fill pids.max before the last exists. */
	if (pipe(go))
		die("pipe");
	fd = open(cg, O_PATH | O_DIRECTORY);
	if (fd < 0)
		die(cg);
	for (i = 0; i < nr; i++) {
		struct clone_args args = {
			.flags = CLONE_INTO_CGROUP,
			.exit_signal = SIGCHLD,
			.cgroup = fd,
		};
		pid_t pid = syscall(__NR_clone3, &args, sizeof(args));

		if (pid < 0)
			die("clone3");
		if (pid == 0) {
			/* The driver runs at a higher priority than its workloads. */
			setpriority(PRIO_PROCESS, 0, 0);
			close(go[1]);
			if (read(go[0], &c, 1) != 0)	/* EOF: the driver closed it */
				_exit(1);
			close(go[0]);
			if (!strcmp(workload, "forkbomb"))
				bomb();
			if (!strcmp(workload, "service"))
				service();
			threaded_proc();
		}
	}
	close(fd);
	close(go[0]);
	close(go[1]);
	while (read_long(BASE, "pids.current") < target) {
		/* Every forking thread moves itself to t2 first. */
		if (!strcmp(workload, "threaded") && now_us() - t0 > 5000000 &&
		    nr_lines_of(BASE "/t2", "cgroup.threads") < 1)
			die("no forking thread reached t2");
		if (now_us() - t0 > MISS_FILL_TIMEOUT_US) {
			fprintf(stderr, "%s: %ld of pids.max %d after 30 s\n", workload,
				read_long(BASE, "pids.current"), pids_max);
			break;
		}
		usleep(10000);
	}
}

struct miss_count {
	int sig;
	long missed;
};

/* Counts @pid if it does not show the signal's effect (see count_missed()). */
static void check_one(long pid, void *arg)
{
	struct miss_count *c = arg;
	char path[64], stat[512], *state;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;	/* gone */
	n = read(fd, stat, sizeof(stat) - 1);
	close(fd);
	stat[n > 0 ? n : 0] = 0;
	state = strrchr(stat, ')');
	if (!state || !state[1])
		return;
	state += 2;
	if (*state == 'Z' || *state == 'X')
		return;
	if (c->sig == SIGSTOP && (*state == 'T' || *state == 't'))
		return;
	c->missed++;
}

/*
 * Processes of the workload that do not show @sig's effect: alive (not a
 * zombie) for SIGKILL and SIGTERM, not stopped for SIGSTOP. BASE's
 * cgroup.procs lists a threaded subtree's processes too.
 */
static long count_missed(int sig)
{
	struct miss_count c = { .sig = sig };

	if (for_each_listed(BASE, check_one, &c) < 0)
		die(BASE);
	return c.missed;
}

struct kill_new_arg {
	int sig;
	long sent;
};

static void kill_if_new(long pid, void *arg)
{
	struct kill_new_arg *k = arg;

	if (pid <= 0 || pid >= PID_BITS || seen[pid / 8] & (1 << pid % 8))
		return;
	seen[pid / 8] |= 1 << pid % 8;
	kill(pid, k->sig);
	k->sent++;
}

/* One pass of kill(2) over every listed pid not signalled yet; how many it signalled. */
static long kill_new(int sig)
{
	struct kill_new_arg k = { .sig = sig };
	int i;

	for (i = 0; i < nr_cgroups; i++)
		if (for_each_listed(cgroups[i], kill_if_new, &k) < 0)
			die(cgroups[i]);
	return k.sent;
}

/* Runs @method; returns its passes over cgroup.procs (0 for a write). */
static long miss_method(const char *method, int sig, const char *sigbuf)
{
	long passes = 0;

	memset(seen, 0, PID_BITS / 8);
	if (!strcmp(method, "signal")) {
		if (cg_write(BASE, "cgroup.signal", sigbuf))
			die("cgroup.signal");
	} else if (!strcmp(method, "kill")) {
		if (cg_write(BASE, "cgroup.kill", "1"))
			die("cgroup.kill");
	} else if (!strcmp(method, "loop1")) {
		kill_new(sig);
		passes = 1;
	} else if (!strcmp(method, "loop")) {
		do
			passes++;
		while (kill_new(sig) && passes < MISS_MAX_PASSES);
	} else {
		/* runc gives up after a while; so do we, and say so. */
		if (!freeze_base())
			fprintf(stderr, "%s: not frozen after 30 s\n", workload);
		kill_new(sig);
		passes = 1;
		if (cg_write(BASE, "cgroup.freeze", "0"))
			die("cgroup.freeze");
	}
	return passes;
}

/* Forks since boot, machine-wide ("processes" in /proc/stat). */
static long forks_total(void)
{
	char buf[8192], *p;
	int fd, n;

	fd = open("/proc/stat", O_RDONLY);
	if (fd < 0)
		die("/proc/stat");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, "\nprocesses ");
	return p ? atol(p + 11) : 0;
}

/* What a process that outlived cgroup.kill looks like (bench.log). */
static void describe_one(long pid, void *arg)
{
	char path[64], buf[4096], *p;
	int *left = arg, fd, n;

	if ((*left)-- <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	fprintf(stderr, "  pid %ld:", pid);
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n"))
		if (!strncmp(p, "State:", 6) || !strncmp(p, "SigPnd:", 7) ||
		    !strncmp(p, "ShdPnd:", 7) || !strncmp(p, "Threads:", 8))
			fprintf(stderr, " %s;", p);
	fprintf(stderr, "\n");
}

static bool wait_base_empty(long long us)
{
	long long t0 = now_us();

	while (!cg_contains(BASE, "cgroup.events", "populated 0")) {
		if (now_us() - t0 > us)
			return false;
		usleep(1000);
	}
	return true;
}

static void miss_cleanup(void)
{
	long long t0 = now_us();
	int left = 5;

	if (cg_write(BASE, "cgroup.kill", "1"))
		die("cgroup.kill");
	if (!wait_base_empty(10000000)) {
		/* Should not happen: say what is left, and whether a second write ends it. */
		fprintf(stderr, "%s: %ld processes left 10 s after cgroup.kill, e.g.:\n",
			workload, nr_lines_of(BASE, "cgroup.procs"));
		for_each_listed(BASE, describe_one, &left);
		if (cg_write(BASE, "cgroup.kill", "1"))
			die("cgroup.kill");
		if (!wait_base_empty(MISS_FILL_TIMEOUT_US))
			die("workload survived two cgroup.kill writes");
		fprintf(stderr, "%s: a second cgroup.kill ended them\n", workload);
	}
	/* Zombies still count in pids.current until the reaper has them. */
	while (read_long(BASE, "pids.current") > 0) {
		if (now_us() - t0 > 2 * MISS_FILL_TIMEOUT_US)
			die("zombies not reaped");
		usleep(1000);
	}
	if (cg_write(BASE, "cgroup.freeze", "0"))	/* the next sample starts thawed */
		die("cgroup.freeze");
}

static const char *miss_method_name(const char *m)
{
	if (!strcmp(m, "loop1"))
		return "userspace-loop-once";
	return method_name(m);
}

static int miss_main(int argc, char **argv)
{
	struct series missed[MAX_METHODS + 1] = {}, passes[MAX_METHODS + 1] = {};
	struct series write_us[MAX_METHODS + 1] = {}, procs[MAX_METHODS + 1] = {};
	struct series forks[MAX_METHODS + 1] = {};
	int sig, samples, warmup, nr_methods, r, k;
	const char **methods;
	char scenario[64], sigbuf[16];
	pthread_t t;

	if (argc < 8 || argc - 7 > MAX_METHODS + 1) {
		fprintf(stderr, "usage: %s miss forkbomb|service|threaded SIGNAL PIDS_MAX SAMPLES WARMUP METHOD...\n",
			argv[0]);
		return 2;
	}
	workload = argv[2];
	sig = atoi(argv[3]);
	pids_max = atoi(argv[4]);
	samples = atoi(argv[5]);
	warmup = atoi(argv[6]);
	methods = (const char **)argv + 7;
	nr_methods = argc - 7;
	if (strcmp(workload, "forkbomb") && strcmp(workload, "service") &&
	    strcmp(workload, "threaded"))
		return 2;
	if (sig < 1 || pids_max < 10 || samples < 1 || warmup < 0)
		return 2;
	for (k = 0; k < nr_methods; k++)
		if ((!method_known(methods[k]) && strcmp(methods[k], "loop1")) ||
		    (!strcmp(methods[k], "kill") && sig != SIGKILL))
			return 2;
	snprintf(sigbuf, sizeof(sigbuf), "%d", sig);
	snprintf(scenario, sizeof(scenario), "miss-%s", workload);
	seen = malloc(PID_BITS / 8);
	if (!seen)
		die("malloc");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	if (setpriority(PRIO_PROCESS, 0, -10))
		die("setpriority");
	if (pthread_create(&t, NULL, reaper, NULL))
		die("reaper");
	miss_cgroups();

	for (r = 0; r < samples + warmup; r++) {
		for (k = 0; k < nr_methods; k++) {
			int m = (r + k) % nr_methods;
			long long t0, t1;
			long n, p, miss, f;

			miss_start();
			n = nr_lines_of(BASE, "cgroup.procs");
			f = forks_total();
			t0 = now_us();
			p = miss_method(methods[m], sig, sigbuf);
			t1 = now_us();
			f = forks_total() - f;
			/*
			 * Freeze what is left, so that a survivor neither forks
			 * more nor exits by itself before it is counted: a
			 * frozen task still dies of a pending fatal signal. Not
			 * for SIGSTOP: a task frozen before it dequeued the
			 * SIGSTOP would hold it until thawed; a stopped task
			 * forks no more anyway.
			 */
			if (sig != SIGSTOP && !freeze_base())
				fprintf(stderr, "%s: survivors not frozen after 30 s; counted anyway\n",
					workload);
			usleep(MISS_GRACE_MS * 1000);
			miss = count_missed(sig);
			miss_cleanup();
			if (r < warmup)
				continue;
			add(&missed[m], miss);
			add(&passes[m], p);
			add(&write_us[m], t1 - t0);
			add(&procs[m], n);
			add(&forks[m], f);
		}
		fprintf(stderr, "round %d/%d done\n", r + 1, samples + warmup);
	}

	for (k = 0; k < nr_methods; k++) {
		const char *name = miss_method_name(methods[k]);

		print_named(scenario, name, sig, pids_max, 1, "missed", &missed[k]);
		print_named(scenario, name, sig, pids_max, 1, "passes", &passes[k]);
		print_named(scenario, name, sig, pids_max, 1, "write_us", &write_us[k]);
		print_named(scenario, name, sig, pids_max, 1, "procs", &procs[k]);
		print_named(scenario, name, sig, pids_max, 1, "forks", &forks[k]);
	}
	reset_base();
	return 0;
}

int main(int argc, char **argv)
{
	struct series write_us[MAX_METHODS] = {}, empty_us[MAX_METHODS] = {};
	struct series fork_us[MAX_METHODS] = {}, signalled_us[MAX_METHODS] = {};
	struct series cpu_us[MAX_METHODS] = {}, preempted[MAX_METHODS] = {};
	struct series fork_round[MAX_METHODS] = {};
	int sig, n, threads, samples, warmup, fork_sampling, nr_methods, r, k;
	const char *scenario, **methods;
	char sigbuf[16];

	if (argc == 3 && !strcmp(argv[1], "__child"))
		return service_child(argv[2]);
	if (argc > 1 && !strcmp(argv[1], "miss"))
		return miss_main(argc, argv);
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
	setup_cpus();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	make_cgroups(!strcmp(scenario, "tree"));
	if (fork_sampling)
		start_sampler();
	handled = mmap(NULL, sizeof(*handled), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	if (handled == MAP_FAILED)
		die("mmap");

	for (r = 0; r < samples + warmup; r++) {
		for (k = 0; k < nr_methods; k++) {
			int m = (r + k) % nr_methods;
			long long t0, t1, t2, c0, c1, p0, p1;
			long first = 0, i;

			handled->n = 0;
			handled->last_us = 0;
			populate(n, threads, sig == SIGTERM);
			if (fork_sampling) {
				first = __atomic_load_n(&fs->n, __ATOMIC_ACQUIRE);
				sampler_set(1);
				usleep(20000);	/* a few samples before, for the overlap */
			}
			p0 = thread_preempted();
			c0 = thread_cpu_us();
			t0 = now_us();
			run_method(methods[m], sig, sigbuf);
			t1 = now_us();
			c1 = thread_cpu_us();
			p1 = thread_preempted();
			wait_empty();
			t2 = now_us();
			if (fork_sampling)
				sampler_set(0);
			reap(n);
			if (r < warmup)
				continue;
			add(&write_us[m], t1 - t0);
			add(&empty_us[m], t2 - t0);
			add(&cpu_us[m], c1 - c0);
			add(&preempted[m], p1 - p0);
			if (sig == SIGTERM) {
				if (__atomic_load_n(&handled->n, __ATOMIC_ACQUIRE) != n) {
					fprintf(stderr, "%ld SIGTERM handlers counted for %d processes\n",
						handled->n, n);
					exit(2);
				}
				add(&signalled_us[m], handled->last_us - t0);
			}
			for (i = first; fork_sampling && i < fs->n; i++)
				if (fs->start[i] <= t2 && fs->start[i] + fs->lat[i] >= t0) {
					add(&fork_us[m], fs->lat[i]);
					add(&fork_round[m], r - warmup);
				}
		}
		fprintf(stderr, "round %d/%d done\n", r + 1, samples + warmup);
	}
	if (fork_sampling)
		stop_sampler();

	reset_base();
	for (k = 0; k < nr_methods; k++) {
		print_named(scenario, method_name(methods[k]), sig, n, threads, "write_us", &write_us[k]);
		print_named(scenario, method_name(methods[k]), sig, n, threads, "empty_us", &empty_us[k]);
		print_named(scenario, method_name(methods[k]), sig, n, threads, "cpu_us", &cpu_us[k]);
		print_named(scenario, method_name(methods[k]), sig, n, threads, "preempted",
			    &preempted[k]);
		if (sig == SIGTERM)
			print_named(scenario, method_name(methods[k]), sig, n, threads, "signalled_us",
				    &signalled_us[k]);
		if (fork_sampling) {
			print_named(scenario, method_name(methods[k]), sig, n, threads, "fork_us",
				    &fork_us[k]);
			print_named(scenario, method_name(methods[k]), sig, n, threads, "fork_round",
				    &fork_round[k]);
		}
	}
	return 0;
}
