/* trends.c: the report's history sections: each row over the previous runs of its plan, with the levels and change
 * points the trends find in its series (analysis/trends.h) and a table of them, and piglit's subtests. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/trends.h"
#include "report/rep.h"
#include "stats.h"
#include "util.h"

struct trend_runs {
	int n;
	char (*id)[STORE_RUN_ID_MAX]; /* the runs shown, newest first */
	const struct trend_set *ts;   /* this host's series of the plan, with their change points */
	struct series_set sets[TREND_RUNS];
	struct comparison cmp[TREND_RUNS];
	int have[TREND_RUNS], have_cmp[TREND_RUNS];
};

/* The level of series point j: the mean of the segment between the change points around it. */
static double level_at(const struct trend_series *ts, size_t j)
{
	for (size_t k = 0; k < ts->ncp; k++)
		if (ts->cp[k].index > j)
			return ts->cp[k].mean_before;
	return ts->cp[ts->ncp - 1].mean_after;
}

/* Series s's levels over the runs shown (a data set of lv) and its change points among them (into cpf, counted in
 * *changes), from its trend series: 1 when it has a change point (a level worth drawing), else 0 (nothing
 * written). */
static int trend_levels(FILE *lv, FILE *cpf, const struct trend_runs *t, const struct series *s, int *changes)
{
	const struct trend_series *ts =
		t->ts ? trends_find(t->ts, s->workload, s->config, s->topology, s->dom0, s->metric) : NULL;
	int any = 0;

	if (!ts || !ts->ncp)
		return 0;
	for (int k = t->n - 1; k >= 0; k--)
		for (size_t j = 0; j < ts->n; j++) {
			if (strcmp(ts->run[j], t->id[k]) != 0)
				continue;
			fprintf(lv, "%d %.4f\n", t->n - 1 - k, level_at(ts, j));
			any = 1;
			for (size_t c = 0; c < ts->ncp; c++)
				if (ts->cp[c].index == j) {
					fprintf(cpf, "%d %.4f\n", t->n - 1 - k, ts->cp[c].mean_after);
					(*changes)++;
				}
			break;
		}
	if (any)
		fprintf(lv, "\n\n");
	return any;
}

