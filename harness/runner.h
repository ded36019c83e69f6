/* runner.h: one run of a plan, end to end: host check, images, boot, jobs,
 * store, summary, report. Also resumes an interrupted run. */
#ifndef VGPUBENCH_RUNNER_H
#define VGPUBENCH_RUNNER_H

#include <stddef.h>

/* Exit codes: 0 complete, 1 failed to run at all, 3 complete with failed jobs, 130 interrupted. */
int runner_run(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id);

/* What a run may be asked beyond its plan (vgpubench calibrate). */
struct run_opts {
	const char *name_suffix; /* appended to the plan's name, so no nightly compare takes this run as its baseline */
	int slowdown_pct; /* > 0: a known slowdown injected: the mediator's --throttle for mediated rows, a CPU quota
			   * (cpu_quota.h) for native ones; kept as the host fact "injected slowdown", and a resumed
			   * run takes it again from there */
	char *id_out; /* the run's id, when it got one */
	size_t id_len;
};

/* runner_run with opts (NULL: none). */
int runner_run_with(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id,
		    const struct run_opts *opts);

/* The host fact that says a run had a slowdown injected. */
#define RUNNER_SLOWDOWN_FACT "injected slowdown"

#endif
