// SPDX-License-Identifier: GPL-2.0
/*
 * Tests for cgroup.signal: one write signals every process of a cgroup
 * subtree.
 *
 * Every case runs in its own freshly created cgroup (the fixture), which is
 * killed through cgroup.kill and removed afterwards whatever the outcome, so
 * one failing case cannot leak processes or cgroups into the next.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cgroup_util.h"

#define NOBODY 65534

/* How long anything that should happen promptly may take under TCG. */
#define WAIT_MS 20000

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write @len bytes of @buf to @cg/cgroup.signal: 0 or -errno. */
static int sig_write_len(const char *cg, const char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t ret;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.signal", cg);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, buf, len);
	if (ret < 0)
		ret = -errno;
	else if ((size_t)ret != len)
		ret = -EIO;
	else
		ret = 0;
	close(fd);
	return ret;
}

static int sig_write(const char *cg, const char *buf)
{
	return sig_write_len(cg, buf, strlen(buf));
}

/*
 * The SIGKILL cases kill through here: @nine ("9" in some spelling) to
 * cgroup.signal or, with CGSIG_KILL_FILE=1 in the environment, "1" to the
 * stock cgroup.kill instead, to show that those cases hold for cgroup.kill.
 */
static int kill_write(const char *cg, const char *nine)
{
	const char *env = getenv("CGSIG_KILL_FILE");

	if (env && !strcmp(env, "1"))
		return cg_write(cg, "cgroup.kill", "1");
	return sig_write(cg, nine);
}

/* Wait until @cg's cgroup.events says "populated 0". 0 or -1 on timeout. */
static int wait_unpopulated(const char *cg)
{
	long deadline = now_ms() + WAIT_MS;
	int fd, ret = -1;

	fd = cg_prepare_for_wait(cg);
	if (fd < 0)
		return -1;
	while (now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char ev[4096];

		if (!cg_read_strstr(cg, "cgroup.events", "populated 0")) {
			ret = 0;
			break;
		}
		/* Drain what poll() saw; one read takes every queued event. */
		if (poll(&pfd, 1, 100) > 0 && read(fd, ev, sizeof(ev)) < 0)
			break;
	}
	close(fd);
	return ret;
}

/*
 * Read @cg's @file whole into @buf (NUL-terminated, at most @size - 1
 * bytes): 0, or -1. Unlike cg_read(), which reads once, and so a page at
 * most from a seq_file, it reads to the end: a cgroup.threads of hundreds of
 * five-digit tids is more than a page.
 */
static int read_all(const char *cg, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t len = 0;
	size_t got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while (got < size - 1) {
		len = read(fd, buf + got, size - 1 - got);
		if (len <= 0)
			break;
		got += len;
	}
	close(fd);
	buf[got] = 0;
	return len < 0 || got == size - 1 ? -1 : 0;
}

/* The number of lines of @cg's @file, or -1. */
static long nr_lines(const char *cg, const char *file)
{
	static char buf[1 << 20];
	long n = 0;
	char *p;

	if (read_all(cg, file, buf, sizeof(buf)))
		return -1;
	for (p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

/* Wait until @cg's @file (cgroup.procs, cgroup.threads) lists @n entries. */
static int wait_nr(const char *cg, const char *file, int n)
{
	long deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		if (nr_lines(cg, file) == n)
			return 0;
		usleep(10000);
	}
	return -1;
}

static int wait_nr_procs(const char *cg, int n)
{
	return wait_nr(cg, "cgroup.procs", n);
}

static int wait_nr_threads(const char *cg, int n)
{
	return wait_nr(cg, "cgroup.threads", n);
}

/* Is @pid, a child of ours, still running (not exited, not a zombie)? */
static bool alive(pid_t pid)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT))
		return false;
	return si.si_pid == 0;
}

/* Reap @pid; true if it was killed by @sig. */
static bool reaped_by(pid_t pid, int sig)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return false;
	return WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static int sleeper(const char *cg, void *arg)
{
	for (;;)
		pause();
	return 0;
}

/* Start @n sleepers in @cg, their pids in @pids. */
static int spawn(const char *cg, int n, pid_t *pids)
{
	int before = nr_lines(cg, "cgroup.procs");
	int i;

	for (i = 0; i < n; i++) {
		pids[i] = cg_run_nowait(cg, sleeper, NULL);
		if (pids[i] < 0)
			return -1;
	}
	return wait_nr_procs(cg, before + n);
}

/* Make @parent/@name, return its path (freed by the fixture's teardown). */
static char *mkcg(const char *parent, const char *name)
{
	char *cg = cg_name(parent, name);

	if (cg && cg_create(cg)) {
		free(cg);
		return NULL;
	}
	return cg;
}

/* Remove @cg and everything below it, killing what still runs there. */
static void destroy_tree(const char *cg)
{
	struct dirent *de;
	DIR *dir;

	if (access(cg, F_OK))
		return;
	cg_write(cg, "cgroup.freeze", "0");
	if (cg_read_strstr(cg, "cgroup.events", "populated 0")) {
		cg_write(cg, "cgroup.kill", "1");
		wait_unpopulated(cg);
	}
	dir = opendir(cg);
	if (dir) {
		while ((de = readdir(dir))) {
			char *sub;

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			sub = cg_name(cg, de->d_name);
			if (sub) {
				destroy_tree(sub);
				free(sub);
			}
		}
		closedir(dir);
	}
	cg_destroy(cg);
}

static int as_nobody(int (*fn)(void *), void *arg);

/* Exit status: 0 on success, else the errno of the failed open. */
static int nobody_opens_for_reading(void *path)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

FIXTURE(cgsig) {
	char root[PATH_MAX];
	char *cg;		/* this case's cgroup */
	char *outside;		/* a sibling for canaries, never signalled */
};

FIXTURE_SETUP(cgsig)
{
	char name[64];

	/*
	 * Orphans of the processes a case starts (a forker's children, once the
	 * forker is gone) come back here, not to init, and are reaped in the
	 * teardown: repeated runs must not fill the pid space with zombies.
	 */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	ASSERT_EQ(0, cg_find_unified_root(self->root, sizeof(self->root), NULL))
		TH_LOG("no cgroup v2 mount");
	snprintf(name, sizeof(name), "cgsig_test_%d", getpid());
	self->cg = cg_name(self->root, name);
	ASSERT_NE(NULL, self->cg);
	destroy_tree(self->cg);
	ASSERT_EQ(0, cg_create(self->cg));
	snprintf(name, sizeof(name), "cgsig_canary_%d", getpid());
	self->outside = cg_name(self->root, name);
	ASSERT_NE(NULL, self->outside);
	destroy_tree(self->outside);
	ASSERT_EQ(0, cg_create(self->outside));
}

FIXTURE_TEARDOWN(cgsig)
{
	destroy_tree(self->cg);
	destroy_tree(self->outside);
	free(self->cg);
	free(self->outside);
	/* Everything the case started is dead by now (cgroup.kill): reap it. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* The root cgroup has no cgroup.signal; the file is write-only (0200). */
TEST_F_TIMEOUT(cgsig, root_has_none_and_file_is_write_only, 120)
{
	char path[PATH_MAX + 16], buf[16];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.signal", self->root);
	ASSERT_EQ(-1, access(path, F_OK));
	ASSERT_EQ(ENOENT, errno);

	snprintf(path, sizeof(path), "%s/cgroup.signal", self->cg);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(S_IFREG | 0200, st.st_mode);
	/* Others cannot even open it for reading. */
	ASSERT_EQ(EACCES, as_nobody(nobody_opens_for_reading, path));
	/* Root may open it, but there is nothing to read. */
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

/* One write kills 100 sleeping processes; cgroup.events reaches populated 0. */
TEST_F_TIMEOUT(cgsig, kills_100_processes, 120)
{
	pid_t pids[100];
	int i;

	ASSERT_EQ(0, spawn(self->cg, 100, pids));
	ASSERT_EQ(0, cg_read_strcmp(self->cg, "cgroup.events", "populated 1\nfrozen 0\n"));

	ASSERT_EQ(0, kill_write(self->cg, "9\n"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 100; i++)
		ASSERT_TRUE(reaped_by(pids[i], SIGKILL)) TH_LOG("pid %d", pids[i]);
	ASSERT_EQ(0, nr_lines(self->cg, "cgroup.procs"));
}

/*
 * Signalling job/victim kills victim and all its descendants, and nothing in
 * job itself, in victim's sibling, or outside job.
 */
TEST_F_TIMEOUT(cgsig, subtree_dies_and_nothing_else, 120)
{
	char *victim, *child, *grandchild, *sibling;
	pid_t in_job[2], in_victim[3], in_child[3], in_gchild[3], in_sib[2], canary[2];
	int i;

	victim = mkcg(self->cg, "victim");
	ASSERT_NE(NULL, victim);
	child = mkcg(victim, "child");
	ASSERT_NE(NULL, child);
	grandchild = mkcg(child, "grandchild");
	ASSERT_NE(NULL, grandchild);
	sibling = mkcg(self->cg, "sibling");
	ASSERT_NE(NULL, sibling);

	ASSERT_EQ(0, spawn(self->cg, 2, in_job));
	ASSERT_EQ(0, spawn(victim, 3, in_victim));
	ASSERT_EQ(0, spawn(child, 3, in_child));
	ASSERT_EQ(0, spawn(grandchild, 3, in_gchild));
	ASSERT_EQ(0, spawn(sibling, 2, in_sib));
	ASSERT_EQ(0, spawn(self->outside, 2, canary));

	ASSERT_EQ(0, kill_write(victim, "9"));
	ASSERT_EQ(0, wait_unpopulated(victim));

	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(reaped_by(in_victim[i], SIGKILL));
		ASSERT_TRUE(reaped_by(in_child[i], SIGKILL));
		ASSERT_TRUE(reaped_by(in_gchild[i], SIGKILL));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(alive(in_job[i]));
		ASSERT_TRUE(alive(in_sib[i]));
		ASSERT_TRUE(alive(canary[i]));
	}
	ASSERT_EQ(0, cg_read_strcmp(self->cg, "cgroup.events", "populated 1\nfrozen 0\n"));
	ASSERT_EQ(0, cg_read_strcmp(sibling, "cgroup.events", "populated 1\nfrozen 0\n"));
	ASSERT_EQ(0, cg_read_strcmp(self->outside, "cgroup.events", "populated 1\nfrozen 0\n"));
	free(victim);
	free(child);
	free(grandchild);
	free(sibling);
}

static void *thread_sleep(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/* A process with @arg threads besides its main one; the leader exits first if @arg < 0. */
static int threaded_proc(const char *cg, void *arg)
{
	long n = (long)arg;
	bool leader_exits = n < 0;
	pthread_t t;
	long i;

	if (leader_exits)
		n = -n;
	for (i = 0; i < n; i++)
		if (pthread_create(&t, NULL, thread_sleep, NULL))
			return 1;
	if (leader_exits)
		pthread_exit(NULL);
	for (;;)
		pause();
	return 0;
}

/* A process of 16 threads dies from one write. */
TEST_F_TIMEOUT(cgsig, multithreaded_process_dies, 120)
{
	pid_t pid;

	pid = cg_run_nowait(self->cg, threaded_proc, (void *)15L);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_nr_threads(self->cg, 16));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	ASSERT_EQ(0, nr_lines(self->cg, "cgroup.threads"));
}

/*
 * A process whose leader called pthread_exit() (a zombie leader with live
 * threads) is still reached through its threads.
 */
TEST_F_TIMEOUT(cgsig, process_with_exited_leader_dies, 120)
{
	pid_t pid;

	pid = cg_run_nowait(self->cg, threaded_proc, (void *)-4L);
	ASSERT_GT(pid, 0);
	/* Four live threads, the leader gone from cgroup.threads. */
	ASSERT_EQ(0, wait_nr_threads(self->cg, 4));
	ASSERT_EQ(0, cg_read_strcmp(self->cg, "cgroup.events", "populated 1\nfrozen 0\n"));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
}

static int forkbomb(const char *cg, void *arg)
{
	for (;;) {
		if (fork() < 0)
			usleep(1000);
	}
	return 0;
}

/* A forkbomb bounded by pids.max is gone after exactly one write. */
TEST_F_TIMEOUT(cgsig, forkbomb_gone_after_one_write, 120)
{
	char *bomb;
	pid_t pid;
	int i;

	ASSERT_EQ(0, cg_write(self->root, "cgroup.subtree_control", "+pids"));
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.subtree_control", "+pids"));
	bomb = mkcg(self->cg, "bomb");
	ASSERT_NE(NULL, bomb);
	ASSERT_EQ(0, cg_write(bomb, "pids.max", "200"));

	pid = cg_run_nowait(bomb, forkbomb, NULL);
	ASSERT_GT(pid, 0);
	/* Let it grow: the write must race with forks in flight. */
	for (i = 0; i < 1000 && nr_lines(bomb, "cgroup.procs") < 50; i++)
		usleep(10000);
	ASSERT_GE(nr_lines(bomb, "cgroup.procs"), 50);

	ASSERT_EQ(0, kill_write(bomb, "9"));
	ASSERT_EQ(0, wait_unpopulated(bomb)) TH_LOG("%ld processes escaped",
						    nr_lines(bomb, "cgroup.procs"));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	ASSERT_EQ(0, nr_lines(bomb, "cgroup.procs"));
	free(bomb);
}

/* A frozen cgroup dies at once: SIGKILL does not wait for the thaw. */
TEST_F_TIMEOUT(cgsig, frozen_cgroup_dies, 120)
{
	pid_t pids[10];
	int i;

	ASSERT_EQ(0, spawn(self->cg, 10, pids));
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "1"));
	ASSERT_EQ(0, cg_read_strcmp_wait(self->cg, "cgroup.events", "populated 1\nfrozen 1\n"));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 10; i++)
		ASSERT_TRUE(reaped_by(pids[i], SIGKILL));
	/* Still frozen as a cgroup: only its processes are gone. */
	ASSERT_EQ(0, cg_read_strcmp(self->cg, "cgroup.freeze", "1\n"));
}