/* One workload's trend chart (one unit per chart): a line per series of the current run, oldest run first. */
static void trend_chart(struct rep *r, const char *workload, const struct trend_runs *t, int *flagged_total)
{
	char key[64], *name, *flagname, *levelname, *cpname;
	struct dfile df, dfl, dlv, dcp;
	char plots[4096] = "", levels[4096] = "";
	int idx = 0, flagged = 0, nlevels = 0, changes = 0;

	rep_file_key(key, sizeof(key), workload);
	name = vb_strdupf("trend-%s", key);
	flagname = vb_strdupf("trend-%s-flagged", key);
	levelname = vb_strdupf("trend-%s-levels", key);
	cpname = vb_strdupf("trend-%s-changes", key);
	FILE *d = rep_data_file(r, name, &df), *fl = rep_data_file(r, flagname, &dfl);
	FILE *lv = rep_data_file(r, levelname, &dlv), *cpf = rep_data_file(r, cpname, &dcp);

	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		char l[96];

		if (strcmp(s->workload, workload) != 0 || strcmp(s->metric, rep_headline(s->workload)) != 0)
			continue;
		rep_label(l, sizeof(l), s);
		for (int k = t->n - 1; k >= 0; k--) {
			const struct series *p = t->have[k] ? series_find(&t->sets[k], s->workload, s->config,
									   s->topology, s->dom0, s->metric)
							    : NULL;

			if (!p || !p->n)
				continue;
			fprintf(d, "%d %.4f\n", t->n - 1 - k, stats_median_of(p->v, p->n));
			for (size_t x = 0; t->have_cmp[k] && x < t->cmp[k].nrows; x++) {
				const struct compare_row *row = &t->cmp[k].rows[x];

				if (row->verdict == V_REGRESSION && row->cur->topology == s->topology &&
				    row->cur->dom0 == s->dom0 && !strcmp(row->cur->config, s->config) &&
				    !strcmp(row->cur->metric, s->metric) && !strcmp(row->cur->workload, s->workload)) {
					fprintf(fl, "%d %.4f\n", t->n - 1 - k, row->m_new);
					flagged++;
				}
			}
		}
		fprintf(d, "\n\n");
		char title[200];

		rep_gp_quote(title, sizeof(title), l);
		snprintf(plots + strlen(plots), sizeof(plots) - strlen(plots),
			 "%s'%s' index %d using 1:2 with linespoints lw 2 lc %d title %s", idx ? ", " : "", df.name,
			 idx, idx + 1, title);
		if (trend_levels(lv, cpf, t, s, &changes)) {
			snprintf(levels + strlen(levels), sizeof(levels) - strlen(levels),
				 ", '%s' index %d using 1:2 with steps dt 2 lc %d notitle", dlv.name, nlevels, idx + 1);
			nlevels++;
		}
		idx++;
	}
	rep_data_done(r, &df);
	rep_data_done(r, &dfl);
	rep_data_done(r, &dlv);
	rep_data_done(r, &dcp);
	if (idx) {
		char ylabel[200], what[160], caption[512];

		snprintf(what, sizeof(what), "%s %s", workload, rep_headline(workload));
		rep_gp_quote(ylabel, sizeof(ylabel), what);
		char *script = vb_strdupf("set xlabel 'run (oldest → newest, last %d of plan)'\nset ylabel %s\n"
					  "set xtics 1\nset yrange [0:*]\nplot %s%s%s%s%s%s%s%s\n",
					  t->n, ylabel, plots, levels, flagged ? ", '" : "", flagged ? dfl.name : "",
					  flagged ? "' using 1:2 with points pt 7 ps 2 lc rgb 'red' title 'regression'"
						  : "",
					  changes ? ", '" : "", changes ? dcp.name : "",
					  changes ? "' using 1:2 with points pt 9 ps 2.5 lc rgb 'black' title "
						    "'change point'"
						  : "");

		snprintf(caption, sizeof(caption),
			 "%s: median of %s over the latest runs of this plan; red points are flagged regressions "
			 "against the run before%s.",
			 workload, rep_headline(workload),
			 nlevels ? "; dashed steps are the levels the trends find in the series (its whole history on "
				   "this host), black triangles its change points"
				 : "");
		rep_chart(r, name, script, caption);
		free(script);
	}
	*flagged_total += flagged;
	free(df.name);
	free(dfl.name);
	free(dlv.name);
	free(dcp.name);
	free(name);
	free(flagname);
	free(levelname);
	free(cpname);
}

/* The runs a trend shows, newest first. */
struct trend_ids {
	char (*id)[STORE_RUN_ID_MAX];
	int n;
};

static void trend_id(void *ctx, const char *const *cols)
{
	struct trend_ids *t = ctx;

	if (t->n < TREND_RUNS)
		snprintf(t->id[t->n++], sizeof(t->id[0]), "%s", cols[0]);
}

/* A change point of the table: its series and which. */
struct cp_row {
	const struct trend_series *t;
	size_t k;
};

static int cp_newest_first(const void *a, const void *b)
{
	const struct cp_row *x = a, *y = b;
	int c = strcmp(y->t->at[y->t->cp[y->k].index], x->t->at[x->t->cp[x->k].index]);

	return c ? c : strcmp(x->t->metric, y->t->metric);
}

/* The change points of this host's series of the plan up to this run, newest first, with what changed on the host
 * across each; and how many series are still too short to hold one. */
