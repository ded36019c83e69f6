/* runner.h: one run of a plan, end to end: host check, images, boot, jobs,
 * store, summary, report. Also resumes an interrupted run. */
#ifndef VGPUBENCH_RUNNER_H
#define VGPUBENCH_RUNNER_H

#include <stddef.h>

#include "store/run_facts.h"

/* A run id: the UTC time, the host (host_id.h's label), the plan's name and, when another run took that id
 * already (attempt > 0), a number: 20261207-061500-labhost1-nightly, ...-nightly-2. */
int run_make_id(char *id, size_t len, const char *host, const char *name, int attempt);

/* Exit codes: 0 complete, 1 failed to run at all, 3 complete with failed jobs, 130 interrupted. */
int runner_run(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id);

/*
 * One more arm of an interleaved run, the way Pinpoint runs A/B pairs: its
 * jobs are stored as a run of their own (the plan's name + name_suffix),
 * and the arms take turns within the run, block by block: each guest
 * topology's boots ([noise] boots; the order rotates from boot to boot), and
 * the host configurations' repetitions split the same way. What drifts on
 * the host while the run goes on then falls on every arm alike, which two
 * runs taken minutes apart do not share. `vgpubench compare` takes the arm
 * runs like any others.
 */
struct run_arm {
	const char *name_suffix;
	const char *mediator; /* the vgpu-mediator its mediated boots start (NULL: this build's) */
	int slowdown_pct;     /* as run_opts.slowdown_pct, for this arm */
	int changed_only;     /* 1: only the configurations this arm changes run in it (those that start the mediator,
			       * when it names one; those with a slowdown knob, when it injects one); 0: every one */
	char *id_out;	      /* its run id, when it got one */
	size_t id_len;
	double compare_threshold_pct; /* > 0: the threshold the run's compare with this arm uses, kept as the arm's
				       * host fact RUNNER_ARM_THRESHOLD_FACT so the report compares the same way */
};

/* What a run may be asked beyond its plan (vgpubench calibrate, vgpubench run --baseline-mediator). */
struct run_opts {
	const char *name_suffix; /* appended to the plan's name, so no nightly compare takes this run as its baseline */
	int slowdown_pct; /* > 0: a known slowdown injected: the mediator's --throttle for mediated rows, a CPU quota
			   * (cpu_quota.h) for native ones; kept as the host fact "injected slowdown", and a resumed
			   * run takes it again from there */
	char *id_out; /* the run's id, when it got one */
	size_t id_len;
	const struct run_arm *arms; /* the arms interleaved with this run (NULL: none) */
	int narms;		    /* 0 .. RUN_MAX_ARMS - 1 */
	/* Called once the new run (and its arms) exist in the store, before any job: a caller that must find the run
	 * again after being killed (calibrate --resume) records its id here. NULL: not called. */
	void (*on_created)(void *ctx, const char *id);
	void *on_created_ctx;
	/* The plan's text, when the caller has it (calibrate --resume: the text stored with the calibration), so the
	 * plan file is not read again (plan_path then only names it). NULL: read plan_path. */
	const char *plan_text;
};

/*
 * The status a user should see for a run stored as `status` in folder dir (relative to results, or absolute): a
 * "running" run whose owner lock (owner.lock, held by the harness running it) is free has no harness any more:
 * it was killed (SIGKILL, a crash, a power cut) and shows as "interrupted". Any other status is returned as is.
 */
const char *runner_shown_status(const char *results, const char *dir, const char *status);

/* runner_run with opts (NULL: none). */
int runner_run_with(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id,
		    const struct run_opts *opts);

/* The facts a run records about its arms and slowdown (RUNNER_ARM_FACT ..., runner_arm_id) are in run_facts.h. */

#endif
