/* proc_mem.c: a process's resident set and data from /proc (proc_mem.h). */
#include "proc_mem.h"

#include <stdio.h>
#include <unistd.h>

static FILE *open_proc(int pid, const char *what)
{
	char path[64];

	if (pid < 0)
		return NULL;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/%s", what);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	return fopen(path, "re");
}

uint64_t proc_rss_kb(int pid)
{
	unsigned long size = 0, resident = 0;
	FILE *f = open_proc(pid, "statm");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * ((uint64_t)sysconf(_SC_PAGESIZE) / 1024u);
}

uint64_t proc_data_kb(int pid)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = open_proc(pid, "status");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