static void change_table(struct rep *r, const struct trend_set *ts, const char *until)
{
	struct cp_row *rows = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < ts->n; i++)
		for (size_t k = 0; k < ts->s[i].ncp; k++)
			if (strcmp(ts->s[i].at[ts->s[i].cp[k].index], until) <= 0) {
				struct cp_row *x = vb_push((void **)&rows, &n, &cap, sizeof(*rows));

				x->t = &ts->s[i];
				x->k = k;
			}
	if (n)
		qsort(rows, n, sizeof(*rows), cp_newest_first);
	fprintf(r->html, "<h3 id=changepoints>Change points</h3>\n<p>Where the level of a series of this plan on "
			 "this host changed, over %zu series and %zu runs' points (<code>vgpubench trends</code>; "
			 "docs/trends.md says how they are found): %zu.",
		ts->n, ts->points, n);
	if (ts->short_series)
		fprintf(r->html, " %zu series have fewer than %zu runs: a change point needs %zu on either side.",
			ts->short_series, 2 * ts->min_segment, ts->min_segment);
	if (ts->merged_series)
		fprintf(r->html, " A night run more than once is one point (the runs within %d h of its first).",
			TRENDS_NIGHT_S / 3600);
	fprintf(r->html, "</p>\n");
	if (n)
		fprintf(r->html, "<table><tr><th>workload</th><th>metric</th><th>config</th><th>guests</th>"
				 "<th>first run after the change</th><th>before</th><th>after</th><th>change</th>"
				 "<th>p</th><th>verdict</th><th>what else changed</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct trend_series *t = rows[i].t;
		const struct changepoint *c = &t->cp[rows[i].k];
		char differs[1024];

		trends_across(r->st, t, c->index, differs, sizeof(differs));
		fprintf(r->html, "<tr class=\"%s\"><td>", trends_worse(t, c) ? "regression" : "improvement");
		vb_xml_escape(r->html, t->workload);
		fprintf(r->html, "</td><td>");
		vb_xml_escape(r->html, t->metric);
		fprintf(r->html, "</td><td>");
		vb_xml_escape(r->html, t->config);
		if (t->topology)
			fprintf(r->html, "</td><td>%d%s</td><td>", t->topology, t->dom0 ? "+dom0" : "");
		else
			fprintf(r->html, "</td><td>host</td><td>");
		vb_xml_escape(r->html, t->run[c->index]);
		fprintf(r->html, "</td><td>%.4g</td><td>%.4g</td><td>%+.1f%%</td><td>%.2g</td><td>%s%s</td><td>",
			c->mean_before, c->mean_after, c->change_pct, c->p,
			trends_worse(t, c) ? "regression" : "improvement",
			trends_recent(t, rows[i].k, ts->min_segment) ? " (new)" : "");
		vb_xml_escape(r->html, differs[0] ? differs : "nothing recorded");
		fprintf(r->html, "</td></tr>\n");
	}
	if (n)
		fprintf(r->html, "</table>\n");
	free(rows);
	/* What the newest night changed, when this run is the newest of the series. */
	n = 0;
	for (size_t i = 0; i < ts->n; i++)
		for (size_t k = 0; ts->s[i].n && strcmp(ts->s[i].at[ts->s[i].n - 1], until) <= 0 && k < ts->s[i].nrev;
		     k++) {
			char what[400];

			if (!n++)
				fprintf(r->html, "<p>The newest night changed what was found before it:</p>\n<ul>\n");
			trends_revision_text(&ts->s[i], &ts->s[i].rev[k], what, sizeof(what));
			fprintf(r->html, "<li>");
			vb_xml_escape(r->html, ts->s[i].workload);
			fprintf(r->html, " ");
			vb_xml_escape(r->html, ts->s[i].metric);
			fprintf(r->html, " ");
			vb_xml_escape(r->html, ts->s[i].config);
			fprintf(r->html, ": ");
			vb_xml_escape(r->html, what);
			fprintf(r->html, "</li>\n");
		}
	if (n)
		fprintf(r->html, "</ul>\n");
}

