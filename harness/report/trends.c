/* trends.c: the report's history sections: each row over the previous runs of its plan, and piglit's
 * subtests. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "report/rep.h"
#include "stats.h"
#include "util.h"

struct trend_runs {
	int n;
	struct series_set sets[TREND_RUNS];
	struct comparison cmp[TREND_RUNS];
	int have[TREND_RUNS], have_cmp[TREND_RUNS];
};

/* One workload's trend chart (one unit per chart): a line per series of the current run, oldest run first. */
static void trend_chart(struct rep *r, const char *workload, const struct trend_runs *t, int *flagged_total)
{
	char key[64], *name, *flagname;
	struct dfile df, dfl;
	char plots[4096] = "";
	int idx = 0, flagged = 0;

	rep_file_key(key, sizeof(key), workload);
	name = vb_strdupf("trend-%s", key);
	flagname = vb_strdupf("trend-%s-flagged", key);
	FILE *d = rep_data_file(r, name, &df), *fl = rep_data_file(r, flagname, &dfl);

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
			 "%s'%s' index %d using 1:2 with linespoints lw 2 title %s", idx ? ", " : "", df.name, idx, title);
		idx++;
	}
	rep_data_done(r, &df);
	rep_data_done(r, &dfl);
	if (idx) {
		char ylabel[200], what[160], caption[512];

		snprintf(what, sizeof(what), "%s %s", workload, rep_headline(workload));
		rep_gp_quote(ylabel, sizeof(ylabel), what);
		char *script = vb_strdupf("set xlabel 'run (oldest → newest, last %d of plan)'\nset ylabel %s\n"
					  "set xtics 1\nset yrange [0:*]\nplot %s%s%s%s\n",
					  t->n, ylabel, plots, flagged ? ", '" : "", flagged ? dfl.name : "",
					  flagged ? "' using 1:2 with points pt 7 ps 2 lc rgb 'red' title 'regression'" : "");

		snprintf(caption, sizeof(caption),
			 "%s: median of %s over the latest runs of this plan; red points are flagged regressions against "
			 "the run before.",
			 workload, rep_headline(workload));
		rep_chart(r, name, script, caption);
		free(script);
	}
	*flagged_total += flagged;
	free(df.name);
	free(dfl.name);
	free(name);
	free(flagname);
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

void rep_section_trends(struct rep *r)
{
	char ids[TREND_RUNS][STORE_RUN_ID_MAX];
	struct trend_runs t = { 0 };
	struct compare_opts o = { .threshold_pct = REPORT_THRESHOLD_PCT, .alpha = 0.05 };
	int flagged = 0, charts = r->charts + r->failed;
	struct trend_ids ti = { ids, 0 };

	fprintf(r->html, "<h2 id=trends>Nightly trends</h2>\n");
	if (store_plan_history(r->st, r->run, TREND_RUNS, trend_id, &ti) < 0)
		return;
	t.n = ti.n;
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
