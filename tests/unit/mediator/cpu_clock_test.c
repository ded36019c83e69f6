/* cpu_clock_test.c: the CPU clocks a vGPU is charged from on a software
 * renderer (mediator/sched/cpu_clock.h): a child process's CPU time read in steps,
 * every thread of it counted, a fresh pid read from zero, a gone process
 * read as nothing; this thread's CPU time grows with work and not with
 * sleep; the CPUs follow the affinity. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sched/cpu_clock.h"

#define MS 1000000ull

/* Burn this thread's CPU for ms of its own CPU time. */
static void spin_ms(uint64_t ms)
{
	uint64_t end = cpu_clock_thread_ns() + ms * MS;
	volatile uint64_t x = 0;

	while (cpu_clock_thread_ns() < end)
		x++;
}

static void *spin_thread(void *arg)
{
	spin_ms((uint64_t)(uintptr_t)arg);
	return NULL;
}

/* A child that burns `ms` of CPU in `threads` threads at once, then waits to be killed. */
static pid_t burner(uint64_t ms, int threads)
{
	pid_t pid = fork();

	if (pid == 0) {
		pthread_t t[4];

		for (int i = 1; i < threads; i++)
			pthread_create(&t[i], NULL, spin_thread, (void *)(uintptr_t)ms);
		spin_ms(ms);
		for (int i = 1; i < threads; i++)
			pthread_join(t[i], NULL);
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	struct cpu_clock c = { 0 };
	uint64_t t0, used, again;
	unsigned cpus = cpu_clock_cpus();
	pid_t a, b;

	CHECK(cpus >= 1 && cpus <= (unsigned)sysconf(_SC_NPROCESSORS_CONF), "%u CPUs to run on", cpus);
	CHECK(cpu_clock_used(&c, 0) == 0 && cpu_clock_used(&c, -1) == 0 && c.pid == 0, "no pid: nothing read");

	t0 = cpu_clock_thread_ns();
	spin_ms(50);
	CHECK(cpu_clock_thread_ns() - t0 >= 50 * MS, "this thread's clock counts its work");
	t0 = cpu_clock_thread_ns();
	usleep(100000);
	CHECK(cpu_clock_thread_ns() - t0 < 10 * MS, "and not its sleep: %llu ns",
	      (unsigned long long)(cpu_clock_thread_ns() - t0));

	a = burner(200, 1);
	usleep(600000); /* it has burnt its 200 ms by now, even on a busy machine */
	used = cpu_clock_used(&c, a);
	CHECK(used >= 190 * MS && used < 400 * MS, "a child that burnt 200 ms: %llu ms read",
	      (unsigned long long)(used / MS));
	again = cpu_clock_used(&c, a);
	CHECK(again < 5 * MS, "read again while it waits: %llu ns more", (unsigned long long)again);

	if (cpus >= 2) {
		b = burner(150, 2);
		usleep(800000);
		used = cpu_clock_used(&c, b);
		CHECK(used >= 290 * MS, "a new pid is read from zero, every thread counted: two threads of 150 ms, %llu "
		      "ms read", (unsigned long long)(used / MS));
		reap(b);
	}
	reap(a);
	CHECK(cpu_clock_used(&c, a) == 0, "a process that is gone is read as nothing");

	a = fork();
	if (a == 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(0, &one);
		_exit(sched_setaffinity(0, sizeof(one), &one) == 0 && cpu_clock_cpus() == 1 ? 0 : 1);
	}
	{
		int st = 0;

		waitpid(a, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "pinned to one CPU, a process counts one");
	}
	return check_done("cpu_clock_test");
}
