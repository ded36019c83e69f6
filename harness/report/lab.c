/* lab.c: the lab page (vgpubench report --lab): one page for a database several hosts write into. A table with
 * each host's latest run of each plan, marked when it failed or is older than two days, and the headline ratios of
 * that host's latest complete run of the plan (mediated ÷ native, ÷ its peer, ÷ passthrough, for each workload's
 * headline metric at its smallest guest count); then each headline metric's trend under the mediator, a line per
 * host and workload, one chart per unit. Runs are read in one query and trends in one more, so the page's cost
 * grows with the hosts and plans, hardly with the nights. */
#define _GNU_SOURCE
#include "report/report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "configs/configs.h"
#include "report/rep.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

/* A host whose latest run is older than this has stopped running its nightly. */
#define LAB_STALE_S (2 * 24 * 3600)
/* The most trend lines one chart draws (hosts x workloads of one unit); more are said, not drawn. */
#define LAB_MAX_LINES 64

/* Each host's plan, as the runs were read: its latest run and its latest complete one. */
struct lab_plan {
	char host[64], plan[64];
	char last[STORE_RUN_ID_MAX], last_status[16], last_started[32];
	char done[STORE_RUN_ID_MAX]; /* latest complete run ("": none) */
	int runs;
};

struct lab_plans {
	struct lab_plan *p;
	size_t n, cap;
};

static void on_run(void *ctx, const struct store_lab_run *r)
{
	struct lab_plans *l = ctx;
	struct lab_plan *p = l->n ? &l->p[l->n - 1] : NULL;

	if (!p || strcmp(p->host, r->host) || strcmp(p->plan, r->plan)) {
		p = vb_push((void **)&l->p, &l->n, &l->cap, sizeof(*p));
		snprintf(p->host, sizeof(p->host), "%s", r->host);
		snprintf(p->plan, sizeof(p->plan), "%s", r->plan);
	}
	p->runs++;
	snprintf(p->last, sizeof(p->last), "%s", r->id);
	snprintf(p->last_status, sizeof(p->last_status), "%s", r->status);
	snprintf(p->last_started, sizeof(p->last_started), "%s", r->started_at);
	if (!strcmp(r->status, "complete"))
		snprintf(p->done, sizeof(p->done), "%s", r->id);
}

/* Seconds from an ISO time (2026-12-07T08:00:00Z) to now; -1 when it is not one. */
static double age_s(const char *iso)
{
	time_t t;

	return vb_utc_parse(iso, &t) < 0 ? -1 : difftime(time(NULL), t);
}

/* a ÷ b of two series' medians as a table cell, or a dash where either is missing. */
static void ratio_cell(FILE *f, const struct series *a, const struct series *b, const char *title)
{
	double ma = a && a->n ? stats_median_of(a->v, a->n) : NAN, mb = b && b->n ? stats_median_of(b->v, b->n) : NAN;

	if (isnan(ma) || isnan(mb) || mb == 0) {
		fprintf(f, "<td class=na>–</td>");
		return;
	}
	fprintf(f, "<td title=\"");
	vb_xml_escape(f, title);
	fprintf(f, "\">%.2fx</td>", ma / mb);
}

/* The run's cells: "host, plan, latest run" spans its workload rows (nrows). */
static void plan_cells(FILE *f, const struct lab_plan *p, int nrows)
{
	double age = age_s(p->last_started);
	int failed = strcmp(p->last_status, "complete") != 0 && strcmp(p->last_status, "running") != 0;

	fprintf(f, "<tr><td rowspan=%d>", nrows);
	vb_xml_escape(f, p->host[0] ? p->host : "(not recorded)");
	fprintf(f, "</td><td rowspan=%d>", nrows);
	vb_xml_escape(f, p->plan);
	fprintf(f, "</td><td rowspan=%d%s>", nrows, failed || age > LAB_STALE_S ? " class=mark" : "");
	vb_xml_escape(f, p->last);
	fprintf(f, "<br>");
	vb_xml_escape(f, p->last_status);
	fprintf(f, ", ");
	vb_xml_escape(f, p->last_started);
	if (failed)
		fprintf(f, "<br><b>last run %s</b>", p->last_status);
	if (age > LAB_STALE_S)
		fprintf(f, "<br><b>stale: %.0f days without a run</b>", age / 86400);
	fprintf(f, " (%d run%s)</td>", p->runs, p->runs == 1 ? "" : "s");
}

