/* proc_mem.c: a process's resident set and data from /proc (proc_mem.h). */
#include "process/proc_mem.h"

#include <stdlib.h>

#include "proc_field.h"

uint64_t proc_rss_kb(int pid)
{
	char kb[32];

	return proc_field(pid, "status", "VmRSS:", kb, sizeof(kb)) == 0 ? strtoull(kb, NULL, 10) : 0;
}

uint64_t proc_data_kb(int pid)
{
	char kb[32];

	return proc_field(pid, "status", "VmData:", kb, sizeof(kb)) == 0 ? strtoull(kb, NULL, 10) : 0;
}
