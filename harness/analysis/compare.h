/* compare.h: one run against a baseline: per metric old and new medians,
 * change, Mann-Whitney p and a verdict; for a workload with scenes
 * (glmark2), its headline also scene by scene, paired (Wilcoxon signed-rank
 * over the per-scene ratios), and which test flagged it; piglit status
 * changes classified the way piglit's summary does. */
#ifndef VGPUBENCH_COMPARE_H
#define VGPUBENCH_COMPARE_H

#include <stdio.h>
#include "analysis/series.h"

struct compare_opts {
	double threshold_pct; /* a change must exceed this (default 5) */
	double alpha;         /* and p must be below this (default 0.05) */
};

/* The power at which a row's detectable change is stated. */
#define COMPARE_POWER 0.80

enum verdict { V_SAME, V_REGRESSION, V_IMPROVEMENT };

/* Which test flagged a row: the score-level Mann-Whitney, the paired per-scene Wilcoxon, or both. */
enum flagged_by { BY_NONE = 0, BY_SCORE = 1, BY_SCENES = 2, BY_BOTH = 3 };

/* The paired per-scene test needs this many scenes before the signed-rank test can reach p < 0.05 at all. */
#define COMPARE_MIN_SCENES 6

struct compare_row {
	const struct series *old, *cur;
	double m_old, m_new, change_pct, p;
	enum verdict verdict;
	int noisy;        /* coefficient of variation above 10% on either side */
	int underpowered; /* too few values on a side for p to reach alpha */
	double detectable_pct; /* the smallest change this row's n and CVs detect at 80% power (INFINITY, NAN) */
	size_t needs;          /* when that exceeds the threshold: values per side it would take (0: not needed) */
	/* A headline row of a workload with scenes (workload.h scene_metrics): each scene's median new ÷ old, paired
	 * by scene; their geometric mean's change and the Wilcoxon signed-rank p of their logarithms. */
	size_t nscenes;
	double scene_change_pct, scene_p;
	enum flagged_by flagged_by;
	/* A flagged row as its series over every run of the plan on the run's host sees it (compare_series_marks):
	 * a change point between the base and the run, or none with series_after runs after the run (an outlier). */
	enum { SERIES_UNSEEN, SERIES_CHANGES, SERIES_OUTLIER } series_mark;
	size_t series_after;
};

struct status_change {
	char config[32];
	int topology;
	char name[256];
	char old_status[12], new_status[12]; /* "" when absent */
	const char *kind; /* regression, fix, new, missing, enabled, disabled */
};

struct comparison {
	char run[STORE_RUN_ID_MAX], base[STORE_RUN_ID_MAX];
	struct series_set a, b; /* base, run */
	struct compare_row *rows;
	size_t nrows;
	struct status_change *changes;
	size_t nchanges;
	int regressions, improvements, status_regressions, status_fixes;
	/* Groups (configuration x guest count x workload) in which every job failed, with the first reason: [0] the
	 * base's, [1] the run's. Not compared, so named instead (an arm whose mediator never came up). */
	char failed[2][1024];
	int nfailed[2];
};

/* Compare run with base (NULL: the previous comparable run). 0, or -1 with a message printed. */
int compare_build(struct store *st, const char *run, const char *base, const struct compare_opts *o,
		  struct comparison *c);
/* Mark c's flagged rows by their series (analysis/trends.h: this host's runs of the plan): one whose series has a
 * change point after the base and at or before the run (at the run itself when the base is not one of the series'
 * runs) is SERIES_CHANGES; one with none and at least as many runs
 * after the run as a side of a change point needs is a one-night outlier (SERIES_OUTLIER); too few runs after it,
 * or a run not in the series (not complete, another plan), stay SERIES_UNSEEN. 0, or -1 (said). */
int compare_series_marks(struct store *st, struct comparison *c);
void compare_print(const struct comparison *c, const struct compare_opts *o, FILE *out);
/* Print c's failed groups (none: nothing), one line a side: "every job failed in RUN: ...". */
void compare_print_failed(const struct comparison *c, FILE *out);
void compare_free(struct comparison *c);

/* piglit's classification of one test's status change (NULL when nothing changed). */
const char *compare_classify(const char *old_status, const char *new_status);

#endif
