/* rep.h: a report being written, as the report's files share it (nothing outside report/ includes it): its state,
 * its data files, the helpers of chart.c, and each file's sections. */
#ifndef VGPUBENCH_REPORT_REP_H
#define VGPUBENCH_REPORT_REP_H

#include <stddef.h>
#include <stdio.h>

#include "analysis/series.h"
#include "analysis/verdict.h"
#include "store/store.h"

#define BOOT_ITERS SERIES_BOOT_ITERS

#define BOOT_SEED SERIES_BOOT_SEED

#define REPORT_THRESHOLD_PCT VERDICT_THRESHOLD_PCT /* compare's default threshold */

#define TREND_RUNS 10

#define PLAN_TOPOS 16

struct rep {
	struct store *st;
	const char *run;
	char *dir, *data;
	FILE *html;
	struct series_set set;
	int charts;
	int failed; /* files or charts that could not be written */
};

/* A data file, made in memory and written whole by rep_data_done. */
struct dfile {
	FILE *f;
	char *buf;
	size_t len;
	char *name; /* relative to the data folder: what the script names */
};

/* chart.c */
/* The headline metric of a workload ("score" for one the catalogue no longer has). */
const char *rep_headline(const char *workload);
/* A series' label: its configuration, with its guest count and dom0 when it has them. */
void rep_label(char *buf, size_t len, const struct series *s);
/*
 * Run gnuplot on script `name`.gp in the data folder and inline the SVG it
 * wrote. gnuplot runs in the data folder and sees only file names we made
 * there: no path from the command line or the database reaches its script.
 */
void rep_chart(struct rep *r, const char *name, const char *script, const char *caption);
/* A section whose rows the store could not give: say so with the store's reason, and count the report incomplete. */
void rep_unreadable(struct rep *r, const char *what);
/* A data file name.dat for a chart, written by rep_data_done. */
FILE *rep_data_file(struct rep *r, const char *name, struct dfile *df);
/* Write df into the data folder (a failure counts the report incomplete) and free it. */
void rep_data_done(struct rep *r, struct dfile *df);
/* A label as a gnuplot string literal: single quotes, a quote doubled, no control characters. */
void rep_gp_quote(char *out, size_t len, const char *s);
/* A label for a data file's first column: double-quoted there, so no double quotes nor control characters. */
void rep_dat_label(char *out, size_t len, const char *s);
/* A workload's name as part of a file name: letters, digits, '-' and '_' only. */
void rep_file_key(char *out, size_t len, const char *name);
/* A number for a table cell, or an en dash. */
const char *rep_cell(char *buf, size_t len, const char *fmt, double v);

/* summary.c */
/*
 * The report opens with the triangle: mediated ÷ native, passthrough ÷
 * native and mediated ÷ passthrough for each workload and guest count, each
 * with its bootstrap interval; a corner that did not run says why instead.
 */
void rep_section_verdict(struct rep *r);
void rep_section_triangle(struct rep *r);
/* The summary table: every row's median, interval, repetitions and the change it can detect. */
void rep_section_summary(struct rep *r);

/* displays.c */
/* Displays: the rows whose guests drew on several outputs at once, each output's median and the total. Nothing
 * when no row did. */
void rep_section_displays(struct rep *r);

/* sharing.c */
/* Sharing: per-guest medians, fairness and scaling efficiency per configuration, and the scaling curve. */
void rep_section_sharing(struct rep *r);

/* stages.c */
/* Where the mediator's time goes, per workload (from the jobs' stage histograms summed: job_stages). */
void rep_section_stages(struct rep *r);

/* scenarios.c */
/* The sharing scenarios: each policy's GPU time and share over time, isolation and SLA windows. */
void rep_section_scenarios(struct rep *r);
/* The frame-time tails of the scenario jobs, per guest. */
void rep_section_frametimes(struct rep *r);

/* trends.c */
/* Each row over the previous runs of its plan (at most TREND_RUNS). */
void rep_section_trends(struct rep *r);
/* piglit: its subtests counted by status, per configuration and guest count. */
void rep_section_piglit(struct rep *r);

/* facts.c */
/* The robustness catalogue case by case: one column per back-end, its last repetition's status in each cell, and
 * how many cases each passed. */
void rep_section_robustness(struct rep *r);
/* The environment: host facts, the renderers each configuration's jobs saw, skipped configurations. */
void rep_section_environment(struct rep *r);
/* A calibration's own run (`vgpubench calibrate`): each row's false alarms, detections and measured change. Nothing
 * for other runs. */
void rep_section_calibration(struct rep *r);
/* A run whose arms took turns with it (vgpubench run --baseline-mediator, calibrate): the compare with each arm,
 * the answer such a run is for. Nothing for other runs. */
void rep_section_arms(struct rep *r);

#endif
