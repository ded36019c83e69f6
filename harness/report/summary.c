/* summary.c: the report's opening sections: the triangle (each configuration against native, passthrough and the
 * lab) and the summary table with each row's detectable change. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "analysis/verdict.h"
#include "configs/configs.h"
#include "report/rep.h"
#include "stats.h"
#include "util.h"

/* Did config's jobs in this run come from a nested lab (store_lab_get)? Its numbers prove a path, not a speed. */
static int is_lab(struct rep *r, const char *config)
{
	return verdict_is_lab(r->st, r->run, config);
}

/* The native series s is a share of, or NULL (none, or s is a nested lab's). */
static const struct series *native_of(struct rep *r, const struct series *s)
{
	return is_lab(r, s->config) ? NULL : series_find(&r->set, s->workload, config_baseline(), 0, 0, s->metric);
}

/* The corners the triangle names without a number, each said once under it: who, and why. */
struct absent_corners {
	char who[8][32], why[8][400];
	int n;
};

/* Keep corner `name`'s reason (the first time it is met). */
static void absent_note(struct absent_corners *ab, const char *name, const char *why)
{
	for (int i = 0; i < ab->n; i++)
		if (!strcmp(ab->who[i], name))
			return;
	if (ab->n == 8)
		return;
	snprintf(ab->who[ab->n], sizeof(ab->who[0]), "%s", name);
	snprintf(ab->why[ab->n++], sizeof(ab->why[0]), "%s", why);
}

/* The jobs a group (configuration, guest count, workload) of the run has, whatever became of them. */
struct group_jobs {
	const char *config, *workload;
	int topology, jobs;
};

static void count_group(void *ctx, const struct store_job_group *g)
{
	struct group_jobs *q = ctx;

	if (g->topology == q->topology && !strcmp(g->config, q->config) && !strcmp(g->workload, q->workload))
		q->jobs += g->jobs;
}

/* One cell of the triangle: median(a) ÷ median(b) with its 95% interval, or a short word for why there is none
 * (the reason itself is kept in ab, said once under the table). */
static void triangle_cell(struct rep *r, const struct series *a, const struct series *b, const char *aname,
			  const char *bname, const char *workload, int guests, struct absent_corners *ab)
{
	const char *names[2] = { aname, bname };
	const struct series *ss[2] = { a, b };

	for (int k = 0; k < 2; k++)
		if (ss[k] && ss[k]->n && is_lab(r, names[k])) {
			fprintf(r->html, "<td class=na>%s nested lab only (median %.1f)</td>", names[k],
				stats_median_of(ss[k]->v, ss[k]->n));
			absent_note(ab, names[k],
				    "ran in the nested lab only: it proves the path, not the speed (see the "
				    "environment's nested lab fact)");
			return;
		}
	if (a && b && a->n && b->n && !(stats_median_of(b->v, b->n) > 0)) {
		fprintf(r->html, "<td class=na>no ratio (%s median %g)</td>", bname, stats_median_of(b->v, b->n));
		return;
	}
	if (a && b && a->n && b->n) {
		double ratio = 100.0 * stats_median_of(a->v, a->n) / stats_median_of(b->v, b->n);
		struct stats_ci ci = stats_bootstrap_ratio(a->v, a->n, b->v, b->n, BOOT_ITERS, BOOT_SEED);

		fprintf(r->html, "<td>%.1f%% (%.1f – %.1f%%)</td>", ratio, 100 * ci.lo, 100 * ci.hi);
		return;
	}
	for (int k = 0; k < 2; k++) {
		char *status, *reason, *why;

		if (ss[k] && ss[k]->n)
			continue;
		const struct config_def *def = names[k] ? config_find(names[k]) : NULL;

		if (!names[k]) {
			fprintf(r->html, "<td class=na>no such configuration</td>");
		} else if (store_config_get(r->st, r->run, names[k], &status, &reason) < 0) {
			fprintf(r->html, "<td class=na>%s not in the plan</td>", names[k]);
			absent_note(ab, names[k], "is not in this run's plan");
		} else {
			int skipped = strcmp(status, "skipped") == 0;
			/* Not a failure: a configuration that never runs with so many guests (passthrough: one). */
			int too_many = !skipped && def && def->max_guests && guests > def->max_guests;
			struct group_jobs q = { names[k], workload, guests, 0 };

			if (!skipped && !too_many && guests &&
			    store_job_groups(r->st, r->run, NULL, count_group, &q) == 0 && !q.jobs) {
				/* Not a failure either: the plan did not run it with so many guests. */
				fprintf(r->html, "<td class=na>%s not run with %d guest%s</td>", names[k], guests,
					guests == 1 ? "" : "s");
				why = vb_strdupf("was not run with %d guest%s in this run", guests,
						 guests == 1 ? "" : "s");
			} else if (too_many) {
				fprintf(r->html, "<td class=na>%s %d guest%s at most</td>", names[k], def->max_guests,
					def->max_guests == 1 ? "" : "s");
				why = vb_strdupf("runs with %d guest%s at most (%s), so has no row with more",
						 def->max_guests, def->max_guests == 1 ? "" : "s", def->description);
			} else {
				fprintf(r->html, "<td class=na>%s %s</td>", names[k],
					skipped ? "skipped" : "had no successful job");
				why = skipped ? vb_strdupf("did not run here: %s", reason ? reason : "skipped")
					      : vb_strdup("had no successful job here (the summary's jobs say why)");
			}
			absent_note(ab, names[k], why);
			free(why);
			free(status);
			free(reason);
		}
		return;
	}
}

