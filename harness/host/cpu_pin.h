/* cpu_pin.h: keeping the parts of a guest topology on CPUs of their own
 * (less noise at the source): each guest's QEMU process (its vCPU threads
 * with it), the GPU back-end's processes and dom0's jobs each get CPUs no
 * other part uses, when the host has enough: one CPU per guest vCPU, one for
 * the back-end, one for dom0 when it runs beside the guests, and one left to
 * the harness and everything else. The back-end gets every CPU left over (a
 * renderer uses threads). On a host with fewer CPUs nothing is pinned and the
 * plan says why; the runner keeps that as a host fact either way. */
#ifndef VGPUBENCH_CPU_PIN_H
#define VGPUBENCH_CPU_PIN_H

#include <sched.h> /* cpu_set_t: includers define _GNU_SOURCE first */
#include <stddef.h>
#include <sys/types.h>

#define CPU_PIN_MAX_GUESTS 16

struct cpu_pin_plan {
	int on;                                  /* 0: nothing is pinned, for the reason in desc */
	cpu_set_t guest[CPU_PIN_MAX_GUESTS];     /* guest i+1's QEMU */
	cpu_set_t backend;                       /* the back-end's processes */
	cpu_set_t dom0;                          /* dom0's agent and its jobs (when with_dom0) */
	char desc[512];                          /* what goes where, or why nothing is pinned */
};

/* Share the CPUs in avail among n guests of vcpus vCPUs each, a back-end and (with_dom0) dom0. Always fills
 * p->desc; p->on says whether there were enough CPUs. */
void cpu_pin_plan(struct cpu_pin_plan *p, const cpu_set_t *avail, int n, int vcpus, int with_dom0);

/* Pin every thread of process pid to set; the threads it makes later inherit it from theirs. 0, or -1 with err
 * (a thread that ended meanwhile is no error). */
int cpu_pin_process(pid_t pid, const cpu_set_t *set, char *err, size_t errlen);

/* "2-3,5" for set, into buf. */
void cpu_pin_list(const cpu_set_t *set, char *buf, size_t len);

#endif
