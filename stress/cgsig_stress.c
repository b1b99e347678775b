// SPDX-License-Identifier: GPL-2.0
/*
 * cgsig_stress: a bounded stress of cgroup.signal, run by `make stress` in the
 * debug kernel's VM.
 *
 * For STRESS_SECONDS (default 120), concurrently:
 *   - writers signal random cgroups of an arena subtree, at every depth, with
 *     SIGKILL and other signals (SIGTERM, SIGUSR1, SIGHUP, SIGSTOP, SIGCONT,
 *     a real-time signal);
 *   - populators start processes in the arena through clone3
 *     (CLONE_INTO_CGROUP): sleepers, forkbombs and thread bombs, all bounded
 *     by the arena's pids.max;
 *   - a migrator moves processes between arena cgroups through cgroup.procs;
 *   - a churner makes and removes sub-cgroups;
 *   - a freezer toggles cgroup.freeze;
 *   - a converter makes threaded sub-cgroups, checks that their cgroup.signal
 *     refuses with EOPNOTSUPP, and removes them.
 * Canary processes in a cgroup outside the arena catch every catchable
 * signal; they are checked all along: none may be signalled or die.
 *
 * At the end the workers are stopped, the arena thawed, and one SIGKILL
 * write to the arena's root must leave it empty ("populated 0") within
 * 60 seconds; what is left is counted as escapees.
 *
 * Prints "counters: writes=N procs=N escapees=N wrong=N errors=N" as its
 * last line; scripts/stress.sh adds the kernel log's splats and prints the
 * summary. Exit status 0 when escapees, wrong and errors are all 0.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cgfile.h"

#define ROOT "/sys/fs/cgroup"
#define ARENA ROOT "/cgsig_stress"
#define CANARY ROOT "/cgsig_stress_canary"
#define CTL ROOT "/cgsig_stress_ctl"
#define NR_CANARIES 8
#define ARENA_PIDS_MAX 1200

struct shared {
	long writes, procs, wrong, errors;
	int canary_hits[NR_CANARIES];
	int stop;
};

static struct shared *sh;
static int my_canary;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned int rnd(unsigned int n)
{
	static __thread unsigned long long s;

	if (!s)
		s = (unsigned long long)getpid() * 0x9e3779b97f4a7c15ULL ^ now_ms();
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (unsigned int)((s * 2685821657736338717ULL) >> 32) % n;
}

static void error(const char *what, const char *cg, int err)
{
	__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "stress: error: %s %s: %s\n", what, cg, strerror(-err));
}

/* The arena's cgroups: a fixed tree, plus what the churner adds. */
static const char * const tree[] = {
	"", "/a", "/a/a", "/a/a/a", "/a/b", "/b", "/b/a", "/b/a/a", "/c", "/c/a",
};
#define NR_TREE (sizeof(tree) / sizeof(tree[0]))

static void arena_path(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "%s%s", ARENA, tree[i % NR_TREE]);
}

/* Leaves and inner cgroups alike may hold processes (no controllers but pids). */
static void random_arena_cg(char *buf, size_t len)
{
	arena_path(buf, len, rnd(NR_TREE));
}

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* What a process started in the arena does until it is signalled to death. */
static void victim(void)
{
	pthread_t t;
	int i, n;

	switch (rnd(4)) {
	case 0:		/* forkbomb, bounded by pids.max */
		for (i = 0; i < 200; i++)
			if (fork() < 0)
				usleep(2000);
		break;
	case 1:		/* thread bomb */
		n = 1 + rnd(16);
		for (i = 0; i < n; i++)
			pthread_create(&t, NULL, idle_thread, NULL);
		break;
	case 2:		/* a short life */
		usleep(rnd(200000));
		_exit(0);
	default:
		break;
	}
	for (;;)
		pause();
}

static pid_t clone_into(int cgfd)
{
	struct clone_args args = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = cgfd,
	};

	return syscall(__NR_clone3, &args, sizeof(args));
}

static void populator(void)
{
	char cg[512];
	pid_t pid;
	int fd;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(cg, sizeof(cg));
		fd = open(cg, O_PATH | O_DIRECTORY);
		if (fd < 0)
			continue;
		pid = clone_into(fd);
		close(fd);
		if (pid == 0) {
			victim();
			_exit(0);
		}
		if (pid > 0)
			__atomic_fetch_add(&sh->procs, 1, __ATOMIC_RELAXED);
		else
			usleep(5000);	/* pids.max, a threaded target, a removed cgroup */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(rnd(20000));
	}
}