/* The report opens with the verdict: its sentences, then its table of ratios (verdict.h). */
void rep_section_verdict(struct rep *r)
{
	struct run_verdict *v = malloc(sizeof(*v));

	if (!v || verdict_build(r->st, r->run, v) < 0) {
		free(v);
		fprintf(r->html, "<h2 id=verdict>Verdict</h2>\n<p class=err>The verdict could not be made (see the "
				 "harness's messages).</p>\n");
		return;
	}
	fprintf(r->html, "<h2 id=verdict>Verdict</h2>\n<ul>\n");
	for (size_t i = 0; i < v->nlines; i++) {
		fprintf(r->html, "<li>");
		vb_xml_escape(r->html, v->lines[i]);
		fprintf(r->html, "</li>\n");
	}
	fprintf(r->html, "</ul>\n");
	if (v->n) {
		fprintf(r->html, "<table><tr><th>workload</th><th>metric</th><th>ratio</th><th>guests</th>"
				 "<th>median ÷ median</th><th>95%% interval</th><th>significant</th></tr>\n");
		for (size_t i = 0; i < v->n; i++) {
			const struct verdict_row *row = &v->rows[i];
			char x[16], lo[16], hi[16];

			verdict_ratio_text(row->ratio, x, sizeof(x));
			verdict_ratio_text(row->lo, lo, sizeof(lo));
			verdict_ratio_text(row->hi, hi, sizeof(hi));
			fprintf(r->html, "<tr><td>");
			vb_xml_escape(r->html, row->workload);
			fprintf(r->html, "</td><td>");
			vb_xml_escape(r->html, row->metric);
			fprintf(r->html, "</td><td>%s ÷ %s</td><td>%d%s</td><td>%s</td><td>%s – %s</td><td>%s</td>"
					 "</tr>\n",
				row->num, row->den, row->topology, row->summed ? " summed" : "", x, lo, hi,
				row->significant ? "yes" : "no");
		}
		fprintf(r->html, "</table>\n");
	}
	fprintf(r->html, "<p>Ratios of medians over every guest and repetition (summed: of the guests' throughput "
			 "summed in each repetition), with 95%% bootstrap intervals; significant when the interval "
			 "leaves 1 out.</p>\n");
	free(v);
}

/*
 * The report opens with the triangle: mediated ÷ native, passthrough ÷
 * native and mediated ÷ passthrough for each workload and guest count, each
 * with its bootstrap interval; a corner that did not run says so in a word,
 * and why once under the table.
 */
