/* proc_tree_test.c: a process tree as /proc shows it (harness/host/proc_tree.h):
 * a child and its grandchild found under this process, their CPU time and
 * memory summed, a process that is gone read as nothing. */
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "host/proc_tree.h"

/* Burn ms of this thread's CPU time. */
static void spin(int ms)
{
	struct timespec t0, t;
	volatile unsigned long x = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x++;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

int main(void)
{
	int pipefd[2], pids[16];
	pid_t child;
	char c;
	size_t n;
	double cpu, mb, self_mb;

	CHECK(proc_tree(-1, pids, 16) == 0 && isnan(proc_tree_cpu_s(-1)) && isnan(proc_tree_pss_mb(-1)),
	      "no such process: nothing");
	self_mb = proc_tree_pss_mb(getpid());
	CHECK(self_mb > 0, "this process holds %.1f MiB", self_mb);
	if (pipe(pipefd) < 0)
		return 1;
	child = fork();
	if (child == 0) {
		/* a grandchild that touches 64 MiB and burns 300 ms, then both wait */
		if (fork() == 0) {
			volatile char *m = mmap(NULL, 64u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			prctl(PR_SET_PDEATHSIG, SIGKILL); /* it goes with the child */
			for (size_t off = 0; m != MAP_FAILED && off < 64u << 20; off += 4096)
				m[off] = 1;
			spin(300);
			(void)!write(pipefd[1], "g", 1);
			pause();
			_exit(0);
		}
		spin(200);
		(void)!write(pipefd[1], "c", 1);
		pause();
		_exit(0);
	}
	(void)!read(pipefd[0], &c, 1);
	(void)!read(pipefd[0], &c, 1);
	n = proc_tree(getpid(), pids, 16);
	CHECK(n == 3 && pids[0] == getpid() && pids[1] == child, "this process, its child and grandchild: %zu", n);
	CHECK(proc_tree(getpid(), pids, 2) == 2, "at most max pids");
	cpu = proc_tree_cpu_s(child);
	CHECK(cpu >= 0.45, "the child's tree used %.2f s of CPU (200 and 300 ms burnt)", cpu);
	CHECK(proc_cpu_s(child) >= 0.15 && proc_cpu_s(child) < cpu, "the child alone used %.2f s", proc_cpu_s(child));
	mb = proc_tree_pss_mb(child);
	CHECK(mb >= 64, "the child's tree holds %.1f MiB (64 touched by the grandchild)", mb);
	CHECK(proc_tree_pss_mb(getpid()) >= mb, "and this process's tree holds that too");
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(isnan(proc_cpu_s(child)) && proc_tree(child, pids, 16) == 0, "a process that is gone is read as nothing");
	for (int i = 0; i < 100 && (n = proc_tree(getpid(), pids, 16)) > 1; i++) /* the grandchild goes with it */
		usleep(10000);
	CHECK(n == 1, "after the child's end nothing is under this process: %zu", n);
	return check_done("proc_tree_test");
}
