/* export.h: a run's results for other tools: JSON, CSV (one row per metric
 * value) and JUnit XML (one testcase per workload x config x guest count,
 * failing on failed jobs and regressions; one per piglit test). */
#ifndef VGPUBENCH_EXPORT_H
#define VGPUBENCH_EXPORT_H

#include <stdio.h>
#include "store/store.h"

/* format: "json", "csv" or "junit". 0, or -1 with a message printed. */
int export_run(struct store *st, const char *run, const char *format, FILE *out);

#endif
