/* report.c: the self-contained HTML report. Numbers come from the database
 * through series.c and stats.c; each chart is drawn by gnuplot (svg terminal)
 * from a data file kept next to the report, and its SVG is inlined. A chart
 * without data is not drawn: the section says why instead. */
#define _GNU_SOURCE
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "configs/configs.h"
#include "analysis/compare.h"
#include "store/run_facts.h"
#include "analysis/scenario_summary.h"
#include "analysis/series.h"
#include "stats.h"
#include "util.h"
#include "workload.h"

#define BOOT_ITERS 2000
#define BOOT_SEED 0x76677075ULL
#define REPORT_THRESHOLD_PCT 5.0 /* compare's default threshold */
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

static const char *headline(const char *workload)
{
	const struct workload_def *w = workload_find(workload);

	return w ? w->headline_metric : "score";
}

static double median_copy(const double *v, size_t n)
{
	double *t = malloc((n ? n : 1) * sizeof(double));
	double m;

	if (!t)
		abort();
	memcpy(t, v, n * sizeof(double));
	m = stats_median(t, n);
	free(t);
	return m;
}

static void label(char *buf, size_t len, const struct series *s)
{
	if (s->dom0)
		snprintf(buf, len, "%s x%d dom0", s->config, s->topology);
	else if (s->topology)
		snprintf(buf, len, "%s x%d", s->config, s->topology);
	else
		snprintf(buf, len, "%s", s->config);
}

/*
 * Run gnuplot on script `name`.gp in the data folder and inline the SVG it
 * wrote. gnuplot runs in the data folder and sees only file names we made
 * there: no path from the command line or the database reaches its script.
 */
static void chart(struct rep *r, const char *name, const char *script, const char *caption)
{
	char *gp = vb_strdupf("%s/%s.gp", r->data, name), *svg = vb_strdupf("%s/%s.svg", r->data, name);
	char *out = vb_strdupf("%s.svg.tmp", name), *outpath = vb_strdupf("%s/%s", r->data, out);
	char *log = vb_strdupf("%s.log", name), *gpname = vb_strdupf("%s.gp", name);
	char *full = vb_strdupf("set terminal svg size 860,380 dynamic noenhanced font 'sans,11' background '#ffffff'\n"
				"set output '%s'\nset grid ytics\nset key outside right top\n%s",
				out, script);
	char *body = NULL;
	int st;
	char *argv[] = { "gnuplot", gpname, NULL };

	if (vb_write_file(gp, full, strlen(full)) < 0) {
		fprintf(r->html, "<p class=err>cannot write %s</p>\n", gp);
		vb_err("report: cannot write %s: %s", gp, strerror(errno));
		r->failed++;
		goto out;
	}
	st = vb_run_in(r->data, argv, log, 120);
	size_t len;

	body = st == 0 ? vb_read_file(outpath, &len) : NULL;
	char *start = body ? strstr(body, "<svg") : NULL;

	if (st != 0 || !start || rename(outpath, svg) < 0) {
		fprintf(r->html, "<p class=err>gnuplot failed to draw %s (script: %s, its messages: %s/%s)</p>\n", name,
			gp, r->data, log);
		vb_err("report: gnuplot failed to draw %s (%s %d; see %s/%s)", name,
		       st >= 0 && WIFEXITED(st) ? "exit status" : "wait status",
		       st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : st, r->data, log);
		unlink(outpath);
		r->failed++;
	} else {
		fprintf(r->html, "<figure id=\"chart-%s\">\n%s\n<figcaption>", name, start);
		vb_xml_escape(r->html, caption);
		fprintf(r->html, "</figcaption></figure>\n");
		r->charts++;
	}
out:
	free(body);
	free(full);
	free(gp);
	free(svg);
	free(out);
	free(outpath);
	free(log);
	free(gpname);
}

/* A section whose rows the store could not give: say so with the store's reason, and count the report incomplete. */
static void unreadable(struct rep *r, const char *what)
{
	fprintf(r->html, "<p class=err>%s could not be read: ", what);
	vb_xml_escape(r->html, r->st->err);
	fprintf(r->html, "</p>\n");
	r->failed++;
}

/* A data file, made in memory and written whole by data_done. */
struct dfile {
	FILE *f;
	char *buf;
	size_t len;
	char *name; /* relative to the data folder: what the script names */
};

static FILE *data_file(struct rep *r, const char *name, struct dfile *df)
{
	(void)r;
	memset(df, 0, sizeof(*df));
	df->name = vb_strdupf("%s.dat", name);
	df->f = open_memstream(&df->buf, &df->len);
	if (!df->f)
		abort();
	return df->f;
}

static void data_done(struct rep *r, struct dfile *df)
{
	char *path = vb_strdupf("%s/%s", r->data, df->name);

	if (fclose(df->f) != 0 || vb_write_file(path, df->buf, df->len) < 0) {
		vb_err("report: cannot write %s: %s", path, strerror(errno));
		r->failed++;
	}
	df->f = NULL;
	free(df->buf);
	free(path);
}

/* A label as a gnuplot string literal: single quotes, a quote doubled, no control characters. */
static void gp_quote(char *out, size_t len, const char *s)
{
	size_t k = 0;

	if (len < 3)
		return;
	out[k++] = '\'';
	for (; *s && k + 3 < len; s++) {
		if (*s == '\'')
			out[k++] = '\'';
		out[k++] = (unsigned char)*s < 0x20 ? ' ' : *s;
	}
	out[k++] = '\'';
	out[k] = '\0';
}

/* A label for a data file's first column: double-quoted there, so no double quotes nor control characters. */
static void dat_label(char *out, size_t len, const char *s)
{
	size_t k = 0;

	for (; *s && k + 1 < len; s++)
		out[k++] = (*s == '"' || (unsigned char)*s < 0x20) ? '_' : *s;
	out[k] = '\0';
}

/* A workload's name as part of a file name: letters, digits, '-' and '_' only. */
static void file_key(char *out, size_t len, const char *name)
{
	size_t k = 0;

	for (; *name && k + 1 < len; name++)
		out[k++] = (isalnum((unsigned char)*name) || *name == '-' || *name == '_') ? *name : '_';
	out[k] = '\0';
}

/* Did config's jobs in this run come from a nested lab (store_lab_get)? Its numbers prove a path, not a speed. */
static int is_lab(struct rep *r, const char *config)
{
	char *lab = config ? store_lab_get(r->st, r->run, config) : NULL;

	free(lab);
	return lab != NULL;
}

/* The native series s is a share of, or NULL (none, or s is a nested lab's). */
static const struct series *native_of(struct rep *r, const struct series *s)
{
	return is_lab(r, s->config) ? NULL : series_find(&r->set, s->workload, config_baseline(), 0, 0, s->metric);
}

/* One cell of the triangle: median(a) ÷ median(b) with its 95% interval, or why there is none. */
static void triangle_cell(struct rep *r, const struct series *a, const struct series *b, const char *aname,
			  const char *bname)
{
	const char *names[2] = { aname, bname };
	const struct series *ss[2] = { a, b };

	for (int k = 0; k < 2; k++)
		if (ss[k] && ss[k]->n && is_lab(r, names[k])) {
			fprintf(r->html, "<td class=na>%s: nested lab only (median %.1f): it proves the path, not the speed "
					 "(see the environment's nested lab fact)</td>",
				names[k], median_copy(ss[k]->v, ss[k]->n));
			return;
		}
	if (a && b && a->n && b->n && !(median_copy(b->v, b->n) > 0)) {
		fprintf(r->html, "<td class=na>%s: its median is %g, so no ratio</td>", bname, median_copy(b->v, b->n));
		return;
	}
	if (a && b && a->n && b->n) {
		double ratio = 100.0 * median_copy(a->v, a->n) / median_copy(b->v, b->n);
		struct stats_ci ci = stats_bootstrap_ratio(a->v, a->n, b->v, b->n, BOOT_ITERS, BOOT_SEED);

		fprintf(r->html, "<td>%.1f%% (%.1f – %.1f%%)</td>", ratio, 100 * ci.lo, 100 * ci.hi);
		return;
	}
	for (int k = 0; k < 2; k++) {
		char *status, *reason;

		if (ss[k] && ss[k]->n)
			continue;
		fprintf(r->html, "<td class=na>");
		if (!names[k]) {
			fprintf(r->html, "no such configuration");
		} else if (store_config_get(r->st, r->run, names[k], &status, &reason) < 0) {
			fprintf(r->html, "%s: not in this run's plan", names[k]);
		} else {
			fprintf(r->html, "%s: ", names[k]);
			if (strcmp(status, "skipped") == 0) {
				fprintf(r->html, "skipped: ");
				vb_xml_escape(r->html, reason);
			} else {
				fprintf(r->html, "no successful job here");
			}
			free(status);
			free(reason);
		}
		fprintf(r->html, "</td>");
		return;
	}
}

