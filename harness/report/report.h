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

#endif
