// SPDX-License-Identifier: GPL-2.0
/*
 * cgsig_stress: a bounded stress of cgroup.signal with a per-write ground
 * truth, run by `make stress` in the debug kernel's VM.
 *
 * Every process it starts counts, in shared memory, each real-time signal
 * it receives (SA_SIGINFO handlers installed before anything is forked, so
 * that every process and thread inherits them; a per-process slot found by
 * pid). Every action that matters for the ground truth is logged in
 * CLOCK_MONOTONIC nanoseconds, with its start and end:
 *
 *   FORK     the parent's fork: start, return, parent, forking thread,
 *            child, the cgroup it was cloned into (or -1: the thread's own)
 *   WRITE    a cgroup.signal write: target, signal, result. Each write is
 *            made by a fresh short-lived process, so that the siginfo's
 *            si_pid names the write (the write's id is that pid)
 *   MIGRATE  a move of a whole process through cgroup.procs
 *   TMOVE    a move of one thread through cgroup.threads
 *   LEXIT    a leader's pthread_exit() (its process lives on)
 *   EXIT     a voluntary exit: the process blocks the signals, notes the
 *            time, drains what is pending (counting it), logs and exits
 *
 * For STRESS_SECONDS (default 120), concurrently:
 *   - NR_WRITERS writers, each owning one real-time signal and writing it
 *     serially to random cgroups of the arena (1 write in 10 goes to a
 *     threaded cgroup and must fail with EOPNOTSUPP), plus one writer of
 *     harmless non-real-time signals (SIGCONT, SIGURG; not judged);
 *   - a populator clones victims into arena cgroups (CLONE_INTO_CGROUP):
 *     sleepers, short-lived processes, forkers (whose children fork and
 *     exit all along) and multi-threaded processes, optionally spread over
 *     the threaded children of a threaded domain (cgroup.threads), whose
 *     non-leader threads fork, and whose leader pthread_exit()s;
 *   - a migrator moves random live victims (those of odd pid: the others
 *     stay where they were born) between arena cgroups (threaded ones
 *     included) and out of the arena (cgroup OUT, never written);
 *   - a churner makes and removes empty sub-cgroups, a freezer freezes
 *     cgroups for short spells.
 * Canaries (outside the arena) and the workers themselves count signals
 * too: they must get none.
 *
 * At the end: stop, thaw, wait until no mutation is in flight, wait until
 * no real-time signal is pending in any process (/proc/PID/status), then
 * dump procs.tsv, events.tsv and deliveries.tsv in the output directory
 * (argv[1], default the current directory) for scripts/stress_report.py,
 * which judges every (write, process) pair. Last, a SIGKILL write to the
 * arena's root (judged here: every process whose live threads are all in
 * the arena must die, every other must live), then everything is removed.
 *
 * Prints "counters: writes=N procs=N errors=N final_escapes=N
 * final_wrong=N" as its last line. Exit status: 0, or 2 on an internal
 * error (set-up, a log overflow, a mutation still in flight, signals that
 * stayed pending); the verdict is stress_report.py's.
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/cgfile.h"

#define ROOT "/sys/fs/cgroup"
#define ARENA ROOT "/cgsig_stress"
#define OUTCG ROOT "/cgsig_stress_out"
#define CANARY ROOT "/cgsig_stress_canary"
#define CTL ROOT "/cgsig_stress_ctl"
#define NR_CANARIES 4
#define ARENA_PIDS_MAX 1500

#define NR_WRITERS 4
#define SIG0 40			/* writer i owns signal SIG0 + i */
#define MAX_LIVE_VICTIMS 40	/* the populator's live children */

#define NR_SLOTS (1 << 16)
#define NR_EVENTS (1 << 20)
#define NR_DELIVERIES (1 << 22)

enum { EV_FORK = 1, EV_WRITE, EV_MIGRATE, EV_TMOVE, EV_LEXIT, EV_EXIT, EV_FREEZE };
static const char * const ev_names[] = {
	"?", "FORK", "WRITE", "MIGRATE", "TMOVE", "LEXIT", "EXIT", "FREEZE",
};

enum {
	K_WORKER = 1, K_CANARY, K_SLEEPER, K_SHORT, K_FORKER, K_MT, K_WCHILD,
	F_SPREAD = 0x10, F_LEADER_EXIT = 0x20, F_TFORK = 0x40,
};

