/* proc_tree.c: a process tree's pids, CPU time and memory from /proc
 * (proc_tree.h). */
#include "host/proc_tree.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_field.h"

#define TREE_MAX 1024

/* Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses): 0 or -1. */
static int read_stat(int pid, int *ppid, unsigned long long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	int pp;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &pp, &ut, &st) != 3)
		return -1;
	if (ppid)
		*ppid = pp;
	if (ticks)
		*ticks = ut + st;
	return 0;
}

double proc_cpu_s(int pid)
{
	unsigned long long t;

	return read_stat(pid, NULL, &t) < 0 ? NAN : (double)t / (double)sysconf(_SC_CLK_TCK);
}

size_t proc_tree(int root, int *pids, size_t max)
{
	int(*all)[2] = NULL; /* every other process: pid, ppid */
	size_t nall = 0, cap = 0, n = 0;
	struct dirent *e;
	DIR *d;

	if (!max || read_stat(root, NULL, NULL) < 0 || !(d = opendir("/proc")))
		return 0;
	while ((e = readdir(d))) {
		int pid, ppid;

		if (!isdigit((unsigned char)e->d_name[0]) || (pid = atoi(e->d_name)) <= 0 || pid == root ||
		    read_stat(pid, &ppid, NULL) < 0)
			continue;
		if (nall == cap) {
			int(*more)[2] = realloc(all, (cap ? 2 * cap : 256) * sizeof(*all));

			if (!more)
				break; /* what was read so far still answers */
			all = more;
			cap = cap ? 2 * cap : 256;
		}
		all[nall][0] = pid;
		all[nall][1] = ppid;
		nall++;
	}
	closedir(d);
	pids[n++] = root;
	/* breadth first: each pid found is a parent whose children are looked for in turn */
	for (size_t k = 0; k < n && n < max; k++)
		for (size_t i = 0; i < nall && n < max; i++)
			if (all[i][1] == pids[k])
				pids[n++] = all[i][0];
	free(all);
	return n;
}

double proc_tree_cpu_s(int root)
{
	int pids[TREE_MAX];
	size_t n = proc_tree(root, pids, TREE_MAX);
	double sum = 0;

	if (!n)
		return NAN;
	for (size_t i = 0; i < n; i++) {
		double s = proc_cpu_s(pids[i]);

		if (!isnan(s)) /* one that ended meanwhile */
			sum += s;
	}
	return sum;
}

/* Pss of one process in KiB, or -1. */
static long long pss_kb(int pid)
{
	char kb[32];

	return pid > 0 && proc_field(pid, "smaps_rollup", "Pss:", kb, sizeof(kb)) == 0 ? atoll(kb) : -1;
}

double proc_tree_pss_mb(int root)
{
	int pids[TREE_MAX];
	size_t n = proc_tree(root, pids, TREE_MAX);
	long long sum = 0, kb;

	if (!n || (kb = pss_kb(root)) < 0)
		return NAN;
	sum = kb;
	for (size_t i = 1; i < n; i++)
		if ((kb = pss_kb(pids[i])) > 0)
			sum += kb;
	return (double)sum / 1024.0;
}
