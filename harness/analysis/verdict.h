/* verdict.h: what a run found, said first and in words, from the run's own numbers. For each workload and guest
 * count: mediated against its peers (QEMU's own back-ends a user could pick instead), per guest and, with several
 * guests, summed over them; mediated against native and against passthrough; passthrough against native. Each is a
 * ratio of medians with its 95% bootstrap interval, significant when the interval leaves 1 out. A corner that did
 * not run is said once, with why; then how the GPU was shared (scaling efficiency, fairness, the worst isolation of
 * any scenario), the power to see a change, and what compare found against the previous run of the plan. The report opens with it; the
 * terminal table (run, show) ends with it. */
#ifndef VGPUBENCH_VERDICT_H
#define VGPUBENCH_VERDICT_H

#include <stdio.h>

#include "analysis/series.h"
#include "store/store.h"

/* The threshold the power line counts rows against: compare's default. */
#define VERDICT_THRESHOLD_PCT 5.0

/* What compare could flag between one row (a headline series) and a run like it (same n, same CV), at 80% power. */
enum verdict_power_class {
	VP_NA,	 /* no figure (no spread to speak of) */
	VP_SEEN, /* it sees the threshold */
	VP_SHORT, /* it does not: `need` repetitions would */
	VP_NONE, /* too few values for Mann-Whitney to reach p < 0.05 at all */
};
struct verdict_power_row {
	enum verdict_power_class cls;
	double detectable_pct; /* the smallest change it could flag */
	size_t need;	       /* VP_SHORT: repetitions it would take */
};
void verdict_row_power(const struct series *s, struct verdict_power_row *out);

/* The rows counted for the power line. */
struct verdict_power {
	int rows, seen, none;
	size_t most; /* the most repetitions a row that cannot see the threshold would need */
};
void verdict_power_count(struct verdict_power *pw, const struct verdict_power_row *row);
/* The power line, said once ("" when no row has a figure): how many rows see the threshold, and what to do for
 * the rest. */
void verdict_power_text(const struct verdict_power *pw, char *out, size_t len);

/* One ratio: num's median ÷ den's, per guest or summed over the guests running at once. */
struct verdict_row {
	char workload[64], metric[96], num[32], den[32];
	int topology; /* num's guests (den's too, but native's host row) */
	int summed;   /* medians of the guests' per-repetition sums */
	double ratio, lo, hi;
	int significant;
};

#define VERDICT_MAX_ROWS 128
#define VERDICT_MAX_LINES 16

struct run_verdict {
	struct verdict_row rows[VERDICT_MAX_ROWS];
	size_t n;
	/* Lines in words, in this order: each workload's sentence, the corners that did not run, sharing, power,
	 * compare. */
	char lines[VERDICT_MAX_LINES][512];
	size_t nlines;
};

/* Build run's verdict. 0, or -1 when its results cannot be read (said). */
int verdict_build(struct store *st, const char *run, struct run_verdict *v);

/* Its lines, then its table, as text for the terminal. */
void verdict_print(const struct run_verdict *v, FILE *out);

/* Did config's jobs in run come from a nested lab (store_lab_get)? Its numbers prove a path, not a speed, and are
 * in no ratio. */
int verdict_is_lab(struct store *st, const char *run, const char *config);

/* A ratio as the verdict says it: "1.96x", "0.42x" (two decimals; three under 0.1; "n/a" for no number). */
void verdict_ratio_text(double ratio, char *out, size_t len);

#endif