/*
 * The report opens with the triangle: mediated ÷ native, passthrough ÷
 * native and mediated ÷ passthrough for each workload and guest count, each
 * with its bootstrap interval; a corner that did not run says why instead.
 */
static void section_triangle(struct rep *r)
{
	const struct config_def *med = config_with_role(ROLE_MEDIATED), *pt = config_with_role(ROLE_PASSTHROUGH);
	const char *mn = med ? med->name : NULL, *pn = pt ? pt->name : NULL, *nn = config_baseline();
	int rows = 0;

	fprintf(r->html, "<h2 id=triangle>Mediated, passthrough and native</h2>\n<table><tr><th>workload</th>"
			 "<th>metric</th><th>guests</th><th>%s ÷ %s</th><th>%s ÷ %s</th><th>%s ÷ %s</th></tr>\n",
		mn ? mn : "?", nn, pn ? pn : "?", nn, mn ? mn : "?", pn ? pn : "?");
	for (size_t i = 0; i < r->set.n; i++) {
		const char *w = r->set.s[i].workload, *metric = headline(w);
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
			triangle_cell(r, m, nat, mn, nn);
			triangle_cell(r, p, nat, pn, nn);
			triangle_cell(r, m, p, mn, pn);
			fprintf(r->html, "</tr>\n");
			rows++;
		}
	}
	fprintf(r->html, "</table>\n");
	if (!rows)
		fprintf(r->html, "<p>No guest results in this run.</p>\n");
	fprintf(r->html, "<p>Medians over every guest and repetition, per guest; intervals are 95%% bootstrap intervals "
			 "of the ratio of medians. Passthrough gives one guest the whole GPU.</p>\n");
}

/* What compare could flag between this row and a run like it (same n, same CV), at 80% power; where that is more
 * than compare's default threshold, how many repetitions it would take. */
static void detectable_cell(struct rep *r, const struct series *s, double cv)
{
	double d = stats_detectable_pct(cv, s->n, cv, s->n, 0.05, COMPARE_POWER);
	size_t per_rep = s->topology > 0 && !s->dom0 ? (size_t)s->topology : 1;

	if (isnan(d))
		fprintf(r->html, "<td>–</td>");
	else if (isinf(d))
		fprintf(r->html, "<td class=noisy title=\"too few values for Mann-Whitney to reach p &lt; 0.05\">none</td>");
	else if (d > REPORT_THRESHOLD_PCT)
		fprintf(r->html, "<td class=noisy>%.1f%% (underpowered: needs ~%zu repetitions)</td>", d,
			(stats_values_needed(cv, REPORT_THRESHOLD_PCT, 0.05, COMPARE_POWER) + per_rep - 1) / per_rep);
	else
		fprintf(r->html, "<td>%.1f%%</td>", d);
}