/* pid 1 of a new pid namespace and its children, all in the cgroup. */
static int pidns_init(const char *cg, void *arg)
{
	pid_t pid;
	int i;

	if (unshare(CLONE_NEWPID))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		/* pid 1 in the new namespace */
		for (i = 0; i < 4; i++)
			if (fork() == 0)
				for (;;)
					pause();
		for (;;)
			pause();
	}
	for (;;)
		pause();
	return 0;
}

/* Processes in a child pid namespace, including its init, die. */
TEST_F_TIMEOUT(cgsig, child_pid_namespace_dies, 120)
{
	pid_t pid;

	pid = cg_run_nowait(self->cg, pidns_init, NULL);
	ASSERT_GT(pid, 0);
	/* the unsharer, the namespace's init and its 4 children */
	ASSERT_EQ(0, wait_nr_procs(self->cg, 6));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
}

static int vforker(const char *cg, void *arg)
{
	/* The child never execs or exits: the parent stays blocked in vfork(). */
	if (vfork() == 0)
		for (;;)
			pause();
	return 1;
}

/* The state letter of @pid in /proc/<pid>/stat. */
static char proc_state(pid_t pid)
{
	char buf[4096], *p;

	if (proc_read_text(pid, false, "stat", buf, sizeof(buf)) < 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait up to @ms until @pid is in @state: whether it is. */
static bool wait_state(pid_t pid, char state, int ms)
{
	long deadline = now_ms() + ms;

	while (now_ms() < deadline) {
		if (proc_state(pid) == state)
			return true;
		usleep(10000);
	}
	return proc_state(pid) == state;
}

/* The process of @cg that is pid 1 of a child pid namespace, or -1. */
static pid_t find_pidns_init(const char *cg)
{
	char procs[4096], status[4096], *line, *save, *ns, *end;

	if (cg_read(cg, "cgroup.procs", procs, sizeof(procs)))
		return -1;
	for (line = strtok_r(procs, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		pid_t pid = atoi(line);

		if (proc_read_text(pid, false, "status", status, sizeof(status)) < 0)
			continue;
		/* "NSpid:\t<pid here>\t1\n": pid 1 one namespace down */
		ns = strstr(status, "NSpid:");
		end = ns ? strchr(ns, '\n') : NULL;
		if (end && end - ns > 8 && !strncmp(end - 2, "\t1", 2))
			return pid;
	}
	return -1;
}

/*
 * As with kill(2), the init of a pid namespace gets SIGKILL only from outside
 * its namespace (child_pid_namespace_dies): a writer inside it kills every
 * other process of the subtree and leaves the init running.
 */
TEST_F_TIMEOUT(cgsig, sigkill_from_inside_pid_namespace_spares_its_init, 120)
{
	pid_t pid, init, writer;
	char path[64];
	int nsfd, status;

	pid = cg_run_nowait(self->cg, pidns_init, NULL);
	ASSERT_GT(pid, 0);
	/* the unsharer, the namespace's init and its 4 children */
	ASSERT_EQ(0, wait_nr_procs(self->cg, 6));
	init = find_pidns_init(self->cg);
	ASSERT_GT(init, 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	nsfd = open(path, O_RDONLY);
	ASSERT_GE(nsfd, 0);

	/* The writer: a grandchild of ours in that namespace, not in the cgroup. */
	writer = fork();
	ASSERT_GE(writer, 0);
	if (writer == 0) {
		pid_t w;

		if (setns(nsfd, CLONE_NEWPID))
			_exit(2);
		w = fork();
		if (w < 0)
			_exit(3);
		if (w == 0)
			_exit(kill_write(self->cg, "9") ? 1 : 0);
		if (waitpid(w, &status, 0) != w || !WIFEXITED(status))
			_exit(4);
		_exit(WEXITSTATUS(status));
	}
	close(nsfd);
	ASSERT_EQ(writer, waitpid(writer, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("the writer in the namespace failed");

	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	ASSERT_EQ(0, wait_nr_procs(self->cg, 1));
	usleep(300000);
	EXPECT_EQ(1, nr_lines(self->cg, "cgroup.procs"));
	EXPECT_EQ('S', proc_state(init));
}

/* A vfork parent (waiting for its child) and the child both die. */
TEST_F_TIMEOUT(cgsig, vfork_pair_dies, 120)
{
	pid_t pid;

	pid = cg_run_nowait(self->cg, vforker, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_nr_procs(self->cg, 2));
	/*
	 * Waiting for the vfork child: uninterruptible, but killable. The child
	 * is listed before the parent gets there: wait for it.
	 */
	ASSERT_TRUE(wait_state(pid, 'D', WAIT_MS));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
}

static int self_killer(const char *cg, void *arg)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.signal", cg);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return 2;
	if (write(fd, "9", 1) != 1)
		return 3;
	/* The signal is delivered on the way back to user space. */
	for (;;)
		pause();
	return 0;
}

/* A writer inside the cgroup kills itself along with the rest. */
TEST_F_TIMEOUT(cgsig, writer_inside_kills_itself, 120)
{
	pid_t pids[3], writer;
	int i;

	ASSERT_EQ(0, spawn(self->cg, 3, pids));
	writer = cg_run_nowait(self->cg, self_killer, NULL);
	ASSERT_GT(writer, 0);

	ASSERT_TRUE(reaped_by(writer, SIGKILL));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(reaped_by(pids[i], SIGKILL));
}

/*
 * A threaded cgroup holds threads, not processes: EOPNOTSUPP, nothing
 * signalled. Its threaded domain can be signalled and takes the threads along.
 */
TEST_F_TIMEOUT(cgsig, threaded_cgroup_is_refused, 120)
{
	char *threaded;
	pid_t pid;

	threaded = mkcg(self->cg, "threaded");
	ASSERT_NE(NULL, threaded);
	ASSERT_EQ(0, cg_write(threaded, "cgroup.type", "threaded"));
	pid = cg_run_nowait(self->cg, threaded_proc, (void *)3L);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_nr_threads(self->cg, 4));

	ASSERT_EQ(-EOPNOTSUPP, kill_write(threaded, "9"));
	usleep(100000);
	ASSERT_TRUE(alive(pid));

	ASSERT_EQ(0, kill_write(self->cg, "9"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	free(threaded);
}

/* Every malformed or refused write fails with its errno and kills nothing. */
TEST_F_TIMEOUT(cgsig, bad_input_is_refused_and_kills_nothing, 120)
{
	static const struct {
		const char *buf;
		size_t len;
		int err;
	} cases[] = {
		/* A zero-length write never reaches the handler: a no-op. */
		{ "", 0, 0 },
		{ "\n", 1, EINVAL },
		{ "   ", 3, EINVAL },
		{ "kill", 4, EINVAL },
		{ "9abc", 4, EINVAL },
		{ "9 9", 3, EINVAL },
		{ "\0009", 2, EINVAL },
		{ "9.0", 3, EINVAL },
		{ "0x", 2, EINVAL },
		{ "09", 2, EINVAL },
		{ "--9", 3, EINVAL },
		{ "-9", 2, EINVAL },
		{ "-1", 2, EINVAL },
		/* not a signal number: 1 to SIGRTMAX only */
		{ "0", 1, EINVAL },
		{ "0x0", 3, EINVAL },
		{ "1000", 4, EINVAL },
		{ "-15", 3, EINVAL },
		/* does not fit in an int */
		{ "2147483648", 10, ERANGE },
		{ "-2147483649", 11, ERANGE },
		{ "4294967305", 10, ERANGE },
		{ "99999999999999999999999", 23, ERANGE },
	};
	long page = sysconf(_SC_PAGESIZE);
	char past[16], *big;
	pid_t pids[3];
	size_t i;

	ASSERT_EQ(0, spawn(self->cg, 3, pids));

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int ret = sig_write_len(self->cg, cases[i].buf, cases[i].len);

		EXPECT_EQ(-cases[i].err, ret) {
			TH_LOG("input #%zu \"%.*s\"", i, (int)cases[i].len, cases[i].buf);
		}
	}
	/* One past the last signal, in decimal and hex (64 on most arches). */
	snprintf(past, sizeof(past), "%d", SIGRTMAX + 1);
	EXPECT_EQ(-EINVAL, sig_write(self->cg, past));
	snprintf(past, sizeof(past), "%#x", SIGRTMAX + 1);
	EXPECT_EQ(-EINVAL, sig_write(self->cg, past));

	/* Larger than a page: refused by kernfs before the handler runs. */
	big = malloc(page + 1);
	ASSERT_NE(NULL, big);
	memset(big, ' ', page);
	big[page] = '9';
	EXPECT_EQ(-E2BIG, sig_write_len(self->cg, big, page + 1));
	free(big);

	usleep(200000);
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(alive(pids[i]));
	ASSERT_EQ(3, nr_lines(self->cg, "cgroup.procs"));
}

/*
 * The value is read as cgroup.kill reads its own, kstrtoint(strstrip()):
 * the kernel's isspace() is Latin-1 (0xa0 is whitespace), and the value
 * ends at the first NUL byte. Each such write kills its process.
 */
TEST_F_TIMEOUT(cgsig, value_is_read_as_cgroup_kill_reads_it, 120)
{
	static const struct {
		const char *buf;
		size_t len;
	} cases[] = {
		{ "9\xa0", 2 },
		{ "\xa0 9\n", 4 },
		{ "9\0junk", 6 },
		{ "011\0", 4 },
		{ " 0x9\t\n", 6 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pid_t pid;
		int ret;

		ASSERT_EQ(0, spawn(self->cg, 1, &pid));
		ret = sig_write_len(self->cg, cases[i].buf, cases[i].len);
		EXPECT_EQ(0, ret) TH_LOG("input #%zu refused", i);
		if (ret) {
			/* Nothing was sent: end the process here, not by timeout. */
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			continue;
		}
		EXPECT_TRUE(reaped_by(pid, SIGKILL)) TH_LOG("input #%zu", i);
	}
}

/* A write through a file opened before its cgroup was removed fails. */
TEST_F_TIMEOUT(cgsig, removed_cgroup_gives_enodev, 120)
{
	char path[PATH_MAX], *gone;
	int fd;

	gone = mkcg(self->cg, "gone");
	ASSERT_NE(NULL, gone);
	snprintf(path, sizeof(path), "%s/cgroup.signal", gone);
	fd = open(path, O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, rmdir(gone));

	ASSERT_EQ(-1, write(fd, "9", 1));
	ASSERT_EQ(ENODEV, errno);
	close(fd);
	free(gone);
}

/* Run @fn as uid/gid nobody in a child; return its exit status. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY))
			_exit(100);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Exit status: 0 on success, else the errno of the failed write. */
static int nobody_writes_9(void *cg)
{
	return -sig_write(cg, "9");
}

/* An unprivileged writer without delegation is refused: EACCES, nothing dies. */
TEST_F_TIMEOUT(cgsig, unprivileged_writer_is_refused, 120)
{
	pid_t pids[2];

	ASSERT_EQ(0, spawn(self->cg, 2, pids));
	ASSERT_EQ(EACCES, as_nobody(nobody_writes_9, self->cg));
	usleep(100000);
	ASSERT_TRUE(alive(pids[0]));
	ASSERT_TRUE(alive(pids[1]));
}

static int nobody_mkdir(void *cg)
{
	return mkdir(cg, 0755) ? errno : 0;
}

/*
 * Delegation (cgroup-v2.rst, "Delegation"): the delegatee owns the directory
 * and cgroup.procs/threads/subtree_control of the delegation root, not its
 * cgroup.signal. It may signal the sub-cgroups it creates, not the root.
 */
TEST_F_TIMEOUT(cgsig, delegatee_signals_own_subcgroups_only, 120)
{
	static const char * const delegated[] = {
		"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control",
	};
	char path[PATH_MAX], *sub;
	pid_t in_root[2], in_sub[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(delegated); i++) {
		snprintf(path, sizeof(path), "%s%s", self->cg, delegated[i]);
		ASSERT_EQ(0, chown(path, NOBODY, NOBODY));
	}
	sub = cg_name(self->cg, "sub");
	ASSERT_NE(NULL, sub);
	ASSERT_EQ(0, as_nobody(nobody_mkdir, sub));
	ASSERT_EQ(0, spawn(self->cg, 2, in_root));
	ASSERT_EQ(0, spawn(sub, 2, in_sub));

	ASSERT_EQ(EACCES, as_nobody(nobody_writes_9, self->cg));
	ASSERT_EQ(0, as_nobody(nobody_writes_9, sub));
	ASSERT_EQ(0, wait_unpopulated(sub));
	ASSERT_TRUE(reaped_by(in_sub[0], SIGKILL));
	ASSERT_TRUE(reaped_by(in_sub[1], SIGKILL));
	ASSERT_TRUE(alive(in_root[0]));
	ASSERT_TRUE(alive(in_root[1]));
	free(sub);
}

/* Writers on nested cgroups at once: every write succeeds, everything dies. */
TEST_F_TIMEOUT(cgsig, concurrent_writers_on_nested_cgroups, 120)
{
	static const char * const names[] = { "a", "a/b", "a/b/c", "d" };
	char *cgs[5];
	pid_t pids[5][10], writers[5];
	int go[2], i, j, status;

	cgs[0] = self->cg;
	for (i = 0; i < 4; i++) {
		cgs[i + 1] = mkcg(self->cg, names[i]);
		ASSERT_NE(NULL, cgs[i + 1]);
	}
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, spawn(cgs[i], 10, pids[i]));

	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < 5; i++) {
		writers[i] = fork();
		ASSERT_GE(writers[i], 0);
		if (writers[i] == 0) {
			char c;

			close(go[1]);
			if (read(go[0], &c, 1) != 0)
				_exit(99);
			_exit(-kill_write(cgs[i], "9"));
		}
	}
	close(go[0]);
	close(go[1]);	/* all writers start now */

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(writers[i], waitpid(writers[i], &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("writer on %s", cgs[i]);
	}
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 5; i++)
		for (j = 0; j < 10; j++)
			ASSERT_TRUE(reaped_by(pids[i][j], SIGKILL));
	for (i = 1; i < 5; i++)
		free(cgs[i]);
}

/*
 * The fork guarantee does not reach into the future: a process cloned into
 * the cgroup (clone3 CLONE_INTO_CGROUP) after the write returned survives,
 * after SIGKILL (cgroup.kill's kill_seq) as after SIGTERM (cgroup.signal's
 * own record of what it sent).
 */
TEST_F_TIMEOUT(cgsig, clone_into_cgroup_after_write_survives, 120)
{
	static const struct {
		const char *buf;
		int sig;
	} writes[] = { { "9", SIGKILL }, { "15", SIGTERM } };
	pid_t pids[2], pid;
	int cgfd, status;
	size_t i;

	cgfd = dirfd_open_opath(self->cg);
	ASSERT_GE(cgfd, 0);
	for (i = 0; i < ARRAY_SIZE(writes); i++) {
		ASSERT_EQ(0, spawn(self->cg, 2, pids));
		ASSERT_EQ(0, writes[i].sig == SIGKILL ? kill_write(self->cg, writes[i].buf) :
			     sig_write(self->cg, writes[i].buf));
		ASSERT_EQ(0, wait_unpopulated(self->cg));
		ASSERT_TRUE(reaped_by(pids[0], writes[i].sig));
		ASSERT_TRUE(reaped_by(pids[1], writes[i].sig));

		pid = clone_into_cgroup(cgfd);
		ASSERT_GE(pid, 0);
		if (pid == 0) {
			usleep(300000);
			_exit(42);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status)) TH_LOG("after %s", writes[i].buf);
		ASSERT_EQ(42, WEXITSTATUS(status));
	}
	close(cgfd);
}

/*
 * Every signal, not just SIGKILL.
 *
 * Processes that must report what they received share one anonymous
 * MAP_SHARED page with the test: one slot each, written by their handler.
 */
struct slot {
	int ready;		/* the process is set up */
	int count;		/* deliveries of the signal */
	int code, pid, uid;	/* siginfo of the last one */
	int go;			/* the test's go-ahead, where one is needed */
	int stop;		/* the test's order to stop, where one is needed */
	int acked;		/* the process did what it was told */
};

#define NR_SLOTS 64

static struct slot *slots;
static int my_slot;		/* in the child: which slot is ours */

static struct slot *map_slots(void)
{
	void *p = mmap(NULL, NR_SLOTS * sizeof(struct slot), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void count_signal(int sig, siginfo_t *si, void *uc)
{
	struct slot *s = &slots[my_slot];

	s->code = si->si_code;
	s->pid = si->si_pid;
	s->uid = si->si_uid;
	__atomic_fetch_add(&s->count, 1, __ATOMIC_SEQ_CST);
}

static int handle(int sig)
{
	struct sigaction sa = { .sa_sigaction = count_signal, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static void set_ready(void)
{
	__atomic_store_n(&slots[my_slot].ready, 1, __ATOMIC_SEQ_CST);
}

/* Wait until the shared @field reaches @n. */
static int wait_int(int *field, int n)
{
	long deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		if (__atomic_load_n(field, __ATOMIC_SEQ_CST) >= n)
			return 0;
		usleep(1000);
	}
	return -1;
}

/* Wait until slot @i's field at @off reaches @n. */
static int wait_slot(int i, size_t off, int n)
{
	return wait_int((int *)((char *)&slots[i] + off), n);
}

#define wait_ready(i) wait_slot(i, offsetof(struct slot, ready), 1)
#define wait_count(i, n) wait_slot(i, offsetof(struct slot, count), n)

/*
 * Handles SIGUSR1, or signal (arg >> 24) if that is not 0, in slot
 * (arg & 0xff), with ((arg >> 8) & 0xff) extra threads; if bit 16 is set its
 * leader exits first. COUNTER() builds the argument.
 */
#define COUNTER(slot, threads, leader_exits, sig) \
	((void *)((long)(slot) | (threads) << 8 | (leader_exits) << 16 | (long)(sig) << 24))

static int usr1_counter(const char *cg, void *arg)
{
	long a = (long)arg;
	int threads = (a >> 8) & 0xff;
	int sig = (a >> 24) & 0xff;
	pthread_t t;
	int i;

	my_slot = a & 0xff;
	if (handle(sig ? sig : SIGUSR1))
		return 1;
	for (i = 0; i < threads; i++)
		if (pthread_create(&t, NULL, thread_sleep, NULL))
			return 1;
	set_ready();
	if (a & (1 << 16))
		pthread_exit(NULL);
	for (;;)
		pause();
	return 0;
}

/* Every live thread of @pid (in /proc/<pid>/task) in state @state. */
static bool all_threads_in_state(pid_t pid, char state)
{
	char path[320], buf[4096], *p;
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	while ((de = readdir(dir))) {
		FILE *f;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* a thread that just exited */
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		p = strrchr(buf, ')');
		/* A leader that has exited while its threads live on. */
		if (p && p[1] == ' ' && p[2] == 'Z' && state != 'Z')
			continue;
		if (!p || p[1] != ' ' || p[2] != state) {
			closedir(dir);
			return false;
		}
		n++;
	}
	closedir(dir);
	return n > 0;
}

/*
 * Every process listed in @cg's cgroup.procs has all its threads in @state;
 * @nr is how many processes were checked.
 */
static bool all_procs_in_state(const char *cg, char state, int *nr)
{
	char buf[65536], path[64], *line, *save;

	if (read_all(cg, "cgroup.procs", buf, sizeof(buf)))
		return false;
	*nr = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		pid_t pid = atoi(line);

		if (!all_threads_in_state(pid, state)) {
			/* A process that exited meanwhile has nothing left to check. */
			snprintf(path, sizeof(path), "/proc/%d", pid);
			if (!access(path, F_OK))
				return false;
			continue;
		}
		(*nr)++;
	}
	return true;
}

static int wait_all_procs_in_state(const char *cg, char state, int *nr)
{
	long deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		if (all_procs_in_state(cg, state, nr))
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * Wait until every process of @cg is in @state and their number @nr has not
 * changed for three checks 100 ms apart: forks that were in flight when the
 * signal came complete (their children get it too) before the count settles.
 */
static int wait_settled_in_state(const char *cg, char state, int *nr)
{
	long deadline = now_ms() + WAIT_MS;
	int last = -1, same = 0;

	while (now_ms() < deadline) {
		bool all = all_procs_in_state(cg, state, nr);

		if (all && *nr == last) {
			if (++same == 3)
				return 0;
		} else {
			same = 0;
			last = all ? *nr : -1;
		}
		usleep(100000);
	}
	return -1;
}

/*
 * SIGTERM with its default action ends every process, single- and
 * multithreaded, in the whole subtree, and nothing outside it.
 */
TEST_F_TIMEOUT(cgsig, sigterm_ends_every_process, 120)
{
	pid_t single[5], multi[5], nested[3], canary[2];
	char *sub;
	int i;

	sub = mkcg(self->cg, "sub");
	ASSERT_NE(NULL, sub);
	ASSERT_EQ(0, spawn(self->cg, 5, single));
	for (i = 0; i < 5; i++) {
		multi[i] = cg_run_nowait(self->cg, threaded_proc, (void *)(i == 0 ? -7L : 7L));
		ASSERT_GT(multi[i], 0);
	}
	ASSERT_EQ(0, spawn(sub, 3, nested));
	ASSERT_EQ(0, spawn(self->outside, 2, canary));
	/* 5 + 3 sleepers, 4 x 8 threads, 7 threads of the leaderless one */
	ASSERT_EQ(0, wait_nr_threads(self->cg, 5 + 4 * 8 + 7));
	ASSERT_EQ(0, wait_nr_threads(sub, 3));

	ASSERT_EQ(0, sig_write(self->cg, "15\n"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 5; i++) {
		ASSERT_TRUE(reaped_by(single[i], SIGTERM));
		ASSERT_TRUE(reaped_by(multi[i], SIGTERM));
	}
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(reaped_by(nested[i], SIGTERM));
	ASSERT_TRUE(alive(canary[0]));
	ASSERT_TRUE(alive(canary[1]));
	free(sub);
}

/*
 * SIGUSR1 with a handler reaches each of 20 processes of 4 threads exactly
 * once (signals are process-directed), also when the leader has exited, with
 * kill(2)'s siginfo: SI_USER, the writer's pid and uid.
 */
TEST_F_TIMEOUT(cgsig, handled_signal_once_per_process, 120)
{
	pid_t pids[20];
	char *sub;
	int i;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	sub = mkcg(self->cg, "sub");
	ASSERT_NE(NULL, sub);
	for (i = 0; i < 20; i++) {
		long arg = i | 3 << 8 | (i % 5 == 0 ? 1 << 16 : 0);

		pids[i] = cg_run_nowait(i < 10 ? self->cg : sub, usr1_counter, (void *)arg);
		ASSERT_GT(pids[i], 0);
	}
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, wait_ready(i));

	ASSERT_EQ(0, sig_write(self->cg, "10"));
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, wait_count(i, 1)) TH_LOG("process %d", i);
	/* Give a second delivery time to show up. */
	usleep(300000);
	for (i = 0; i < 20; i++) {
		EXPECT_EQ(1, slots[i].count) TH_LOG("process %d", i);
		EXPECT_EQ(SI_USER, slots[i].code);
		EXPECT_EQ(getpid(), slots[i].pid);
		EXPECT_EQ(0, slots[i].uid);
		ASSERT_TRUE(alive(pids[i]));
	}
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(sub);
}

/* SIGSTOP stops every thread of every process (state T); SIGCONT resumes them. */
TEST_F_TIMEOUT(cgsig, sigstop_stops_and_sigcont_resumes, 120)
{
	pid_t single[5], multi[3];
	int i, nr;

	ASSERT_EQ(0, spawn(self->cg, 5, single));
	for (i = 0; i < 3; i++) {
		multi[i] = cg_run_nowait(self->cg, threaded_proc, (void *)5L);
		ASSERT_GT(multi[i], 0);
	}
	ASSERT_EQ(0, wait_nr_threads(self->cg, 5 + 3 * 6));
	ASSERT_EQ(0, wait_all_procs_in_state(self->cg, 'S', &nr));

	ASSERT_EQ(0, sig_write(self->cg, "19"));
	ASSERT_EQ(0, wait_all_procs_in_state(self->cg, 'T', &nr));
	ASSERT_EQ(8, nr);

	ASSERT_EQ(0, sig_write(self->cg, "18"));
	ASSERT_EQ(0, wait_all_procs_in_state(self->cg, 'S', &nr));
	ASSERT_EQ(8, nr);
	for (i = 0; i < 5; i++)
		ASSERT_TRUE(alive(single[i]));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(alive(multi[i]));
}

/* Start a forkbomb in @cg limited to @max processes; wait until it has @n. */
static pid_t start_forkbomb(const char *root, const char *parent, char **bomb,
			    int max, int n)
{
	char buf[16];
	pid_t pid;
	int i;

	if (cg_write(root, "cgroup.subtree_control", "+pids") ||
	    cg_write(parent, "cgroup.subtree_control", "+pids"))
		return -1;
	*bomb = mkcg(parent, "bomb");
	if (!*bomb)
		return -1;
	snprintf(buf, sizeof(buf), "%d", max);
	if (cg_write(*bomb, "pids.max", buf))
		return -1;
	pid = cg_run_nowait(*bomb, forkbomb, NULL);
	if (pid < 0)
		return -1;
	/* Let it grow: the write must race with forks in flight. */
	for (i = 0; i < 1000 && nr_lines(*bomb, "cgroup.procs") < n; i++)
		usleep(10000);
	return nr_lines(*bomb, "cgroup.procs") >= n ? pid : -1;
}

/*
 * One SIGSTOP write stops a running forkbomb entirely: every process, those
 * forked while the write ran included, ends up stopped and the count stops
 * moving. As with kill(2), a SIGTERM written then stays pending while they
 * are stopped, and one SIGCONT write lets it end all of them.
 */
TEST_F_TIMEOUT(cgsig, forkbomb_stopped_by_one_sigstop, 120)
{
	int nr, nr2, i;
	char *bomb;
	pid_t pid;

	pid = start_forkbomb(self->root, self->cg, &bomb, 200, 50);
	ASSERT_GT(pid, 0);

	ASSERT_EQ(0, sig_write(bomb, "19"));
	ASSERT_EQ(0, wait_settled_in_state(bomb, 'T', &nr))
		TH_LOG("processes still running after SIGSTOP");
	ASSERT_GE(nr, 50);
	/* Stopped means stopped: nothing forks, nothing runs, for a while. */
	for (i = 0; i < 5; i++) {
		usleep(100000);
		ASSERT_TRUE(all_procs_in_state(bomb, 'T', &nr2));
		ASSERT_EQ(nr, nr2);
	}

	ASSERT_EQ(0, sig_write(bomb, "15"));
	usleep(300000);
	ASSERT_TRUE(all_procs_in_state(bomb, 'T', &nr2));
	ASSERT_EQ(nr, nr2);
	ASSERT_TRUE(alive(pid));

	ASSERT_EQ(0, sig_write(bomb, "18"));
	ASSERT_EQ(0, wait_unpopulated(bomb)) TH_LOG("%ld processes escaped",
						    nr_lines(bomb, "cgroup.procs"));
	ASSERT_TRUE(reaped_by(pid, SIGTERM));
	free(bomb);
}

/* How many processes listed in @cg's cgroup.procs are stopped, or -1. */
static int nr_procs_stopped(const char *cg)
{
	char buf[65536], *line, *save;
	int n = 0;

	if (read_all(cg, "cgroup.procs", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (proc_state(atoi(line)) == 'T')
			n++;
	return n;
}

/*
 * Writes reach every process in the order they were made, a process whose
 * fork overlaps them included: after a SIGSTOP write and then a SIGCONT
 * write, no process of a running forkbomb stays stopped. One that got the
 * SIGCONT before the SIGSTOP (which then stops it for good) or missed the
 * SIGCONT would. 500 pairs in a row, as a runtime pausing and resuming a
 * job does, so that forks in flight overlap both writes of a pair.
 */
TEST_F_TIMEOUT(cgsig, stop_cont_pairs_under_fork_leave_none_stopped, 300)
{
	long deadline;
	int i, n = -1;
	char *bomb;
	pid_t pid;

	pid = start_forkbomb(self->root, self->cg, &bomb, 200, 50);
	ASSERT_GT(pid, 0);
	for (i = 0; i < 500; i++) {
		ASSERT_EQ(0, sig_write(bomb, "19"));
		ASSERT_EQ(0, sig_write(bomb, "18"));
	}
	/* SIGCONT wakes a stopped process at once; /proc may lag a little. */
	deadline = now_ms() + 2000;
	do {
		n = nr_procs_stopped(bomb);
		if (n)
			usleep(20000);
	} while (n && now_ms() < deadline);
	ASSERT_EQ(0, n) TH_LOG("%d processes left stopped after the last SIGCONT", n);

	ASSERT_EQ(0, sig_write(bomb, "9"));
	ASSERT_EQ(0, wait_unpopulated(bomb));
	free(bomb);
}

/* One SIGTERM write ends a running forkbomb entirely. */
TEST_F_TIMEOUT(cgsig, forkbomb_gone_after_one_sigterm, 120)
{
	char *bomb;
	pid_t pid;

	pid = start_forkbomb(self->root, self->cg, &bomb, 200, 50);
	ASSERT_GT(pid, 0);

	ASSERT_EQ(0, sig_write(bomb, "15"));
	ASSERT_EQ(0, wait_unpopulated(bomb)) TH_LOG("%ld processes escaped",
						    nr_lines(bomb, "cgroup.procs"));
	ASSERT_TRUE(reaped_by(pid, SIGTERM));
	free(bomb);
}

/* Blocks SIGRTMIN+6 (40), then counts what is queued once the test says go. */
static int rt_queue_counter(const char *cg, void *arg)
{
	struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };
	siginfo_t si;
	sigset_t set;
	int n = 0;

	my_slot = 0;
	sigemptyset(&set);
	sigaddset(&set, 40);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return 100;
	set_ready();
	while (!__atomic_load_n(&slots[0].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	while (sigtimedwait(&set, &si, &ts) == 40) {
		if (si.si_code != SI_USER)
			return 101;
		n++;
	}
	return n;
}

/* A real-time signal queues like kill(2): written twice, received twice. */
TEST_F_TIMEOUT(cgsig, rt_signal_written_twice_is_received_twice, 120)
{
	int status;
	pid_t pid;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	pid = cg_run_nowait(self->cg, rt_queue_counter, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));

	ASSERT_EQ(0, sig_write(self->cg, "40"));
	ASSERT_EQ(0, sig_write(self->cg, "40"));
	__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(2, WEXITSTATUS(status));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * In a frozen cgroup a handled signal waits for the thaw (the handler runs
 * only then), while a fatal one acts at once, as kill(2) does.
 */
TEST_F_TIMEOUT(cgsig, frozen_cgroup_handles_after_thaw_dies_at_once, 120)
{
	pid_t pids[3];
	int i;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	for (i = 0; i < 3; i++) {
		pids[i] = cg_run_nowait(self->cg, usr1_counter, (void *)(long)(i | 1 << 8));
		ASSERT_GT(pids[i], 0);
		ASSERT_EQ(0, wait_ready(i));
	}
	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "1"));
	ASSERT_EQ(0, cg_read_strcmp_wait(self->cg, "cgroup.events", "populated 1\nfrozen 1\n"));

	ASSERT_EQ(0, sig_write(self->cg, "10"));
	usleep(300000);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, slots[i].count) TH_LOG("handler ran while frozen");
	ASSERT_EQ(0, cg_read_strcmp(self->cg, "cgroup.events", "populated 1\nfrozen 1\n"));

	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "0"));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, wait_count(i, 1));
		ASSERT_TRUE(alive(pids[i]));
	}

	ASSERT_EQ(0, cg_write(self->cg, "cgroup.freeze", "1"));
	ASSERT_EQ(0, cg_read_strcmp_wait(self->cg, "cgroup.events", "populated 1\nfrozen 1\n"));
	ASSERT_EQ(0, sig_write(self->cg, "15"));
	ASSERT_EQ(0, wait_unpopulated(self->cg));
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(reaped_by(pids[i], SIGTERM));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/* Handles SIGUSR1 in slot 0, then forks on the test's go; the child uses slot 1. */
static int usr1_then_fork(const char *cg, void *arg)
{
	pid_t pid;

	my_slot = 0;
	if (handle(SIGUSR1))
		return 1;
	set_ready();
	while (!__atomic_load_n(&slots[0].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		my_slot = 1;
		set_ready();
	}
	for (;;)
		pause();
	return 0;
}

/*
 * A process forked after the write returned, by a process that got the
 * signal, does not get it: the record only reaches forks that overlap a
 * write.
 */
TEST_F_TIMEOUT(cgsig, fork_after_write_does_not_get_signal, 120)
{
	pid_t pid;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	pid = cg_run_nowait(self->cg, usr1_then_fork, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));

	ASSERT_EQ(0, sig_write(self->cg, "10"));
	ASSERT_EQ(0, wait_count(0, 1));
	__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, wait_ready(1));
	ASSERT_EQ(0, wait_nr_procs(self->cg, 2));
	usleep(300000);
	EXPECT_EQ(1, slots[0].count);
	EXPECT_EQ(0, slots[1].count);
	ASSERT_TRUE(alive(pid));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * Input fuzzing.
 *
 * model_parse() is a strict reading of what cgroup.signal accepts, written
 * independently of the kernel's parser: the buffer up to its first NUL
 * byte, less leading and trailing whitespace (the kernel's isspace(),
 * Latin-1, so 0xa0 too), must be one optionally signed decimal, 0x-hex or
 * 0-octal integer, else EINVAL; a number that does not fit in an int is
 * ERANGE, and so, as with kstrtoint(), is a run of digits past 64 bits even
 * with garbage after it.
 * Returns the value, or -EINVAL / -ERANGE in *err.
 */
static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' ||
	       c == 0xa0;
}

static int digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

static long long model_parse(const unsigned char *b, size_t len, int *err)
{
	size_t i = 0, end, start;
	unsigned long long v = 0;
	bool neg = false, overflow = false;
	unsigned int radix = 10;

	*err = 0;
	for (end = 0; end < len && b[end]; end++)
		;
	while (i < end && is_ws(b[i]))
		i++;
	while (end > i && is_ws(b[end - 1]))
		end--;
	if (i < end && (b[i] == '+' || b[i] == '-'))
		neg = b[i++] == '-';
	if (end - i >= 3 && b[i] == '0' && (b[i + 1] == 'x' || b[i + 1] == 'X') &&
	    digit_value(b[i + 2]) < 16) {
		radix = 16;
		i += 2;
	} else if (i < end && b[i] == '0') {
		radix = 8;
	}
	start = i;
	for (; i < end && digit_value(b[i]) < radix; i++) {
		if (v > (ULLONG_MAX - digit_value(b[i])) / radix)
			overflow = true;
		v = v * radix + digit_value(b[i]);
	}
	if (i == start) {
		*err = EINVAL;
		return 0;
	}
	if (overflow) {
		*err = ERANGE;
		return 0;
	}
	if (i != end) {
		*err = EINVAL;
		return 0;
	}
	if (v > (unsigned long long)INT_MAX + neg) {
		*err = ERANGE;
		return 0;
	}
	return neg ? -(long long)v : (long long)v;
}

/* The model's verdict on a write: 0 if it names a signal, else the errno. */
static int model_errno(const unsigned char *b, size_t len)
{
	long long v;
	int err;

	v = model_parse(b, len, &err);
	if (err)
		return err;
	return v >= 1 && v <= SIGRTMAX ? 0 : EINVAL;
}

static unsigned long long rng_state;

static unsigned int rnd(unsigned int n)
{
	/* xorshift64*: deterministic from the seed, which is logged */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned int)((rng_state * 2685821657736338717ULL) >> 32) % n;
}

