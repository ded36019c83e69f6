/* cpu_pin_test.c: sharing CPUs among a topology's guests, back-end and dom0:
 * too few CPUs pin nothing and say how many it would take; enough give each
 * part CPUs of its own (the first to the harness, the leftovers to the
 * back-end), over gaps in the CPUs the harness may use too; then a real
 * process with two threads pinned to one CPU, and a process that is gone. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "host/cpu_pin.h"

static cpu_set_t cpus(const int *list, int n)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	for (int i = 0; i < n; i++)
		CPU_SET(list[i], &s);
	return s;
}

static int is_list(const cpu_set_t *set, const char *want)
{
	char buf[128];

	cpu_pin_list(set, buf, sizeof(buf));
	if (strcmp(buf, want))
		fprintf(stderr, "CPUs %s, not %s\n", buf, want);
	return !strcmp(buf, want);
}

static void test_plan(void)
{
	struct cpu_pin_plan p;
	cpu_set_t two = cpus((int[]){ 0, 1 }, 2), eight = cpus((int[]){ 0, 1, 2, 3, 4, 5, 6, 7 }, 8);
	cpu_set_t gaps = cpus((int[]){ 1, 3, 5, 7, 9, 11 }, 6);

	cpu_pin_plan(&p, &two, 1, 1, 0);
	CHECK(!p.on && check_contains(p.desc, "off: 2 CPUs") && check_contains(p.desc, "takes 3"),
	      "2 CPUs, one guest: nothing pinned, and why: %s", p.desc);
	cpu_pin_plan(&p, &eight, 3, 1, 1);
	CHECK(p.on, "8 CPUs, three guests and dom0: pinned (%s)", p.desc);
	CHECK(is_list(&p.dom0, "1") && is_list(&p.guest[0], "2") && is_list(&p.guest[1], "3") &&
		      is_list(&p.guest[2], "4") && is_list(&p.backend, "5-7"),
	      "CPU 0 stays with the harness, dom0 1, guests 2-4, the back-end the rest");
	CHECK(!strcmp(p.desc, "guest1 CPU 2; guest2 CPU 3; guest3 CPU 4; back-end CPU 5-7; dom0 CPU 1; the harness "
			      "and the rest CPU 0"),
	      "it says so: %s", p.desc);
	cpu_pin_plan(&p, &gaps, 2, 2, 0);
	CHECK(p.on && is_list(&p.guest[0], "3,5") && is_list(&p.guest[1], "7,9") && is_list(&p.backend, "11"),
	      "only the harness's CPUs, gaps and all; two vCPUs a guest: %s", p.desc);
	cpu_pin_plan(&p, &gaps, 2, 2, 1);
	CHECK(!p.on && check_contains(p.desc, "takes 7"), "one CPU short with dom0: %s", p.desc);
	cpu_pin_plan(&p, &eight, CPU_PIN_MAX_GUESTS + 1, 1, 0);
	CHECK(!p.on, "more guests than it can name: nothing pinned");
}

static void *idle(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void test_process(void)
{
	cpu_set_t mine, one, got;
	char err[256];
	int last = -1;
	pid_t pid;

	CHECK(sched_getaffinity(0, sizeof(mine), &mine) == 0, "the test's own CPUs");
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &mine))
			last = c;
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	pid = fork();
	if (pid == 0) {
		pthread_t t;

		pthread_create(&t, NULL, idle, NULL);
		pause();
		_exit(0);
	}
	usleep(100 * 1000);
	CHECK(cpu_pin_process(pid, &one, err, sizeof(err)) == 0, "a process is pinned (%s)", err);
	CHECK(sched_getaffinity(pid, sizeof(got), &got) == 0 && CPU_EQUAL(&got, &one), "its main thread is on CPU %d",
	      last);
	{
		char path[64];
		int threads = 0, pinned = 0;

		for (int tid = pid; tid < pid + 64; tid++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
			if (access(path, F_OK) != 0)
				continue;
			threads++;
			pinned += sched_getaffinity(tid, sizeof(got), &got) == 0 && CPU_EQUAL(&got, &one);
		}
		CHECK(threads == 2 && pinned == 2, "both of its threads are (%d of %d)", pinned, threads);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	CHECK(cpu_pin_process(pid, &one, err, sizeof(err)) == -1 && check_contains(err, "threads of process"),
	      "a process that is gone: %s", err);
}

int main(void)
{
	test_plan();
	test_process();
	return check_done("cpu_pin_test");
}