void rep_section_triangle(struct rep *r)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED), *pt = config_with_role(ROLE_PASSTHROUGH);
	const char *mn = med ? med->name : NULL, *pn = pt ? pt->name : NULL, *nn = config_baseline();
	int rows = 0;
	struct absent_corners ab = { .n = 0 };

	fprintf(r->html, "<h2 id=triangle>Mediated, passthrough and native</h2>\n<table><tr><th>workload</th>"
			 "<th>metric</th><th>guests</th><th>%s ÷ %s</th><th>%s ÷ %s</th><th>%s ÷ %s</th></tr>\n",
		mn ? mn : "?", nn, pn ? pn : "?", nn, mn ? mn : "?", pn ? pn : "?");
	for (size_t i = 0; i < r->set.n; i++) {
		const char *w = r->set.s[i].workload, *metric = rep_headline(w);
		int topo[PLAN_TOPOS], ntopo = 0;

		if (i > 0 && strcmp(r->set.s[i - 1].workload, w) == 0)
			continue; /* one pass per workload */
		/* The guest counts any configuration of this workload ran with. */
		for (size_t k = i; k < r->set.n && strcmp(r->set.s[k].workload, w) == 0; k++) {
			const struct series *x = &r->set.s[k];
			int seen = 0;

			if (!x->topology || x->dom0 || strcmp(x->metric, metric))
				continue;
			for (int t = 0; t < ntopo; t++)
				seen |= topo[t] == x->topology;
			if (!seen && ntopo < PLAN_TOPOS)
				topo[ntopo++] = x->topology;
		}
		const struct series *nat = series_find(&r->set, w, nn, 0, 0, metric);

		for (int t = 0; t < ntopo; t++) {
			const struct series *m = mn ? series_find(&r->set, w, mn, topo[t], 0, metric) : NULL;
			const struct series *p = pn ? series_find(&r->set, w, pn, topo[t], 0, metric) : NULL;

			fprintf(r->html, "<tr><td>");
			vb_xml_escape(r->html, w);
			fprintf(r->html, "</td><td>");
			vb_xml_escape(r->html, metric);
			fprintf(r->html, "</td><td>%d</td>", topo[t]);
			triangle_cell(r, m, nat, mn, nn, w, topo[t], &ab);
			triangle_cell(r, p, nat, pn, nn, w, topo[t], &ab);
			triangle_cell(r, m, p, mn, pn, w, topo[t], &ab);
			fprintf(r->html, "</tr>\n");
			rows++;
		}
	}
	fprintf(r->html, "</table>\n");
	for (int i = 0; i < ab.n; i++) {
		fprintf(r->html, "<p class=na>%s ", ab.who[i]);
		vb_xml_escape(r->html, ab.why[i]);
		fprintf(r->html, "</p>\n");
	}
	if (!rows)
		fprintf(r->html, "<p>No guest results in this run.</p>\n");
	fprintf(r->html, "<p>Medians over every guest and repetition, per guest; intervals are 95%% bootstrap intervals "
			 "of the ratio of medians. Passthrough gives one guest the whole GPU.</p>\n");
}

/* What compare could flag between this row and a run like it (same n, same CV), at 80% power; where that is more
 * than compare's default threshold, how many repetitions it would take. Counted into *pw for the power line; the
 * rows are not coloured, since on a noisy host most of them are. */
static void detectable_cell(struct rep *r, const struct series *s, struct verdict_power *pw)
{
	struct verdict_power_row row;

	verdict_row_power(s, &row);
	verdict_power_count(pw, &row);
	if (row.cls == VP_NA)
		fprintf(r->html, "<td>–</td>");
	else if (row.cls == VP_NONE)
		fprintf(r->html, "<td title=\"too few values for Mann-Whitney to reach p &lt; 0.05\">none</td>");
	else if (row.cls == VP_SHORT)
		fprintf(r->html, "<td>%.1f%% (needs ~%zu repetitions)</td>", row.detectable_pct, row.need);
	else
		fprintf(r->html, "<td>%.1f%%</td>", row.detectable_pct);
}

/* The power line under the summary: said once, with what to do about the rows that cannot see the threshold. */
static void power_line(struct rep *r, const struct verdict_power *pw)
{
	char text[1024];

	verdict_power_text(pw, text, sizeof(text));
	if (!text[0])
		return;
	fprintf(r->html, "<p id=power><b>Power</b>: ");
	vb_xml_escape(r->html, text + strlen("power: "));
	fprintf(r->html, "</p>\n");
}

