/* cpu_clock.c: CPU time of a process and of this thread, and the CPUs this
 * process may use (cpu_clock.h). */
#define _GNU_SOURCE
#include "sched/cpu_clock.h"

#include <sched.h>

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

uint64_t cpu_clock_used(struct cpu_clock *c, int pid)
{
	struct timespec ts;
	uint64_t now, used;

	if (pid <= 0)
		return 0;
	if (pid != c->pid) {
		clockid_t id;

		if (clock_getcpuclockid((pid_t)pid, &id) != 0)
			return 0;
		*c = (struct cpu_clock){ .pid = pid, .id = id, .seen = 0 };
	}
	if (clock_gettime(c->id, &ts) < 0)
		return 0;
	now = ts_ns(&ts);
	used = now > c->seen ? now - c->seen : 0;
	if (now > c->seen)
		c->seen = now;
	return used;
}

uint64_t cpu_clock_thread_ns(void)
{
	struct timespec ts;

	return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0 ? 0 : ts_ns(&ts);
}

unsigned cpu_clock_cpus(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	n = CPU_COUNT(&set);
	return n > 0 ? (unsigned)n : 1;
}
