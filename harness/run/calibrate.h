/* calibrate.h: `vgpubench calibrate PLAN`: what a nightly comparison of
 * this plan on this host catches, measured end to end rather than assumed.
 *
 * Each round runs the plan twice unchanged (A, A') and once with a known
 * slowdown injected (B: the mediator's --throttle for mediated rows, a CPU
 * quota for native ones; runner.h run_opts). By default the three are
 * arms of one interleaved run (runner.h run_arm: they take turns boot by
 * boot), which is how `vgpubench run --baseline-mediator` compares two
 * builds; `separate` runs them one after the other instead, which is how a
 * nightly run compared with last night's behaves. Then, row by row, with the
 * same test `vgpubench compare` uses:
 *  - A' against A is an A/A pair: a row it flags is a false alarm;
 *  - B against A and B against A' are A/B pairs: a row they flag as a
 *    regression is a detection.
 * The rates, the change the slowdown made and what each row could detect
 * are printed, and stored as a run of their own (plan name NAME-calibration,
 * table calibration_rows) that `vgpubench show` prints again. The plan's
 * runs are named NAME-cal and NAME-cal-slow (short: their folders hold unix
 * sockets), so a nightly `compare` of NAME never takes one as its baseline.
 * The calibration's own run is made first and names every run as it is
 * started, so a calibration that was stopped can be finished
 * (calibrate_resume). */
#ifndef VGPUBENCH_CALIBRATE_H
#define VGPUBENCH_CALIBRATE_H

#include <stdio.h>

#include "analysis/compare.h"
#include "store/run_facts.h"
#include "store/store.h"


struct calibrate_opts {
	const char *plan, *results, *reports;
	const char *plan_text; /* resuming: the plan's stored text, used instead of reading the file again */
	int slowdown_pct; /* 1..90, default 5 */
	int rounds;       /* default 1 */
	int separate;     /* 1: A, A' and B as three runs one after the other, not interleaved */
	struct compare_opts cmp;
};

/* Run a calibration. Exit codes as `vgpubench run`'s: 0 done, 1 could not run (a run failed; what was stored stays),
 * 3 done but some jobs failed, 130 interrupted. */
int calibrate_run(const struct calibrate_opts *o);

/* Finish calibration cal_id after calibrate was stopped (interrupted, killed, a run failed): the calibration's run
 * names its options and each run it started, so each run not yet complete is resumed (runner.h), each not yet
 * started is run, and the rates are counted over all of them. The plan is the text stored with the calibration: the
 * file is not read again, so it may have moved or changed, and the resume works from any folder. Exit codes as
 * calibrate_run's. */
int calibrate_resume(const char *results, const char *reports, const char *cal_id);


/* Print a calibration run's table (from the store) to out. 0, or -1 when run is no calibration. */
int calibrate_print(struct store *st, const char *run, FILE *out);

#endif