void rep_section_trends(struct rep *r)
{
	char ids[TREND_RUNS][STORE_RUN_ID_MAX];
	struct trend_runs t = { 0 };
	struct compare_opts o = { .threshold_pct = REPORT_THRESHOLD_PCT, .alpha = 0.05 };
	int flagged = 0, charts = r->charts + r->failed, have_ts = 0;
	struct trend_ids ti = { ids, 0 };
	struct store_run_row run;
	struct trend_set ts = { 0 };

	fprintf(r->html, "<h2 id=trends>Nightly trends</h2>\n");
	if (store_plan_history(r->st, r->run, TREND_RUNS, trend_id, &ti) < 0)
		return;
	t.n = ti.n;
	t.id = ids;
	/* The change points come from the series' whole history on this run's host (as `trends --host H --plan P`). */
	if (store_run_row_get(r->st, r->run, &run) == 0) {
		struct trends_opts to = { .host = run.host && run.host[0] ? run.host : NULL, .plan = run.plan };

		have_ts = trends_load(r->st, &to, &ts) == 0;
		if (!have_ts)
			rep_unreadable(r, "the series' change points");
		t.ts = have_ts ? &ts : NULL;
	}
	/* Each run is loaded, and each run compared with the one before it, once. */
	for (int k = 0; k < t.n; k++) {
		t.have[k] = series_load(r->st, ids[k], &t.sets[k]) == 0;
		t.have_cmp[k] = k + 1 < t.n && compare_build(r->st, ids[k], ids[k + 1], &o, &t.cmp[k]) == 0;
	}
	/* One chart per workload: never two units on one axis. */
	for (size_t i = 0; i < r->set.n; i++)
		if (i == 0 || strcmp(r->set.s[i].workload, r->set.s[i - 1].workload) != 0)
			trend_chart(r, r->set.s[i].workload, &t, &flagged);
	for (int k = 0; k < t.n; k++) {
		if (t.have[k])
			series_free(&t.sets[k]);
		if (t.have_cmp[k])
			compare_free(&t.cmp[k]);
	}
	if (r->charts + r->failed > charts)
		fprintf(r->html, "<p>%d run%s of this plan shown; %d flagged point%s.</p>\n", t.n, t.n == 1 ? "" : "s",
			flagged, flagged == 1 ? "" : "s");
	else
		fprintf(r->html, "<p>No results to trend.</p>\n");
	if (have_ts)
		change_table(r, &ts, run.started_at ? run.started_at : "9999");
	trends_free(&ts);
	store_run_row_free(&run);
}

/* A configuration x guest count's piglit counts as a table row, the table opened before the first. */
struct piglit_table {
	FILE *html;
	int rows;
};

static void piglit_row(void *ctx, const struct store_piglit_counts *c)
{
	struct piglit_table *t = ctx;

	if (!t->rows++)
		fprintf(t->html, "<table><tr><th>config</th><th>guests</th><th>pass rate</th><th>pass</th>"
				 "<th>warn</th><th>fail</th><th>crash/timeout</th><th>skip</th></tr>\n");
	fprintf(t->html, "<tr><td>");
	vb_xml_escape(t->html, c->config);
	fprintf(t->html, "</td><td>%d</td><td>%.1f%%</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td></tr>\n",
		c->topology, c->total > c->skip ? 100.0 * c->pass / (c->total - c->skip) : 0.0, c->pass, c->warn,
		c->fail, c->crash, c->skip);
}

void rep_section_piglit(struct rep *r)
{
	struct piglit_table t = { r->html, 0 };
	int rows;

	fprintf(r->html, "<h2 id=piglit>piglit</h2>\n");
	if (store_piglit_counts(r->st, r->run, piglit_row, &t) < 0)
		return;
	rows = t.rows;
	if (rows)
		fprintf(r->html, "</table>\n");
	else
		fprintf(r->html, "<p>No piglit results in this run.</p>\n");

	/* Changes against the previous run of the plan. */
	char base[STORE_RUN_ID_MAX];
	struct comparison c;
	struct compare_opts o = { .threshold_pct = REPORT_THRESHOLD_PCT, .alpha = 0.05 };

	if (rows && series_previous_run(r->st, r->run, base, sizeof(base)) == 0 &&
	    compare_build(r->st, r->run, base, &o, &c) == 0) {
		fprintf(r->html, "<p>Changes against %s: %d regression(s), %d fix(es).</p>\n<ul>\n", base,
			c.status_regressions, c.status_fixes);
		for (size_t i = 0; i < c.nchanges; i++) {
			fprintf(r->html, "<li class=\"%s\">%s: ", c.changes[i].kind, c.changes[i].kind);
			vb_xml_escape(r->html, c.changes[i].name);
			fprintf(r->html, " (%s ×%d) %s → %s</li>\n", c.changes[i].config, c.changes[i].topology,
				c.changes[i].old_status[0] ? c.changes[i].old_status : "absent",
				c.changes[i].new_status[0] ? c.changes[i].new_status : "absent");
		}
		fprintf(r->html, "</ul>\n");
		compare_free(&c);
	}
}
