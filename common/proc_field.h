/* proc_field.h: one field of a keyed /proc file (status, smaps_rollup, limits): the mediator's view of its
 * workers' memory, the harness's process-tree memory and the tests' view of a worker's limits read it one way. */
#ifndef VGPU_PROC_FIELD_H
#define VGPU_PROC_FIELD_H
#include <stddef.h>

/* The first word after `key` on the first line of /proc/PID/FILE that starts with key (pid 0: this process), into
 * out (cap bytes, cut to fit). 0, or -1 when the file cannot be read or has no such line (out is then ""). */
int proc_field(int pid, const char *file, const char *key, char *out, size_t cap);

#endif