static void writer(void)
{
	static const char * const sigs[] = { "9", "15", "10", "1", "19", "18", "18", "40" };
	char cg[512];
	int ret;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(cg, sizeof(cg));
		ret = cg_write(cg, "cgroup.signal", sigs[rnd(8)]);
		__atomic_fetch_add(&sh->writes, 1, __ATOMIC_RELAXED);
		/* A cgroup removed meanwhile is no error; anything else is. */
		if (ret && ret != -ENOENT && ret != -ENODEV)
			error("write cgroup.signal", cg, ret);
		usleep(rnd(30000));
	}
}

static void migrator(void)
{
	char from[512], to[512], buf[4096], path[600];
	int fd, n;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(from, sizeof(from));
		random_arena_cg(to, sizeof(to));
		snprintf(path, sizeof(path), "%s/cgroup.procs", from);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = 0;
				*strchrnul(buf, '\n') = 0;
				/* Exited, or a frozen/threaded mismatch: the move may fail. */
				cg_write(to, "cgroup.procs", buf);
			}
		}
		usleep(rnd(20000));
	}
}

static void churner(void)
{
	char cg[512], sub[600];

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(cg, sizeof(cg));
		snprintf(sub, sizeof(sub), "%s/churn%u", cg, rnd(4));
		if (mkdir(sub, 0755) && errno == EEXIST)
			rmdir(sub);	/* fails while populated: fine */
		usleep(rnd(20000));
	}
}

static void freezer(void)
{
	char cg[512];

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(cg, sizeof(cg));
		cg_write(cg, "cgroup.freeze", rnd(2) ? "1" : "0");
		usleep(rnd(50000));
	}
}

static void converter(void)
{
	char cg[512], sub[600];
	int ret;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		random_arena_cg(cg, sizeof(cg));
		snprintf(sub, sizeof(sub), "%s/threaded", cg);
		if (mkdir(sub, 0755) && errno != EEXIST)
			goto next;
		if (!cg_write(sub, "cgroup.type", "threaded")) {
			ret = cg_write(sub, "cgroup.signal", "15");
			if (ret != -EOPNOTSUPP && ret != -ENOENT && ret != -ENODEV) {
				__atomic_fetch_add(&sh->wrong, 1, __ATOMIC_RELAXED);
				error("threaded cgroup.signal not refused", sub, ret);
			}
		}
		rmdir(sub);
next:
		usleep(rnd(50000));
	}
}

static void canary_hit(int sig)
{
	__atomic_fetch_add(&sh->canary_hits[my_canary], 1, __ATOMIC_RELAXED);
}

static void canary(int i)
{
	struct sigaction sa = { .sa_handler = canary_hit };
	pthread_t t;
	int sig;

	my_canary = i;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	pthread_create(&t, NULL, idle_thread, NULL);
	for (;;)
		pause();
}

/* Canaries alive (not exited, not stopped) and never signalled; else how many not. */
static int check_canaries(pid_t *pids)
{
	char path[64], buf[512], *p;
	int i, bad = 0;
	FILE *f;

	for (i = 0; i < NR_CANARIES; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
		f = fopen(path, "r");
		buf[0] = 0;
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		p = strrchr(buf, ')');
		if (!p || p[2] == 'Z' || p[2] == 'T' || p[2] == 'X' ||
		    __atomic_load_n(&sh->canary_hits[i], __ATOMIC_RELAXED))
			bad++;
	}
	return bad;
}

static pid_t start(const char *cg, void (*fn)(int), int arg)
{
	char buf[32];
	pid_t pid = fork();

	if (pid == 0) {
		snprintf(buf, sizeof(buf), "%d", getpid());
		if (cg_write(cg, "cgroup.procs", buf))
			_exit(1);
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void run_populator(int i) { populator(); }
static void run_writer(int i) { writer(); }
static void run_migrator(int i) { migrator(); }
static void run_churner(int i) { churner(); }
static void run_freezer(int i) { freezer(); }
static void run_converter(int i) { converter(); }

/*
 * Call @fn on @cg and on every cgroup below it, each parent before its
 * children, or after them if @children_first; the sum of what @fn returned.
 */
static long walk(const char *cg, long (*fn)(const char *cg), bool children_first)
{
	char sub[1024];
	struct dirent *de;
	long sum = 0;
	DIR *d;

	if (!children_first)
		sum += fn(cg);
	d = opendir(cg);
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", cg, de->d_name);
			sum += walk(sub, fn, children_first);
		}
		closedir(d);
	}
	if (children_first)
		sum += fn(cg);
	return sum;
}

