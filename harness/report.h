/* report.h: the HTML report of a run: summary with confidence intervals,
 * % of native, sharing quality, frame-time distributions, nightly trends,
 * piglit pass rates and the environment; charts are gnuplot SVG, inlined. */
#ifndef VGPUBENCH_REPORT_H
#define VGPUBENCH_REPORT_H

#include "store.h"

/* Write reports_dir/<run>/index.html; *path_out (malloc'ed) gets its path. 0 or -1. */
int report_generate(struct store *st, const char *run, const char *reports_dir, char **path_out);

#endif