void rep_section_summary(struct rep *r)
{
	struct dfile df;
	FILE *d = rep_data_file(r, "native", &df);
	const char *path = df.name;
	int bars = 0;
	struct verdict_power pw = { 0 };

	fprintf(r->html, "<h2 id=summary>Summary</h2>\n<table><tr><th>workload</th><th>metric</th><th>config</th>"
			 "<th>guests</th><th>n</th><th>median</th><th>95%% CI</th><th>CV</th>"
			 "<th title=\"the smallest change compare could flag against a run like this one, at 80%% power\">"
			 "detectable</th><th>%% of native</th><th>95%% CI</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i], *nat = native_of(r, s);

		if (strcmp(s->metric, rep_headline(s->workload)) != 0)
			continue;
		double med = stats_median_of(s->v, s->n), cv = stats_cv(s->v, s->n);
		struct stats_ci ci = stats_bootstrap_median(s->v, s->n, BOOT_ITERS, BOOT_SEED);
		double pct = NAN;
		struct stats_ci pci = { NAN, NAN };

		/* A share of a native median of 0 (or less) is no number: shown as none. */
		if (nat && stats_median_of(nat->v, nat->n) > 0) {
			pct = 100.0 * med / stats_median_of(nat->v, nat->n);
			pci = stats_bootstrap_ratio(s->v, s->n, nat->v, nat->n, BOOT_ITERS, BOOT_SEED);
			pci.lo *= 100;
			pci.hi *= 100;
		}
		fprintf(r->html, "<tr><td>%s</td><td>%s (%s)</td><td>%s%s</td><td>%s%.0d</td><td>%zu</td><td>%.1f</td>"
				 "<td>%.1f – %.1f</td><td%s>%.1f%%</td>",
			s->workload, s->metric, s->unit, s->config, s->dom0 ? " (dom0)" : "", s->topology ? "" : "host",
			s->topology, s->n, med,
			ci.lo, ci.hi, cv > 0.10 ? " class=noisy title=\"noisy: CV above 10%\"" : "",
			isnan(cv) ? 0.0 : 100 * cv);
		detectable_cell(r, s, &pw);
		if (is_lab(r, s->config))
			fprintf(r->html, "<td colspan=2>nested lab: proves the path, not the speed</td></tr>\n");
		else if (isnan(pct))
			fprintf(r->html, "<td>–</td><td>–</td></tr>\n");
		else
			fprintf(r->html, "<td>%.1f%%</td><td>%.1f – %.1f%%</td></tr>\n", pct, pci.lo, pci.hi);
		if (d && !isnan(pct) && strcmp(s->config, config_baseline()) != 0) {
			char l[96];

			rep_label(l, sizeof(l), s);
			char dl[192], both[192];

			snprintf(both, sizeof(both), "%s %s", s->workload, l);
			rep_dat_label(dl, sizeof(dl), both);
			fprintf(d, "\"%s\" %.4f %.4f %.4f\n", dl, pct, pci.lo, pci.hi);
			bars++;
		}
	}
	fprintf(r->html, "</table>\n");
	power_line(r, &pw);
	rep_data_done(r, &df);
	fprintf(r->html, "<h2 id=native>%% of native</h2>\n");
	if (bars) {
		char *script = vb_strdupf("set style data histogram\nset style histogram errorbars gap 1 lw 1.5\n"
					  "set style fill solid 0.6 border -1\nset ylabel '%% of native'\n"
					  "set yrange [0:*]\nset xtics rotate by -20\nunset key\n"
					  "plot '%s' using 2:3:4:xtic(1) title '%% of native' lc rgb '#3a6ea5'\n",
					  path);

		rep_chart(r, "native", script, "Median of the headline metric as a percentage of native, with 95% "
					       "bootstrap intervals of the ratio of medians.");
		free(script);
	} else {
		fprintf(r->html, "<p>No configuration has both native and guest results in this run.</p>\n");
	}
	free(df.name);
}
