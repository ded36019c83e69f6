/* report.h: the HTML report of a run: summary with confidence intervals,
 * % of native, sharing quality, frame-time distributions, nightly trends,
 * piglit pass rates and the environment; charts are gnuplot SVG, inlined. */
#ifndef VGPUBENCH_REPORT_H
#define VGPUBENCH_REPORT_H

#include "store/store.h"

/*
 * Write reports_dir/<run>/index.html (run must be a run id: never a path);
 * *path_out (malloc'ed) gets its path once the page is written. 0, or -1
 * with messages printed: no such run, the page could not be written, or it
 * was written but a chart or data file could not be (gnuplot failed...).
 */
int report_generate(struct store *st, const char *run, const char *reports_dir, char **path_out);

/*
 * The lab page (lab.c): reports_dir/lab/index.html over the whole database: each host's latest run of each plan
 * (marked when it failed or is older than two days) with its headline ratios, and each headline metric's trend
 * per host, a chart per unit. *path_out (malloc'ed) as report_generate's. 0, or -1 with messages printed.
 */
int report_lab(struct store *st, const char *reports_dir, char **path_out);

#endif
