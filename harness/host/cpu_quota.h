/* cpu_quota.h: a CPU quota on a process tree, through a cgroup of its own:
 * the known slowdown `vgpubench calibrate` injects into native jobs (the
 * mediator's own is its --throttle). cgroup v2's cpu.max where the unified
 * hierarchy has the cpu controller, else v1's cpu.cfs_quota_us and
 * cpu.cfs_period_us; both say "at most QUOTA us of CPU time every PERIOD
 * us", summed over the group's threads.
 *
 * A slowdown of PCT% becomes a quota of (100 - PCT)% of every CPU the host
 * has: a job that keeps them all busy loses PCT% of its throughput, one
 * that uses fewer loses less (or nothing), which `calibrate` then measures
 * and reports rather than assumes. Every path sits under a root (normally
 * /sys/fs/cgroup) so the tests can point it elsewhere. */
#ifndef VGPUBENCH_CPU_QUOTA_H
#define VGPUBENCH_CPU_QUOTA_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define CPU_QUOTA_PERIOD_US 100000 /* the kernel's default period */

struct cpu_quota {
	char dir[PATH_MAX]; /* the group's folder, "" when none was made */
	int version;        /* 1 or 2 */
	long quota_us, period_us;
};

/* Make group `name` under root's cpu hierarchy with a quota of (100 - slowdown_pct)% of `cpus` CPUs. 0, or -1 with
 * err saying what is missing (no cpu controller, not root...). */
int cpu_quota_create(struct cpu_quota *q, const char *root, const char *name, double slowdown_pct, long cpus,
		     char *err, size_t errlen);
/* Move process pid (and the children it makes from now on) into the group. 0, or -1 with err. */
int cpu_quota_add(struct cpu_quota *q, pid_t pid, char *err, size_t errlen);
/* How many periods the quota held the group back so far (cpu.stat nr_throttled, v1 and v2), or -1. */
long long cpu_quota_throttled(const struct cpu_quota *q);
/* Remove the group once its processes are gone (waits up to 2 s for them). Safe on a group never made. */
void cpu_quota_remove(struct cpu_quota *q);
/* Remove the groups runs killed before they could left under root: every "PREFIX*" group of the cpu hierarchy
 * with no process in it (a live run's is busy and stays). How many were removed. */
int cpu_quota_recover(const char *root, const char *prefix);

#endif
