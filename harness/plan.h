/* plan.h: the plan file (INI): which configs, guest counts, workloads and
 * repetitions a run takes, and the guest machine shape. */
#ifndef VGPUBENCH_PLAN_H
#define VGPUBENCH_PLAN_H

#include <stddef.h>

#include "accel.h"

#define PLAN_MAX_LIST 16
/* A plan file larger than this is refused before it is read whole (/dev/zero is not a plan). */
#define PLAN_MAX_BYTES (256 * 1024)

struct plan {
	char name[64];
	const char *configs[PLAN_MAX_LIST]; /* registry names (static strings) */
	int nconfigs;
	int guests[PLAN_MAX_LIST]; /* guest counts ("topologies") for guest configs */
	int nguests;
	const char *workloads[PLAN_MAX_LIST];
	int nworkloads;
	int repetitions;
	int dom0_load; /* dom0 runs the workload alongside 2 or more guests */
	/* [guest] */
	int memory_mb;
	int vcpus;
	char cpu[64];
	double boot_timeout_s;
	double job_timeout_s;
	enum accel_mode accel; /* auto (default): KVM when a boot probe shows it works */
};

/*
 * Parse plan text. `file` names it in messages. On error returns -1 and
 * writes "FILE:LINE: what is wrong" (or "FILE: ...") into err.
 */
int plan_parse(const char *file, const char *text, struct plan *p, char *err, size_t errlen);

/* Read and parse a plan file; *text_out (if non-NULL) gets the file's text. */
int plan_load(const char *path, struct plan *p, char **text_out, char *err, size_t errlen);

#endif