/* One fuzz input in @b, its length returned: mostly near-misses of numbers. */
static size_t fuzz_input(unsigned char *b, size_t max)
{
	static const char alphabet[] = " \t\n\v\f\r+-0123456789xXabcdefABCDEF.,e_";
	static const char * const prefixes[] = { "", "-", "+", " ", "\t-" };
	static const char * const radixes[] = { "", "0x" };
	static const unsigned long long not_signals[] = {
		0, 65, 128, 1000, 4294967305ULL, 2147483648ULL,
	};
	static const char * const suffixes[] = { "", "\n", "\t\n", "\r\n" };
	static const unsigned char garbage[] = { 0, 'x', '.', '-', '+', 0xff, 'k', '9' };
	static const char * const tokens[] = { "0", "65", "-1", "x", "9 9", "" };
	size_t len, i;

	switch (rnd(6)) {
	case 0:		/* random bytes, any value */
		len = 1 + rnd(64);
		for (i = 0; i < len; i++)
			b[i] = rnd(256);
		return len;
	case 1:		/* random characters of numbers and whitespace */
		len = 1 + rnd(24);
		for (i = 0; i < len; i++)
			b[i] = alphabet[rnd(sizeof(alphabet) - 1)];
		return len;
	case 2:		/* a number that is not a signal, maybe signed or prefixed */
		return snprintf((char *)b, max, "%s%s%llu%s",
				prefixes[rnd(ARRAY_SIZE(prefixes))],
				radixes[rnd(ARRAY_SIZE(radixes))],
				not_signals[rnd(ARRAY_SIZE(not_signals))] + rnd(3),
				suffixes[rnd(ARRAY_SIZE(suffixes))]);
	case 3:		/* a signal number with garbage somewhere */
		len = snprintf((char *)b, max, "%u", 1 + rnd(64));
		i = rnd(len + 1);
		memmove(b + i + 1, b + i, len - i);
		b[i] = garbage[rnd(ARRAY_SIZE(garbage))];
		return len + 1;
	case 4:		/* long runs of digits: overflow */
		len = 10 + rnd(60);
		for (i = 0; i < len; i++)
			b[i] = '1' + rnd(9);
		if (rnd(2))
			b[len++] = 'z';
		return len;
	default:	/* long whitespace around a bad token, up to a page */
		len = rnd(max - 8);
		memset(b, " \t\n"[rnd(3)], len);
		len += snprintf((char *)b + len, max - len, "%s",
				tokens[rnd(ARRAY_SIZE(tokens))]);
		return len ? len : 1;
	}
}