/* One workload's row of a host's plan: its mediated series at its smallest guest count, and what it is divided by. */
struct lab_row {
	const struct series *m, *nat, *peer, *pas;
	const char *peer_name;
};

/* The rows of one run's series (at most max): a workload each, where the mediator ran it. */
static int lab_rows(const struct series_set *set, struct lab_row *rows, int max)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED), *pt = config_with_role(ROLE_PASSTHROUGH);
	int n = 0;

	for (size_t first = 0, i = 1; med && first < set->n && n < max; i++) {
		const char *w = set->s[first].workload, *metric = rep_headline(w);
		struct lab_row *row = &rows[n];

		if (i < set->n && strcmp(set->s[i].workload, w) == 0)
			continue;
		/* set->s[first..i) is one workload */
		memset(row, 0, sizeof(*row));
		for (size_t k = first; k < i; k++) {
			const struct series *x = &set->s[k];

			if (!x->dom0 && x->topology > 0 && !strcmp(x->config, med->name) &&
			    !strcmp(x->metric, metric) && (!row->m || x->topology < row->m->topology))
				row->m = x;
		}
		first = i;
		if (!row->m)
			continue;
		row->nat = series_find(set, w, config_baseline(), 0, 0, metric);
		row->pas = pt ? series_find(set, w, pt->name, row->m->topology, 0, metric) : NULL;
		for (size_t c = 0; config_at(c) && !row->peer; c++)
			if (config_at(c)->peer &&
			    (row->peer = series_find(set, w, config_at(c)->name, row->m->topology, 0, metric)))
				row->peer_name = config_at(c)->name;
		n++;
	}
	return n;
}

/* One host's plan: a row per workload of its latest complete run, with its headline ratios. */
static void plan_rows(struct rep *r, const struct lab_plan *p)
{
	struct series_set set = { 0 };
	struct lab_row rows[STORE_LAB_PAIRS];
	int n;

	if (!p->done[0] || series_load(r->st, p->done, &set) < 0) {
		plan_cells(r->html, p, 1);
		fprintf(r->html, "<td colspan=6 class=na>%s</td></tr>\n",
			p->done[0] ? "its results could not be read (the reason was said)" : "no complete run yet");
		r->failed += p->done[0] != '\0'; /* the page is then incomplete, and says so */
		return;
	}
	n = lab_rows(&set, rows, STORE_LAB_PAIRS);
	plan_cells(r->html, p, n ? n : 1);
	if (!n) {
		fprintf(r->html, "<td colspan=6 class=na>no mediated results in ");
		vb_xml_escape(r->html, p->done);
		fprintf(r->html, "</td></tr>\n");
	}
	for (int i = 0; i < n; i++) {
		const char *metric = rep_headline(rows[i].m->workload);

		fprintf(r->html, "%s<td>", i ? "<tr>" : "");
		vb_xml_escape(r->html, rows[i].m->workload);
		fprintf(r->html, " (");
		vb_xml_escape(r->html, metric);
		fprintf(r->html, ")</td><td>%d</td>", rows[i].m->topology);
		ratio_cell(r->html, rows[i].m, rows[i].nat, "mediated ÷ native");
		ratio_cell(r->html, rows[i].m, rows[i].peer, "mediated ÷ peer");
		ratio_cell(r->html, rows[i].m, rows[i].pas, "mediated ÷ passthrough");
		fprintf(r->html, "<td>");
		vb_xml_escape(r->html, rows[i].peer_name ? rows[i].peer_name : "");
		fprintf(r->html, "</td></tr>\n");
	}
	series_free(&set);
}

/* One trend line: a host's workload's headline metric under the mediator, a point per run (its median). */
struct lab_line {
	char host[64], workload[64], metric[96], unit[16];
	int topology;
	char (*at)[32];
	double *median;
	size_t n, cap;
};

/* The lines as the values arrive, and the point being gathered: a run of the last line, its start, its values. */
struct lab_trends {
	struct lab_line *l;
	size_t n, cap;
	char run[STORE_RUN_ID_MAX], at[32];
	double *v;
	size_t nv, capv;
};

