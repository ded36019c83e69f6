/* cpu_clock.h: CPU time, in ns, of another process (a render worker: every
 * thread of it) and of the calling thread, and how many CPUs this process may
 * run on. On a software renderer the CPU time a vGPU's worker used is what
 * its rendering cost, and the CPUs are the renderer's capacity (gpu_sched.h). */
#ifndef VGPU_CPU_CLOCK_H
#define VGPU_CPU_CLOCK_H

#include <stdint.h>
#include <time.h>

/* One process's CPU clock, read in steps. Zero it to start. */
struct cpu_clock {
	int pid;      /* whose clock: 0 for none yet */
	clockid_t id; /* its clock (clock_getcpuclockid) */
	uint64_t seen; /* its CPU time at the last read */
};

/* The CPU time process pid used since the last read of c: all it used so far on the first read of a pid (or of a
 * new pid: a fresh worker). 0 when nothing more was used or it cannot be read (pid <= 0, the process is gone). */
uint64_t cpu_clock_used(struct cpu_clock *c, int pid);

/* The calling thread's CPU time so far; 0 if it cannot be read. */
uint64_t cpu_clock_thread_ns(void);

/* How many CPUs this process may run on (its affinity), at least 1. */
unsigned cpu_clock_cpus(void);

#endif