/* Handles every catchable signal, counting into slot (long)arg; 3 threads. */
static int any_signal_counter(const char *cg, void *arg)
{
	pthread_t t;
	int sig, i;

	my_slot = (long)arg;
	for (sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* glibc keeps a few real-time signals for itself */
		if (handle(sig) && !(sig >= 32 && sig < SIGRTMIN))
			return 1;
	}
	for (i = 0; i < 2; i++)
		if (pthread_create(&t, NULL, thread_sleep, NULL))
			return 1;
	set_ready();
	for (;;)
		pause();
	return 0;
}

/*
 * Tens of thousands of random writes, each refused by a strict reading of
 * the input: every one fails with the model's errno (EINVAL or ERANGE), at
 * any file offset, and nothing is signalled. CGSIG_FUZZ_SEED replays a run.
 */
TEST_F_TIMEOUT(cgsig, fuzz_random_writes_are_refused, 600)
{
	unsigned char buf[4096 + 64];
	char path[PATH_MAX + 16];
	const char *env = getenv("CGSIG_FUZZ_SEED");
	int fd, writes = 0, wrong = 0, skipped = 0, i;
	pid_t pids[2];

	rng_state = env ? strtoull(env, NULL, 0) : (unsigned long long)time(NULL) * 2654435761ULL;
	if (!rng_state)
		rng_state = 1;
	TH_LOG("seed %llu (CGSIG_FUZZ_SEED to replay)", rng_state);

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	for (i = 0; i < 2; i++) {
		pids[i] = cg_run_nowait(self->cg, any_signal_counter, (void *)(long)i);
		ASSERT_GT(pids[i], 0);
		ASSERT_EQ(0, wait_ready(i));
	}

	snprintf(path, sizeof(path), "%s/cgroup.signal", self->cg);
	fd = open(path, O_WRONLY);
	ASSERT_GE(fd, 0);
	while (writes < 50000) {
		size_t len = fuzz_input(buf, 4096);
		off_t off = rnd(4) ? 0 : rnd(1 << 20);
		int expect = model_errno(buf, len);
		ssize_t ret;

		if (!expect || len > 4096) {
			skipped++;	/* a valid signal: not for this test */
			continue;
		}
		ret = pwrite(fd, buf, len, off);
		writes++;
		if (ret == -1 && errno == expect)
			continue;
		if (wrong++ < 5)
			TH_LOG("input of %zu bytes \"%.*s\": %zd/%d, expected errno %d", len,
			       (int)(len > 40 ? 40 : len), buf, ret, ret < 0 ? errno : 0, expect);
	}
	close(fd);
	TH_LOG("%d writes refused as expected, %d wrong, %d valid inputs skipped",
	       writes - wrong, wrong, skipped);
	ASSERT_EQ(0, wrong);

	usleep(300000);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, slots[i].count) TH_LOG("process %d was signalled", i);
		ASSERT_TRUE(alive(pids[i]));
		ASSERT_TRUE(all_threads_in_state(pids[i], 'S'));
	}
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * Permission matrix: who may signal what, compared with cgroup.kill. Each
 * attempt writes "10" (SIGUSR1, fatal by default) to cgroup.signal, then "1"
 * to cgroup.kill of the same cgroup, and records both errnos in a slot.
 */
