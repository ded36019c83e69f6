/* trends.h: vgpubench trends: every series of the database (a host's plan's workload x configuration x guest
 * count x metric over its complete runs, a run's median a point) with the change points analysis/changepoint.h
 * finds in it, newest first, each with its run, the levels before and after, the change, its p-value and the host
 * facts that differ across it. */
#ifndef VGPUBENCH_TRENDS_H
#define VGPUBENCH_TRENDS_H

#include <stdio.h>
#include <time.h>

#include "analysis/changepoint.h"
#include "store/store.h"

struct trends_opts {
	const char *host;  /* a host's runs (NULL: every host's) */
	const char *plan;  /* a plan's (NULL: every plan's) */
	const char *since; /* runs started then or later (an ISO date or time; NULL: all) */
	struct changepoint_opts cp;
};

/* One series: its key, a point per night (its last run, when that started, the median of the values of its runs:
 * runs that start within TRENDS_NIGHT_S of a point's first are one night, so a night run again does not weigh as
 * several), and its change points (none while it has fewer than twice the fewest points a side may have). */
#define TRENDS_NIGHT_S (12 * 3600)
struct trend_series {
	char host[64], plan[64], workload[64], config[32], metric[96], unit[16];
	int topology, dom0, higher_is_better;
	size_t n, cap;
	char (*run)[STORE_RUN_ID_MAX];
	char (*at)[32];
	double *median;
	time_t *t0; /* when each point's first run started (0: unknown) */
	struct changepoint *cp;
	size_t ncp;
	size_t merged_runs; /* runs that shared a night with the point's first run, merged into it */
	/* What the newest night changed in the change points found without it (beyond a new one at the end): each
	 * point of the night before that moved (was, now), went (now = SIZE_MAX) or came where none was (was =
	 * SIZE_MAX); indices into the points. */
	struct trend_revision {
		size_t was, now;
	} *rev;
	size_t nrev;
};

struct trend_set {
	struct trend_series *s;
	size_t n;
	size_t points;       /* over every series */
	size_t short_series; /* series too short to hold a change point */
	size_t merged_series; /* series with a night of more than one run */
	size_t revised;       /* series whose earlier change points the newest night changed */
	size_t min_segment;  /* the fewest runs on either side of a change point */
};

/* The series o selects with their change points into *out (free with trends_free, either way). 0, or -1 (said). */
int trends_load(struct store *s, const struct trends_opts *o, struct trend_set *out);
void trends_free(struct trend_set *t);

/* The series of a key in t (the newest, when its unit changed), or NULL. */
const struct trend_series *trends_find(const struct trend_set *t, const char *workload, const char *config,
				       int topology, int dom0, const char *metric);

/* Revision r of t in words ("the change point at RUN moved to RUN", "... is gone", "a change point appeared at RUN"),
 * into out. */
void trends_revision_text(const struct trend_series *t, const struct trend_revision *r, char *out, size_t len);

/* Change point c of t made its metric worse (by its direction). */
int trends_worse(const struct trend_series *t, const struct changepoint *c);

/* Change point k of t was found only with the newest night: it is the last and stands within the newest
 * min_segment nights, or it appeared or moved with the newest night (t->rev). */
int trends_recent(const struct trend_series *t, size_t k, size_t min_segment);

/* What differs between point k - 1 and change point k's first point of t, into out ("" for none): the host facts
 * of their runs ("qemu A -> B; mesa ..."), the plan's text when it was edited between them, and a gap (days
 * without a run, when well over the series' usual spacing). */
void trends_across(struct store *s, const struct trend_series *t, size_t k, char *out, size_t len);

/* Exit code of trends when a series' newest runs stand on a level a change point made worse (a regression found
 * within its last cp.min_segment runs): as compare's. */
#define TRENDS_REGRESSION 4

/* Print the series' change points to out: 0, TRENDS_REGRESSION, or -1 (said). */
int trends_print(struct store *s, const struct trends_opts *o, FILE *out);

#endif