/* The cgroups: fixed, never removed while the stress runs. */
static const struct cgdef {
	const char *path;
	int threaded;		/* cgroup.type threaded */
	int domain;		/* index of its domain */
	int arena;		/* in the written subtrees */
} cgs[] = {
	/*  0 */ { ARENA, 0, 0, 1 },
	/*  1 */ { ARENA "/a", 0, 1, 1 },
	/*  2 */ { ARENA "/a/a", 0, 2, 1 },
	/*  3 */ { ARENA "/a/a/a", 0, 3, 1 },
	/*  4 */ { ARENA "/a/b", 0, 4, 1 },
	/*  5 */ { ARENA "/b", 0, 5, 1 },
	/*  6 */ { ARENA "/b/a", 0, 6, 1 },
	/*  7 */ { ARENA "/b/t", 0, 7, 1 },
	/*  8 */ { ARENA "/b/t/x", 1, 7, 1 },
	/*  9 */ { ARENA "/b/t/y", 1, 7, 1 },
	/* 10 */ { ARENA "/c", 0, 10, 1 },
	/* 11 */ { ARENA "/c/a", 0, 11, 1 },
	/* 12 */ { ARENA "/t", 0, 12, 1 },
	/* 13 */ { ARENA "/t/x", 1, 12, 1 },
	/* 14 */ { ARENA "/t/y", 1, 12, 1 },
	/* 15 */ { ARENA "/t/z", 1, 12, 1 },
	/* 16 */ { OUTCG, 0, 16, 0 },
	/* 17 */ { CANARY, 0, 17, 0 },
	/* 18 */ { CTL, 0, 18, 0 },
};
#define NR_CGS (int)(sizeof(cgs) / sizeof(cgs[0]))
#define CG_OUT 16
#define CG_CANARY 17
#define CG_CTL 18
#define NR_ARENA_CGS 16
static const int domains[] = { 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12 };
#define NR_DOMAINS (int)(sizeof(domains) / sizeof(domains[0]))
static const int threaded[] = { 8, 9, 13, 14, 15 };
#define NR_THREADED (int)(sizeof(threaded) / sizeof(threaded[0]))
/* Where churn sub-cgroups may go: plain domains only. */
static const int churnable[] = { 1, 2, 4, 5, 6, 10, 11 };

struct slot {
	int pid;
	int kind;
	int exited;
	unsigned int lost;	/* SI_USER deliveries without a sender: coalesced */
	unsigned int cnt[NR_WRITERS];
	unsigned int other;	/* signals of ours not from a cgroup.signal write */
	int pad;
};

struct event {
	long long t0, t1;
	int type, pid, tid, a, b, c, res, valid;
};

struct delivery {
	long long t;
	int pid, tid, sender;
	short sig, code;
};

struct shared {
	int stop;
	int active;		/* mutations in flight */
	long errors;
	long writes, procs, ev_overflow, del_overflow, slot_overflow;
	long nev, ndel;
	struct slot slots[NR_SLOTS];
};

static struct shared *sh;
static struct event *evs;
static struct delivery *dels;
static sigset_t rtset;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static pid_t gettid_(void)
{
	return syscall(SYS_gettid);
}

static unsigned int rnd(unsigned int n)
{
	static __thread unsigned long long s;

	if (!s)
		s = ((unsigned long long)gettid_() << 32) ^ now_ns() ^ 0x9e3779b97f4a7c15ULL;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (unsigned int)((s * 2685821657736338717ULL) >> 32) % n;
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* a signal may cut it short: fine */
}

static bool stopping(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST);
}

/*
 * A mutation (fork, move, write, exit) is bracketed so that the end can
 * wait until none is in flight: false once stopping, and then nothing
 * must be done.
 */