struct attempt {
	const char *cg;
	int slot;
};

static int try_both(void *arg)
{
	struct attempt *a = arg;

	slots[a->slot].code = -sig_write(a->cg, "10");
	slots[a->slot].pid = -cg_write(a->cg, "cgroup.kill", "1");
	return 0;
}

/* Inside a cgroup namespace rooted at @a[0].cg: try @a[0] and @a[1]. */
static int in_cgroupns(void *arg)
{
	struct attempt *a = arg;

	if (cg_enter_current(a[0].cg) || unshare(CLONE_NEWCGROUP))
		return 1;
	try_both(&a[0]);
	try_both(&a[1]);
	return 0;
}

/* As root of a new user namespace owned by nobody: try @a[0] and @a[1]. */
static int in_userns(void *arg)
{
	char map[] = "0 65534 1";
	struct attempt *a = arg;
	char path[64];

	/* Changing uid made us undumpable: /proc/self would be root's. */
	if (prctl(PR_SET_DUMPABLE, 1) || unshare(CLONE_NEWUSER))
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/setgroups", getpid());
	if (write_text(path, "deny", 4) != 4)
		return 2;
	snprintf(path, sizeof(path), "/proc/%d/uid_map", getpid());
	if (write_text(path, map, strlen(map)) != (ssize_t)strlen(map))
		return 3;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", getpid());
	if (write_text(path, map, strlen(map)) != (ssize_t)strlen(map))
		return 4;
	try_both(&a[0]);
	try_both(&a[1]);
	return 0;
}

/* Run @fn(@arg) in a child, as root; its exit status. */
static int as_root_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The cgroup2 mount's super options (from mountinfo) of @root, in @opts. */
static int cg2_options(const char *root, char *opts, size_t len)
{
	char line[4096], mnt[PATH_MAX], *sep;
	int ret = -1;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, root))
			continue;
		sep = strstr(line, " - cgroup2 ");
		if (!sep || sscanf(sep, " - cgroup2 %*s %1023s", opts) != 1)
			continue;
		opts[len - 1] = 0;
		ret = 0;
	}
	fclose(f);
	return ret;
}

/*
 * Who may signal what, and that cgroup.signal always answers as cgroup.kill
 * does (cgroup-v2.rst: "Writing the file is the permission"):
 *   root, any cgroup                              allowed
 *   an unprivileged user, not delegated           EACCES
 *   a delegatee, on sub-cgroups it created        allowed
 *   a delegatee, on the delegation root           EACCES
 *   root in a cgroup namespace (nsdelegate), on
 *   the namespace root / below it                 EPERM / allowed
 *   root of a user namespace mapped to the
 *   delegatee, on its sub-cgroup / the root       allowed / EACCES
 * Two sleepers in each target die from SIGUSR1 exactly where it is allowed.
 */
TEST_F_TIMEOUT(cgsig, permission_matrix_matches_cgroup_kill, 300)
{
	static const char * const delegated[] = {
		"", "/cgroup.procs", "/cgroup.threads", "/cgroup.subtree_control",
	};
	char *rootcg, *plain, *deleg, *dsub, *nsroot, *nssub, *uroot, *usub, path[PATH_MAX];
	char opts[1024], nsopts[1100];
	struct attempt a[10];
	pid_t pids[10][2];
	bool remounted = false;
	const struct {
		const char *who;
		int err;
	} expect[10] = {
		{ "root", 0 },
		{ "nobody, not delegated", EACCES },
		{ "delegatee, own sub-cgroup", 0 },
		{ "delegatee, delegation root", EACCES },
		{ "cgroupns root, nsdelegate", EPERM },
		{ "cgroupns, below its root", 0 },
		{ "userns root, delegated sub-cgroup", 0 },
		{ "userns root, delegation root", EACCES },
	};
	size_t i;
	int j;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	rootcg = mkcg(self->cg, "root");
	plain = mkcg(self->cg, "plain");
	deleg = mkcg(self->cg, "deleg");
	nsroot = mkcg(self->cg, "nsroot");
	uroot = mkcg(self->cg, "uroot");
	ASSERT_TRUE(rootcg && plain && deleg && nsroot && uroot);
	nssub = mkcg(nsroot, "sub");
	ASSERT_NE(NULL, nssub);
	for (i = 0; i < ARRAY_SIZE(delegated); i++) {
		snprintf(path, sizeof(path), "%s%s", deleg, delegated[i]);
		ASSERT_EQ(0, chown(path, NOBODY, NOBODY));
		snprintf(path, sizeof(path), "%s%s", uroot, delegated[i]);
		ASSERT_EQ(0, chown(path, NOBODY, NOBODY));
	}
	dsub = cg_name(deleg, "sub");
	usub = cg_name(uroot, "sub");
	ASSERT_TRUE(dsub && usub);
	ASSERT_EQ(0, as_nobody(nobody_mkdir, dsub));
	ASSERT_EQ(0, as_nobody(nobody_mkdir, usub));

	a[0] = (struct attempt){ rootcg, 0 };
	a[1] = (struct attempt){ plain, 1 };
	a[2] = (struct attempt){ dsub, 2 };
	a[3] = (struct attempt){ deleg, 3 };
	a[4] = (struct attempt){ nsroot, 4 };
	a[5] = (struct attempt){ nssub, 5 };
	a[6] = (struct attempt){ usub, 6 };
	a[7] = (struct attempt){ uroot, 7 };
	for (j = 0; j < 8; j++)
		ASSERT_EQ(0, spawn(a[j].cg, 2, pids[j]));

	/* nsdelegate is a property of the whole mount, set from the init namespace. */
	ASSERT_EQ(0, cg2_options(self->root, opts, sizeof(opts)));
	if (!strstr(opts, "nsdelegate")) {
		snprintf(nsopts, sizeof(nsopts), "%s,nsdelegate", opts);
		ASSERT_EQ(0, mount("none", self->root, NULL, MS_REMOUNT, nsopts));
		remounted = true;
	}

	EXPECT_EQ(0, as_nobody(try_both, &a[1]));
	EXPECT_EQ(0, as_nobody(try_both, &a[3]));
	EXPECT_EQ(0, as_nobody(try_both, &a[2]));
	EXPECT_EQ(0, as_root_child(in_cgroupns, &a[4]));
	EXPECT_EQ(0, as_nobody(in_userns, &a[6])) TH_LOG("user namespace set-up failed");
	try_both(&a[0]);

	if (remounted)
		EXPECT_EQ(0, mount("none", self->root, NULL, MS_REMOUNT, opts));

	for (j = 0; j < 8; j++) {
		ASSERT_EQ(expect[j].err, slots[j].code)
			TH_LOG("cgroup.signal, %s: errno %d", expect[j].who, slots[j].code);
		ASSERT_EQ(slots[j].pid, slots[j].code)
			TH_LOG("%s: cgroup.kill says %d, cgroup.signal %d", expect[j].who,
			       slots[j].pid, slots[j].code);
		/* Allowed: killed by cgroup.signal's SIGUSR1, which came first. */
		if (expect[j].err) {
			ASSERT_TRUE(alive(pids[j][0]) && alive(pids[j][1]))
				TH_LOG("%s", expect[j].who);
		} else {
			ASSERT_EQ(0, wait_unpopulated(a[j].cg)) TH_LOG("%s", expect[j].who);
			ASSERT_TRUE(reaped_by(pids[j][0], SIGUSR1)) TH_LOG("%s", expect[j].who);
			ASSERT_TRUE(reaped_by(pids[j][1], SIGUSR1));
		}
	}
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(rootcg);
	free(plain);
	free(deleg);
	free(dsub);
	free(nsroot);
	free(nssub);
	free(uroot);
	free(usub);
}

/*
 * Review findings, and cases that can fail.
 *
 * The counting cases below handle SIGRTMIN + 6: a real-time signal queues
 * one instance per send, so a second delivery shows up as a second count.
 */
#define RTSIG 40
#define RTSIG_STR "40"

/* Wait until the leader of @pid has exited, a zombie while its threads live. */
static int wait_leader_exited(pid_t pid)
{
	long deadline = now_ms() + WAIT_MS;

	while (now_ms() < deadline) {
		if (proc_state(pid) == 'Z')
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * Finding 1: a process whose leader called pthread_exit() while its other
 * threads live on is moved to b through cgroup.procs. Its zombie leader stays
 * behind in a, but the process lives in b: writing b must kill it.
 */
TEST_F_TIMEOUT(cgsig, finding1_moved_leaderless_process, 120)
{
	char *a, *b;
	pid_t pid;

	a = mkcg(self->cg, "a");
	b = mkcg(self->cg, "b");
	ASSERT_TRUE(a && b);
	pid = cg_run_nowait(a, threaded_proc, (void *)-3L);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_leader_exited(pid));
	ASSERT_EQ(0, wait_nr_threads(a, 3));
	ASSERT_EQ(0, cg_write_numeric(b, "cgroup.procs", pid));
	ASSERT_EQ(3, nr_lines(b, "cgroup.threads"));
	ASSERT_EQ(0, nr_lines(a, "cgroup.threads"));
	ASSERT_EQ(0, cg_read_strcmp(b, "cgroup.events", "populated 1\nfrozen 0\n"));

	ASSERT_EQ(0, kill_write(b, "9"));
	ASSERT_EQ(0, wait_unpopulated(b))
		TH_LOG("the moved process survived: %ld threads left in b",
		       nr_lines(b, "cgroup.threads"));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	free(a);
	free(b);
}

/*
 * Finding 1, the other way round: a, left with only the zombie leader of a
 * process that now lives in b, holds no process (it is not even populated).
 * Writing a signals nothing; writing b reaches the process, once.
 */
TEST_F_TIMEOUT(cgsig, finding1_zombie_leader_left_behind_gets_nothing, 120)
{
	char *a, *b;
	int before;
	pid_t pid;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	a = mkcg(self->cg, "a");
	b = mkcg(self->cg, "b");
	ASSERT_TRUE(a && b);
	pid = cg_run_nowait(a, usr1_counter, COUNTER(0, 3, 1, RTSIG));
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));
	ASSERT_EQ(0, wait_leader_exited(pid));
	ASSERT_EQ(0, cg_write_numeric(b, "cgroup.procs", pid));
	ASSERT_EQ(3, nr_lines(b, "cgroup.threads"));
	ASSERT_EQ(0, cg_read_strcmp(a, "cgroup.events", "populated 0\nfrozen 0\n"));

	ASSERT_EQ(0, sig_write(a, RTSIG_STR));
	usleep(300000);
	EXPECT_EQ(0, slots[0].count)
		TH_LOG("signalled through a, which holds only its zombie leader");

	before = slots[0].count;
	ASSERT_EQ(0, sig_write(b, RTSIG_STR));
	EXPECT_EQ(0, wait_count(0, before + 1))
		TH_LOG("writing b, where the process lives, did not reach it");
	usleep(300000);
	EXPECT_EQ(before + 1, slots[0].count);
	ASSERT_TRUE(alive(pid));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(a);
	free(b);
}

static int *pid_counts;		/* deliveries of RTSIG, indexed by pid */
static long pid_max;

static void count_by_pid(int sig, siginfo_t *si, void *uc)
{
	__atomic_fetch_add(&pid_counts[getpid()], 1, __ATOMIC_SEQ_CST);
}

