/* options.h: vgpu-mediator's command line (options.c): what it asks for beyond what it sets in the mediator's
 * state directly, read in one pass; the vGPUs it names are added once the scheduler exists. */
#ifndef VGPU_LOOP_OPTIONS_H
#define VGPU_LOOP_OPTIONS_H

#include "loop/loop.h"

struct options {
	const char *listen_dir, *control, *render_node, *sandbox_user;
	int no_virgl, no_sandbox, self_test;
	int trace_vhost, workers, test_faults; /* the mediator's state takes these in options_apply */
	enum sched_policy policy;
	long slice_ms, copy_threads, display_threads; /* copy_threads -1: the CPUs but one, at most a few */
	unsigned throttle;
	const char *vgpu[MAX_SLOTS], *vtest[MAX_VTEST]; /* the --vgpu and --vtest specs, in order */
	int nvgpu, nvtest;
};

/* Read argv into o (and the mediator's state). 0; 1 when --help printed the usage; -1 with the reason printed. */
int options_parse(int argc, char **argv, struct options *o);
/* The scheduler, with o's policy, time slice and throttle, and o's vGPUs and vtest endpoints in it. 0, or -1 with
 * the reason printed (a bad spec, a name given twice). */
int options_apply(const struct options *o);
/* The usage, on stderr. */
void usage(void);

#endif