static void section_summary(struct rep *r)
{
	struct dfile df;
	FILE *d = data_file(r, "native", &df);
	const char *path = df.name;
	int bars = 0;

	fprintf(r->html, "<h2 id=summary>Summary</h2>\n<table><tr><th>workload</th><th>metric</th><th>config</th>"
			 "<th>guests</th><th>n</th><th>median</th><th>95%% CI</th><th>CV</th>"
			 "<th title=\"the smallest change compare could flag against a run like this one, at 80%% power\">"
			 "detectable</th><th>%% of native</th><th>95%% CI</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i], *nat = native_of(r, s);

		if (strcmp(s->metric, headline(s->workload)) != 0)
			continue;
		double med = median_copy(s->v, s->n), cv = stats_cv(s->v, s->n);
		struct stats_ci ci = stats_bootstrap_median(s->v, s->n, BOOT_ITERS, BOOT_SEED);
		double pct = NAN;
		struct stats_ci pci = { NAN, NAN };

		/* A share of a native median of 0 (or less) is no number: shown as none. */
		if (nat && median_copy(nat->v, nat->n) > 0) {
			pct = 100.0 * med / median_copy(nat->v, nat->n);
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
		detectable_cell(r, s, cv);
		if (is_lab(r, s->config))
			fprintf(r->html, "<td colspan=2>nested lab: proves the path, not the speed</td></tr>\n");
		else if (isnan(pct))
			fprintf(r->html, "<td>–</td><td>–</td></tr>\n");
		else
			fprintf(r->html, "<td>%.1f%%</td><td>%.1f – %.1f%%</td></tr>\n", pct, pci.lo, pci.hi);
		if (d && !isnan(pct) && strcmp(s->config, config_baseline()) != 0) {
			char l[96];

			label(l, sizeof(l), s);
			char dl[192], both[192];

			snprintf(both, sizeof(both), "%s %s", s->workload, l);
			dat_label(dl, sizeof(dl), both);
			fprintf(d, "\"%s\" %.4f %.4f %.4f\n", dl, pct, pci.lo, pci.hi);
			bars++;
		}
	}
	fprintf(r->html, "</table>\n");
	data_done(r, &df);
	fprintf(r->html, "<h2 id=native>%% of native</h2>\n");
	if (bars) {
		char *script = vb_strdupf("set style data histogram\nset style histogram errorbars gap 1 lw 1.5\n"
					  "set style fill solid 0.6 border -1\nset ylabel '%% of native'\n"
					  "set yrange [0:*]\nset xtics rotate by -20\nunset key\n"
					  "plot '%s' using 2:3:4:xtic(1) title '%% of native' lc rgb '#3a6ea5'\n",
					  path);

		chart(r, "native", script, "Median of the headline metric as a percentage of native, with 95% "
					   "bootstrap intervals of the ratio of medians.");
		free(script);
	} else {
		fprintf(r->html, "<p>No configuration has both native and guest results in this run.</p>\n");
	}
	free(df.name);
}

/* Per-guest medians of a guest series being gathered: the values of the guest at hand, the medians so far. */
struct guest_medians {
	double vals[512], *out;
	size_t nv, n, max;
	int cur;
};

static void guest_median_done(struct guest_medians *m)
{
	if (m->nv > 0 && m->n < m->max)
		m->out[m->n++] = stats_median(m->vals, m->nv);
	m->nv = 0;
}

static void guest_value(void *ctx, int guest, double value)
{
	struct guest_medians *m = ctx;

	if (guest != m->cur)
		guest_median_done(m);
	m->cur = guest;
	if (m->nv < 512)
		m->vals[m->nv++] = value;
}

/* Per-guest medians of a guest series: one value per guest index. */
static size_t per_guest(struct rep *r, const struct series *s, double *out, size_t max)
{
	struct guest_medians *m = calloc(1, sizeof(*m));
	size_t n;

	if (!m)
		abort();
	m->out = out;
	m->max = max;
	m->cur = -1;
	if (store_guest_values(r->st, r->run, s->workload, s->config, s->topology, s->metric, guest_value, m) < 0) {
		free(m);
		return 0;
	}
	guest_median_done(m);
	n = m->n;
	free(m);
	return n;
}

/* A number for a table cell, or an en dash. */
static const char *cell(char *buf, size_t len, const char *fmt, double v)
{
	if (isnan(v))
		snprintf(buf, len, "–");
	else
		snprintf(buf, len, fmt, v);
	return buf;
}

/* One point of a scaling curve: the summed per-guest medians of a config with n guests. */
struct scale_point {
	const char *workload, *config;
	int guests;
	double sum;
};

/* The scaling curve of one workload: summed throughput against the guest count, a line per config, with the ideal
 * (n times one guest alone) for each. Only when some config ran with two guest counts or more. */
static void scaling_chart(struct rep *r, const struct scale_point *pt, size_t a, size_t b)
{
	struct dfile df;
	char key[64], *name, caption[256], ylabel[200], what[160], *script, plot[4096];
	size_t len = 0;
	int blocks = 0, curves = 0;
	double top = 0;

	for (size_t i = a; i < b; i++)
		if (pt[i].sum > top)
			top = pt[i].sum;
	for (size_t i = a; i < b; i++) {
		size_t j = i;

		while (j + 1 < b && !strcmp(pt[j + 1].config, pt[i].config))
			j++;
		curves += j > i;
		i = j;
	}
	if (!curves)
		return;
	file_key(key, sizeof(key), pt[a].workload);
	name = vb_strdupf("scaling-%s", key);
	data_file(r, name, &df);
	plot[0] = 0;
	for (size_t i = a; i < b;) {
		size_t j = i;
		double one = NAN;
		char cq[80];

		while (j < b && !strcmp(pt[j].config, pt[i].config))
			j++;
		/* one gnuplot index per config: guests, sum, and the ideal from one guest alone */
		for (size_t k = i; k < j; k++)
			if (pt[k].guests == 1)
				one = pt[k].sum;
		fprintf(df.f, "# %s\n", pt[i].config);
		for (size_t k = i; k < j; k++)
			fprintf(df.f, "%d %.4f %.4f\n", pt[k].guests, pt[k].sum, isnan(one) ? NAN : one * pt[k].guests);
		fprintf(df.f, "\n\n");
		gp_quote(cq, sizeof(cq), pt[i].config);
		len += (size_t)snprintf(plot + len, len < sizeof(plot) ? sizeof(plot) - len : 0,
					"%s'%s' index %d using 1:2 with linespoints lw 2 title %s", blocks ? ", " : "",
					df.name, blocks, cq);
		if (!isnan(one) && len < sizeof(plot))
			len += (size_t)snprintf(plot + len, sizeof(plot) - len,
						", '%s' index %d using 1:3 with lines dt 2 lc %d title ''", df.name,
						blocks, blocks + 1);
		blocks++;
		i = j;
	}
	data_done(r, &df);
	snprintf(what, sizeof(what), "%s summed over the guests", headline(pt[a].workload));
	gp_quote(ylabel, sizeof(ylabel), what);
	/* The y range follows the measured sums: the ideal may run off the top rather than flatten them. */
	script = vb_strdupf("set xlabel 'guests at once'\nset ylabel %s\nset yrange [0:%.4g]\nset xtics 1\nplot %s\n",
			    ylabel, top > 0 ? top * 1.6 : 1.0, len < sizeof(plot) ? plot : "1/0 title 'too many configurations'");
	snprintf(caption, sizeof(caption),
		 "%s: the guests' summed %s against how many share the GPU, one line per configuration; dashed, "
		 "n times one guest alone (scaling efficiency 1), cut at the top of the chart.",
		 pt[a].workload, headline(pt[a].workload));
	chart(r, name, script, caption);
	free(script);
	free(name);
	free(df.name);
}

static void section_sharing(struct rep *r)
{
	struct scale_point pts[256];
	size_t npts = 0;
	/* One chart per workload (its own unit): a data file each, drawn after the table. */
	struct sharing_file {
		const char *workload;
		struct dfile df;
		int rows;
	} files[32];
	int nfiles = 0;

	fprintf(r->html, "<h2 id=sharing>Sharing quality</h2>\n<table><tr><th>workload</th><th>config</th>"
			 "<th>guests</th><th>per-guest medians</th><th>sum</th><th>scaling efficiency</th>"
			 "<th>fairness (Jain)</th><th>dom0 alongside</th><th>fairness with dom0</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		double g[65];
		size_t n;

		if (!s->topology || s->dom0 || strcmp(s->metric, headline(s->workload)) != 0)
			continue;
		n = per_guest(r, s, g, 64);
		if (!n)
			continue;
		if (!nfiles || strcmp(files[nfiles - 1].workload, s->workload) != 0) {
			if (nfiles == 32)
				break;
			char key[64], *name;

			file_key(key, sizeof(key), s->workload);
			name = vb_strdupf("sharing-%s", key);
			files[nfiles].workload = s->workload;
			files[nfiles].rows = 0;
			data_file(r, name, &files[nfiles].df);
			free(name);
			nfiles++;
		}
		FILE *d = files[nfiles - 1].df.f;
		int *rows = &files[nfiles - 1].rows;
		const struct series *alone = series_find(&r->set, s->workload, s->config, 1, 0, s->metric);
		const struct series *d0 = series_find(&r->set, s->workload, s->config, s->topology, 1, s->metric);
		double one = alone ? median_copy(alone->v, alone->n) : NAN, sum = 0;
		char cl[64];

		dat_label(cl, sizeof(cl), s->config);

		fprintf(r->html, "<tr><td>%s</td><td>%s</td><td>%d</td><td>", s->workload, s->config, s->topology);
		for (size_t k = 0; k < n; k++) {
			sum += g[k];
			fprintf(r->html, "%s%.1f", k ? ", " : "", g[k]);
			if (d)
				fprintf(d, "\"%s x%d g%zu\" %.4f\n", cl, s->topology, k + 1, g[k]);
			(*rows)++;
		}
		double eff = stats_scaling(g, n, one), jain = stats_jain(g, NULL, n);

		char effs[16];

		fprintf(r->html, "</td><td>%.1f</td><td>%s</td><td>%.3f</td>", sum, cell(effs, sizeof(effs), "%.2f", eff),
			jain);
		if (npts < sizeof(pts) / sizeof(pts[0]))
			pts[npts++] = (struct scale_point){ s->workload, s->config, s->topology, sum };
		if (d0) {
			/* dom0 is one more VM sharing the GPU: Jain over all of them. */
			g[n] = median_copy(d0->v, d0->n);
			if (d)
				fprintf(d, "\"%s x%d dom0\" %.4f\n", cl, s->topology, g[n]);
			fprintf(r->html, "<td>%.1f</td><td>%.3f</td></tr>\n", g[n], stats_jain(g, NULL, n + 1));
		} else {
			fprintf(r->html, "<td>–</td><td>–</td></tr>\n");
		}
	}
	fprintf(r->html, "</table>\n<p>Scaling efficiency: the guests' summed throughput ÷ one guest alone. "
			 "Fairness: Jain's index over per-guest throughput (1 = perfectly fair, 1/n = one guest "
			 "takes all); with dom0 it counts dom0's own workload, run at the same time, as one more "
			 "VM: under mediated its GL goes through the mediator too (its vtest socket: one more vGPU), "
			 "under the other configurations it renders on the host beside them (the environment "
			 "section says which).</p>\n");
	for (int f = 0; f < nfiles; f++) {
		struct sharing_file *sf = &files[f];
		char ylabel[200], what[160], caption[512], *name = vb_strdup(sf->df.name);

		data_done(r, &sf->df);
		*strrchr(name, '.') = '\0'; /* the chart is named like its data */
		snprintf(what, sizeof(what), "%s per-guest %s", sf->workload, headline(sf->workload));
		gp_quote(ylabel, sizeof(ylabel), what);
		char *script = vb_strdupf("set style data histogram\nset style fill solid 0.6 border -1\n"
					  "set ylabel %s\nset yrange [0:*]\nset xtics rotate by -30\n"
					  "unset key\nplot '%s' using 2:xtic(1) lc rgb '#5b8c3a'\n",
					  ylabel, sf->df.name);

		snprintf(caption, sizeof(caption),
			 "%s: per-guest %s (median over repetitions) when 1, 2, 3… guests (and dom0) share the GPU.",
			 sf->workload, headline(sf->workload));
		chart(r, name, script, caption);
		free(script);
		free(name);
		free(sf->df.name);
	}
	if (!nfiles)
		fprintf(r->html, "<p>No guest results in this run.</p>\n");
	/* The series come ordered by workload, config, guests: each workload's points are one stretch. */
	for (size_t a = 0, b; a < npts; a = b) {
		for (b = a; b < npts && !strcmp(pts[b].workload, pts[a].workload); b++)
			;
		scaling_chart(r, pts, a, b);
	}
}

/* What each stage means, for the table's header (the names are the mediator's: stage_hist.h). */
static const char *stage_meaning(int i)
{
	static const char *const m[STAGE_COUNT] = {
		[STAGE_KICK_WAIT] = "a kick seen to its queue served",
		[STAGE_CHECK] = "decoding, checks, ID translation, copies from guest memory",
		[STAGE_RENDER] = "renderer calls of a command (submits, transfers)",
		[STAGE_FENCE] = "a fenced batch from submission to its fence seen retired",
		[STAGE_READBACK] = "a display update read back from the renderer",
		[STAGE_DISPLAY_SEND] = "a display update sent to the front-end",
	};
	return i >= 0 && i < STAGE_COUNT ? m[i] : "";
}

/* One workload's rows [a, b): a table of each stage's time a frame, p50 and p99, and a stacked bar per config and
 * guest count. */
static void stages_workload(struct rep *r, const struct stage_row *rows, size_t a, size_t b)
{
	struct dfile df;
	char key[64], *name, caption[256], *script;

	file_key(key, sizeof(key), rows[a].workload);
	name = vb_strdupf("stages-%s", key);
	data_file(r, name, &df);
	fprintf(df.f, "row");
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(df.f, " %s", stage_name((enum stage)i));
	fprintf(df.f, "\n");
	fprintf(r->html, "<h3>");
	vb_xml_escape(r->html, rows[a].workload);
	fprintf(r->html, "</h3>\n<table><tr><th>config</th><th>guests</th><th>jobs</th><th>frames</th>");
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(r->html, "<th>%s<br>ms/frame · p50 · p99 µs</th>", stage_name((enum stage)i));
	fprintf(r->html, "</tr>\n");
	for (size_t k = a; k < b; k++) {
		const struct stage_row *sr = &rows[k];
		char cl[64];

		dat_label(cl, sizeof(cl), sr->config);
		if (sr->dom0)
			fprintf(df.f, "\"%s x%d dom0\"", cl, sr->topology);
		else
			fprintf(df.f, "\"%s x%d\"", cl, sr->topology);
		fprintf(r->html, "<tr><td>");
		vb_xml_escape(r->html, sr->config);
		fprintf(r->html, sr->dom0 ? "</td><td>dom0+%d</td>" : "</td><td>%d</td>", sr->topology);
		fprintf(r->html, "<td>%d</td><td>%.0f</td>", sr->jobs, sr->frames);
		for (int i = 0; i < STAGE_COUNT; i++) {
			const struct stage_hist *h = &sr->h[i];
			double per = sr->frames > 0 ? (double)h->total_ns / 1e6 / sr->frames : NAN;
			char ms[32];

			fprintf(df.f, " %.4f", isnan(per) ? 0 : per);
			if (!h->count) {
				fprintf(r->html, "<td class=na>–</td>");
				continue;
			}
			fprintf(r->html, "<td>%s · %.0f · %.0f</td>", cell(ms, sizeof(ms), "%.3f", per),
				(double)stage_percentile(h, 50) / 1e3, (double)stage_percentile(h, 99) / 1e3);
		}
		fprintf(df.f, "\n");
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->html, "</table>\n");
	data_done(r, &df);
	script = vb_strdupf("set style data histograms\nset style histogram rowstacked\n"
			    "set style fill solid 0.7 border -1\nset boxwidth 0.6\n"
			    "set ylabel 'ms per frame'\nset yrange [0:*]\nset xtics rotate by -30\n"
			    "plot for [i=2:%d] '%s' using i:xtic(1) title columnheader(i)\n",
			    STAGE_COUNT + 1, df.name);
	snprintf(caption, sizeof(caption),
		 "%s: the mediator's time per frame, stage by stage, for each configuration and guest count.",
		 rows[a].workload);
	chart(r, name, script, caption);
	free(script);
	free(name);
	free(df.name);
}

/* Where the mediator's time goes, per workload (from the jobs' stage histograms summed: job_stages). */
static void section_stages(struct rep *r)
{
	struct stage_row *rows = NULL;
	size_t n = 0;

	fprintf(r->html, "<h2 id=stages>Where the mediator's time goes</h2>\n");
	if (store_stage_rows(r->st, r->run, &rows, &n) < 0) {
		unreadable(r, "The stage histograms");
		return;
	}
	if (!n) {
		fprintf(r->html, "<p>No job of this run was served by vgpu-mediator with stage histograms.</p>\n");
		return;
	}
	fprintf(r->html, "<p>Each stage's time per frame the guest showed (a flush; dom0: a read-back of a client's "
			 "front buffer, so an off-screen client such as glmark2 --off-screen shows none and its "
			 "row has no time per frame), "
			 "summed over the row's successful jobs, from the mediator's per-vGPU histograms read before "
			 "and after each job. p50/p99 are per event, at most 25%% over the true value (log-linear "
			 "buckets). Stages:");
	for (int i = 0; i < STAGE_COUNT; i++)
		fprintf(r->html, "%s <b>%s</b>: %s", i ? ";" : "", stage_name((enum stage)i), stage_meaning(i));
	fprintf(r->html, ". With one loop thread no queue lies between the check and the renderer.</p>\n");
	for (size_t a = 0, b; a < n; a = b) {
		for (b = a; b < n && !strcmp(rows[b].workload, rows[a].workload); b++)
			;
		stages_workload(r, rows, a, b);
	}
	free(rows);
}

/* Each guest's share of the GPU time over one job, from the mediator's samples: a line per guest. */
static void scenario_time_chart(struct rep *r, const struct scen_phase *ph, int index)
{
	double *t[PLAN_MAX_SEATS] = { 0 }, *gpu[PLAN_MAX_SEATS] = { 0 }, *fr[PLAN_MAX_SEATS] = { 0 };
	size_t n[PLAN_MAX_SEATS] = { 0 }, rows = 0;
	char key[80], *name, caption[400], plot[2048] = "";
	struct dfile df;
	FILE *d;

	for (int g = 0; g < ph->n; g++)
		if (ph->g[g].first_job && store_scenario_samples(r->st, ph->g[g].first_job, &t[g], &gpu[g], &fr[g], &n[g]) < 0)
			r->failed++;
	file_key(key, sizeof(key), ph->scenario);
	name = vb_strdupf("scenario-%s-%d-time", key, index);
	d = data_file(r, name, &df);
	/* One block per guest (gnuplot's index): time and that guest's share of the interval's GPU time. */
	for (int g = 0; g < ph->n; g++) {
		int gap = 0;

		for (size_t k = 1; k < n[g]; k++) {
			double mine = gpu[g][k] - gpu[g][k - 1], all = 0;

			for (int o = 0; o < ph->n; o++)
				if (k < n[o])
					all += gpu[o][k] - gpu[o][k - 1];
			/* An interval in which no guest used the GPU has no shares: a gap in the line. */
			if (all > 0) {
				fprintf(d, "%.2f %.4f\n", t[g][k], mine / all);
				rows++;
				gap = 0;
			} else if (!gap) {
				fprintf(d, "\n"); /* one blank line: two would start gnuplot's next index */
				gap = 1;
			}
		}
		fprintf(d, "\n\n");
	}
	data_done(r, &df);
	for (int g = 0; g < ph->n; g++) {
		char title[128], q[160];

		snprintf(title, sizeof(title), "guest%d %s", g + 1, ph->g[g].workload);
		gp_quote(q, sizeof(q), title);
		snprintf(plot + strlen(plot), sizeof(plot) - strlen(plot), "%s'%s' index %d using 1:2 with lines lw 2 title %s",
			 g ? ", " : "plot ", df.name, g, q);
	}
	if (rows) {
		char *script = vb_strdupf("set xlabel 'seconds into the job'\nset ylabel 'share of the GPU time'\n"
					  "set yrange [0:1]\n%s\n",
					  plot);

		snprintf(caption, sizeof(caption),
			 "scenario %s under %s (%s, first repetition): each guest's share of the GPU time the mediator "
			 "charged in each second, from its control socket.",
			 ph->scenario, ph->policy, ph->phase);
		chart(r, name, script, caption);
		free(script);
	} else {
		fprintf(r->html, "<p>No scheduling samples for %s under %s.</p>\n", ph->scenario, ph->policy);
	}
	for (int g = 0; g < ph->n; g++) {
		free(t[g]);
		free(gpu[g]);
		free(fr[g]);
	}
	free(df.name);
	free(name);
}

/* Per scenario: each guest's GPU-time share under each policy (contended phase), clustered by policy. */
static void scenario_share_chart(struct rep *r, const struct scen_phase *p, size_t np, const char *scenario)
{
	char key[80], *name, caption[400], plot[2048] = "";
	struct dfile df;
	FILE *d;
	int guests = 0, rows = 0;

	file_key(key, sizeof(key), scenario);
	name = vb_strdupf("scenario-%s-shares", key);
	d = data_file(r, name, &df);
	for (size_t i = 0; i < np; i++) {
		char pl[64];

		if (strcmp(p[i].scenario, scenario) || strcmp(p[i].phase, "contended"))
			continue;
		dat_label(pl, sizeof(pl), p[i].policy);
		fprintf(d, "\"%s\"", pl);
		for (int g = 0; g < p[i].n; g++)
			fprintf(d, " %.4f", isnan(p[i].g[g].gpu_share) ? 0 : p[i].g[g].gpu_share);
		fprintf(d, "\n");
		guests = p[i].n > guests ? p[i].n : guests;
		rows++;
	}
	data_done(r, &df);
	for (int g = 0; g < guests; g++)
		snprintf(plot + strlen(plot), sizeof(plot) - strlen(plot), "%s'%s' using %d:xtic(1) title 'guest%d'",
			 g ? ", " : "plot ", df.name, g + 2, g + 1);
	if (rows) {
		char *script = vb_strdupf("set style data histogram\nset style histogram clustered gap 1\n"
					  "set style fill solid 0.6 border -1\nset ylabel 'share of the GPU time'\n"
					  "set yrange [0:1]\n%s\n",
					  plot);

		snprintf(caption, sizeof(caption),
			 "scenario %s: each guest's share of the GPU time the mediator charged (median over "
			 "repetitions), under each policy.",
			 scenario);
		chart(r, name, script, caption);
		free(script);
	}
	free(df.name);
	free(name);
}

static void section_scenarios(struct rep *r)
{
	struct scenario_result *rows;
	struct scen_phase *p;
	size_t n, np;

	if (store_scenario_results(r->st, r->run, &rows, &n) < 0) {
		unreadable(r, "The scenarios");
		return;
	}
	if (!n) {
		free(rows);
		return;
	}
	if (scen_summarise(rows, n, &p, &np) < 0)
		abort();
	fprintf(r->html,
		"<h2 id=scenarios>Sharing-quality scenarios</h2>\n<p>Guests booted together on one vgpu-mediator, each "
		"running its own workload (idle: nothing), under each scheduling policy in turn. <b>GPU share</b>: the "
		"guest's part of the GPU time the mediator charged to the scenario's guests while every busy guest still "
		"ran (median over repetitions), "
		"against the <b>configured</b> share the policy gave it (– : best effort, or an SLA target, has none). "
		"<b>held</b>: time the policy kept its work waiting. <b>target met</b>: one-second windows at or above "
		"its frame-rate target, of those while its job ran. <b>kept</b>: its throughput next to the others ÷ "
		"in the baseline (the noisy guest idle), under the same policy: the policy's isolation. <b>÷ best "
		"effort</b>: its throughput ÷ the same phase under best effort: in the baseline, what the policy costs "
		"it while the neighbour is idle (equal share keeps an idle guest's share in reserve). Policies: "
		"best-effort = "
		"work-conserving round robin; equal-share = 1/n of every 100 ms to each connected guest, busy or not "
		"the others; fixed-share = weight ÷ Σweights; equal-share-wc, fixed-share-wc = the same shares, "
		"work-conserving: a guest past its share is served while no guest within its share wants the GPU; "
		"sla = guests with a target first, the others capped while a target is missed.</p>\n");
	for (size_t i = 0; i < np; i++) {
		int first = i == 0 || strcmp(p[i - 1].scenario, p[i].scenario) != 0;
		const struct scen_phase *ph = &p[i], *base = scen_baseline_of(p, np, ph);
		const struct scen_phase *be = scen_best_effort_of(p, np, ph);
		char a[32], b[32], c[32], d[32], e[32], f[32], h[32];

		if (first) {
			fprintf(r->html, "<h3>scenario ");
			vb_xml_escape(r->html, ph->scenario);
			fprintf(r->html, "</h3>\n<table><tr><th>policy</th><th>phase</th><th>guest</th><th>workload</th>"
					 "<th>throughput</th><th>GPU share</th><th>configured</th><th>held (ms)</th>"
					 "<th>target met</th><th>kept</th><th>÷ best effort</th><th>ok/runs</th></tr>\n");
		}
		for (int g = 0; g < ph->n; g++) {
			const struct scen_guest *sg = &ph->g[g];
			double kept = strcmp(ph->phase, "contended") ? NAN : scen_kept(ph, base, g);

			fprintf(r->html, "<tr><td>%s</td><td>%s</td><td>guest%d</td><td>", ph->policy, ph->phase,
				sg->guest_index);
			vb_xml_escape(r->html, sg->workload);
			fprintf(r->html,
				"</td><td>%s %s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>",
				cell(a, sizeof(a), "%.1f", sg->value), isnan(sg->value) ? "" : sg->unit,
				cell(b, sizeof(b), "%.3f", sg->gpu_share), cell(c, sizeof(c), "%.3f", sg->share),
				cell(d, sizeof(d), "%.0f", sg->throttled_ms),
				sg->target_fps > 0 && sg->windows > 0
					? cell(e, sizeof(e), "%.0f%%", 100 * sg->windows_met / sg->windows)
					: "–",
				cell(f, sizeof(f), "%.2f", kept),
				cell(h, sizeof(h), "%.2f", scen_vs_best_effort(ph, be, g)));
			fprintf(r->html, "<td%s>%d/%d", sg->problem[0] ? " class=err" : "", sg->ok, sg->reps);
			if (sg->problem[0]) {
				fprintf(r->html, " ");
				vb_xml_escape(r->html, sg->problem);
			}
			fprintf(r->html, "</td></tr>\n");
		}
		fprintf(r->html, "<tr><td colspan=12 class=na>%s, %s: Jain on GPU time per weight %s; on throughput per weight %s</td></tr>\n",
			ph->policy, ph->phase, cell(a, sizeof(a), "%.3f", ph->jain_gpu),
			cell(b, sizeof(b), "%.3f", ph->jain_value));
		if (i + 1 == np || strcmp(p[i + 1].scenario, ph->scenario) != 0) {
			fprintf(r->html, "</table>\n");
			scenario_share_chart(r, p, np, ph->scenario);
			for (size_t k = 0; k < np; k++)
				if (!strcmp(p[k].scenario, ph->scenario) && !strcmp(p[k].phase, "contended"))
					scenario_time_chart(r, &p[k], (int)k);
		}
	}
	free(p);
	free(rows);
}

static void section_frametimes(struct rep *r)
{
	struct dfile df;
	FILE *d = data_file(r, "frametime", &df);
	const char *path = df.name;
	char xt[2048] = "";
	int x = 0;

	fprintf(r->html, "<h2 id=frametime>Frame times</h2>\n<table><tr><th>workload</th><th>config</th><th>guests</th>"
			 "<th>scenes × jobs</th><th>p50 (ms)</th><th>p99 (ms)</th></tr>\n");
	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		const char *dot = strrchr(s->metric, '.');

		/* the first frame-time series of each workload x config x guests opens a group */
		if (!dot || strcmp(dot, ".frame_time") != 0)
			continue;
		int first = 1;

		for (size_t k = 0; k < i; k++) {
			const struct series *p = &r->set.s[k];
			const char *pd = strrchr(p->metric, '.');

			if (pd && !strcmp(pd, ".frame_time") && !strcmp(p->workload, s->workload) &&
			    !strcmp(p->config, s->config) && p->topology == s->topology && p->dom0 == s->dom0)
				first = 0;
		}
		if (!first)
			continue;
		double all[4096];
		size_t n = 0;

		for (size_t k = i; k < r->set.n; k++) {
			const struct series *p = &r->set.s[k];
			const char *pd = strrchr(p->metric, '.');

			if (!pd || strcmp(pd, ".frame_time") || strcmp(p->workload, s->workload) ||
			    strcmp(p->config, s->config) || p->topology != s->topology || p->dom0 != s->dom0)
				continue;
			for (size_t v = 0; v < p->n && n < 4096; v++) {
				all[n++] = p->v[v];
				if (d)
					fprintf(d, "%d %.5f\n", x, p->v[v]);
			}
		}
		stats_median(all, n); /* sorts */
		double p50 = all[n / 2], p99 = all[(size_t)fmin((double)n - 1, ceil(0.99 * (double)n) - 1)];
		char l[96];

		label(l, sizeof(l), s);
		fprintf(r->html, "<tr><td>%s</td><td>%s%s</td><td>%s%.0d</td><td>%zu</td><td>%.2f</td><td>%.2f</td></tr>\n",
			s->workload, s->config, s->dom0 ? " (dom0)" : "", s->topology ? "" : "host", s->topology, n, p50,
			p99);
		if (d)
			fprintf(d, "\n\n");
		char ql[200];

		gp_quote(ql, sizeof(ql), l);
		snprintf(xt + strlen(xt), sizeof(xt) - strlen(xt), "%s%s %d", x ? ", " : "", ql, x);
		x++;
	}
	fprintf(r->html, "</table>\n");
	data_done(r, &df);
	if (x) {
		char *script = vb_strdupf("set style fill solid 0.3 border -1\nset style boxplot outliers pointtype 7\n"
					  "set ylabel 'frame time (ms)'\nset logscale y\nset xtics (%s)\nset xrange [-0.6:%d.6]\n"
					  "unset key\nplot for [i=0:%d] '%s' index i using (i):2 with boxplot lc rgb '#a55b3a'\n",
					  xt, x - 1, x - 1, path);

		chart(r, "frametime", script, "Distribution of mean frame times per scene, job and guest (log scale).");
		free(script);
	} else {
		fprintf(r->html, "<p>No workload in this run reports frame times.</p>\n");
	}
	free(df.name);
}


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

	file_key(key, sizeof(key), workload);
	name = vb_strdupf("trend-%s", key);
	flagname = vb_strdupf("trend-%s-flagged", key);
	FILE *d = data_file(r, name, &df), *fl = data_file(r, flagname, &dfl);

	for (size_t i = 0; i < r->set.n; i++) {
		const struct series *s = &r->set.s[i];
		char l[96];

		if (strcmp(s->workload, workload) != 0 || strcmp(s->metric, headline(s->workload)) != 0)
			continue;
		label(l, sizeof(l), s);
		for (int k = t->n - 1; k >= 0; k--) {
			const struct series *p = t->have[k] ? series_find(&t->sets[k], s->workload, s->config,
									   s->topology, s->dom0, s->metric)
							    : NULL;

			if (!p || !p->n)
				continue;
			fprintf(d, "%d %.4f\n", t->n - 1 - k, median_copy(p->v, p->n));
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

		gp_quote(title, sizeof(title), l);
		snprintf(plots + strlen(plots), sizeof(plots) - strlen(plots),
			 "%s'%s' index %d using 1:2 with linespoints lw 2 title %s", idx ? ", " : "", df.name, idx, title);
		idx++;
	}
	data_done(r, &df);
	data_done(r, &dfl);
	if (idx) {
		char ylabel[200], what[160], caption[512];

		snprintf(what, sizeof(what), "%s %s", workload, headline(workload));
		gp_quote(ylabel, sizeof(ylabel), what);
		char *script = vb_strdupf("set xlabel 'run (oldest → newest, last %d of plan)'\nset ylabel %s\n"
					  "set xtics 1\nset yrange [0:*]\nplot %s%s%s%s\n",
					  t->n, ylabel, plots, flagged ? ", '" : "", flagged ? dfl.name : "",
					  flagged ? "' using 1:2 with points pt 7 ps 2 lc rgb 'red' title 'regression'" : "");

		snprintf(caption, sizeof(caption),
			 "%s: median of %s over the latest runs of this plan; red points are flagged regressions against "
			 "the run before.",
			 workload, headline(workload));
		chart(r, name, script, caption);
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
	char (*id)[96];
	int n;
};

static void trend_id(void *ctx, const char *const *cols)
{
	struct trend_ids *t = ctx;

	if (t->n < TREND_RUNS)
		snprintf(t->id[t->n++], sizeof(t->id[0]), "%s", cols[0]);
}

static void section_trends(struct rep *r)
{
	char ids[TREND_RUNS][96];
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

static void section_piglit(struct rep *r)
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
	char base[96];
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

#define ROBUST_MAX_BACKENDS 4

/* The robustness catalogue case by case: one column per back-end, its last repetition's status in each cell, and
 * how many cases each passed. */
static void section_robustness(struct rep *r)
{
	struct subtest_result *t = NULL;
	size_t n = 0;
	char backends[ROBUST_MAX_BACKENDS][48];
	int nb = 0, pass[ROBUST_MAX_BACKENDS] = { 0 }, cases[ROBUST_MAX_BACKENDS] = { 0 };
	struct health_totals h = { 0 };

	fprintf(r->html, "<h2 id=robustness>Robustness</h2>\n");
	if (store_health_totals(r->st, r->run, &h) == 0 && h.jobs)
		fprintf(r->html, "<p>The mediated jobs' vGPUs (%lld jobs): %lld device reset(s), %lld recovery(ies), %lld "
				 "command(s) answered with an error, %lld watchdog trip(s)%s",
			h.jobs, h.resets, h.recoveries, h.errors, h.watchdog_trips,
			h.watchdog_trips ? ", the longest " : ".</p>\n");
	if (h.jobs && h.watchdog_trips)
		fprintf(r->html, "%.0f ms (a fence unretired or a renderer call holding every vGPU past the bound).</p>\n",
			h.watchdog_longest_ms);
	if (store_subtests(r->st, r->run, "robustness", &t, &n) < 0 || !n) {
		fprintf(r->html, "<p>No robustness catalogue in this run (workload <code>robustness</code>).</p>\n");
		free(t);
		return;
	}
	for (size_t i = 0; i < n; i++) { /* back-ends in order of first appearance */
		const char *slash = strchr(t[i].name, '/');
		int k, len = slash ? (int)(slash - t[i].name) : (int)strlen(t[i].name);

		for (k = 0; k < nb && (strncmp(backends[k], t[i].name, (size_t)len) || backends[k][len]); k++)
			;
		if (k == nb && nb < ROBUST_MAX_BACKENDS)
			snprintf(backends[nb++], sizeof(backends[0]), "%.*s", len, t[i].name);
	}
	fprintf(r->html, "<p>A hostile vhost-user front-end's malformed inputs (vgpu-hostile), each on a fresh connection: "
			 "<b>pass</b> = the back-end refused it and served on, or served again after a device reset, "
			 "with its other VMs served throughout; <b>warn</b> = served again only on a new connection; "
			 "<b>fail</b> = that vGPU never served again, or another VM's stalled; <b>crash</b> = the "
			 "process ended; <b>timeout</b> = it answered nobody.</p>\n<table><tr><th>case</th>");
	for (int k = 0; k < nb; k++) {
		fprintf(r->html, "<th>");
		vb_xml_escape(r->html, backends[k]);
		fprintf(r->html, "</th>");
	}
	fprintf(r->html, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(t[i].name, '/');
		const char *cname = slash ? slash + 1 : t[i].name;
		const char *cell[ROBUST_MAX_BACKENDS] = { NULL };
		int first = 1;

		/* A case's row is written where its name first appears, with every back-end's last repetition. */
		for (size_t j = 0; j < n; j++) {
			const char *sl = strchr(t[j].name, '/');

			if (strcmp(sl ? sl + 1 : t[j].name, cname))
				continue;
			if (j < i) {
				first = 0;
				break;
			}
			for (int k = 0; k < nb; k++)
				if ((size_t)(sl ? sl - t[j].name : 0) == strlen(backends[k]) &&
				    !strncmp(t[j].name, backends[k], strlen(backends[k])))
					cell[k] = t[j].status;
		}
		if (!first)
			continue;
		fprintf(r->html, "<tr><td>");
		vb_xml_escape(r->html, cname);
		fprintf(r->html, "</td>");
		for (int k = 0; k < nb; k++) {
			if (cell[k]) {
				cases[k]++;
				pass[k] += !strcmp(cell[k], "pass");
			}
			fprintf(r->html, "<td class=%s>%s</td>", cell[k] && strcmp(cell[k], "pass") ? "err" : "na",
				cell[k] ? cell[k] : "–");
		}
		fprintf(r->html, "</tr>\n");
	}
	fprintf(r->html, "<tr><th>passed</th>");
	for (int k = 0; k < nb; k++)
		fprintf(r->html, "<th>%d of %d</th>", pass[k], cases[k]);
	fprintf(r->html, "</tr></table>\n");
	free(t);
}

/* A row of the environment table: a host fact (key, value), or a configuration's GL renderers (config, renderers). */
static void env_fact(void *ctx, const char *const *cols)
{
	FILE *html = ctx;

	fprintf(html, "<tr><th>");
	vb_xml_escape(html, cols[0]);
	fprintf(html, "</th><td>");
	vb_xml_escape(html, cols[1]);
	fprintf(html, "</td></tr>\n");
}

static void env_renderer(void *ctx, const char *const *cols)
{
	char *key = vb_strdupf("GL_RENDERER (%s)", cols[0]);
	const char *row[2] = { key, cols[1] };

	env_fact(ctx, row);
	free(key);
}

/* A skipped configuration (name, status, reason) as a list item, the list opened before the first. */
struct skipped_list {
	FILE *html;
	int n;
};

static void env_skipped(void *ctx, const char *const *cols)
{
	struct skipped_list *l = ctx;

	if (strcmp(cols[1], "skipped"))
		return;
	fprintf(l->html, "%s<li><b>", l->n++ ? "" : "<h3>Skipped configurations</h3><ul>\n");
	vb_xml_escape(l->html, cols[0]);
	fprintf(l->html, "</b>: ");
	vb_xml_escape(l->html, cols[2]);
	fprintf(l->html, "</li>\n");
}

static void section_environment(struct rep *r)
{
	struct skipped_list l = { r->html, 0 };

	/* a table the store cannot read is said by it, and the report goes on without those rows */
	fprintf(r->html, "<h2 id=env>Environment</h2>\n<table>\n");
	store_host_facts(r->st, r->run, env_fact, r->html);
	store_config_renderers(r->st, r->run, env_renderer, r->html);
	fprintf(r->html, "</table>\n");
	store_configs(r->st, r->run, env_skipped, &l);
	if (l.n)
		fprintf(r->html, "</ul>\n");
}

/* A row's key as table cells: workload, metric, config (escaped) and guests (host, N or dom0+N). */
static void key_cells(struct rep *r, const char *workload, const char *metric, const char *config, int topology,
		      int dom0)
{
	const char *const cells[] = { workload, metric, config };

	for (size_t k = 0; k < 3; k++) {
		fprintf(r->html, "<td>");
		vb_xml_escape(r->html, cells[k]);
	}
	fprintf(r->html, topology ? (dom0 ? "<td>dom0+%d" : "<td>%d") : "<td>host", topology);
}

/* A calibration's own run (`vgpubench calibrate`): each row's false alarms, detections and measured change. Nothing
 * for other runs. */
static void section_calibration(struct rep *r)
{
	struct calibration_row *rows;
	size_t n;
	char *fact;
	struct calibration_totals t;

	if (store_calibration_get(r->st, r->run, &rows, &n) < 0 || !n)
		return;
	fact = store_host_fact_get(r->st, r->run, CALIBRATION_FACT);
	fprintf(r->html, "<h2 id=calibration>Calibration</h2>\n<p>");
	vb_xml_escape(r->html, fact ? fact : "");
	fprintf(r->html, "</p>\n<p>A/A: pairs of unchanged runs, a flag is a false alarm. A/B: an unchanged run against "
			 "one slowed down on purpose, a regression flagged is a detection. Measured: the median change the "
			 "slowdown made; detectable: the median change the A/A pairs could detect at 80%% power.</p>\n"
			 "<table><tr><th>workload<th>metric<th>config<th>guests<th>injected<th>A/A flagged<th>A/B caught"
			 "<th>measured<th>detectable</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct calibration_row *c = &rows[i];

		fprintf(r->html, "<tr>");
		key_cells(r, c->workload, c->metric, c->config, c->topology, c->dom0);
		fprintf(r->html, "<td>");
		vb_xml_escape(r->html, c->injected[0] ? c->injected : "nothing (no knob)");
		fprintf(r->html, "<td>%d/%d", c->aa_flagged, c->aa_pairs);
		if (c->injected[0])
			fprintf(r->html, "<td>%d/%d", c->ab_detected, c->ab_pairs);
		else
			fprintf(r->html, "<td class=na>-");
		fprintf(r->html, isnan(c->change_pct) ? "<td class=na>-" : "<td>%+.1f%%", c->change_pct);
		fprintf(r->html, isnan(c->detectable_pct) ? "<td class=na>-</tr>\n" : "<td>%.1f%%</tr>\n",
			c->detectable_pct);
	}
	t = calibration_totals(rows, n);
	fprintf(r->html, "</table>\n<p>False alarms: %d of %d A/A row pairs; detections: %d of %d A/B row pairs.</p>\n",
		t.aa_flagged, t.aa, t.ab_detected, t.ab);
	free(rows);
	free(fact);
}

/* One arm of an interleaved run (runner.h run_arm) against the run: compare's rows for what both ran, at the
 * threshold the run's own compare used (the arm's RUNNER_ARM_THRESHOLD_FACT, else compare's default). */
static void arm_table(struct rep *r, const char *arm)
{
	char *med = store_host_fact_get(r->st, arm, RUNNER_ARM_MEDIATOR_FACT);
	char *thr = store_host_fact_get(r->st, arm, RUNNER_ARM_THRESHOLD_FACT);
	struct compare_opts o = { .threshold_pct = thr ? atof(thr) : REPORT_THRESHOLD_PCT, .alpha = 0.05 };
	struct comparison c;
	int rows = 0;

	if (!(o.threshold_pct > 0))
		o.threshold_pct = REPORT_THRESHOLD_PCT;
	fprintf(r->html, "<h3>Against ");
	vb_xml_escape(r->html, arm);
	fprintf(r->html, "</h3>\n<p>Mediator of that arm: ");
	vb_xml_escape(r->html, med ? med : "this build's");
	fprintf(r->html, ". A row is flagged when its median moved more than %.1f%% and Mann-Whitney p &lt; %.2f (or "
			 "the same over glmark2's paired scenes); detect is the smallest change the row could flag at "
			 "%.0f%% power.</p>\n",
		o.threshold_pct, o.alpha, 100 * COMPARE_POWER);
	if (compare_build(r->st, r->run, arm, &o, &c) < 0) {
		fprintf(r->html, "<p class=err>The compare could not be made: ");
		vb_xml_escape(r->html, r->st->err[0] ? r->st->err : "see the harness's messages");
		fprintf(r->html, "</p>\n");
		free(med);
		free(thr);
		return;
	}
	for (size_t i = 0; i < c.nrows; i++) {
		const struct compare_row *x = &c.rows[i];

		if (!x->old || !x->old->n)
			continue; /* not run in the arm: it does not change it */
		if (!rows++)
			fprintf(r->html, "<table><tr><th>workload<th>metric<th>config<th>guests<th>arm<th>this run"
					 "<th>change<th>p<th>detect<th>verdict</tr>\n");
		fprintf(r->html, x->verdict == V_REGRESSION ? "<tr class=reg>" : "<tr>");
		key_cells(r, x->cur->workload, x->cur->metric, x->cur->config, x->cur->topology, x->cur->dom0);
		fprintf(r->html, "<td>%.2f<td>%.2f", x->m_old, x->m_new);
		fprintf(r->html, isnan(x->change_pct) ? "<td class=na>-" : "<td>%+.1f%%", x->change_pct);
		fprintf(r->html, isnan(x->p) ? "<td class=na>-" : "<td>%.3g", x->p);
		if (isnan(x->detectable_pct))
			fprintf(r->html, "<td class=na>-");
		else if (isinf(x->detectable_pct))
			fprintf(r->html, "<td>none");
		else
			fprintf(r->html, "<td>%.1f%%", x->detectable_pct);
		fprintf(r->html, "<td>%s</tr>\n",
			x->verdict == V_REGRESSION    ? "<b>regression</b>"
			: x->verdict == V_IMPROVEMENT ? "improvement"
						      : "");
	}
	if (rows)
		fprintf(r->html, "</table>\n<p>%d regression%s, %d improvement%s over %d row%s.</p>\n", c.regressions,
			c.regressions == 1 ? "" : "s", c.improvements, c.improvements == 1 ? "" : "s", rows,
			rows == 1 ? "" : "s");
	else if (!c.nfailed[0])
		fprintf(r->html, "<p>The arm has no row in common with this run yet.</p>\n");
	/* An arm (or this run) whose jobs all failed somewhere has no rows there: say that, and why. */
	for (int side = 0; side < 2; side++) {
		if (!c.nfailed[side])
			continue;
		fprintf(r->html, "<p class=err>Every job failed in %s, so not compared (%d group%s): ",
			side ? "this run" : "the arm", c.nfailed[side], c.nfailed[side] == 1 ? "" : "s");
		vb_xml_escape(r->html, c.failed[side]);
		fprintf(r->html, "</p>\n");
	}
	/* What the arm ran and this run did not (a run stopped part-way, a row that failed on this side): named, as
	 * compare names them "missing". */
	rows = 0;
	for (size_t i = 0; i < c.a.n; i++) {
		const struct series *x = &c.a.s[i];

		if (series_find(&c.b, x->workload, x->config, x->topology, x->dom0, x->metric))
			continue;
		fprintf(r->html, rows++ ? ", " : "<p>Rows the arm has and this run does not, so not compared: ");
		vb_xml_escape(r->html, x->workload);
		fputc(' ', r->html);
		vb_xml_escape(r->html, x->metric);
		fputc(' ', r->html);
		vb_xml_escape(r->html, x->config);
		fprintf(r->html, !x->topology ? " (host)" : x->dom0 ? " (dom0 beside %d guests)" : " (%d guests)",
			x->topology);
	}
	if (rows)
		fprintf(r->html, ".</p>\n");
	compare_free(&c);
	free(med);
	free(thr);
}

/* A run whose arms took turns with it (vgpubench run --baseline-mediator, calibrate): the compare with each arm,
 * the answer such a run is for. Nothing for other runs. */
static void section_arms(struct rep *r)
{
	int shown = 0;

	for (int k = 1; k < RUN_MAX_ARMS; k++) {
		char arm[96];

		if (!runner_arm_id(r->st, r->run, k, arm, sizeof(arm), NULL))
			break;
		if (!vb_is_identifier(arm) || !store_run_exists(r->st, arm))
			continue;
		if (!shown++)
			fprintf(r->html, "<h2 id=arms>This run against its interleaved arms</h2>\n<p>The arms took turns "
					 "with this run boot by boot ([noise] boots; with one boot a topology they ran one "
					 "after the other), so whatever drifted on the host meanwhile fell on each alike. "
					 "Rows the arm did not run (it does not change them) are left out.</p>\n");
		arm_table(r, arm);
	}
}

int report_generate(struct store *st, const char *run, const char *reports_dir, char **path_out)
{
	struct rep r = { .st = st, .run = run };
	char *path;
	struct vb_out page;
	int rc = -1;

	if (!vb_is_identifier(run)) {
		vb_err("'%s' is not a run id", run);
		return -1;
	}
	if (!store_run_exists(st, run)) {
		vb_err("no run '%s'", run);
		return -1;
	}
	r.dir = vb_strdupf("%s/%s", reports_dir, run);
	r.data = vb_strdupf("%s/data", r.dir);
	path = vb_strdupf("%s/index.html", r.dir);
	if (vb_mkdirs(r.data, 0755) < 0) {
		vb_err("cannot create %s: %s", r.data, strerror(errno));
		goto out;
	}
	if (series_load(st, run, &r.set) < 0)
		goto out;
	if (vb_out_open(&page, path) < 0)
		goto out;
	r.html = page.f;
	fprintf(r.html, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n<title>vgpubench report ");
	vb_xml_escape(r.html, run);
	fprintf(r.html, "</title>\n<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
			"table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
			"text-align:left}th{background:#eee}.noisy{background:#fde8c8}.err{color:#b00}tr.reg{background:#f8d0d0}"
			"li.regression{color:#b00}li.fix{color:#070}figure{margin:1em 0}"
			"figcaption{font-size:90%%;color:#555}td.na{color:#777;font-size:90%%}</style>\n</head><body>\n<h1>vgpubench report: ");
	vb_xml_escape(r.html, run);
	fprintf(r.html, "</h1>\n<p><a href=#triangle>mediated, passthrough, native</a> · <a href=#summary>summary</a> · <a href=#native>%% of native</a> · "
			"<a href=#sharing>sharing quality</a> · <a href=#stages>mediator stages</a> · "
			"<a href=#scenarios>scenarios</a> · "
			"<a href=#frametime>frame times</a> · "
			"<a href=#trends>trends</a> · <a href=#piglit>piglit</a> · <a href=#robustness>robustness</a> · "
			"<a href=#env>environment</a></p>\n");
	section_calibration(&r);
	section_arms(&r);
	section_triangle(&r);
	section_summary(&r);
	section_sharing(&r);
	section_stages(&r);
	section_scenarios(&r);
	section_frametimes(&r);
	section_trends(&r);
	section_piglit(&r);
	section_robustness(&r);
	section_environment(&r);
	fprintf(r.html, "</body></html>\n");
	if (vb_out_commit(&page) < 0)
		goto out;
	/* The page is there, but a chart or data file that is missing makes the report incomplete. */
	rc = r.failed ? -1 : 0;
	if (r.failed)
		vb_err("report %s: %d chart%s or data file%s could not be made", path, r.failed,
		       r.failed == 1 ? "" : "s", r.failed == 1 ? "" : "s");
	if (path_out) {
		*path_out = path;
		path = NULL;
	}
out:
	series_free(&r.set);
	free(r.dir);
	free(r.data);
	free(path);
	return rc;
}
