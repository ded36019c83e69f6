/* trends.h: vgpubench trends: every series of the database (a host's plan's workload x configuration x guest
 * count x metric over its complete runs, a run's median a point) with the change points analysis/changepoint.h
 * finds in it, newest first, each with its run, the levels before and after, the change, its p-value and the host
 * facts that differ across it. */
#ifndef VGPUBENCH_TRENDS_H
#define VGPUBENCH_TRENDS_H

#include <stdio.h>

#include "analysis/changepoint.h"
#include "store/store.h"

struct trends_opts {
	const char *host;  /* a host's runs (NULL: every host's) */
	const char *plan;  /* a plan's (NULL: every plan's) */
	const char *since; /* runs started then or later (an ISO date or time; NULL: all) */
	struct changepoint_opts cp;
};

/* Exit code of trends when a series' newest runs stand on a level a change point made worse (a regression found
 * within its last cp.min_segment runs): as compare's. */
#define TRENDS_REGRESSION 4

/* Print the series' change points to out: 0, TRENDS_REGRESSION, or -1 (said). */
int trends_print(struct store *s, const struct trends_opts *o, FILE *out);

#endif