static int handle_by_pid(int sig)
{
	struct sigaction sa = {
		.sa_sigaction = count_by_pid,
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/*
 * SLEEPERS(n, threads, counts): n processes in @cg, this one and n - 1
 * children, each with @threads more threads, all sleeping; if @counts, each
 * counts RTSIG by pid.
 */
#define SLEEPERS(n, threads, counts) \
	((void *)((long)(n) | (long)(threads) << 12 | (long)(counts) << 24))

static int sleepers(const char *cg, void *arg)
{
	long a = (long)arg, i;
	pthread_t t;

	if ((a >> 24) && handle_by_pid(RTSIG))
		return 1;
	for (i = 1; i < (a & 0xfff); i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			break;
	}
	for (i = 0; i < ((a >> 12) & 0xfff); i++)
		if (pthread_create(&t, NULL, thread_sleep, NULL))
			return 1;
	for (;;)
		pause();
	return 0;
}

/* Slot 0 of a forker: its forking thread's tid in pid; slot 1: forks in count. */
#define FORKER_COUNTS 0x100000L	/* count RTSIG by pid */

/*
 * Once slot 0 says go, forks until slot 0 says stop. The children sleep. With
 * @arg 0 only the 32 newest children live (the thread kills older ones), so
 * that forks go on at any rate; otherwise it stops after @arg forks.
 */
static void *fork_loop(void *arg)
{
	long max = (long)arg, n = 0;
	pid_t ring[32] = { 0 }, pid, old;

	__atomic_store_n(&slots[0].pid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	set_ready();
	while (!__atomic_load_n(&slots[0].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	while (!__atomic_load_n(&slots[0].stop, __ATOMIC_SEQ_CST) && (!max || n < max)) {
		pid = fork();
		if (pid == 0)
			for (;;)
				pause();
		if (pid < 0) {
			usleep(1000);
			continue;
		}
		__atomic_fetch_add(&slots[1].count, 1, __ATOMIC_SEQ_CST);
		if (!max) {
			/* Reaped later: the thread goes on forking at once. */
			old = ring[n % 32];
			if (old > 0)
				kill(old, SIGKILL);
			ring[n % 32] = pid;
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		n++;
	}
	for (;;)
		pause();
	return NULL;
}

/* A process whose second thread runs fork_loop(@arg & 0xfffff). */
static int forker(const char *cg, void *arg)
{
	long a = (long)arg;
	pthread_t t;

	my_slot = 0;
	if ((a & FORKER_COUNTS) && handle_by_pid(RTSIG))
		return 1;
	if (pthread_create(&t, NULL, fork_loop, (void *)(a & 0xfffff)))
		return 1;
	for (;;)
		pause();
	return 0;
}

/*
 * Finding 2: A is a threaded domain with threaded children t1 and t2. A
 * process has its leader in t2 and a second thread in A that forks without
 * pause (its children land in A); 100 processes of 5 threads sleep in t1, so
 * that the walk is long and lets forks through between its batches. One
 * SIGKILL write to A must leave nothing alive anywhere below A, however the
 * forks fall. Twenty rounds.
 */
TEST_F_TIMEOUT(cgsig, finding2_fork_escape_threaded, 600)
{
	char *A, *t1, *t2;
	pid_t pid, fan;
	int round;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	A = mkcg(self->cg, "A");
	ASSERT_NE(NULL, A);
	t1 = mkcg(A, "t1");
	t2 = mkcg(A, "t2");
	ASSERT_TRUE(t1 && t2);
	ASSERT_EQ(0, cg_write(t1, "cgroup.type", "threaded"));
	ASSERT_EQ(0, cg_write(t2, "cgroup.type", "threaded"));

	for (round = 0; round < 20; round++) {
		memset(slots, 0, NR_SLOTS * sizeof(struct slot));
		fan = cg_run_nowait(t1, sleepers, SLEEPERS(100, 4, 0));
		ASSERT_GT(fan, 0);
		/* A threaded cgroup's cgroup.procs cannot be read: count threads. */
		ASSERT_EQ(0, wait_nr_threads(t1, 100 * 5));
		pid = cg_run_nowait(A, forker, (void *)0L);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(0, wait_ready(0));
		ASSERT_EQ(0, cg_write_numeric(t2, "cgroup.threads", pid));
		ASSERT_EQ(1, nr_lines(t2, "cgroup.threads"));
		__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
		/* Forks are under way: the write must race with them. */
		ASSERT_EQ(0, wait_count(1, 40));

		ASSERT_EQ(0, kill_write(A, "9"));
		usleep(100000);
		ASSERT_EQ(0, wait_unpopulated(A))
			TH_LOG("round %d: %ld processes survived (threads: A %ld, t1 %ld, t2 %ld)",
			       round, nr_lines(A, "cgroup.procs"),
			       nr_lines(A, "cgroup.threads"), nr_lines(t1, "cgroup.threads"),
			       nr_lines(t2, "cgroup.threads"));
		ASSERT_TRUE(reaped_by(pid, SIGKILL));
		ASSERT_TRUE(reaped_by(fan, SIGKILL));
	}
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(A);
	free(t1);
	free(t2);
}

/* The pids listed in @cg's cgroup.procs, appended to @pids (at most @max). */
static int read_pids(const char *cg, pid_t *pids, int n, int max)
{
	char buf[65536], *line, *save;

	if (read_all(cg, "cgroup.procs", buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save))
		pids[n++] = atoi(line);
	return n;
}

static int *map_pid_counts(void)
{
	char buf[32];
	void *p;

	if (read_text("/proc/sys/kernel/pid_max", buf, sizeof(buf)) <= 0)
		return NULL;
	pid_max = atol(buf);
	p = mmap(NULL, pid_max * sizeof(int), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * One round: a forker whose leader is in @lead and whose forking thread is in
 * @fork (the same cgroup, or a threaded child of it), then 100 sleepers in
 * @lead, after the forker in the walk, every process counting RTSIG by pid.
 * One write to @lead while the forks are under way: no process may count the
 * signal twice, and each one that was there before the write (all stay) must
 * count it exactly once. The sleepers make the walk long after the forker is
 * signalled, so that a child forked meanwhile runs its handler before the
 * walk is done.
 */
static void double_delivery_round(struct __test_metadata *_metadata, const char *lead,
				  const char *fork, int round)
{
	pid_t before[2048], pid, fan;
	int nr, i, doubles = 0;
	long p;

	pid_counts = map_pid_counts();
	ASSERT_NE(NULL, pid_counts);
	memset(slots, 0, NR_SLOTS * sizeof(struct slot));
	pid = cg_run_nowait(lead, forker, (void *)(FORKER_COUNTS | 1500));
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));
	if (strcmp(lead, fork))
		ASSERT_EQ(0, cg_write_numeric(fork, "cgroup.threads", slots[0].pid));
	fan = cg_run_nowait(lead, sleepers, SLEEPERS(100, 0, 1));
	ASSERT_GT(fan, 0);
	ASSERT_EQ(0, wait_nr_procs(lead, 101));
	__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, wait_count(1, 20));
	/* A threaded domain's cgroup.procs lists its whole threaded subtree. */
	nr = read_pids(lead, before, 0, ARRAY_SIZE(before));
	ASSERT_GT(nr, 120);

	ASSERT_EQ(0, sig_write(lead, RTSIG_STR));
	__atomic_store_n(&slots[0].stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < nr; i++) {
		long deadline = now_ms() + WAIT_MS;

		while (!__atomic_load_n(&pid_counts[before[i]], __ATOMIC_SEQ_CST) &&
		       now_ms() < deadline)
			usleep(1000);
	}
	usleep(500000);
	for (p = 1; p < pid_max; p++) {
		if (pid_counts[p] <= 1)
			continue;
		if (doubles++ < 5)
			TH_LOG("round %d: pid %ld got the signal %d times", round, p,
			       pid_counts[p]);
	}
	for (i = 0; i < nr; i++)
		EXPECT_EQ(1, pid_counts[before[i]])
			TH_LOG("round %d: pid %d, there before the write", round, before[i]);
	ASSERT_EQ(0, doubles) TH_LOG("round %d: %d processes got it more than once",
				     round, doubles);

	ASSERT_EQ(0, cg_write(lead, "cgroup.kill", "1"));
	ASSERT_EQ(0, wait_unpopulated(lead));
	ASSERT_TRUE(reaped_by(pid, SIGKILL));
	ASSERT_TRUE(reaped_by(fan, SIGKILL));
	munmap(pid_counts, pid_max * sizeof(int));
}

/*
 * Finding 3: a process with its leader in threaded domain A and a thread
 * forking in A's threaded child t. Each process, the forked ones included
 * (they inherit the handler), counts the handled signal written to A once,
 * never twice, whichever side of the write its fork falls on. Five rounds.
 */
TEST_F_TIMEOUT(cgsig, finding3_double_delivery_under_fork, 600)
{
	char *A, *t;
	int round;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	A = mkcg(self->cg, "A");
	ASSERT_NE(NULL, A);
	t = mkcg(A, "t");
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, cg_write(t, "cgroup.type", "threaded"));
	for (round = 0; round < 5; round++)
		double_delivery_round(_metadata, A, t, round);
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(A);
	free(t);
}

/* The same in one plain cgroup: a fork in flight gets the signal once. */
TEST_F_TIMEOUT(cgsig, finding3_no_double_delivery_under_fork_plain, 600)
{
	int round;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	for (round = 0; round < 5; round++)
		double_delivery_round(_metadata, self->cg, self->cg, round);
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * Children forked while a write runs by a process that the write has already
 * signalled, but that blocks the signal: the signal stays pending in the
 * parent, so the forks go on and nothing hands it down (a child inherits
 * only what was sent during its own fork). Each such child must get it from
 * the write itself, once it is linked to its cgroup, also when the walk has
 * left that cgroup behind.
 */
#define NR_BIRTHS 1500

struct birth {
	int pid;
	long ns;		/* CLOCK_MONOTONIC after fork() returned in the parent */
};

static struct birth *births;	/* slot 1's count says how many */

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Wait for the release (a futex in shared memory), then take what is pending. */
static void unblock_when_released(int sig)
{
	int *word = &slots[2].go;
	sigset_t set;

	while (!__atomic_load_n(word, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, word, FUTEX_WAIT, 0, NULL, NULL, 0);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void release_all(void)
{
	__atomic_store_n(&slots[2].go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &slots[2].go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Forks until slot 0 says stop (or NR_BIRTHS), noting each birth. */
static void *blocked_fork_loop(void *arg)
{
	int n = 0;
	pid_t pid;

	set_ready();
	while (!__atomic_load_n(&slots[0].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	while (!__atomic_load_n(&slots[0].stop, __ATOMIC_SEQ_CST) && n < NR_BIRTHS) {
		pid = fork();
		if (pid == 0) {
			unblock_when_released(RTSIG);
			for (;;)
				pause();
		}
		if (pid < 0) {
			usleep(1000);
			continue;
		}
		births[n].ns = now_ns();
		births[n].pid = pid;
		__atomic_store_n(&slots[1].count, ++n, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&slots[0].acked, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

/* Count @sig by pid, but block it (in every thread created from now on). */
static int count_but_block(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	return handle_by_pid(sig) || sigprocmask(SIG_BLOCK, &set, NULL) ? -1 : 0;
}

/* Counts RTSIG by pid but blocks it until released; a thread forks. */
static int blocked_forker(const char *cg, void *arg)
{
	pthread_t t;

	my_slot = 0;
	if (count_but_block(RTSIG))
		return 1;
	if (pthread_create(&t, NULL, blocked_fork_loop, NULL))
		return 1;
	unblock_when_released(RTSIG);
	for (;;)
		pause();
	return 0;
}

static long *cutoff;		/* shared: see pending_marker() */

/*
 * Counts RTSIG by pid but blocks it until released. Meanwhile it notes in
 * *cutoff the last time at which the signal was not pending yet: the write
 * had not reached it by then. In the cgroup walked last, that is a time
 * before the write ended.
 */
static int pending_marker(const char *cg, void *arg)
{
	sigset_t pend;
	long t;

	my_slot = 3;
	if (count_but_block(RTSIG))
		return 1;
	set_ready();
	for (;;) {
		t = now_ns();
		if (sigpending(&pend))
			return 1;
		if (sigismember(&pend, RTSIG))
			break;
		__atomic_store_n(cutoff, t, __ATOMIC_SEQ_CST);
		usleep(100);
	}
	__atomic_store_n(&slots[3].acked, 1, __ATOMIC_SEQ_CST);
	unblock_when_released(RTSIG);
	for (;;)
		pause();
	return 0;
}

/* Wait until every one of @n pids counts @want, within one WAIT_MS. */
static int wait_counts(const pid_t *pids, int n, int want)
{
	long deadline = now_ms() + WAIT_MS;
	int i = 0;

	while (i < n) {
		if (__atomic_load_n(&pid_counts[pids[i]], __ATOMIC_SEQ_CST) >= want) {
			i++;
			continue;
		}
		if (now_ms() > deadline)
			return -1;
		usleep(1000);
	}
	return 0;
}

/*
 * A process in a, the first cgroup of the walk, blocks a handled real-time
 * signal and forks without pause; 150 processes of 5 threads in b, walked
 * after a, make the walk long; a marker in c, walked last, notes until when
 * the write had not reached it. One write to the parent per round: every
 * process whose fork returned before that time (so before the write ended)
 * must count the signal exactly once when it unblocks it, and none more than
 * once. Ten rounds; some children must have been born between the start of
 * the write and that time.
 */
TEST_F_TIMEOUT(cgsig, forked_while_parent_blocks_signal_gets_it_once, 600)
{
	int round, i, n, nr, covered, during = 0, after = 0;
	pid_t pid, marker, fan, fans[150], kids[NR_BIRTHS];
	char *a, *b, *c;
	long start, cut;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	births = mmap(NULL, NR_BIRTHS * sizeof(*births), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, births);
	cutoff = mmap(NULL, sizeof(*cutoff), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cutoff);
	pid_counts = map_pid_counts();
	ASSERT_NE(NULL, pid_counts);
	/* Walk order: the written cgroup, then its children as created. */
	a = mkcg(self->cg, "a");
	b = mkcg(self->cg, "b");
	c = mkcg(self->cg, "c");
	ASSERT_TRUE(a && b && c);
	fan = cg_run_nowait(b, sleepers, SLEEPERS(150, 4, 1));
	ASSERT_GT(fan, 0);
	ASSERT_EQ(0, wait_nr_threads(b, 150 * 5));
	nr = read_pids(b, fans, 0, ARRAY_SIZE(fans));
	ASSERT_EQ(150, nr);

	for (round = 0; round < 10; round++) {
		memset(slots, 0, NR_SLOTS * sizeof(struct slot));
		memset(births, 0, NR_BIRTHS * sizeof(*births));
		*cutoff = 0;
		marker = cg_run_nowait(c, pending_marker, NULL);
		ASSERT_GT(marker, 0);
		ASSERT_EQ(0, wait_ready(3));
		pid = cg_run_nowait(a, blocked_forker, NULL);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(0, wait_ready(0));
		__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
		/* Forks are under way: the write must race with them. */
		ASSERT_EQ(0, wait_count(1, 20));

		start = now_ns();
		ASSERT_EQ(0, sig_write(self->cg, RTSIG_STR));
		__atomic_store_n(&slots[0].stop, 1, __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, wait_slot(0, offsetof(struct slot, acked), 1));
		ASSERT_EQ(0, wait_slot(3, offsetof(struct slot, acked), 1))
			TH_LOG("round %d: the marker in c never saw the signal pending", round);
		cut = __atomic_load_n(cutoff, __ATOMIC_SEQ_CST);
		n = __atomic_load_n(&slots[1].count, __ATOMIC_SEQ_CST);
		ASSERT_EQ(0, wait_nr_procs(a, 1 + n));
		release_all();

		/* Those there all along, and the children born before the cut. */
		EXPECT_EQ(0, wait_counts(&pid, 1, 1))
			TH_LOG("round %d: the forking parent did not get it", round);
		EXPECT_EQ(0, wait_counts(&marker, 1, 1));
		EXPECT_EQ(0, wait_counts(fans, nr, round + 1))
			TH_LOG("round %d: a sleeper in b missed it", round);
		for (i = covered = 0; i < n; i++) {
			during += births[i].ns > start && births[i].ns < cut;
			after += births[i].ns >= cut;
			if (births[i].ns < cut)
				kids[covered++] = births[i].pid;
		}
		EXPECT_EQ(0, wait_counts(kids, covered, 1));
		/* Give a second delivery time to show up. */
		usleep(300000);
		EXPECT_EQ(1, pid_counts[pid]);
		EXPECT_EQ(1, pid_counts[marker]);
		for (i = 0; i < nr; i++)
			EXPECT_EQ(round + 1, pid_counts[fans[i]]);
		for (i = 0; i < n; i++) {
			int got = pid_counts[births[i].pid];

			if (births[i].ns < cut) {
				EXPECT_EQ(1, got)
					TH_LOG("round %d: pid %d born %ldus into the write got %d",
					       round, births[i].pid,
					       (births[i].ns - start) / 1000, got);
			} else {
				EXPECT_GE(1, got)
					TH_LOG("round %d: pid %d got it %d times", round,
					       births[i].pid, got);
			}
		}
		ASSERT_FALSE(_metadata->exit_code)
			TH_LOG("round %d: %d children born in the first %ldus of writes",
			       round, during, (cut - start) / 1000);

		ASSERT_EQ(0, cg_write(a, "cgroup.kill", "1"));
		ASSERT_EQ(0, cg_write(c, "cgroup.kill", "1"));
		ASSERT_EQ(0, wait_unpopulated(a));
		ASSERT_EQ(0, wait_unpopulated(c));
		ASSERT_TRUE(reaped_by(pid, SIGKILL));
		ASSERT_TRUE(reaped_by(marker, SIGKILL));
		/* The children are the subreaper's, ours, once their parent died. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		pid_counts[pid] = 0;
		pid_counts[marker] = 0;
		for (i = 0; i < n; i++)
			pid_counts[births[i].pid] = 0;
	}
	TH_LOG("%d children born in the covered part of the writes, %d after", during, after);
	/* Else the rounds did not race the forks with the walk at all. */
	ASSERT_GT(during, 0);
	ASSERT_EQ(0, cg_write(b, "cgroup.kill", "1"));
	ASSERT_EQ(0, wait_unpopulated(b));
	ASSERT_TRUE(reaped_by(fan, SIGKILL));
	munmap(births, NR_BIRTHS * sizeof(*births));
	munmap(cutoff, sizeof(*cutoff));
	munmap(pid_counts, pid_max * sizeof(int));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(a);
	free(b);
	free(c);
}

static int go_pipe[2];		/* closed by the test: go */

/*
 * Counts RTSIG in slot (arg & 0xff) with 3 more threads; once go_pipe is
 * closed, the leader waits (arg >> 8) us and calls pthread_exit().
 */
static int exiting_leader(const char *cg, void *arg)
{
	long a = (long)arg;
	pthread_t t;
	char c;
	int i;

	my_slot = a & 0xff;
	close(go_pipe[1]);
	if (handle(RTSIG))
		return 1;
	for (i = 0; i < 3; i++)
		if (pthread_create(&t, NULL, thread_sleep, NULL))
			return 1;
	set_ready();
	if (read(go_pipe[0], &c, 1) != 0)
		return 1;
	usleep(a >> 8);
	pthread_exit(NULL);
	return 0;
}

/*
 * Finding 4: 60 processes of 4 threads whose leaders call pthread_exit() at
 * random moments while writes of a handled signal follow each other (the
 * writer runs SCHED_FIFO so that they do): every process counts exactly one
 * delivery per write. Rounds for about 10 s; CGSIG_SEED replays the random
 * delays.
 */
TEST_F_TIMEOUT(cgsig, finding4_leader_exits_during_write, 300)
{
	const char *env = getenv("CGSIG_SEED");
	struct sched_param fifo = { .sched_priority = 1 }, other = { 0 };
	long end = now_ms() + 10000, stop;
	char path[PATH_MAX + 16];
	int round, writes, i, fd, err = 0;
	pid_t pids[60];

	rng_state = env ? strtoull(env, NULL, 0) : (unsigned long long)time(NULL) * 2654435761ULL;
	if (!rng_state)
		rng_state = 1;
	TH_LOG("seed %llu (CGSIG_SEED to replay)", rng_state);
	slots = map_slots();
	ASSERT_NE(NULL, slots);
	snprintf(path, sizeof(path), "%s/cgroup.signal", self->cg);
	fd = open(path, O_WRONLY);
	ASSERT_GE(fd, 0);

	for (round = 0; round == 0 || now_ms() < end; round++) {
		memset(slots, 0, NR_SLOTS * sizeof(struct slot));
		ASSERT_EQ(0, pipe(go_pipe));
		for (i = 0; i < 60; i++) {
			pids[i] = cg_run_nowait(self->cg, exiting_leader,
						(void *)(long)(i | rnd(30000) << 8));
			ASSERT_GT(pids[i], 0);
		}
		for (i = 0; i < 60; i++)
			ASSERT_EQ(0, wait_ready(i));

		/* Write while the leaders exit, at most 30 times (queued signals). */
		ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &fifo));
		close(go_pipe[1]);
		close(go_pipe[0]);
		stop = now_ms() + 100;
		for (writes = 0; writes < 30 && now_ms() < stop; writes++)
			if (write(fd, RTSIG_STR, strlen(RTSIG_STR)) < 0) {
				err = errno;
				break;
			}
		ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &other));
		ASSERT_EQ(0, err);

		for (i = 0; i < 60; i++)
			EXPECT_EQ(0, wait_count(i, writes));
		usleep(300000);
		for (i = 0; i < 60; i++)
			ASSERT_EQ(writes, slots[i].count)
				TH_LOG("round %d: process %d counted %d of %d writes", round, i,
				       slots[i].count, writes);

		ASSERT_EQ(0, cg_write(self->cg, "cgroup.kill", "1"));
		ASSERT_EQ(0, wait_unpopulated(self->cg));
		for (i = 0; i < 60; i++)
			ASSERT_TRUE(reaped_by(pids[i], SIGKILL));
		TH_LOG("round %d: %d writes, at %ld ms", round, writes, now_ms() - end + 10000);
	}
	TH_LOG("%d rounds", round);
	close(fd);
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/* A pipe that a helper holds locked, and a full socket to splice it into. */
struct pipe_hold {
	int pipe[2];
	int sock[2];
};

/* Splices the pipe into the full socket: blocks in sendmsg, pipe locked. */
static int pipe_holder(const char *cg, void *arg)
{
	struct pipe_hold *h = arg;

	my_slot = 1;
	set_ready();
	splice(h->pipe[0], NULL, h->sock[0], NULL, 4096, 0);
	return 1;
}

static void *exec_sleep(void *arg)
{
	while (!__atomic_load_n(&slots[0].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	execl("/bin/sleep", "sleep", "1000", (char *)NULL);
	return NULL;
}

/* A second thread execs on go; the leader writes to the locked pipe: D. */
static int exec_by_thread(const char *cg, void *arg)
{
	struct pipe_hold *h = arg;
	pthread_t t;

	my_slot = 0;
	if (pthread_create(&t, NULL, exec_sleep, NULL))
		return 1;
	set_ready();
	if (write(h->pipe[1], "x", 1) != 1)
		return 2;
	for (;;)
		pause();
	return 0;
}

/* Does thread @tid of @pid have @sig pending for itself (SigPnd)? */
static bool thread_sig_pending(pid_t pid, pid_t tid, int sig)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strstr(buf, "\nSigPnd:");
	return p && (strtoull(p + 8, NULL, 16) >> (sig - 1)) & 1;
}

/*
 * Finding 5: a non-leader thread execs while the write runs. de_thread()
 * queues SIGKILL on the leader, which stays in the walk until it has exited,
 * and does not end the process: the program it execs carries on. SIGTERM
 * written in that window must still end the process.
 *
 * The window is held open deterministically: the leader is blocked,
 * uninterruptibly (state D), on the mutex of a pipe that a helper outside the
 * cgroup holds while it splices the pipe into a full socket. ptrace cannot do
 * it: the leader dequeues its SIGKILL before it stops at PTRACE_EVENT_EXIT.
 */
TEST_F_TIMEOUT(cgsig, finding5_exec_by_non_leader, 120)
{
	struct pipe_hold h;
	char buf[4096] = { 0 };
	pid_t holder, pid;
	long deadline;
	int fl;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	ASSERT_EQ(0, pipe(h.pipe));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, h.sock));
	ASSERT_EQ(sizeof(buf), write(h.pipe[1], buf, sizeof(buf)));
	fl = fcntl(h.sock[0], F_GETFL);
	ASSERT_EQ(0, fcntl(h.sock[0], F_SETFL, fl | O_NONBLOCK));
	while (write(h.sock[0], buf, sizeof(buf)) > 0)
		;
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(h.sock[0], F_SETFL, fl));

	holder = cg_run_nowait(self->outside, pipe_holder, &h);
	ASSERT_GT(holder, 0);
	ASSERT_EQ(0, wait_ready(1));
	usleep(200000);
	ASSERT_EQ('S', proc_state(holder));

	pid = cg_run_nowait(self->cg, exec_by_thread, &h);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));
	ASSERT_TRUE(wait_state(pid, 'D', WAIT_MS))
		TH_LOG("the pipe's mutex does not hold the leader");

	/* exec: de_thread() queues SIGKILL on the leader and waits for it. */
	__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
	deadline = now_ms() + WAIT_MS;
	while (!thread_sig_pending(pid, pid, SIGKILL) && now_ms() < deadline)
		usleep(10000);
	ASSERT_TRUE(thread_sig_pending(pid, pid, SIGKILL));

	ASSERT_EQ(0, sig_write(self->cg, "15"));
	/* The write ran inside the window. */
	ASSERT_EQ('D', proc_state(pid));
	ASSERT_TRUE(thread_sig_pending(pid, pid, SIGKILL));

	kill(holder, SIGKILL);
	ASSERT_TRUE(reaped_by(holder, SIGKILL));
	deadline = now_ms() + 5000;
	while (alive(pid) && now_ms() < deadline)
		usleep(10000);
	ASSERT_FALSE(alive(pid)) {
		char comm[64] = "?";

		proc_read_text(pid, false, "comm", comm, sizeof(comm));
		TH_LOG("the process survived SIGTERM, running %s", comm);
	}
	ASSERT_TRUE(reaped_by(pid, SIGTERM));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * One process with its threads spread over a threaded domain and its two
 * threaded children (leader in t2, two threads in t1, one in the domain, one
 * in t2): writing the domain reaches it exactly once; writing a threaded
 * child is refused. A process outside sees nothing.
 */
TEST_F_TIMEOUT(cgsig, threads_spread_over_threaded_subtree_once, 120)
{
	char *t1, *t2, path[64];
	pid_t pid, canary, tids[5];
	struct dirent *de;
	int n = 1;
	DIR *dir;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	t1 = mkcg(self->cg, "t1");
	t2 = mkcg(self->cg, "t2");
	ASSERT_TRUE(t1 && t2);
	ASSERT_EQ(0, cg_write(t1, "cgroup.type", "threaded"));
	ASSERT_EQ(0, cg_write(t2, "cgroup.type", "threaded"));
	pid = cg_run_nowait(self->cg, usr1_counter, COUNTER(0, 4, 0, RTSIG));
	ASSERT_GT(pid, 0);
	canary = cg_run_nowait(self->outside, usr1_counter, COUNTER(1, 0, 0, RTSIG));
	ASSERT_GT(canary, 0);
	ASSERT_EQ(0, wait_ready(0));
	ASSERT_EQ(0, wait_ready(1));
	ASSERT_EQ(0, wait_nr_threads(self->cg, 5));

	tids[0] = pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir)) && n < 5)
		if (de->d_name[0] != '.' && atoi(de->d_name) != pid)
			tids[n++] = atoi(de->d_name);
	closedir(dir);
	ASSERT_EQ(5, n);
	ASSERT_EQ(0, cg_write_numeric(t2, "cgroup.threads", tids[0]));
	ASSERT_EQ(0, cg_write_numeric(t1, "cgroup.threads", tids[1]));
	ASSERT_EQ(0, cg_write_numeric(t1, "cgroup.threads", tids[2]));
	ASSERT_EQ(0, cg_write_numeric(t2, "cgroup.threads", tids[4]));
	ASSERT_EQ(1, nr_lines(self->cg, "cgroup.threads"));
	ASSERT_EQ(2, nr_lines(t1, "cgroup.threads"));
	ASSERT_EQ(2, nr_lines(t2, "cgroup.threads"));

	ASSERT_EQ(-EOPNOTSUPP, sig_write(t1, RTSIG_STR));
	ASSERT_EQ(-EOPNOTSUPP, sig_write(t2, RTSIG_STR));
	ASSERT_EQ(0, sig_write(self->cg, RTSIG_STR));
	ASSERT_EQ(0, wait_count(0, 1));
	usleep(300000);
	EXPECT_EQ(1, slots[0].count);
	EXPECT_EQ(0, slots[1].count);
	ASSERT_TRUE(alive(pid));
	ASSERT_TRUE(alive(canary));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(t1);
	free(t2);
}

/*
 * A handled signal and a stop written to victim reach victim and its child,
 * a process of which has lost its leader, and nothing in victim's parent,
 * its sibling or outside: the canaries count 0 and never stop.
 */
TEST_F_TIMEOUT(cgsig, nonfatal_signals_reach_subtree_only, 120)
{
	static const struct {
		int where;	/* 0 parent, 1 victim, 2 child, 3 sibling, 4 outside */
		int leader_exits;
		bool hit;
	} procs[] = {
		{ 0, 0, false }, { 1, 0, true }, { 1, 1, true }, { 2, 0, true },
		{ 2, 1, true }, { 3, 0, false }, { 4, 0, false }, { 4, 1, false },
	};
	char *cgs[5];
	pid_t pids[ARRAY_SIZE(procs)];
	size_t i;
	int nr;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	cgs[0] = self->cg;
	cgs[1] = mkcg(self->cg, "victim");
	ASSERT_NE(NULL, cgs[1]);
	cgs[2] = mkcg(cgs[1], "child");
	cgs[3] = mkcg(self->cg, "sibling");
	cgs[4] = self->outside;
	ASSERT_TRUE(cgs[2] && cgs[3]);
	for (i = 0; i < ARRAY_SIZE(procs); i++) {
		pids[i] = cg_run_nowait(cgs[procs[i].where], usr1_counter,
					COUNTER(i, 2, procs[i].leader_exits, RTSIG));
		ASSERT_GT(pids[i], 0);
		ASSERT_EQ(0, wait_ready(i));
	}

	ASSERT_EQ(0, sig_write(cgs[1], RTSIG_STR));
	for (i = 0; i < ARRAY_SIZE(procs); i++)
		if (procs[i].hit)
			ASSERT_EQ(0, wait_count(i, 1));
	usleep(300000);
	for (i = 0; i < ARRAY_SIZE(procs); i++)
		EXPECT_EQ(procs[i].hit, slots[i].count) TH_LOG("process %zu", i);

	ASSERT_EQ(0, sig_write(cgs[1], "19"));
	ASSERT_EQ(0, wait_all_procs_in_state(cgs[1], 'T', &nr));
	ASSERT_EQ(0, wait_all_procs_in_state(cgs[2], 'T', &nr));
	for (i = 0; i < ARRAY_SIZE(procs); i++)
		if (!procs[i].hit)
			EXPECT_TRUE(all_threads_in_state(pids[i], 'S')) TH_LOG("process %zu", i);
	ASSERT_EQ(0, sig_write(cgs[1], "18"));
	ASSERT_EQ(0, wait_all_procs_in_state(cgs[1], 'S', &nr));
	ASSERT_EQ(0, wait_all_procs_in_state(cgs[2], 'S', &nr));
	for (i = 0; i < ARRAY_SIZE(procs); i++)
		ASSERT_TRUE(alive(pids[i]));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
	free(cgs[1]);
	free(cgs[2]);
	free(cgs[3]);
}

/* Every spelling that kstrtoint() reads as a signal number acts as that signal. */
TEST_F_TIMEOUT(cgsig, valid_inputs_signal_end_to_end, 120)
{
	static const struct {
		const char *buf;
		int sig;
	} inputs[] = {
		{ "0x9", SIGKILL }, { "0X9", SIGKILL }, { "011", SIGKILL },
		{ "+9", SIGKILL }, { " 9\t", SIGKILL }, { "9\n", SIGKILL },
		{ "\t\n 9\t\n", SIGKILL }, { "0x0f", SIGTERM }, { "017\n", SIGTERM },
	};
	pid_t pids[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(inputs); i++) {
		ASSERT_EQ(0, spawn(self->cg, 2, pids));
		ASSERT_EQ(0, sig_write(self->cg, inputs[i].buf)) TH_LOG("input #%zu", i);
		ASSERT_EQ(0, wait_unpopulated(self->cg)) TH_LOG("input #%zu", i);
		ASSERT_TRUE(reaped_by(pids[0], inputs[i].sig)) TH_LOG("input #%zu", i);
		ASSERT_TRUE(reaped_by(pids[1], inputs[i].sig)) TH_LOG("input #%zu", i);
	}
}

/*
 * Sleeps in slot (arg & 0xff), in a process group of its own whose parent
 * (the test) is in another group of the same session, so that the group is
 * not orphaned; with bit 8 set in a session of its own instead: an orphaned
 * process group.
 */
static int job_sleeper(const char *cg, void *arg)
{
	long a = (long)arg;

	my_slot = a & 0xff;
	if ((a & 0x100) ? setsid() < 0 : setpgid(0, 0) != 0)
		return 1;
	set_ready();
	for (;;)
		pause();
	return 0;
}

/*
 * SIGTSTP, SIGTTIN and SIGTTOU, unhandled, do what kill(2) does to an
 * identical process outside the cgroup: stop a process whose process group
 * is not orphaned, and are discarded in an orphaned one (the process runs
 * on). SIGCONT written afterwards resumes the stopped ones.
 */
TEST_F_TIMEOUT(cgsig, job_control_stops_as_kill_does, 120)
{
	static const int sigs[] = { SIGTSTP, SIGTTIN, SIGTTOU };
	pid_t in, ctl;
	char buf[16];
	size_t i;
	int orphan, slot = 0;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		for (orphan = 0; orphan < 2; orphan++) {
			char expect = orphan ? 'S' : 'T';

			in = cg_run_nowait(self->cg, job_sleeper,
					   (void *)(long)(slot | orphan << 8));
			ASSERT_GT(in, 0);
			ctl = cg_run_nowait(self->outside, job_sleeper,
					    (void *)(long)((slot + 1) | orphan << 8));
			ASSERT_GT(ctl, 0);
			ASSERT_EQ(0, wait_ready(slot));
			ASSERT_EQ(0, wait_ready(slot + 1));
			ASSERT_TRUE(wait_state(in, 'S', WAIT_MS));
			ASSERT_TRUE(wait_state(ctl, 'S', WAIT_MS));

			snprintf(buf, sizeof(buf), "%d", sigs[i]);
			ASSERT_EQ(0, sig_write(self->cg, buf));
			ASSERT_EQ(0, kill(ctl, sigs[i]));
			if (!orphan) {
				wait_state(in, 'T', WAIT_MS);
				wait_state(ctl, 'T', WAIT_MS);
			} else {
				usleep(300000);
			}
			ASSERT_EQ(expect, proc_state(ctl))
				TH_LOG("kill(2) of signal %d, orphaned %d", sigs[i], orphan);
			ASSERT_EQ(proc_state(ctl), proc_state(in))
				TH_LOG("signal %d, orphaned %d", sigs[i], orphan);

			ASSERT_EQ(0, sig_write(self->cg, "18"));
			ASSERT_TRUE(wait_state(in, 'S', WAIT_MS));
			kill(ctl, SIGKILL);
			ASSERT_TRUE(reaped_by(ctl, SIGKILL));
			ASSERT_EQ(0, cg_write(self->cg, "cgroup.kill", "1"));
			ASSERT_TRUE(reaped_by(in, SIGKILL));
			slot += 2;
		}
	}
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/* Ignores SIGUSR1 in slot (long)arg; on go, handles it instead and acks. */
static int ignore_then_count(const char *cg, void *arg)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };

	my_slot = (long)arg;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return 1;
	set_ready();
	while (!__atomic_load_n(&slots[my_slot].go, __ATOMIC_SEQ_CST))
		usleep(1000);
	if (handle(SIGUSR1))
		return 1;
	__atomic_store_n(&slots[my_slot].acked, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return 0;
}

/*
 * An ignored signal is dropped, as kill(2) drops it: SIGUSR1 (fatal by
 * default) written while the process ignores it neither kills it nor stays
 * pending for the handler it installs later. Written again, it is counted.
 */
TEST_F_TIMEOUT(cgsig, ignored_signal_is_dropped, 120)
{
	pid_t pid;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	pid = cg_run_nowait(self->cg, ignore_then_count, (void *)0L);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0));

	ASSERT_EQ(0, sig_write(self->cg, "10"));
	usleep(300000);
	ASSERT_TRUE(alive(pid));
	__atomic_store_n(&slots[0].go, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, wait_slot(0, offsetof(struct slot, acked), 1));
	usleep(300000);
	EXPECT_EQ(0, slots[0].count) TH_LOG("the ignored signal stayed pending");

	ASSERT_EQ(0, sig_write(self->cg, "10"));
	ASSERT_EQ(0, wait_count(0, 1));
	ASSERT_TRUE(alive(pid));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * A process moved into the cgroup after the write returned is not
 * signalled; the one that was there is, once.
 */
TEST_F_TIMEOUT(cgsig, process_moved_in_after_write_not_signalled, 120)
{
	pid_t there, later;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	there = cg_run_nowait(self->cg, usr1_counter, COUNTER(0, 1, 0, RTSIG));
	later = cg_run_nowait(self->outside, usr1_counter, COUNTER(1, 1, 0, RTSIG));
	ASSERT_GT(there, 0);
	ASSERT_GT(later, 0);
	ASSERT_EQ(0, wait_ready(0));
	ASSERT_EQ(0, wait_ready(1));

	ASSERT_EQ(0, sig_write(self->cg, RTSIG_STR));
	ASSERT_EQ(0, cg_write_numeric(self->cg, "cgroup.procs", later));
	ASSERT_EQ(0, wait_count(0, 1));
	usleep(300000);
	EXPECT_EQ(1, slots[0].count);
	EXPECT_EQ(0, slots[1].count);
	ASSERT_TRUE(alive(there));
	ASSERT_TRUE(alive(later));
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * In a new user namespace mapping the test's uid 0 to 1000 and a new pid
 * namespace, whose init forks the process that counts RTSIG in slot 0.
 */
static int nested_ns_receiver(const char *cg, void *arg)
{
	char map[] = "1000 0 1", deny[] = "deny";
	pid_t pid;

	my_slot = 0;
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID))
		return 1;
	if (write_text("/proc/self/setgroups", deny, strlen(deny)) < 0 ||
	    write_text("/proc/self/uid_map", map, strlen(map)) < 0 ||
	    write_text("/proc/self/gid_map", map, strlen(map)) < 0)
		return 2;
	pid = fork();
	if (pid < 0)
		return 3;
	if (pid == 0) {
		/* init of the new pid namespace */
		if (fork() == 0) {
			if (handle(RTSIG))
				_exit(4);
			set_ready();
		}
		for (;;)
			pause();
	}
	for (;;)
		pause();
	return 0;
}

/*
 * The siginfo is kill(2)'s as seen from the receiver's namespaces: in a child
 * pid namespace the writer, outside it, has pid 0, and its uid is mapped
 * through the receiver's user namespace (0 outside is 1000 inside).
 */
TEST_F_TIMEOUT(cgsig, siginfo_across_pid_and_user_namespaces, 120)
{
	pid_t pid;

	slots = map_slots();
	ASSERT_NE(NULL, slots);
	pid = cg_run_nowait(self->cg, nested_ns_receiver, NULL);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, wait_ready(0)) TH_LOG("namespace set-up failed");
	ASSERT_EQ(0, wait_nr_procs(self->cg, 3));

	ASSERT_EQ(0, sig_write(self->cg, RTSIG_STR));
	ASSERT_EQ(0, wait_count(0, 1));
	usleep(300000);
	EXPECT_EQ(1, slots[0].count);
	EXPECT_EQ(SI_USER, slots[0].code);
	EXPECT_EQ(0, slots[0].pid);
	EXPECT_EQ(1000, slots[0].uid);
	munmap(slots, NR_SLOTS * sizeof(struct slot));
}

/*
 * cgroup.signal is not one of the files handed over on delegation
 * (/sys/kernel/cgroup/delegate): signalling the delegation root stays with
 * the delegator.
 */
TEST_F_TIMEOUT(cgsig, not_in_delegate_list, 120)
{
	char buf[4096];

	ASSERT_GT(read_text("/sys/kernel/cgroup/delegate", buf, sizeof(buf)), 0);
	ASSERT_NE(NULL, strstr(buf, "cgroup.procs\n"));
	ASSERT_EQ(NULL, strstr(buf, "cgroup.signal"));
	ASSERT_EQ(NULL, strstr(buf, "cgroup.kill"));
}

TEST_HARNESS_MAIN