static bool enter_active(void)
{
	__atomic_fetch_add(&sh->active, 1, __ATOMIC_SEQ_CST);
	if (stopping()) {
		__atomic_fetch_sub(&sh->active, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	return true;
}

static void leave_active(void)
{
	__atomic_fetch_sub(&sh->active, 1, __ATOMIC_SEQ_CST);
}

static void error(const char *fmt, const char *what, int err)
{
	__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "stress: error: %s %s: %s\n", fmt, what, strerror(err));
}

/* This process's slot (async-signal-safe): claimed on first use. */
static struct slot *slot_of(int pid)
{
	unsigned int h = ((unsigned int)pid * 2654435761u) % NR_SLOTS, i;

	for (i = 0; i < NR_SLOTS; i++, h = (h + 1) % NR_SLOTS) {
		int cur = __atomic_load_n(&sh->slots[h].pid, __ATOMIC_ACQUIRE);

		if (cur == pid)
			return &sh->slots[h];
		if (!cur) {
			int zero = 0;

			if (__atomic_compare_exchange_n(&sh->slots[h].pid, &zero, pid, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return &sh->slots[h];
			if (zero == pid)
				return &sh->slots[h];
		}
	}
	__atomic_fetch_add(&sh->slot_overflow, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void log_ev(int type, long long t0, long long t1, int pid, int tid, int a, int b, int c,
		   int res)
{
	long i = __atomic_fetch_add(&sh->nev, 1, __ATOMIC_RELAXED);
	struct event *e;

	if (i >= NR_EVENTS) {
		__atomic_fetch_add(&sh->ev_overflow, 1, __ATOMIC_RELAXED);
		return;
	}
	e = &evs[i];
	e->t0 = t0;
	e->t1 = t1;
	e->type = type;
	e->pid = pid;
	e->tid = tid;
	e->a = a;
	e->b = b;
	e->c = c;
	e->res = res;
	__atomic_store_n(&e->valid, 1, __ATOMIC_RELEASE);
}

/* Count one delivery of a signal of ours (handler or drain). */
static void record(int sig, const siginfo_t *si)
{
	int pid = getpid();
	struct slot *s = slot_of(pid);
	long i;

	if (s) {
		if (sig >= SIG0 && sig < SIG0 + NR_WRITERS)
			__atomic_fetch_add(&s->cnt[sig - SIG0], 1, __ATOMIC_RELAXED);
		if (si->si_code == SI_USER && !si->si_pid)
			__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
		if (si->si_code != SI_USER)
			__atomic_fetch_add(&s->other, 1, __ATOMIC_RELAXED);
	}
	i = __atomic_fetch_add(&sh->ndel, 1, __ATOMIC_RELAXED);
	if (i >= NR_DELIVERIES) {
		__atomic_fetch_add(&sh->del_overflow, 1, __ATOMIC_RELAXED);
		return;
	}
	dels[i].pid = pid;
	dels[i].tid = gettid_();
	dels[i].sender = si->si_pid;
	dels[i].sig = sig;
	dels[i].code = si->si_code;
	__atomic_store_n(&dels[i].t, now_ns(), __ATOMIC_RELEASE);
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;

	record(sig, si);
	errno = saved;
}

static void set_kind(int kind)
{
	struct slot *s = slot_of(getpid());

	if (s)
		__atomic_store_n(&s->kind, kind, __ATOMIC_RELAXED);
}

/*
 * A voluntary exit of a single-threaded process: block, note the time,
 * drain what is pending. Any write that ended before that time queued its
 * signal before the drain: it is counted.
 */
static void __attribute__((noreturn)) exit_protocol(void)
{
	static const struct timespec zero;
	struct slot *s;
	siginfo_t si;
	long long t;
	int sig;

	sigprocmask(SIG_BLOCK, &rtset, NULL);
	t = now_ns();
	while ((sig = sigtimedwait(&rtset, &si, &zero)) > 0)
		record(sig, &si);
	log_ev(EV_EXIT, t, now_ns(), getpid(), gettid_(), 0, 0, 0, 0);
	s = slot_of(getpid());
	if (s)
		__atomic_store_n(&s->exited, 1, __ATOMIC_RELEASE);
	leave_active();
	_exit(0);
}

/* Sleep until stopped; then idle (the end may still need our handlers). */
static void __attribute__((noreturn)) idle_forever(void)
{
	for (;;)
		msleep(200);
}

/* A single-threaded victim: sleep @ms (or until stopped), then exit. */
static void __attribute__((noreturn)) sleeper(int kind, unsigned int ms)
{
	long long end = now_ns() + ms * 1000000LL;

	set_kind(kind);
	while (now_ns() < end && !stopping())
		msleep(20 + rnd(80));
	if (!enter_active())
		idle_forever();
	exit_protocol();
}

static void child_of_fork(void)
{
	if (rnd(4))
		sleeper(K_SHORT, 50 + rnd(1500));
	sleeper(K_SLEEPER, 1000 + rnd(10000));
}

/* fork() from any thread, logged; the child runs child_of_fork(). */
static void logged_fork(int kind_hint)
{
	long long t0, t1;
	pid_t pid;

	t0 = now_ns();
	pid = fork();
	if (pid == 0)
		child_of_fork();
	t1 = now_ns();
	log_ev(EV_FORK, t0, t1, getpid(), gettid_(), pid > 0 ? pid : -errno, -1, kind_hint, 0);
	if (pid > 0)
		__atomic_fetch_add(&sh->procs, 1, __ATOMIC_RELAXED);
}

/* A forker: children that fork and exit all along, for @ms. */
static void __attribute__((noreturn)) forker(unsigned int ms)
{
	long long end = now_ns() + ms * 1000000LL;
	int live = 0;

	set_kind(K_FORKER);
	while (now_ns() < end && !stopping()) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			live--;
		if (live < 4 && enter_active()) {
			logged_fork(K_SHORT);
			leave_active();
			live++;
		}
		msleep(10 + rnd(150));
	}
	if (!enter_active())
		idle_forever();
	exit_protocol();
}

/* A multi-threaded victim. */
#define MT_MAX_THREADS 5
static struct mt {
	int flags, domain, nthreads;
	long long end;
	int quit, live, blocked, children;
	int leader_gone;
	pid_t tids[MT_MAX_THREADS];
} mt;

static void mt_park(void)
{
	pthread_sigmask(SIG_BLOCK, &rtset, NULL);
	__atomic_fetch_add(&mt.blocked, 1, __ATOMIC_SEQ_CST);
	for (;;)
		msleep(1000);
}

/* Thread moves within the process's threaded domain. */
static void mt_move(void)
{
	int cg, t = rnd(mt.nthreads), ret;
	long long t0, t1;
	char buf[32];

	if (mt.domain == 7)
		cg = rnd(3) ? 8 + (int)rnd(2) : 7;
	else
		cg = rnd(4) ? 13 + (int)rnd(3) : 12;
	if (!mt.tids[t] || (!t && __atomic_load_n(&mt.leader_gone, __ATOMIC_RELAXED) && rnd(4)))
		return;
	snprintf(buf, sizeof(buf), "%d", mt.tids[t]);
	t0 = now_ns();
	ret = cg_write(cgs[cg].path, "cgroup.threads", buf);
	t1 = now_ns();
	log_ev(EV_TMOVE, t0, t1, getpid(), mt.tids[t], cg, 0, 0, ret);
}

/* Thread 1 also coordinates the process's exit; every thread may fork or move. */
static void *mt_thread(void *arg)
{
	long idx = (long)arg;
	const struct timespec zero = { 0, 0 };
	siginfo_t si;
	long long t;
	int sig;

	mt.tids[idx] = gettid_();
	for (;;) {
		if (__atomic_load_n(&mt.quit, __ATOMIC_SEQ_CST))
			mt_park();
		msleep(20 + rnd(200));
		if (idx == 1 && now_ns() > mt.end && enter_active()) {
			/* Exit: every live thread blocks, then drain and go. */
			__atomic_store_n(&mt.quit, 1, __ATOMIC_SEQ_CST);
			pthread_sigmask(SIG_BLOCK, &rtset, NULL);
			__atomic_fetch_add(&mt.blocked, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&mt.blocked, __ATOMIC_SEQ_CST) <
			       __atomic_load_n(&mt.live, __ATOMIC_SEQ_CST))
				msleep(5);
			t = now_ns();
			while ((sig = sigtimedwait(&rtset, &si, &zero)) > 0)
				record(sig, &si);
			log_ev(EV_EXIT, t, now_ns(), getpid(), gettid_(), 0, 0, 0, 0);
			if (slot_of(getpid()))
				__atomic_store_n(&slot_of(getpid())->exited, 1, __ATOMIC_RELEASE);
			leave_active();
			_exit(0);
		}
		if ((mt.flags & F_SPREAD) && idx == 1 && enter_active()) {
			mt_move();
			leave_active();
		}
		if ((mt.flags & F_TFORK) && idx >= 2 && !rnd(3)) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				__atomic_fetch_sub(&mt.children, 1, __ATOMIC_RELAXED);
			if (__atomic_load_n(&mt.children, __ATOMIC_RELAXED) < 3 && enter_active()) {
				__atomic_fetch_add(&mt.children, 1, __ATOMIC_RELAXED);
				logged_fork(K_SHORT);
				leave_active();
			}
		}
	}
	return NULL;
}

static void __attribute__((noreturn)) multithreaded(int flags, int domain, unsigned int ms)
{
	pthread_t th;
	long i;
	int n = 3 + rnd(MT_MAX_THREADS - 2);

	set_kind(K_MT | flags);
	mt.flags = flags;
	mt.domain = domain;
	mt.end = now_ns() + ms * 1000000LL;
	mt.tids[0] = gettid_();
	mt.live = n;
	/* tids[] filled by the threads themselves; a move of 0 is refused. */
	mt.nthreads = n;
	for (i = 1; i < n; i++)
		if (pthread_create(&th, NULL, mt_thread, (void *)i)) {
			/* Few threads left under pids.max: run with what we have. */
			__atomic_fetch_sub(&mt.live, n - (int)i, __ATOMIC_SEQ_CST);
			mt.nthreads = i;
			break;
		}
	if (flags & F_LEADER_EXIT) {
		long long t = now_ns() + (long long)rnd(1500) * 1000000LL;

		while (now_ns() < t && !__atomic_load_n(&mt.quit, __ATOMIC_SEQ_CST))
			msleep(20 + rnd(50));
		if (!__atomic_load_n(&mt.quit, __ATOMIC_SEQ_CST) && enter_active()) {
			pthread_sigmask(SIG_BLOCK, &rtset, NULL);
			log_ev(EV_LEXIT, now_ns(), now_ns(), getpid(), gettid_(), 0, 0, 0, 0);
			__atomic_store_n(&mt.leader_gone, 1, __ATOMIC_RELAXED);
			__atomic_fetch_sub(&mt.live, 1, __ATOMIC_SEQ_CST);
			leave_active();
			pthread_exit(NULL);
		}
	}
	for (;;) {
		if (__atomic_load_n(&mt.quit, __ATOMIC_SEQ_CST))
			mt_park();
		msleep(50);
	}
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
	int live = 0, kind, flags, cg, fd;
	long long t0, t1;
	pid_t pid;

	while (!stopping()) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			live--;
		if (live >= MAX_LIVE_VICTIMS) {
			msleep(50);
			continue;
		}
		flags = 0;
		switch (rnd(20)) {
		case 0 ... 4:
			kind = K_SHORT;
			break;
		case 5 ... 7:
			kind = K_SLEEPER;
			break;
		case 8 ... 10:
			kind = K_FORKER;
			break;
		default:
			kind = K_MT;
			if (rnd(3))
				flags |= F_LEADER_EXIT;
			if (rnd(3))
				flags |= F_TFORK;
			if (rnd(3))
				flags |= F_SPREAD;
			break;
		}
		if (flags & F_SPREAD)
			cg = rnd(2) ? 12 : 7;
		else
			cg = domains[rnd(NR_DOMAINS)];
		fd = open(cgs[cg].path, O_PATH | O_DIRECTORY);
		if (fd < 0) {
			error("open", cgs[cg].path, errno);
			msleep(100);
			continue;
		}
		if (!enter_active()) {
			close(fd);
			break;
		}
		t0 = now_ns();
		pid = clone_into(fd);
		if (pid == 0) {
			close(fd);
			switch (kind) {
			case K_SHORT:
				sleeper(K_SHORT, 50 + rnd(3000));
			case K_SLEEPER:
				sleeper(K_SLEEPER, 3000 + rnd(40000));
			case K_FORKER:
				forker(2000 + rnd(15000));
			default:
				multithreaded(flags, cg, 1000 + rnd(8000));
			}
		}
		t1 = now_ns();
		log_ev(EV_FORK, t0, t1, getpid(), gettid_(), pid > 0 ? pid : -errno, cg,
		       kind | flags, 0);
		leave_active();
		close(fd);
		if (pid > 0) {
			live++;
			__atomic_fetch_add(&sh->procs, 1, __ATOMIC_RELAXED);
		}
		msleep(20 + rnd(150));
	}
	/* The victims live on (main is their subreaper) until the end. */
}

/* Writer @i: signal SIG0 + i, serially; each write by its own process. */
static void writer(int i)
{
	int sig = SIG0 + i, cg, ret;
	char val[16];
	long long t0, t1;
	pid_t pid;

	snprintf(val, sizeof(val), "%d\n", sig);
	while (!stopping()) {
		if (!rnd(10))
			cg = threaded[rnd(NR_THREADED)];
		else if (!rnd(10))
			cg = 0;
		else
			cg = domains[rnd(NR_DOMAINS)];
		if (!enter_active())
			break;
		pid = fork();
		if (pid == 0) {
			set_kind(K_WCHILD);
			t0 = now_ns();
			ret = cg_write(cgs[cg].path, "cgroup.signal", val);
			t1 = now_ns();
			log_ev(EV_WRITE, t0, t1, getpid(), gettid_(), cg, sig, 0, ret);
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		else
			error("fork", "writer", errno);
		leave_active();
		__atomic_fetch_add(&sh->writes, 1, __ATOMIC_RELAXED);
		msleep(rnd(30));
	}
}

/* Non-real-time, harmless signals (default action: ignore); not judged. */
static void misc_writer(void)
{
	static const char * const sigs[] = { "18", "23" };
	int cg, ret;

	while (!stopping()) {
		cg = domains[rnd(NR_DOMAINS)];
		ret = cg_write(cgs[cg].path, "cgroup.signal", sigs[rnd(2)]);
		if (ret)
			error("write cgroup.signal", cgs[cg].path, -ret);
		msleep(20 + rnd(100));
	}
}

/* A random live victim's pid, or 0. */
static int random_victim(void)
{
	int i, h, k;

	for (i = 0; i < 64; i++) {
		struct slot *s = &sh->slots[rnd(NR_SLOTS)];
		int tries;

		for (tries = 0, h = s - sh->slots; tries < 256; tries++, h = (h + 1) % NR_SLOTS) {
			s = &sh->slots[h];
			k = __atomic_load_n(&s->kind, __ATOMIC_RELAXED) & 0xf;
			/* Odd pids only: the even ones stay where they were born. */
			if (s->pid % 2 && !__atomic_load_n(&s->exited, __ATOMIC_RELAXED) &&
			    (k == K_SLEEPER || k == K_SHORT || k == K_FORKER || k == K_MT))
				return s->pid;
		}
	}
	return 0;
}

static void migrator(void)
{
	char buf[32];
	long long t0, t1;
	int pid, to, ret;

	while (!stopping()) {
		msleep(20 + rnd(120));
		pid = random_victim();
		if (!pid)
			continue;
		to = rnd(6) ? (int)rnd(NR_ARENA_CGS) : CG_OUT;
		snprintf(buf, sizeof(buf), "%d", pid);
		if (!enter_active())
			break;
		t0 = now_ns();
		ret = cg_write(cgs[to].path, "cgroup.procs", buf);
		t1 = now_ns();
		log_ev(EV_MIGRATE, t0, t1, pid, 0, to, 0, 0, ret);
		leave_active();
	}
}

static void churner(void)
{
	char sub[600];

	while (!stopping()) {
		snprintf(sub, sizeof(sub), "%s/churn%u",
			 cgs[churnable[rnd(sizeof(churnable) / sizeof(churnable[0]))]].path, rnd(3));
		if (mkdir(sub, 0755) && errno == EEXIST)
			rmdir(sub);
		msleep(rnd(40));
	}
}

static void freezer(void)
{
	int cg;

	while (!stopping()) {
		msleep(100 + rnd(400));
		cg = rnd(NR_ARENA_CGS);
		if (cgs[cg].threaded)
			continue;
		log_ev(EV_FREEZE, now_ns(), now_ns(), 0, 0, cg, 1, 0,
		       cg_write(cgs[cg].path, "cgroup.freeze", "1"));
		msleep(20 + rnd(200));
		log_ev(EV_FREEZE, now_ns(), now_ns(), 0, 0, cg, 0, 0,
		       cg_write(cgs[cg].path, "cgroup.freeze", "0"));
	}
}

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

static void canary(int i)
{
	pthread_t t;

	set_kind(K_CANARY);
	pthread_create(&t, NULL, idle_thread, NULL);
	for (;;)
		pause();
}

static void run_writer(int i) { set_kind(K_WORKER); writer(i); }
static void run_misc(int i) { set_kind(K_WORKER); misc_writer(); }
static void run_populator(int i) { set_kind(K_WORKER); populator(); }
static void run_migrator(int i) { set_kind(K_WORKER); migrator(); }
static void run_churner(int i) { set_kind(K_WORKER); churner(); }
static void run_freezer(int i) { set_kind(K_WORKER); freezer(); }

/* Fork a process that joins @cg, logged as cloned into it. */
static pid_t start(int cg, void (*fn)(int), int arg)
{
	char buf[32];
	long long t0 = now_ns();
	pid_t pid = fork();

	if (pid == 0) {
		snprintf(buf, sizeof(buf), "%d", getpid());
		if (cg_write(cgs[cg].path, "cgroup.procs", buf))
			_exit(1);
		fn(arg);
		_exit(0);
	}
	log_ev(EV_FORK, t0, now_ns(), getpid(), gettid_(), pid, cg, 0, 0);
	return pid;
}

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

static long kill_cg(const char *cg)
{
	cg_write(cg, "cgroup.kill", "1");
	return 0;
}

static void rmtree(const char *cg)
{
	walk(cg, remove_cg, true);
}

static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* 'Z', 'X', other states, or 0 if there is no such task. */
static char task_state(const char *stat_path)
{
	char buf[512], *p;

	if (read_file(stat_path, buf, sizeof(buf)) <= 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : 0;
}

/* Whether any thread of @pid lives (a leader may have exited before the others). */
static bool alive(int pid)
{
	char path[300];
	struct dirent *de;
	bool live = false;
	DIR *d;
	char st;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!live && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
		st = task_state(path);
		live = st && st != 'Z' && st != 'X';
	}
	closedir(d);
	return live;
}

/*
 * Where @pid's live threads are: the index of the cgroup if they are all in
 * one of ours, -2 if they are spread over one domain's threaded cgroups
 * (then *domain), -1 otherwise or if none lives; and whether any of our
 * signals is pending in it.
 */
static int where(int pid, int *domain, bool *pending)
{
	char path[300], buf[4096], *p;
	int cg = -3, i, found;
	struct dirent *de;
	unsigned long long mask = 0, m;
	char st;
	DIR *d;

	*domain = -1;
	*pending = false;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
		st = task_state(path);
		if (!st || st == 'Z' || st == 'X')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)) > 0) {
			for (p = buf; (p = strstr(p, "Pnd:\t")); p += 5)
				if (sscanf(p + 5, "%llx", &m) == 1)
					mask |= m;
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%s/cgroup", pid, de->d_name);
		if (read_file(path, buf, sizeof(buf)) <= 0)
			continue;
		*strchrnul(buf, '\n') = 0;
		p = strstr(buf, "::");
		p = p ? p + 2 : buf;
		found = -1;
		for (i = 0; i < NR_CGS; i++)
			if (!strcmp(cgs[i].path + strlen(ROOT), p))
				found = i;
		if (found < 0) {
			cg = -1;
			continue;
		}
		if (cg == -3)
			cg = found;
		else if (cg >= 0 && cg != found)
			cg = cgs[cg].domain == cgs[found].domain ? -2 : -1;
		if (cg >= 0 || cg == -2)
			*domain = cgs[found].domain;
	}
	closedir(d);
	for (i = 0; i < NR_WRITERS; i++)
		if (mask & (1ULL << (SIG0 + i - 1)))
			*pending = true;
	if (cg == -3)
		return -1;
	if (cg == -1)
		*domain = -1;
	return cg;
}

