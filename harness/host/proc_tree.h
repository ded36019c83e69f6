/* proc_tree.h: a process and its descendants as /proc shows them now: their
 * pids, the CPU time they used and the memory they hold. For measuring a
 * back-end that is several processes (vgpu-mediator's render workers, under
 * its spawner) the same way as one that is a single process. */
#ifndef VGPUBENCH_PROC_TREE_H
#define VGPUBENCH_PROC_TREE_H

#include <stddef.h>

/* CPU seconds (user + system, /proc/PID/stat) process pid used so far; NAN if it cannot be read. */
double proc_cpu_s(int pid);

/* The pids of root and of every process descended from it (at most max), root first. The count: 0 when root is
 * gone or /proc cannot be read. */
size_t proc_tree(int root, int *pids, size_t max);

/* CPU seconds used so far by root and its descendants alive now (those that ended are not counted); NAN if root
 * cannot be read. */
double proc_tree_cpu_s(int root);

/* Their proportional set size in MiB (/proc/PID/smaps_rollup: pages shared among them, or with others, are split
 * among those that map them, so the sum is what the tree holds); NAN if root's cannot be read. */
double proc_tree_pss_mb(int root);

#endif
