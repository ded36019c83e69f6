/* runner.h: one run of a plan, end to end: host check, images, boot, jobs,
 * store, summary, report. Also resumes an interrupted run. */
#ifndef VGPUBENCH_RUNNER_H
#define VGPUBENCH_RUNNER_H

/* Exit codes: 0 complete, 1 failed to run at all, 3 complete with failed jobs, 130 interrupted. */
int runner_run(const char *results_dir, const char *reports_dir, const char *plan_path, const char *resume_id);

#endif