static FILE *out_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		error("open", path, errno);
	return f;
}

static void dump(const char *dir, const int *end_cg, const int *end_dom)
{
	FILE *f;
	long i, n;
	int j;

	f = out_file(dir, "cgroups.tsv");
	if (f) {
		fprintf(f, "# idx\tpath\tthreaded\tdomain\tarena\n");
		for (j = 0; j < NR_CGS; j++)
			fprintf(f, "%d\t%s\t%d\t%d\t%d\n", j, cgs[j].path, cgs[j].threaded,
				cgs[j].domain, cgs[j].arena);
		fclose(f);
	}
	f = out_file(dir, "procs.tsv");
	if (f) {
		fprintf(f, "# pid\tkind\texited\talive\tend_cg\tend_domain\tlost\tother");
		for (j = 0; j < NR_WRITERS; j++)
			fprintf(f, "\tcnt%d", SIG0 + j);
		fprintf(f, "\n");
		for (i = 0; i < NR_SLOTS; i++) {
			struct slot *s = &sh->slots[i];

			if (!s->pid)
				continue;
			fprintf(f, "%d\t%d\t%d\t%d\t%d\t%d\t%u\t%u", s->pid, s->kind, s->exited,
				end_cg[i] != -9, end_cg[i], end_dom[i], s->lost, s->other);
			for (j = 0; j < NR_WRITERS; j++)
				fprintf(f, "\t%u", s->cnt[j]);
			fprintf(f, "\n");
		}
		fclose(f);
	}
	f = out_file(dir, "events.tsv");
	if (f) {
		fprintf(f, "# type\tt0\tt1\tpid\ttid\ta\tb\tc\tres\n");
		n = sh->nev < NR_EVENTS ? sh->nev : NR_EVENTS;
		for (i = 0; i < n; i++) {
			struct event *e = &evs[i];

			if (!__atomic_load_n(&e->valid, __ATOMIC_ACQUIRE)) {
				error("event", "incomplete", EINVAL);
				continue;
			}
			fprintf(f, "%s\t%lld\t%lld\t%d\t%d\t%d\t%d\t%d\t%d\n", ev_names[e->type],
				e->t0, e->t1, e->pid, e->tid, e->a, e->b, e->c, e->res);
		}
		fclose(f);
	}
	f = out_file(dir, "deliveries.tsv");
	if (f) {
		fprintf(f, "# t\tpid\ttid\tsi_pid\tsig\tcode\n");
		n = sh->ndel < NR_DELIVERIES ? sh->ndel : NR_DELIVERIES;
		for (i = 0; i < n; i++) {
			struct delivery *d = &dels[i];

			if (!__atomic_load_n(&d->t, __ATOMIC_ACQUIRE)) {
				error("delivery", "incomplete", EINVAL);
				continue;
			}
			fprintf(f, "%lld\t%d\t%d\t%d\t%d\t%d\n", d->t, d->pid, d->tid, d->sender,
				d->sig, d->code);
		}
		fclose(f);
	}
}