/* The values gathered for the current run as a point of the last line. */
static void point_done(struct lab_trends *t)
{
	struct lab_line *l;

	if (!t->nv || !t->n)
		return;
	l = &t->l[t->n - 1];
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->at = realloc(l->at, l->cap * sizeof(*l->at));
		l->median = realloc(l->median, l->cap * sizeof(*l->median));
		if (!l->at || !l->median)
			abort();
	}
	snprintf(l->at[l->n], sizeof(l->at[l->n]), "%s", t->at);
	l->median[l->n++] = stats_median_of(t->v, t->nv);
	t->nv = 0;
}

static void on_value(void *ctx, const struct store_lab_value *v)
{
	struct lab_trends *t = ctx;
	struct lab_line *l = t->n ? &t->l[t->n - 1] : NULL;
	const char *host = v->host[0] ? v->host : "(not recorded)";

	if (!l || strcmp(l->host, host) || strcmp(l->workload, v->workload) || strcmp(l->metric, v->metric)) {
		point_done(t);
		l = vb_push((void **)&t->l, &t->n, &t->cap, sizeof(*l));
		snprintf(l->host, sizeof(l->host), "%s", host);
		snprintf(l->workload, sizeof(l->workload), "%s", v->workload);
		snprintf(l->metric, sizeof(l->metric), "%s", v->metric);
		snprintf(l->unit, sizeof(l->unit), "%s", v->unit);
		l->topology = v->topology; /* the smallest guest count comes first */
		t->run[0] = '\0';
	}
	if (v->topology != l->topology || isnan(v->value))
		return; /* a larger guest count: the table shows the smallest, and so do the charts */
	if (strcmp(t->run, v->run) != 0) {
		point_done(t);
		snprintf(t->run, sizeof(t->run), "%s", v->run);
		snprintf(t->at, sizeof(t->at), "%.19s", v->started_at);
	}
	if (t->nv == t->capv) {
		t->capv = t->capv ? 2 * t->capv : 64;
		if (!(t->v = realloc(t->v, t->capv * sizeof(*t->v))))
			abort();
	}
	t->v[t->nv++] = v->value;
}

/* The chart of every line whose unit is unit (first: the first such line), a line per host and workload. */
static void unit_chart(struct rep *r, struct lab_trends *t, size_t first, int chart)
{
	const char *unit = t->l[first].unit;
	char name[32], plot[8192] = "", title[160], q[200], ylabel[64], caption[256];
	struct dfile df;
	FILE *d;
	int lines = 0, left_out = 0;

	snprintf(name, sizeof(name), "lab-trend-%d", chart);
	d = rep_data_file(r, name, &df);
	for (size_t i = first; i < t->n; i++) {
		const struct lab_line *l = &t->l[i];
		size_t used = strlen(plot);

		if (strcmp(l->unit, unit) != 0 || l->n == 0)
			continue;
		if (lines == LAB_MAX_LINES) {
			left_out++;
			continue;
		}
		for (size_t k = 0; k < l->n; k++)
			fprintf(d, "%s %.10g\n", l->at[k], l->median[k]);
		fprintf(d, "\n\n");
		snprintf(title, sizeof(title), "%s: %s x%d", l->host, l->workload, l->topology);
		rep_gp_quote(q, sizeof(q), title);
		snprintf(plot + used, sizeof(plot) - used, "%s'%s' index %d using 1:2 with linespoints title %s",
			 lines ? ", " : "", df.name, lines, q);
		lines++;
	}
	rep_data_done(r, &df);
	rep_gp_quote(ylabel, sizeof(ylabel), unit[0] ? unit : "value");
	char *script = vb_strdupf("set xdata time\nset timefmt '%%Y-%%m-%%dT%%H:%%M:%%S'\nset format x '%%m-%%d'\n"
				  "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n"
				  "set xlabel 'run started (UTC)'\nset ylabel %s\nplot %s\n",
				  ylabel, plot);

	snprintf(caption, sizeof(caption),
		 "Each host's median %s under the mediator, a point per run, at the smallest guest count it ran%s.",
		 unit[0] ? unit : "value", left_out ? " (more lines than one chart can show were left out)" : "");
	rep_chart(r, name, script, caption);
	free(script);
	free(df.name);
}