static long remove_cg(const char *cg)
{
	rmdir(cg);
	return 0;
}

static long thaw_cg(const char *cg)
{
	cg_write(cg, "cgroup.freeze", "0");
	return 0;
}

/* How many processes @cg's own cgroup.procs lists. */
static long nr_procs(const char *cg)
{
	char path[1100], buf[65536];
	long n = 0;
	int fd, len, i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < len; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

static void rmtree(const char *cg)
{
	walk(cg, remove_cg, true);
}

static bool populated(const char *cg)
{
	char path[512], buf[256];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return !strstr(buf, "populated 0");
}

int main(void)
{
	static void (* const roles[])(int) = {
		run_writer, run_writer, run_writer, run_populator, run_populator,
		run_migrator, run_churner, run_freezer, run_converter,
	};
	const char *env = getenv("STRESS_SECONDS");
	long seconds = env ? atol(env) : 120, deadline, wrong_canaries = 0;
	pid_t canaries[NR_CANARIES], workers[sizeof(roles) / sizeof(roles[0])];
	char cg[512], buf[32];
	long escapees;
	unsigned int i;

	if (seconds <= 0)
		seconds = 120;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);

	rmtree(ARENA);
	rmtree(CANARY);
	rmtree(CTL);
	if (cg_write(ROOT, "cgroup.subtree_control", "+pids") ||
	    mkdir(ARENA, 0755) || mkdir(CANARY, 0755) || mkdir(CTL, 0755)) {
		perror("stress: set-up");
		return 2;
	}
	snprintf(buf, sizeof(buf), "%d", ARENA_PIDS_MAX);
	if (cg_write(ARENA, "pids.max", buf)) {
		perror("stress: pids.max");
		return 2;
	}
	for (i = 1; i < NR_TREE; i++) {
		arena_path(cg, sizeof(cg), i);
		if (mkdir(cg, 0755)) {
			perror(cg);
			return 2;
		}
	}
	for (i = 0; i < NR_CANARIES; i++)
		canaries[i] = start(CANARY, canary, i);
	usleep(200000);

	printf("stress: %ld s, %zu workers, arena %s (%zu cgroups, pids.max %d), %d canaries\n",
	       seconds, sizeof(workers) / sizeof(workers[0]), ARENA, NR_TREE, ARENA_PIDS_MAX,
	       NR_CANARIES);
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		workers[i] = start(CTL, roles[i], i);

	deadline = now_ms() + seconds * 1000;
	while (now_ms() < deadline) {
		int bad = check_canaries(canaries);

		if (bad && !wrong_canaries)
			fprintf(stderr, "stress: %d canaries hit\n", bad);
		if (bad > wrong_canaries)
			wrong_canaries = bad;
		sleep(1);
		printf("stress: %lds left: %ld writes, %ld processes\n",
		       (deadline - now_ms()) / 1000, __atomic_load_n(&sh->writes, __ATOMIC_RELAXED),
		       __atomic_load_n(&sh->procs, __ATOMIC_RELAXED));
	}

	/* Stop the workers first: a process started after the final write may live. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < sizeof(workers) / sizeof(workers[0]); i++)
		waitpid(workers[i], NULL, 0);
	if (cg_write(CTL, "cgroup.kill", "1"))
		fprintf(stderr, "stress: could not clear %s\n", CTL);

	walk(ARENA, thaw_cg, false);
	if (cg_write(ARENA, "cgroup.signal", "9"))
		error("final write", ARENA, -errno);
	deadline = now_ms() + 60000;
	while (populated(ARENA) && now_ms() < deadline)
		usleep(100000);
	escapees = populated(ARENA) ? walk(ARENA, nr_procs, false) : 0;
	if (populated(ARENA) && !escapees)
		escapees = 1;	/* populated, yet no process listed: still wrong */

	if (check_canaries(canaries) > wrong_canaries)
		wrong_canaries = check_canaries(canaries);
	sh->wrong += wrong_canaries;

	cg_write(CANARY, "cgroup.kill", "1");
	for (i = 0; i < NR_CANARIES; i++)
		waitpid(canaries[i], NULL, 0);
	if (!escapees) {
		rmtree(ARENA);
		rmtree(CANARY);
		rmtree(CTL);
	}

	printf("counters: writes=%ld procs=%ld escapees=%ld wrong=%ld errors=%ld\n",
	       sh->writes, sh->procs, escapees, sh->wrong, sh->errors);
	return escapees || sh->wrong || sh->errors;
}