static void *map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("stress: mmap");
		exit(2);
	}
	return p;
}

static bool wait_active_zero(int ms)
{
	long long end = now_ns() + ms * 1000000LL;

	while (__atomic_load_n(&sh->active, __ATOMIC_SEQ_CST) && now_ns() < end) {
		reap();
		msleep(20);
	}
	return !__atomic_load_n(&sh->active, __ATOMIC_SEQ_CST);
}

static void set_up(void)
{
	struct rlimit rl = { 1 << 20, 1 << 20 };
	int i, fd;

	rmtree(ARENA);
	rmtree(OUTCG);
	rmtree(CANARY);
	rmtree(CTL);
	/* pids are never reused during a run: the logs name processes by pid. */
	fd = open("/proc/sys/kernel/pid_max", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "4194304", 7) < 0)
			fprintf(stderr, "stress: warning: pid_max: %s\n", strerror(errno));
		close(fd);
	}
	/* Real-time signals must queue, never coalesce. */
	if (setrlimit(RLIMIT_SIGPENDING, &rl))
		fprintf(stderr, "stress: warning: RLIMIT_SIGPENDING: %s\n", strerror(errno));
	if (cg_write(ROOT, "cgroup.subtree_control", "+pids")) {
		perror("stress: set-up");
		exit(2);
	}
	for (i = 0; i < NR_CGS; i++) {
		if (mkdir(cgs[i].path, 0755)) {
			fprintf(stderr, "stress: mkdir %s: %s\n", cgs[i].path, strerror(errno));
			exit(2);
		}
		if (cgs[i].threaded && cg_write(cgs[i].path, "cgroup.type", "threaded")) {
			fprintf(stderr, "stress: %s threaded: %s\n", cgs[i].path, strerror(errno));
			exit(2);
		}
	}
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "%d", ARENA_PIDS_MAX);
		if (cg_write(ARENA, "pids.max", buf)) {
			perror("stress: pids.max");
			exit(2);
		}
	}
}