/* The trends: one query for every value, then a chart per unit. */
static void lab_trends(struct rep *r)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED);
	const char *pairs[STORE_LAB_PAIRS][2];
	struct lab_trends t = { 0 };
	size_t np = 0;
	int charts = 0;

	fprintf(r->html, "<h2 id=trends>Trends under the mediator</h2>\n");
	for (size_t i = 0; workload_at(i) && np < STORE_LAB_PAIRS; i++) {
		pairs[np][0] = workload_at(i)->name;
		pairs[np++][1] = workload_at(i)->headline_metric;
	}
	if (!med || store_lab_values(r->st, med->name, (const char *const(*)[2])pairs, np, on_value, &t) < 0) {
		rep_unreadable(r, "the runs' values");
		goto out;
	}
	point_done(&t);
	for (size_t i = 0; i < t.n; i++) {
		int seen = 0;

		for (size_t k = 0; k < i; k++)
			seen |= !strcmp(t.l[k].unit, t.l[i].unit);
		if (!seen)
			unit_chart(r, &t, i, charts++);
	}
	if (!charts)
		fprintf(r->html, "<p>No mediated results in the database yet.</p>\n");
out:
	for (size_t i = 0; i < t.n; i++) {
		free(t.l[i].at);
		free(t.l[i].median);
	}
	free(t.l);
	free(t.v);
}

/* The hosts' table. */
static void lab_table(struct rep *r, const struct lab_plans *pl)
{
	fprintf(r->html, "<h2 id=hosts>Hosts</h2>\n<table><tr><th>host</th><th>plan</th><th>latest run</th>"
			 "<th>workload (metric)</th><th>guests</th><th>mediated ÷ native</th><th>mediated ÷ peer</th>"
			 "<th>mediated ÷ passthrough</th><th>peer</th></tr>\n");
	for (size_t i = 0; i < pl->n; i++)
		plan_rows(r, &pl->p[i]);
	fprintf(r->html, "</table>\n<p>Ratios of medians over every guest and repetition of the latest complete "
			 "run of each host's plan; a latest run that failed, or is more than two days old, is "
			 "marked.</p>\n");
}

int report_lab(struct store *st, const char *reports_dir, char **path_out)
{
	struct rep r = { .st = st, .run = "lab" };
	struct lab_plans pl = { 0 };
	struct vb_out page;
	char *path;
	int rc = -1;

	r.dir = vb_strdupf("%s/lab", reports_dir);
	r.data = vb_strdupf("%s/data", r.dir);
	path = vb_strdupf("%s/index.html", r.dir);
	if (vb_mkdirs(r.data, 0755) < 0) {
		vb_err("cannot create %s: %s", r.data, strerror(errno));
		goto out;
	}
	if (store_lab_runs(st, on_run, &pl) < 0 || vb_out_open(&page, path) < 0)
		goto out;
	r.html = page.f;
	fprintf(r.html, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n<title>vgpubench lab</title>\n"
			"<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
			"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
			"text-align:left;vertical-align:top}th{background:#eee}td.mark{background:#f8d0d0}"
			"td.na{color:#777;font-size:90%%}figure{margin:1em 0}"
			"figcaption{font-size:90%%;color:#555}</style>\n"
			"</head><body>\n<h1>vgpubench lab: %zu host plan%s</h1>\n",
		pl.n, pl.n == 1 ? "" : "s");
	if (!pl.n)
		fprintf(r.html, "<p>The database has no runs yet.</p>\n");
	else {
		lab_table(&r, &pl);
		lab_trends(&r);
	}
	fprintf(r.html, "</body></html>\n");
	if (vb_out_commit(&page) < 0)
		goto out;
	rc = r.failed ? -1 : 0;
	if (r.failed)
		vb_err("lab page %s: %d chart%s or data file%s could not be made", path, r.failed,
		       r.failed == 1 ? "" : "s", r.failed == 1 ? "" : "s");
	if (path_out) {
		*path_out = path;
		path = NULL;
	}
out:
	free(pl.p);
	free(path);
	free(r.dir);
	free(r.data);
	return rc;
}
