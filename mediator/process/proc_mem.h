/* proc_mem.h: a process's memory as /proc shows it: what it has resident,
 * and its data (what RLIMIT_DATA bounds). For the control socket's view of
 * render workers and for the bound the spawner sets on them. */
#ifndef VGPU_PROC_MEM_H
#define VGPU_PROC_MEM_H

#include <stdint.h>

/* Resident memory of process pid (0: this one) in KiB (VmRSS in /proc/PID/status); 0 when it cannot be read. */
uint64_t proc_rss_kb(int pid);

/* Data and private memory of process pid (0: this one) in KiB (VmData in /proc/PID/status); 0 when it cannot be
 * read. */
uint64_t proc_data_kb(int pid);

#endif