static void clean_up(void)
{
	long long end = now_ns() + 30000000000LL;
	int i;

	for (i = NR_CGS - 1; i >= 0; i--)
		if (cgs[i].domain == i && (i == 0 || !cgs[i].arena))
			walk(cgs[i].path, kill_cg, false);
	while (now_ns() < end) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0 && errno == ECHILD)
			break;
		if (pid <= 0)
			msleep(50);
	}
	rmtree(ARENA);
	rmtree(OUTCG);
	rmtree(CANARY);
	rmtree(CTL);
}

int main(int argc, char **argv)
{
	static void (* const roles[])(int) = {
		run_writer, run_writer, run_writer, run_writer, run_misc,
		run_populator, run_migrator, run_churner, run_freezer,
	};
#define NR_ROLES (int)(sizeof(roles) / sizeof(roles[0]))
	const char *env = getenv("STRESS_SECONDS");
	const char *dir = argc > 1 ? argv[1] : ".";
	long seconds = env ? atol(env) : 120;
	pid_t workers[NR_ROLES];
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	static int end_cg[NR_SLOTS], end_dom[NR_SLOTS];
	long long deadline, t;
	long final_escapes = 0, final_wrong = 0, npending = 0;
	int i, dom, live_workers, ret;
	bool pending;
	pid_t pid;

	if (seconds <= 0)
		seconds = 120;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sh = map(sizeof(*sh));
	evs = map(sizeof(*evs) * NR_EVENTS);
	dels = map(sizeof(*dels) * NR_DELIVERIES);

	/* Handlers first: every process and thread of the run inherits them. */
	sigemptyset(&rtset);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NR_WRITERS; i++) {
		sigaddset(&rtset, SIG0 + i);
		if (sigaction(SIG0 + i, &sa, NULL)) {
			perror("stress: sigaction");
			return 2;
		}
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("stress: subreaper");
		return 2;
	}
	set_up();

	for (i = 0; i < NR_CANARIES; i++)
		if (start(CG_CANARY, canary, i) < 0) {
			perror("stress: canary");
			return 2;
		}
	printf("stress: %ld s, %d workers (%d writers of signals %d-%d), arena %s "
	       "(%d cgroups, %d threaded), out %s, %d canaries\n",
	       seconds, NR_ROLES, NR_WRITERS, SIG0, SIG0 + NR_WRITERS - 1, ARENA, NR_ARENA_CGS,
	       NR_THREADED, OUTCG, NR_CANARIES);
	for (i = 0; i < NR_ROLES; i++)
		workers[i] = start(CG_CTL, roles[i], i);

	deadline = now_ns() + seconds * 1000000000LL;
	while ((t = now_ns()) < deadline) {
		reap();
		sleep(1);
		printf("stress: %llds left: %ld writes, %ld processes, %ld events, %ld deliveries\n",
		       (deadline - now_ns()) / 1000000000LL,
		       __atomic_load_n(&sh->writes, __ATOMIC_RELAXED),
		       __atomic_load_n(&sh->procs, __ATOMIC_RELAXED),
		       __atomic_load_n(&sh->nev, __ATOMIC_RELAXED),
		       __atomic_load_n(&sh->ndel, __ATOMIC_RELAXED));
	}

	/* Stop every worker and every mutation, thaw, and let the handlers run. */
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	t = now_ns() + 120000000000LL;
	do {
		live_workers = 0;
		for (i = 0; i < NR_ROLES; i++) {
			/* reap() below may have reaped it already. */
			if (workers[i] > 0 && (pid = waitpid(workers[i], NULL, WNOHANG)) &&
			    (pid == workers[i] || errno == ECHILD))
				workers[i] = 0;
			live_workers += workers[i] > 0;
		}
		reap();
		msleep(50);
	} while (live_workers && now_ns() < t);
	if (live_workers)
		error("stop", "workers still running", ETIMEDOUT);
	walk(ARENA, thaw_cg, false);
	if (!wait_active_zero(60000))
		error("stop", "mutations still in flight", ETIMEDOUT);
	printf("stress: stopped; waiting for pending signals\n");
	t = now_ns() + 60000000000LL;
	do {
		npending = 0;
		reap();
		for (i = 0; i < NR_SLOTS; i++) {
			if (!sh->slots[i].pid || sh->slots[i].exited)
				continue;
			where(sh->slots[i].pid, &dom, &pending);
			npending += pending;
		}
		if (npending)
			msleep(200);
	} while (npending && now_ns() < t);
	if (npending)
		error("barrier", "real-time signals still pending", ETIMEDOUT);
	msleep(500);
	for (i = 0; i < NR_SLOTS; i++) {
		end_cg[i] = -9;
		end_dom[i] = -1;
		if (sh->slots[i].pid && alive(sh->slots[i].pid))
			end_cg[i] = where(sh->slots[i].pid, &end_dom[i], &pending);
	}
	if (sh->ev_overflow || sh->del_overflow || sh->slot_overflow) {
		fprintf(stderr, "stress: error: overflow: %ld events, %ld deliveries, %ld slots\n",
			sh->ev_overflow, sh->del_overflow, sh->slot_overflow);
		sh->errors++;
	}
	dump(dir, end_cg, end_dom);

	/*
	 * A last SIGKILL write to the arena's root, everything quiet: every
	 * process whose live threads are all in the arena must die, every other
	 * must live.
	 */
	ret = cg_write(ARENA, "cgroup.signal", "9");
	if (ret)
		error("final write", ARENA, -ret);
	t = now_ns() + 20000000000LL;
	do {
		final_escapes = 0;
		reap();
		for (i = 0; i < NR_SLOTS; i++)
			if (end_cg[i] != -9 && end_dom[i] >= 0 && cgs[end_dom[i]].arena &&
			    alive(sh->slots[i].pid))
				final_escapes++;
		if (final_escapes)
			msleep(200);
	} while (final_escapes && now_ns() < t);
	for (i = 0; i < NR_SLOTS; i++) {
		if (end_cg[i] == -9)
			continue;
		pid = sh->slots[i].pid;
		bool in_arena = end_dom[i] >= 0 && cgs[end_dom[i]].arena;

		if (in_arena && alive(pid))
			printf("stress: final SIGKILL escapee %d (kind %#x, cgroup %s)\n", pid,
			       sh->slots[i].kind, end_cg[i] >= 0 ? cgs[end_cg[i]].path : "(spread)");
		if (!in_arena && end_dom[i] != -1 && !alive(pid)) {
			final_wrong++;
			printf("stress: final SIGKILL killed %d outside the arena (kind %#x, %s)\n",
			       pid, sh->slots[i].kind, cgs[end_dom[i]].path);
		}
		if (end_dom[i] == -1 && end_cg[i] == -1 && alive(pid))
			printf("stress: process %d (kind %#x) is in no cgroup of ours\n", pid,
			       sh->slots[i].kind);
	}

	clean_up();
	printf("counters: writes=%ld procs=%ld errors=%ld final_escapes=%ld final_wrong=%ld "
	       "events=%ld deliveries=%ld\n",
	       sh->writes, sh->procs, sh->errors, final_escapes, final_wrong, sh->nev, sh->ndel);
	return sh->errors ? 2 : 0;
}
