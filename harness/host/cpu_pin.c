/* cpu_pin.c: CPUs of their own for a topology's guests, back-end and dom0 (cpu_pin.h). */
#define _GNU_SOURCE
#include "host/cpu_pin.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cpu_pin_list(const cpu_set_t *set, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (int c = 0; c < CPU_SETSIZE && at < len; c++) {
		int end = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (end + 1 < CPU_SETSIZE && CPU_ISSET(end + 1, set))
			end++;
		int w = end > c ? snprintf(buf + at, len - at, "%s%d-%d", at ? "," : "", c, end)
				: snprintf(buf + at, len - at, "%s%d", at ? "," : "", c);

		if (w < 0)
			break;
		at += (size_t)w;
		c = end;
	}
}

/* The next k CPUs of avail from *from on into set. */
static void take(const cpu_set_t *avail, int *from, int k, cpu_set_t *set)
{
	CPU_ZERO(set);
	for (; k > 0 && *from < CPU_SETSIZE; (*from)++)
		if (CPU_ISSET(*from, avail)) {
			CPU_SET(*from, set);
			k--;
		}
}

void cpu_pin_plan(struct cpu_pin_plan *p, const cpu_set_t *avail, int n, int vcpus, int with_dom0)
{
	int have = CPU_COUNT(avail), need = 1 + (with_dom0 ? 1 : 0) + 1 + n * vcpus, at = 0;
	size_t len = 0;
	char list[256];
	cpu_set_t rest;

	memset(p, 0, sizeof(*p));
	if (n < 0 || n > CPU_PIN_MAX_GUESTS || vcpus < 1 || have < need) {
		snprintf(p->desc, sizeof(p->desc),
			 "off: %d CPU%s, and keeping %d guest%s of %d vCPU%s, the back-end%s and the harness apart takes %d",
			 have, have == 1 ? "" : "s", n, n == 1 ? "" : "s", vcpus, vcpus == 1 ? "" : "s",
			 with_dom0 ? ", dom0" : "", need);
		return;
	}
	p->on = 1;
	/* The first CPU (where the kernel's interrupts mostly land) stays with the harness and everything else. */
	take(avail, &at, 1, &rest);
	if (with_dom0)
		take(avail, &at, 1, &p->dom0);
	for (int i = 0; i < n; i++)
		take(avail, &at, vcpus, &p->guest[i]);
	take(avail, &at, have - need + 1, &p->backend);
	for (int i = 0; i < n; i++) {
		cpu_pin_list(&p->guest[i], list, sizeof(list));
		len += (size_t)snprintf(p->desc + len, sizeof(p->desc) - len, "guest%d CPU %s; ", i + 1, list);
		if (len >= sizeof(p->desc))
			return;
	}
	cpu_pin_list(&p->backend, list, sizeof(list));
	len += (size_t)snprintf(p->desc + len, sizeof(p->desc) - len, "back-end CPU %s; ", list);
	if (with_dom0 && len < sizeof(p->desc)) {
		cpu_pin_list(&p->dom0, list, sizeof(list));
		len += (size_t)snprintf(p->desc + len, sizeof(p->desc) - len, "dom0 CPU %s; ", list);
	}
	if (len < sizeof(p->desc)) {
		cpu_pin_list(&rest, list, sizeof(list));
		snprintf(p->desc + len, sizeof(p->desc) - len, "the harness and the rest CPU %s", list);
	}
}

int cpu_pin_process(pid_t pid, const cpu_set_t *set, char *err, size_t errlen)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int pinned = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	d = opendir(path);
	if (!d) {
		snprintf(err, errlen, "cannot list the threads of process %ld: %s", (long)pid, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)strtol(e->d_name, NULL, 10);

		if (tid <= 0)
			continue;
		if (sched_setaffinity(tid, sizeof(*set), set) == 0)
			pinned++;
		else if (errno != ESRCH) {
			snprintf(err, errlen, "cannot pin thread %ld of process %ld: %s", (long)tid, (long)pid,
				 strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (!pinned) {
		snprintf(err, errlen, "process %ld has no thread left to pin", (long)pid);
		return -1;
	}
	return 0;
}
